/* /channels/{channel_id}: get, modify, delete (or, for a DM, close), its permission
 * overwrites (PUT/DELETE .../permissions/{overwrite_id}), and typing.
 *
 * The channel's hub (its guild's, or the private channel's own) does the writes,
 * checks MANAGE_CHANNELS / MANAGE_ROLES and what overwrites may allow or deny, fans
 * CHANNEL_UPDATE / CHANNEL_DELETE / TYPING_START out and audits with the
 * X-Audit-Log-Reason; a read checks access with it and then reads the store. */
#include "internal.h"

#include "perm/perm.h"

#include <stdio.h>
#include <string.h>

#define NSPECS(a) (sizeof(a) / sizeof((a)[0]))

json_t *api_channel_params(api_form_t *f, const json_t *body, bool create)
{
    /* The store's limits, so that what passes here is what it accepts. */
    static const api_field_spec_t specs[] = {
        {"name", API_F_STR, 1, 100, false},
        {"topic", API_F_STR, 0, 1024, true},
        {"position", API_F_INT, 0, 100000, false},
        {"parent_id", API_F_ID, 0, 0, true},
        {"nsfw", API_F_BOOL, 0, 0, false},
        {"bitrate", API_F_INT, 8000, 384000, false},
        {"user_limit", API_F_INT, 0, 99, false},
        {"rate_limit_per_user", API_F_INT, 0, 21600, false},
        {"permission_overwrites", API_F_ARRAY, 0, 100, false},
        {"icon", API_F_STR, 1, 256, true}, /* group DMs */
    };
    json_t *params = json_object();
    int64_t type = STORE_CHANNEL_TEXT;

    api_fields_copy(f, body, specs, NSPECS(specs), params);
    if (!create)
        return params;
    if (json_object_get(params, "name") == NULL && json_object_get(f->errors, "name") == NULL)
        api_field_required(f, "name");
    if (api_field_int(f, body, "type", 0, 15, &type) >= 0) {
        if (type != STORE_CHANNEL_TEXT && type != STORE_CHANNEL_VOICE &&
            type != STORE_CHANNEL_CATEGORY)
            api_form_add(f, "type", "BASE_TYPE_CHOICES", "Value must be one of {0, 2, 4}.");
        else
            json_object_set_new(params, "type", json_integer(type));
    }
    return params;
}

/* ---- GET /channels/{channel_id} -----------------------------------------------------------------
 */

static int64_t channel_get_job(store_t *s, void *arg)
{
    api_job_t *j = arg;

    return store_channel_get(s, j->a, j->b, &j->out);
}

static void channel_get(api_ctx_t *c)
{
    uint64_t channel_id;
    api_job_t *j;
    int rc;

    if (!api_param_id(c, "channel_id", &channel_id) || !api_check_channel(c, channel_id))
        return;
    j = api_job_new();
    j->a = channel_id;
    j->b = c->user_id;
    rc = api_job_run(channel_get_job, j);
    if (rc < 0) {
        api_store_error(c, rc, 10003);
    } else {
        api_json(c, 200, j->out);
        j->out = NULL;
    }
    api_job_free(j);
}

/* ---- PATCH/DELETE /channels/{channel_id}, POST .../typing
 * ---------------------------------------- */

/* Sends op with args (plus "channel_id" and "reason") to the channel's hub and answers
 * its outcome; 204 when it has no body. */
static void channel_op(api_ctx_t *c, uint64_t channel_id, hub_op_t op, json_t *args)
{
    hub_result_t r;

    json_object_set_new(args, "channel_id", api_id_json(channel_id));
    api_reason(c, args);
    api_hub(c, HUB_CHANNEL, channel_id, op, args, &r);
    api_hub_reply(c, &r, 200);
}

static void channel_modify(api_ctx_t *c)
{
    uint64_t channel_id;
    api_form_t f = {0};
    json_t *params;

    if (!api_param_id(c, "channel_id", &channel_id))
        return;
    params = api_channel_params(&f, c->body, false);
    if (json_object_get(c->body, "type") != NULL)
        /* A channel's type is fixed once made (news conversion is not supported). */
        api_form_add(&f, "type", "CHANNEL_TYPE_INVALID", "Cannot change the channel type.");
    if (!api_form_ok(&f)) {
        api_form_reply(c, &f);
    } else {
        channel_op(c, channel_id, HUB_OP_CHANNEL_MODIFY, params);
    }
    json_decref(params);
}

