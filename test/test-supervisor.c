/* Tests of the supervisor behaviour (include/hearth/supervisor.h): start and stop
 * order, the three restart strategies, restart types, restart intensity and its
 * escalation through a three-level tree, shutdown timeouts, dynamic children and the
 * API calls.
 *
 * Children are small event processes that report their start and their terminate
 * (with its reason) to the test's own thread by messages, so the test reads the
 * exact sequence of starts and stops from its mailbox: no shared mutable state. */
#include "task.h"

#include "hearth/server.h"
#include "hearth/supervisor.h"

enum {
    T_STARTED = 100, /* value = child index, ref = its pid */
    T_STOPPED,       /* value = child index, ref = (uint64_t)reason */
    T_SUP_STARTED,   /* a supervisor start function ran: value = its level */
    T_CRASH,         /* to a worker: crash with reason CRASH_REASON */
    T_NORMAL,        /* to a worker: exit normally */
    T_GET,           /* a call to the counter server */
};

#define CRASH_REASON (-1000)
#define QUIET_MS 100 /* how long "nothing more happens" is watched for */

/* What a worker knows: read-only once the supervisor runs. */
typedef struct worker_cfg {
    int index;
    hearth_pid_t observer;
} worker_cfg_t;

static int worker_init(void **state, void *arg)
{
    worker_cfg_t *w = arg;
    hearth_msg_t *m = hearth_msg_int(T_STARTED, w->index);

    m->ref = hearth_self();
    hearth_send(w->observer, m);
    *state = w;
    return 0;
}

static int worker_handle(void *state, hearth_msg_t *m)
{
    (void)state;
    if (m->tag == T_CRASH)
        return CRASH_REASON;
    if (m->tag == T_NORMAL)
        return HEARTH_STOP;
    return 0;
}

static void worker_terminate(void *state, hearth_reason_t reason)
{
    worker_cfg_t *w = state;
    hearth_msg_t *m = hearth_msg_int(T_STOPPED, w->index);

    m->ref = (uint64_t)reason;
    hearth_send(w->observer, m);
}

static const hearth_actor_t worker_actor = {"worker", worker_init, worker_handle, worker_terminate};

static int start_worker(void *arg, hearth_pid_t *out)
{
    return hearth_spawn(&worker_actor, arg, HEARTH_SPAWN_LINK, out);
}

static int start_failing(void *arg, hearth_pid_t *out)
{
    (void)arg;
    (void)out;
    return HEARTH_EPIPE;
}

static hearth_config_t cfg2(void)
{
    hearth_config_t cfg = {0};

    cfg.schedulers = 2;
    cfg.fault_seed = 11;
    return cfg;
}

static bool match_event(const hearth_msg_t *m, void *arg)
{
    (void)arg;
    return m->tag == T_STARTED || m->tag == T_STOPPED || m->tag == T_SUP_STARTED;
}

/* Takes the next start/stop event, which must be tag for child index; returns the
 * message's ref (the pid of a started child, the reason of a stopped one). */
static uint64_t expect_event(uint32_t tag, int index)
{
    hearth_msg_t *m = NULL;
    uint64_t ref;

    ASSERT_OK(hearth_receive(match_event, NULL, 5000, &m));
    if (m->tag != tag || m->value != index)
        fprintf(stderr, "expected event %u/%d, got %u/%lld\n", tag, index, m->tag,
                (long long)m->value);
    ASSERT_EQ(tag, m->tag);
    ASSERT_EQ(index, m->value);
    ref = m->ref;
    hearth_msg_free(m);
    return ref;
}

static hearth_pid_t expect_started(int index)
{
    return (hearth_pid_t)expect_event(T_STARTED, index);
}

static void expect_stopped(int index, hearth_reason_t reason)
{
    ASSERT_EQ(reason, (hearth_reason_t)expect_event(T_STOPPED, index));
}

/* Nothing else starts or stops for a while. */
static void expect_quiet(void)
{
    hearth_msg_t *m = NULL;
    int err = hearth_receive(match_event, NULL, QUIET_MS, &m);

    if (err == 0)
        fprintf(stderr, "unexpected event %u/%lld\n", m->tag, (long long)m->value);
    ASSERT_EQ(HEARTH_ETIMEDOUT, err);
}

static hearth_reason_t expect_down(uint64_t mref)
{
    hearth_msg_t *m = NULL;
    hearth_reason_t reason;

    ASSERT_OK(hearth_receive_ref(HEARTH_MSG_DOWN, mref, 5000, &m));
    reason = m->value;
    hearth_msg_free(m);
    return reason;
}

static void crash(hearth_pid_t pid)
{
    ASSERT_OK(hearth_send(pid, hearth_msg_int(T_CRASH, 0)));
}

/* The pid which_children reports for child id. */
static hearth_pid_t child_pid(hearth_pid_t sup, const char *id)
{
    hearth_child_info_t info[16];
    size_t n = 0;

    ASSERT_OK(hearth_supervisor_which_children(sup, info, 16, &n));
    for (size_t i = 0; i < n && i < 16; i++)
        if (strcmp(info[i].id, id) == 0)
            return info[i].pid;
    ASSERT(!"no such child");
    return HEARTH_PID_NONE;
}

/* Live processes, the test thread's own included (it attaches on first use). */
static size_t process_count(void)
{
    hearth_self();
    return hearth_process_count();
}

static const char *const ids[] = {"c0", "c1", "c2", "c3", "c4", "c5"};

/* n worker specs c0..c(n-1), reporting to the test thread. */
static void worker_specs(hearth_child_spec_t *specs, worker_cfg_t *cfgs, int n)
{
    for (int i = 0; i < n; i++) {
        cfgs[i].index = i;
        cfgs[i].observer = hearth_self();
        memset(&specs[i], 0, sizeof(specs[i]));
        specs[i].id = ids[i];
        specs[i].start = start_worker;
        specs[i].arg = &cfgs[i];
    }
}

