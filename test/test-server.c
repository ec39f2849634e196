/* Tests of the server behaviour (include/hearth/server.h): calls, casts, infos,
 * deferred replies, call timeouts, calls to dead and dying servers, stop and
 * terminate, and the parent's exit signal.
 *
 * The test server is a counter. It reports what it sees (infos, deferred calls, its
 * terminate) to an observer process, the test's own thread, by messages. */
#include "task.h"

#include "hearth/server.h"

#include <unistd.h>

enum {
    T_GET = 1,    /* call: reply the count */
    T_ADD,        /* call: add the int64 in the bytes, reply the count; cast: add value */
    T_DEFER,      /* call: keep the caller, reply later */
    T_RELEASE,    /* call: reply the count to the kept caller, then to this one */
    T_CRASH,      /* call: crash with reason CRASH_REASON, no reply */
    T_STOP_NOW,   /* call: reply, then stop normally */
    T_SLOW,       /* cast: block the handler for value ms */
    T_PLAIN = 50, /* an info */
    T_TICK,       /* an info sent by a timer */
    /* to the observer */
    O_INFO = 100, /* value = the info's tag */
    O_DEFERRED,   /* a call was deferred */
    O_TERMINATE,  /* value = reason */
    O_RESULT,     /* from a helper green thread: value = the count or the error */
};

#define CRASH_REASON (-1000)

typedef struct counter {
    int64_t count;
    hearth_pid_t observer;
    hearth_server_from_t kept;
    bool has_kept;
} counter_t;

typedef struct counter_arg {
    hearth_pid_t observer;
    int init_rc; /* what init returns: 0, an error or HEARTH_SERVER_IGNORE */
} counter_arg_t;

static void tell(hearth_pid_t to, uint32_t tag, int64_t value)
{
    hearth_send(to, hearth_msg_int(tag, value));
}

static hearth_msg_t *count_msg(int64_t n)
{
    return hearth_msg_copy(0, &n, sizeof(n));
}

static int64_t msg_count(const hearth_msg_t *m)
{
    int64_t n;

    ASSERT_EQ(sizeof(n), m->len);
    memcpy(&n, m->data, sizeof(n));
    return n;
}

static int counter_init(void **state, void *arg)
{
    counter_arg_t *a = arg;
    counter_t *c;

    if (a->init_rc != 0)
        return a->init_rc;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return HEARTH_ENOMEM;
    c->observer = a->observer;
    *state = c;
    return 0;
}

static int counter_call(void *state, hearth_msg_t *req, const hearth_server_from_t *from,
                        hearth_msg_t **reply)
{
    counter_t *c = state;
    int64_t n;

    switch (req->tag) {
    case T_GET:
        *reply = count_msg(c->count);
        return 0;
    case T_ADD:
        memcpy(&n, req->data, sizeof(n));
        c->count += n;
        *reply = count_msg(c->count);
        return 0;
    case T_DEFER:
        c->kept = *from;
        c->has_kept = true;
        tell(c->observer, O_DEFERRED, 0);
        return 0;
    case T_RELEASE:
        if (c->has_kept)
            hearth_server_reply(&c->kept, count_msg(c->count));
        c->has_kept = false;
        *reply = count_msg(c->count);
        return 0;
    case T_CRASH:
        return CRASH_REASON;
    case T_STOP_NOW:
        *reply = count_msg(c->count);
        return HEARTH_STOP;
    default:
        return HEARTH_EINVAL;
    }
}

static int counter_cast(void *state, hearth_msg_t *msg)
{
    counter_t *c = state;

    if (msg->tag == T_ADD)
        c->count += msg->value;
    else if (msg->tag == T_SLOW)
        usleep((useconds_t)msg->value * 1000);
    return 0;
}

static int counter_info(void *state, hearth_msg_t *msg)
{
    counter_t *c = state;

    tell(c->observer, O_INFO, msg->tag);
    return 0;
}

static void counter_terminate(void *state, hearth_reason_t reason)
{
    counter_t *c = state;

    tell(c->observer, O_TERMINATE, reason);
    free(c);
}

static const hearth_server_cbs_t counter_cbs = {
    .init = counter_init,
    .handle_call = counter_call,
    .handle_cast = counter_cast,
    .handle_info = counter_info,
    .terminate = counter_terminate,
};

static hearth_config_t cfg2(void)
{
    hearth_config_t cfg = {0};

    cfg.schedulers = 2;
    cfg.fault_seed = 7;
    return cfg;
}

static bool match_tag(const hearth_msg_t *m, void *arg)
{
    return m->tag == *(uint32_t *)arg;
}

