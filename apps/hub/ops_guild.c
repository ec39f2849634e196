/* Guild-level ops of a hub, and the op dispatcher: access checks, channels, the guild
 * itself, members and invites. Roles answer 501 until the permissions issue.
 *
 * Access for now: members may check access, create invites, leave and change their own
 * nickname; the owner manages (channels, the guild, kicks, others' members, others'
 * invites) and alone may delete the guild. A private hub (DM, group DM) takes the
 * message ops, access checks, and channel modify (group DM name, icon) and delete
 * (closing a DM, leaving a group DM). */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool hub__op_message(hub_t *h, hub_op_t op, uint64_t actor, json_t *args, hub_result_t *res);

static bool is_owner(const hub_t *h, uint64_t actor)
{
    return h->kind == HUB_KIND_GUILD && actor == h->owner_id;
}

/* Fans a guild-level event out to the sessions with one of the need intents. */
static void fan(hub_t *h, hub_event_t ev, uint64_t need, json_t *d)
{
    hub_fan_t f;

    memset(&f, 0, sizeof(f));
    f.ev = ev;
    f.need = need;
    hub__fanout(h, &f, d);
}

/* ---- access
 * ------------------------------------------------------------------------------------------ */

static void op_check(hub_t *h, uint64_t actor, json_t *args, hub_result_t *res)
{
    uint64_t cid = 0;
    int has = hub__arg_id(args, "channel_id", &cid);

    if (has < 0 || (has == 1 && hub__channel(h, cid) == NULL)) {
        hub__errc(res, 404, 10003);
        return;
    }
    if (h->kind == HUB_KIND_GUILD ? !hub__is_member(h, actor) : !hub__is_recipient(h, actor)) {
        hub__errc(res, 403, 50001);
        return;
    }
    hub__ok(res, 204, NULL);
}

/* ---- channels
 * -------------------------------------------------------------------------------------------- */

static int64_t channel_create_job(store_t *s, void *arg)
{
    hub_job_t *j = arg;

    return store_channel_create(s, j->a, j->params, &j->out);
}

static int64_t channel_modify_job(store_t *s, void *arg)
{
    hub_job_t *j = arg;

    return store_channel_modify(s, j->a, j->params, &j->out);
}

static int64_t channel_delete_job(store_t *s, void *arg)
{
    hub_job_t *j = arg;
    int rc;

    rc = store_channel_delete(s, j->a, &j->out);
    /* A category's children moved to no parent: the guild's list again. */
    if (rc == 0 && j->b != 0)
        store_channel_list(s, j->b, &j->out2);
    return rc;
}

static int64_t group_leave_job(store_t *s, void *arg)
{
    hub_job_t *j = arg;

    return store_group_dm_remove(s, j->a, j->b);
}

/* Field checks the store would only answer with a bare STORE_EINVAL. */
static json_t *validate_channel(const json_t *args, bool create)
{
    json_t *errs = NULL, *v;
    size_t n;

    v = json_object_get(args, "name");
    if (v == NULL && create) {
        hub__form_error(&errs, "name", "BASE_TYPE_REQUIRED", "This field is required");
    } else if (v != NULL) {
        n = json_is_string(v) ? json_string_length(v) : 0;
        if (!json_is_string(v))
            hub__form_error(&errs, "name", "BASE_TYPE_STRING", "Must be a string.");
        else if (n < 1 || n > 100)
            hub__form_error(&errs, "name", "BASE_TYPE_BAD_LENGTH",
                            "Must be between 1 and 100 in length.");
    }
    v = json_object_get(args, "type");
    if (create && v != NULL && !json_is_null(v)) {
        int64_t t = json_integer_value(v);
        if (!json_is_integer(v) ||
            (t != STORE_CHANNEL_TEXT && t != STORE_CHANNEL_VOICE && t != STORE_CHANNEL_CATEGORY))
            hub__form_error(&errs, "type", "BASE_TYPE_CHOICES", "Value must be one of {0, 2, 4}.");
    }
    v = json_object_get(args, "topic");
    if (v != NULL && !json_is_null(v) && (!json_is_string(v) || json_string_length(v) > 1024))
        hub__form_error(&errs, "topic", "BASE_TYPE_MAX_LENGTH", "Must be 1024 or fewer in length.");
    return errs;
}

