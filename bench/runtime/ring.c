/* Workload "ring N HOPS": a token passed HOPS times around a ring of N processes.
 *
 * Each ring process holds its successor's pid. The token carries the hops left;
 * a process that gets it at 0 tells the main thread, otherwise it sends it on with
 * one hop less. The time runs from the main thread's first send to its "done", as
 * on the Erlang side. Result: ring (hops/s). */
#include "bench.h"

#include <stdlib.h>

typedef struct ring_node {
    hearth_pid_t next;
    hearth_pid_t main;
    bool forward;
} ring_node_t;

static int ring_handle(void *state, hearth_msg_t *m)
{
    ring_node_t *node = state;

    if (m->tag == BENCH_STOP)
        return HEARTH_STOP;
    if (m->value == 0) {
        bench_send(node->main, BENCH_DONE, 0);
        return 0;
    }
    if (node->forward) {
        m->value--;
        return hearth_send(node->next, m);
    }
    return hearth_send(node->next, hearth_msg_int(BENCH_TOKEN, m->value - 1));
}

static const hearth_actor_t ring_actor = {
    .name = "bench_ring",
    .handle = ring_handle,
};

int bench_ring(const bench_opts_t *opts, int argc, const int64_t *args)
{
    ring_node_t *nodes;
    hearth_pid_t *pids;
    size_t n, count0;
    int64_t hops;
    uint64_t t0, t1;
    int err;

    if (argc != 2 || args[0] == 0)
        return 2;
    n = (size_t)args[0];
    hops = args[1];
    nodes = calloc(n, sizeof(*nodes));
    pids = calloc(n, sizeof(*pids));
    if (nodes == NULL || pids == NULL)
        bench_fail("calloc", HEARTH_ENOMEM);

    count0 = hearth_process_count();
    for (size_t i = 0; i < n; i++) {
        nodes[i].main = hearth_self();
        nodes[i].forward = opts->forward;
        err = hearth_spawn(&ring_actor, &nodes[i], 0, &pids[i]);
        if (err)
            bench_fail("spawn", err);
    }
    /* No ring process has had a message yet, so none reads its state: filling in
     * the successors now is safe, and the token's send publishes them. */
    for (size_t i = 0; i < n; i++)
        nodes[i].next = pids[(i + 1) % n];

    t0 = bench_now_ns();
    bench_send(pids[0], BENCH_TOKEN, hops);
    hearth_msg_free(bench_receive(BENCH_DONE));
    t1 = bench_now_ns();

    bench_result("ring", (double)hops / ((double)(t1 - t0) / 1e9), "hops/s");
    bench_stop_all(pids, n);
    bench_wait_processes(count0);
    free(pids);
    free(nodes);
    return 0;
}
