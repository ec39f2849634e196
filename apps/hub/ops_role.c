/* Role ops of a guild hub: create, modify, delete, and reorder roles.
 *
 * A role write can move other roles (a new role goes to position 1 and pushes the
 * others up; a deleted one lets them down), so after each write the hub reads the
 * guild's whole role list back (at most 250 rows) and compares it with its own:
 * GUILD_ROLE_DELETE for each role gone, GUILD_ROLE_CREATE for each new one,
 * GUILD_ROLE_UPDATE for each changed one (a moved position included), so clients'
 * caches match the store's. The permission cache learns every role before the events
 * go out; a deleted role is also taken off the members the hub holds (the store took it
 * off theirs), without GUILD_MEMBER_UPDATE, as on Discord.
 *
 * The rules (hub.h): MANAGE_ROLES; a role to change, delete or move must be below the
 * actor's highest role, and a move must keep it below; permissions given must be the
 * actor's own (perm_can_grant), counting only the bits a change adds. A bot's managed
 * role (made by MEMBER_ADD, ops_member.c) may be changed and moved but not deleted. */
#include "internal.h"

#include "store/moderation.h"

#include <stdlib.h>
#include <string.h>

enum { ROLE_CREATE = 1, ROLE_MODIFY, ROLE_DELETE, ROLE_POSITIONS };

/* a guild, b role, c what, params; out the role, out2 every role after. */
static int64_t role_job(store_t *s, void *arg)
{
    hub_job_t *j = arg;
    int rc;

    switch (j->c) {
    case ROLE_CREATE:
        rc = store_role_create(s, j->a, j->params, &j->out);
        break;
    case ROLE_MODIFY:
        rc = store_role_modify(s, j->a, j->b, j->params, &j->out);
        break;
    case ROLE_DELETE:
        rc = store_role_delete(s, j->a, j->b);
        break;
    default:
        rc = store_role_positions(s, j->a, j->params, NULL);
        break;
    }
    if (rc >= 0 && store_role_list(s, j->a, &j->out2) < 0)
        j->out2 = NULL; /* the write stands; the hub keeps its list (hub__roles_replace) */
    return rc;
}

/* The role of id in list, or NULL. */
static json_t *role_in(const json_t *list, uint64_t id)
{
    json_t *r;
    size_t i;

    json_array_foreach(list, i, r)
    {
        if (hub__json_id(json_object_get(r, "id")) == id)
            return r;
    }
    return NULL;
}

/* Takes role_id off every member the hub holds. */
static void strip_members(hub_t *h, uint64_t role_id)
{
    json_t *m, *roles, *keep, *v;
    const char *k;
    size_t i;

    json_object_foreach(h->members, k, m)
    {
        roles = json_object_get(m, "roles");
        if (!json_is_array(roles))
            continue;
        keep = json_array();
        json_array_foreach(roles, i, v)
        {
            if (hub__json_id(v) != role_id)
                json_array_append(keep, v);
        }
        if (json_array_size(keep) != json_array_size(roles))
            json_object_set(m, "roles", keep);
        json_decref(keep);
    }
}

static void fan_role(hub_t *h, hub_event_t ev, json_t *role, uint64_t role_id)
{
    json_t *d = json_pack("{s:o}", "guild_id", hub__id_json(h->id));

    if (role != NULL)
        json_object_set(d, "role", role);
    else
        json_object_set_new(d, "role_id", hub__id_json(role_id));
    hub__fan_guild(h, ev, HUB_INTENT_GUILDS, 0, d);
    json_decref(d);
}

