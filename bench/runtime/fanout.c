/* Workloads "fanout N" and "fanout_shared N BYTES": one sender, N receivers.
 *
 * N receivers wait; a sender process, told to go, stamps the start time and sends
 * each receiver one event: a fresh small message each (hearth_send in a loop), or
 * for fanout_shared one BYTES-long payload to all of them without copying
 * (hearth_send_shared). Each receiver counts its event in a shared counter, and the
 * one that makes it N stamps the end time and tells the main thread, like the
 * Erlang side's atomics counter. Receivers stay alive (a session getting events
 * does), and are stopped afterwards, outside the timing.
 * Results: fanout, fanout_shared (deliveries/s). */
#include "bench.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct fan {
    const hearth_pid_t *pids;
    size_t n;
    hearth_pid_t main;
    hearth_payload_t *payload; /* fanout_shared only */
    /* Bumped by every receiver, on any scheduler; relaxed is enough: it only
     * counts, and the last one's time travels in a message. */
    atomic_size_t handled;
} fan_t;

static int receiver_handle(void *state, hearth_msg_t *m)
{
    fan_t *f = state;

    if (m->tag == BENCH_STOP)
        return HEARTH_STOP;
    if (atomic_fetch_add_explicit(&f->handled, 1, memory_order_relaxed) + 1 == f->n)
        bench_send(f->main, BENCH_DONE, (int64_t)bench_now_ns());
    return 0;
}

static int sender_handle(void *state, hearth_msg_t *m)
{
    fan_t *f = state;
    uint64_t t0;

    (void)m;
    t0 = bench_now_ns();
    if (f->payload != NULL) {
        if (hearth_send_shared(f->pids, f->n, BENCH_EV, f->payload) != f->n)
            bench_fail("send_shared", HEARTH_ESRCH);
    } else {
        for (size_t i = 0; i < f->n; i++)
            bench_send(f->pids[i], BENCH_EV, (int64_t)i);
    }
    bench_send(f->main, BENCH_GO, (int64_t)t0);
    return HEARTH_STOP;
}

static const hearth_actor_t receiver_actor = {
    .name = "bench_fan_receiver",
    .handle = receiver_handle,
};

static const hearth_actor_t sender_actor = {
    .name = "bench_fan_sender",
    .handle = sender_handle,
};

static int fanout(const char *name, size_t n, hearth_payload_t *payload)
{
    hearth_pid_t *pids, sender;
    hearth_msg_t *m;
    fan_t f;
    size_t count0;
    uint64_t t0, t1;
    int err;

    pids = malloc(n * sizeof(*pids));
    if (pids == NULL)
        bench_fail("malloc", HEARTH_ENOMEM);
    f.pids = pids;
    f.n = n;
    f.main = hearth_self();
    f.payload = payload;
    atomic_init(&f.handled, 0);

    count0 = hearth_process_count();
    for (size_t i = 0; i < n; i++) {
        err = hearth_spawn(&receiver_actor, &f, 0, &pids[i]);
        if (err)
            bench_fail("spawn", err);
    }
    err = hearth_spawn(&sender_actor, &f, 0, &sender);
    if (err)
        bench_fail("spawn", err);

    bench_send(sender, BENCH_GO, 0);
    /* The sender's start time (BENCH_GO) and the last receiver's end time
     * (BENCH_DONE) come from two processes, so in either order. */
    t0 = t1 = 0;
    for (int i = 0; i < 2; i++) {
        m = bench_receive(i == 0 ? 0 : (t0 ? BENCH_DONE : BENCH_GO));
        if (m->tag == BENCH_GO)
            t0 = (uint64_t)m->value;
        else
            t1 = (uint64_t)m->value;
        hearth_msg_free(m);
    }

    bench_result(name, (double)n / ((double)(t1 - t0) / 1e9), "deliveries/s");
    bench_stop_all(pids, n);
    bench_wait_processes(count0);
    free(pids);
    return 0;
}

int bench_fanout(const bench_opts_t *opts, int argc, const int64_t *args)
{
    (void)opts;
    if (argc != 1 || args[0] == 0)
        return 2;
    return fanout("fanout", (size_t)args[0], NULL);
}

int bench_fanout_shared(const bench_opts_t *opts, int argc, const int64_t *args)
{
    hearth_payload_t *p;
    int ret;

    (void)opts;
    if (argc != 2 || args[0] == 0)
        return 2;
    p = hearth_payload_alloc((size_t)args[1]);
    memset(hearth_payload_data(p), 'x', (size_t)args[1]);
    ret = fanout("fanout_shared", (size_t)args[0], p);
    hearth_payload_unref(p);
    return ret;
}
