/* Store tests, part four: durability (a writer killed with SIGKILL mid-stream loses
 * no acknowledged write), concurrent writers on several connections (WAL and the
 * busy timeout lose nothing), and running store jobs from processes (store_call
 * from an attached thread and a green thread, store_submit from an event process). */
#include "test-store.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- durability ------------------------------------------------------------------------------ */

#define DUR_ROUNDS 3
#define DUR_KILL_AFTER 200 /* acknowledged writes seen before the kill */
#define DUR_MAX 100000

/* The child: writes messages as fast as it can and reports each id once the store
 * acknowledged it. Never returns. */
static void dur_child(const char *dir, uint64_t channel, uint64_t author, int fd)
{
    store_message_new_t m = {0};
    json_t *out;
    uint64_t id;
    store_t *s;
    int i;

    s = store_open(dir, false);
    if (s == NULL)
        _exit(2);
    m.channel_id = channel;
    m.author_id = author;
    m.content = "durable";
    for (i = 0; i < DUR_MAX; i++) {
        out = NULL;
        if (store_message_create(s, &m, &out) != 0)
            _exit(3);
        id = jid(out, "id");
        json_decref(out);
        if (write(fd, &id, sizeof(id)) != (ssize_t)sizeof(id))
            _exit(4);
    }
    _exit(0);
}

TEST_IMPL(store_durability)
{
    uint64_t owner, channel, id, *ids;
    size_t nids, round_n, i;
    int fds[2], status;
    char dir[64];
    store_t *s;
    ssize_t n;
    pid_t pid;
    int round;

    s = ts_open(dir);
    owner = ts_user(s, "durable");
    ts_guild(s, owner, "durable", &channel);
    store_close(s);
    ids = malloc(sizeof(*ids) * DUR_MAX * DUR_ROUNDS);
    ASSERT_NOT_NULL(ids);
    nids = 0;
    for (round = 0; round < DUR_ROUNDS; round++) {
        ASSERT_OK(pipe(fds));
        pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            close(fds[0]);
            dur_child(dir, channel, owner, fds[1]);
        }
        close(fds[1]);
        /* Read acknowledgements; kill the writer mid-stream; then drain what it had
         * acknowledged before it died. */
        round_n = 0;
        for (;;) {
            n = read(fds[0], &id, sizeof(id));
            if (n < 0 && errno == EINTR)
                continue;
            if (n == 0)
                break;
            ASSERT_EQ(sizeof(id), n);
            ids[nids++] = id;
            if (++round_n == DUR_KILL_AFTER)
                ASSERT_OK(kill(pid, SIGKILL));
        }
        ASSERT_EQ(pid, waitpid(pid, &status, 0));
        ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        close(fds[0]);
        ASSERT_GE(round_n, DUR_KILL_AFTER);
    }

    /* Every acknowledged message is there after recovery. */
    s = store_open(dir, true);
    ASSERT_NOT_NULL(s);
    for (i = 0; i < nids; i++)
        ASSERT_OK(store_message_get(s, channel, ids[i], 0, NULL));
    /* And the database still takes writes. */
    ts_msg(s, channel, owner, "after the crash");
    fprintf(stderr, "store_durability: %zu acknowledged writes over %d kills, all found\n", nids,
            DUR_ROUNDS);
    free(ids);
    ts_close(s, dir);
    return 0;
}

/* ---- concurrency ----------------------------------------------------------------------------- */

#define CONC_THREADS 4
#define CONC_PER_THREAD 300

typedef struct conc {
    uint64_t channel, author;
    uint64_t ids[CONC_PER_THREAD];
    int err;
} conc_t;

static void *conc_thread(void *arg)
{
    store_emoji_t e = {0, "✅", false};
    store_message_new_t m = {0};
    conc_t *c = arg;
    json_t *out;
    store_t *s;
    int i, rc;

    s = store_thread(); /* this thread's own connection */
    if (s == NULL) {
        c->err = -1000;
        return NULL;
    }
    m.channel_id = c->channel;
    m.author_id = c->author;
    m.content = "concurrent";
    for (i = 0; i < CONC_PER_THREAD; i++) {
        out = NULL;
        rc = store_message_create(s, &m, &out);
        if (rc != 0) {
            c->err = rc;
            return NULL;
        }
        c->ids[i] = jid(out, "id");
        json_decref(out);
        /* A second kind of write, on rows the other threads touch too. */
        rc = store_reaction_put(s, c->channel, c->ids[i / 2], c->author, &e);
        if (rc < 0) {
            c->err = rc;
            return NULL;
        }
    }
    return NULL;
}

