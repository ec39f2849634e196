/* The Hearth side of `./forge bench runtime`: what the workload files share.
 *
 * main.c parses the command line, starts the runtime and runs one workload; each
 * workload (spawn.c, ring.c, pingpong.c, skynet.c, fanout.c) is one function that
 * runs on the main thread, which is an attached process: it spawns event processes,
 * starts them with a message and waits in hearth_receive() for their "done". Every
 * workload prints `result workload=<name> value=<number> unit=<unit>` lines, the
 * same lines bench/erlang/bench.erl prints, for bench/run-runtime.sh to parse.
 *
 * Only the public header is used, as an embedding program would. */
#ifndef HEARTH_BENCH_H
#define HEARTH_BENCH_H

#include "hearth/hearth.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Message tags used by the workloads (all below HEARTH_MSG_SYSTEM). */
enum {
    BENCH_GO = 1, /* start: value and ref carry the workload's parameters */
    BENCH_DONE,   /* to the main thread: finished; value = a result or a time */
    BENCH_STOP,   /* exit now */
    BENCH_TOKEN,  /* ring: value = hops left */
    BENCH_PING,   /* ping-pong */
    BENCH_PONG,   /* ping-pong: the answer */
    BENCH_SUM,    /* skynet: value = the subtree's sum */
    BENCH_EV,     /* fan-out: the event */
};

/* Options every workload sees. */
typedef struct bench_opts {
    /* Forward the message being handled (hearth_send keeps it) instead of sending a
     * fresh one. Off by default: the Erlang VM copies every message it sends, so a
     * fresh hearth_msg_t per hop is the like-for-like comparison. */
    bool forward;
} bench_opts_t;

/* A workload: args are the integers after its name on the command line (argc of
 * them). Returns 0; 2 if the arguments are wrong (main prints the usage); failures
 * while running print why and exit (bench_fail). */
typedef int (*bench_fn)(const bench_opts_t *opts, int argc, const int64_t *args);

int bench_spawn(const bench_opts_t *opts, int argc, const int64_t *args);
int bench_ring(const bench_opts_t *opts, int argc, const int64_t *args);
int bench_pingpong(const bench_opts_t *opts, int argc, const int64_t *args);
int bench_skynet(const bench_opts_t *opts, int argc, const int64_t *args);
int bench_fanout(const bench_opts_t *opts, int argc, const int64_t *args);
int bench_fanout_shared(const bench_opts_t *opts, int argc, const int64_t *args);

/* Monotonic nanoseconds. */
uint64_t bench_now_ns(void);

/* Prints `result workload=<workload> value=<value> unit=<unit>`. */
void bench_result(const char *workload, double value, const char *unit);

/* Resident set size of this OS process in bytes (from /proc/self/statm). */
size_t bench_rss(void);

/* Receives the next message on the main thread, which must carry tag (any tag if
 * tag is 0); aborts the benchmark if another arrives or nothing comes within a few
 * minutes (a hung run must not hang the driver). The caller owns the message. */
hearth_msg_t *bench_receive(uint32_t tag);

/* Waits (polling, as the Erlang side polls its process count) until at most count
 * processes are alive. */
void bench_wait_processes(size_t count);

/* Sends a message with tag and value to pid; aborts the benchmark if pid is gone,
 * since every process a workload talks to must be alive. */
void bench_send(hearth_pid_t pid, uint32_t tag, int64_t value);

/* Sends BENCH_STOP to each of n pids. */
void bench_stop_all(const hearth_pid_t *pids, size_t n);

/* Prints "hearth-bench-runtime: <what>: <error>" and exits with status 1. */
__attribute__((noreturn)) void bench_fail(const char *what, int err);

#endif /* HEARTH_BENCH_H */
