/* The hub process: one green thread per active guild ("guild:<id>") or private
 * channel ("dm:<id>"), started by sup.c under the hubs' supervisor.
 *
 * It loads its state from the store, then handles one message at a time:
 *   - a request (hub_request's call): runs the op (ops_*.c), which may block on the
 *     store while writing; since nothing else runs meanwhile, writes are serialized,
 *     ids come out in order and every event is fanned out in that order;
 *   - a subscription from a gateway session: monitors it, answers with the snapshot;
 *   - a session's presence, its unsubscription or its DOWN;
 *   - for a private hub, the directory's news of its recipients' new sessions;
 *   - an exit signal from its supervisor (it traps exits): it stops.
 * A guild hub with no subscribers, or a private hub without requests, stops after
 * hub__config.idle_ms: it unregisters its name first, so the next request starts a new
 * hub, and answers what is still queued with "ask again" (status 0), which hub_request
 * turns into a retry, so no request is handled by a hub whose successor already
 * loaded the state. */
#include "internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- subscribers --------------------------------------------------------------------------------
 */

size_t hub__sub_find(const hub_t *h, hearth_pid_t pid)
{
    uint64_t i;

    return u64map_get(&h->sub_index, pid, &i) ? (size_t)i : (size_t)-1;
}

size_t hub__sub_add(hub_t *h, hearth_pid_t pid, uint64_t user_id, uint64_t intents, unsigned form)
{
    size_t i = hub__sub_find(h, pid);
    uint64_t count = 0;
    hub_sub_t *s;

    if (i != (size_t)-1) {
        /* A session subscribing again (after a refusal it did not see, say): update. */
        h->subs[i].intents = intents;
        h->subs[i].form = form == HUB_FORM_ETF;
        return i;
    }
    if (h->nsubs == h->capsubs) {
        h->capsubs = h->capsubs ? h->capsubs * 2 : 8;
        h->subs = realloc(h->subs, h->capsubs * sizeof(*h->subs));
        if (h->subs == NULL)
            abort();
    }
    i = h->nsubs++;
    s = &h->subs[i];
    s->pid = pid;
    s->user_id = user_id;
    s->intents = intents;
    s->form = form == HUB_FORM_ETF;
    s->mon = 0;
    hearth_monitor(pid, &s->mon); /* a dead session's DOWN comes at once */
    u64map_put(&h->sub_index, pid, i);
    u64map_get(&h->user_subs, user_id, &count);
    u64map_put(&h->user_subs, user_id, count + 1);
    return i;
}

size_t hub__sub_remove(hub_t *h, size_t i)
{
    hub_sub_t gone = h->subs[i];
    uint64_t count = 0;

    hearth_demonitor(gone.mon, true);
    u64map_del(&h->sub_index, gone.pid, NULL);
    h->nsubs--;
    if (i != h->nsubs) {
        h->subs[i] = h->subs[h->nsubs];
        u64map_put(&h->sub_index, h->subs[i].pid, i);
    }
    if (h->nsubs == 0) {
        free(h->subs);
        h->subs = NULL;
        h->capsubs = 0;
    }
    u64map_get(&h->user_subs, gone.user_id, &count);
    if (count <= 1) {
        u64map_del(&h->user_subs, gone.user_id, NULL);
        return 0;
    }
    u64map_put(&h->user_subs, gone.user_id, count - 1);
    return (size_t)count - 1;
}

void hub__unsubscribe_user(hub_t *h, uint64_t user_id, bool guild_delete)
{
    json_t *d = NULL;
    size_t i;

    if (guild_delete)
        d = json_pack("{s:o}", "id", hub__id_json(h->id));
    for (i = h->nsubs; i-- > 0;) {
        if (h->subs[i].user_id != user_id)
            continue;
        if (guild_delete)
            hub__send_one(h, h->subs[i].pid, h->subs[i].form ? HUB_FORM_ETF : HUB_FORM_JSON,
                          HUB_EV_GUILD_DELETE, d);
        hub__sub_remove(h, i);
    }
    json_decref(d);
}

