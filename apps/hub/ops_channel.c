/* Channel ops of a hub: create, modify and delete guild channels, their permission
 * overwrites (PUT and DELETE /channels/{id}/permissions/{overwrite}), and for a private
 * hub the group DM's name and icon, closing a DM and leaving a group DM.
 *
 * Overwrites are stored as Discord shows them, {"id", "type" (0 role, 1 member),
 * "allow", "deny" (decimal strings)}, whatever form the request used; every change of
 * them reaches the permission cache (perms.c) before the CHANNEL_UPDATE goes out, so
 * the channel's next event is already filtered by the new overwrites. Who may do what
 * is hub.h's; each write is audited (audit.c). */
#include "internal.h"

#include "store/moderation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- overwrites ------------------------------------------------------------------------------ */

/* An overwrite's type: 0 or 1 (also "0"/"1", "role"/"member"), or -1. */
static int ow_type(const json_t *v)
{
    const char *s = json_string_value(v);

    if (json_is_integer(v))
        return json_integer_value(v) == 0 || json_integer_value(v) == 1 ? (int)json_integer_value(v)
                                                                        : -1;
    if (s == NULL)
        return -1;
    if (!strcmp(s, "0") || !strcmp(s, "role"))
        return PERM_OW_ROLE;
    if (!strcmp(s, "1") || !strcmp(s, "member"))
        return PERM_OW_MEMBER;
    return -1;
}

static json_t *ow_json(uint64_t id, int type, uint64_t allow, uint64_t deny)
{
    char a[PERM_STR_SIZE], d[PERM_STR_SIZE];

    return json_pack("{s:o, s:i, s:s, s:s}", "id", hub__id_json(id), "type", type, "allow",
                     perm_format(allow, a), "deny", perm_format(deny, d));
}

static bool role_exists(hub_t *h, uint64_t role_id)
{
    return h->perms != NULL && perm_role_find(perm_cache_guild(h->perms), role_id) != NULL;
}

/* Whether an actor with permissions mine (in the channel, or the guild's for a new
 * channel) and guild-level base may allow or deny bits: only bits it has, and
 * MANAGE_ROLES ("Manage Permissions") only as an administrator, as on Discord. */
static bool may_set(uint64_t mine, uint64_t base, uint64_t bits)
{
    if (base & PERM_ADMINISTRATOR)
        return true;
    if (bits & PERM_MANAGE_ROLES)
        return false;
    return perm_can_grant(mine, bits);
}

/* The overwrites of a create or modify body, validated and in Discord's form (a new
 * array); NULL with the form errors in *errs, or with *denied set when the actor may
 * not set them. */
static json_t *overwrites_of(hub_t *h, const json_t *list, uint64_t mine, uint64_t base,
                             json_t **errs, bool *denied)
{
    json_t *out, *o;
    uint64_t id, allow, deny;
    char path[64];
    size_t i;
    int type;

    if (!json_is_array(list)) {
        hub__form_error(errs, "permission_overwrites", "BASE_TYPE_LIST", "Must be a list.");
        return NULL;
    }
    if (json_array_size(list) > 100) {
        hub__form_error(errs, "permission_overwrites", "BASE_TYPE_MAX_LENGTH",
                        "Must be 100 or fewer in length.");
        return NULL;
    }
    out = json_array();
    json_array_foreach(list, i, o)
    {
        id = hub__json_id(json_object_get(o, "id"));
        type = ow_type(json_object_get(o, "type"));
        allow = deny = 0;
        snprintf(path, sizeof(path), "permission_overwrites.%zu", i);
        if (!json_is_object(o) || id == 0 || type < 0 ||
            (json_object_get(o, "allow") != NULL && !json_is_null(json_object_get(o, "allow")) &&
             perm_parse_json(json_object_get(o, "allow"), &allow) < 0) ||
            (json_object_get(o, "deny") != NULL && !json_is_null(json_object_get(o, "deny")) &&
             perm_parse_json(json_object_get(o, "deny"), &deny) < 0)) {
            hub__form_error(errs, path, "INVALID_OVERWRITE", "Invalid permission overwrite.");
            continue;
        }
        if (type == PERM_OW_ROLE && !role_exists(h, id)) {
            hub__form_error(errs, path, "UNKNOWN_ROLE", "Unknown role.");
            continue;
        }
        allow &= PERM_ALL;
        deny &= PERM_ALL;
        if (!may_set(mine, base, allow | deny))
            *denied = true;
        json_array_append_new(out, ow_json(id, type, allow, deny));
    }
    if (*errs != NULL || *denied) {
        json_decref(out);
        return NULL;
    }
    return out;
}

