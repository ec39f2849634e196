/* The blocking-work pool: hearth_work_submit runs a function on libuv's threadpool
 * (disk, database client calls) and answers the caller with a message, so no
 * scheduler thread ever waits for it.
 *
 * A job is queued with uv_queue_work on the caller's scheduler loop: directly when
 * the caller runs on that scheduler, else (an attached thread) pushed on scheduler
 * 0's job stack and queued by its loop. after_work runs on that loop and sends
 * HEARTH_MSG_WORK_DONE (ref, value = the result) to the caller. The pool has
 * libuv's size: UV_THREADPOOL_SIZE, 4 by default, read when it first starts. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pthread_rwlock_t in uv.h, sigaction, usleep */
#endif
#include "io.h"

struct hearth__io_work {
    uv_work_t req;
    int64_t (*fn)(void *arg);
    void *arg;
    hearth_pid_t caller;
    uint64_t ref;
    int64_t result;
    hearth__io_loop_t *ctx;
    hearth__io_work_t *next, *prev; /* the job stack, then ctx->works */
};

static void work_cb(uv_work_t *req)
{
    hearth__io_work_t *j;

    j = req->data;
    j->result = j->fn(j->arg);
}

static void work_unlink(hearth__io_work_t *j)
{
    hearth__io_loop_t *ctx;

    ctx = j->ctx;
    if (j->prev != NULL)
        j->prev->next = j->next;
    else
        ctx->works = j->next;
    if (j->next != NULL)
        j->next->prev = j->prev;
    ctx->nwork--;
}

static void after_work_cb(uv_work_t *req, int status)
{
    hearth__io_work_t *j;
    hearth_msg_t *m;

    j = req->data;
    work_unlink(j);
    if (status == 0) { /* UV_ECANCELED: the runtime is stopping, nobody waits */
        m = hearth_msg_int(HEARTH_MSG_WORK_DONE, j->result);
        m->ref = j->ref;
        hearth_send(j->caller, m); /* a dead caller: dropped */
    }
    hearth__free(j);
}

/* Queues j on its loop. Loop thread. */
static void work_queue(hearth__io_work_t *j)
{
    hearth__io_loop_t *ctx;

    ctx = j->ctx;
    j->req.data = j;
    j->prev = NULL;
    j->next = ctx->works;
    if (ctx->works != NULL)
        ctx->works->prev = j;
    ctx->works = j;
    ctx->nwork++;
    /* Only fails for a NULL work_cb. */
    HEARTH_ASSERT(uv_queue_work(ctx->loop, &j->req, work_cb, after_work_cb) == 0);
}

/* Queues the jobs other threads pushed for ctx. Loop thread. */
void hearth__io_work_run(hearth__io_loop_t *ctx)
{
    hearth__io_work_t *j, *next, *rev;

    j = atomic_exchange(&ctx->jobs, NULL);
    for (rev = NULL; j != NULL; j = next) { /* in submission order */
        next = j->next;
        j->next = rev;
        rev = j;
    }
    for (j = rev; j != NULL; j = next) {
        next = j->next;
        work_queue(j);
    }
}

/* Runtime stop: drops jobs never queued and cancels those not yet started; their
 * callers are gone. Jobs already running finish (hearth__io_fini waits). */
void hearth__io_work_cancel_all(hearth__io_loop_t *ctx)
{
    hearth__io_work_t *j, *next;

    for (j = atomic_exchange(&ctx->jobs, NULL); j != NULL; j = next) {
        next = j->next;
        hearth__free(j);
    }
    for (j = ctx->works; j != NULL; j = next) {
        next = j->next;
        uv_cancel((uv_req_t *)&j->req); /* after_work_cb runs with UV_ECANCELED */
    }
}

/* Runs fn(arg) on the threadpool; the caller then gets HEARTH_MSG_WORK_DONE with
 * ref = *ref and value = fn's result. arg stays the caller's: it must live until
 * the reply. Returns 0, HEARTH_EINVAL (fn NULL, or called from a scheduler thread
 * outside any process) or HEARTH_ESHUTDOWN. A job queued
 * when the runtime stops may never run. */
int hearth_work_submit(int64_t (*fn)(void *arg), void *arg, uint64_t *ref)
{
    hearth__io_work_t *j, *head;
    hearth__io_loop_t *ctx;
    hearth__proc_t *p;

    if (fn == NULL)
        return HEARTH_EINVAL;
    if (!hearth__running())
        return HEARTH_ESHUTDOWN;
    p = hearth__current_or_attach();
    if (p == NULL)
        return HEARTH_EINVAL; /* a scheduler thread outside any process: nobody to answer */
    ctx = hearth__io_loop_here();
    j = hearth__malloc(sizeof(*j));
    j->fn = fn;
    j->arg = arg;
    j->caller = p->pid;
    j->ref = hearth_make_ref();
    j->result = 0;
    j->ctx = ctx;
    if (ref != NULL)
        *ref = j->ref;
    if (hearth__io_on_loop(ctx)) {
        work_queue(j);
        return 0;
    }
    head = atomic_load_explicit(&ctx->jobs, memory_order_relaxed);
    do {
        j->next = head;
    } while (!atomic_compare_exchange_weak_explicit(&ctx->jobs, &head, j, memory_order_release,
                                                    memory_order_relaxed));
    hearth__io_loop_kick(ctx);
    return 0;
}
