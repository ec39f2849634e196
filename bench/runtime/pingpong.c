/* Workload "pingpong ROUNDS": round trips between two processes.
 *
 * The main thread gives the pinger the round count; the pinger sends a ping, the
 * ponger answers each ping to its sender (m->from, as the Erlang side answers the
 * pid in {ping, From}), and the pinger pings again until the rounds are done, then
 * tells the main thread and exits. Result: pingpong (round trips/s). */
#include "bench.h"

typedef struct pinger {
    hearth_pid_t ponger;
    hearth_pid_t main;
    int64_t left;
    bool forward;
} pinger_t;

static int ping_handle(void *state, hearth_msg_t *m)
{
    pinger_t *p = state;

    switch (m->tag) {
    case BENCH_GO:
        p->left = m->value;
        return hearth_send(p->ponger, hearth_msg_int(BENCH_PING, 0));
    case BENCH_PONG:
        if (--p->left == 0) {
            bench_send(p->main, BENCH_DONE, 0);
            return HEARTH_STOP;
        }
        if (p->forward) {
            /* hearth_send fills in from only when it is unset: clear it, or the
             * ponger would see itself as the sender of its own pong. */
            m->tag = BENCH_PING;
            m->from = HEARTH_PID_NONE;
            return hearth_send(p->ponger, m);
        }
        return hearth_send(p->ponger, hearth_msg_int(BENCH_PING, 0));
    default:
        return HEARTH_EINVAL;
    }
}

static int pong_handle(void *state, hearth_msg_t *m)
{
    const bool *forward = state;
    hearth_pid_t from = m->from;

    if (m->tag == BENCH_STOP)
        return HEARTH_STOP;
    if (*forward) {
        m->tag = BENCH_PONG;
        m->from = HEARTH_PID_NONE; /* so that hearth_send makes it us */
        return hearth_send(from, m);
    }
    return hearth_send(m->from, hearth_msg_int(BENCH_PONG, 0));
}

static const hearth_actor_t ping_actor = {
    .name = "bench_ping",
    .handle = ping_handle,
};

static const hearth_actor_t pong_actor = {
    .name = "bench_pong",
    .handle = pong_handle,
};

int bench_pingpong(const bench_opts_t *opts, int argc, const int64_t *args)
{
    pinger_t p = {0};
    hearth_pid_t ping, pong;
    size_t count0;
    uint64_t t0, t1;
    int err;

    if (argc != 1 || args[0] == 0)
        return 2;
    count0 = hearth_process_count();
    err = hearth_spawn(&pong_actor, (void *)&opts->forward, 0, &pong);
    if (err)
        bench_fail("spawn", err);
    p.ponger = pong;
    p.main = hearth_self();
    p.forward = opts->forward;
    err = hearth_spawn(&ping_actor, &p, 0, &ping);
    if (err)
        bench_fail("spawn", err);

    t0 = bench_now_ns();
    bench_send(ping, BENCH_GO, args[0]);
    hearth_msg_free(bench_receive(BENCH_DONE));
    t1 = bench_now_ns();

    bench_result("pingpong", (double)args[0] / ((double)(t1 - t0) / 1e9), "rt/s");
    bench_send(pong, BENCH_STOP, 0);
    bench_wait_processes(count0);
    return 0;
}
