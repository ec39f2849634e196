/* /users: the caller's own account (GET/PATCH /users/@me), other users
 * (GET /users/{id}), the caller's guilds (list, leave) and private channels
 * (list, open a DM or a group DM).
 *
 * Accounts belong to no hub, so these read and write the store directly; leaving a
 * guild is a member removal, which the guild's hub does (it fans out
 * GUILD_MEMBER_REMOVE). */
#include "internal.h"
#include "relationships.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- GET /users/@me, GET /users/{user_id} ------------------------------------------------- */

/* j->a: the user; j->flags: store_user_get's flags. */
static int64_t user_get_job(store_t *s, void *arg)
{
    api_job_t *j = arg;

    return store_user_get(s, j->a, j->flags, &j->out);
}

static void user_reply(api_ctx_t *c, uint64_t id, unsigned flags)
{
    api_job_t *j = api_job_new();
    int rc;

    j->a = id;
    j->flags = flags;
    rc = api_job_run(user_get_job, j);
    if (rc < 0) {
        api_store_error(c, rc, 10013);
    } else {
        api_json(c, 200, j->out);
        j->out = NULL;
    }
    api_job_free(j);
}

static void me_get(api_ctx_t *c)
{
    user_reply(c, c->user_id, STORE_USER_PRIVATE);
}

static void user_get(api_ctx_t *c)
{
    uint64_t id;

    if (api_param_id(c, "user_id", &id))
        user_reply(c, id, 0);
}

/* ---- PATCH /users/@me ------------------------------------------------------------------------ */

static int64_t user_modify_job(store_t *s, void *arg)
{
    api_job_t *j = arg;

    return store_user_modify(s, j->a, j->params, &j->out);
}

static void me_modify(api_ctx_t *c)
{
    const char *str;
    api_form_t f = {0};
    json_t *params;
    api_job_t *j;
    int rc;

    /* Only what may change, checked here so each bad field is named; null clears
     * global_name and avatar. */
    params = json_object();
    if (api_field_str(&f, c->body, "username", 2, 32, &str) == 1)
        json_object_set_new(params, "username", json_string(str));
    if (api_field_str(&f, c->body, "global_name", 1, 32, &str) == 1)
        json_object_set_new(params, "global_name", json_string(str));
    else if (json_is_null(json_object_get(c->body, "global_name")))
        json_object_set_new(params, "global_name", json_null());
    if (api_field_str(&f, c->body, "avatar", 0, 1 << 20, &str) == 1)
        json_object_set_new(params, "avatar", json_string(str));
    else if (json_is_null(json_object_get(c->body, "avatar")))
        json_object_set_new(params, "avatar", json_null());
    if (!api_form_ok(&f)) {
        json_decref(params);
        api_form_reply(c, &f);
        return;
    }
    j = api_job_new();
    j->a = c->user_id;
    j->params = params;
    rc = api_job_run(user_modify_job, j);
    if (rc == STORE_EEXIST) {
        api_form_add(&f, "username", "USERNAME_ALREADY_TAKEN",
                     "Username is unavailable. Try adding numbers, letters, underscores _ , or "
                     "periods.");
        api_form_reply(c, &f);
    } else if (rc == STORE_EINVAL) {
        api_form_add(&f, json_object_get(params, "username") ? "username" : "avatar",
                     "BASE_TYPE_INVALID", "Invalid value.");
        api_form_reply(c, &f);
    } else if (rc < 0) {
        api_store_error(c, rc, 10013);
    } else {
        api_json(c, 200, j->out);
        j->out = NULL;
    }
    api_job_free(j);
    json_decref(params);
}

/* ---- GET /users/@me/guilds, DELETE /users/@me/guilds/{guild_id} -------------------------------
 */

static int64_t user_guilds_job(store_t *s, void *arg)
{
    api_job_t *j = arg;

    return store_user_guilds(s, j->a, &j->page, &j->out);
}

static void me_guilds(api_ctx_t *c)
{
    api_form_t f = {0};
    int64_t limit = 200;
    api_job_t *j;
    int rc;

    j = api_job_new();
    j->a = c->user_id;
    api_query_id(&f, c, "before", &j->page.before);
    api_query_id(&f, c, "after", &j->page.after);
    api_query_int(&f, c, "limit", 1, 200, &limit);
    if (!api_form_ok(&f)) {
        api_form_reply(c, &f);
        api_job_free(j);
        return;
    }
    j->page.limit = (int)limit;
    rc = api_job_run(user_guilds_job, j);
    if (rc < 0) {
        api_store_error(c, rc, 10004);
    } else {
        api_json(c, 200, j->out);
        j->out = NULL;
    }
    api_job_free(j);
}

static void me_guild_leave(api_ctx_t *c)
{
    hub_result_t r;
    uint64_t guild_id;
    json_t *args;

    if (!api_param_id(c, "guild_id", &guild_id))
        return;
    args = json_object();
    json_object_set_new(args, "user_id", api_id_json(c->user_id));
    api_hub(c, HUB_GUILD, guild_id, HUB_OP_MEMBER_REMOVE, args, &r);
    json_decref(args);
    if (api_hub_failed(c, &r))
        return;
    hub_result_clear(&r);
    api_empty(c);
}

