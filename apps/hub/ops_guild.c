/* Guild-level ops of a hub and the op dispatcher: access checks, the guild itself and
 * invites. Channels are ops_channel.c's, members and bans ops_member.c's, roles
 * ops_role.c's, auto-moderation ops_automod.c's, messages ops_message.c's.
 *
 * A private hub (DM, group DM) takes the message ops, access checks, and channel modify
 * (group DM name, icon) and delete (closing a DM, leaving a group DM); the guild ops
 * answer 400/50024 there. */
#include "internal.h"

#include "store/moderation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- access ---------------------------------------------------------------------------------- */

static void op_check(hub_t *h, uint64_t actor, json_t *args, hub_result_t *res)
{
    uint64_t cid = 0, need = 0, perms;
    char buf[PERM_STR_SIZE];
    int has = hub__arg_id(args, "channel_id", &cid);
    json_t *v;

    if (has < 0 || (has == 1 && hub__channel(h, cid) == NULL)) {
        hub__errc(res, 404, 10003);
        return;
    }
    if (h->kind == HUB_KIND_PRIVATE)
        cid = 0; /* its recipients see it all */
    v = json_object_get(args, "need");
    if (v != NULL && !json_is_null(v) && perm_parse_json(v, &need) < 0) {
        hub__err(res, 400, 0, "400: Bad Request");
        return;
    }
    if (json_is_true(json_object_get(args, "history")))
        need |= PERM_READ_MESSAGE_HISTORY;
    if (!hub__check(h, actor, cid, need, res))
        return;
    if (json_is_true(json_object_get(args, "permissions"))) {
        perms = hub__perms(h, actor, cid);
        hub__ok(res, 200, json_pack("{s:s}", "permissions", perm_format(perms, buf)));
        return;
    }
    hub__ok(res, 204, NULL);
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
    json_t *errs = NULL, *v, *g, *p, *before, *changes = NULL;
    hub_job_t *j;
    int rc;

    if (!hub__check(h, actor, 0, PERM_MANAGE_GUILD, res))
        return;
    /* Ownership moves only by the owner's hand. */
    if (json_object_get(args, "owner_id") != NULL && actor != h->owner_id) {
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
    p = json_copy(args);
    json_object_del(p, "reason");
    before = json_incref(h->guild);
    j = hub__job_new();
    j->a = h->id;
    j->params = p;
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
        perm_cache_set_owner(h->perms, h->owner_id);
        hub__snap_invalidate(h, false);
        hub__fan_guild(h, HUB_EV_GUILD_UPDATE, HUB_INTENT_GUILDS, 0, g);
        hub__diff(&changes, p, before, g);
        hub__audit(h, actor, STORE_AUDIT_GUILD_UPDATE, h->id, changes, NULL, args);
        hub__ok(res, 200, json_incref(g));
    }
    json_decref(before);
    json_decref(p);
    hub__job_free(j);
}

static void op_guild_delete(hub_t *h, uint64_t actor, json_t *args, hub_result_t *res)
{
    json_t *d;
    hub_job_t *j;
    int rc;

    (void)args;
    if (!hub__check(h, actor, 0, 0, res))
        return;
    if (actor != h->owner_id) {
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
    hub__fan_guild(h, HUB_EV_GUILD_DELETE, 0, 0, d);
    json_decref(d);
    while (h->nsubs > 0)
        hub__sub_remove(h, h->nsubs - 1);
    h->gone = true;
    h->stop = true;
    hub__ok(res, 204, NULL);
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

/* INVITE_CREATE/DELETE reach those who may manage the invite's channel, as on
 * Discord. */
static void fan_invite(hub_t *h, hub_event_t ev, uint64_t channel_id, json_t *d)
{
    hub_fan_t f;

    memset(&f, 0, sizeof(f));
    f.ev = ev;
    f.need = HUB_INTENT_GUILD_INVITES;
    f.channel_id = channel_id;
    f.chan_perm = PERM_MANAGE_CHANNELS;
    hub__fanout(h, &f, d);
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
    if (!hub__check(h, actor, cid, PERM_CREATE_INSTANT_INVITE, res))
        return;
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
        fan_invite(h, HUB_EV_INVITE_CREATE, cid, d);
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
    uint64_t inviter, cid;
    int rc;

    if (!hub__check(h, actor, 0, 0, res))
        return;
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
    cid = hub__json_id(json_object_get(inv, "channel_id"));
    if (inviter != actor && !(hub__perms(h, actor, 0) & PERM_MANAGE_GUILD) &&
        !(hub__perms(h, actor, cid) & PERM_MANAGE_CHANNELS)) {
        hub__errc(res, 403, 50013);
        goto out;
    }
    rc = hub__job_run(invite_delete_do, j);
    if (rc < 0) {
        hub__store_err(res, rc, 10006);
        goto out;
    }
    d = invite_event(h, j->out, false);
    fan_invite(h, HUB_EV_INVITE_DELETE, cid, d);
    json_decref(d);
    hub__ok(res, 200, j->out);
    j->out = NULL;
out:
    hub__job_free(j);
}

/* ---- dispatch -------------------------------------------------------------------------------- */

void hub__op(hub_t *h, hub_op_t op, uint64_t actor, json_t *args, hub_result_t *res)
{
    if (op == HUB_OP_CHECK_ACCESS) {
        op_check(h, actor, args, res);
        return;
    }
    if (hub__op_message(h, op, actor, args, res) || hub__op_channel(h, op, actor, args, res) ||
        hub__op_member(h, op, actor, args, res) || hub__op_role(h, op, actor, args, res) ||
        hub__op_automod(h, op, actor, args, res))
        return;
    if (h->kind == HUB_KIND_PRIVATE) {
        hub__errc(res, 400, 50024); /* a guild op on a private channel */
        return;
    }
    switch (op) {
    case HUB_OP_GUILD_MODIFY:
        op_guild_modify(h, actor, args, res);
        break;
    case HUB_OP_GUILD_DELETE:
        op_guild_delete(h, actor, args, res);
        break;
    case HUB_OP_INVITE_CREATE:
        op_invite_create(h, actor, args, res);
        break;
    case HUB_OP_INVITE_DELETE:
        op_invite_delete(h, actor, args, res);
        break;
    default:
        hub__err(res, 400, 0, "400: Bad Request");
        break;
    }
}