TEST_IMPL(sup_start_order_stop_reverse)
{
    hearth_config_t cfg = cfg2();
    hearth_child_spec_t specs[4];
    worker_cfg_t cfgs[4];
    hearth_child_info_t info[4];
    hearth_pid_t sup, pids[4];
    size_t n;

    ASSERT_OK(hearth_start(&cfg));
    worker_specs(specs, cfgs, 4);
    ASSERT_OK(hearth_supervisor_start(NULL, specs, 4, 0, &sup));
    for (int i = 0; i < 4; i++)
        pids[i] = expect_started(i);

    /* which_children: the most recently started first, as OTP lists them. */
    ASSERT_OK(hearth_supervisor_which_children(sup, info, 4, &n));
    ASSERT_EQ(4, n);
    for (int i = 0; i < 4; i++) {
        ASSERT_STR_EQ(ids[3 - i], info[i].id);
        ASSERT_EQ(pids[3 - i], info[i].pid);
        ASSERT_EQ(HEARTH_WORKER, info[i].type);
    }

    ASSERT_OK(hearth_supervisor_stop(sup, HEARTH_SHUTDOWN, 5000));
    for (int i = 3; i >= 0; i--)
        expect_stopped(i, HEARTH_SHUTDOWN);
    for (int i = 0; i < 4; i++)
        ASSERT(!hearth_is_alive(pids[i]));
    ASSERT(!hearth_is_alive(sup));
    ASSERT_OK(hearth_stop());
    return 0;
}

TEST_IMPL(sup_one_for_one)
{
    hearth_config_t cfg = cfg2();
    hearth_sup_flags_t flags = {HEARTH_ONE_FOR_ONE, 5, 10, NULL};
    hearth_child_spec_t specs[3];
    worker_cfg_t cfgs[3];
    hearth_pid_t sup, pids[3], again;

    ASSERT_OK(hearth_start(&cfg));
    worker_specs(specs, cfgs, 3);
    ASSERT_OK(hearth_supervisor_start(&flags, specs, 3, 0, &sup));
    for (int i = 0; i < 3; i++)
        pids[i] = expect_started(i);

    crash(pids[1]);
    expect_stopped(1, CRASH_REASON);
    again = expect_started(1); /* only the one that crashed */
    expect_quiet();
    ASSERT_NE(pids[1], again);
    ASSERT_EQ(pids[0], child_pid(sup, "c0"));
    ASSERT_EQ(again, child_pid(sup, "c1"));
    ASSERT_EQ(pids[2], child_pid(sup, "c2"));

    ASSERT_OK(hearth_supervisor_stop(sup, HEARTH_SHUTDOWN, 5000));
    ASSERT_OK(hearth_stop());
    return 0;
}

TEST_IMPL(sup_one_for_all)
{
    hearth_config_t cfg = cfg2();
    hearth_sup_flags_t flags = {HEARTH_ONE_FOR_ALL, 5, 10, NULL};
    hearth_child_spec_t specs[3];
    worker_cfg_t cfgs[3];
    hearth_pid_t sup, pids[3], now[3];

    ASSERT_OK(hearth_start(&cfg));
    worker_specs(specs, cfgs, 3);
    ASSERT_OK(hearth_supervisor_start(&flags, specs, 3, 0, &sup));
    for (int i = 0; i < 3; i++)
        pids[i] = expect_started(i);

    crash(pids[1]);
    expect_stopped(1, CRASH_REASON);
    /* the others stop in reverse start order, then all start in order */
    expect_stopped(2, HEARTH_SHUTDOWN);
    expect_stopped(0, HEARTH_SHUTDOWN);
    for (int i = 0; i < 3; i++)
        now[i] = expect_started(i);
    expect_quiet();
    for (int i = 0; i < 3; i++) {
        ASSERT_NE(pids[i], now[i]);
        ASSERT_EQ(now[i], child_pid(sup, ids[i]));
    }

    ASSERT_OK(hearth_supervisor_stop(sup, HEARTH_SHUTDOWN, 5000));
    ASSERT_OK(hearth_stop());
    return 0;
}

TEST_IMPL(sup_rest_for_one)
{
    hearth_config_t cfg = cfg2();
    hearth_sup_flags_t flags = {HEARTH_REST_FOR_ONE, 5, 10, NULL};
    hearth_child_spec_t specs[4];
    worker_cfg_t cfgs[4];
    hearth_pid_t sup, pids[4], now[4];

    ASSERT_OK(hearth_start(&cfg));
    worker_specs(specs, cfgs, 4);
    ASSERT_OK(hearth_supervisor_start(&flags, specs, 4, 0, &sup));
    for (int i = 0; i < 4; i++)
        pids[i] = expect_started(i);

    crash(pids[1]);
    expect_stopped(1, CRASH_REASON);
    /* the ones started after it stop (reverse order); it and they start again */
    expect_stopped(3, HEARTH_SHUTDOWN);
    expect_stopped(2, HEARTH_SHUTDOWN);
    for (int i = 1; i < 4; i++)
        now[i] = expect_started(i);
    expect_quiet();
    ASSERT_EQ(pids[0], child_pid(sup, "c0"));
    for (int i = 1; i < 4; i++) {
        ASSERT_NE(pids[i], now[i]);
        ASSERT_EQ(now[i], child_pid(sup, ids[i]));
    }

    /* The last child: nothing after it to stop. */
    crash(now[3]);
    expect_stopped(3, CRASH_REASON);
    now[3] = expect_started(3);
    expect_quiet();

    ASSERT_OK(hearth_supervisor_stop(sup, HEARTH_SHUTDOWN, 5000));
    ASSERT_OK(hearth_stop());
    return 0;
}

