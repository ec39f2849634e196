/* Tests of green threads: processes with a stack of their own that block in
 * hearth_receive (runtime/green/).
 *
 * The test's own thread is an attached process: it spawns green threads, messages
 * them, monitors them and reads what they report back. A green thread that must not
 * exit before the test monitors it first waits for a T_GO message. Most tests run
 * two schedulers, so a green thread that blocks on one may resume on the other. */
#include "task.h"

#include "green/ctx.h"
#include "green/green.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum {
    T_GO = 1,
    T_READY,
    T_DONE,
    T_PING,
    T_PONG,
    T_REPORT,
    T_WORK,
    T_OTHER,
    T_SEL = 100, /* T_SEL + 1 .. T_SEL + 5: the selective receive test */
};

static hearth_config_t cfg_with(int schedulers)
{
    hearth_config_t cfg = {0};

    cfg.schedulers = schedulers;
    cfg.fault_seed = 42;
    return cfg;
}

static bool match_tag(const hearth_msg_t *m, void *arg)
{
    return m->tag == *(const uint32_t *)arg;
}

/* The next message tagged tag, or NULL after timeout ms. */
static hearth_msg_t *recv_tag(uint32_t tag, int64_t timeout)
{
    hearth_msg_t *m = NULL;

    if (hearth_receive(match_tag, &tag, timeout, &m) != 0)
        return NULL;
    return m;
}

/* Receives the next message tagged tag and returns its value; aborts the test (from
 * any thread, green ones included) if none comes within 10 s. */
static int64_t take(uint32_t tag)
{
    hearth_msg_t *m = recv_tag(tag, 10000);
    int64_t v;

    ASSERT_NOT_NULL(m);
    v = m->value;
    hearth_msg_free(m);
    return v;
}

static void send_int(hearth_pid_t to, uint32_t tag, int64_t value)
{
    ASSERT_OK(hearth_send(to, hearth_msg_int(tag, value)));
}

/* Monitors pid and returns the reason its DOWN carries. */
static hearth_reason_t down_reason(hearth_pid_t pid, uint64_t ref)
{
    hearth_msg_t *m = NULL;
    hearth_reason_t r;

    ASSERT_OK(hearth_receive_ref(HEARTH_MSG_DOWN, ref, 10000, &m));
    r = m->value;
    hearth_msg_free(m);
    (void)pid;
    return r;
}

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static bool under_sanitizer(void)
{
#if HEARTH_ASAN || HEARTH_TSAN
    return true;
#else
    return false;
#endif
}

/* ---- a green thread runs and exits ------------------------------------------------- */

struct parent {
    hearth_pid_t parent;
    int64_t reason; /* for exiting_green: what to exit with */
};

/* Reports its own pid, waits for T_GO, returns. */
static void simple_green(void *arg)
{
    struct parent *a = arg;

    send_int(a->parent, T_READY, (int64_t)hearth_self());
    take(T_GO);
}

/* A few frames deep, hearth_exit must leave the thread without returning. */
static int exit_deep(int depth, int64_t reason)
{
    if (depth > 0)
        return exit_deep(depth - 1, reason) + 1;
    hearth_exit(reason);
    return -1000; /* not reached */
}

static void exiting_green(void *arg)
{
    struct parent *a = arg;

    take(T_GO);
    exit_deep(5, a->reason);
    abort(); /* not reached */
}

