/* Invites: create and list a channel's (/channels/{channel_id}/invites), look one up,
 * accept it (join its guild) and delete it (/invites/{code}).
 *
 * An invite that expired (max_age) or is used up (max_uses) is, as on Discord, an
 * Unknown Invite (404/10006) to every route. Creating and deleting go to the
 * channel's hub (INVITE_CREATE / INVITE_DELETE events); accepting is a member add on
 * the guild's hub with the code in its args, so that the hub counts the use and adds
 * the member in one store transaction (two people racing for the last use of a
 * one-use invite cannot both get in). */
#include "internal.h"

#include <stdio.h>
#include <string.h>

#define CODE_MAX 32
#define DEFAULT_MAX_AGE 86400 /* Discord's default: one day */

/* ---- POST/GET /channels/{channel_id}/invites ------------------------------------------------- */

static void invite_create(api_ctx_t *c)
{
    static const api_field_spec_t specs[] = {
        {"max_age", API_F_INT, 0, 604800, false},
        {"max_uses", API_F_INT, 0, 100, false},
        {"temporary", API_F_BOOL, 0, 0, false},
        {"unique", API_F_BOOL, 0, 0, false},
    };
    uint64_t channel_id;
    api_form_t f = {0};
    hub_result_t r;
    json_t *args;

    if (!api_param_id(c, "channel_id", &channel_id))
        return;
    args = json_object();
    api_fields_copy(&f, c->body, specs, sizeof(specs) / sizeof(specs[0]), args);
    if (!api_form_ok(&f)) {
        json_decref(args);
        api_form_reply(c, &f);
        return;
    }
    if (json_object_get(args, "max_age") == NULL)
        json_object_set_new(args, "max_age", json_integer(DEFAULT_MAX_AGE));
    if (json_object_get(args, "max_uses") == NULL)
        json_object_set_new(args, "max_uses", json_integer(0));
    json_object_set_new(args, "channel_id", api_id_json(channel_id));
    api_hub(c, HUB_CHANNEL, channel_id, HUB_OP_INVITE_CREATE, args, &r);
    json_decref(args);
    api_hub_reply(c, &r, 200);
}

static int64_t channel_invites_job(store_t *s, void *arg)
{
    api_job_t *j = arg;

    return store_invite_list_channel(s, j->a, &j->out);
}

static void invites_list(api_ctx_t *c)
{
    uint64_t channel_id;
    api_job_t *j;
    int rc;

    json_t *need = json_pack("{s:s}", "need", "16"); /* MANAGE_CHANNELS, as on Discord */
    bool ok;

    ok = api_param_id(c, "channel_id", &channel_id) && api_check_channel_with(c, channel_id, need);
    json_decref(need);
    if (!ok)
        return;
    j = api_job_new();
    j->a = channel_id;
    rc = api_job_run(channel_invites_job, j);
    if (rc < 0) {
        api_store_error(c, rc, 10003);
    } else {
        api_json(c, 200, j->out);
        j->out = NULL;
    }
    api_job_free(j);
}

/* ---- /invites/{code} ----------------------------------------------------------------------------
 */

static int64_t invite_get_job(store_t *s, void *arg)
{
    api_job_t *j = arg;

    return store_invite_get(s, j->s, &j->out);
}

/* Loads the invite the route names into j->out. Returns true, or false after
 * answering 404/10006. */
static bool invite_load(api_ctx_t *c, api_job_t *j)
{
    const char *code = http_request_param(c->req, "code");
    int rc;

    if (code == NULL || *code == '\0' || strlen(code) > CODE_MAX) {
        api_unknown(c, 10006);
        return false;
    }
    snprintf(j->text, sizeof(j->text), "%s", code);
    j->s = j->text;
    rc = api_job_run(invite_get_job, j);
    if (rc < 0) {
        api_store_error(c, rc, 10006);
        return false;
    }
    return true;
}

/* The id at key of the invite (e.g. "guild_id"), or 0. */
static uint64_t invite_id(const json_t *inv, const char *key)
{
    const char *s = json_string_value(json_object_get(inv, key));
    uint64_t id = 0;

    if (s == NULL || snowflake_parse(s, &id) != 0)
        return 0;
    return id;
}

static void invite_get(api_ctx_t *c)
{
    api_job_t *j = api_job_new();

    if (invite_load(c, j)) {
        /* The member count only when asked for, as on Discord. */
        if (!api_query_flag(c, "with_counts"))
            json_object_del(j->out, "approximate_member_count");
        api_json(c, 200, j->out);
        j->out = NULL;
    }
    api_job_free(j);
}

static void invite_accept(api_ctx_t *c)
{
    api_job_t *j = api_job_new();
    uint64_t guild_id;
    hub_result_t r;
    json_t *args;

    if (c->bot) {
        api_error(c, 403, 20001, api_code_text(20001));
        goto out;
    }
    if (!invite_load(c, j))
        goto out;
    guild_id = invite_id(j->out, "guild_id");
    if (guild_id == 0) {
        api_unknown(c, 10006);
        goto out;
    }
    args = json_object();
    json_object_set_new(args, "user_id", api_id_json(c->user_id));
    json_object_set_new(args, "code", json_string(j->s));
    api_hub(c, HUB_GUILD, guild_id, HUB_OP_MEMBER_ADD, args, &r);
    json_decref(args);
    if (api_hub_failed(c, &r))
        goto out;
    if (r.body != NULL) {
        api_hub_reply(c, &r, 200); /* the invite, its use counted */
    } else {
        hub_result_clear(&r);
        api_json(c, 200, j->out);
        j->out = NULL;
    }
out:
    api_job_free(j);
}

static void invite_delete(api_ctx_t *c)
{
    api_job_t *j = api_job_new();
    uint64_t channel_id;
    hub_result_t r;
    json_t *args;

    if (!invite_load(c, j))
        goto out;
    channel_id = invite_id(j->out, "channel_id");
    args = json_object();
    json_object_set_new(args, "code", json_string(j->s));
    json_object_set_new(args, "channel_id", api_id_json(channel_id));
    api_hub(c, HUB_CHANNEL, channel_id, HUB_OP_INVITE_DELETE, args, &r);
    json_decref(args);
    if (r.status == 200 && r.body == NULL) {
        /* A hub that answers a bare success still gets the client its invite. */
        hub_result_clear(&r);
        api_json(c, 200, j->out);
        j->out = NULL;
    } else {
        api_hub_reply(c, &r, 200);
    }
out:
    api_job_free(j);
}

const api_route_t api_invite_routes[] = {
    {"POST", "/channels/{channel_id}/invites", invite_create, API_AUTH | API_BODY},
    {"GET", "/channels/{channel_id}/invites", invites_list, API_AUTH},
    {"GET", "/invites/{code}", invite_get, API_AUTH_OPT},
    {"POST", "/invites/{code}", invite_accept, API_AUTH},
    {"DELETE", "/invites/{code}", invite_delete, API_AUTH},
    {NULL, NULL, NULL, 0},
};
