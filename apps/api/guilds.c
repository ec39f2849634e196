/* /guilds: create, get, modify, delete; members (list, get, modify, kick); a guild's
 * channels (list, create) and invites (list). Roles are roles.c's, bans bans.c's.
 *
 * Creating a guild is the store's (no hub owns a guild that does not exist yet);
 * every other write goes to the guild's hub, which checks the caller's rights and
 * fans the event out. Reads check access with the hub, then read the store. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

#define NSPECS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- POST /guilds -------------------------------------------------------------------------------
 */

static int64_t guild_create_job(store_t *s, void *arg)
{
    api_job_t *j = arg;

    return store_guild_create(s, j->a, j->params, &j->out);
}

/* Tells the new guild's hub that its owner is a member (the store made it one), so the
 * owner's live gateway sessions get its GUILD_CREATE. The guild exists whatever the hub
 * answers: a failure here is only logged by the hub's own means, and the sessions see
 * the guild on their next IDENTIFY. */
static void owner_joined(api_ctx_t *c, const json_t *guild)
{
    const char *s = json_string_value(json_object_get(guild, "id"));
    uint64_t guild_id;
    hub_result_t r;
    json_t *args;

    if (s == NULL || snowflake_parse(s, &guild_id) != 0)
        return;
    args = json_object();
    json_object_set_new(args, "user_id", api_id_json(c->user_id));
    api_hub(c, HUB_GUILD, guild_id, HUB_OP_MEMBER_ADD, args, &r);
    json_decref(args);
    hub_result_clear(&r);
}

static void guild_create(api_ctx_t *c)
{
    static const api_field_spec_t specs[] = {
        {"name", API_F_STR, 2, 100, false},
        {"icon", API_F_STR, 1, 256, true},
        {"description", API_F_STR, 0, 120, true},
    };
    api_form_t f = {0};
    json_t *params;
    api_job_t *j;
    int rc;

    params = json_object();
    api_fields_copy(&f, c->body, specs, NSPECS(specs), params);
    if (json_object_get(params, "name") == NULL && api_form_ok(&f))
        api_field_required(&f, "name");
    if (!api_form_ok(&f)) {
        json_decref(params);
        api_form_reply(c, &f);
        return;
    }
    j = api_job_new();
    j->a = c->user_id;
    j->params = params;
    rc = api_job_run(guild_create_job, j);
    if (rc < 0) {
        api_store_error(c, rc, 10004);
    } else {
        owner_joined(c, j->out);
        api_json(c, 201, j->out);
        j->out = NULL;
    }
    api_job_free(j);
    json_decref(params);
}

/* ---- GET /guilds/{guild_id} --------------------------------------------------------------------
 */

static int64_t guild_get_job(store_t *s, void *arg)
{
    api_job_t *j = arg;
    store_page_t pg = {.after = j->a - 1, .limit = 1};
    json_t *list = NULL, *g;
    uint64_t id;
    int rc;

    if (j->flags) {
        /* with_counts: the admin listing counts members with one indexed count,
         * where the guild's full load would read every member. */
        rc = store_guild_list(s, &pg, &list);
        if (rc < 0)
            return rc;
        g = json_array_get(list, 0);
        if (snowflake_parse(json_string_value(json_object_get(g, "id")), &id) == 0 && id == j->a)
            j->out_n = (size_t)json_integer_value(json_object_get(g, "member_count"));
        json_decref(list);
    }
    return store_guild_get(s, j->a, &j->out);
}

static void guild_get(api_ctx_t *c)
{
    uint64_t guild_id;
    api_job_t *j;
    int rc;

    if (!api_param_id(c, "guild_id", &guild_id) || !api_check_guild(c, guild_id))
        return;
    j = api_job_new();
    j->a = guild_id;
    j->flags = api_query_flag(c, "with_counts");
    rc = api_job_run(guild_get_job, j);
    if (rc < 0) {
        api_store_error(c, rc, 10004);
    } else {
        if (j->flags) {
            json_object_set_new(j->out, "approximate_member_count",
                                json_integer((json_int_t)j->out_n));
            /* Presences live in the hubs, not the store: none counted here yet. */
            json_object_set_new(j->out, "approximate_presence_count", json_integer(0));
        }
        api_json(c, 200, j->out);
        j->out = NULL;
    }
    api_job_free(j);
}

/* ---- PATCH/DELETE /guilds/{guild_id} -----------------------------------------------------------
 */