TEST_IMPL(green_runs_and_exits_normally)
{
    hearth_config_t cfg = cfg_with(2);
    struct parent a = {0}, b = {0};
    hearth_pid_t pid, pid2;
    hearth_proc_info_t info;
    uint64_t ref, ref2;
    int i;

    ASSERT_OK(hearth_start(&cfg));
    a.parent = b.parent = hearth_self();
    b.reason = HEARTH_REASON_USER + 7;

    ASSERT_OK(hearth_spawn_green(simple_green, &a, 0, 0, &pid));
    ASSERT_OK(hearth_monitor(pid, &ref));
    ASSERT_EQ(pid, take(T_READY)); /* it ran, as itself */
    ASSERT(hearth_is_alive(pid));
    ASSERT_OK(hearth_process_info(pid, &info));
    ASSERT_EQ(HEARTH_KIND_GREEN, info.kind);
    ASSERT_GE(info.memory, 64 << 10); /* the stack counts */
    send_int(pid, T_GO, 0);
    ASSERT_EQ(HEARTH_NORMAL, down_reason(pid, ref));
    ASSERT(!hearth_is_alive(pid));

    /* hearth_exit from a nested call: the process dies with that reason. */
    ASSERT_OK(hearth_spawn_green(exiting_green, &b, 0, 0, &pid2));
    ASSERT_OK(hearth_monitor(pid2, &ref2));
    send_int(pid2, T_GO, 0);
    ASSERT_EQ(HEARTH_REASON_USER + 7, down_reason(pid2, ref2));

    /* A stack that cannot be had: an error, and nothing left behind. */
    ASSERT_EQ(HEARTH_ENOMEM, hearth_spawn_green(simple_green, &a, (size_t)1 << 40, 0, &pid));
    ASSERT_EQ(HEARTH_EINVAL, hearth_spawn_green(NULL, NULL, 0, 0, NULL));
    for (i = 0; i < 1000 && hearth_process_count() != 1; i++)
        usleep(1000);
    ASSERT_EQ(1, hearth_process_count()); /* just the test's own */
    ASSERT_OK(hearth_stop());
    ASSERT_EQ(HEARTH_ESHUTDOWN, hearth_spawn_green(simple_green, &a, 0, 0, NULL));
    return 0;
}

/* ---- ping-pong between two green threads ------------------------------------------------ */

struct pingpong {
    hearth_pid_t parent;
    hearth_pid_t peer; /* for the pinger: the ponger */
    int64_t rounds;
};

static void ponger(void *arg)
{
    struct pingpong *pp = arg;
    hearth_msg_t *m;

    for (;;) {
        ASSERT_OK(hearth_receive(NULL, NULL, 10000, &m));
        if (m->tag == T_DONE) {
            hearth_msg_free(m);
            return;
        }
        ASSERT_EQ(T_PING, m->tag);
        send_int(m->from, T_PONG, m->value + 1);
        hearth_msg_free(m);
    }
    (void)pp;
}

static void pinger(void *arg)
{
    struct pingpong *pp = arg;
    double f = 1.0; /* live across every switch: callee-saved FP state must survive */
    int64_t i, v = 0;

    for (i = 0; i < pp->rounds; i++) {
        send_int(pp->peer, T_PING, v);
        v = take(T_PONG);
        f *= 1.5;
        if (f > 1e6)
            f /= 1e6;
    }
    send_int(pp->peer, T_DONE, 0);
    send_int(pp->parent, T_REPORT, v);
    send_int(pp->parent, T_DONE, f > 0.0 && f <= 1e6);
}

TEST_IMPL(green_ping_pong)
{
    hearth_config_t cfg = cfg_with(2);
    struct pingpong pp = {0};
    hearth_pid_t ping, pong;
    uint64_t rping, rpong;

    ASSERT_OK(hearth_start(&cfg));
    pp.parent = hearth_self();
    pp.rounds = (int64_t)test_scaled(100000);
    ASSERT_OK(hearth_spawn_green(ponger, &pp, 0, 0, &pong));
    pp.peer = pong;
    ASSERT_OK(hearth_monitor(pong, &rpong));
    ASSERT_OK(hearth_spawn_green(pinger, &pp, 0, 0, &ping));
    ASSERT_OK(hearth_monitor(ping, &rping));
    /* Each pong adds one to the ping it answers. */
    ASSERT_EQ(pp.rounds, take(T_REPORT));
    ASSERT_EQ(1, take(T_DONE));
    ASSERT_EQ(HEARTH_NORMAL, down_reason(ping, rping));
    ASSERT_EQ(HEARTH_NORMAL, down_reason(pong, rpong));
    ASSERT_OK(hearth_stop());
    return 0;
}

/* ---- selective receive --------------------------------------------------------------- */

static void selective_green(void *arg)
{
    struct parent *a = arg;
    hearth_msg_t *m;
    int64_t order = 0;
    int i;

    /* Wait for the third message; the first two (and those after it) stay queued. */
    m = recv_tag(T_SEL + 3, 10000);
    ASSERT_NOT_NULL(m);
    order = 3;
    hearth_msg_free(m);
    for (i = 0; i < 4; i++) {
        ASSERT_OK(hearth_receive(NULL, NULL, 10000, &m));
        order = order * 10 + (m->tag - T_SEL);
        hearth_msg_free(m);
    }
    /* Nothing else was waiting. */
    ASSERT_EQ(HEARTH_ETIMEDOUT, hearth_receive(NULL, NULL, 0, &m));
    send_int(a->parent, T_REPORT, order);
}