void hub__roles_replace(hub_t *h, json_t *roles)
{
    json_t *old, *r, *o;
    uint64_t id;
    size_t i;

    if (roles == NULL)
        return;
    old = json_incref(json_object_get(h->guild, "roles"));
    json_object_set(h->guild, "roles", roles);
    json_array_foreach(old, i, o)
    {
        id = hub__json_id(json_object_get(o, "id"));
        if (role_in(roles, id) == NULL) {
            perm_cache_remove_role(h->perms, id);
            strip_members(h, id);
        }
    }
    json_array_foreach(roles, i, r) perm_cache_set_role_json(h->perms, r);
    hub__snap_invalidate(h, false);
    json_array_foreach(old, i, o)
    {
        id = hub__json_id(json_object_get(o, "id"));
        if (role_in(roles, id) == NULL)
            fan_role(h, HUB_EV_GUILD_ROLE_DELETE, NULL, id);
    }
    json_array_foreach(roles, i, r)
    {
        if (role_in(old, hub__json_id(json_object_get(r, "id"))) == NULL)
            fan_role(h, HUB_EV_GUILD_ROLE_CREATE, r, 0);
    }
    json_array_foreach(roles, i, r)
    {
        o = role_in(old, hub__json_id(json_object_get(r, "id")));
        if (o != NULL && !json_equal(o, r))
            fan_role(h, HUB_EV_GUILD_ROLE_UPDATE, r, 0);
    }
    json_decref(old);
    json_decref(roles);
}

/* Runs a role write; res filled on failure. Returns the job (the caller frees it) with
 * the role list already made the hub's, or NULL. */
static hub_job_t *role_write(hub_t *h, int what, uint64_t role_id, const json_t *params,
                             hub_result_t *res)
{
    hub_job_t *j = hub__job_new();
    int rc;

    j->a = h->id;
    j->b = role_id;
    j->c = (uint64_t)what;
    j->params = params;
    rc = hub__job_run(role_job, j);
    if (rc == STORE_ELIMIT) {
        hub__errc(res, 400, 30005);
    } else if (rc == STORE_EINVAL && what == ROLE_DELETE) {
        hub__errc(res, 400, 50028);
    } else if (rc < 0) {
        hub__store_err(res, rc, 10011);
    } else {
        hub__roles_replace(h, j->out2);
        j->out2 = NULL;
        return j;
    }
    hub__job_free(j);
    return NULL;
}

/* The body's role fields for the store (a new object): permissions normalized (known
 * bits, a decimal string) into *perms when given (*has_perms). NULL with the form
 * errors in *errs. */
static json_t *role_params(const json_t *args, uint64_t *perms, bool *has_perms, json_t **errs)
{
    static const char *const keys[] = {"name",        "color", "hoist",        "mentionable",
                                       "permissions", "icon",  "unicode_emoji"};
    char buf[PERM_STR_SIZE];
    json_t *p = json_object(), *v;
    size_t i;

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if ((v = json_object_get(args, keys[i])) != NULL)
            json_object_set(p, keys[i], v);
    *has_perms = false;
    v = json_object_get(args, "permissions");
    if (v != NULL && !json_is_null(v)) {
        if (perm_parse_json(v, perms) < 0) {
            hub__form_error(errs, "permissions", "NUMBER_TYPE_COERCE", "Value is not int.");
        } else {
            *perms &= PERM_ALL;
            *has_perms = true;
            json_object_set_new(p, "permissions", json_string(perm_format(*perms, buf)));
        }
    } else {
        json_object_del(p, "permissions");
    }
    v = json_object_get(args, "name");
    if (v != NULL &&
        (!json_is_string(v) || json_string_length(v) < 1 || json_string_length(v) > 100))
        hub__form_error(errs, "name", "BASE_TYPE_BAD_LENGTH",
                        "Must be between 1 and 100 in length.");
    v = json_object_get(args, "color");
    if (v != NULL && !json_is_null(v) &&
        (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 0xFFFFFF))
        hub__form_error(errs, "color", "NUMBER_TYPE_MAX",
                        "int value should be less than or equal to 16777215.");
    if (json_is_null(json_object_get(p, "color")))
        json_object_del(p, "color");
    if (*errs != NULL) {
        json_decref(p);
        return NULL;
    }
    return p;
}