/* The channel (as stored) replaced in the hub's state and the permission cache. */
static void channel_cache(hub_t *h, json_t *channel)
{
    char key[21];

    json_object_set(h->channels, hub__key(hub__json_id(json_object_get(channel, "id")), key),
                    channel);
    hub__perm_channel(h, channel);
    hub__snap_invalidate(h, false);
}

/* ---- create, modify, delete
 * ---------------------------------------------------------------------- */

static void op_channel_create(hub_t *h, uint64_t actor, json_t *args, hub_result_t *res)
{
    json_t *errs = NULL, *d, *p, *ows, *changes = NULL;
    uint64_t base;
    bool denied = false;
    hub_job_t *j;
    int rc;

    if (!hub__check(h, actor, 0, PERM_MANAGE_CHANNELS, res))
        return;
    if ((errs = validate_channel(args, true)) != NULL) {
        hub__form_fail(res, errs);
        return;
    }
    p = json_copy(args);
    json_object_del(p, "reason");
    ows = json_object_get(args, "permission_overwrites");
    if (ows != NULL && !json_is_null(ows) && json_array_size(ows) > 0) {
        base = hub__perms(h, actor, 0);
        if (!(base & PERM_MANAGE_ROLES)) {
            json_decref(p);
            hub__errc(res, 403, 50013);
            return;
        }
        ows = overwrites_of(h, ows, base, base, &errs, &denied);
        if (ows == NULL) {
            json_decref(p);
            if (denied && errs == NULL)
                hub__errc(res, 403, 50013);
            else
                hub__form_fail(res, errs);
            return;
        }
        json_object_set_new(p, "permission_overwrites", ows);
    }
    j = hub__job_new();
    j->a = h->id;
    j->params = p;
    rc = hub__job_run(channel_create_job, j);
    if (rc == STORE_ENOTFOUND) {
        hub__form_error(&errs, "parent_id", "CHANNEL_PARENT_INVALID", "Unknown category");
        hub__form_fail(res, errs);
    } else if (rc == STORE_ELIMIT) {
        hub__err(res, 400, 30013, "Maximum number of guild channels reached (500)");
    } else if (rc < 0) {
        hub__store_err(res, rc, 10004);
    } else {
        d = j->out;
        channel_cache(h, d);
        hub__fan_guild(h, HUB_EV_CHANNEL_CREATE, HUB_INTENT_GUILDS, 0, d);
        hub__change(&changes, "name", NULL, json_object_get(d, "name"));
        hub__change(&changes, "type", NULL, json_object_get(d, "type"));
        hub__change(&changes, "permission_overwrites", NULL,
                    json_object_get(d, "permission_overwrites"));
        hub__audit(h, actor, STORE_AUDIT_CHANNEL_CREATE, hub__json_id(json_object_get(d, "id")),
                   changes, NULL, args);
        hub__ok(res, 201, json_incref(d));
    }
    json_decref(p);
    hub__job_free(j);
}

/* A private hub's channel modify: a group DM's name and icon, by a recipient. */
static void private_modify(hub_t *h, uint64_t actor, json_t *args, hub_result_t *res)
{
    json_t *errs, *p;
    hub_job_t *j;
    int rc;

    if (!hub__check(h, actor, 0, 0, res))
        return;
    if (json_integer_value(json_object_get(h->channel, "type")) != STORE_CHANNEL_GROUP_DM) {
        hub__errc(res, 400, 50024);
        return;
    }
    if ((errs = validate_channel(args, false)) != NULL) {
        hub__form_fail(res, errs);
        return;
    }
    p = json_copy(args);
    json_object_del(p, "channel_id");
    json_object_del(p, "type");
    json_object_del(p, "reason");
    j = hub__job_new();
    j->a = h->id;
    j->params = p;
    rc = hub__job_run(channel_modify_job, j);
    if (rc < 0) {
        hub__store_err(res, rc, 10003);
    } else {
        /* Keep the hub's own copy with every recipient (the store's answer left out
         * none, as the viewer is 0). */
        json_decref(h->channel);
        h->channel = json_incref(j->out);
        hub__snap_invalidate(h, false);
        hub__fan_guild(h, HUB_EV_CHANNEL_UPDATE, 0, 0, j->out);
        hub__ok(res, 200, json_incref(j->out));
    }
    json_decref(p);
    hub__job_free(j);
}