TEST_IMPL(green_selective_receive_order)
{
    hearth_config_t cfg = cfg_with(2);
    struct parent a = {0};
    hearth_pid_t pid;
    uint64_t ref;
    int round, i;

    ASSERT_OK(hearth_start(&cfg));
    a.parent = hearth_self();
    /* Round 0: all five are queued before the thread first looks. Round 1: the
     * thread is already blocked, and wakes for each message that does not match. */
    for (round = 0; round < 2; round++) {
        ASSERT_OK(hearth_spawn_green(selective_green, &a, 0, 0, &pid));
        ASSERT_OK(hearth_monitor(pid, &ref));
        for (i = 1; i <= 5; i++) {
            send_int(pid, T_SEL + (uint32_t)i, 0);
            if (round == 1)
                usleep(2000);
        }
        ASSERT_EQ(31245, take(T_REPORT));
        ASSERT_EQ(HEARTH_NORMAL, down_reason(pid, ref));
    }
    ASSERT_OK(hearth_stop());
    return 0;
}

/* ---- receive timeout ------------------------------------------------------------------ */

static void timeout_green(void *arg)
{
    struct parent *a = arg;
    uint32_t never = T_WORK;
    hearth_msg_t *m = NULL;
    double t0;
    int rc;

    /* A zero timeout only looks. */
    t0 = now_ms();
    ASSERT_EQ(HEARTH_ETIMEDOUT, hearth_receive(match_tag, &never, 0, &m));
    ASSERT_LT(now_ms() - t0, 50);

    take(T_GO);
    /* T_OTHER is queued meanwhile: it does not match and must not end the wait. */
    t0 = now_ms();
    rc = hearth_receive(match_tag, &never, 200, &m);
    send_int(a->parent, T_REPORT, rc);
    send_int(a->parent, T_DONE, (int64_t)(now_ms() - t0));
    /* ...and it is still there, in order after nothing else. */
    ASSERT_OK(hearth_receive(NULL, NULL, 0, &m));
    ASSERT_EQ(T_OTHER, m->tag);
    hearth_msg_free(m);
}

TEST_IMPL(green_receive_timeout)
{
    hearth_config_t cfg = cfg_with(2);
    struct parent a = {0};
    hearth_pid_t pid;
    uint64_t ref;
    int64_t waited;

    ASSERT_OK(hearth_start(&cfg));
    a.parent = hearth_self();
    ASSERT_OK(hearth_spawn_green(timeout_green, &a, 0, 0, &pid));
    ASSERT_OK(hearth_monitor(pid, &ref));
    send_int(pid, T_GO, 0);
    usleep(50000);
    send_int(pid, T_OTHER, 0);
    ASSERT_EQ(HEARTH_ETIMEDOUT, take(T_REPORT));
    waited = take(T_DONE);
    ASSERT_GE(waited, 190);
    ASSERT_LT(waited, under_sanitizer() ? 2000 : 600);
    ASSERT_EQ(HEARTH_NORMAL, down_reason(pid, ref));
    ASSERT_OK(hearth_stop());
    return 0;
}

/* ---- many green threads alive at once --------------------------------------------------- */

static void worker_green(void *arg)
{
    struct parent *a = arg;
    hearth_msg_t *m;

    send_int(a->parent, T_READY, 0);
    /* Blocks here until the test has heard from every worker. */
    ASSERT_OK(hearth_receive(NULL, NULL, HEARTH_INFINITY, &m));
    ASSERT_EQ(T_WORK, m->tag);
    send_int(a->parent, T_DONE, m->value * 2);
    hearth_msg_free(m);
}

