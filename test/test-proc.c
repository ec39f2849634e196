/* Tests of the runtime core: mailboxes, processes and their memory, the scheduler,
 * signals (links, monitors, exits), names, introspection and fault injection.
 *
 * The test's own thread is an attached process: it sends, receives and monitors like
 * any other process, which is how most of these tests observe the runtime. */
#include "task.h"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

enum { T_PING = 1, T_PONG, T_GO, T_DONE, T_COUNT, T_CRASH, T_STOP, T_FLOOD, T_REPORT };

static hearth_config_t cfg_with(int schedulers)
{
    hearth_config_t cfg = {0};
    cfg.schedulers = schedulers;
    cfg.fault_seed = 42;
    return cfg;
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

static hearth_msg_t *recv_tag(uint32_t tag, int64_t timeout)
{
    hearth_msg_t *m = NULL;
    if (hearth_receive_ref(tag, 0, timeout, &m) != 0)
        return NULL;
    return m;
}

static bool match_tag(const hearth_msg_t *m, void *arg)
{
    return m->tag == *(uint32_t *)arg;
}

static hearth_msg_t *recv_any_ref(uint32_t tag, int64_t timeout)
{
    hearth_msg_t *m = NULL;
    if (hearth_receive(match_tag, &tag, timeout, &m) != 0)
        return NULL;
    return m;
}

/* ---- an echo actor: replies to T_PING with T_PONG carrying the same value ------------- */

static int echo_handle(void *state, hearth_msg_t *m)
{
    (void)state;
    if (m->tag == T_PING) {
        hearth_msg_t *r = hearth_msg_int(T_PONG, m->value);
        hearth_send(m->from, r);
        return 0;
    }
    if (m->tag == T_CRASH)
        return -(int)m->value;
    if (m->tag == T_STOP)
        return HEARTH_STOP;
    return 0;
}

static const hearth_actor_t echo_actor = {"echo", NULL, echo_handle, NULL};

TEST_IMPL(mailbox_fifo_order)
{
    hearth_config_t cfg = cfg_with(2);
    hearth_msg_t *m;
    int i;

    ASSERT_OK(hearth_start(&cfg));
    for (i = 0; i < 1000; i++)
        ASSERT_OK(hearth_send(hearth_self(), hearth_msg_int(T_COUNT, i)));
    for (i = 0; i < 1000; i++) {
        ASSERT_OK(hearth_receive(NULL, NULL, 1000, &m));
        ASSERT_EQ(i, m->value);
        hearth_msg_free(m);
    }
    ASSERT_EQ(HEARTH_ETIMEDOUT, hearth_receive(NULL, NULL, 0, &m));
    ASSERT_OK(hearth_stop());
    return 0;
}

/* Several OS threads send to one process at once: nothing is lost and each sender's
 * messages arrive in the order it sent them. */
struct producer {
    hearth_pid_t to;
    int id, count;
};

static void *producer_main(void *arg)
{
    struct producer *p = arg;
    int i;
    for (i = 0; i < p->count; i++) {
        hearth_msg_t *m = hearth_msg_int(T_COUNT, ((int64_t)p->id << 32) | i);
        if (hearth_send(p->to, m) != 0)
            abort();
    }
    return NULL;
}

TEST_IMPL(mailbox_mpsc_many_producers)
{
    hearth_config_t cfg = cfg_with(2);
    enum { PRODUCERS = 4 };
    int count = (int)test_scaled(100000);
    pthread_t th[PRODUCERS];
    struct producer pr[PRODUCERS];
    int64_t next[PRODUCERS] = {0};
    hearth_msg_t *m;
    int i, total = 0;

    ASSERT_OK(hearth_start(&cfg));
    for (i = 0; i < PRODUCERS; i++) {
        pr[i].to = hearth_self();
        pr[i].id = i;
        pr[i].count = count;
        ASSERT_OK(pthread_create(&th[i], NULL, producer_main, &pr[i]));
    }
    while (total < PRODUCERS * count) {
        ASSERT_OK(hearth_receive(NULL, NULL, 5000, &m));
        int id = (int)(m->value >> 32);
        int seq = (int)(m->value & 0xffffffff);
        ASSERT_EQ(next[id], seq);
        next[id]++;
        total++;
        hearth_msg_free(m);
    }
    for (i = 0; i < PRODUCERS; i++)
        pthread_join(th[i], NULL);
    ASSERT_OK(hearth_stop());
    return 0;
}

TEST_IMPL(proc_spawn_call_and_exit)
{
    hearth_config_t cfg = cfg_with(2);
    hearth_pid_t pid;
    hearth_msg_t *m;
    hearth_reason_t reason;
    uint64_t ref;

    ASSERT_OK(hearth_start(&cfg));
    ASSERT_OK(hearth_spawn(&echo_actor, NULL, 0, &pid));
    ASSERT(hearth_is_alive(pid));
    ASSERT_OK(hearth_send(pid, hearth_msg_int(T_PING, 7)));
    m = recv_tag(T_PONG, 2000);
    ASSERT_NOT_NULL(m);
    ASSERT_EQ(7, m->value);
    ASSERT_EQ(pid, m->from);
    hearth_msg_free(m);
    ASSERT_OK(hearth_monitor(pid, &ref));
    ASSERT_OK(hearth_send(pid, hearth_msg_int(T_STOP, 0)));
    ASSERT_OK(hearth_receive_ref(HEARTH_MSG_DOWN, ref, 2000, &m));
    ASSERT_EQ(HEARTH_NORMAL, m->value);
    hearth_msg_free(m);
    /* Waiting on a process that is gone already reports noproc at once. */
    ASSERT_OK(hearth_wait(pid, 2000, &reason));
    ASSERT_EQ(HEARTH_NOPROC, reason);
    ASSERT(!hearth_is_alive(pid));
    ASSERT_OK(hearth_stop());
    return 0;
}

/* A pid carries a generation: once its process is gone, a send to it is dropped and
 * never reaches a later process that reuses the slot. */
/* Reports every message it gets to the process whose pid its state points at. */
static int count_handle(void *state, hearth_msg_t *m)
{
    hearth_send(*(hearth_pid_t *)state, hearth_msg_int(T_COUNT, m->value));
    return 0;
}

static const hearth_actor_t counter_actor = {"counter", NULL, count_handle, NULL};

/* Spawns a counter on request and replies with its pid: spawning from the scheduler
 * thread reuses the slots that thread freed. */
static int spawner_handle(void *state, hearth_msg_t *m)
{
    hearth_pid_t pid = 0;
    if (m->tag == T_GO)
        hearth_spawn(&counter_actor, state, 0, &pid);
    else if (m->tag == T_STOP)
        hearth_exit_signal((hearth_pid_t)m->value, HEARTH_KILL);
    hearth_send(m->from, hearth_msg_int(T_DONE, (int64_t)pid));
    return 0;
}

static const hearth_actor_t spawner_actor = {"spawner", NULL, spawner_handle, NULL};

static hearth_pid_t ask(hearth_pid_t spawner, uint32_t tag, int64_t value)
{
    hearth_msg_t *m;
    hearth_pid_t pid;
    hearth_send(spawner, hearth_msg_int(tag, value));
    m = recv_tag(T_DONE, 2000);
    if (m == NULL)
        return 0;
    pid = (hearth_pid_t)m->value;
    hearth_msg_free(m);
    return pid;
}

TEST_IMPL(proc_stale_pid_dropped)
{
    hearth_config_t cfg = cfg_with(1);
    hearth_pid_t spawner, old, fresh = 0, self;
    hearth_stats_t before, after;
    hearth_msg_t *m;
    int i;

    ASSERT_OK(hearth_start(&cfg));
    self = hearth_self();
    ASSERT_OK(hearth_spawn(&spawner_actor, &self, 0, &spawner));
    old = ask(spawner, T_GO, 0);
    ASSERT_NE(0, old);
    ask(spawner, T_STOP, (int64_t)old);
    while (hearth_is_alive(old))
        hearth_sleep(1);
    /* Spawn until a process lands in the old slot. */
    for (i = 0; i < 10000; i++) {
        hearth_sleep(1); /* lets the epoch free the old struct and its slot */
        fresh = ask(spawner, T_GO, 0);
        if ((uint32_t)fresh == (uint32_t)old)
            break;
    }
    ASSERT_EQ((uint32_t)old, (uint32_t)fresh);
    ASSERT_NE(old, fresh);
    hearth_stats(&before);
    ASSERT_EQ(HEARTH_ESRCH, hearth_send(old, hearth_msg_int(T_PING, 1)));
    hearth_stats(&after);
    ASSERT_EQ(before.dropped + 1, after.dropped);
    ASSERT_GE(after.sent, before.sent + 1);
    ASSERT_EQ(after.sent - after.dropped, after.delivered);
    /* The fresh process got nothing: one message to it now is the only one it sees. */
    ASSERT_OK(hearth_send(fresh, hearth_msg_int(T_PING, 2)));
    m = recv_tag(T_COUNT, 2000);
    ASSERT_NOT_NULL(m);
    ASSERT_EQ(2, m->value);
    hearth_msg_free(m);
    ASSERT_NULL(recv_tag(T_COUNT, 50));
    ASSERT_OK(hearth_stop());
    return 0;
}

/* One million event processes: spawned, each sent one message that makes it exit, all
 * gone and their memory returned. */
static int exit_on_message(void *state, hearth_msg_t *m)
{
    (void)state;
    (void)m;
    return HEARTH_STOP;
}

static const hearth_actor_t one_shot_actor = {"one_shot", NULL, exit_on_message, NULL};

TEST_IMPL(proc_million_spawn_message_exit)
{
    hearth_config_t cfg = cfg_with(2);
    size_t n = test_scaled(1000000), i;
    hearth_pid_t *pids = malloc(n * sizeof(*pids));
    hearth_stats_t st;
    long rss0, rss1;
    uint64_t t0;
    size_t base;

    ASSERT_NOT_NULL(pids);
    ASSERT_OK(hearth_start(&cfg));
    (void)hearth_self(); /* the test thread gets its own process now, not mid-count */
    base = hearth_process_count();
    rss0 = rss_bytes();
    t0 = hearth_now_ms();
    for (i = 0; i < n; i++)
        ASSERT_OK(hearth_spawn(&one_shot_actor, NULL, 0, &pids[i]));
    rss1 = rss_bytes();
    ASSERT_EQ(base + n, hearth_process_count());
    hearth_stats(&st);
    fprintf(stderr, "spawned %zu in %llu ms, %ld bytes RSS and %zu bytes of process structs each\n",
            n, (unsigned long long)(hearth_now_ms() - t0), (rss1 - rss0) / (long)n,
            st.proc_bytes / n);
    ASSERT_LE(st.proc_bytes / n, 512);
    for (i = 0; i < n; i++)
        ASSERT_OK(hearth_send(pids[i], hearth_msg_int(T_GO, 0)));
    t0 = hearth_now_ms();
    while (hearth_process_count() > base && hearth_now_ms() - t0 < 30000)
        usleep(1000);
    ASSERT_EQ(base, hearth_process_count());
    /* Every struct is handed back once the epoch lets go of it. */
    t0 = hearth_now_ms();
    do {
        hearth_stats(&st);
        if (st.proc_bytes <= 2 * 1024) /* the test thread's own process may remain */
            break;
        usleep(1000);
    } while (hearth_now_ms() - t0 < 5000);
    ASSERT_LE(st.proc_bytes, 2 * 1024);
    /* And the memory goes back to the system, not just to malloc (an idle scheduler
     * trims after a mass exit). Sanitizers keep freed memory in quarantine. */
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
    t0 = hearth_now_ms();
    while (rss_bytes() - rss0 > (rss1 - rss0) / 2 && hearth_now_ms() - t0 < 5000)
        usleep(10000);
    fprintf(stderr, "RSS after exit: %ld bytes above the start (%ld at the peak)\n",
            rss_bytes() - rss0, rss1 - rss0);
    ASSERT_LT(rss_bytes() - rss0, (rss1 - rss0) / 2);
#endif
    for (i = 0; i < n; i += n / 100 + 1)
        ASSERT(!hearth_is_alive(pids[i]));
    free(pids);
    ASSERT_OK(hearth_stop());
    return 0;
}

static int fail_init(void **state, void *arg)
{
    (void)state;
    (void)arg;
    return HEARTH_EINVAL;
}

static const hearth_actor_t failing_actor = {"failing", fail_init, echo_handle, NULL};

TEST_IMPL(proc_init_failure_leaves_nothing)
{
    hearth_config_t cfg = cfg_with(1);
    hearth_pid_t pid = 0;
    size_t before;

    ASSERT_OK(hearth_start(&cfg));
    before = hearth_process_count();
    ASSERT_EQ(HEARTH_EINVAL, hearth_spawn(&failing_actor, NULL, 0, &pid));
    ASSERT_EQ(before, hearth_process_count());
    ASSERT_OK(hearth_stop());
    return 0;
}

/* ---- signals -------------------------------------------------------------------- */

TEST_IMPL(signal_monitor_reports_reason)
{
    hearth_config_t cfg = cfg_with(2);
    hearth_pid_t pid;
    hearth_msg_t *m;
    uint64_t ref;

    ASSERT_OK(hearth_start(&cfg));
    ASSERT_OK(hearth_spawn(&echo_actor, NULL, 0, &pid));
    ASSERT_OK(hearth_monitor(pid, &ref));
    ASSERT_OK(hearth_send(pid, hearth_msg_int(T_CRASH, 300)));
    ASSERT_OK(hearth_receive_ref(HEARTH_MSG_DOWN, ref, 2000, &m));
    ASSERT_EQ(pid, m->from);
    ASSERT_EQ(-300, m->value);
    hearth_msg_free(m);
    /* A monitor of a dead process gets DOWN noproc at once. */
    ASSERT_OK(hearth_monitor(pid, &ref));
    ASSERT_OK(hearth_receive_ref(HEARTH_MSG_DOWN, ref, 2000, &m));
    ASSERT_EQ(HEARTH_NOPROC, m->value);
    hearth_msg_free(m);
    ASSERT_OK(hearth_stop());
    return 0;
}

TEST_IMPL(signal_demonitor_no_down)
{
    hearth_config_t cfg = cfg_with(2);
    hearth_pid_t pid;
    hearth_msg_t *m;
    uint64_t ref;

    ASSERT_OK(hearth_start(&cfg));
    ASSERT_OK(hearth_spawn(&echo_actor, NULL, 0, &pid));
    ASSERT_OK(hearth_monitor(pid, &ref));
    ASSERT_OK(hearth_demonitor(ref, true));
    ASSERT_OK(hearth_send(pid, hearth_msg_int(T_CRASH, 1)));
    ASSERT_EQ(HEARTH_ETIMEDOUT, hearth_receive_ref(HEARTH_MSG_DOWN, ref, 200, &m));
    ASSERT_OK(hearth_stop());
    return 0;
}

/* A linker that reports what happened to it: it traps exits or not, as told. */
struct linker {
    hearth_pid_t report_to;
    hearth_pid_t partner;
    bool trap;
};

static int linker_init(void **state, void *arg)
{
    struct linker *l = arg;
    *state = arg;
    hearth_trap_exit(l->trap);
    return hearth_link(l->partner);
}

static int linker_handle(void *state, hearth_msg_t *m)
{
    struct linker *l = state;
    if (m->tag == HEARTH_MSG_EXIT) {
        hearth_msg_t *r = hearth_msg_int(T_REPORT, m->value);
        r->ref = m->from;
        hearth_send(l->report_to, r);
    }
    return 0;
}

static const hearth_actor_t linker_actor = {"linker", linker_init, linker_handle, NULL};

TEST_IMPL(signal_link_semantics)
{
    hearth_config_t cfg = cfg_with(2);
    hearth_pid_t a, b, c;
    struct linker lb, lc;
    hearth_msg_t *m;
    uint64_t mon_b, mon_c;

    ASSERT_OK(hearth_start(&cfg));
    /* A normal exit does not kill a linked process. */
    ASSERT_OK(hearth_spawn(&echo_actor, NULL, 0, &a));
    lb = (struct linker){hearth_self(), a, false};
    ASSERT_OK(hearth_spawn(&linker_actor, &lb, 0, &b));
    ASSERT_OK(hearth_monitor(b, &mon_b));
    ASSERT_OK(hearth_send(a, hearth_msg_int(T_STOP, 0)));
    ASSERT_EQ(HEARTH_ETIMEDOUT, hearth_receive_ref(HEARTH_MSG_DOWN, mon_b, 200, &m));
    ASSERT(hearth_is_alive(b));

    /* An abnormal exit kills a non-trapping linked process with the same reason... */
    ASSERT_OK(hearth_spawn(&echo_actor, NULL, 0, &a));
    lb = (struct linker){hearth_self(), a, false};
    lc = (struct linker){hearth_self(), a, true};
    ASSERT_OK(hearth_spawn(&linker_actor, &lb, 0, &b));
    ASSERT_OK(hearth_spawn(&linker_actor, &lc, 0, &c));
    ASSERT_OK(hearth_monitor(b, &mon_b));
    ASSERT_OK(hearth_monitor(c, &mon_c));
    ASSERT_OK(hearth_send(a, hearth_msg_int(T_CRASH, 500)));
    ASSERT_OK(hearth_receive_ref(HEARTH_MSG_DOWN, mon_b, 2000, &m));
    ASSERT_EQ(-500, m->value);
    hearth_msg_free(m);
    /* ...and reaches a trapping one as a message, leaving it alive. */
    m = recv_any_ref(T_REPORT, 2000);
    ASSERT_NOT_NULL(m);
    ASSERT_EQ(-500, m->value);
    ASSERT_EQ(a, m->ref);
    hearth_msg_free(m);
    ASSERT(hearth_is_alive(c));

    /* kill cannot be trapped: the trapping process dies with reason killed. */
    ASSERT_OK(hearth_exit_signal(c, HEARTH_KILL));
    ASSERT_OK(hearth_receive_ref(HEARTH_MSG_DOWN, mon_c, 2000, &m));
    ASSERT_EQ(HEARTH_KILLED, m->value);
    hearth_msg_free(m);
    ASSERT_OK(hearth_stop());
    return 0;
}

TEST_IMPL(signal_exit_signal_trapped_and_not)
{
    hearth_config_t cfg = cfg_with(1);
    hearth_pid_t a, t;
    struct linker lt;
    hearth_msg_t *m;
    uint64_t ref;

    ASSERT_OK(hearth_start(&cfg));
    ASSERT_OK(hearth_spawn(&echo_actor, NULL, 0, &a));
    lt = (struct linker){hearth_self(), a, true};
    ASSERT_OK(hearth_spawn(&linker_actor, &lt, 0, &t));
    /* exit(Pid, normal) is ignored by a non-trapping process. */
    ASSERT_OK(hearth_monitor(a, &ref));
    ASSERT_OK(hearth_exit_signal(a, HEARTH_NORMAL));
    ASSERT_EQ(HEARTH_ETIMEDOUT, hearth_receive_ref(HEARTH_MSG_DOWN, ref, 100, &m));
    /* exit(Pid, shutdown) kills it; a trapping one gets it as a message. */
    ASSERT_OK(hearth_exit_signal(t, HEARTH_SHUTDOWN));
    m = recv_any_ref(T_REPORT, 2000);
    ASSERT_NOT_NULL(m);
    ASSERT_EQ(HEARTH_SHUTDOWN, m->value);
    hearth_msg_free(m);
    ASSERT_OK(hearth_exit_signal(a, HEARTH_SHUTDOWN));
    ASSERT_OK(hearth_receive_ref(HEARTH_MSG_DOWN, ref, 2000, &m));
    ASSERT_EQ(HEARTH_SHUTDOWN, m->value);
    hearth_msg_free(m);
    ASSERT_OK(hearth_stop());
    return 0;
}

TEST_IMPL(signal_spawn_link_and_trap)
{
    hearth_config_t cfg = cfg_with(2);
    hearth_pid_t child;
    hearth_msg_t *m;

    ASSERT_OK(hearth_start(&cfg));
    hearth_trap_exit(true);
    ASSERT_OK(hearth_spawn(&echo_actor, NULL, HEARTH_SPAWN_LINK, &child));
    ASSERT_OK(hearth_send(child, hearth_msg_int(T_CRASH, 9)));
    m = recv_any_ref(HEARTH_MSG_EXIT, 2000);
    ASSERT_NOT_NULL(m);
    ASSERT_EQ(child, m->from);
    ASSERT_EQ(-9, m->value);
    hearth_msg_free(m);
    ASSERT_OK(hearth_stop());
    return 0;
}

/* ---- names ---------------------------------------------------------------------- */

TEST_IMPL(registry_register_whereis_free_on_exit)
{
    hearth_config_t cfg = cfg_with(2);
    hearth_pid_t a, b;
    hearth_msg_t *m;

    ASSERT_OK(hearth_start(&cfg));
    ASSERT_OK(hearth_spawn(&echo_actor, NULL, 0, &a));
    ASSERT_OK(hearth_spawn(&echo_actor, NULL, 0, &b));
    ASSERT_OK(hearth_register("echo", a));
    ASSERT_EQ(a, hearth_whereis("echo"));
    ASSERT_EQ(HEARTH_EEXIST, hearth_register("echo", b));
    ASSERT_EQ(HEARTH_EEXIST, hearth_register("other", a));
    ASSERT_OK(hearth_send_named("echo", hearth_msg_int(T_PING, 3)));
    m = recv_tag(T_PONG, 2000);
    ASSERT_NOT_NULL(m);
    ASSERT_EQ(a, m->from);
    hearth_msg_free(m);
    ASSERT_OK(hearth_send(a, hearth_msg_int(T_STOP, 0)));
    ASSERT_OK(hearth_wait(a, 2000, NULL));
    ASSERT_EQ(HEARTH_PID_NONE, hearth_whereis("echo"));
    ASSERT_EQ(HEARTH_ENOENT, hearth_send_named("echo", hearth_msg_int(T_PING, 3)));
    ASSERT_OK(hearth_register("echo", b));
    ASSERT_OK(hearth_unregister("echo"));
    ASSERT_EQ(HEARTH_PID_NONE, hearth_whereis("echo"));
    ASSERT_EQ(HEARTH_ESRCH, hearth_register("dead", a));
    ASSERT_OK(hearth_stop());
    return 0;
}

/* ---- the scheduler --------------------------------------------------------------- */

/* A process that keeps sending itself messages must not starve another one: the
 * budget per turn hands the scheduler back. */
static int flood_handle(void *state, hearth_msg_t *m)
{
    uint64_t *handled = state;
    ++*handled;
    if (m->tag == T_FLOOD && m->value > 0)
        hearth_send(hearth_self(), hearth_msg_int(T_FLOOD, m->value - 1));
    if (m->tag == T_REPORT)
        hearth_send(m->from, hearth_msg_int(T_REPORT, (int64_t)*handled));
    return 0;
}

static const hearth_actor_t flood_actor = {"flood", NULL, flood_handle, NULL};

TEST_IMPL(sched_fairness_budget)
{
    hearth_config_t cfg = cfg_with(1);
    hearth_pid_t flood, echo;
    uint64_t *handled = calloc(1, sizeof(*handled)); /* the flood process's own state */
    hearth_msg_t *m;
    int i;

    ASSERT_OK(hearth_start(&cfg));
    ASSERT_OK(hearth_spawn(&flood_actor, handled, 0, &flood));
    ASSERT_OK(hearth_spawn(&echo_actor, NULL, 0, &echo));
    /* 50 self-perpetuating chains, a billion messages between them: it never ends. */
    for (i = 0; i < 50; i++)
        ASSERT_OK(hearth_send(flood, hearth_msg_int(T_FLOOD, 1000000000)));
    hearth_sleep(20);
    for (i = 0; i < 20; i++) {
        ASSERT_OK(hearth_send(echo, hearth_msg_int(T_PING, i)));
        m = recv_tag(T_PONG, 1000);
        ASSERT_NOT_NULL(m);
        hearth_msg_free(m);
    }
    /* And the flood kept going meanwhile. */
    ASSERT_OK(hearth_send(flood, hearth_msg_int(T_REPORT, 0)));
    m = recv_any_ref(T_REPORT, 1000);
    ASSERT_NOT_NULL(m);
    ASSERT_GT(m->value, 1000);
    hearth_msg_free(m);
    hearth_exit_signal(flood, HEARTH_KILL);
    ASSERT_OK(hearth_stop());
    free(handled);
    return 0;
}

/* Busy processes spread over both schedulers by stealing. */
struct spin_report {
    hearth_pid_t to;
};

static int spin_handle(void *state, hearth_msg_t *m)
{
    struct spin_report *r = state;
    uint64_t t0 = hearth_now_ms();
    (void)m;
    while (hearth_now_ms() - t0 < 10)
        ; /* busy: 10 ms of CPU */
    hearth_send(r->to, hearth_msg_int(T_DONE, (int64_t)pthread_self()));
    return HEARTH_STOP;
}

static const hearth_actor_t spin_actor = {"spin", NULL, spin_handle, NULL};

/* Spawns and wakes n spinners from inside a handler: they all queue on its scheduler. */
static int starter_handle(void *state, hearth_msg_t *m)
{
    hearth_pid_t pid;
    int i;
    for (i = 0; i < m->value; i++) {
        if (hearth_spawn(&spin_actor, state, 0, &pid) != 0)
            return HEARTH_CRASH;
        hearth_send(pid, hearth_msg_int(T_GO, 0));
    }
    return HEARTH_STOP;
}

static const hearth_actor_t starter_actor = {"starter", NULL, starter_handle, NULL};

TEST_IMPL(sched_work_stealing)
{
    hearth_config_t cfg = cfg_with(2);
    struct spin_report rep;
    hearth_pid_t pid;
    hearth_msg_t *m;
    hearth_stats_t st;
    int64_t first = 0;
    bool two_threads = false;
    int i, n = 64;

    ASSERT_OK(hearth_start(&cfg));
    rep.to = hearth_self();
    ASSERT_OK(hearth_spawn(&starter_actor, &rep, 0, &pid));
    ASSERT_OK(hearth_send(pid, hearth_msg_int(T_GO, n)));
    for (i = 0; i < n; i++) {
        m = recv_tag(T_DONE, 20000);
        ASSERT_NOT_NULL(m);
        if (i == 0)
            first = m->value;
        else if (m->value != first)
            two_threads = true;
        hearth_msg_free(m);
    }
    hearth_stats(&st);
    ASSERT(two_threads);
    ASSERT_GT(st.steals, 0);
    fprintf(stderr, "steals=%llu wakeups=%llu\n", (unsigned long long)st.steals,
            (unsigned long long)st.wakeups);
    ASSERT_OK(hearth_stop());
    return 0;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

TEST_IMPL(sched_idle_uses_no_cpu)
{
    hearth_config_t cfg = cfg_with(2);
    hearth_pid_t pid;
    double c0, c1;
    int i;

    ASSERT_OK(hearth_start(&cfg));
    for (i = 0; i < 1000; i++)
        ASSERT_OK(hearth_spawn(&echo_actor, NULL, 0, &pid));
    hearth_sleep(50);
    c0 = cpu_seconds();
    usleep(500000);
    c1 = cpu_seconds();
    fprintf(stderr, "idle runtime: %.1f ms CPU in 500 ms\n", (c1 - c0) * 1000);
    ASSERT_LT((c1 - c0) * 1000, 25);
    ASSERT_OK(hearth_stop());
    return 0;
}

/* A ring of processes passing a token: every hop is a message through a mailbox. */
struct ring_node {
    hearth_pid_t next;
    hearth_pid_t report;
};

static int ring_handle(void *state, hearth_msg_t *m)
{
    struct ring_node *n = state;
    if (m->value == 0) {
        hearth_send(n->report, hearth_msg_int(T_DONE, 0));
        return 0;
    }
    m->value--;
    hearth_send(n->next, m); /* forwards the message itself: no allocation */
    return 0;
}

static const hearth_actor_t ring_actor = {"ring", NULL, ring_handle, NULL};

TEST_IMPL(sched_ring_token)
{
    hearth_config_t cfg = cfg_with(2);
    enum { N = 1000 };
    static struct ring_node nodes[N];
    hearth_pid_t pids[N];
    int hops = (int)test_scaled(1000000);
    hearth_msg_t *m;
    uint64_t t0;
    int i;

    ASSERT_OK(hearth_start(&cfg));
    for (i = 0; i < N; i++) {
        nodes[i].report = hearth_self();
        ASSERT_OK(hearth_spawn(&ring_actor, &nodes[i], 0, &pids[i]));
    }
    for (i = 0; i < N; i++)
        nodes[i].next = pids[(i + 1) % N];
    t0 = hearth_now_ms();
    ASSERT_OK(hearth_send(pids[0], hearth_msg_int(T_PING, hops)));
    m = recv_tag(T_DONE, 60000);
    ASSERT_NOT_NULL(m);
    hearth_msg_free(m);
    fprintf(stderr, "%d hops in %llu ms\n", hops, (unsigned long long)(hearth_now_ms() - t0));
    ASSERT_OK(hearth_stop());
    return 0;
}

/* Shared payloads: one buffer, many receivers, freed after the last. */
static int payload_handle(void *state, hearth_msg_t *m)
{
    struct ring_node *n = state;
    hearth_msg_t *r = hearth_msg_int(T_DONE, m->len == 5 && memcmp(m->data, "hello", 5) == 0);
    hearth_send(n->report, r);
    return HEARTH_STOP;
}

static const hearth_actor_t payload_actor = {"payload", NULL, payload_handle, NULL};

TEST_IMPL(mailbox_shared_payload_fanout)
{
    hearth_config_t cfg = cfg_with(2);
    enum { N = 1000 };
    struct ring_node node;
    hearth_pid_t pids[N];
    hearth_payload_t *p;
    hearth_msg_t *m;
    int i;

    ASSERT_OK(hearth_start(&cfg));
    node.report = hearth_self();
    for (i = 0; i < N; i++)
        ASSERT_OK(hearth_spawn(&payload_actor, &node, 0, &pids[i]));
    p = hearth_payload_new("hello", 5);
    ASSERT_EQ(N, hearth_send_shared(pids, N, T_PING, p));
    hearth_payload_unref(p);
    for (i = 0; i < N; i++) {
        m = recv_tag(T_DONE, 5000);
        ASSERT_NOT_NULL(m);
        ASSERT_EQ(1, m->value);
        hearth_msg_free(m);
    }
    ASSERT_OK(hearth_stop());
    return 0;
}

/* ---- introspection ------------------------------------------------------------------ */

static int find_cb(const hearth_proc_info_t *info, void *arg)
{
    hearth_proc_info_t *want = arg;
    if (info->pid == want->pid) {
        *want = *info;
        return 1;
    }
    return 0;
}

TEST_IMPL(info_process_info_and_list)
{
    hearth_config_t cfg = cfg_with(1);
    hearth_proc_info_t info;
    hearth_pid_t pid;
    hearth_msg_t *m;
    int i;

    ASSERT_OK(hearth_start(&cfg));
    ASSERT_OK(hearth_spawn(&echo_actor, NULL, 0, &pid));
    ASSERT_OK(hearth_register("the_echo", pid));
    for (i = 0; i < 5; i++) {
        ASSERT_OK(hearth_send(pid, hearth_msg_int(T_PING, i)));
        m = recv_tag(T_PONG, 1000);
        ASSERT_NOT_NULL(m);
        hearth_msg_free(m);
    }
    hearth_sleep(20); /* the count moves once the handler has returned */
    ASSERT_OK(hearth_process_info(pid, &info));
    ASSERT_EQ(pid, info.pid);
    ASSERT_EQ(HEARTH_KIND_EVENT, info.kind);
    ASSERT_STR_EQ("the_echo", info.name);
    ASSERT_STR_EQ("echo", info.actor);
    ASSERT_EQ(5, info.handled);
    ASSERT_EQ(0, info.mailbox_len);
    ASSERT_GT(info.memory, 0);
    memset(&info, 0, sizeof(info));
    info.pid = pid;
    ASSERT_GE(hearth_processes(find_cb, &info), 1);
    ASSERT_STR_EQ("the_echo", info.name);
    ASSERT_OK(hearth_send(pid, hearth_msg_int(T_STOP, 0)));
    ASSERT_OK(hearth_wait(pid, 1000, NULL));
    ASSERT_EQ(HEARTH_ESRCH, hearth_process_info(pid, &info));
    ASSERT_OK(hearth_stop());
    return 0;
}

/* ---- fault injection ----------------------------------------------------------------- */

TEST_IMPL(fault_crash_next_and_kill)
{
    hearth_config_t cfg = cfg_with(2);
    hearth_pid_t pid;
    hearth_msg_t *m;
    uint64_t ref;

    ASSERT_OK(hearth_start(&cfg));
    ASSERT_OK(hearth_spawn(&echo_actor, NULL, 0, &pid));
    ASSERT_OK(hearth_monitor(pid, &ref));
    ASSERT_OK(hearth_fault_crash_next(pid));
    ASSERT_OK(hearth_send(pid, hearth_msg_int(T_PING, 1)));
    ASSERT_OK(hearth_receive_ref(HEARTH_MSG_DOWN, ref, 2000, &m));
    ASSERT_EQ(HEARTH_INJECTED, m->value);
    hearth_msg_free(m);
    ASSERT_OK(hearth_spawn(&echo_actor, NULL, 0, &pid));
    ASSERT_OK(hearth_monitor(pid, &ref));
    ASSERT_OK(hearth_fault_kill(pid));
    ASSERT_OK(hearth_receive_ref(HEARTH_MSG_DOWN, ref, 2000, &m));
    ASSERT_EQ(HEARTH_KILLED, m->value);
    hearth_msg_free(m);
    ASSERT_OK(hearth_stop());
    return 0;
}

static bool only_echo(const hearth_proc_info_t *info, void *arg)
{
    (void)arg;
    return strcmp(info->actor, "echo") == 0;
}

/* The same seed picks the same victim. */
static hearth_pid_t pick_victim(uint64_t seed, int *index)
{
    hearth_config_t cfg = cfg_with(1);
    hearth_pid_t pids[20], victim = 0, other;
    int i;

    cfg.fault_seed = seed;
    if (hearth_start(&cfg) != 0)
        return 0;
    for (i = 0; i < 20; i++)
        hearth_spawn(&echo_actor, NULL, 0, &pids[i]);
    hearth_spawn(&counter_actor, &i, 0, &other); /* filtered out */
    hearth_fault_kill_random(only_echo, NULL, &victim);
    *index = -1;
    for (i = 0; i < 20; i++)
        if (pids[i] == victim)
            *index = i;
    hearth_stop();
    return victim;
}

TEST_IMPL(fault_kill_random_reproducible)
{
    int a, b, c, d;
    ASSERT_NE(0, pick_victim(7, &a));
    ASSERT_NE(0, pick_victim(7, &b));
    ASSERT_GE(a, 0);
    ASSERT_EQ(a, b);
    /* Different seeds pick among all of them: over a few seeds, not always the same. */
    pick_victim(8, &c);
    pick_victim(9, &d);
    ASSERT(c >= 0 && d >= 0);
    ASSERT(a != c || a != d || c != d);
    return 0;
}

TEST_IMPL(fault_mailbox_drop_and_delay)
{
    hearth_config_t cfg = cfg_with(1);
    hearth_pid_t self;
    hearth_msg_t *m;
    int i, got = 0, n = 2000;
    uint64_t t0;

    ASSERT_OK(hearth_start(&cfg));
    self = hearth_self();
    ASSERT_OK(hearth_fault_mailbox(self, 0.25, 0, 0));
    for (i = 0; i < n; i++)
        hearth_send(self, hearth_msg_int(T_COUNT, i));
    while (hearth_receive(NULL, NULL, 0, &m) == 0) {
        got++;
        hearth_msg_free(m);
    }
    ASSERT_GT(got, n * 65 / 100);
    ASSERT_LT(got, n * 85 / 100);
    /* Delay every message by 100 ms; signals (a monitor's DOWN) are never touched. */
    ASSERT_OK(hearth_fault_mailbox(self, 0, 1.0, 100));
    t0 = hearth_now_ms();
    hearth_send(self, hearth_msg_int(T_COUNT, 1));
    ASSERT_EQ(HEARTH_ETIMEDOUT, hearth_receive(NULL, NULL, 30, &m));
    ASSERT_OK(hearth_receive(NULL, NULL, 1000, &m));
    ASSERT_GE(hearth_now_ms() - t0, 90);
    hearth_msg_free(m);
    ASSERT_OK(hearth_fault_mailbox(self, 0, 0, 0));
    ASSERT_OK(hearth_stop());
    return 0;
}

/* Producers on other threads push while the consumer keeps going idle: no message may
 * be left behind a consumer that went to sleep (a lost wake-up). A lost wake-up heals
 * when the next message comes, so what shows it is a *last* message: many short
 * rounds, each a few messages from several threads at once, each waited for. */
enum { BURST_THREADS = 4 };

struct burst {
    pthread_barrier_t *start, *end;
    hearth_pid_t *to;
    int rounds, per_round;
};

static void *burst_main(void *arg)
{
    struct burst *b = arg;
    int r, i;
    for (r = 0; r < b->rounds; r++) {
        pthread_barrier_wait(b->start);
        for (i = 0; i < b->per_round; i++)
            hearth_send(*b->to, hearth_msg_int(T_COUNT, 1));
        pthread_barrier_wait(b->end);
    }
    return NULL;
}

struct tally {
    hearth_pid_t report;
    int64_t want, got;
};

static int tally_handle(void *state, hearth_msg_t *m)
{
    struct tally *t = state;
    t->got += m->value;
    if (t->got == t->want) {
        t->got = 0; /* ready for the next round */
        hearth_send(t->report, hearth_msg_int(T_DONE, 0));
    }
    return 0;
}

static const hearth_actor_t tally_actor = {"tally", NULL, tally_handle, NULL};

TEST_IMPL(mailbox_no_lost_wakeup)
{
    hearth_config_t cfg = cfg_with(2);
    int rounds = (int)test_scaled(20000), per_round = 2, r, i;
    struct tally *t = calloc(1, sizeof(*t)); /* the tally process's own state */
    pthread_barrier_t start, end;
    struct burst b;
    pthread_t th[BURST_THREADS];
    hearth_pid_t pid;
    hearth_msg_t *m;

    ASSERT_OK(hearth_start(&cfg));
    t->report = hearth_self();
    t->want = (int64_t)BURST_THREADS * per_round;
    ASSERT_OK(hearth_spawn(&tally_actor, t, 0, &pid));
    pthread_barrier_init(&start, NULL, BURST_THREADS + 1);
    pthread_barrier_init(&end, NULL, BURST_THREADS + 1);
    b = (struct burst){&start, &end, &pid, rounds, per_round};
    for (i = 0; i < BURST_THREADS; i++)
        ASSERT_OK(pthread_create(&th[i], NULL, burst_main, &b));
    for (r = 0; r < rounds; r++) {
        pthread_barrier_wait(&start);
        pthread_barrier_wait(&end);
        m = recv_tag(T_DONE, 5000); /* a lost wake-up leaves the round's last unhandled */
        if (m == NULL)
            fprintf(stderr, "round %d of %d: the last messages were never handled\n", r, rounds);
        ASSERT_NOT_NULL(m);
        hearth_msg_free(m);
    }
    for (i = 0; i < BURST_THREADS; i++)
        pthread_join(th[i], NULL);
    ASSERT_OK(hearth_stop());
    free(t);
    return 0;
}