static void guild_modify(api_ctx_t *c)
{
    static const api_field_spec_t specs[] = {
        {"name", API_F_STR, 2, 100, false},
        {"icon", API_F_STR, 1, 256, true},
        {"banner", API_F_STR, 1, 256, true},
        {"splash", API_F_STR, 1, 256, true},
        {"description", API_F_STR, 0, 120, true},
        {"owner_id", API_F_ID, 0, 0, false},
        {"system_channel_id", API_F_ID, 0, 0, true},
        {"afk_channel_id", API_F_ID, 0, 0, true},
        {"afk_timeout", API_F_INT, 60, 3600, false},
        {"verification_level", API_F_INT, 0, 4, false},
        {"default_message_notifications", API_F_INT, 0, 1, false},
        {"explicit_content_filter", API_F_INT, 0, 2, false},
        {"preferred_locale", API_F_STR, 2, 10, false},
    };
    api_form_t f = {0};
    uint64_t guild_id;
    hub_result_t r;
    json_t *params;

    if (!api_param_id(c, "guild_id", &guild_id))
        return;
    params = json_object();
    api_fields_copy(&f, c->body, specs, NSPECS(specs), params);
    if (!api_form_ok(&f)) {
        json_decref(params);
        api_form_reply(c, &f);
        return;
    }
    api_reason(c, params);
    api_hub(c, HUB_GUILD, guild_id, HUB_OP_GUILD_MODIFY, params, &r);
    json_decref(params);
    api_hub_reply(c, &r, 200);
}

static void guild_delete(api_ctx_t *c)
{
    uint64_t guild_id;
    hub_result_t r;
    json_t *args;

    if (!api_param_id(c, "guild_id", &guild_id))
        return;
    args = json_object();
    api_hub(c, HUB_GUILD, guild_id, HUB_OP_GUILD_DELETE, args, &r);
    json_decref(args);
    if (api_hub_failed(c, &r))
        return;
    hub_result_clear(&r);
    api_empty(c);
}

/* ---- members ------------------------------------------------------------------------------------
 */

static int64_t member_list_job(store_t *s, void *arg)
{
    api_job_t *j = arg;

    return store_member_list(s, j->a, &j->page, &j->out);
}

static int64_t member_get_job(store_t *s, void *arg)
{
    api_job_t *j = arg;

    return store_member_get(s, j->a, j->b, &j->out);
}

static void members_list(api_ctx_t *c)
{
    api_form_t f = {0};
    uint64_t guild_id;
    int64_t limit = 1;
    api_job_t *j;
    int rc;

    if (!api_param_id(c, "guild_id", &guild_id))
        return;
    j = api_job_new();
    api_query_int(&f, c, "limit", 1, 1000, &limit);
    api_query_id(&f, c, "after", &j->page.after);
    if (!api_form_ok(&f)) {
        api_form_reply(c, &f);
        goto out;
    }
    if (!api_check_guild(c, guild_id))
        goto out;
    j->a = guild_id;
    j->page.limit = (int)limit;
    rc = api_job_run(member_list_job, j);
    if (rc < 0) {
        api_store_error(c, rc, 10004);
    } else {
        api_json(c, 200, j->out);
        j->out = NULL;
    }
out:
    api_job_free(j);
}

/* The member a route names: {user_id}, or the caller for "@me". */
static bool member_target(api_ctx_t *c, uint64_t *user_id)
{
    const char *v = http_request_param(c->req, "user_id");

    if (v != NULL && strcmp(v, "@me") == 0) {
        *user_id = c->user_id;
        return true;
    }
    return api_param_id(c, "user_id", user_id);
}

static void member_get(api_ctx_t *c)
{
    uint64_t guild_id, user_id;
    api_job_t *j;
    int rc;

    if (!api_param_id(c, "guild_id", &guild_id) || !member_target(c, &user_id) ||
        !api_check_guild(c, guild_id))
        return;
    j = api_job_new();
    j->a = guild_id;
    j->b = user_id;
    rc = api_job_run(member_get_job, j);
    if (rc < 0) {
        api_store_error(c, rc, 10007);
    } else {
        api_json(c, 200, j->out);
        j->out = NULL;
    }
    api_job_free(j);
}