/* The position of the actor's highest role; the owner's is above every role. */
static int32_t actor_top(hub_t *h, uint64_t actor)
{
    const perm_member_t *m = perm_cache_member(h->perms, actor);

    if (actor == h->owner_id)
        return INT32_MAX;
    return m != NULL ? perm_highest_position(perm_cache_guild(h->perms), m) : 0;
}

/* Whether the actor may put a role at position pos (strictly below its own highest). */
static bool may_place(hub_t *h, uint64_t actor, int64_t pos)
{
    return actor == h->owner_id || pos < actor_top(h, actor);
}

static void op_role_create(hub_t *h, uint64_t actor, json_t *args, hub_result_t *res)
{
    json_t *errs = NULL, *p, *changes = NULL, *v;
    static const char *const keys[] = {"name", "permissions", "color", "hoist", "mentionable"};
    uint64_t perms = 0;
    bool has_perms;
    hub_job_t *j;
    size_t i;

    if (!hub__check(h, actor, 0, PERM_MANAGE_ROLES, res))
        return;
    if ((p = role_params(args, &perms, &has_perms, &errs)) == NULL) {
        hub__form_fail(res, errs);
        return;
    }
    if (has_perms && !perm_can_grant(hub__perms(h, actor, 0), perms)) {
        json_decref(p);
        hub__errc(res, 403, 50013);
        return;
    }
    j = role_write(h, ROLE_CREATE, 0, p, res);
    if (j != NULL) {
        for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
            if ((v = json_object_get(j->out, keys[i])) != NULL)
                hub__change(&changes, keys[i], NULL, v);
        hub__audit(h, actor, STORE_AUDIT_ROLE_CREATE, hub__json_id(json_object_get(j->out, "id")),
                   changes, NULL, args);
        hub__ok(res, 200, json_incref(j->out));
        hub__job_free(j);
    }
    json_decref(p);
}

static void op_role_modify(hub_t *h, uint64_t actor, json_t *args, hub_result_t *res)
{
    json_t *errs = NULL, *p, *before, *changes = NULL, *v;
    uint64_t rid = 0, perms = 0, old = 0;
    bool has_perms;
    hub_job_t *j;

    if (!hub__check(h, actor, 0, PERM_MANAGE_ROLES, res))
        return;
    if (hub__arg_id(args, "role_id", &rid) != 1 ||
        (before = role_in(json_object_get(h->guild, "roles"), rid)) == NULL) {
        hub__errc(res, 404, 10011);
        return;
    }
    if (!hub__above_role(h, actor, rid)) {
        hub__errc(res, 403, 50013);
        return;
    }
    if ((p = role_params(args, &perms, &has_perms, &errs)) == NULL) {
        hub__form_fail(res, errs);
        return;
    }
    v = json_object_get(args, "position");
    if (v != NULL && !json_is_null(v) && rid != h->id) {
        if (!json_is_integer(v) || json_integer_value(v) < 1) {
            json_decref(p);
            hub__form_error(&errs, "position", "NUMBER_TYPE_MIN",
                            "int value should be greater than or equal to 1.");
            hub__form_fail(res, errs);
            return;
        }
        if (!may_place(h, actor, json_integer_value(v))) {
            json_decref(p);
            hub__errc(res, 403, 50013);
            return;
        }
        json_object_set(p, "position", v);
    }
    /* Only what a change adds must be the actor's own. */
    perm_parse_json(json_object_get(before, "permissions"), &old);
    if (has_perms && !perm_can_grant(hub__perms(h, actor, 0), perms & ~old)) {
        json_decref(p);
        hub__errc(res, 403, 50013);
        return;
    }
    before = json_incref(before);
    j = role_write(h, ROLE_MODIFY, rid, p, res);
    if (j != NULL) {
        hub__diff(&changes, p, before, j->out);
        hub__audit(h, actor, STORE_AUDIT_ROLE_UPDATE, rid, changes, NULL, args);
        hub__ok(res, 200, json_incref(j->out));
        hub__job_free(j);
    }
    json_decref(before);
    json_decref(p);
}

