/* The per-scheduler I/O contexts: how any thread hands socket and work operations to
 * the libuv loop that owns them, and the I/O layer's start and stop.
 *
 * A thread that wants something done on a loop (a write queued, a socket to read or
 * close, a job to queue) records it in the socket or job and calls
 * hearth__io_loop_kick. The first kick of a loop turn posts hearth__io_loop_run to
 * the scheduler (hearth__sched_post); later kicks in the same turn cost one atomic
 * exchange. The posted run then handles everything recorded meanwhile in one go. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pthread_rwlock_t in uv.h, sigaction, usleep */
#endif
#include "io.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

static hearth__io_loop_t loops[HEARTH__IO_MAX_LOOPS];
static pthread_mutex_t loops_lock = PTHREAD_MUTEX_INITIALIZER;

struct hearth__io_counters hearth__io_counters;

/* Returns the context of scheduler s, creating it on first use. Any thread. */
hearth__io_loop_t *hearth__io_loop_get(hearth__sched_t *s)
{
    hearth__io_loop_t *ctx;
    int index;

    index = hearth__sched_index(s);
    HEARTH_ASSERT(index >= 0 && index < HEARTH__IO_MAX_LOOPS);
    ctx = &loops[index];
    /* acquire: pairs with the release store below, so the fields are visible. */
    if (HEARTH_LIKELY(atomic_load_explicit(&ctx->ready, memory_order_acquire)))
        return ctx;

    pthread_mutex_lock(&loops_lock);
    if (!atomic_load_explicit(&ctx->ready, memory_order_relaxed)) {
        ctx->index = index;
        ctx->sched = s;
        ctx->loop = hearth__sched_loop(s);
        HEARTH_ASSERT(ctx->loop != NULL);
        atomic_store(&ctx->armed, 0);
        atomic_store(&ctx->dirty, NULL);
        atomic_store(&ctx->jobs, NULL);
        atomic_store(&ctx->rr, 0);
        atomic_store_explicit(&ctx->ready, 1, memory_order_release);
    }
    pthread_mutex_unlock(&loops_lock);
    return ctx;
}

/* Returns the calling scheduler's context, or scheduler 0's off the schedulers
 * (attached threads, libuv workers). */
hearth__io_loop_t *hearth__io_loop_here(void)
{
    hearth__sched_t *s;

    s = hearth__sched_self();
    if (s == NULL)
        s = hearth__sched_get(0);
    return hearth__io_loop_get(s);
}

bool hearth__io_on_loop(const hearth__io_loop_t *ctx)
{
    return hearth__sched_self() == ctx->sched;
}

static void loop_run_cb(void *arg)
{
    hearth__io_loop_t *ctx;

    ctx = arg;
    if (!atomic_load_explicit(&ctx->ready, memory_order_acquire))
        return; /* a kick that outlived hearth__io_fini: fini did the work */
    /* Disarm before taking the stacks: a kick after this store posts again, so
     * nothing pushed after the takes below is left waiting. seq_cst pairs with
     * the exchange in hearth__io_loop_kick. */
    atomic_store(&ctx->armed, 0);
    hearth__io_work_run(ctx);
    hearth__io_tcp_run(ctx);
}

/* Makes sure loop_run_cb runs on ctx's thread after this call. Any thread. */
void hearth__io_loop_kick(hearth__io_loop_t *ctx)
{
    /* seq_cst: the caller's push (a CAS on dirty or jobs) is ordered before this
     * exchange; if it sees 1, the pending run has not yet disarmed, so its take
     * comes after our push. */
    if (atomic_exchange(&ctx->armed, 1) == 0)
        hearth__sched_post(ctx->sched, loop_run_cb, ctx);
}

static void tick_cb(uv_timer_t *t)
{
    hearth__io_loop_t *ctx;
    bool changed;

    ctx = t->data;
    changed = hearth__io_tcp_tick(ctx);
    if (!ctx->tick_active)
        return; /* the watch list emptied */
    if (changed)
        ctx->tick_ms = HEARTH__IO_TICK_MS;
    else if (ctx->tick_ms < HEARTH__IO_TICK_MAX_MS)
        ctx->tick_ms =
            ctx->tick_ms * 2 < HEARTH__IO_TICK_MAX_MS ? ctx->tick_ms * 2 : HEARTH__IO_TICK_MAX_MS;
    uv_timer_start(&ctx->tick, tick_cb, ctx->tick_ms, 0);
}