TEST_IMPL(sup_restart_types)
{
    hearth_config_t cfg = cfg2();
    hearth_sup_flags_t flags = {HEARTH_ONE_FOR_ONE, 10, 10, NULL};
    hearth_child_spec_t specs[3];
    worker_cfg_t cfgs[3];
    hearth_child_counts_t counts;
    hearth_pid_t sup, pids[3], pid;

    ASSERT_OK(hearth_start(&cfg));
    worker_specs(specs, cfgs, 3);
    specs[0].restart = HEARTH_TRANSIENT;
    specs[1].restart = HEARTH_TEMPORARY;
    specs[2].restart = HEARTH_TEMPORARY;
    ASSERT_OK(hearth_supervisor_start(&flags, specs, 3, 0, &sup));
    for (int i = 0; i < 3; i++)
        pids[i] = expect_started(i);

    /* transient: an abnormal exit is restarted... */
    crash(pids[0]);
    expect_stopped(0, CRASH_REASON);
    pid = expect_started(0);
    /* ...a normal one is not, but the spec stays */
    ASSERT_OK(hearth_send(pid, hearth_msg_int(T_NORMAL, 0)));
    expect_stopped(0, HEARTH_NORMAL);
    expect_quiet();
    ASSERT_EQ(HEARTH_PID_NONE, child_pid(sup, "c0"));
    /* ...as after an exit with reason shutdown */
    ASSERT_OK(hearth_supervisor_restart_child(sup, "c0", &pid));
    ASSERT_EQ(pid, expect_started(0));
    ASSERT_OK(hearth_exit_signal(pid, HEARTH_SHUTDOWN));
    expect_stopped(0, HEARTH_SHUTDOWN);
    expect_quiet();

    /* temporary: never restarted, and its spec goes, whatever the reason */
    crash(pids[1]);
    expect_stopped(1, CRASH_REASON);
    ASSERT_OK(hearth_send(pids[2], hearth_msg_int(T_NORMAL, 0)));
    expect_stopped(2, HEARTH_NORMAL);
    expect_quiet();
    ASSERT_OK(hearth_supervisor_count_children(sup, &counts));
    ASSERT_EQ(1, counts.specs);
    ASSERT_EQ(0, counts.active);
    ASSERT_EQ(HEARTH_ENOENT, hearth_supervisor_restart_child(sup, "c1", NULL));

    ASSERT_OK(hearth_supervisor_stop(sup, HEARTH_SHUTDOWN, 5000));
    ASSERT_OK(hearth_stop());
    return 0;
}

TEST_IMPL(sup_intensity_exceeded)
{
    hearth_config_t cfg = cfg2();
    hearth_sup_flags_t flags = {HEARTH_ONE_FOR_ONE, 2, 60, NULL};
    hearth_child_spec_t specs[3];
    worker_cfg_t cfgs[3];
    hearth_pid_t sup, pids[3];
    uint64_t mref;

    ASSERT_OK(hearth_start(&cfg));
    worker_specs(specs, cfgs, 3);
    ASSERT_OK(hearth_supervisor_start(&flags, specs, 3, 0, &sup));
    ASSERT_OK(hearth_monitor(sup, &mref));
    for (int i = 0; i < 3; i++)
        pids[i] = expect_started(i);

    /* intensity 2: two restarts within the period are fine... */
    for (int round = 0; round < 2; round++) {
        crash(pids[1]);
        expect_stopped(1, CRASH_REASON);
        pids[1] = expect_started(1);
    }
    ASSERT(hearth_is_alive(sup));
    /* ...the third is one too many: the others stop in reverse order, and the
     * supervisor exits with reason shutdown */
    crash(pids[1]);
    expect_stopped(1, CRASH_REASON);
    expect_stopped(2, HEARTH_SHUTDOWN);
    expect_stopped(0, HEARTH_SHUTDOWN);
    ASSERT_EQ(HEARTH_SHUTDOWN, expect_down(mref));
    expect_quiet();
    ASSERT_OK(hearth_stop());
    return 0;
}

TEST_IMPL(sup_intensity_period)
{
    hearth_config_t cfg = cfg2();
    hearth_sup_flags_t flags = {HEARTH_ONE_FOR_ONE, 1, 1, NULL};
    hearth_child_spec_t specs[1];
    worker_cfg_t cfgs[1];
    hearth_pid_t sup, pid;
    uint64_t mref;

    ASSERT_OK(hearth_start(&cfg));
    worker_specs(specs, cfgs, 1);
    ASSERT_OK(hearth_supervisor_start(&flags, specs, 1, 0, &sup));
    ASSERT_OK(hearth_monitor(sup, &mref));
    pid = expect_started(0);

    /* One restart per period is allowed: spaced out, restarts go on forever. */
    for (int round = 0; round < 3; round++) {
        crash(pid);
        expect_stopped(0, CRASH_REASON);
        pid = expect_started(0);
        hearth_sleep(1100);
    }
    ASSERT(hearth_is_alive(sup));
    /* Two within one period are too many. */
    crash(pid);
    expect_stopped(0, CRASH_REASON);
    pid = expect_started(0);
    crash(pid);
    expect_stopped(0, CRASH_REASON);
    ASSERT_EQ(HEARTH_SHUTDOWN, expect_down(mref));
    ASSERT_OK(hearth_stop());
    return 0;
}

/* A worker whose start functions succeed or fail by a script: the supervisor, the
 * only process that runs them, walks the script. */
typedef struct scripted {
    worker_cfg_t w;
    const char *script; /* one letter per start: 'y' starts, 'n' fails */
    size_t next;
} scripted_t;