static void op_channel_create(hub_t *h, uint64_t actor, json_t *args, hub_result_t *res)
{
    json_t *errs, *d;
    hub_job_t *j;
    char key[21];
    int rc;

    if (!hub__is_member(h, actor)) {
        hub__errc(res, 403, 50001);
        return;
    }
    if (!is_owner(h, actor)) {
        hub__errc(res, 403, 50013);
        return;
    }
    if ((errs = validate_channel(args, true)) != NULL) {
        hub__form_fail(res, errs);
        return;
    }
    j = hub__job_new();
    j->a = h->id;
    j->params = args;
    rc = hub__job_run(channel_create_job, j);
    if (rc == STORE_ENOTFOUND) {
        hub__form_error(&errs, "parent_id", "CHANNEL_PARENT_INVALID", "Unknown category");
        hub__form_fail(res, errs);
    } else if (rc < 0) {
        hub__store_err(res, rc, 10004);
    } else {
        d = j->out;
        json_object_set(h->channels, hub__key(hub__json_id(json_object_get(d, "id")), key), d);
        hub__snap_invalidate(h, false);
        fan(h, HUB_EV_CHANNEL_CREATE, HUB_INTENT_GUILDS, d);
        hub__ok(res, 201, json_incref(d));
    }
    hub__job_free(j);
}

static void op_channel_modify(hub_t *h, uint64_t actor, json_t *args, hub_result_t *res)
{
    json_t *errs, *d, *p;
    hub_job_t *j;
    uint64_t cid = 0;
    char key[21];
    int rc;

    if (hub__arg_id(args, "channel_id", &cid) != 1 || hub__channel(h, cid) == NULL) {
        hub__errc(res, 404, 10003);
        return;
    }
    if (h->kind == HUB_KIND_GUILD ? !hub__is_member(h, actor) : !hub__is_recipient(h, actor)) {
        hub__errc(res, 403, 50001);
        return;
    }
    if (h->kind == HUB_KIND_PRIVATE &&
        json_integer_value(json_object_get(h->channel, "type")) != STORE_CHANNEL_GROUP_DM) {
        hub__errc(res, 400, 50024);
        return;
    }
    if (h->kind == HUB_KIND_GUILD && !is_owner(h, actor)) {
        hub__errc(res, 403, 50013);
        return;
    }
    if ((errs = validate_channel(args, false)) != NULL) {
        hub__form_fail(res, errs);
        return;
    }
    p = json_copy(args);
    json_object_del(p, "channel_id");
    json_object_del(p, "type");
    j = hub__job_new();
    j->a = cid;
    j->params = p;
    rc = hub__job_run(channel_modify_job, j);
    if (rc == STORE_ENOTFOUND) {
        hub__form_error(&errs, "parent_id", "CHANNEL_PARENT_INVALID", "Unknown category");
        hub__form_fail(res, errs);
    } else if (rc < 0) {
        hub__store_err(res, rc, 10003);
    } else {
        d = j->out;
        if (h->kind == HUB_KIND_GUILD) {
            json_object_set(h->channels, hub__key(cid, key), d);
            hub__snap_invalidate(h, false);
            fan(h, HUB_EV_CHANNEL_UPDATE, HUB_INTENT_GUILDS, d);
        } else {
            /* Keep the hub's own copy with every recipient (the store's answer left out
             * none, as the viewer is 0). */
            json_decref(h->channel);
            h->channel = json_incref(d);
            hub__snap_invalidate(h, false);
            fan(h, HUB_EV_CHANNEL_UPDATE, 0, d);
        }
        hub__ok(res, 200, json_incref(d));
    }
    json_decref(p);
    hub__job_free(j);
}

