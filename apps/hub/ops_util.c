/* Helpers the op files share: results and Discord's error codes, 50035 form errors,
 * argument parsing, store jobs and queries on a hub's cached state. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- results ------------------------------------------------------------------------------------
 */

void hub__ok(hub_result_t *r, int status, json_t *body)
{
    json_decref(r->body);
    r->status = status;
    r->code = 0;
    r->message[0] = '\0';
    r->body = body;
}

void hub__err(hub_result_t *r, int status, int code, const char *message)
{
    json_decref(r->body);
    r->body = NULL;
    r->status = status;
    r->code = code;
    snprintf(r->message, sizeof(r->message), "%s", message);
}

const char *hub__code_text(int code)
{
    switch (code) {
    case 10003:
        return "Unknown Channel";
    case 10004:
        return "Unknown Guild";
    case 10006:
        return "Unknown Invite";
    case 10007:
        return "Unknown Member";
    case 10008:
        return "Unknown Message";
    case 10011:
        return "Unknown Role";
    case 10009:
        return "Unknown Overwrite";
    case 10013:
        return "Unknown User";
    case 10014:
        return "Unknown Emoji";
    case 10026:
        return "Unknown Ban";
    case 30005:
        return "Maximum number of guild roles reached (250)";
    case 30010:
        return "Maximum number of reactions reached (20)";
    case 40007:
        return "The user is banned from this guild.";
    case 50001:
        return "Missing Access";
    case 50005:
        return "Cannot edit a message authored by another user";
    case 50006:
        return "Cannot send an empty message";
    case 50013:
        return "Missing Permissions";
    case 50016:
        return "Provided too few or too many messages to delete. Must provide at least 2 and "
               "fewer than 100 messages to delete.";
    case 50024:
        return "Cannot execute action on this channel type";
    case 50028:
        return "Invalid role";
    case 50035:
        return "Invalid Form Body";
    case 50055:
        return "Invalid Guild";
    case 160002:
        return "Cannot reply without permission to read message history";
    case 200000:
        return "Message was blocked by automatic moderation";
    default:
        return "Unknown Error";
    }
}

void hub__errc(hub_result_t *r, int status, int code)
{
    hub__err(r, status, code, hub__code_text(code));
}

void hub__store_err(hub_result_t *r, int rc, int unknown_code)
{
    json_t *errs = NULL;

    switch (rc) {
    case STORE_ENOTFOUND:
        hub__errc(r, 404, unknown_code);
        break;
    case STORE_EINVAL:
        hub__form_error(&errs, "_errors", "INVALID_FORM_BODY", "Invalid Form Body");
        hub__form_fail(r, errs);
        break;
    case STORE_EPERM:
        hub__errc(r, 403, 50013);
        break;
    case STORE_ELIMIT:
        hub__errc(r, 400, 30010);
        break;
    case STORE_EEXPIRED:
        hub__errc(r, 404, 10006);
        break;
    default:
        hub__err(r, 500, 0, "500: Internal Server Error");
        break;
    }
}

/* ---- form errors
 * ------------------------------------------------------------------------------------ */

void hub__form_error(json_t **errs, const char *path, const char *code, const char *message)
{
    json_t *node, *next, *list;
    char part[64];
    const char *p = path, *dot;
    size_t n;

    if (*errs == NULL)
        *errs = json_object();
    node = *errs;
    /* "_errors" alone: the body as a whole. Else one object per path segment. */
    while (strcmp(p, "_errors") != 0 && *p != '\0') {
        dot = strchr(p, '.');
        n = dot ? (size_t)(dot - p) : strlen(p);
        if (n >= sizeof(part))
            n = sizeof(part) - 1;
        memcpy(part, p, n);
        part[n] = '\0';
        next = json_object_get(node, part);
        if (!json_is_object(next)) {
            next = json_object();
            json_object_set_new(node, part, next);
        }
        node = next;
        if (dot == NULL)
            break;
        p = dot + 1;
    }
    list = json_object_get(node, "_errors");
    if (!json_is_array(list)) {
        list = json_array();
        json_object_set_new(node, "_errors", list);
    }
    json_array_append_new(list, json_pack("{s:s, s:s}", "code", code, "message", message));
}