TEST_IMPL(store_concurrency)
{
    pthread_t th[CONC_THREADS];
    conc_t *c;
    uint64_t owner, channel, before;
    char dir[64], name[24];
    json_t *list;
    size_t seen;
    store_t *s;
    int i, j;

    ts_mkdir(dir);
    ASSERT_OK(store_init(dir));
    s = store_thread();
    ASSERT_NOT_NULL(s);
    owner = ts_user(s, "conc");
    ts_guild(s, owner, "conc", &channel);
    c = calloc(CONC_THREADS, sizeof(*c));
    ASSERT_NOT_NULL(c);
    for (i = 0; i < CONC_THREADS; i++) {
        snprintf(name, sizeof(name), "writer%d", i);
        c[i].author = ts_user(s, name);
        c[i].channel = channel;
        ASSERT_OK(pthread_create(&th[i], NULL, conc_thread, &c[i]));
    }
    for (i = 0; i < CONC_THREADS; i++)
        ASSERT_OK(pthread_join(th[i], NULL));
    for (i = 0; i < CONC_THREADS; i++) {
        ASSERT_OK(c[i].err);
        for (j = 0; j < CONC_PER_THREAD; j++)
            ASSERT_OK(store_message_get(s, channel, c[i].ids[j], 0, NULL));
    }
    /* Paging the channel finds each message once. */
    seen = 0;
    before = 0;
    for (;;) {
        ASSERT_OK(store_message_list(s, channel, &(store_page_t){.before = before, .limit = 100}, 0,
                                     &list));
        if (json_array_size(list) == 0) {
            json_decref(list);
            break;
        }
        seen += json_array_size(list);
        before = jid(json_array_get(list, json_array_size(list) - 1), "id");
        json_decref(list);
    }
    ASSERT_EQ(CONC_THREADS * CONC_PER_THREAD, seen);
    free(c);
    store_fini();
    ts_rmdir(dir);
    return 0;
}

/* ---- jobs from processes --------------------------------------------------------------------- */

#define T_RESULT 0x5701u

typedef struct user_job {
    const char *name;
    uint64_t id;
    pthread_t thread;
} user_job_t;

static int64_t user_job_cb(store_t *s, void *arg)
{
    store_user_new_t u = {0};
    user_job_t *j = arg;
    json_t *out;
    int rc;

    j->thread = pthread_self();
    u.username = j->name;
    rc = store_user_create(s, &u, &out);
    if (rc == 0) {
        j->id = jid(out, "id");
        json_decref(out);
    }
    return rc;
}

static int64_t get_job_cb(store_t *s, void *arg)
{
    return store_user_get(s, *(uint64_t *)arg, 0, NULL);
}

static bool tag_is(const hearth_msg_t *m, void *arg)
{
    return m->tag == *(uint32_t *)arg;
}

/* A green thread: one store_call, the result to the test thread. */
typedef struct green_arg {
    hearth_pid_t parent;
    user_job_t job;
} green_arg_t;

static void green_fn(void *arg)
{
    green_arg_t *g = arg;

    hearth_send(g->parent, hearth_msg_int(T_RESULT, store_call(user_job_cb, &g->job)));
}

/* An event process: store_submit in init, the result to the test thread on
 * WORK_DONE; store_call there is refused. */
typedef struct event_state {
    hearth_pid_t parent;
    uint64_t ref;
    user_job_t job;
} event_state_t;

static int event_init(void **state, void *arg)
{
    event_state_t *e = arg;

    *state = e;
    if (store_call(user_job_cb, &e->job) != HEARTH_EINVAL)
        return HEARTH_EINVAL;
    return store_submit(user_job_cb, &e->job, &e->ref);
}

static int event_handle(void *state, hearth_msg_t *m)
{
    event_state_t *e = state;

    if (m->tag != HEARTH_MSG_WORK_DONE || m->ref != e->ref)
        return 0;
    hearth_send(e->parent, hearth_msg_int(T_RESULT, m->value));
    return HEARTH_STOP;
}

static const hearth_actor_t event_actor = {"store-test", event_init, event_handle, NULL};

TEST_IMPL(store_jobs_from_processes)
{
    hearth_config_t cfg = {.schedulers = 2};
    user_job_t job = {"from_thread", 0, 0};
    event_state_t ev = {0};
    green_arg_t green = {0};
    uint32_t tag = T_RESULT;
    hearth_msg_t *m;
    char dir[64];
    uint64_t bogus = 42;

    ts_mkdir(dir);
    ASSERT_OK(store_init(dir));
    ASSERT_OK(hearth_start(&cfg));

    /* An attached thread: store_call runs the job on a pool thread and waits. */
    ASSERT_OK(store_call(user_job_cb, &job));
    ASSERT_NE(0, job.id);
    ASSERT(!pthread_equal(job.thread, pthread_self()));
    ASSERT_OK(store_call(get_job_cb, &job.id));
    ASSERT_EQ(STORE_ENOTFOUND, store_call(get_job_cb, &bogus)); /* results pass through */
    ASSERT_EQ(STORE_EEXIST, store_call(user_job_cb, &job));

    /* A green thread. */
    green.parent = hearth_self();
    green.job.name = "from_green";
    ASSERT_OK(hearth_spawn_green(green_fn, &green, 0, 0, NULL));
    ASSERT_OK(hearth_receive(tag_is, &tag, 10000, &m));
    ASSERT_EQ(0, m->value);
    hearth_msg_free(m);
    ASSERT_NE(0, green.job.id);

    /* An event process: store_submit, then WORK_DONE. */
    ev.parent = hearth_self();
    ev.job.name = "from_event";
    ASSERT_OK(hearth_spawn(&event_actor, &ev, 0, NULL));
    ASSERT_OK(hearth_receive(tag_is, &tag, 10000, &m));
    ASSERT_EQ(0, m->value);
    hearth_msg_free(m);
    ASSERT_NE(0, ev.job.id);

    /* Every job wrote through the same database. */
    ASSERT_OK(store_call(get_job_cb, &green.job.id));
    ASSERT_OK(store_call(get_job_cb, &ev.job.id));
    ASSERT_OK(hearth_stop());
    store_fini();
    ts_rmdir(dir);
    return 0;
}