/* ---- GET/POST /users/@me/channels -------------------------------------------------------------
 */

static int64_t dms_job(store_t *s, void *arg)
{
    api_job_t *j = arg;

    return store_user_dms(s, j->a, &j->out);
}

static void me_channels(api_ctx_t *c)
{
    api_job_t *j = api_job_new();
    int rc;

    j->a = c->user_id;
    rc = api_job_run(dms_job, j);
    if (rc < 0) {
        api_store_error(c, rc, 10003);
    } else {
        api_json(c, 200, j->out);
        j->out = NULL;
    }
    api_job_free(j);
}

/* j->a: the caller, j->b: the other person. */
static int64_t dm_open_job(store_t *s, void *arg)
{
    api_job_t *j = arg;
    int rc;

    rc = store_dm_open(s, j->a, j->b, &j->out);
    return rc == STORE_UNCHANGED ? 0 : rc;
}

/* j->a: the owner; j->p: the other recipients (j->out_n of them); j->s: the name or
 * NULL. Tokens in j->params (access_tokens) are turned into recipients first. */
static int64_t group_open_job(store_t *s, void *arg)
{
    api_job_t *j = arg;
    uint64_t *ids = (uint64_t *)j->p;
    const json_t *tok;
    size_t i;
    int rc;

    json_array_foreach(j->params, i, tok)
    {
        bool bot;

        rc = store_token_lookup(s, json_string_value(tok), &ids[j->out_n], &bot);
        if (rc < 0)
            return STORE_ENOTFOUND;
        j->out_n++;
    }
    return store_group_dm_create(s, j->a, ids, j->out_n, j->s, &j->out);
}

static void me_channel_open(api_ctx_t *c)
{
    json_t *recipients = NULL, *tokens = NULL, *v;
    const char *name = NULL;
    uint64_t recipient = 0, *ids;
    api_form_t f = {0};
    api_job_t *j;
    size_t i, n;
    int rc;

    api_field_id(&f, c->body, "recipient_id", &recipient);
    api_field_array(&f, c->body, "recipients", STORE_GROUP_DM_MAX - 1, &recipients);
    api_field_array(&f, c->body, "access_tokens", STORE_GROUP_DM_MAX - 1, &tokens);
    api_field_str(&f, c->body, "name", 1, 100, &name);
    if (api_form_ok(&f) && recipient == 0 && recipients == NULL && tokens == NULL)
        api_field_required(&f, "recipient_id");
    n = json_array_size(recipients) + json_array_size(tokens);
    if (api_form_ok(&f) && n > STORE_GROUP_DM_MAX - 1)
        api_form_add(&f, "recipients", "BASE_TYPE_MAX_LENGTH", "Must be %d or fewer in length.",
                     STORE_GROUP_DM_MAX - 1);
    json_array_foreach(tokens, i, v)
    {
        if (!json_is_string(v) || strlen(json_string_value(v)) >= STORE_TOKEN_SIZE) {
            char key[40];

            snprintf(key, sizeof(key), "access_tokens.%zu", i);
            api_form_add(&f, key, "STRING_TYPE_CONVERT", "Invalid access token.");
        }
    }
    j = api_job_new();
    ids = calloc(n + 1, sizeof(*ids)); /* owned by the job record's owner: freed below */
    if (ids == NULL)
        abort();
    json_array_foreach(recipients, i, v)
    {
        char key[40];

        snprintf(key, sizeof(key), "recipients.%zu", i);
        if (!(json_is_string(v) && snowflake_parse(json_string_value(v), &ids[j->out_n]) == 0))
            api_form_add(&f, key, "NUMBER_TYPE_COERCE", "Value is not snowflake.");
        else
            j->out_n++;
    }
    if (!api_form_ok(&f)) {
        api_form_reply(c, &f);
        goto out;
    }
    j->a = c->user_id;
    if (recipients == NULL && tokens == NULL) {
        if (!api_relationship_dm_allowed(c, recipient))
            goto out;
        j->b = recipient;
        rc = api_job_run(dm_open_job, j);
    } else {
        j->p = ids;
        j->params = tokens;
        j->s = name;
        rc = api_job_run(group_open_job, j);
    }
    if (rc == STORE_ELIMIT) {
        api_error(c, 400, 30011, "Maximum number of group DM recipients reached (10)");
    } else if (rc < 0) {
        api_store_error(c, rc, 10013);
    } else {
        api_json(c, 200, j->out);
        j->out = NULL;
    }
out:
    api_job_free(j);
    free(ids);
}

const api_route_t api_user_routes[] = {
    {"GET", "/users/@me", me_get, API_AUTH},
    {"PATCH", "/users/@me", me_modify, API_AUTH | API_BODY},
    {"GET", "/users/@me/guilds", me_guilds, API_AUTH},
    {"DELETE", "/users/@me/guilds/{guild_id}", me_guild_leave, API_AUTH},
    {"GET", "/users/@me/channels", me_channels, API_AUTH},
    {"POST", "/users/@me/channels", me_channel_open, API_AUTH | API_BODY},
    {"GET", "/users/{user_id}", user_get, API_AUTH},
    {NULL, NULL, NULL, 0},
};