void hub__snap_invalidate(hub_t *h, bool members_only)
{
    int f, large;

    /* snap[f][0] lists members and presences (a small guild); snap[f][1] does not. */
    for (f = 0; f < 2; f++)
        for (large = 0; large < (members_only ? 1 : 2); large++)
            if (h->snap[f][large] != NULL) {
                hearth_payload_unref(h->snap[f][large]);
                h->snap[f][large] = NULL;
            }
}

/* ---- loading
 * -------------------------------------------------------------------------------------- */

static int64_t guild_load_job(store_t *s, void *arg)
{
    hub_job_t *j = arg;

    return store_guild_load(s, j->a, &j->out);
}

static int64_t channel_load_job(store_t *s, void *arg)
{
    hub_job_t *j = arg;

    return store_channel_get(s, j->a, 0, &j->out);
}

/* Indexes an array of objects by their id (or user.id) into a new object. */
static json_t *index_by_id(json_t *arr, bool by_user)
{
    json_t *o = json_object(), *v;
    char key[21];
    size_t i;

    json_array_foreach(arr, i, v)
    {
        uint64_t id = hub__json_id(json_object_get(by_user ? json_object_get(v, "user") : v, "id"));
        if (id != 0)
            json_object_set(o, hub__key(id, key), v);
    }
    return o;
}

static int load_guild(hub_t *h)
{
    hub_job_t *j = hub__job_new();
    int rc;

    j->a = h->id;
    rc = hub__job_run(guild_load_job, j);
    if (rc == 0) {
        h->guild = j->out;
        j->out = NULL;
        h->channels = index_by_id(json_object_get(h->guild, "channels"), false);
        h->members = index_by_id(json_object_get(h->guild, "members"), true);
        h->owner_id = hub__json_id(json_object_get(h->guild, "owner_id"));
        hub__perms_load(h, h->guild);
        json_object_del(h->guild, "channels");
        json_object_del(h->guild, "members");
        json_object_del(h->guild, "member_count");
    }
    hub__job_free(j);
    if (rc == 0)
        hub__automod_load(h);
    return rc;
}

/* The directory's current sessions of the recipients, and from now on its news. */
static void watch_recipients(hub_t *h)
{
    hearth_pid_t dir = hearth_whereis(HUB_DIRECTORY_NAME);
    const hub_dir_sess_t *ss;
    hearth_msg_t *reply;
    size_t i, n;

    if (dir == HEARTH_PID_NONE || h->nrecipients == 0)
        return;
    if (hearth_call(
            dir,
            hearth_msg_copy(HUB_TAG_DIR_WATCH, h->recipients, h->nrecipients * sizeof(uint64_t)),
            5000, &reply) < 0)
        return;
    ss = reply->data;
    n = reply->len / sizeof(*ss);
    for (i = 0; i < n; i++)
        if (ss[i].shard_id == 0)
            hub__sub_add(h, ss[i].pid, ss[i].user_id, ss[i].intents, ss[i].form);
    hearth_msg_free(reply);
}

static int load_private(hub_t *h)
{
    hub_job_t *j = hub__job_new();
    json_t *recips, *v;
    size_t i;
    int rc;

    j->a = h->id;
    rc = hub__job_run(channel_load_job, j);
    if (rc == 0) {
        int64_t type = json_integer_value(json_object_get(j->out, "type"));
        if (type != STORE_CHANNEL_DM && type != STORE_CHANNEL_GROUP_DM) {
            rc = STORE_ENOTFOUND;
        } else {
            h->channel = j->out;
            j->out = NULL;
            recips = json_object_get(h->channel, "recipients");
            h->recipients = calloc(json_array_size(recips) + 1, sizeof(uint64_t));
            if (h->recipients == NULL)
                abort();
            json_array_foreach(recips, i, v)
            {
                uint64_t id = hub__json_id(json_object_get(v, "id"));
                if (id != 0 && !hub__is_recipient(h, id))
                    h->recipients[h->nrecipients++] = id;
            }
        }
    }
    hub__job_free(j);
    if (rc == 0)
        watch_recipients(h);
    return rc;
}

/* ---- messages
 * --------------------------------------------------------------------------------------- */

