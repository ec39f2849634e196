/* Applications and bots, the way Discord does them: a person creates an application
 * (POST /applications), gives it a bot user (POST /applications/{id}/bot, which
 * answers with the bot's token; the bot's user id is the application's id), and adds
 * the bot to a guild they manage with the OAuth2 bot flow
 * (POST /oauth2/authorize?client_id=...&scope=bot with {"authorize": true,
 * "guild_id": ...}), which here needs no browser: the caller's token is the consent.
 *
 * Applications belong to no hub: the store directly. Adding the bot to the guild is
 * a member add, done by the guild's hub (GUILD_MEMBER_ADD, GUILD_CREATE to the bot),
 * which also decides whether the caller manages the guild (MANAGE_GUILD) and turns
 * the permissions asked for into the bot's managed role. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

static int64_t app_list_job(store_t *s, void *arg)
{
    api_job_t *j = arg;

    return store_app_list(s, j->a, &j->out);
}

static int64_t app_get_job(store_t *s, void *arg)
{
    api_job_t *j = arg;

    return store_app_get(s, j->a, &j->out);
}

static int64_t app_create_job(store_t *s, void *arg)
{
    api_job_t *j = arg;

    return store_app_create(s, j->a, j->params, &j->out);
}

/* The owner's id in an application object, or 0. */
static uint64_t app_owner(const json_t *app)
{
    uint64_t id = 0;
    const char *s = json_string_value(json_object_get(json_object_get(app, "owner"), "id"));

    if (s == NULL || snowflake_parse(s, &id) != 0)
        return 0;
    return id;
}

static void apps_list(api_ctx_t *c)
{
    api_job_t *j = api_job_new();
    int rc;

    j->a = c->user_id;
    rc = api_job_run(app_list_job, j);
    if (rc < 0) {
        api_store_error(c, rc, 10002);
    } else {
        api_json(c, 200, j->out);
        j->out = NULL;
    }
    api_job_free(j);
}

static void app_create(api_ctx_t *c)
{
    const char *name = NULL, *desc = NULL;
    api_form_t f = {0};
    json_t *params;
    api_job_t *j;
    int rc;

    if (c->bot) {
        api_error(c, 403, 20001, api_code_text(20001));
        return;
    }
    if (api_field_str(&f, c->body, "name", 1, 128, &name) == 0)
        api_field_required(&f, "name");
    api_field_str(&f, c->body, "description", 0, 400, &desc);
    if (!api_form_ok(&f)) {
        api_form_reply(c, &f);
        return;
    }
    params = json_pack("{s:s, s:s}", "name", name, "description", desc ? desc : "");
    j = api_job_new();
    j->a = c->user_id;
    j->params = params;
    rc = api_job_run(app_create_job, j);
    if (rc < 0) {
        api_store_error(c, rc, 10002);
    } else {
        api_json(c, 201, j->out);
        j->out = NULL;
    }
    api_job_free(j);
    json_decref(params);
}

/* Loads application id into *app (the caller's reference) if the caller owns it or is
 * its bot. Returns true, or false after answering. */
static bool app_load(api_ctx_t *c, uint64_t id, json_t **app)
{
    api_job_t *j = api_job_new();
    bool ok = false;
    int rc;

    j->a = id;
    rc = api_job_run(app_get_job, j);
    if (rc < 0) {
        api_store_error(c, rc, 10002);
    } else if (app_owner(j->out) != c->user_id && !(c->bot && c->user_id == id)) {
        api_missing_access(c);
    } else {
        *app = j->out;
        j->out = NULL;
        ok = true;
    }
    api_job_free(j);
    return ok;
}

static void app_get(api_ctx_t *c)
{
    json_t *app;
    uint64_t id;

    if (api_param_id(c, "application_id", &id) && app_load(c, id, &app))
        api_json(c, 200, app);
}

/* GET /applications/@me and /oauth2/applications/@me: a bot's own application (its
 * user id is the application's). */
static void app_me(api_ctx_t *c)
{
    json_t *app;

    if (!c->bot) {
        api_error(c, 403, 20002, api_code_text(20002));
        return;
    }
    if (app_load(c, c->user_id, &app))
        api_json(c, 200, app);
}

/* Creates the bot of application j->a, or when it has one already makes it a new
 * token (what Discord's "reset token" does): j->token, and the bot user in j->out. */
static int64_t bot_create_job(store_t *s, void *arg)
{
    api_job_t *j = arg;
    int rc;

    rc = store_app_bot_create(s, j->a, j->token, &j->out);
    if (rc == STORE_EEXIST) {
        rc = store_app_bot_reset_token(s, j->a, j->token);
        if (rc == 0)
            rc = store_user_get(s, j->a, 0, &j->out);
    }
    return rc;
}

