/* The session directory (HUB_DIRECTORY_NAME): which identified gateway sessions each
 * user has, so that hubs can reach users they have no subscription of.
 *
 * A server process (actors/server): sessions join and leave by casts; it monitors
 * them. Hubs use it three ways:
 *   - notify (cast): forward a message to every session of a user (a guild hub tells a
 *     new member's sessions to subscribe: HUB_TAG_JOINED);
 *   - watch (call): a private hub learns the sessions of its recipients now, and is
 *     told of each later one (HUB_TAG_DIR_UP); sessions leaving reach it through its
 *     own monitors;
 *   - drain (cast): every session is told the server is going away.
 * When a user's last session ends, the directory records the last-seen time in the
 * store (store_presence_set "offline"), as a job whose argument frees itself. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct dsess {
    hearth_pid_t pid;
    uint64_t intents;
    uint64_t mon;
    uint32_t form;
    uint32_t shard_id;
} dsess_t;

typedef struct duser {
    uint64_t user_id;
    dsess_t *s;
    uint32_t n, cap;
    hearth_pid_t *w; /* watching hubs */
    uint32_t nw, capw;
} duser_t;

typedef struct dwatch {
    uint64_t mon;
    uint64_t *users;
    size_t n;
} dwatch_t;

typedef struct dir {
    u64map_t users;    /* user id -> duser_t * */
    u64map_t sessions; /* session pid -> user id */
    u64map_t watchers; /* hub pid -> dwatch_t * */
} dir_t;

static duser_t *user_get(dir_t *d, uint64_t user_id, bool create)
{
    uint64_t v;
    duser_t *u;

    if (u64map_get(&d->users, user_id, &v))
        return (duser_t *)(uintptr_t)v;
    if (!create)
        return NULL;
    u = calloc(1, sizeof(*u));
    if (u == NULL)
        abort();
    u->user_id = user_id;
    u64map_put(&d->users, user_id, (uint64_t)(uintptr_t)u);
    return u;
}

static void user_drop_if_empty(dir_t *d, duser_t *u)
{
    if (u->n > 0 || u->nw > 0)
        return;
    u64map_del(&d->users, u->user_id, NULL);
    free(u->s);
    free(u->w);
    free(u);
}

/* ---- last seen
 * ------------------------------------------------------------------------------------- */

typedef struct offline_job {
    uint64_t user_id;
    int64_t when_ms;
} offline_job_t;

static int64_t offline_job(store_t *s, void *arg)
{
    offline_job_t *j = arg;
    int rc = store_presence_set(s, j->user_id, "offline", NULL, j->when_ms);

    free(j); /* nobody waits for this job: its argument is its own */
    return rc;
}

static void record_last_seen(uint64_t user_id)
{
    offline_job_t *j = malloc(sizeof(*j));
    struct timespec ts;
    uint64_t ref;

    if (j == NULL)
        abort();
    clock_gettime(CLOCK_REALTIME, &ts);
    j->user_id = user_id;
    j->when_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    if (store_submit(offline_job, j, &ref) < 0)
        free(j);
}

/* ---- sessions
 * ------------------------------------------------------------------------------------------ */

static void join(dir_t *d, hearth_pid_t pid, const hub_dir_join_t *jn)
{
    hub_dir_sess_t up;
    duser_t *u;
    dsess_t *s;
    uint32_t i;

    if (pid == HEARTH_PID_NONE || u64map_get(&d->sessions, pid, NULL))
        return; /* joined already */
    u = user_get(d, jn->user_id, true);
    if (u->n == u->cap) {
        u->cap = u->cap ? u->cap * 2 : 2;
        u->s = realloc(u->s, u->cap * sizeof(*u->s));
        if (u->s == NULL)
            abort();
    }
    s = &u->s[u->n++];
    s->pid = pid;
    s->intents = jn->intents;
    s->form = jn->form;
    s->shard_id = jn->shard_id;
    s->mon = 0;
    hearth_monitor(pid, &s->mon);
    u64map_put(&d->sessions, pid, jn->user_id);
    up.pid = pid;
    up.user_id = jn->user_id;
    up.intents = jn->intents;
    up.form = jn->form;
    up.shard_id = jn->shard_id;
    for (i = 0; i < u->nw; i++)
        hearth_send(u->w[i], hearth_msg_copy(HUB_TAG_DIR_UP, &up, sizeof(up)));
}