static void reply_result(hearth_msg_t *call, const hub_result_t *res)
{
    hub_reply_t rep;
    hearth_msg_t *m;
    char *body = NULL;
    size_t blen = 0;

    memset(&rep, 0, sizeof(rep));
    rep.status = res->status;
    rep.code = res->code;
    memcpy(rep.message, res->message, sizeof(rep.message));
    if (res->body != NULL && (body = json_dumps(res->body, JSON_COMPACT | JSON_ENCODE_ANY)))
        blen = strlen(body);
    m = hearth_msg_new(HUB_TAG_REPLY, sizeof(rep) + blen);
    memcpy(m->data, &rep, sizeof(rep));
    if (blen)
        memcpy((char *)m->data + sizeof(rep), body, blen);
    free(body);
    hearth_reply(call->from, call->ref, m);
}

static void request(hub_t *h, hearth_msg_t *m)
{
    hub_result_t res;
    hub_req_t req;
    json_t *args = NULL;

    memset(&res, 0, sizeof(res));
    h->last_activity = (int64_t)hearth_now_ms();
    if (m->value != HUB_TAG_REQUEST || m->len < sizeof(req)) {
        hub__err(&res, 400, 0, "400: Bad Request");
        goto out;
    }
    memcpy(&req, m->data, sizeof(req));
    if (m->len > sizeof(req))
        args = json_loadb((const char *)m->data + sizeof(req), m->len - sizeof(req), 0, NULL);
    if (!json_is_object(args)) {
        json_decref(args);
        args = json_object();
    }
    if (h->gone)
        hub__errc(&res, 404, h->kind == HUB_KIND_GUILD ? 10004 : 10003);
    else
        hub__op(h, (hub_op_t)req.op, req.actor, args, &res);
out:
    if (res.status == 0)
        hub__err(&res, 500, 0, "500: Internal Server Error");
    reply_result(m, &res);
    hub_result_clear(&res);
    json_decref(args);
}

static void subscribe(hub_t *h, hearth_msg_t *m)
{
    hub_subscribe_t sub;

    if (m->len < sizeof(sub) || m->from == HEARTH_PID_NONE)
        return;
    memcpy(&sub, m->data, sizeof(sub));
    sub.status[sizeof(sub.status) - 1] = '\0';
    h->last_activity = (int64_t)hearth_now_ms();
    if (h->gone || (h->kind == HUB_KIND_GUILD && !hub__is_member(h, sub.user_id)) ||
        (h->kind == HUB_KIND_PRIVATE && !hub__is_recipient(h, sub.user_id))) {
        hub__send_refusal(m->from, sub.ref);
        return;
    }
    hub__sub_add(h, m->from, sub.user_id, sub.intents, sub.form);
    if (h->kind == HUB_KIND_GUILD)
        hub__presence_set(h, sub.user_id, sub.status[0] ? sub.status : "online", NULL);
    hub__send_snapshot(h, m->from, sub.form, sub.ref, sub.large_threshold, sub.user_id);
}

static void session_gone(hub_t *h, hearth_pid_t pid)
{
    size_t i = hub__sub_find(h, pid);
    uint64_t user;

    if (i == (size_t)-1)
        return;
    user = h->subs[i].user_id;
    if (hub__sub_remove(h, i) == 0 && h->kind == HUB_KIND_GUILD)
        hub__presence_gone(h, user);
}

static void presence(hub_t *h, hearth_msg_t *m)
{
    hub_presence_t p;
    json_t *acts = NULL;
    size_t i = hub__sub_find(h, m->from);

    if (i == (size_t)-1 || m->len < sizeof(p) || h->kind != HUB_KIND_GUILD)
        return;
    memcpy(&p, m->data, sizeof(p));
    p.status[sizeof(p.status) - 1] = '\0';
    if (p.user_id != h->subs[i].user_id)
        return; /* a session speaks for its own user only */
    if (m->len > sizeof(p))
        acts = json_loadb((const char *)m->data + sizeof(p), m->len - sizeof(p), 0, NULL);
    if (!json_is_array(acts)) {
        json_decref(acts);
        acts = json_array();
    }
    hub__presence_set(h, p.user_id, p.status, acts);
    json_decref(acts);
}

static void dir_up(hub_t *h, hearth_msg_t *m)
{
    hub_dir_sess_t s;

    if (m->len < sizeof(s) || h->kind != HUB_KIND_PRIVATE)
        return;
    memcpy(&s, m->data, sizeof(s));
    if (s.shard_id == 0 && hub__is_recipient(h, s.user_id))
        hub__sub_add(h, s.pid, s.user_id, s.intents, s.form);
}