static void op_channel_modify(hub_t *h, uint64_t actor, json_t *args, hub_result_t *res)
{
    json_t *errs = NULL, *d, *p, *ows, *before, *changes = NULL;
    uint64_t cid = 0, mine;
    bool denied = false;
    hub_job_t *j;
    int rc;

    if (hub__arg_id(args, "channel_id", &cid) != 1 || hub__channel(h, cid) == NULL) {
        hub__errc(res, 404, 10003);
        return;
    }
    if (h->kind == HUB_KIND_PRIVATE) {
        private_modify(h, actor, args, res);
        return;
    }
    if (!hub__check(h, actor, cid, PERM_MANAGE_CHANNELS, res))
        return;
    if ((errs = validate_channel(args, false)) != NULL) {
        hub__form_fail(res, errs);
        return;
    }
    p = json_copy(args);
    json_object_del(p, "channel_id");
    json_object_del(p, "type");
    json_object_del(p, "reason");
    ows = json_object_get(args, "permission_overwrites");
    if (ows != NULL) {
        mine = hub__perms(h, actor, cid);
        if (!(mine & PERM_MANAGE_ROLES)) {
            json_decref(p);
            hub__errc(res, 403, 50013);
            return;
        }
        ows = json_is_null(ows)
                  ? json_array()
                  : overwrites_of(h, ows, mine, hub__perms(h, actor, 0), &errs, &denied);
        if (ows == NULL) {
            json_decref(p);
            if (denied && errs == NULL)
                hub__errc(res, 403, 50013);
            else
                hub__form_fail(res, errs);
            return;
        }
        json_object_set_new(p, "permission_overwrites", ows);
    }
    before = json_incref(hub__channel(h, cid));
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
        channel_cache(h, d);
        hub__fan_guild(h, HUB_EV_CHANNEL_UPDATE, HUB_INTENT_GUILDS, 0, d);
        hub__diff(&changes, p, before, d);
        hub__audit(h, actor, STORE_AUDIT_CHANNEL_UPDATE, cid, changes, NULL, args);
        hub__ok(res, 200, json_incref(d));
    }
    json_decref(before);
    json_decref(p);
    hub__job_free(j);
}

/* A private hub's channel delete: closing a DM deletes nothing; leaving a group DM
 * removes the actor. Either way only the actor's sessions hear of it. */
