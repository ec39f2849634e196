/* The social process (SOCIAL_NAME): a server (actors/server) that keeps, for people
 * online, their gateway sessions, their effective presence and their friend ids, and
 * sends friends' presences and relationship events to sessions (presence.c does the
 * presence and the queues).
 *
 * Sessions come in two ways: social_ready (the identify helper, before READY) registers
 * a session as held, so events for its user wait for it; its first presence
 * (social_session_presence, once READY is out) joins it, and the held events go at once.
 * A session may also join without being held first. The process monitors each session:
 * the DOWN of a user's last one shows the user offline.
 *
 * Friend ids come from the store by a job when a user's first session arrives, and are
 * kept current by the change notices REST sends (social_relationship_changed); a notice
 * that arrives while the load runs makes it run again, since the load may have read the
 * rows before the change. Presence shows wait for the list. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- users ----------------------------------------------------------------------------------- */

sx_user_t *sx__user(sx_t *x, uint64_t id, bool create)
{
    sx_user_t *u = sx_map_get(&x->users, id);

    if (u != NULL || !create || id == 0)
        return u;
    u = calloc(1, sizeof(*u));
    if (u == NULL)
        abort();
    u->id = id;
    sx_map_put(&x->users, id, u);
    return u;
}

static void user_free(sx_user_t *u)
{
    if (u->timer != 0)
        hearth_timer_cancel(u->timer);
    json_decref(u->shown_acts);
    free(u->friends);
    free(u->s);
    free(u);
}

void sx__user_maybe_free(sx_t *x, sx_user_t *u)
{
    if (u->ns > 0 || u->held || u->fstate == SX_FRIENDS_LOADING || u->shown != SX_OFFLINE)
        return;
    sx_map_del(&x->users, u->id);
    user_free(u);
}