static void handle(hub_t *h, hearth_msg_t *m)
{
    switch (m->tag) {
    case HEARTH_MSG_CALL:
        request(h, m);
        break;
    case HUB_TAG_SUBSCRIBE:
        subscribe(h, m);
        break;
    case HUB_TAG_UNSUBSCRIBE:
        session_gone(h, m->from);
        break;
    case HUB_TAG_PRESENCE:
        presence(h, m);
        break;
    case HUB_TAG_MEMBERS:
        hub__members_request(h, m);
        break;
    case HEARTH_MSG_DOWN:
        session_gone(h, m->from);
        break;
    case HUB_TAG_DIR_UP:
        dir_up(h, m);
        break;
    case HEARTH_MSG_EXIT:
        h->stop = true; /* only our supervisor is linked: it is shutting us down */
        break;
    default:
        break; /* stale replies and strays */
    }
}

/* ---- life
 * ---------------------------------------------------------------------------------------------- */

static int64_t idle_timeout(const hub_t *h)
{
    int64_t left;

    if (h->kind == HUB_KIND_GUILD && h->nsubs > 0 && !h->gone)
        return HEARTH_INFINITY;
    left = h->last_activity + hub__config.idle_ms - (int64_t)hearth_now_ms();
    return left > 0 ? left : 0;
}

/* Leaves: unregisters, then answers whatever is queued with "ask again". */
static void retire(hub_t *h)
{
    hub_result_t res;
    hearth_msg_t *m;
    char name[48];

    snprintf(name, sizeof(name), "%s:%" PRIu64, h->kind == HUB_KIND_GUILD ? "guild" : "dm", h->id);
    hearth_unregister(name);
    memset(&res, 0, sizeof(res));
    while (hearth_receive(NULL, NULL, 0, &m) == 0) {
        if (m->tag == HEARTH_MSG_CALL)
            reply_result(m, &res); /* status 0 */
        hearth_msg_free(m);
    }
    if (h->kind == HUB_KIND_PRIVATE && hearth_whereis(HUB_DIRECTORY_NAME) != HEARTH_PID_NONE)
        hearth_server_cast(hearth_whereis(HUB_DIRECTORY_NAME),
                           hearth_msg_int(HUB_TAG_DIR_UNWATCH, 0));
}

static void hub_free(hub_t *h)
{
    int f, l;

    json_decref(h->guild);
    json_decref(h->channels);
    json_decref(h->members);
    perm_cache_free(h->perms);
    automod_free(h->am);
    hub__presence_free(h);
    json_decref(h->channel);
    free(h->recipients);
    free(h->subs);
    u64map_free(&h->sub_index);
    u64map_free(&h->user_subs);
    for (f = 0; f < 2; f++)
        for (l = 0; l < 2; l++)
            if (h->snap[f][l] != NULL)
                hearth_payload_unref(h->snap[f][l]);
    free(h);
}

void hub__main(void *arg)
{
    hub_start_t st = *(hub_start_t *)arg;
    hearth_msg_t *m;
    hub_t *h;
    int rc;

    free(arg);
    h = calloc(1, sizeof(*h));
    if (h == NULL)
        abort();
    h->kind = st.kind;
    h->id = st.id;
    h->last_activity = (int64_t)hearth_now_ms();
    rc = h->kind == HUB_KIND_GUILD ? load_guild(h) : load_private(h);
    if (rc == STORE_ENOTFOUND) {
        h->gone = true; /* deleted meanwhile: answer 404s, then go */
    } else if (rc < 0) {
        retire(h); /* the store failed: callers retry with a new hub */
        hub_free(h);
        return;
    }
    while (!h->stop) {
        int64_t t = h->gone ? 0 : idle_timeout(h);
        rc = hearth_receive(NULL, NULL, t, &m);
        if (rc == HEARTH_ETIMEDOUT) {
            if (idle_timeout(h) == 0 || h->gone)
                break;
            continue;
        }
        if (rc < 0)
            break;
        handle(h, m);
        hearth_msg_free(m);
    }
    retire(h);
    hub_free(h);
}