void hub__form_fail(hub_result_t *r, json_t *errs)
{
    hub__errc(r, 400, 50035);
    r->body = errs != NULL ? errs : json_object();
}

/* ---- arguments and ids
 * --------------------------------------------------------------------------------- */

uint64_t hub__json_id(const json_t *v)
{
    uint64_t id;

    if (json_is_string(v)) {
        if (snowflake_parse(json_string_value(v), &id) == 0)
            return id;
        return 0;
    }
    if (json_is_integer(v) && json_integer_value(v) > 0)
        return (uint64_t)json_integer_value(v);
    return 0;
}

int hub__arg_id(const json_t *args, const char *key, uint64_t *out)
{
    json_t *v = json_object_get(args, key);

    if (v == NULL || json_is_null(v))
        return 0;
    *out = hub__json_id(v);
    return *out != 0 ? 1 : -1;
}

json_t *hub__id_json(uint64_t id)
{
    char buf[21];

    return json_string(snowflake_str(id, buf));
}

const char *hub__key(uint64_t id, char *buf)
{
    return snowflake_str(id, buf);
}

/* ---- state
 * ---------------------------------------------------------------------------------------------- */

bool hub__is_member(const hub_t *h, uint64_t user_id)
{
    char key[21];

    return h->members != NULL && json_object_get(h->members, hub__key(user_id, key)) != NULL;
}

json_t *hub__channel(const hub_t *h, uint64_t channel_id)
{
    char key[21];

    if (h->kind == HUB_KIND_PRIVATE)
        return channel_id == h->id ? h->channel : NULL;
    return json_object_get(h->channels, hub__key(channel_id, key));
}

bool hub__is_recipient(const hub_t *h, uint64_t user_id)
{
    size_t i;

    for (i = 0; i < h->nrecipients; i++)
        if (h->recipients[i] == user_id)
            return true;
    return false;
}

json_t *hub__member(const hub_t *h, uint64_t user_id)
{
    char key[21];

    return h->members != NULL ? json_object_get(h->members, hub__key(user_id, key)) : NULL;
}

json_t *hub__member_event(hub_t *h, const json_t *member)
{
    json_t *d = json_copy((json_t *)member);

    json_object_set_new(d, "guild_id", hub__id_json(h->id));
    return d;
}

json_t *hub__member_partial(const hub_t *h, uint64_t user_id)
{
    json_t *m, *c;
    char key[21];

    m = json_object_get(h->members, hub__key(user_id, key));
    if (m == NULL)
        return NULL;
    c = json_copy(m);
    json_object_del(c, "user");
    return c;
}

/* ---- store jobs
 * ------------------------------------------------------------------------------------------ */

hub_job_t *hub__job_new(void)
{
    hub_job_t *j = calloc(1, sizeof(*j));

    if (j == NULL)
        abort();
    return j;
}

void hub__job_free(hub_job_t *j)
{
    if (j == NULL)
        return;
    json_decref(j->out);
    json_decref(j->out2);
    free(j);
}

int hub__job_run(store_job_fn fn, hub_job_t *j)
{
    int rc = store_call(fn, j);

    /* A runtime error (not submitted) is reported as a failed database. */
    if (rc < 0 && rc != STORE_EPERM && rc != STORE_ENOTFOUND && rc != STORE_EIO &&
        rc != STORE_EAUTH && rc != STORE_EBUSY && rc != STORE_EEXIST && rc != STORE_EINVAL &&
        rc != STORE_ELIMIT && rc != STORE_EEXPIRED)
        return STORE_EIO;
    return rc;
}