/* The next message tagged tag; fails the test after 5 s. The caller frees it. */
static hearth_msg_t *expect_tag(uint32_t tag)
{
    hearth_msg_t *m = NULL;

    ASSERT_OK(hearth_receive(match_tag, &tag, 5000, &m));
    return m;
}

static int64_t expect_value(uint32_t tag)
{
    hearth_msg_t *m = expect_tag(tag);
    int64_t v = m->value;

    hearth_msg_free(m);
    return v;
}

static int64_t call_count(hearth_pid_t pid, uint32_t tag, int64_t arg)
{
    hearth_msg_t *r;
    int64_t n;

    ASSERT_OK(hearth_server_call(pid, hearth_msg_copy(tag, &arg, sizeof(arg)), 5000, &r));
    n = msg_count(r);
    hearth_msg_free(r);
    return n;
}

static hearth_pid_t start_counter(unsigned flags)
{
    counter_arg_t a = {hearth_self(), 0};
    hearth_pid_t pid = HEARTH_PID_NONE;

    ASSERT_OK(hearth_server_start(&counter_cbs, &a, flags, &pid));
    ASSERT(hearth_is_alive(pid));
    return pid;
}

TEST_IMPL(server_call_cast_info)
{
    hearth_config_t cfg = cfg2();
    hearth_pid_t pid;

    ASSERT_OK(hearth_start(&cfg));
    pid = start_counter(0);

    ASSERT_EQ(5, call_count(pid, T_ADD, 5));
    /* A cast keeps its tag and value; from one sender it lands before the next call. */
    ASSERT_OK(hearth_server_cast(pid, hearth_msg_int(T_ADD, 3)));
    ASSERT_EQ(8, call_count(pid, T_GET, 0));

    /* Anything else is an info: a plain message (even with a cast's tag), a timer's. */
    ASSERT_OK(hearth_send(pid, hearth_msg_int(T_ADD, 100)));
    ASSERT_EQ(T_ADD, expect_value(O_INFO));
    ASSERT_OK(hearth_send_after(pid, hearth_msg_int(T_TICK, 0), 10, NULL));
    ASSERT_EQ(T_TICK, expect_value(O_INFO));
    ASSERT_EQ(8, call_count(pid, T_GET, 0)); /* the info was not taken for a cast */

    ASSERT_OK(hearth_server_stop(pid, HEARTH_NORMAL, 5000));
    ASSERT_EQ(HEARTH_NORMAL, expect_value(O_TERMINATE));
    ASSERT(!hearth_is_alive(pid));
    ASSERT_OK(hearth_stop());
    return 0;
}

TEST_IMPL(server_init_result)
{
    hearth_config_t cfg = cfg2();
    counter_arg_t fail = {HEARTH_PID_NONE, HEARTH_EPIPE};
    counter_arg_t ignore = {HEARTH_PID_NONE, HEARTH_SERVER_IGNORE};
    hearth_pid_t pid = HEARTH_PID_NONE;
    size_t before;

    ASSERT_OK(hearth_start(&cfg));
    hearth_self(); /* attach first: the test thread is a process too */
    before = hearth_process_count();
    /* init runs before start returns: its error is start's, and nothing is left. */
    ASSERT_EQ(HEARTH_EPIPE, hearth_server_start(&counter_cbs, &fail, HEARTH_SPAWN_LINK, &pid));
    ASSERT_EQ(HEARTH_PID_NONE, pid);
    ASSERT_EQ(HEARTH_SERVER_IGNORE, hearth_server_start(&counter_cbs, &ignore, 0, &pid));
    ASSERT_EQ(before, hearth_process_count());
    ASSERT_EQ(HEARTH_EINVAL, hearth_server_start(NULL, NULL, 0, &pid));
    ASSERT_OK(hearth_stop());
    return 0;
}

/* A green thread that makes a deferred call and reports its result. */
static void deferred_caller(void *arg)
{
    hearth_pid_t *pids = arg; /* [0] server, [1] observer */
    hearth_msg_t *r;
    int err;

    err = hearth_server_call(pids[0], hearth_msg_int(T_DEFER, 0), 5000, &r);
    if (err) {
        tell(pids[1], O_RESULT, err);
        return;
    }
    tell(pids[1], O_RESULT, msg_count(r));
    hearth_msg_free(r);
}