static void op_channel_delete(hub_t *h, uint64_t actor, json_t *args, hub_result_t *res)
{
    json_t *d, *ch, *v;
    hub_job_t *j;
    uint64_t cid = 0;
    hub_fan_t f;
    char key[21];
    size_t i;
    int rc;

    if (hub__arg_id(args, "channel_id", &cid) != 1 || (ch = hub__channel(h, cid)) == NULL) {
        hub__errc(res, 404, 10003);
        return;
    }
    if (h->kind == HUB_KIND_GUILD ? !hub__is_member(h, actor) : !hub__is_recipient(h, actor)) {
        hub__errc(res, 403, 50001);
        return;
    }
    if (h->kind == HUB_KIND_PRIVATE) {
        /* Closing a DM deletes nothing; leaving a group DM removes the actor. Either way
         * only the actor's sessions hear of it. */
        if (json_integer_value(json_object_get(ch, "type")) == STORE_CHANNEL_GROUP_DM) {
            j = hub__job_new();
            j->a = cid;
            j->b = actor;
            rc = hub__job_run(group_leave_job, j);
            hub__job_free(j);
            if (rc < 0) {
                hub__store_err(res, rc, 10003);
                return;
            }
        }
        memset(&f, 0, sizeof(f));
        f.ev = HUB_EV_CHANNEL_DELETE;
        f.only_user = actor;
        hub__fanout(h, &f, ch);
        hub__ok(res, 200, json_incref(ch));
        return;
    }
    if (!is_owner(h, actor)) {
        hub__errc(res, 403, 50013);
        return;
    }
    j = hub__job_new();
    j->a = cid;
    j->b = json_integer_value(json_object_get(ch, "type")) == STORE_CHANNEL_CATEGORY ? h->id : 0;
    rc = hub__job_run(channel_delete_job, j);
    if (rc < 0) {
        hub__store_err(res, rc, 10003);
    } else {
        d = j->out;
        json_object_del(h->channels, hub__key(cid, key));
        if (j->out2 != NULL) {
            json_array_foreach(j->out2, i, v) json_object_set(
                h->channels, hub__key(hub__json_id(json_object_get(v, "id")), key), v);
        }
        hub__snap_invalidate(h, false);
        fan(h, HUB_EV_CHANNEL_DELETE, HUB_INTENT_GUILDS, d);
        hub__ok(res, 200, json_incref(d));
    }
    hub__job_free(j);
}

/* ---- the guild
 * ------------------------------------------------------------------------------------------ */

static int64_t guild_modify_job(store_t *s, void *arg)
{
    hub_job_t *j = arg;

    return store_guild_modify(s, j->a, j->params, &j->out);
}

static int64_t guild_delete_job(store_t *s, void *arg)
{
    hub_job_t *j = arg;

    return store_guild_delete(s, j->a);
}

static void op_guild_modify(hub_t *h, uint64_t actor, json_t *args, hub_result_t *res)
{
    json_t *errs = NULL, *v, *g;
    hub_job_t *j;
    int rc;

    if (!hub__is_member(h, actor)) {
        hub__errc(res, 403, 50001);
        return;
    }
    if (!is_owner(h, actor)) {
        hub__errc(res, 403, 50013);
        return;
    }
    v = json_object_get(args, "name");
    if (v != NULL &&
        (!json_is_string(v) || json_string_length(v) < 2 || json_string_length(v) > 100))
        hub__form_error(&errs, "name", "BASE_TYPE_BAD_LENGTH",
                        "Must be between 2 and 100 in length.");
    if (errs != NULL) {
        hub__form_fail(res, errs);
        return;
    }
    j = hub__job_new();
    j->a = h->id;
    j->params = args;
    rc = hub__job_run(guild_modify_job, j);
    if (rc == STORE_ENOTFOUND && json_object_get(args, "owner_id") != NULL) {
        hub__form_error(&errs, "owner_id", "GUILD_OWNER_INVALID", "The new owner must be a member");
        hub__form_fail(res, errs);
    } else if (rc < 0) {
        hub__store_err(res, rc, 10004);
    } else {
        g = j->out;
        json_object_del(g, "channels");
        json_object_del(g, "members");
        json_object_del(g, "member_count");
        if (json_object_get(g, "roles") == NULL)
            json_object_set(g, "roles", json_object_get(h->guild, "roles"));
        json_decref(h->guild);
        h->guild = json_incref(g);
        h->owner_id = hub__json_id(json_object_get(g, "owner_id"));
        hub__snap_invalidate(h, false);
        fan(h, HUB_EV_GUILD_UPDATE, HUB_INTENT_GUILDS, g);
        hub__ok(res, 200, json_incref(g));
    }
    hub__job_free(j);
}