static void member_modify(api_ctx_t *c)
{
    static const api_field_spec_t specs[] = {
        {"nick", API_F_STR, 1, 32, true},
        {"roles", API_F_ARRAY, 0, 250, false},
        {"mute", API_F_BOOL, 0, 0, false},
        {"deaf", API_F_BOOL, 0, 0, false},
        {"communication_disabled_until", API_F_STR, 1, 64, true},
    };
    uint64_t guild_id, user_id;
    api_form_t f = {0};
    hub_result_t r;
    json_t *params;

    if (!api_param_id(c, "guild_id", &guild_id) || !member_target(c, &user_id))
        return;
    params = json_object();
    api_fields_copy(&f, c->body, specs, NSPECS(specs), params);
    if (!api_form_ok(&f)) {
        json_decref(params);
        api_form_reply(c, &f);
        return;
    }
    json_object_set_new(params, "user_id", api_id_json(user_id));
    api_reason(c, params);
    api_hub(c, HUB_GUILD, guild_id, HUB_OP_MEMBER_MODIFY, params, &r);
    json_decref(params);
    api_hub_reply(c, &r, 200);
}

static void member_remove(api_ctx_t *c)
{
    uint64_t guild_id, user_id;
    hub_result_t r;
    json_t *args;

    if (!api_param_id(c, "guild_id", &guild_id) || !api_param_id(c, "user_id", &user_id))
        return;
    args = json_object();
    json_object_set_new(args, "user_id", api_id_json(user_id));
    api_reason(c, args); /* a kick's, in the audit log */
    api_hub(c, HUB_GUILD, guild_id, HUB_OP_MEMBER_REMOVE, args, &r);
    json_decref(args);
    if (api_hub_failed(c, &r))
        return;
    hub_result_clear(&r);
    api_empty(c);
}

/* ---- a guild's channels and invites
 * ---------------------------------------------------------------- */

/* j->a: the guild; j->flags picks the list. */
enum { LIST_CHANNELS = 1, LIST_INVITES };

static int64_t guild_list_job(store_t *s, void *arg)
{
    api_job_t *j = arg;

    switch (j->flags) {
    case LIST_CHANNELS:
        return store_channel_list(s, j->a, &j->out);
    default:
        return store_invite_list_guild(s, j->a, &j->out);
    }
}

static void guild_list(api_ctx_t *c, unsigned which)
{
    /* A guild's invites need MANAGE_GUILD, as on Discord. */
    json_t *need = which == LIST_INVITES ? json_pack("{s:s}", "need", "32") : NULL;
    uint64_t guild_id;
    api_job_t *j;
    bool ok;
    int rc;

    ok = api_param_id(c, "guild_id", &guild_id) && api_check_guild_with(c, guild_id, need);
    json_decref(need);
    if (!ok)
        return;
    j = api_job_new();
    j->a = guild_id;
    j->flags = which;
    rc = api_job_run(guild_list_job, j);
    if (rc < 0) {
        api_store_error(c, rc, 10004);
    } else {
        api_json(c, 200, j->out);
        j->out = NULL;
    }
    api_job_free(j);
}

static void channels_list(api_ctx_t *c)
{
    guild_list(c, LIST_CHANNELS);
}

static void invites_list(api_ctx_t *c)
{
    guild_list(c, LIST_INVITES);
}

static void channel_create(api_ctx_t *c)
{
    api_form_t f = {0};
    uint64_t guild_id;
    hub_result_t r;
    json_t *params;

    if (!api_param_id(c, "guild_id", &guild_id))
        return;
    params = api_channel_params(&f, c->body, true);
    if (!api_form_ok(&f)) {
        json_decref(params);
        api_form_reply(c, &f);
        return;
    }
    api_reason(c, params);
    api_hub(c, HUB_GUILD, guild_id, HUB_OP_CHANNEL_CREATE, params, &r);
    json_decref(params);
    api_hub_reply(c, &r, 201);
}

const api_route_t api_guild_routes[] = {
    {"POST", "/guilds", guild_create, API_AUTH | API_BODY},
    {"GET", "/guilds/{guild_id}", guild_get, API_AUTH},
    {"PATCH", "/guilds/{guild_id}", guild_modify, API_AUTH | API_BODY},
    {"DELETE", "/guilds/{guild_id}", guild_delete, API_AUTH},
    {"GET", "/guilds/{guild_id}/members", members_list, API_AUTH},
    {"GET", "/guilds/{guild_id}/members/{user_id}", member_get, API_AUTH},
    {"PATCH", "/guilds/{guild_id}/members/{user_id}", member_modify, API_AUTH | API_BODY},
    {"DELETE", "/guilds/{guild_id}/members/{user_id}", member_remove, API_AUTH},
    {"GET", "/guilds/{guild_id}/channels", channels_list, API_AUTH},
    {"POST", "/guilds/{guild_id}/channels", channel_create, API_AUTH | API_BODY},
    {"GET", "/guilds/{guild_id}/invites", invites_list, API_AUTH},
    {NULL, NULL, NULL, 0},
};