static void op_role_delete(hub_t *h, uint64_t actor, json_t *args, hub_result_t *res)
{
    static const char *const keys[] = {"name", "permissions", "color", "hoist", "mentionable"};
    json_t *before, *changes = NULL, *v;
    uint64_t rid = 0;
    hub_job_t *j;
    size_t i;

    if (!hub__check(h, actor, 0, PERM_MANAGE_ROLES, res))
        return;
    if (hub__arg_id(args, "role_id", &rid) != 1 ||
        (before = role_in(json_object_get(h->guild, "roles"), rid)) == NULL) {
        hub__errc(res, 404, 10011);
        return;
    }
    /* Neither @everyone nor a bot's managed role (it goes when the bot leaves):
     * Discord answers both 400/50028 "Invalid Role". */
    if (rid == h->id || json_is_true(json_object_get(before, "managed"))) {
        hub__errc(res, 400, 50028);
        return;
    }
    if (!hub__above_role(h, actor, rid)) {
        hub__errc(res, 403, 50013);
        return;
    }
    before = json_incref(before);
    j = role_write(h, ROLE_DELETE, rid, NULL, res);
    if (j != NULL) {
        for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
            if ((v = json_object_get(before, keys[i])) != NULL)
                hub__change(&changes, keys[i], v, NULL);
        hub__audit(h, actor, STORE_AUDIT_ROLE_DELETE, rid, changes, NULL, args);
        hub__ok(res, 204, NULL);
        hub__job_free(j);
    }
    json_decref(before);
}

static void op_role_positions(hub_t *h, uint64_t actor, json_t *args, hub_result_t *res)
{
    json_t *errs = NULL, *list = json_object_get(args, "positions"), *e, *p;
    uint64_t id;
    hub_job_t *j;
    size_t i;

    if (!hub__check(h, actor, 0, PERM_MANAGE_ROLES, res))
        return;
    if (!json_is_array(list)) {
        hub__form_error(&errs, "_errors", "BASE_TYPE_LIST", "Must be a list.");
        hub__form_fail(res, errs);
        return;
    }
    p = json_array();
    json_array_foreach(list, i, e)
    {
        json_t *pos = json_object_get(e, "position");
        id = hub__json_id(json_object_get(e, "id"));
        if (id == 0 || id == h->id || role_in(json_object_get(h->guild, "roles"), id) == NULL ||
            !json_is_integer(pos) || json_integer_value(pos) < 1) {
            hub__form_error(&errs, "_errors", "INVALID_ROLE_POSITION", "Invalid role position.");
            break;
        }
        if (!hub__above_role(h, actor, id) || !may_place(h, actor, json_integer_value(pos))) {
            json_decref(p);
            hub__errc(res, 403, 50013);
            return;
        }
        json_array_append_new(p, json_pack("{s:o, s:O}", "id", hub__id_json(id), "position", pos));
    }
    if (errs != NULL) {
        json_decref(p);
        hub__form_fail(res, errs);
        return;
    }
    j = role_write(h, ROLE_POSITIONS, 0, p, res);
    if (j != NULL) {
        hub__ok(res, 200, json_incref(json_object_get(h->guild, "roles")));
        hub__job_free(j);
    }
    json_decref(p);
}

bool hub__op_role(hub_t *h, hub_op_t op, uint64_t actor, json_t *args, hub_result_t *res)
{
    if (h->kind != HUB_KIND_GUILD)
        return false;
    switch (op) {
    case HUB_OP_ROLE_CREATE:
        op_role_create(h, actor, args, res);
        return true;
    case HUB_OP_ROLE_MODIFY:
        op_role_modify(h, actor, args, res);
        return true;
    case HUB_OP_ROLE_DELETE:
        op_role_delete(h, actor, args, res);
        return true;
    case HUB_OP_ROLE_POSITIONS:
        op_role_positions(h, actor, args, res);
        return true;
    default:
        return false;
    }
}