static void op_guild_delete(hub_t *h, uint64_t actor, json_t *args, hub_result_t *res)
{
    json_t *d;
    hub_job_t *j;
    int rc;

    (void)args;
    if (!hub__is_member(h, actor)) {
        hub__errc(res, 403, 50001);
        return;
    }
    if (!is_owner(h, actor)) {
        hub__errc(res, 403, 50013);
        return;
    }
    j = hub__job_new();
    j->a = h->id;
    rc = hub__job_run(guild_delete_job, j);
    hub__job_free(j);
    if (rc < 0) {
        hub__store_err(res, rc, 10004);
        return;
    }
    /* Every session hears GUILD_DELETE (no "unavailable": it is gone for good), then
     * the hub stops: later requests find no guild. */
    d = json_pack("{s:o}", "id", hub__id_json(h->id));
    fan(h, HUB_EV_GUILD_DELETE, 0, d);
    json_decref(d);
    while (h->nsubs > 0)
        hub__sub_remove(h, h->nsubs - 1);
    h->gone = true;
    h->stop = true;
    hub__ok(res, 204, NULL);
}

/* ---- members
 * ------------------------------------------------------------------------------------------- */

static int64_t member_add_job(store_t *s, void *arg)
{
    hub_job_t *j = arg;
    int rc, got;

    if (j->str != NULL) {
        rc = store_invite_use(s, j->str, j->b, &j->out2);
        if (rc < 0)
            return rc;
        got = store_member_get(s, j->a, j->b, &j->out);
        return got < 0 ? got : rc;
    }
    return store_member_add(s, j->a, j->b, &j->out);
}

static int64_t member_remove_job(store_t *s, void *arg)
{
    hub_job_t *j = arg;

    return store_member_remove(s, j->a, j->b);
}

static int64_t member_modify_job(store_t *s, void *arg)
{
    hub_job_t *j = arg;

    return store_member_modify(s, j->a, j->b, j->params, &j->out);
}

/* GUILD_MEMBER_* "d": the member with guild_id. */
static json_t *member_event(hub_t *h, json_t *member)
{
    json_t *d = json_copy(member);

    json_object_set_new(d, "guild_id", hub__id_json(h->id));
    return d;
}

static void op_member_add(hub_t *h, uint64_t actor, json_t *args, hub_result_t *res)
{
    const char *code = json_string_value(json_object_get(args, "code"));
    hearth_pid_t dir;
    hub_dir_notify_t nt;
    hub_joined_t jn;
    hearth_msg_t *m;
    json_t *d;
    hub_job_t *j;
    uint64_t uid = 0;
    char key[21];
    bool fresh;
    int rc;

    if (hub__arg_id(args, "user_id", &uid) != 1) {
        hub__errc(res, 404, 10013);
        return;
    }
    /* The one joining (REST checked the invite, or passes it as "code"), or the
     * owner adding someone (a bot it authorizes). */
    if (uid != actor && !is_owner(h, actor)) {
        hub__errc(res, 403, 50013);
        return;
    }
    j = hub__job_new();
    j->a = h->id;
    j->b = uid;
    j->str = code;
    rc = hub__job_run(member_add_job, j);
    if (rc == STORE_ENOTFOUND && code != NULL) {
        hub__errc(res, 404, 10006);
        goto out;
    }
    if (rc < 0) {
        hub__store_err(res, rc, 10013);
        goto out;
    }
    /* New to this hub, even if the store had it already (an invite REST accepted
     * itself): cache it and tell everyone. */
    fresh = !hub__is_member(h, uid) && j->out != NULL;
    if (fresh) {
        json_object_set(h->members, hub__key(uid, key), j->out);
        hub__snap_invalidate(h, false);
        d = member_event(h, j->out);
        fan(h, HUB_EV_GUILD_MEMBER_ADD, HUB_INTENT_GUILD_MEMBERS, d);
        json_decref(d);
    }
    /* The member's live sessions that are not subscribed yet subscribe and get
     * GUILD_CREATE (a new member; or the owner of a guild REST just created, which
     * then calls MEMBER_ADD for it: see hub.h). */
    dir = hearth_whereis(HUB_DIRECTORY_NAME);
    if (dir != HEARTH_PID_NONE && !u64map_get(&h->user_subs, uid, NULL)) {
        nt.user_id = uid;
        nt.tag = HUB_TAG_JOINED;
        jn.guild_id = h->id;
        jn.hub = hearth_self();
        m = hearth_msg_new(HUB_TAG_DIR_NOTIFY, sizeof(nt) + sizeof(jn));
        memcpy(m->data, &nt, sizeof(nt));
        memcpy((char *)m->data + sizeof(nt), &jn, sizeof(jn));
        hearth_server_cast(dir, m);
    }
    if (code != NULL) {
        hub__ok(res, 200, j->out2);
        j->out2 = NULL;
    } else if (fresh) {
        hub__ok(res, 201, j->out);
        j->out = NULL;
    } else {
        hub__ok(res, 204, NULL);
    }
out:
    hub__job_free(j);
}