/* Starts ctx's watch timer (or makes its next run soon), or stops it. ctx's thread
 * only. A one-shot timer, re-armed by tick_cb with a backed-off interval. */
void hearth__io_loop_tick(hearth__io_loop_t *ctx, bool on)
{
    if (!on) {
        if (ctx->tick_active)
            uv_timer_stop(&ctx->tick);
        ctx->tick_active = false;
        return;
    }
    if (!ctx->tick_inited) {
        HEARTH_ASSERT(uv_timer_init(ctx->loop, &ctx->tick) == 0);
        ctx->tick.data = ctx;
        ctx->tick_inited = true;
    }
    if (ctx->tick_active && ctx->tick_ms == HEARTH__IO_TICK_MS)
        return; /* due within HEARTH__IO_TICK_MS already */
    ctx->tick_ms = HEARTH__IO_TICK_MS;
    uv_timer_start(&ctx->tick, tick_cb, ctx->tick_ms, 0);
    ctx->tick_active = true;
}

void hearth__io_stats(hearth__io_stats_t *out)
{
    out->writes = atomic_load_explicit(&hearth__io_counters.writes, memory_order_relaxed);
    out->write_bufs = atomic_load_explicit(&hearth__io_counters.write_bufs, memory_order_relaxed);
    out->shared_held = atomic_load_explicit(&hearth__io_counters.shared_held, memory_order_relaxed);
    out->socks = atomic_load_explicit(&hearth__io_counters.socks, memory_order_relaxed);
    out->accepted = atomic_load_explicit(&hearth__io_counters.accepted, memory_order_relaxed);
}

/* Called once at runtime start, before any process runs. A peer that goes away must
 * not kill the server: libuv writes with writev, which raises SIGPIPE, so SIGPIPE is
 * ignored unless the embedding program installed a handler of its own. */
void hearth__io_init(void)
{
    struct sigaction sa;

    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = SIG_IGN;
        sigaction(SIGPIPE, &sa, NULL);
    }
    hearth__io_tcp_init();
}

static void tick_closed_cb(uv_handle_t *h)
{
    hearth__io_loop_t *ctx;

    ctx = h->data;
    ctx->tick_inited = false;
}

/* Called once at runtime stop, after the scheduler threads stopped and before their
 * loops are closed: closes every socket still open (queued writes are dropped),
 * cancels queued jobs and runs each loop from this thread until its handles are
 * closed. A job already running in the threadpool is waited for. */
void hearth__io_fini(void)
{
    hearth__io_loop_t *ctx;
    bool busy;
    int i;

    for (i = 0; i < HEARTH__IO_MAX_LOOPS; i++) {
        ctx = &loops[i];
        if (!atomic_load(&ctx->ready))
            continue;
        hearth__io_work_cancel_all(ctx);
        hearth__io_tcp_close_all(ctx);
        if (ctx->tick_inited) {
            uv_timer_stop(&ctx->tick);
            ctx->tick_active = false;
            uv_close((uv_handle_t *)&ctx->tick, tick_closed_cb);
        }
    }
    for (;;) {
        busy = false;
        for (i = 0; i < HEARTH__IO_MAX_LOOPS; i++) {
            ctx = &loops[i];
            if (!atomic_load(&ctx->ready))
                continue;
            if (ctx->nsocks == 0 && ctx->nwork == 0 && !ctx->tick_inited)
                continue;
            uv_run(ctx->loop, UV_RUN_NOWAIT);
            if (ctx->nsocks != 0 || ctx->nwork != 0 || ctx->tick_inited)
                busy = true;
        }
        if (!busy)
            break;
        usleep(1000); /* a job still running in the threadpool */
    }
    for (i = 0; i < HEARTH__IO_MAX_LOOPS; i++) {
        ctx = &loops[i];
        if (!atomic_load(&ctx->ready))
            continue;
        hearth_msg_free(ctx->spare);
        hearth__free(ctx->bufs);
        ctx->spare = NULL;
        ctx->bufs = NULL;
        ctx->capbufs = 0;
        ctx->watch = ctx->all = NULL;
        ctx->works = NULL;
        ctx->nwatch = 0;
        atomic_store(&ctx->armed, 0);
        atomic_store(&ctx->ready, 0);
    }
    hearth__io_tcp_fini();
}
