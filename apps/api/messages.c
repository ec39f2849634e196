/* /channels/{channel_id}/messages: list (before/after/around, limit 1..100, newest
 * first), create, get, edit, delete, bulk delete.
 *
 * Bodies are checked here, field by field, so a bad one gets Discord's 50035 with
 * every error named (content over 2000 characters, a nonce over 25, a reply that is
 * not an object, ...) or 50006 when there is nothing to send; what passes goes to the
 * channel's hub as a clean copy (only the fields Discord defines, ids as strings, the
 * nonce as a string). The hub assigns the id, waits for the durable commit, fans
 * MESSAGE_CREATE out in id order and answers with the message object, which is the
 * 200 here. Files in a multipart body are not stored yet: the "attachments" list that
 * describes them is dropped, so a message of files alone is empty (50006). */
#include "internal.h"
#include "relationships.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NONCE_MAX 25
#define EMBEDS_MAX 10
#define COMPONENTS_MAX 5
#define BULK_MIN 2
#define BULK_MAX 100
#define BULK_AGE_MS (14LL * 24 * 3600 * 1000) /* Discord's two weeks */

/* ---- GET /channels/{channel_id}/messages ------------------------------------------------------
 */

static int64_t message_list_job(store_t *s, void *arg)
{
    api_job_t *j = arg;

    return store_message_list(s, j->a, &j->page, j->b, &j->out);
}

static void messages_list(api_ctx_t *c)
{
    uint64_t channel_id, around = 0, before = 0, after = 0;
    api_form_t f = {0};
    int64_t limit = 50;
    hub_result_t r;
    api_job_t *j;
    json_t *args;
    int rc;

    if (!api_param_id(c, "channel_id", &channel_id))
        return;
    api_query_id(&f, c, "around", &around);
    api_query_id(&f, c, "before", &before);
    api_query_id(&f, c, "after", &after);
    api_query_int(&f, c, "limit", 1, 100, &limit);
    if (!api_form_ok(&f)) {
        api_form_reply(c, &f);
        return;
    }
    args = json_pack("{s:b}", "history", 1);
    json_object_set_new(args, "channel_id", api_id_json(channel_id));
    api_hub(c, HUB_CHANNEL, channel_id, HUB_OP_CHECK_ACCESS, args, &r);
    json_decref(args);
    if (r.status == 403 && r.code == 50013) {
        /* Without READ_MESSAGE_HISTORY Discord lists nothing rather than refusing. */
        hub_result_clear(&r);
        api_json(c, 200, json_array());
        return;
    }
    if (api_hub_failed(c, &r))
        return;
    hub_result_clear(&r);
    j = api_job_new();
    j->a = channel_id;
    j->b = c->user_id;
    j->page.limit = (int)limit;
    /* The three are exclusive; like Discord, take one when several come. */
    if (around != 0)
        j->page.around = around;
    else if (before != 0)
        j->page.before = before;
    else
        j->page.after = after;
    rc = api_job_run(message_list_job, j);
    if (rc < 0) {
        api_store_error(c, rc, 10003);
    } else {
        api_json(c, 200, j->out);
        j->out = NULL;
    }
    api_job_free(j);
}

/* ---- bodies of create and edit ------------------------------------------------------------------
 */

static bool blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
            return false;
    return true;
}

/* Checks the embeds in body (an array of objects, or the old single "embed") and
 * copies them to args. */
static void embeds_check(api_form_t *f, const json_t *body, json_t *args)
{
    static const api_field_spec_t specs[] = {
        {"title", API_F_STR, 0, 256, true},      {"description", API_F_STR, 0, 4096, true},
        {"url", API_F_STR, 0, 2048, true},       {"timestamp", API_F_STR, 0, 64, true},
        {"color", API_F_INT, 0, 0xFFFFFF, true}, {"fields", API_F_ARRAY, 0, 25, true},
        {"footer", API_F_OBJECT, 0, 0, true},    {"image", API_F_OBJECT, 0, 0, true},
        {"thumbnail", API_F_OBJECT, 0, 0, true}, {"author", API_F_OBJECT, 0, 0, true},
    };
    json_t *embeds = NULL, *one = NULL, *e, *scratch;
    char scope[32];
    size_t i;

    if (api_field_array(f, body, "embeds", EMBEDS_MAX, &embeds) == 0 &&
        api_field_object(f, body, "embed", &one) == 1) {
        json_object_set_new(args, "embeds", json_pack("[O]", one));
        return;
    }
    if (embeds == NULL)
        return;
    json_array_foreach(embeds, i, e)
    {
        snprintf(scope, sizeof(scope), "embeds.%zu", i);
        if (!json_is_object(e)) {
            api_form_add(f, scope, "DICT_TYPE_CONVERT",
                         "Only dictionaries may be used in a DictType");
            continue;
        }
        api_form_scope(f, scope);
        scratch = json_object(); /* the checks' copy; the embed is stored as sent */
        api_fields_copy(f, e, specs, sizeof(specs) / sizeof(specs[0]), scratch);
        json_decref(scratch);
        api_form_scope(f, NULL);
    }
    json_object_set(args, "embeds", embeds);
}