static int start_scripted(void *arg, hearth_pid_t *out)
{
    scripted_t *s = arg;
    char what = s->script[s->next];

    if (what != '\0')
        s->next++;
    if (what != 'y')
        return HEARTH_EPIPE;
    return start_worker(&s->w, out);
}

TEST_IMPL(sup_restart_retry)
{
    hearth_config_t cfg = cfg2();
    hearth_sup_flags_t flags = {HEARTH_ONE_FOR_ONE, 3, 60, NULL};
    hearth_child_spec_t spec = {.id = "c0", .start = start_scripted};
    scripted_t script = {{0, HEARTH_PID_NONE}, "ynnyn", 0};
    hearth_pid_t sup, pid;
    uint64_t mref;

    ASSERT_OK(hearth_start(&cfg));
    script.w.observer = hearth_self();
    spec.arg = &script;
    ASSERT_OK(hearth_supervisor_start(&flags, &spec, 1, 0, &sup));
    ASSERT_OK(hearth_monitor(sup, &mref));
    pid = expect_started(0);

    /* A restart that fails to start the child is tried again (each try counts as a
     * restart) until one succeeds: two failures, then a start, is three restarts. */
    crash(pid);
    expect_stopped(0, CRASH_REASON);
    pid = expect_started(0);
    expect_quiet();
    ASSERT_EQ(pid, child_pid(sup, "c0"));
    ASSERT(hearth_is_alive(sup));

    /* The fourth restart within the period is one too many. */
    crash(pid);
    expect_stopped(0, CRASH_REASON);
    ASSERT_EQ(HEARTH_SHUTDOWN, expect_down(mref));
    expect_quiet();
    ASSERT_OK(hearth_stop());
    return 0;
}

/* ---- a three-level tree: top (one_for_one) -> mid (one_for_all) -> leaves -------- */

enum { W_INDEX = 10, MID_LEVEL = 2 };

typedef struct tree {
    hearth_pid_t observer;
    worker_cfg_t w, leaves[2];
    hearth_child_spec_t leaf_specs[2];
} tree_t;

static int start_mid(void *arg, hearth_pid_t *out)
{
    tree_t *t = arg;
    hearth_sup_flags_t flags = {HEARTH_ONE_FOR_ALL, 2, 60, NULL};

    hearth_send(t->observer, hearth_msg_int(T_SUP_STARTED, MID_LEVEL));
    return hearth_supervisor_start(&flags, t->leaf_specs, 2, HEARTH_SPAWN_LINK, out);
}

/* The mid supervisor's leaves, found through the top supervisor. */
static void leaves_of(hearth_pid_t top, hearth_pid_t leaves[2])
{
    hearth_pid_t mid = child_pid(top, "mid");

    ASSERT_NE(HEARTH_PID_NONE, mid);
    leaves[0] = child_pid(mid, "c0");
    leaves[1] = child_pid(mid, "c1");
}

/* Crashes the leaves three times (alternating) under one mid supervisor: the first
 * two crashes restart both leaves (one_for_all), the third exceeds the mid's
 * intensity (2), so it stops the other leaf and exits with reason shutdown. */
static void crash_leaves_until_mid_gives_up(hearth_pid_t top)
{
    hearth_pid_t leaves[2];

    for (int crashes = 0; crashes < 3; crashes++) {
        int victim = crashes % 2 == 0 ? 1 : 0;

        leaves_of(top, leaves);
        crash(leaves[victim]);
        expect_stopped(victim, CRASH_REASON);
        expect_stopped(1 - victim, HEARTH_SHUTDOWN);
        if (crashes < 2) {
            expect_started(0);
            expect_started(1);
        }
    }
}

TEST_IMPL(sup_escalation_three_levels)
{
    hearth_config_t cfg = cfg2();
    hearth_sup_flags_t top_flags = {HEARTH_ONE_FOR_ONE, 1, 60, NULL};
    hearth_child_spec_t top_specs[2];
    hearth_pid_t top, w, mid, mid2;
    uint64_t top_mref, mid_mref;
    size_t baseline;
    tree_t t;

    ASSERT_OK(hearth_start(&cfg));
    baseline = process_count();
    memset(&t, 0, sizeof(t));
    t.observer = hearth_self();
    t.w.index = W_INDEX;
    t.w.observer = t.observer;
    worker_specs(t.leaf_specs, t.leaves, 2);
    memset(top_specs, 0, sizeof(top_specs));
    top_specs[0].id = "w";
    top_specs[0].start = start_worker;
    top_specs[0].arg = &t.w;
    top_specs[1].id = "mid";
    top_specs[1].start = start_mid;
    top_specs[1].arg = &t;
    top_specs[1].type = HEARTH_SUPERVISOR;

    ASSERT_OK(hearth_supervisor_start(&top_flags, top_specs, 2, 0, &top));
    ASSERT_OK(hearth_monitor(top, &top_mref));
    w = expect_started(W_INDEX);
    expect_event(T_SUP_STARTED, MID_LEVEL);
    expect_started(0);
    expect_started(1);
    mid = child_pid(top, "mid");
    ASSERT_OK(hearth_monitor(mid, &mid_mref));

    /* Round 1: the mid supervisor gives up and escalates; the top one (one_for_one)
     * restarts it alone: the sibling worker keeps running. */
    crash_leaves_until_mid_gives_up(top);
    ASSERT_EQ(HEARTH_SHUTDOWN, expect_down(mid_mref));
    expect_event(T_SUP_STARTED, MID_LEVEL);
    expect_started(0);
    expect_started(1);
    expect_quiet();
    mid2 = child_pid(top, "mid");
    ASSERT_NE(mid, mid2);
    ASSERT_EQ(w, child_pid(top, "w"));
    ASSERT(hearth_is_alive(top));

    /* Round 2: the mid supervisor gives up again: a second restart within the top's
     * period exceeds its intensity (1), so the top stops the worker and exits with
     * reason shutdown too. */
    ASSERT_OK(hearth_monitor(mid2, &mid_mref));
    crash_leaves_until_mid_gives_up(top);
    ASSERT_EQ(HEARTH_SHUTDOWN, expect_down(mid_mref));
    expect_stopped(W_INDEX, HEARTH_SHUTDOWN);
    ASSERT_EQ(HEARTH_SHUTDOWN, expect_down(top_mref));
    expect_quiet();
    /* So, in all: the worker started once, the mid supervisor twice, each leaf
     * 2 x (1 + 2) = 6 times, exactly as read above; and the whole tree is gone. */
    for (int i = 0; i < 100 && hearth_process_count() > baseline; i++)
        hearth_sleep(10);
    ASSERT_EQ(baseline, hearth_process_count());
    ASSERT_OK(hearth_stop());
    return 0;
}