static void private_delete(hub_t *h, uint64_t actor, json_t *ch, hub_result_t *res)
{
    hub_fan_t f;
    hub_job_t *j;
    int rc;

    if (!hub__check(h, actor, 0, 0, res))
        return;
    if (json_integer_value(json_object_get(ch, "type")) == STORE_CHANNEL_GROUP_DM) {
        j = hub__job_new();
        j->a = h->id;
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
}

static void op_channel_delete(hub_t *h, uint64_t actor, json_t *args, hub_result_t *res)
{
    json_t *d, *ch, *v, *changes = NULL;
    hub_job_t *j;
    uint64_t cid = 0;
    char key[21];
    size_t i;
    int rc;

    if (hub__arg_id(args, "channel_id", &cid) != 1 || (ch = hub__channel(h, cid)) == NULL) {
        hub__errc(res, 404, 10003);
        return;
    }
    if (h->kind == HUB_KIND_PRIVATE) {
        private_delete(h, actor, ch, res);
        return;
    }
    if (!hub__check(h, actor, cid, PERM_MANAGE_CHANNELS, res))
        return;
    j = hub__job_new();
    j->a = cid;
    j->b = json_integer_value(json_object_get(ch, "type")) == STORE_CHANNEL_CATEGORY ? h->id : 0;
    rc = hub__job_run(channel_delete_job, j);
    if (rc < 0) {
        hub__store_err(res, rc, 10003);
    } else {
        d = j->out;
        json_object_del(h->channels, hub__key(cid, key));
        perm_cache_remove_channel(h->perms, cid);
        if (j->out2 != NULL) {
            json_array_foreach(j->out2, i, v) channel_cache(h, v);
        }
        hub__snap_invalidate(h, false);
        hub__fan_guild(h, HUB_EV_CHANNEL_DELETE, HUB_INTENT_GUILDS, 0, d);
        hub__change(&changes, "name", json_object_get(d, "name"), NULL);
        hub__change(&changes, "type", json_object_get(d, "type"), NULL);
        hub__audit(h, actor, STORE_AUDIT_CHANNEL_DELETE, cid, changes, NULL, args);
        hub__ok(res, 200, json_incref(d));
    }
    hub__job_free(j);
}

/* ---- one overwrite
 * ------------------------------------------------------------------------------- */

/* Writes the channel's overwrites as list (taken); the channel then is the store's. */
static int overwrites_write(hub_t *h, uint64_t cid, json_t *list, json_t **channel)
{
    hub_job_t *j = hub__job_new();
    json_t *p = json_pack("{s:o}", "permission_overwrites", list);
    int rc;

    j->a = cid;
    j->params = p;
    rc = hub__job_run(channel_modify_job, j);
    if (rc == 0) {
        channel_cache(h, j->out);
        hub__fan_guild(h, HUB_EV_CHANNEL_UPDATE, HUB_INTENT_GUILDS, 0, j->out);
        *channel = json_incref(j->out);
    }
    json_decref(p);
    hub__job_free(j);
    return rc;
}

/* The channel's overwrites but the one of id (a new array), and that one (borrowed from
 * the channel) in *found. */
static json_t *overwrites_without(json_t *ch, uint64_t id, json_t **found)
{
    json_t *out = json_array(), *o;
    size_t i;

    *found = NULL;
    json_array_foreach(json_object_get(ch, "permission_overwrites"), i, o)
    {
        if (hub__json_id(json_object_get(o, "id")) == id)
            *found = o;
        else
            json_array_append(out, o);
    }
    return out;
}

/* The audit options of an overwrite entry: its id, type ("0"/"1", as Discord sends it)
 * and the role's name. */
static json_t *overwrite_options(hub_t *h, uint64_t id, int type)
{
    json_t *o = json_pack("{s:o, s:s}", "id", hub__id_json(id), "type", type ? "1" : "0"), *r;
    size_t i;

    if (type == PERM_OW_ROLE)
        json_array_foreach(json_object_get(h->guild, "roles"), i, r)
        {
            if (hub__json_id(json_object_get(r, "id")) == id)
                json_object_set(o, "role_name", json_object_get(r, "name"));
        }
    return o;
}

static void op_overwrite_put(hub_t *h, uint64_t actor, json_t *args, hub_result_t *res)
{
    json_t *errs = NULL, *list, *old, *ch, *changes = NULL, *v;
    uint64_t cid = 0, id = 0, allow = 0, deny = 0, mine;
    int type, rc;

    if (hub__arg_id(args, "channel_id", &cid) != 1 || hub__channel(h, cid) == NULL) {
        hub__errc(res, 404, 10003);
        return;
    }
    if (!hub__check(h, actor, cid, PERM_MANAGE_ROLES, res))
        return;
    if (hub__arg_id(args, "overwrite_id", &id) != 1)
        hub__form_error(&errs, "id", "NUMBER_TYPE_COERCE", "Value is not snowflake.");
    type = ow_type(json_object_get(args, "type"));
    if (type < 0)
        hub__form_error(&errs, "type", "BASE_TYPE_CHOICES", "Value must be one of {0, 1}.");
    v = json_object_get(args, "allow");
    if (v != NULL && !json_is_null(v) && perm_parse_json(v, &allow) < 0)
        hub__form_error(&errs, "allow", "NUMBER_TYPE_COERCE", "Value is not int.");
    v = json_object_get(args, "deny");
    if (v != NULL && !json_is_null(v) && perm_parse_json(v, &deny) < 0)
        hub__form_error(&errs, "deny", "NUMBER_TYPE_COERCE", "Value is not int.");
    if (errs != NULL) {
        hub__form_fail(res, errs);
        return;
    }
    if (type == PERM_OW_ROLE && !role_exists(h, id)) {
        hub__errc(res, 404, 10011);
        return;
    }
    if (type == PERM_OW_MEMBER && !hub__is_member(h, id)) {
        hub__errc(res, 404, 10007);
        return;
    }
    allow &= PERM_ALL;
    deny &= PERM_ALL;
    mine = hub__perms(h, actor, cid);
    if (!may_set(mine, hub__perms(h, actor, 0), allow | deny)) {
        hub__errc(res, 403, 50013);
        return;
    }
    list = overwrites_without(hub__channel(h, cid), id, &old);
    old = json_incref(old);
    json_array_append_new(list, ow_json(id, type, allow, deny));
    rc = overwrites_write(h, cid, list, &ch);
    if (rc < 0) {
        json_decref(old);
        hub__store_err(res, rc, 10003);
        return;
    }
    /* The new overwrite as stored is the last of the channel's list. */
    v = json_array_get(json_object_get(ch, "permission_overwrites"),
                       json_array_size(json_object_get(ch, "permission_overwrites")) - 1);
    if (old == NULL) {
        hub__change(&changes, "id", NULL, json_object_get(v, "id"));
        hub__change(&changes, "type", NULL, json_object_get(v, "type"));
    }
    hub__change(&changes, "allow", old ? json_object_get(old, "allow") : NULL,
                json_object_get(v, "allow"));
    hub__change(&changes, "deny", old ? json_object_get(old, "deny") : NULL,
                json_object_get(v, "deny"));
    hub__audit(h, actor,
               old ? STORE_AUDIT_CHANNEL_OVERWRITE_UPDATE : STORE_AUDIT_CHANNEL_OVERWRITE_CREATE,
               cid, changes, overwrite_options(h, id, type), args);
    json_decref(old);
    json_decref(ch);
    hub__ok(res, 204, NULL);
}

static void op_overwrite_delete(hub_t *h, uint64_t actor, json_t *args, hub_result_t *res)
{
    json_t *list, *old, *ch, *changes = NULL;
    uint64_t cid = 0, id = 0;
    int type, rc;

    if (hub__arg_id(args, "channel_id", &cid) != 1 || hub__channel(h, cid) == NULL) {
        hub__errc(res, 404, 10003);
        return;
    }
    if (!hub__check(h, actor, cid, PERM_MANAGE_ROLES, res))
        return;
    if (hub__arg_id(args, "overwrite_id", &id) != 1) {
        hub__errc(res, 404, 10009);
        return;
    }
    list = overwrites_without(hub__channel(h, cid), id, &old);
    if (old == NULL) {
        json_decref(list);
        hub__ok(res, 204, NULL); /* nothing there: nothing to do, as Discord answers */
        return;
    }
    old = json_incref(old);
    rc = overwrites_write(h, cid, list, &ch);
    if (rc < 0) {
        json_decref(old);
        hub__store_err(res, rc, 10003);
        return;
    }
    type = ow_type(json_object_get(old, "type"));
    hub__change(&changes, "id", json_object_get(old, "id"), NULL);
    hub__change(&changes, "type", json_object_get(old, "type"), NULL);
    hub__change(&changes, "allow", json_object_get(old, "allow"), NULL);
    hub__change(&changes, "deny", json_object_get(old, "deny"), NULL);
    hub__audit(h, actor, STORE_AUDIT_CHANNEL_OVERWRITE_DELETE, cid, changes,
               overwrite_options(h, id, type < 0 ? 0 : type), args);
    json_decref(old);
    json_decref(ch);
    hub__ok(res, 204, NULL);
}

/* ---- dispatch
 * ------------------------------------------------------------------------------------ */

bool hub__op_channel(hub_t *h, hub_op_t op, uint64_t actor, json_t *args, hub_result_t *res)
{
    switch (op) {
    case HUB_OP_CHANNEL_MODIFY:
        op_channel_modify(h, actor, args, res);
        return true;
    case HUB_OP_CHANNEL_DELETE:
        op_channel_delete(h, actor, args, res);
        return true;
    default:
        break;
    }
    if (h->kind != HUB_KIND_GUILD)
        return false;
    switch (op) {
    case HUB_OP_CHANNEL_CREATE:
        op_channel_create(h, actor, args, res);
        return true;
    case HUB_OP_OVERWRITE_PUT:
        op_overwrite_put(h, actor, args, res);
        return true;
    case HUB_OP_OVERWRITE_DELETE:
        op_overwrite_delete(h, actor, args, res);
        return true;
    default:
        return false;
    }
}