/* Checks message_reference and copies it to args with ids as strings. */
static void reference_check(api_form_t *f, const json_t *body, json_t *args)
{
    static const api_field_spec_t specs[] = {
        {"message_id", API_F_ID, 0, 0, false}, {"channel_id", API_F_ID, 0, 0, false},
        {"guild_id", API_F_ID, 0, 0, false},   {"fail_if_not_exists", API_F_BOOL, 0, 0, false},
        {"type", API_F_INT, 0, 1, false},
    };
    json_t *ref = NULL, *copy;

    if (api_field_object(f, body, "message_reference", &ref) != 1)
        return;
    copy = json_object();
    api_form_scope(f, "message_reference");
    api_fields_copy(f, ref, specs, sizeof(specs) / sizeof(specs[0]), copy);
    if (json_object_get(copy, "message_id") == NULL && json_object_get(ref, "message_id") == NULL)
        api_field_required(f, "message_id");
    api_form_scope(f, NULL);
    json_object_set_new(args, "message_reference", copy);
}

/* The nonce: a string of at most 25 characters, or an integer (sent on as a string). */
static void nonce_check(api_form_t *f, const json_t *body, json_t *args)
{
    const json_t *v = json_object_get(body, "nonce");
    char buf[24];

    if (v == NULL || json_is_null(v))
        return;
    if (json_is_integer(v)) {
        snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
        json_object_set_new(args, "nonce", json_string(buf));
    } else if (!json_is_string(v)) {
        api_form_add(f, "nonce", "NONCE_TYPE_INVALID", "Nonce must be an integer or a string.");
    } else if (api_utf8_len(json_string_value(v)) > NONCE_MAX) {
        api_form_add(f, "nonce", "BASE_TYPE_MAX_LENGTH", "Must be %d or fewer in length.",
                     NONCE_MAX);
    } else {
        json_object_set(args, "nonce", (json_t *)v);
    }
}

/* The checked fields of a create (edit: false) or edit body, as a new object. */
static json_t *message_args(api_form_t *f, const json_t *body, bool create)
{
    static const api_field_spec_t specs[] = {
        {"content", API_F_STR, 0, STORE_CONTENT_MAX, true},
        {"tts", API_F_BOOL, 0, 0, false},
        {"enforce_nonce", API_F_BOOL, 0, 0, false},
        {"flags", API_F_INT, 0, 1 << 30, false},
        {"components", API_F_ARRAY, 0, COMPONENTS_MAX, false},
        {"allowed_mentions", API_F_OBJECT, 0, 0, true},
        {"sticker_ids", API_F_ARRAY, 0, 3, false},
    };
    json_t *args = json_object();

    api_fields_copy(f, body, specs, sizeof(specs) / sizeof(specs[0]), args);
    embeds_check(f, body, args);
    if (create) {
        nonce_check(f, body, args);
        reference_check(f, body, args);
        /* An edit's null content clears it; a create's null content is no content. */
        if (json_is_null(json_object_get(args, "content")))
            json_object_del(args, "content");
    } else if (json_is_null(json_object_get(args, "content"))) {
        json_object_set_new(args, "content", json_string(""));
    }
    return args;
}

/* True if args carry nothing to show: no content but blanks, no embeds, components
 * or stickers. */
static bool message_empty(const json_t *args)
{
    const char *content = json_string_value(json_object_get(args, "content"));

    return (content == NULL || blank(content)) &&
           json_array_size(json_object_get(args, "embeds")) == 0 &&
           json_array_size(json_object_get(args, "components")) == 0 &&
           json_array_size(json_object_get(args, "sticker_ids")) == 0;
}

/* ---- POST /channels/{channel_id}/messages ------------------------------------------------------
 */

static void message_create(api_ctx_t *c)
{
    uint64_t channel_id;
    api_form_t f = {0};
    hub_result_t r;
    json_t *args;

    if (!api_param_id(c, "channel_id", &channel_id))
        return;
    args = message_args(&f, c->body, true);
    if (!api_form_ok(&f)) {
        api_form_reply(c, &f);
    } else if (json_array_size(json_object_get(args, "sticker_ids")) > 0) {
        api_error(c, 400, 10060, "Unknown Sticker"); /* there are no stickers here yet */
    } else if (message_empty(args)) {
        api_error(c, 400, 50006, api_code_text(50006));
    } else if (api_relationship_send_allowed(c, channel_id)) {
        json_object_set_new(args, "channel_id", api_id_json(channel_id));
        api_hub(c, HUB_CHANNEL, channel_id, HUB_OP_MESSAGE_CREATE, args, &r);
        api_hub_reply(c, &r, 200);
    }
    json_decref(args);
}

/* ---- GET/PATCH/DELETE /channels/{channel_id}/messages/{message_id} -----------------------------
 */

static int64_t message_get_job(store_t *s, void *arg)
{
    api_job_t *j = arg;

    return store_message_get(s, j->a, j->b, j->c, &j->out);
}