/* ---- shutdown ------------------------------------------------------------------ */

/* A green thread child that traps exits and ignores every message, exit signals
 * included: only a kill ends it. */
static void stubborn(void *arg)
{
    worker_cfg_t *w = arg;
    hearth_msg_t *m = hearth_msg_int(T_STARTED, w->index);

    m->ref = hearth_self();
    hearth_send(w->observer, m);
    for (;;) {
        if (hearth_receive(NULL, NULL, HEARTH_INFINITY, &m) == 0)
            hearth_msg_free(m);
    }
}

static int start_stubborn(void *arg, hearth_pid_t *out)
{
    return hearth_spawn_green(stubborn, arg, 0, HEARTH_SPAWN_LINK | HEARTH_SPAWN_TRAP_EXIT, out);
}

/* Like start_stubborn, but without the link: what a child that unlinks itself from
 * its supervisor (hearth_unlink) leaves behind. */
static int start_naughty(void *arg, hearth_pid_t *out)
{
    int err = start_stubborn(arg, out);

    if (err == 0)
        hearth_unlink(*out);
    return err;
}

TEST_IMPL(sup_shutdown_timeout_then_kill)
{
    hearth_config_t cfg = cfg2();
    hearth_child_spec_t specs[3];
    worker_cfg_t cfgs[3];
    hearth_pid_t sup, pids[3];
    uint64_t mrefs[3], t0, took;

    ASSERT_OK(hearth_start(&cfg));
    worker_specs(specs, cfgs, 3);
    specs[0].start = start_stubborn;
    specs[0].shutdown = 200;
    specs[1].start = start_naughty;
    specs[1].shutdown = 200;
    specs[2].start = start_stubborn;
    specs[2].shutdown = HEARTH_SHUTDOWN_BRUTAL_KILL;
    ASSERT_OK(hearth_supervisor_start(NULL, specs, 3, 0, &sup));
    /* Green threads run their first lines whenever a scheduler gets to them: their
     * reports may come in any order. */
    for (int k = 0; k < 3; k++) {
        hearth_msg_t *m;

        ASSERT_OK(hearth_receive(match_event, NULL, 5000, &m));
        ASSERT_EQ(T_STARTED, m->tag);
        ASSERT(m->value >= 0 && m->value < 3);
        pids[m->value] = (hearth_pid_t)m->ref;
        hearth_msg_free(m);
    }
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(pids[i], child_pid(sup, ids[i]));
        ASSERT_OK(hearth_monitor(pids[i], &mrefs[i]));
    }

    /* brutal_kill: killed at once, with no time to ignore a shutdown */
    t0 = hearth_now_ms();
    ASSERT_OK(hearth_supervisor_terminate_child(sup, "c2"));
    ASSERT_LT(hearth_now_ms() - t0, 150);
    ASSERT_EQ(HEARTH_KILLED, expect_down(mrefs[2]));

    /* It traps and ignores shutdown: killed once the timeout is over. */
    t0 = hearth_now_ms();
    ASSERT_OK(hearth_supervisor_terminate_child(sup, "c0"));
    took = hearth_now_ms() - t0;
    ASSERT_GE(took, 200);
    ASSERT_LT(took, 3000);
    ASSERT_EQ(HEARTH_KILLED, expect_down(mrefs[0]));

    /* Not linked to its supervisor: the supervisor's monitor still sees it go. */
    t0 = hearth_now_ms();
    ASSERT_OK(hearth_supervisor_terminate_child(sup, "c1"));
    took = hearth_now_ms() - t0;
    ASSERT_GE(took, 200);
    ASSERT_LT(took, 3000);
    ASSERT_EQ(HEARTH_KILLED, expect_down(mrefs[1]));
    expect_quiet(); /* and none of them was restarted */

    /* The specs stay, so the children can be started again. */
    ASSERT_OK(hearth_supervisor_restart_child(sup, "c2", &pids[2]));
    ASSERT_EQ(pids[2], expect_started(2));
    ASSERT_OK(hearth_monitor(pids[2], &mrefs[2]));
    ASSERT_OK(hearth_supervisor_stop(sup, HEARTH_SHUTDOWN, 5000));
    ASSERT_EQ(HEARTH_KILLED, expect_down(mrefs[2]));
    ASSERT_OK(hearth_stop());
    return 0;
}

/* A green thread that starts a supervisor linked to itself, reports its pid, and on
 * its first message exits with reason HEARTH_REASON_USER + 3. */