static void app_bot_create(api_ctx_t *c, bool token_only)
{
    json_t *app, *out;
    api_job_t *j;
    uint64_t id;
    int rc;

    if (!api_param_id(c, "application_id", &id) || !app_load(c, id, &app))
        return;
    json_decref(app);
    if (c->bot) { /* a bot may read its application, not mint its own tokens */
        api_error(c, 403, 20001, api_code_text(20001));
        return;
    }
    j = api_job_new();
    j->a = id;
    rc = api_job_run(bot_create_job, j);
    if (rc < 0) {
        api_store_error(c, rc, 10002);
    } else {
        out = token_only ? json_object() : json_incref(j->out);
        json_object_set_new(out, "token", json_string(j->token));
        api_json(c, 200, out);
    }
    api_job_free(j);
}

static void app_bot(api_ctx_t *c)
{
    app_bot_create(c, false);
}

static void app_bot_reset(api_ctx_t *c)
{
    app_bot_create(c, true);
}

/* ---- POST /oauth2/authorize ----------------------------------------------------------------- */

static void oauth2_authorize(api_ctx_t *c)
{
    uint64_t client_id = 0, guild_id = 0, bot_id = 0;
    bool authorize = false;
    char scope[256];
    api_form_t f = {0};
    int64_t perms = 0;
    const char *s;
    hub_result_t r;
    json_t *args;
    api_job_t *j;
    int rc;

    if (api_query_id(&f, c, "client_id", &client_id) == 0)
        api_field_required(&f, "client_id");
    api_query_int(&f, c, "permissions", 0, INT64_MAX, &perms);
    if (http_query_get(c->req, "scope", scope, sizeof(scope)) < 0)
        api_field_required(&f, "scope");
    else if (strstr(scope, "bot") == NULL)
        api_form_add(&f, "scope", "BASE_TYPE_CHOICES", "Only the bot scope is supported.");
    if (api_field_bool(&f, c->body, "authorize", &authorize) == 0)
        api_field_required(&f, "authorize");
    if (api_field_id(&f, c->body, "guild_id", &guild_id) == 0)
        api_field_required(&f, "guild_id");
    if (!api_form_ok(&f)) {
        api_form_reply(c, &f);
        return;
    }
    if (c->bot) {
        api_error(c, 403, 20001, api_code_text(20001));
        return;
    }
    if (!authorize) {
        api_json(c, 200,
                 json_pack("{s:s}", "location",
                           "https://discord.com/oauth2/authorized?error=access_denied"));
        return;
    }
    j = api_job_new();
    j->a = client_id;
    rc = api_job_run(app_get_job, j);
    if (rc < 0) {
        api_store_error(c, rc, 10002);
        goto out;
    }
    s = json_string_value(json_object_get(json_object_get(j->out, "bot"), "id"));
    if (s == NULL || snowflake_parse(s, &bot_id) != 0) {
        api_error(c, 400, 50010, "OAuth2 application does not have a bot");
        goto out;
    }
    /* Whether the caller may add it (MANAGE_GUILD; the owner before the permissions
     * model) is the guild hub's to say, as is an unknown guild (10004). */
    args = json_object();
    json_object_set_new(args, "user_id", api_id_json(bot_id));
    /* The hub makes them the bot's managed role (if not 0), as Discord does. */
    if (perms > 0)
        json_object_set_new(args, "permissions", json_integer(perms));
    api_hub(c, HUB_GUILD, guild_id, HUB_OP_MEMBER_ADD, args, &r);
    json_decref(args);
    if (!api_hub_failed(c, &r)) {
        hub_result_clear(&r);
        api_json(c, 200, json_pack("{s:s}", "location", "https://discord.com/oauth2/authorized"));
    }
out:
    api_job_free(j);
}

const api_route_t api_app_routes[] = {
    {"GET", "/applications", apps_list, API_AUTH},
    {"POST", "/applications", app_create, API_AUTH | API_BODY},
    {"GET", "/applications/@me", app_me, API_AUTH},
    {"GET", "/oauth2/applications/@me", app_me, API_AUTH},
    {"GET", "/applications/{application_id}", app_get, API_AUTH},
    {"POST", "/applications/{application_id}/bot", app_bot, API_AUTH},
    {"POST", "/applications/{application_id}/bot/reset", app_bot_reset, API_AUTH},
    {"POST", "/oauth2/authorize", oauth2_authorize, API_AUTH | API_BODY},
    {NULL, NULL, NULL, 0},
};
