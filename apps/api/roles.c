/* /guilds/{guild_id}/roles: list, create, reorder (PATCH with a list of positions), get,
 * modify, delete; and a member's roles: PUT/DELETE /guilds/{guild_id}/members/{user_id}/
 * roles/{role_id}.
 *
 * Bodies are checked here for their types and bounds (every bad field named in one
 * 50035), then go to the guild's hub as a clean copy with the X-Audit-Log-Reason as
 * "reason". The hub decides the rest: MANAGE_ROLES, the hierarchy (a role moved,
 * changed, given or taken must be below the actor's highest), permissions granted only
 * if held; it writes, fans GUILD_ROLE_* / GUILD_MEMBER_UPDATE out and audits. Reads
 * check access with the hub, then read the store. */
#include "internal.h"

#include "perm/perm.h"

#include <stdio.h>
#include <string.h>

#define NSPECS(a) (sizeof(a) / sizeof((a)[0]))
#define POSITIONS_MAX 250 /* a guild's most roles */

/* ---- bodies ---------------------------------------------------------------------------------- */

/* Copies "permissions" of body into params as a decimal string: Discord sends it as a
 * string, and accepts a plain integer too. Errors go to f. */
static void permissions_field(api_form_t *f, const json_t *body, json_t *params)
{
    const json_t *v = json_object_get(body, "permissions");
    char buf[PERM_STR_SIZE];
    uint64_t bits;

    if (v == NULL || json_is_null(v))
        return;
    if (perm_parse_json(v, &bits) < 0) {
        api_form_add(f, "permissions", "NUMBER_TYPE_COERCE", "Value is not int.");
        return;
    }
    json_object_set_new(params, "permissions", json_string(perm_format(bits, buf)));
}

/* "colors" (Discord's newer form, what discord.js 14.19 and later send): its
 * primary_color is the role's color, unless "color" itself was given. The secondary and
 * tertiary colors of gradient roles need a guild feature Hearth does not have: they
 * are ignored, as Discord ignores them without it. */
static void colors_field(api_form_t *f, const json_t *body, json_t *params)
{
    json_t *colors;
    int64_t color;
    int has;

    if (api_field_object(f, body, "colors", &colors) != 1 || json_object_get(body, "color") != NULL)
        return;
    api_form_scope(f, "colors");
    has = api_field_int(f, colors, "primary_color", 0, 0xFFFFFF, &color);
    api_form_scope(f, NULL);
    if (has == 1)
        json_object_set_new(params, "color", json_integer(color));
    else if (has == 0 && json_object_get(colors, "primary_color") != NULL)
        json_object_set_new(params, "color", json_integer(0)); /* null: no color, 0 */
}

/* The checked fields of a role create or modify body, as a new object. */
static json_t *role_params(api_form_t *f, const json_t *body, bool modify)
{
    static const api_field_spec_t specs[] = {
        {"name", API_F_STR, 1, 100, false}, {"color", API_F_INT, 0, 0xFFFFFF, true},
        {"hoist", API_F_BOOL, 0, 0, false}, {"mentionable", API_F_BOOL, 0, 0, false},
        {"icon", API_F_STR, 1, 256, true},  {"unicode_emoji", API_F_STR, 1, 32, true},
    };
    json_t *params = json_object();
    int64_t pos;

    api_fields_copy(f, body, specs, NSPECS(specs), params);
    permissions_field(f, body, params);
    colors_field(f, body, params);
    if (modify && api_field_int(f, body, "position", 0, POSITIONS_MAX, &pos) == 1)
        json_object_set_new(params, "position", json_integer(pos));
    return params;
}

/* Sends op with args (plus "reason") to the guild's hub and answers its outcome. */
static void role_op(api_ctx_t *c, uint64_t guild_id, hub_op_t op, json_t *args, int status_ok)
{
    hub_result_t r;

    api_reason(c, args);
    api_hub(c, HUB_GUILD, guild_id, op, args, &r);
    api_hub_reply(c, &r, status_ok);
}

/* ---- GET /guilds/{guild_id}/roles, GET .../roles/{role_id} ----------------------------------- */

static int64_t role_read_job(store_t *s, void *arg)
{
    api_job_t *j = arg;

    if (j->b == 0)
        return store_role_list(s, j->a, &j->out);
    return store_role_get(s, j->a, j->b, &j->out);
}

/* Answers the guild's roles (role_id 0) or one of them. */
static void role_read(api_ctx_t *c, uint64_t guild_id, uint64_t role_id)
{
    api_job_t *j;
    int rc;

    if (!api_check_guild(c, guild_id))
        return;
    j = api_job_new();
    j->a = guild_id;
    j->b = role_id;
    rc = api_job_run(role_read_job, j);
    if (rc < 0) {
        api_store_error(c, rc, role_id != 0 ? 10011 : 10004);
    } else {
        api_json(c, 200, j->out);
        j->out = NULL;
    }
    api_job_free(j);
}

static void roles_list(api_ctx_t *c)
{
    uint64_t guild_id;

    if (api_param_id(c, "guild_id", &guild_id))
        role_read(c, guild_id, 0);
}

static void role_get(api_ctx_t *c)
{
    uint64_t guild_id, role_id;

    if (api_param_id(c, "guild_id", &guild_id) && api_param_id(c, "role_id", &role_id))
        role_read(c, guild_id, role_id);
}