static void sup_parent(void *arg)
{
    hearth_child_spec_t *specs = arg;
    worker_cfg_t *w = specs[0].arg;
    hearth_pid_t sup;
    hearth_msg_t *m;

    if (hearth_supervisor_start(NULL, specs, 3, HEARTH_SPAWN_LINK, &sup) != 0)
        hearth_exit(HEARTH_CRASH);
    m = hearth_msg_int(T_SUP_STARTED, 1);
    m->ref = sup;
    hearth_send(w->observer, m);
    if (hearth_receive(NULL, NULL, HEARTH_INFINITY, &m) == 0)
        hearth_msg_free(m);
    hearth_exit(HEARTH_REASON_USER + 3);
}

TEST_IMPL(sup_parent_exit)
{
    hearth_config_t cfg = cfg2();
    hearth_child_spec_t specs[3];
    worker_cfg_t cfgs[3];
    hearth_pid_t parent, sup;
    uint64_t mref;

    ASSERT_OK(hearth_start(&cfg));
    worker_specs(specs, cfgs, 3);
    ASSERT_OK(hearth_spawn_green(sup_parent, specs, 0, 0, &parent));
    for (int i = 0; i < 3; i++)
        expect_started(i);
    sup = (hearth_pid_t)expect_event(T_SUP_STARTED, 1);
    ASSERT_OK(hearth_monitor(sup, &mref));

    /* The parent goes: the supervisor stops its children in reverse order, then
     * exits with the parent's reason. */
    ASSERT_OK(hearth_send(parent, hearth_msg_int(T_NORMAL, 0)));
    for (int i = 2; i >= 0; i--)
        expect_stopped(i, HEARTH_SHUTDOWN);
    ASSERT_EQ(HEARTH_REASON_USER + 3, expect_down(mref));
    ASSERT_OK(hearth_stop());
    return 0;
}

TEST_IMPL(sup_start_failure)
{
    hearth_config_t cfg = cfg2();
    hearth_child_spec_t specs[4];
    worker_cfg_t cfgs[4];
    hearth_pid_t sup = HEARTH_PID_NONE;
    size_t before;

    ASSERT_OK(hearth_start(&cfg));
    before = process_count();
    worker_specs(specs, cfgs, 4);
    specs[2].start = start_failing;
    /* The failing child's error comes back; those started are stopped in reverse. */
    ASSERT_EQ(HEARTH_EPIPE, hearth_supervisor_start(NULL, specs, 4, HEARTH_SPAWN_LINK, &sup));
    ASSERT_EQ(HEARTH_PID_NONE, sup);
    expect_started(0);
    expect_started(1);
    expect_stopped(1, HEARTH_SHUTDOWN);
    expect_stopped(0, HEARTH_SHUTDOWN);
    expect_quiet();
    ASSERT_EQ(before, hearth_process_count()); /* and the test thread was not hurt */

    /* Bad specs and flags are refused before anything starts. */
    specs[2].start = NULL;
    ASSERT_EQ(HEARTH_EINVAL, hearth_supervisor_start(NULL, specs, 4, 0, &sup));
    specs[2].start = start_worker;
    specs[2].id = "c1";
    ASSERT_EQ(HEARTH_EINVAL, hearth_supervisor_start(NULL, specs, 4, 0, &sup));
    {
        hearth_sup_flags_t simple = {HEARTH_SIMPLE_ONE_FOR_ONE, 1, 5, NULL};

        ASSERT_EQ(HEARTH_EINVAL, hearth_supervisor_start(&simple, specs, 2, 0, &sup));
    }
    expect_quiet();
    ASSERT_OK(hearth_stop());
    return 0;
}

TEST_IMPL(sup_static_child_api)
{
    hearth_config_t cfg = cfg2();
    hearth_sup_flags_t flags = {HEARTH_ONE_FOR_ONE, 5, 10, "sup_api"};
    hearth_child_spec_t specs[3];
    worker_cfg_t cfgs[3];
    hearth_child_counts_t counts;
    hearth_child_info_t info[4];
    hearth_pid_t sup, pid, again;
    size_t n;

    ASSERT_OK(hearth_start(&cfg));
    worker_specs(specs, cfgs, 3);
    ASSERT_OK(hearth_supervisor_start(&flags, specs, 1, 0, &sup));
    ASSERT_EQ(sup, hearth_whereis("sup_api"));
    expect_started(0);

    /* start_child adds at the end, runs it, and refuses a taken id. */
    ASSERT_OK(hearth_supervisor_start_child(sup, &specs[1], &pid));
    ASSERT_EQ(pid, expect_started(1));
    ASSERT_EQ(HEARTH_EEXIST, hearth_supervisor_start_child(sup, &specs[1], &again));
    ASSERT_EQ(pid, again);
    expect_quiet();

    /* terminate_child keeps the spec; restart_child runs it again. */
    ASSERT_OK(hearth_supervisor_terminate_child(sup, "c1"));
    expect_stopped(1, HEARTH_SHUTDOWN);
    ASSERT(!hearth_is_alive(pid));
    ASSERT_EQ(HEARTH_EEXIST, hearth_supervisor_start_child(sup, &specs[1], &again));
    ASSERT_EQ(HEARTH_PID_NONE, again);
    ASSERT_OK(hearth_supervisor_count_children(sup, &counts));
    ASSERT_EQ(2, counts.specs);
    ASSERT_EQ(1, counts.active);
    ASSERT_EQ(2, counts.workers);
    ASSERT_EQ(0, counts.supervisors);
    ASSERT_OK(hearth_supervisor_restart_child(sup, "c1", &again));
    ASSERT_EQ(again, expect_started(1));
    ASSERT_NE(pid, again);
    ASSERT_EQ(HEARTH_EBUSY, hearth_supervisor_restart_child(sup, "c1", NULL));
    ASSERT_EQ(HEARTH_EBUSY, hearth_supervisor_delete_child(sup, "c1"));

    /* delete_child drops a stopped child's spec. */
    ASSERT_OK(hearth_supervisor_terminate_child(sup, "c1"));
    expect_stopped(1, HEARTH_SHUTDOWN);
    ASSERT_OK(hearth_supervisor_delete_child(sup, "c1"));
    ASSERT_EQ(HEARTH_ENOENT, hearth_supervisor_restart_child(sup, "c1", NULL));
    ASSERT_EQ(HEARTH_ENOENT, hearth_supervisor_terminate_child(sup, "c1"));
    ASSERT_EQ(HEARTH_ENOENT, hearth_supervisor_delete_child(sup, "c1"));
    ASSERT_EQ(HEARTH_ENOTSUP, hearth_supervisor_start_dynamic(sup, NULL, NULL));

    /* A child whose start fails is not kept; one added later sorts after the rest. */
    specs[2].start = start_failing;
    ASSERT_EQ(HEARTH_EPIPE, hearth_supervisor_start_child(sup, &specs[2], &pid));
    specs[2].start = start_worker;
    ASSERT_OK(hearth_supervisor_start_child(sup, &specs[2], &pid));
    ASSERT_EQ(pid, expect_started(2));
    ASSERT_OK(hearth_supervisor_which_children(sup, info, 4, &n));
    ASSERT_EQ(2, n);
    ASSERT_STR_EQ("c2", info[0].id);
    ASSERT_STR_EQ("c0", info[1].id);

    ASSERT_OK(hearth_supervisor_stop(sup, HEARTH_SHUTDOWN, 5000));
    expect_stopped(2, HEARTH_SHUTDOWN);
    expect_stopped(0, HEARTH_SHUTDOWN);
    /* a gone supervisor: every call errors, none hangs */
    ASSERT_EQ(HEARTH_ESRCH, hearth_supervisor_count_children(sup, &counts));
    ASSERT_EQ(HEARTH_ESRCH, hearth_supervisor_start_child(sup, &specs[1], NULL));
    ASSERT_OK(hearth_stop());
    return 0;
}