static void op_member_remove(hub_t *h, uint64_t actor, json_t *args, hub_result_t *res)
{
    json_t *d, *member;
    hub_job_t *j;
    uint64_t uid = 0;
    char key[21];
    int rc;

    if (hub__arg_id(args, "user_id", &uid) != 1) {
        hub__errc(res, 404, 10013);
        return;
    }
    if (!hub__is_member(h, actor)) {
        hub__errc(res, 403, 50001);
        return;
    }
    if (uid == h->owner_id) {
        /* The owner cannot leave (transfer or delete instead), nor be kicked. */
        if (uid == actor)
            hub__errc(res, 400, 50055);
        else
            hub__errc(res, 403, 50013);
        return;
    }
    if (uid != actor && !is_owner(h, actor)) {
        hub__errc(res, 403, 50013);
        return;
    }
    member = json_object_get(h->members, hub__key(uid, key));
    if (member == NULL) {
        hub__errc(res, 404, 10007);
        return;
    }
    j = hub__job_new();
    j->a = h->id;
    j->b = uid;
    rc = hub__job_run(member_remove_job, j);
    hub__job_free(j);
    if (rc < 0) {
        hub__store_err(res, rc, 10007);
        return;
    }
    d = json_pack("{s:o, s:O}", "guild_id", hub__id_json(h->id), "user",
                  json_object_get(member, "user"));
    json_object_del(h->members, key);
    hub__snap_invalidate(h, false);
    /* Its own sessions get GUILD_DELETE and are dropped; the others hear of it. */
    hub__unsubscribe_user(h, uid, true);
    hub__presence_gone(h, uid);
    fan(h, HUB_EV_GUILD_MEMBER_REMOVE, HUB_INTENT_GUILD_MEMBERS, d);
    json_decref(d);
    hub__ok(res, 204, NULL);
}

static void op_member_modify(hub_t *h, uint64_t actor, json_t *args, hub_result_t *res)
{
    json_t *p, *d, *errs = NULL, *v;
    const char *k;
    hub_job_t *j;
    uint64_t uid = 0;
    char key[21];
    int rc;

    if (hub__arg_id(args, "user_id", &uid) != 1) {
        hub__errc(res, 404, 10013);
        return;
    }
    if (!hub__is_member(h, actor)) {
        hub__errc(res, 403, 50001);
        return;
    }
    if (!hub__is_member(h, uid)) {
        hub__errc(res, 404, 10007);
        return;
    }
    p = json_copy(args);
    json_object_del(p, "user_id");
    /* Without the owner's rights a member may change only its own nickname. */
    if (!is_owner(h, actor)) {
        json_object_foreach(p, k, v)
        {
            if (uid != actor || strcmp(k, "nick") != 0) {
                json_decref(p);
                hub__errc(res, 403, 50013);
                return;
            }
        }
    }
    v = json_object_get(p, "nick");
    if (v != NULL && !json_is_null(v) && (!json_is_string(v) || json_string_length(v) > 32))
        hub__form_error(&errs, "nick", "BASE_TYPE_MAX_LENGTH", "Must be 32 or fewer in length.");
    if (errs != NULL) {
        json_decref(p);
        hub__form_fail(res, errs);
        return;
    }
    j = hub__job_new();
    j->a = h->id;
    j->b = uid;
    j->params = p;
    rc = hub__job_run(member_modify_job, j);
    if (rc == STORE_ENOTFOUND && json_object_get(p, "roles") != NULL) {
        hub__form_error(&errs, "roles", "GUILD_MEMBER_ROLE_INVALID", "Unknown role");
        hub__form_fail(res, errs);
    } else if (rc < 0) {
        hub__store_err(res, rc, 10007);
    } else {
        json_object_set(h->members, hub__key(uid, key), j->out);
        hub__snap_invalidate(h, true);
        d = member_event(h, j->out);
        fan(h, HUB_EV_GUILD_MEMBER_UPDATE, HUB_INTENT_GUILD_MEMBERS, d);
        json_decref(d);
        hub__ok(res, 200, json_incref(j->out));
    }
    json_decref(p);
    hub__job_free(j);
}