TEST_IMPL(server_deferred_reply)
{
    hearth_config_t cfg = cfg2();
    hearth_pid_t pids[2];

    ASSERT_OK(hearth_start(&cfg));
    pids[0] = start_counter(0);
    pids[1] = hearth_self();
    ASSERT_EQ(41, call_count(pids[0], T_ADD, 41));

    ASSERT_OK(hearth_spawn_green(deferred_caller, pids, 0, 0, NULL));
    expect_value(O_DEFERRED); /* the server holds the call unanswered */
    /* Meanwhile the server goes on serving others. */
    ASSERT_EQ(42, call_count(pids[0], T_ADD, 1));
    /* Its answer comes from a later call's handler. */
    ASSERT_EQ(42, call_count(pids[0], T_RELEASE, 0));
    ASSERT_EQ(42, expect_value(O_RESULT));

    ASSERT_OK(hearth_server_stop(pids[0], HEARTH_NORMAL, 5000));
    ASSERT_OK(hearth_stop());
    return 0;
}

TEST_IMPL(server_call_timeout)
{
    hearth_config_t cfg = cfg2();
    hearth_msg_t *r = NULL;
    hearth_pid_t pid;
    uint64_t t0;

    ASSERT_OK(hearth_start(&cfg));
    pid = start_counter(0);

    t0 = hearth_now_ms();
    ASSERT_EQ(HEARTH_ETIMEDOUT, hearth_server_call(pid, hearth_msg_int(T_DEFER, 0), 100, &r));
    ASSERT_GE(hearth_now_ms() - t0, 100);
    ASSERT_LT(hearth_now_ms() - t0, 3000);
    ASSERT_NULL(r);
    /* The late reply (sent now) is not taken for the next call's. */
    ASSERT_EQ(0, call_count(pid, T_RELEASE, 0));
    ASSERT_EQ(7, call_count(pid, T_ADD, 7));
    ASSERT(hearth_is_alive(pid));

    ASSERT_OK(hearth_server_stop(pid, HEARTH_NORMAL, 5000));
    ASSERT_OK(hearth_stop());
    return 0;
}

TEST_IMPL(server_call_dead)
{
    hearth_config_t cfg = cfg2();
    hearth_msg_t *r = NULL;
    hearth_pid_t pid;
    uint64_t t0;

    ASSERT_OK(hearth_start(&cfg));
    pid = start_counter(0);
    ASSERT_OK(hearth_server_stop(pid, HEARTH_NORMAL, 5000));
    ASSERT_EQ(HEARTH_NORMAL, expect_value(O_TERMINATE));

    /* A call to a dead server errors at once, even with no timeout. */
    t0 = hearth_now_ms();
    ASSERT_EQ(HEARTH_ESRCH, hearth_server_call(pid, hearth_msg_int(T_GET, 0), HEARTH_INFINITY, &r));
    ASSERT_LT(hearth_now_ms() - t0, 1000);
    ASSERT_NULL(r);
    ASSERT_EQ(HEARTH_ESRCH, hearth_server_stop(pid, HEARTH_NORMAL, 1000));
    ASSERT_EQ(HEARTH_ESRCH, hearth_server_cast(pid, hearth_msg_int(T_ADD, 1)));
    ASSERT_OK(hearth_stop());
    return 0;
}

TEST_IMPL(server_call_dies_during_call)
{
    hearth_config_t cfg = cfg2();
    hearth_msg_t *r = NULL;
    hearth_pid_t pid;
    uint64_t mref;

    ASSERT_OK(hearth_start(&cfg));
    pid = start_counter(0);
    ASSERT_OK(hearth_monitor(pid, &mref));

    /* The server crashes while handling the call: the caller gets an error, not a hang
     * (the timeout is infinite), and terminate runs with the crash's reason. */
    ASSERT_EQ(HEARTH_ESRCH,
              hearth_server_call(pid, hearth_msg_int(T_CRASH, 0), HEARTH_INFINITY, &r));
    ASSERT_NULL(r);
    ASSERT_EQ(CRASH_REASON, expect_value(O_TERMINATE));
    {
        hearth_msg_t *down;

        ASSERT_OK(hearth_receive_ref(HEARTH_MSG_DOWN, mref, 5000, &down));
        ASSERT_EQ(CRASH_REASON, down->value);
        hearth_msg_free(down);
    }
    ASSERT_OK(hearth_stop());
    return 0;
}