TEST_IMPL(sup_dynamic_children)
{
    hearth_config_t cfg = cfg2();
    hearth_sup_flags_t flags = {HEARTH_SIMPLE_ONE_FOR_ONE, 10, 10, NULL};
    hearth_child_spec_t tmpl;
    worker_cfg_t cfgs[4];
    hearth_child_counts_t counts;
    hearth_child_info_t info[8];
    hearth_pid_t sup, pids[4], again;
    size_t n;

    ASSERT_OK(hearth_start(&cfg));
    worker_specs(&tmpl, cfgs, 1);
    tmpl.restart = HEARTH_TRANSIENT;
    for (int i = 0; i < 4; i++) {
        cfgs[i].index = i;
        cfgs[i].observer = hearth_self();
    }
    ASSERT_OK(hearth_supervisor_start(&flags, &tmpl, 1, 0, &sup));
    expect_quiet(); /* the template starts nothing */

    for (int i = 0; i < 4; i++) {
        ASSERT_OK(hearth_supervisor_start_dynamic(sup, &cfgs[i], &pids[i]));
        ASSERT_EQ(pids[i], expect_started(i));
    }
    ASSERT_OK(hearth_supervisor_count_children(sup, &counts));
    ASSERT_EQ(1, counts.specs);
    ASSERT_EQ(4, counts.active);
    ASSERT_EQ(4, counts.workers);
    ASSERT_OK(hearth_supervisor_which_children(sup, info, 8, &n));
    ASSERT_EQ(4, n);
    for (int i = 0; i < 4; i++) {
        int found = 0;

        for (size_t k = 0; k < n; k++)
            found += info[k].pid == pids[i] && info[k].id[0] == '\0';
        ASSERT_EQ(1, found);
    }

    /* terminate by pid; ids and the static API do not apply */
    ASSERT_OK(hearth_supervisor_terminate_dynamic(sup, pids[1]));
    expect_stopped(1, HEARTH_SHUTDOWN);
    ASSERT_EQ(HEARTH_ENOTSUP, hearth_supervisor_terminate_child(sup, "c0"));
    ASSERT_EQ(HEARTH_ENOTSUP, hearth_supervisor_start_child(sup, &tmpl, NULL));
    ASSERT_EQ(HEARTH_ENOTSUP, hearth_supervisor_restart_child(sup, "c0", NULL));
    ASSERT_EQ(HEARTH_ENOTSUP, hearth_supervisor_delete_child(sup, "c0"));
    ASSERT_EQ(HEARTH_ENOENT, hearth_supervisor_terminate_dynamic(sup, hearth_self()));
    ASSERT_OK(hearth_supervisor_terminate_dynamic(sup, pids[1])); /* dead: fine */

    /* a crash restarts that child with its own argument; a normal exit of a
     * transient one does not */
    crash(pids[0]);
    expect_stopped(0, CRASH_REASON);
    again = expect_started(0);
    ASSERT_NE(pids[0], again);
    ASSERT_OK(hearth_send(pids[2], hearth_msg_int(T_NORMAL, 0)));
    expect_stopped(2, HEARTH_NORMAL);
    expect_quiet();
    ASSERT_OK(hearth_supervisor_count_children(sup, &counts));
    ASSERT_EQ(2, counts.active);

    /* the supervisor stops the rest (in no particular order) */
    ASSERT_OK(hearth_supervisor_stop(sup, HEARTH_SHUTDOWN, 5000));
    {
        int seen[4] = {0};

        for (int k = 0; k < 2; k++) {
            hearth_msg_t *m;

            ASSERT_OK(hearth_receive(match_event, NULL, 5000, &m));
            ASSERT_EQ(T_STOPPED, m->tag);
            ASSERT_EQ(HEARTH_SHUTDOWN, (hearth_reason_t)m->ref);
            seen[m->value]++;
            hearth_msg_free(m);
        }
        ASSERT_EQ(1, seen[0]);
        ASSERT_EQ(1, seen[3]);
    }
    ASSERT(!hearth_is_alive(again));
    ASSERT(!hearth_is_alive(pids[3]));
    ASSERT_OK(hearth_stop());
    return 0;
}

