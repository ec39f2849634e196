/* Workload "spawn N": N idle event processes.
 *
 * A spawner process (an event process, as the Erlang side spawns from an Erlang
 * process) spawns N processes whose handler exits on their first message, and times
 * that. The main thread then reads the RSS growth, bytes per idle process, before
 * any of them got a message. Then the spawner sends each one a message and the main
 * thread waits until they are all gone: the teardown time.
 *
 * Results: spawn (s), idle_process (bytes, RSS growth / N), teardown (s); and as
 * info, the runtime's own count of process bytes and the RSS left after teardown. */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct spawner {
    hearth_pid_t *pids; /* filled by the spawner, read by it again at teardown */
    size_t n;
    hearth_pid_t main;
} spawner_t;

/* Idle processes wait for one message and exit normally on it, like the Erlang
 * side's `receive _ -> ok end`. */
static int idle_handle(void *state, hearth_msg_t *m)
{
    (void)state;
    (void)m;
    return HEARTH_STOP;
}

static const hearth_actor_t idle_actor = {
    .name = "bench_idle",
    .handle = idle_handle,
};

static int spawner_handle(void *state, hearth_msg_t *m)
{
    spawner_t *sp = state;
    uint64_t t0, t1;
    int err;

    switch (m->tag) {
    case BENCH_GO:
        t0 = bench_now_ns();
        for (size_t i = 0; i < sp->n; i++) {
            err = hearth_spawn(&idle_actor, NULL, 0, &sp->pids[i]);
            if (err)
                bench_fail("spawn", err);
        }
        t1 = bench_now_ns();
        bench_send(sp->main, BENCH_DONE, (int64_t)(t1 - t0));
        return 0;
    case BENCH_STOP:
        /* Tell every idle process to exit, then exit too: the main thread waits
         * for the process count to fall back to where it was. */
        bench_stop_all(sp->pids, sp->n);
        return HEARTH_STOP;
    default:
        return HEARTH_EINVAL;
    }
}

static const hearth_actor_t spawner_actor = {
    .name = "bench_spawner",
    .handle = spawner_handle,
};

int bench_spawn(const bench_opts_t *opts, int argc, const int64_t *args)
{
    spawner_t sp;
    hearth_stats_t stats;
    hearth_pid_t spawner;
    hearth_msg_t *m;
    size_t count0, rss0, rss1, rss2;
    uint64_t spawn_ns, t2, t3;
    int err;

    (void)opts;
    if (argc != 1 || args[0] == 0)
        return 2;
    sp.n = (size_t)args[0];
    sp.main = hearth_self();
    /* The pid array is bookkeeping, not process cost: touch all of it before the
     * baseline so its pages are not counted as process memory. */
    sp.pids = malloc(sp.n * sizeof(*sp.pids));
    if (sp.pids == NULL)
        bench_fail("malloc", HEARTH_ENOMEM);
    memset(sp.pids, 0xff, sp.n * sizeof(*sp.pids));

    err = hearth_spawn(&spawner_actor, &sp, 0, &spawner);
    if (err)
        bench_fail("spawn the spawner", err);
    count0 = hearth_process_count();
    rss0 = bench_rss();

    bench_send(spawner, BENCH_GO, 0);
    m = bench_receive(BENCH_DONE);
    spawn_ns = (uint64_t)m->value;
    hearth_msg_free(m);
    rss1 = bench_rss();
    hearth_stats(&stats);

    t2 = bench_now_ns();
    bench_send(spawner, BENCH_STOP, 0);
    bench_wait_processes(count0 - 1);
    t3 = bench_now_ns();
    rss2 = bench_rss();

    bench_result("spawn", (double)spawn_ns / 1e9, "s");
    bench_result("idle_process", ((double)rss1 - (double)rss0) / (double)sp.n, "bytes");
    bench_result("teardown", (double)(t3 - t2) / 1e9, "s");
    printf("info spawn n=%zu proc_bytes_per_process=%.1f rss_growth=%zu "
           "rss_left_after_teardown=%zd\n",
           sp.n, (double)stats.proc_bytes / (double)stats.processes, rss1 - rss0,
           (ssize_t)rss2 - (ssize_t)rss0);
    free(sp.pids);
    return 0;
}