static void leave(dir_t *d, hearth_pid_t pid, bool demonitor)
{
    uint64_t user_id;
    duser_t *u;
    uint32_t i;

    if (!u64map_del(&d->sessions, pid, &user_id))
        return;
    u = user_get(d, user_id, false);
    if (u == NULL)
        return;
    for (i = 0; i < u->n; i++) {
        if (u->s[i].pid != pid)
            continue;
        if (demonitor)
            hearth_demonitor(u->s[i].mon, false);
        u->s[i] = u->s[--u->n];
        break;
    }
    if (u->n == 0)
        record_last_seen(user_id);
    user_drop_if_empty(d, u);
}

/* ---- watchers
 * -------------------------------------------------------------------------------------------- */

static void unwatch(dir_t *d, hearth_pid_t hub, bool demonitor)
{
    dwatch_t *w;
    duser_t *u;
    uint64_t v;
    size_t i;
    uint32_t k;

    if (!u64map_del(&d->watchers, hub, &v))
        return;
    w = (dwatch_t *)(uintptr_t)v;
    if (demonitor)
        hearth_demonitor(w->mon, false);
    for (i = 0; i < w->n; i++) {
        u = user_get(d, w->users[i], false);
        if (u == NULL)
            continue;
        for (k = 0; k < u->nw; k++)
            if (u->w[k] == hub) {
                u->w[k] = u->w[--u->nw];
                break;
            }
        user_drop_if_empty(d, u);
    }
    free(w->users);
    free(w);
}

static hearth_msg_t *watch(dir_t *d, hearth_pid_t hub, const uint64_t *users, size_t n)
{
    hub_dir_sess_t *out;
    hearth_msg_t *reply;
    dwatch_t *w;
    duser_t *u;
    size_t i, total = 0, k = 0;
    uint32_t s;

    unwatch(d, hub, true); /* a hub watches one set of users */
    w = calloc(1, sizeof(*w));
    if (w == NULL)
        abort();
    w->users = malloc((n ? n : 1) * sizeof(uint64_t));
    if (w->users == NULL)
        abort();
    memcpy(w->users, users, n * sizeof(uint64_t));
    w->n = n;
    hearth_monitor(hub, &w->mon);
    u64map_put(&d->watchers, hub, (uint64_t)(uintptr_t)w);
    for (i = 0; i < n; i++) {
        u = user_get(d, users[i], true);
        if (u->nw == u->capw) {
            u->capw = u->capw ? u->capw * 2 : 2;
            u->w = realloc(u->w, u->capw * sizeof(*u->w));
            if (u->w == NULL)
                abort();
        }
        u->w[u->nw++] = hub;
        total += u->n;
    }
    reply = hearth_msg_new(HUB_TAG_DIR_WATCH, total * sizeof(hub_dir_sess_t));
    out = reply->data;
    for (i = 0; i < n; i++) {
        u = user_get(d, users[i], false);
        for (s = 0; u != NULL && s < u->n; s++, k++) {
            out[k].pid = u->s[s].pid;
            out[k].user_id = users[i];
            out[k].intents = u->s[s].intents;
            out[k].form = u->s[s].form;
            out[k].shard_id = u->s[s].shard_id;
        }
    }
    return reply;
}

/* ---- the server's callbacks
 * --------------------------------------------------------------------------------- */