TEST_IMPL(green_ten_thousand_blocked)
{
    hearth_config_t cfg = cfg_with(2);
    size_t n = test_scaled(10000), i, before;
    struct parent a = {0};
    hearth_pid_t *pids;
    int64_t sum = 0, want = 0;

    pids = calloc(n, sizeof(*pids));
    ASSERT_NOT_NULL(pids);
    ASSERT_OK(hearth_start(&cfg));
    a.parent = hearth_self();
    before = hearth_process_count();
    for (i = 0; i < n; i++)
        ASSERT_OK(hearth_spawn_green(worker_green, &a, 0, 0, &pids[i]));
    for (i = 0; i < n; i++)
        take(T_READY);
    /* Every one is alive, blocked in receive, at the same time. */
    ASSERT_GE(hearth_process_count(), before + n);
    for (i = 0; i < n; i++)
        ASSERT(hearth_is_alive(pids[i]));

    for (i = 0; i < n; i++) {
        send_int(pids[i], T_WORK, (int64_t)i);
        want += 2 * (int64_t)i;
    }
    for (i = 0; i < n; i++)
        sum += take(T_DONE);
    ASSERT_EQ(want, sum);
    /* All finished: exits trail their last message by a moment, and the count
     * trails the DOWN by another (it drops last in the teardown). */
    for (i = 0; i < n; i++) {
        hearth_reason_t r;
        ASSERT_OK(hearth_wait(pids[i], 10000, &r));
        ASSERT(!hearth_is_alive(pids[i]));
    }
    for (i = 0; i < 1000 && hearth_process_count() != before; i++)
        usleep(1000);
    ASSERT_EQ(before, hearth_process_count());
    ASSERT_OK(hearth_stop());
    free(pids);
    return 0;
}

/* ---- stack overflow ---------------------------------------------------------------------- */

static volatile int overflow_limit = 1 << 30;

/* Recursion the compiler can neither flatten nor bound: 512 bytes a frame. */
static int recurse(int depth)
{
    volatile char frame[512];

    frame[0] = (char)depth;
    if (depth >= overflow_limit)
        return frame[0];
    return recurse(depth + 1) + frame[0];
}

static void overflow_green(void *arg)
{
    struct parent *a = arg;
    int r;

    take(T_GO);
    r = recurse(0);
    send_int(a->parent, T_REPORT, r); /* never: the stack runs out first */
}

/* Answers T_PING with T_PONG until T_DONE. */
static void bystander_green(void *arg)
{
    hearth_msg_t *m;

    (void)arg;
    for (;;) {
        ASSERT_OK(hearth_receive(NULL, NULL, HEARTH_INFINITY, &m));
        if (m->tag == T_DONE) {
            hearth_msg_free(m);
            return;
        }
        send_int(m->from, T_PONG, m->value);
        hearth_msg_free(m);
    }
}

TEST_IMPL(green_stack_overflow_kills_only_that_process)
{
    hearth_config_t cfg = cfg_with(2);
    struct parent a = {0};
    hearth_pid_t by, pid;
    uint64_t rby, ref;
    int i, rounds = 20;

    ASSERT_OK(hearth_start(&cfg));
    a.parent = hearth_self();
    ASSERT_OK(hearth_spawn_green(bystander_green, NULL, 0, 0, &by));
    ASSERT_OK(hearth_monitor(by, &rby));
    /* Several in a row, on whichever scheduler they land: the handler must work
     * every time, and the stacks go back to the pool for the next ones. */
    for (i = 0; i < rounds; i++) {
        ASSERT_OK(hearth_spawn_green(overflow_green, &a, i % 2 ? 0 : 32 << 10, 0, &pid));
        ASSERT_OK(hearth_monitor(pid, &ref));
        send_int(pid, T_GO, 0);
        ASSERT_EQ(HEARTH_STACK_OVERFLOW, down_reason(pid, ref));
        /* The others go on. */
        send_int(by, T_PING, i);
        ASSERT_EQ(i, take(T_PONG));
    }
    ASSERT_NULL(recv_tag(T_REPORT, 0));
    send_int(by, T_DONE, 0);
    ASSERT_EQ(HEARTH_NORMAL, down_reason(by, rby));
    ASSERT_OK(hearth_stop());
    return 0;
}

/* Any other fault in a green thread is a genuine crash: the handler must not
 * swallow it. Run in a child process, which must die of it. */
static void segv_green(void *arg)
{
    volatile int *volatile nowhere = (int *)arg;

    *nowhere = 1;
}