/* The index of id in u's sorted friend list, or where it would go. */
static uint32_t friend_pos(const sx_user_t *u, uint64_t id)
{
    uint32_t lo = 0, hi = u->nfriends, mid;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if (u->friends[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

bool sx__is_friend(const sx_user_t *u, uint64_t a)
{
    uint32_t i = friend_pos(u, a);

    return i < u->nfriends && u->friends[i] == a;
}

/* ---- friend lists ---------------------------------------------------------------------------- */

static void load_unref(sx_load_t *l)
{
    /* acq_rel: whoever frees the record has seen the other side's writes to it. */
    if (atomic_fetch_sub_explicit(&l->refs, 1, memory_order_acq_rel) == 1) {
        free(l->ids);
        free(l);
    }
}

/* A store job: the friend ids of l->user_id. It drops its own reference at the end, so a
 * process that went away meanwhile does not leak the record. */
static int64_t load_job(store_t *s, void *arg)
{
    sx_load_t *l = arg;
    int rc;

    rc = store_friend_ids(s, l->user_id, &l->ids, &l->n);
    l->rc = rc;
    atomic_store_explicit(&l->ran, true, memory_order_relaxed); /* published by the unref */
    load_unref(l);
    return rc;
}

static void friends_load(sx_t *x, sx_user_t *u)
{
    sx_load_t *l = calloc(1, sizeof(*l));
    uint64_t ref;

    if (l == NULL)
        abort();
    atomic_init(&l->refs, 2);
    atomic_init(&l->ran, false);
    l->user_id = u->id;
    l->rc = STORE_EIO; /* what it says if the pool never runs the job */
    u->fdirty = false;
    if (store_submit(load_job, l, &ref) < 0) {
        free(l);
        u->fstate = SX_FRIENDS_READY; /* no store: no friends to show */
        return;
    }
    sx_map_put(&x->loads, ref, l);
    u->fstate = SX_FRIENDS_LOADING;
}

static void load_done(sx_t *x, hearth_msg_t *m)
{
    sx_load_t *l = sx_map_del(&x->loads, m->ref);
    sx_user_t *u;

    if (l == NULL)
        return;
    u = sx__user(x, l->user_id, false);
    if (u != NULL && u->fstate == SX_FRIENDS_LOADING) {
        if (u->fdirty) {
            friends_load(x, u); /* a change raced this load */
        } else {
            u->fstate = SX_FRIENDS_READY;
            if (l->rc == 0) {
                free(u->friends);
                u->friends = l->ids;
                u->nfriends = u->capfriends = (uint32_t)l->n;
                l->ids = NULL;
            }
            sx__presence_changed(x, u);
        }
        sx__user_maybe_free(x, u);
    }
    /* A job the pool never ran never dropped its reference: drop it for it. (Read after
     * WORK_DONE, which the pool sends after the job returned.) */
    if (!atomic_load_explicit(&l->ran, memory_order_relaxed))
        load_unref(l);
    load_unref(l);
}

static void friend_set(sx_t *x, uint64_t a, uint64_t b, bool on)
{
    sx_user_t *u = sx__user(x, a, false);
    uint32_t i;

    if (u == NULL)
        return;
    if (u->fstate == SX_FRIENDS_LOADING) {
        u->fdirty = true;
        return;
    }
    if (u->fstate != SX_FRIENDS_READY)
        return;
    i = friend_pos(u, b);
    if (on) {
        if (i < u->nfriends && u->friends[i] == b)
            return;
        if (u->nfriends == u->capfriends) {
            u->capfriends = u->capfriends ? u->capfriends * 2 : 8;
            u->friends = realloc(u->friends, u->capfriends * sizeof(*u->friends));
            if (u->friends == NULL)
                abort();
        }
        memmove(&u->friends[i + 1], &u->friends[i], (u->nfriends - i) * sizeof(*u->friends));
        u->friends[i] = b;
        u->nfriends++;
    } else if (i < u->nfriends && u->friends[i] == b) {
        memmove(&u->friends[i], &u->friends[i + 1], (u->nfriends - i - 1) * sizeof(*u->friends));
        u->nfriends--;
    }
}

/* ---- sessions -------------------------------------------------------------------------------- */

static sx_sess_t *sess_add(sx_t *x, hearth_pid_t pid, uint64_t user_id)
{
    sx_sess_t *s = calloc(1, sizeof(*s));
    sx_user_t *u = sx__user(x, user_id, true);

    if (s == NULL)
        abort();
    s->pid = pid;
    s->user = u;
    hearth_monitor(pid, &s->mon); /* a session already gone sends its DOWN at once */
    if (u->ns == u->caps) {
        u->caps = u->caps ? u->caps * 2 : 2;
        u->s = realloc(u->s, u->caps * sizeof(*u->s));
        if (u->s == NULL)
            abort();
    }
    u->s[u->ns++] = s;
    sx_map_put(&x->sessions, pid, s);
    if (u->fstate == SX_FRIENDS_NONE)
        friends_load(x, u);
    return s;
}

static void sess_drop(sx_t *x, hearth_pid_t pid, bool demonitor)
{
    sx_sess_t *s = sx_map_del(&x->sessions, pid);
    sx_user_t *u;
    uint32_t i;

    if (s == NULL)
        return;
    if (demonitor)
        hearth_demonitor(s->mon, false);
    u = s->user;
    for (i = 0; i < u->ns; i++)
        if (u->s[i] == s) {
            u->s[i] = u->s[--u->ns];
            break;
        }
    sx__queue_free(s);
    json_decref(s->acts);
    free(s);
    sx__presence_changed(x, u);
    sx__user_maybe_free(x, u);
}

/* A session's user, made sure of: one that speaks for another user now (it reset and
 * identified again) starts afresh. */
static sx_sess_t *sess_for(sx_t *x, hearth_pid_t pid, uint64_t user_id)
{
    sx_sess_t *s = sx_map_get(&x->sessions, pid);

    if (s != NULL && s->user->id != user_id) {
        sess_drop(x, pid, true);
        s = NULL;
    }
    return s != NULL ? s : sess_add(x, pid, user_id);
}

static void prepare(sx_t *x, hearth_msg_t *m)
{
    sx_prepare_t p;

    if (m->len < sizeof(p))
        return;
    memcpy(&p, m->data, sizeof(p));
    if (p.user_id == 0 || p.session == HEARTH_PID_NONE)
        return;
    sess_for(x, p.session, p.user_id);
}

static void session_presence(sx_t *x, hearth_msg_t *m)
{
    const sx_item_t *it;
    sx_session_t p;
    sx_sess_t *s;
    json_t *acts = NULL;
    uint32_t i;

    if (m->len < sizeof(p) || m->from == HEARTH_PID_NONE)
        return;
    memcpy(&p, m->data, sizeof(p));
    p.status[sizeof(p.status) - 1] = '\0';
    if (p.user_id == 0)
        return;
    s = sess_for(x, m->from, p.user_id);
    if (!s->joined) {
        /* Joining: the held documents are encoded in the form now known, and go. */
        s->joined = true;
        s->form = p.form == HUB_FORM_ETF ? HUB_FORM_ETF : HUB_FORM_JSON;
        for (i = 0; i < s->nq; i++) {
            it = &s->q[i];
            if (it->doc != NULL) {
                s->q[i].p = hub_encode(it->doc, s->form);
                json_decref(s->q[i].doc);
                s->q[i].doc = NULL;
            }
        }
        sx__flush_session(x, s);
    }
    if (m->len > sizeof(p))
        acts = json_loadb((const char *)m->data + sizeof(p), m->len - sizeof(p), 0, NULL);
    if (!json_is_array(acts) || json_array_size(acts) == 0) {
        json_decref(acts);
        acts = NULL;
    }
    json_decref(s->acts);
    s->acts = acts;
    s->status = (uint8_t)sx__status_code(p.status);
    s->spoke = ++x->clock;
    sx__presence_changed(x, s->user);
}

/* ---- relationship changes -------------------------------------------------------------------- */

/* Tells user_id's sessions that its row about other went from was to now. */
static void side(sx_t *x, uint64_t user_id, uint64_t other, int was, int now, const json_t *obj)
{
    sx_user_t *u = sx__user(x, user_id, false);
    sx_enc_t enc = {0};
    char id[24];
    int32_t ev;
    uint32_t i;

    if (was == now || u == NULL || u->ns == 0)
        return;
    if (now != STORE_REL_NONE) {
        ev = SOCIAL_EV_RELATIONSHIP_ADD;
        enc.doc = json_is_object(obj) ? json_copy((json_t *)obj) : json_object();
        json_object_set_new(enc.doc, "id", json_string(snowflake_str(other, id)));
        json_object_set_new(enc.doc, "type", json_integer(now));
        if (json_object_get(enc.doc, "nickname") == NULL)
            json_object_set_new(enc.doc, "nickname", json_null());
        /* Discord's clients ring for a new incoming request. */
        json_object_set_new(enc.doc, "should_notify", json_boolean(now == STORE_REL_INCOMING));
    } else {
        ev = SOCIAL_EV_RELATIONSHIP_REMOVE;
        enc.doc =
            json_pack("{s:s, s:i, s:n}", "id", snowflake_str(other, id), "type", was, "nickname");
    }
    for (i = 0; i < u->ns; i++) {
        sx__queue(x, u->s[i], ev, 0, &enc);
        sx__flush_session(x, u->s[i]); /* relationship events do not wait */
    }
    sx__enc_clear(&enc);
    json_decref(enc.doc);
}

/* Shows from's current presence to to's sessions (two users just became friends). */
static void show_to(sx_t *x, uint64_t from, uint64_t to)
{
    sx_user_t *f = sx__user(x, from, false), *t = sx__user(x, to, false);
    sx_enc_t enc = {0};
    uint32_t i;

    if (f == NULL || t == NULL || f->shown == SX_OFFLINE || t->ns == 0)
        return;
    enc.doc = sx__presence_doc(f);
    for (i = 0; i < t->ns; i++)
        sx__queue(x, t->s[i], HUB_EV_PRESENCE_UPDATE, from, &enc);
    sx__enc_clear(&enc);
    json_decref(enc.doc);
}

static void change(sx_t *x, hearth_msg_t *m)
{
    json_t *docs = NULL;
    sx_change_t c;
    bool was, now;

    if (m->len < sizeof(c))
        return;
    memcpy(&c, m->data, sizeof(c));
    if (m->len > sizeof(c))
        docs = json_loadb((const char *)m->data + sizeof(c), m->len - sizeof(c), 0, NULL);
    side(x, c.user, c.other, c.ch.user_was, c.ch.user_now, json_object_get(docs, "user"));
    side(x, c.other, c.user, c.ch.other_was, c.ch.other_now, json_object_get(docs, "other"));
    was = c.ch.user_was == STORE_REL_FRIEND;
    now = c.ch.user_now == STORE_REL_FRIEND;
    if (was != now) {
        friend_set(x, c.user, c.other, now);
        friend_set(x, c.other, c.user, now);
        if (now) {
            show_to(x, c.user, c.other);
            show_to(x, c.other, c.user);
        }
    }
    json_decref(docs);
}

/* ---- calls ----------------------------------------------------------------------------------- */

/* READY's presences: of the users named in the request, those online. */
static hearth_msg_t *presences(sx_t *x, hearth_msg_t *req)
{
    const uint64_t *ids = req->data;
    size_t i, n = req->len / sizeof(uint64_t);
    json_t *a = json_array();
    hearth_msg_t *reply;
    uint64_t id;
    sx_user_t *u;
    char *text;

    for (i = 0; i < n; i++) {
        memcpy(&id, &ids[i], sizeof(id));
        u = sx__user(x, id, false);
        if (u != NULL && u->shown != SX_OFFLINE)
            json_array_append_new(a, sx__presence_doc(u));
    }
    text = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    reply = hearth_msg_copy(SX_TAG_PRESENCES, text, text != NULL ? strlen(text) : 0);
    free(text);
    return reply;
}

/* ---- the server's callbacks ------------------------------------------------------------------ */

static int sx_init(void **state, void *arg)
{
    sx_t *x = calloc(1, sizeof(*x));

    (void)arg;
    if (x == NULL)
        return HEARTH_ENOMEM;
    x->cfg = sx__config;
    if (x->cfg.flush_ms <= 0)
        x->cfg.flush_ms = 50;
    if (x->cfg.presence_rate == 0)
        x->cfg.presence_rate = 5;
    if (x->cfg.presence_rate > SX_RATE_MAX)
        x->cfg.presence_rate = SX_RATE_MAX;
    if (x->cfg.presence_window_ms <= 0)
        x->cfg.presence_window_ms = 20000;
    if (x->cfg.held_max == 0)
        x->cfg.held_max = 4096;
    *state = x;
    return 0;
}

static int sx_call(void *state, hearth_msg_t *req, const hearth_server_from_t *from,
                   hearth_msg_t **reply)
{
    sx_t *x = state;
    social_stats_t st;

    (void)from;
    switch (req->tag) {
    case SX_TAG_PREPARE:
        prepare(x, req);
        *reply = hearth_msg_int(SX_TAG_PREPARE, 0);
        return 0;
    case SX_TAG_PRESENCES:
        *reply = presences(x, req);
        return 0;
    case SX_TAG_STATS:
        st = x->stats;
        st.users = x->users.n;
        st.sessions = x->sessions.n;
        *reply = hearth_msg_copy(SX_TAG_STATS, &st, sizeof(st));
        return 0;
    default:
        *reply = hearth_msg_int(0, HEARTH_EINVAL);
        return 0;
    }
}

static int sx_cast(void *state, hearth_msg_t *m)
{
    sx_t *x = state;

    switch (m->tag) {
    case SX_TAG_SESSION:
        session_presence(x, m);
        break;
    case SX_TAG_LEAVE:
        sess_drop(x, m->from, true);
        break;
    case SX_TAG_CHANGE:
        change(x, m);
        break;
    default:
        break;
    }
    return 0;
}

static int sx_info(void *state, hearth_msg_t *m)
{
    sx_t *x = state;
    sx_user_t *u;

    switch (m->tag) {
    case SX_TAG_FLUSH:
        sx__flush_all(x);
        break;
    case SX_TAG_RATE:
        u = sx__user(x, (uint64_t)m->value, false);
        if (u != NULL)
            sx__presence_window(x, u);
        break;
    case HEARTH_MSG_DOWN:
        sess_drop(x, m->from, false);
        break;
    case HEARTH_MSG_WORK_DONE:
        load_done(x, m);
        break;
    default:
        break;
    }
    return 0;
}

static void sx_terminate(void *state, hearth_reason_t reason)
{
    sx_t *x = state;
    size_t i = 0;
    void *v;

    (void)reason;
    while (sx_map_next(&x->sessions, &i, NULL, &v)) {
        sx_sess_t *s = v;
        sx__queue_free(s);
        json_decref(s->acts);
        free(s);
    }
    i = 0;
    while (sx_map_next(&x->users, &i, NULL, &v))
        user_free(v);
    i = 0;
    while (sx_map_next(&x->loads, &i, NULL, &v))
        load_unref(v); /* the job frees it if it is still running */
    sx_map_free(&x->sessions);
    sx_map_free(&x->users);
    sx_map_free(&x->loads);
    free(x->dirty);
    free(x);
}

const hearth_server_cbs_t sx__cbs = {
    .init = sx_init,
    .handle_call = sx_call,
    .handle_cast = sx_cast,
    .handle_info = sx_info,
    .terminate = sx_terminate,
};