static void channel_delete(api_ctx_t *c)
{
    uint64_t channel_id;
    json_t *args;

    if (!api_param_id(c, "channel_id", &channel_id))
        return;
    args = json_object();
    channel_op(c, channel_id, HUB_OP_CHANNEL_DELETE, args);
    json_decref(args);
}

static void channel_typing(api_ctx_t *c)
{
    uint64_t channel_id;
    hub_result_t r;
    json_t *args;

    if (!api_param_id(c, "channel_id", &channel_id))
        return;
    args = json_object();
    json_object_set_new(args, "channel_id", api_id_json(channel_id));
    api_hub(c, HUB_CHANNEL, channel_id, HUB_OP_TYPING, args, &r);
    json_decref(args);
    if (api_hub_failed(c, &r))
        return;
    hub_result_clear(&r);
    api_empty(c); /* Discord answers 204 whatever the hub had to say */
}

/* ---- PUT/DELETE /channels/{channel_id}/permissions/{overwrite_id} ---------------------------- */

/* Reads allow or deny (a permission set: a decimal string, or an integer) into args as
 * a string; errors go to f. */
static void overwrite_bits(api_form_t *f, const json_t *body, const char *key, json_t *args)
{
    const json_t *v = json_object_get(body, key);
    char buf[PERM_STR_SIZE];
    uint64_t bits;

    if (v == NULL || json_is_null(v))
        return;
    if (perm_parse_json(v, &bits) < 0)
        api_form_add(f, key, "NUMBER_TYPE_COERCE", "Value is not int.");
    else
        json_object_set_new(args, key, json_string(perm_format(bits, buf)));
}

static void overwrite_put(api_ctx_t *c)
{
    uint64_t channel_id, overwrite_id;
    api_form_t f = {0};
    int64_t type = 0;
    json_t *args;
    int has;

    if (!api_param_id(c, "channel_id", &channel_id) ||
        !api_param_id(c, "overwrite_id", &overwrite_id))
        return;
    args = json_object();
    /* type is required: 0 a role, 1 a member. */
    has = api_field_int(&f, c->body, "type", 0, 1, &type);
    if (has == 0)
        api_field_required(&f, "type");
    overwrite_bits(&f, c->body, "allow", args);
    overwrite_bits(&f, c->body, "deny", args);
    if (!api_form_ok(&f)) {
        api_form_reply(c, &f);
    } else {
        json_object_set_new(args, "overwrite_id", api_id_json(overwrite_id));
        json_object_set_new(args, "type", json_integer(type));
        channel_op(c, channel_id, HUB_OP_OVERWRITE_PUT, args);
    }
    json_decref(args);
}

static void overwrite_delete(api_ctx_t *c)
{
    uint64_t channel_id, overwrite_id;
    json_t *args;

    if (!api_param_id(c, "channel_id", &channel_id) ||
        !api_param_id(c, "overwrite_id", &overwrite_id))
        return;
    args = json_object();
    json_object_set_new(args, "overwrite_id", api_id_json(overwrite_id));
    channel_op(c, channel_id, HUB_OP_OVERWRITE_DELETE, args);
    json_decref(args);
}

const api_route_t api_channel_routes[] = {
    {"GET", "/channels/{channel_id}", channel_get, API_AUTH},
    {"PATCH", "/channels/{channel_id}", channel_modify, API_AUTH | API_BODY},
    {"DELETE", "/channels/{channel_id}", channel_delete, API_AUTH},
    {"POST", "/channels/{channel_id}/typing", channel_typing, API_AUTH},
    {"PUT", "/channels/{channel_id}/permissions/{overwrite_id}", overwrite_put,
     API_AUTH | API_BODY},
    {"DELETE", "/channels/{channel_id}/permissions/{overwrite_id}", overwrite_delete, API_AUTH},
    {NULL, NULL, NULL, 0},
};