TEST_IMPL(sup_dynamic_many)
{
    hearth_config_t cfg = cfg2();
    hearth_sup_flags_t flags = {HEARTH_SIMPLE_ONE_FOR_ONE, 1, 5, NULL};
    hearth_child_spec_t tmpl;
    worker_cfg_t w;
    hearth_child_counts_t counts;
    hearth_pid_t sup, *pids;
    size_t n = test_scaled(2000), baseline;
    uint64_t mref;

    ASSERT_OK(hearth_start(&cfg));
    baseline = process_count();
    worker_specs(&tmpl, &w, 1);
    tmpl.restart = HEARTH_TEMPORARY;
    w.observer = HEARTH_PID_NONE; /* reports go nowhere */
    ASSERT_OK(hearth_supervisor_start(&flags, &tmpl, 1, 0, &sup));
    ASSERT_OK(hearth_monitor(sup, &mref));
    pids = calloc(n, sizeof(*pids));
    ASSERT_NOT_NULL(pids);
    for (size_t i = 0; i < n; i++)
        ASSERT_OK(hearth_supervisor_start_dynamic(sup, &w, &pids[i]));
    /* every other one goes: by the API, or by itself (temporary: not restarted) */
    for (size_t i = 0; i < n; i += 2) {
        if (i % 4 == 0)
            ASSERT_OK(hearth_supervisor_terminate_dynamic(sup, pids[i]));
        else
            crash(pids[i]);
    }
    for (int tries = 0; tries < 500; tries++) {
        ASSERT_OK(hearth_supervisor_count_children(sup, &counts));
        if (counts.active == n / 2)
            break;
        hearth_sleep(10);
    }
    ASSERT_EQ(n / 2, counts.active);
    for (size_t i = 1; i < n; i += 2)
        ASSERT(hearth_is_alive(pids[i]));
    ASSERT_OK(hearth_supervisor_stop(sup, HEARTH_SHUTDOWN, 10000));
    ASSERT_EQ(HEARTH_SHUTDOWN, expect_down(mref));
    for (int i = 0; i < 200 && hearth_process_count() > baseline; i++)
        hearth_sleep(10);
    ASSERT_EQ(baseline, hearth_process_count());
    free(pids);
    ASSERT_OK(hearth_stop());
    return 0;
}

/* ---- a server under a supervisor ------------------------------------------------- */

/* A counter whose state is a state_size block: a fresh zero in each instance. */
static int counter_call(void *state, hearth_msg_t *req, const hearth_server_from_t *from,
                        hearth_msg_t **reply)
{
    int64_t *n = state;

    (void)from;
    if (req->tag == T_CRASH)
        return CRASH_REASON;
    ++*n;
    *reply = hearth_msg_copy(0, n, sizeof(*n));
    return 0;
}

static const hearth_server_cbs_t counter_cbs = {
    .state_size = sizeof(int64_t),
    .handle_call = counter_call,
};

static int64_t next_count(hearth_pid_t pid)
{
    hearth_msg_t *r;
    int64_t n;

    ASSERT_OK(hearth_server_call(pid, hearth_msg_new(T_GET, 0), 5000, &r));
    ASSERT_EQ(sizeof(n), r->len);
    memcpy(&n, r->data, sizeof(n));
    hearth_msg_free(r);
    return n;
}

TEST_IMPL(sup_server_child)
{
    hearth_config_t cfg = cfg2();
    hearth_server_child_t server = {&counter_cbs, NULL, HEARTH_SPAWN_TRAP_EXIT, "counter"};
    hearth_child_spec_t spec = {
        .id = "counter", .start = hearth_server_child_start, .arg = &server};
    hearth_pid_t sup, pid, again = HEARTH_PID_NONE;
    hearth_msg_t *r = NULL;

    ASSERT_OK(hearth_start(&cfg));
    ASSERT_OK(hearth_supervisor_start(NULL, &spec, 1, 0, &sup));
    pid = child_pid(sup, "counter");
    ASSERT_EQ(pid, hearth_whereis("counter"));
    ASSERT_EQ(1, next_count(pid));
    ASSERT_EQ(2, next_count(pid));

    /* It crashes in a call: the caller gets an error; the supervisor starts a fresh
     * one, and the name leads to it. */
    ASSERT_EQ(HEARTH_ESRCH, hearth_server_call(pid, hearth_msg_new(T_CRASH, 0), 5000, &r));
    for (int i = 0; i < 500; i++) {
        again = hearth_whereis("counter");
        if (again != pid && again != HEARTH_PID_NONE)
            break;
        hearth_sleep(10);
    }
    ASSERT_NE(pid, again);
    ASSERT_EQ(again, child_pid(sup, "counter"));
    ASSERT_EQ(1, next_count(again));

    /* A second server under the same name cannot start. */
    spec.id = "counter2";
    ASSERT_EQ(HEARTH_EEXIST, hearth_supervisor_start_child(sup, &spec, NULL));

    ASSERT_OK(hearth_supervisor_stop(sup, HEARTH_SHUTDOWN, 5000));
    ASSERT(!hearth_is_alive(again));
    ASSERT_EQ(HEARTH_PID_NONE, hearth_whereis("counter"));
    ASSERT_OK(hearth_stop());
    return 0;
}