TEST_IMPL(green_genuine_segv_still_crashes)
{
    hearth_config_t cfg = cfg_with(2);
    hearth_reason_t r;
    hearth_pid_t pid;
    int status = 0;
    pid_t child;

    child = fork();
    ASSERT(child >= 0);
    if (child == 0) {
        if (hearth_start(&cfg) != 0 || hearth_spawn_green(segv_green, (void *)16, 0, 0, &pid))
            _exit(3);
        hearth_wait(pid, 10000, &r);
        _exit(0); /* the fault was swallowed */
    }
    ASSERT_EQ(child, waitpid(child, &status, 0));
    if (under_sanitizer()) {
        /* ASan's own handler (ours chains to it) reports and exits non-zero. */
        ASSERT(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0 &&
                                       WEXITSTATUS(status) != 3));
    } else {
        ASSERT(WIFSIGNALED(status));
        ASSERT_EQ(SIGSEGV, WTERMSIG(status));
    }
    return 0;
}

/* A stack past the guard-page budget has only its canary. A thread that wrote
 * below its stack (simulated: it overwrites the canary word) is killed with
 * HEARTH_STACK_OVERFLOW the next time it switches out, never run again. */
static void canary_green(void *arg)
{
    struct parent *a = arg;
    hearth__proc_t *p = hearth__current();

    take(T_GO);
    memset(hearth__green_stack_lo(p->green), 0xA5, 64);
    hearth_yield();
    send_int(a->parent, T_REPORT, 1); /* never */
}

TEST_IMPL(green_canary_overwrite_kills_process)
{
    hearth_config_t cfg = cfg_with(1);
    struct parent a = {0};
    hearth_pid_t pid;
    uint64_t ref;

    ASSERT_OK(hearth_start(&cfg));
    a.parent = hearth_self();
    ASSERT_OK(hearth_spawn_green(canary_green, &a, 0, 0, &pid));
    ASSERT_OK(hearth_monitor(pid, &ref));
    send_int(pid, T_GO, 0);
    ASSERT_EQ(HEARTH_STACK_OVERFLOW, down_reason(pid, ref));
    ASSERT_NULL(recv_tag(T_REPORT, 100));
    ASSERT_OK(hearth_stop());
    return 0;
}

/* A larger stack asked for at spawn is really there: 200 KiB of frames fit in a
 * 256 KiB stack (and would overflow the 64 KiB default). */
static void deep_green(void *arg)
{
    struct parent *a = arg;

    take(T_GO);
    overflow_limit = 400; /* 400 frames of 512+ bytes */
    send_int(a->parent, T_REPORT, recurse(0) >= 0);
}

TEST_IMPL(green_stack_size_per_spawn)
{
    hearth_config_t cfg = cfg_with(2);
    struct parent a = {0};
    hearth_pid_t pid;
    uint64_t ref;

    ASSERT_OK(hearth_start(&cfg));
    a.parent = hearth_self();
    ASSERT_OK(hearth_spawn_green(deep_green, &a, 256 << 10, 0, &pid));
    ASSERT_OK(hearth_monitor(pid, &ref));
    send_int(pid, T_GO, 0);
    ASSERT_EQ(1, take(T_REPORT));
    ASSERT_EQ(HEARTH_NORMAL, down_reason(pid, ref));
    ASSERT_OK(hearth_stop());
    return 0;
}

/* A green thread killed while it is blocked in receive (or before it first ran):
 * its stack is reclaimed without running again, and spawning many more in turn
 * reuses the pool instead of growing memory. */
static hearth_pid_t blocked_parent;

static void blocked_green(void *arg)
{
    hearth_msg_t *m;

    if (arg != NULL)
        send_int(blocked_parent, T_READY, 0);
    hearth_receive(NULL, NULL, HEARTH_INFINITY, &m);
    abort(); /* not reached: killed first */
}

static long rss_bytes(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");

    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * sysconf(_SC_PAGESIZE);
}

TEST_IMPL(green_killed_while_blocked_stacks_reused)
{
    hearth_config_t cfg = cfg_with(2);
    size_t n = test_scaled(20000), i;
    hearth_pid_t pid;
    long rss0 = 0, grown;
    uint64_t ref;

    ASSERT_OK(hearth_start(&cfg));
    blocked_parent = hearth_self();
    for (i = 0; i < n; i++) {
        if (i == 200)
            rss0 = rss_bytes(); /* after the first stacks are warm */
        /* Odd ones are surely running (and about to block) when killed. */
        ASSERT_OK(hearth_spawn_green(blocked_green, i % 2 ? &ref : NULL, 0, 0, &pid));
        ASSERT_OK(hearth_monitor(pid, &ref));
        if (i % 2)
            take(T_READY);
        ASSERT_OK(hearth_exit_signal(pid, HEARTH_KILL));
        ASSERT_EQ(HEARTH_KILLED, down_reason(pid, ref));
    }
    grown = rss_bytes() - rss0;
    fprintf(stderr, "green: %zu killed green threads grew RSS by %ld KiB\n", n, grown >> 10);
    /* Without reuse each would leave at least a touched 4 KiB page behind. */
    if (!under_sanitizer())
        ASSERT_LT(grown, (long)(n * 4096 / 4));
    ASSERT_OK(hearth_stop());
    return 0;
}