/* ---- invites
 * ------------------------------------------------------------------------------------------ */

/* a: channel, b: inviter, i: max_age, n: max_uses, c: temporary. */
static int64_t invite_create_job(store_t *s, void *arg)
{
    hub_job_t *j = arg;
    store_invite_new_t p;

    memset(&p, 0, sizeof(p));
    p.channel_id = j->a;
    p.inviter_id = j->b;
    p.max_age = j->i;
    p.max_uses = (int64_t)j->n;
    p.temporary = j->c != 0;
    return store_invite_create(s, &p, &j->out);
}

static int64_t invite_delete_do(store_t *s, void *arg)
{
    hub_job_t *j = arg;

    return store_invite_delete(s, j->str, &j->out);
}

static int64_t invite_get_job(store_t *s, void *arg)
{
    hub_job_t *j = arg;

    return store_invite_get(s, j->str, &j->out2);
}

static json_t *invite_event(hub_t *h, json_t *inv, bool create)
{
    json_t *d = json_object(), *v;

    json_object_set(d, "channel_id", json_object_get(inv, "channel_id"));
    json_object_set_new(d, "guild_id", hub__id_json(h->id));
    json_object_set(d, "code", json_object_get(inv, "code"));
    if (create) {
        static const char *const keys[] = {"created_at", "inviter", "max_age",   "max_uses",
                                           "temporary",  "uses",    "expires_at"};
        size_t i;
        for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
            if ((v = json_object_get(inv, keys[i])) != NULL)
                json_object_set(d, keys[i], v);
    }
    return d;
}

static void op_invite_create(hub_t *h, uint64_t actor, json_t *args, hub_result_t *res)
{
    store_invite_new_t p;
    json_t *errs = NULL, *v, *d;
    hub_job_t *j;
    uint64_t cid = 0;
    int rc;

    if (hub__arg_id(args, "channel_id", &cid) != 1 || hub__channel(h, cid) == NULL) {
        hub__errc(res, 404, 10003);
        return;
    }
    if (!hub__is_member(h, actor)) {
        hub__errc(res, 403, 50001);
        return;
    }
    memset(&p, 0, sizeof(p));
    p.channel_id = cid;
    p.inviter_id = actor;
    p.max_age = 86400;
    v = json_object_get(args, "max_age");
    if (v != NULL && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 604800)
            hub__form_error(&errs, "max_age", "NUMBER_TYPE_MAX",
                            "int value should be less than or equal to 604800.");
        else
            p.max_age = json_integer_value(v);
    }
    v = json_object_get(args, "max_uses");
    if (v != NULL && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 100)
            hub__form_error(&errs, "max_uses", "NUMBER_TYPE_MAX",
                            "int value should be less than or equal to 100.");
        else
            p.max_uses = json_integer_value(v);
    }
    p.temporary = json_is_true(json_object_get(args, "temporary"));
    if (errs != NULL) {
        hub__form_fail(res, errs);
        return;
    }
    j = hub__job_new();
    j->a = p.channel_id;
    j->b = p.inviter_id;
    j->i = p.max_age;
    j->n = (size_t)p.max_uses;
    j->c = p.temporary;
    rc = hub__job_run(invite_create_job, j);
    if (rc < 0) {
        hub__store_err(res, rc, 10003);
    } else {
        d = invite_event(h, j->out, true);
        fan(h, HUB_EV_INVITE_CREATE, HUB_INTENT_GUILD_INVITES, d);
        json_decref(d);
        hub__ok(res, 200, j->out);
        j->out = NULL;
    }
    hub__job_free(j);
}