TEST_IMPL(server_stop_and_terminate)
{
    hearth_config_t cfg = cfg2();
    hearth_pid_t pid;

    ASSERT_OK(hearth_start(&cfg));

    /* handle_call may answer and stop at once: the caller gets its reply. */
    pid = start_counter(0);
    ASSERT_EQ(9, call_count(pid, T_ADD, 9));
    ASSERT_EQ(9, call_count(pid, T_STOP_NOW, 0));
    ASSERT_EQ(HEARTH_NORMAL, expect_value(O_TERMINATE));

    /* hearth_server_stop: terminate sees the reason asked for. */
    pid = start_counter(0);
    ASSERT_OK(hearth_server_stop(pid, HEARTH_REASON_USER + 5, 5000));
    ASSERT_EQ(HEARTH_REASON_USER + 5, expect_value(O_TERMINATE));
    ASSERT(!hearth_is_alive(pid));

    /* A server busy past the timeout: stop says so, and the server stops later. */
    pid = start_counter(0);
    ASSERT_OK(hearth_server_cast(pid, hearth_msg_int(T_SLOW, 300)));
    ASSERT_EQ(HEARTH_ETIMEDOUT, hearth_server_stop(pid, HEARTH_SHUTDOWN, 20));
    ASSERT_EQ(HEARTH_SHUTDOWN, expect_value(O_TERMINATE));

    ASSERT_EQ(HEARTH_EINVAL, hearth_server_stop(hearth_self(), HEARTH_NORMAL, 10));
    ASSERT_OK(hearth_stop());
    return 0;
}

/* A green thread that starts a trapping server linked to itself, then, on its first
 * message, exits with reason HEARTH_REASON_USER + 1. */
static void server_parent(void *arg)
{
    hearth_pid_t observer = *(hearth_pid_t *)arg;
    counter_arg_t a = {observer, 0};
    hearth_pid_t pid;
    hearth_msg_t *m;

    if (hearth_server_start(&counter_cbs, &a, HEARTH_SPAWN_LINK | HEARTH_SPAWN_TRAP_EXIT, &pid))
        hearth_exit(HEARTH_CRASH);
    tell(observer, O_RESULT, (int64_t)pid);
    if (hearth_receive(NULL, NULL, HEARTH_INFINITY, &m) == 0)
        hearth_msg_free(m);
    hearth_exit(HEARTH_REASON_USER + 1);
}

TEST_IMPL(server_parent_exit)
{
    hearth_config_t cfg = cfg2();
    hearth_pid_t self, parent, pid;
    uint64_t mref;

    ASSERT_OK(hearth_start(&cfg));
    self = hearth_self();
    ASSERT_OK(hearth_spawn_green(server_parent, &self, 0, 0, &parent));
    pid = (hearth_pid_t)expect_value(O_RESULT);
    ASSERT(hearth_is_alive(pid));
    ASSERT_OK(hearth_monitor(pid, &mref));

    /* An exit signal from anyone but the parent is an info to a trapping server. */
    ASSERT_OK(hearth_exit_signal(pid, HEARTH_REASON_USER + 2));
    ASSERT_EQ(HEARTH_MSG_EXIT, expect_value(O_INFO));
    ASSERT(hearth_is_alive(pid));

    /* The parent's exit ends the server with the parent's reason, through terminate. */
    ASSERT_OK(hearth_send(parent, hearth_msg_int(T_PLAIN, 0)));
    ASSERT_EQ(HEARTH_REASON_USER + 1, expect_value(O_TERMINATE));
    {
        hearth_msg_t *down;

        ASSERT_OK(hearth_receive_ref(HEARTH_MSG_DOWN, mref, 5000, &down));
        ASSERT_EQ(HEARTH_REASON_USER + 1, down->value);
        hearth_msg_free(down);
    }
    ASSERT_OK(hearth_stop());
    return 0;
}

/* An event process that tries to call: it cannot wait, and says so. */
static int impatient_handle(void *state, hearth_msg_t *m)
{
    hearth_msg_t *r = NULL;
    int err;

    (void)state;
    err = hearth_server_call((hearth_pid_t)m->value, hearth_msg_int(T_GET, 0), 1000, &r);
    tell(m->from, O_RESULT, err);
    hearth_msg_free(r);
    return 0;
}

static const hearth_actor_t impatient_actor = {"impatient", NULL, impatient_handle, NULL};

TEST_IMPL(server_call_from_event_process)
{
    hearth_config_t cfg = cfg2();
    hearth_pid_t pid, caller;

    ASSERT_OK(hearth_start(&cfg));
    pid = start_counter(0);
    ASSERT_OK(hearth_spawn(&impatient_actor, NULL, 0, &caller));
    ASSERT_OK(hearth_send(caller, hearth_msg_int(1, (int64_t)pid)));
    ASSERT_EQ(HEARTH_EINVAL, expect_value(O_RESULT));
    ASSERT(hearth_is_alive(pid));
    ASSERT_OK(hearth_stop());
    return 0;
}