/* hearth_stop with green threads still blocked in receive: they are shut down and
 * their stacks reclaimed, and a new runtime runs green threads again. */
TEST_IMPL(green_stop_with_blocked_threads)
{
    hearth_config_t cfg = cfg_with(2);
    size_t n = test_scaled(1000), i, round;
    struct parent a = {0};

    for (round = 0; round < 2; round++) {
        ASSERT_OK(hearth_start(&cfg));
        a.parent = hearth_self();
        for (i = 0; i < n; i++)
            ASSERT_OK(hearth_spawn_green(worker_green, &a, 0, 0, NULL));
        for (i = 0; i < n; i++)
            take(T_READY);
        ASSERT_GE(hearth_process_count(), n);
        ASSERT_OK(hearth_stop());
        ASSERT_EQ(0, hearth_process_count());
    }
    return 0;
}

/* ---- switch cost (printed, not asserted) ------------------------------------------------ */

static void *bench_main_sp, *bench_co_sp;

static void bench_co(void *arg, void *transfer)
{
    (void)arg;
    for (;;)
        transfer = hearth__ctx_switch(&bench_co_sp, bench_main_sp, transfer);
}

static void yielder_green(void *arg)
{
    struct parent *a = arg;
    int64_t i, n = a->reason;

    for (i = 0; i < n; i++)
        hearth_yield();
    send_int(a->parent, T_DONE, n);
}

TEST_IMPL(green_switch_cost)
{
    hearth_config_t cfg = cfg_with(1);
    size_t n = test_scaled(2000000), i;
    struct parent a = {0};
    struct pingpong pp = {0};
    hearth_pid_t pong;
    char *stack;
    double t0, raw, yield, rt;
    void *r = NULL;

    /* The bare switch: two contexts bouncing a counter. */
    stack = aligned_alloc(64, 64 << 10);
    ASSERT_NOT_NULL(stack);
    bench_co_sp = hearth__ctx_make(stack + (64 << 10), bench_co, NULL);
    t0 = now_ms();
    for (i = 0; i < n; i++)
        r = hearth__ctx_switch(&bench_main_sp, bench_co_sp, (void *)(uintptr_t)i);
    raw = (now_ms() - t0) * 1e6 / (2.0 * (double)n);
    ASSERT_EQ(n - 1, (uintptr_t)r);
    free(stack);

    /* Through the scheduler: a green thread yielding on one scheduler. */
    ASSERT_OK(hearth_start(&cfg));
    a.parent = hearth_self();
    a.reason = (int64_t)n;
    t0 = now_ms();
    ASSERT_OK(hearth_spawn_green(yielder_green, &a, 0, 0, NULL));
    ASSERT_EQ((int64_t)n, take(T_DONE));
    yield = (now_ms() - t0) * 1e6 / (double)n;

    /* Message round trips between two green threads. */
    pp.parent = hearth_self();
    pp.rounds = (int64_t)(n / 10);
    ASSERT_OK(hearth_spawn_green(ponger, &pp, 0, 0, &pong));
    pp.peer = pong;
    t0 = now_ms();
    ASSERT_OK(hearth_spawn_green(pinger, &pp, 0, 0, NULL));
    ASSERT_EQ(pp.rounds, take(T_REPORT));
    rt = (now_ms() - t0) * 1e6 / (double)pp.rounds;
    ASSERT_EQ(1, take(T_DONE));
    ASSERT_OK(hearth_stop());

    fprintf(stderr,
            "green: context switch %.1f ns, yield through the scheduler %.1f ns, "
            "ping-pong round trip %.1f ns (1 scheduler)\n",
            raw, yield, rt);
    return 0;
}