static int dir_init(void **state, void *arg)
{
    (void)arg;
    *state = calloc(1, sizeof(dir_t));
    return *state != NULL ? 0 : HEARTH_ENOMEM;
}

static int dir_call(void *state, hearth_msg_t *req, const hearth_server_from_t *from,
                    hearth_msg_t **reply)
{
    dir_t *d = state;
    uint64_t user_id = 0;
    int64_t count = 0;
    duser_t *u;

    switch (req->tag) {
    case HUB_TAG_DIR_WATCH:
        *reply = watch(d, from->caller, req->data, req->len / sizeof(uint64_t));
        return 0;
    case HUB_TAG_DIR_COUNT:
        if (req->len >= sizeof(user_id))
            memcpy(&user_id, req->data, sizeof(user_id));
        u = user_get(d, user_id, false);
        count = u != NULL ? u->n : 0;
        *reply = hearth_msg_copy(HUB_TAG_DIR_COUNT, &count, sizeof(count));
        return 0;
    default:
        *reply = hearth_msg_int(0, 0);
        return 0;
    }
}

static void notify(dir_t *d, hearth_msg_t *m)
{
    hub_dir_notify_t nt;
    duser_t *u;
    uint32_t i;

    if (m->len < sizeof(nt))
        return;
    memcpy(&nt, m->data, sizeof(nt));
    u = user_get(d, nt.user_id, false);
    for (i = 0; u != NULL && i < u->n; i++)
        hearth_send(u->s[i].pid, hearth_msg_copy(nt.tag, (const char *)m->data + sizeof(nt),
                                                 m->len - sizeof(nt)));
}

static void drain(dir_t *d)
{
    uint64_t pid;
    size_t i = 0;

    while (u64map_next(&d->sessions, &i, &pid, NULL))
        hearth_send(pid, hearth_msg_int(HUB_TAG_DRAIN, 0));
}

static int dir_cast(void *state, hearth_msg_t *m)
{
    dir_t *d = state;
    hub_dir_join_t jn;

    switch (m->tag) {
    case HUB_TAG_DIR_JOIN:
        if (m->len >= sizeof(jn)) {
            memcpy(&jn, m->data, sizeof(jn));
            join(d, m->from, &jn);
        }
        break;
    case HUB_TAG_DIR_LEAVE:
        leave(d, m->from, true);
        break;
    case HUB_TAG_DIR_UNWATCH:
        unwatch(d, m->from, true);
        break;
    case HUB_TAG_DIR_NOTIFY:
        notify(d, m);
        break;
    case HUB_TAG_DIR_DRAIN:
        drain(d);
        break;
    default:
        break;
    }
    return 0;
}

static int dir_info(void *state, hearth_msg_t *m)
{
    dir_t *d = state;

    if (m->tag == HEARTH_MSG_DOWN) {
        if (u64map_get(&d->sessions, m->from, NULL))
            leave(d, m->from, false);
        else
            unwatch(d, m->from, false);
    }
    return 0; /* WORK_DONE of the last-seen jobs needs nothing */
}

static void dir_terminate(void *state, hearth_reason_t reason)
{
    dir_t *d = state;
    uint64_t v;
    size_t i = 0;

    (void)reason;
    while (u64map_next(&d->users, &i, NULL, &v)) {
        duser_t *u = (duser_t *)(uintptr_t)v;
        free(u->s);
        free(u->w);
        free(u);
    }
    i = 0;
    while (u64map_next(&d->watchers, &i, NULL, &v)) {
        dwatch_t *w = (dwatch_t *)(uintptr_t)v;
        free(w->users);
        free(w);
    }
    u64map_free(&d->users);
    u64map_free(&d->sessions);
    u64map_free(&d->watchers);
    free(d);
}

const hearth_server_cbs_t hub__directory_cbs = {
    .init = dir_init,
    .handle_call = dir_call,
    .handle_cast = dir_cast,
    .handle_info = dir_info,
    .terminate = dir_terminate,
};
