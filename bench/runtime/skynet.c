/* Workload "skynet SIZE DIV": a tree of processes summing their numbers.
 *
 * A node given (num, size) by a BENCH_GO message from its parent either is a leaf
 * (size 1) and sends num back, or spawns DIV children for the DIV slices of its
 * range, sums the DIV answers and sends the sum up. SIZE leaves, so 1,111,111
 * processes for SIZE 1,000,000 and DIV 10, as the Erlang side's classic skynet.
 *
 * An event process runs no code until its first message, so where Erlang's spawn
 * carries the closure, here the parent spawns and then sends BENCH_GO (value = num,
 * ref = size). Inner nodes get their state (the running sum) from their parent and
 * free it when they exit; leaves need none. Every process exits after sending its
 * answer. The time runs from the main thread's spawn of the root to the total.
 * Result: skynet (s). */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct sky_node {
    hearth_pid_t parent;
    int64_t sum;
    int64_t div;
    int64_t pending; /* answers still to come */
    bool forward;
} sky_node_t;

static const hearth_actor_t sky_actor;

/* A leaf's state is not a pointer but a tagged word, so leaves allocate nothing:
 * bit 0 set, bit 1 = forward. Inner nodes' states are real (aligned) pointers. */
#define SKY_LEAF 0x1u
#define SKY_LEAF_FORWARD 0x2u

static int sky_go(sky_node_t *node, hearth_msg_t *m)
{
    int64_t num = m->value, size = (int64_t)m->ref, sub = size / node->div;
    hearth_pid_t child;
    hearth_msg_t *go;
    void *arg;
    int err;

    node->parent = m->from;
    node->pending = node->div;
    for (int64_t i = 0; i < node->div; i++) {
        if (sub == 1) {
            arg = (void *)(uintptr_t)(SKY_LEAF | (node->forward ? SKY_LEAF_FORWARD : 0));
        } else {
            sky_node_t *c = malloc(sizeof(*c));
            if (c == NULL)
                bench_fail("malloc", HEARTH_ENOMEM);
            c->sum = 0;
            c->div = node->div;
            c->forward = node->forward;
            arg = c;
        }
        err = hearth_spawn(&sky_actor, arg, 0, &child);
        if (err)
            bench_fail("spawn", err);
        go = hearth_msg_int(BENCH_GO, num + i * sub);
        go->ref = (uint64_t)sub;
        err = hearth_send(child, go);
        if (err)
            bench_fail("send", err);
    }
    return 0;
}

static int sky_handle(void *state, hearth_msg_t *m)
{
    uintptr_t leaf = (uintptr_t)state;
    sky_node_t *node = state;
    hearth_pid_t parent;

    if (leaf & SKY_LEAF) {
        /* A leaf's one message is its GO: answer with its number, and exit. */
        parent = m->from;
        if (leaf & SKY_LEAF_FORWARD) {
            m->tag = BENCH_SUM;
            m->from = HEARTH_PID_NONE; /* hearth_send fills in only an unset from */
            hearth_send(parent, m);
        } else {
            bench_send(parent, BENCH_SUM, m->value);
        }
        return HEARTH_STOP;
    }
    if (m->tag == BENCH_GO)
        return sky_go(node, m);
    node->sum += m->value;
    if (--node->pending > 0)
        return 0;
    if (node->forward) {
        m->value = node->sum;
        m->from = HEARTH_PID_NONE;
        hearth_send(node->parent, m);
    } else {
        bench_send(node->parent, BENCH_SUM, node->sum);
    }
    return HEARTH_STOP;
}

static void sky_terminate(void *state, hearth_reason_t reason)
{
    (void)reason;
    if (!((uintptr_t)state & SKY_LEAF))
        free(state);
}

static const hearth_actor_t sky_actor = {
    .name = "bench_skynet",
    .handle = sky_handle,
    .terminate = sky_terminate,
};

int bench_skynet(const bench_opts_t *opts, int argc, const int64_t *args)
{
    sky_node_t *root;
    hearth_pid_t pid;
    hearth_msg_t *m;
    int64_t size, div, sum, want;
    size_t count0;
    uint64_t t0, t1;
    int err;

    if (argc != 2 || args[0] < 2 || args[1] < 2)
        return 2;
    size = args[0];
    div = args[1];
    count0 = hearth_process_count();

    t0 = bench_now_ns();
    root = malloc(sizeof(*root));
    if (root == NULL)
        bench_fail("malloc", HEARTH_ENOMEM);
    root->sum = 0;
    root->div = div;
    root->forward = opts->forward;
    err = hearth_spawn(&sky_actor, root, 0, &pid);
    if (err)
        bench_fail("spawn", err);
    m = hearth_msg_int(BENCH_GO, 0);
    m->ref = (uint64_t)size;
    err = hearth_send(pid, m);
    if (err)
        bench_fail("send", err);
    m = bench_receive(BENCH_SUM);
    t1 = bench_now_ns();
    sum = m->value;
    hearth_msg_free(m);

    want = size * (size - 1) / 2;
    if (sum != want) {
        fprintf(stderr, "hearth-bench-runtime: skynet sum %lld, want %lld\n", (long long)sum,
                (long long)want);
        return 1;
    }
    bench_result("skynet", (double)(t1 - t0) / 1e9, "s");
    printf("info skynet sum=%lld\n", (long long)sum);
    bench_wait_processes(count0);
    return 0;
}