/* ---- POST /guilds/{guild_id}/roles, PATCH/DELETE .../roles/{role_id} ------------------------- */

static void role_create(api_ctx_t *c)
{
    api_form_t f = {0};
    uint64_t guild_id;
    json_t *params;

    if (!api_param_id(c, "guild_id", &guild_id))
        return;
    params = role_params(&f, c->body, false);
    if (!api_form_ok(&f))
        api_form_reply(c, &f);
    else
        role_op(c, guild_id, HUB_OP_ROLE_CREATE, params, 200);
    json_decref(params);
}

static void role_modify(api_ctx_t *c)
{
    uint64_t guild_id, role_id;
    api_form_t f = {0};
    json_t *params;

    if (!api_param_id(c, "guild_id", &guild_id) || !api_param_id(c, "role_id", &role_id))
        return;
    params = role_params(&f, c->body, true);
    if (!api_form_ok(&f)) {
        api_form_reply(c, &f);
    } else {
        json_object_set_new(params, "role_id", api_id_json(role_id));
        role_op(c, guild_id, HUB_OP_ROLE_MODIFY, params, 200);
    }
    json_decref(params);
}

static void role_delete(api_ctx_t *c)
{
    uint64_t guild_id, role_id;
    json_t *args;

    if (!api_param_id(c, "guild_id", &guild_id) || !api_param_id(c, "role_id", &role_id))
        return;
    args = json_object();
    json_object_set_new(args, "role_id", api_id_json(role_id));
    role_op(c, guild_id, HUB_OP_ROLE_DELETE, args, 204);
    json_decref(args);
}

/* ---- PATCH /guilds/{guild_id}/roles: [{"id", "position"}, ...] ------------------------------- */

static void role_positions(api_ctx_t *c)
{
    static const api_field_spec_t specs[] = {
        {"id", API_F_ID, 0, 0, false},
        {"position", API_F_INT, 0, POSITIONS_MAX, true},
    };
    json_t *list, *item, *clean;
    api_form_t f = {0};
    uint64_t guild_id;
    char scope[24];
    size_t i;

    if (!api_param_id(c, "guild_id", &guild_id))
        return;
    if (json_array_size(c->body) > POSITIONS_MAX) {
        api_form_add(&f, "", "BASE_TYPE_MAX_LENGTH", "Must be %d or fewer in length.",
                     POSITIONS_MAX);
        api_form_reply(c, &f);
        return;
    }
    list = json_array();
    json_array_foreach(c->body, i, item)
    {
        snprintf(scope, sizeof(scope), "%zu", i);
        if (!json_is_object(item)) {
            api_form_scope(&f, NULL);
            api_form_add(&f, scope, "DICT_TYPE_CONVERT",
                         "Only dictionaries may be used in a DictType");
            continue;
        }
        api_form_scope(&f, scope);
        clean = json_object();
        api_fields_copy(&f, item, specs, NSPECS(specs), clean);
        if (json_object_get(item, "id") == NULL)
            api_field_required(&f, "id");
        json_array_append_new(list, clean);
    }
    api_form_scope(&f, NULL);
    if (!api_form_ok(&f)) {
        api_form_reply(c, &f);
    } else {
        json_t *args = json_pack("{s:o}", "positions", json_incref(list));

        role_op(c, guild_id, HUB_OP_ROLE_POSITIONS, args, 200);
        json_decref(args);
    }
    json_decref(list);
}

/* ---- PUT/DELETE /guilds/{guild_id}/members/{user_id}/roles/{role_id} ------------------------- */

static void member_role(api_ctx_t *c, hub_op_t op)
{
    uint64_t guild_id, user_id, role_id;
    json_t *args;

    if (!api_param_id(c, "guild_id", &guild_id) || !api_param_id(c, "user_id", &user_id) ||
        !api_param_id(c, "role_id", &role_id))
        return;
    args = json_object();
    json_object_set_new(args, "user_id", api_id_json(user_id));
    json_object_set_new(args, "role_id", api_id_json(role_id));
    role_op(c, guild_id, op, args, 204);
    json_decref(args);
}

static void member_role_add(api_ctx_t *c)
{
    member_role(c, HUB_OP_MEMBER_ROLE_ADD);
}

static void member_role_remove(api_ctx_t *c)
{
    member_role(c, HUB_OP_MEMBER_ROLE_REMOVE);
}

#define ROLE "/guilds/{guild_id}/roles/{role_id}"
#define MEMBER_ROLE "/guilds/{guild_id}/members/{user_id}/roles/{role_id}"

const api_route_t api_role_routes[] = {
    {"GET", "/guilds/{guild_id}/roles", roles_list, API_AUTH},
    {"POST", "/guilds/{guild_id}/roles", role_create, API_AUTH | API_BODY},
    {"PATCH", "/guilds/{guild_id}/roles", role_positions, API_AUTH | API_BODY_LIST},
    {"GET", ROLE, role_get, API_AUTH},
    {"PATCH", ROLE, role_modify, API_AUTH | API_BODY},
    {"DELETE", ROLE, role_delete, API_AUTH},
    {"PUT", MEMBER_ROLE, member_role_add, API_AUTH},
    {"DELETE", MEMBER_ROLE, member_role_remove, API_AUTH},
    {NULL, NULL, NULL, 0},
};