static void op_invite_delete(hub_t *h, uint64_t actor, json_t *args, hub_result_t *res)
{
    const char *code = json_string_value(json_object_get(args, "code"));
    json_t *d, *inv;
    hub_job_t *j;
    uint64_t inviter;
    int rc;

    if (!hub__is_member(h, actor)) {
        hub__errc(res, 403, 50001);
        return;
    }
    if (code == NULL) {
        hub__errc(res, 404, 10006);
        return;
    }
    j = hub__job_new();
    j->str = code;
    rc = hub__job_run(invite_get_job, j);
    if (rc == STORE_EEXPIRED)
        rc = 0; /* an expired invite can still be deleted */
    inv = j->out2;
    if (rc < 0 || hub__json_id(json_object_get(inv, "guild_id")) != h->id) {
        /* Another guild's invite is unknown here. */
        hub__errc(res, 404, 10006);
        goto out;
    }
    inviter = hub__json_id(json_object_get(json_object_get(inv, "inviter"), "id"));
    if (inviter != actor && !is_owner(h, actor)) {
        hub__errc(res, 403, 50013);
        goto out;
    }
    rc = hub__job_run(invite_delete_do, j);
    if (rc < 0) {
        hub__store_err(res, rc, 10006);
        goto out;
    }
    d = invite_event(h, j->out, false);
    fan(h, HUB_EV_INVITE_DELETE, HUB_INTENT_GUILD_INVITES, d);
    json_decref(d);
    hub__ok(res, 200, j->out);
    j->out = NULL;
out:
    hub__job_free(j);
}

/* ---- dispatch
 * ------------------------------------------------------------------------------------------ */

void hub__op(hub_t *h, hub_op_t op, uint64_t actor, json_t *args, hub_result_t *res)
{
    if (op == HUB_OP_CHECK_ACCESS) {
        op_check(h, actor, args, res);
        return;
    }
    if (hub__op_message(h, op, actor, args, res))
        return;
    if (h->kind == HUB_KIND_PRIVATE) {
        switch (op) {
        case HUB_OP_CHANNEL_MODIFY:
            op_channel_modify(h, actor, args, res);
            return;
        case HUB_OP_CHANNEL_DELETE:
            op_channel_delete(h, actor, args, res);
            return;
        default:
            hub__errc(res, 400, 50024); /* a guild op on a private channel */
            return;
        }
    }
    switch (op) {
    case HUB_OP_CHANNEL_CREATE:
        op_channel_create(h, actor, args, res);
        break;
    case HUB_OP_CHANNEL_MODIFY:
        op_channel_modify(h, actor, args, res);
        break;
    case HUB_OP_CHANNEL_DELETE:
        op_channel_delete(h, actor, args, res);
        break;
    case HUB_OP_GUILD_MODIFY:
        op_guild_modify(h, actor, args, res);
        break;
    case HUB_OP_GUILD_DELETE:
        op_guild_delete(h, actor, args, res);
        break;
    case HUB_OP_MEMBER_ADD:
        op_member_add(h, actor, args, res);
        break;
    case HUB_OP_MEMBER_REMOVE:
        op_member_remove(h, actor, args, res);
        break;
    case HUB_OP_MEMBER_MODIFY:
        op_member_modify(h, actor, args, res);
        break;
    case HUB_OP_INVITE_CREATE:
        op_invite_create(h, actor, args, res);
        break;
    case HUB_OP_INVITE_DELETE:
        op_invite_delete(h, actor, args, res);
        break;
    case HUB_OP_ROLE_CREATE:
    case HUB_OP_ROLE_MODIFY:
    case HUB_OP_ROLE_DELETE:
    case HUB_OP_ROLE_POSITIONS:
        hub__err(res, 501, 0, "501: Not Implemented");
        break;
    default:
        hub__err(res, 400, 0, "400: Bad Request");
        break;
    }
}