static void message_get(api_ctx_t *c)
{
    uint64_t channel_id, message_id;
    api_job_t *j;
    int rc;

    json_t *history = json_pack("{s:b}", "history", 1);
    bool ok;

    ok = api_param_id(c, "channel_id", &channel_id) && api_param_id(c, "message_id", &message_id) &&
         api_check_channel_with(c, channel_id, history);
    json_decref(history);
    if (!ok)
        return;
    j = api_job_new();
    j->a = channel_id;
    j->b = message_id;
    j->c = c->user_id;
    rc = api_job_run(message_get_job, j);
    if (rc < 0) {
        api_store_error(c, rc, 10008);
    } else {
        api_json(c, 200, j->out);
        j->out = NULL;
    }
    api_job_free(j);
}

/* Sends op for the message the route names, with args (which this fills further), and
 * answers the hub's outcome. */
static void message_op(api_ctx_t *c, hub_op_t op, json_t *args)
{
    uint64_t channel_id, message_id;
    hub_result_t r;

    if (!api_param_id(c, "channel_id", &channel_id) || !api_param_id(c, "message_id", &message_id))
        return;
    json_object_set_new(args, "channel_id", api_id_json(channel_id));
    json_object_set_new(args, "message_id", api_id_json(message_id));
    api_hub(c, HUB_CHANNEL, channel_id, op, args, &r);
    api_hub_reply(c, &r, 200);
}

static void message_edit(api_ctx_t *c)
{
    api_form_t f = {0};
    json_t *args;

    args = message_args(&f, c->body, false);
    if (!api_form_ok(&f))
        api_form_reply(c, &f);
    else
        message_op(c, HUB_OP_MESSAGE_EDIT, args);
    json_decref(args);
}

static void message_delete(api_ctx_t *c)
{
    json_t *args = json_object();

    api_reason(c, args); /* audited when a moderator deletes another's message */
    message_op(c, HUB_OP_MESSAGE_DELETE, args);
    json_decref(args);
}

/* ---- POST /channels/{channel_id}/messages/bulk-delete ------------------------------------------
 */

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void messages_bulk_delete(api_ctx_t *c)
{
    json_t *list = NULL, *ids, *v, *args;
    uint64_t channel_id, id, seen[BULK_MAX];
    api_form_t f = {0};
    bool too_old = false;
    size_t i, k, n = 0;
    hub_result_t r;
    char key[40];

    if (!api_param_id(c, "channel_id", &channel_id))
        return;
    if (api_field_array(&f, c->body, "messages", BULK_MAX, &list) == 0)
        api_field_required(&f, "messages");
    else if (list != NULL && json_array_size(list) < BULK_MIN)
        api_form_add(&f, "messages", "BASE_TYPE_MIN_LENGTH", "Must be %d or more in length.",
                     BULK_MIN);
    ids = json_array();
    json_array_foreach(list, i, v)
    {
        snprintf(key, sizeof(key), "messages.%zu", i);
        if (!((json_is_string(v) && snowflake_parse(json_string_value(v), &id) == 0) ||
              (json_is_integer(v) && json_integer_value(v) > 0 &&
               (id = (uint64_t)json_integer_value(v)) != 0))) {
            api_form_add(&f, key, "NUMBER_TYPE_COERCE", "Value is not snowflake.");
            continue;
        }
        for (k = 0; k < n; k++)
            if (seen[k] == id)
                break;
        if (k < n) {
            api_form_add(&f, key, "BASE_TYPE_DUPLICATE", "Duplicate message id.");
            continue;
        }
        seen[n++] = id;
        if (snowflake_ms(id) < now_ms() - BULK_AGE_MS)
            too_old = true;
        json_array_append_new(ids, api_id_json(id));
    }
    if (!api_form_ok(&f)) {
        api_form_reply(c, &f);
    } else if (too_old) {
        api_error(c, 400, 50034, api_code_text(50034));
    } else {
        args = json_object();
        json_object_set_new(args, "channel_id", api_id_json(channel_id));
        json_object_set(args, "messages", ids);
        api_reason(c, args);
        api_hub(c, HUB_CHANNEL, channel_id, HUB_OP_MESSAGE_BULK_DELETE, args, &r);
        json_decref(args);
        if (!api_hub_failed(c, &r)) {
            hub_result_clear(&r);
            api_empty(c);
        }
    }
    json_decref(ids);
}

const api_route_t api_message_routes[] = {
    {"GET", "/channels/{channel_id}/messages", messages_list, API_AUTH},
    {"POST", "/channels/{channel_id}/messages", message_create, API_AUTH | API_BODY},
    {"POST", "/channels/{channel_id}/messages/bulk-delete", messages_bulk_delete,
     API_AUTH | API_BODY},
    {"GET", "/channels/{channel_id}/messages/{message_id}", message_get, API_AUTH},
    {"PATCH", "/channels/{channel_id}/messages/{message_id}", message_edit, API_AUTH | API_BODY},
    {"DELETE", "/channels/{channel_id}/messages/{message_id}", message_delete, API_AUTH},
    {NULL, NULL, NULL, 0},
};
