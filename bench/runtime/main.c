/* hearth-bench-runtime: runs one workload of `./forge bench runtime` on Hearth.
 *
 *     hearth-bench-runtime [--schedulers N] [--forward] WORKLOAD [ARGS...]
 *
 * takes the same workload names and integer arguments as bench/erlang/bench.erl
 * (see there), so bench/run-runtime.sh drives both sides alike, one fresh OS
 * process per run. This file holds the command line and the helpers the workload
 * files share (bench.h). */
#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A hung workload fails after this long rather than hanging the driver. */
#define BENCH_RECEIVE_TIMEOUT_MS (5 * 60 * 1000)

static const struct {
    const char *name;
    bench_fn fn;
    const char *usage;
} workloads[] = {
    {"spawn", bench_spawn, "spawn N"},
    {"ring", bench_ring, "ring N HOPS"},
    {"pingpong", bench_pingpong, "pingpong ROUNDS"},
    {"skynet", bench_skynet, "skynet SIZE DIV"},
    {"fanout", bench_fanout, "fanout N"},
    {"fanout_shared", bench_fanout_shared, "fanout_shared N BYTES"},
};

#define NWORKLOADS (sizeof(workloads) / sizeof(workloads[0]))
#define MAX_ARGS 8

uint64_t bench_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void bench_result(const char *workload, double value, const char *unit)
{
    printf("result workload=%s value=%.6f unit=%s\n", workload, value, unit);
    /* The driver reads our stdout through a pipe: flush so a later crash cannot
     * swallow results already measured. */
    fflush(stdout);
}

size_t bench_rss(void)
{
    unsigned long size, resident;
    FILE *f;
    int n;

    f = fopen("/proc/self/statm", "r");
    if (f == NULL)
        bench_fail("open /proc/self/statm", -errno);
    n = fscanf(f, "%lu %lu", &size, &resident);
    fclose(f);
    if (n != 2)
        bench_fail("read /proc/self/statm", HEARTH_EINVAL);
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

hearth_msg_t *bench_receive(uint32_t tag)
{
    hearth_msg_t *m;
    int err;

    err = hearth_receive(NULL, NULL, BENCH_RECEIVE_TIMEOUT_MS, &m);
    if (err)
        bench_fail("receive", err);
    if (tag != 0 && m->tag != tag) {
        fprintf(stderr, "hearth-bench-runtime: expected tag %u, got %#x\n", tag, m->tag);
        exit(1);
    }
    return m;
}

void bench_wait_processes(size_t count)
{
    const struct timespec ms = {0, 1000000};
    uint64_t deadline = bench_now_ns() + (uint64_t)BENCH_RECEIVE_TIMEOUT_MS * 1000000u;

    while (hearth_process_count() > count) {
        if (bench_now_ns() > deadline)
            bench_fail("wait for processes to exit", HEARTH_ETIMEDOUT);
        nanosleep(&ms, NULL);
    }
}

void bench_send(hearth_pid_t pid, uint32_t tag, int64_t value)
{
    int err;

    err = hearth_send(pid, hearth_msg_int(tag, value));
    if (err)
        bench_fail("send", err);
}

void bench_stop_all(const hearth_pid_t *pids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        bench_send(pids[i], BENCH_STOP, 0);
}

void bench_fail(const char *what, int err)
{
    fprintf(stderr, "hearth-bench-runtime: %s: %s\n", what, hearth_strerror(err));
    exit(1);
}

static __attribute__((noreturn)) void usage(void)
{
    fprintf(stderr, "usage: hearth-bench-runtime [--schedulers N] [--forward] WORKLOAD [ARGS...]\n"
                    "workloads:\n");
    for (size_t i = 0; i < NWORKLOADS; i++)
        fprintf(stderr, "  %s\n", workloads[i].usage);
    exit(2);
}

static int64_t parse_int(const char *s)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < 0)
        usage();
    return (int64_t)v;
}

int main(int argc, char **argv)
{
    hearth_config_t cfg = {0};
    bench_opts_t opts = {0};
    int64_t args[MAX_ARGS];
    const char *name;
    int i, nargs, err, ret;
    size_t w;

    for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--schedulers") == 0 && i + 1 < argc)
            cfg.schedulers = (int)parse_int(argv[++i]);
        else if (strcmp(argv[i], "--forward") == 0)
            opts.forward = true;
        else
            usage();
    }
    if (i >= argc)
        usage();
    name = argv[i++];
    for (w = 0; w < NWORKLOADS; w++)
        if (strcmp(workloads[w].name, name) == 0)
            break;
    if (w == NWORKLOADS)
        usage();
    for (nargs = 0; i < argc; i++) {
        if (nargs == MAX_ARGS)
            usage();
        args[nargs++] = parse_int(argv[i]);
    }

    err = hearth_start(&cfg);
    if (err)
        bench_fail("hearth_start", err);
    /* Attach the main thread now: its process then counts in every workload's
     * baseline process count, which workloads wait to fall back to. */
    if (hearth_self() == HEARTH_PID_NONE)
        bench_fail("attach the main thread", HEARTH_ESHUTDOWN);
    ret = workloads[w].fn(&opts, nargs, args);
    if (ret == 2)
        usage();
    err = hearth_stop();
    if (err)
        bench_fail("hearth_stop", err);
    return ret;
}
