/* Responses: JSON bodies, 204, Discord's error shape, and the translation of store
 * codes and hub outcomes into those.
 *
 * Every error a handler sends goes through here, so the shape is the same everywhere:
 * {"code": <Discord code>, "message": <its text>} plus "errors" for 50035, with the
 * HTTP status Discord uses for that code (401 for a bad token, 403 for 50001/50013,
 * 404 for the Unknown-thing codes, 400 for bad input). */
#include "internal.h"

#include "store/moderation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void api_json(api_ctx_t *c, int status, json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

    json_decref(v);
    if (text == NULL) { /* only on OOM */
        api_error(c, 500, 0, "500: Internal Server Error");
        return;
    }
    c->status = status;
    http_response_status(c->res, status);
    http_response_body_take(c->res, "application/json", text, strlen(text));
}

void api_empty(api_ctx_t *c)
{
    c->status = 204;
    http_response_status(c->res, 204);
}

void api_error(api_ctx_t *c, int status, int code, const char *message)
{
    c->status = status;
    http_response_error(c->res, status, code, message);
}

void api_unauthorized(api_ctx_t *c)
{
    api_error(c, 401, 0, "401: Unauthorized");
}

const char *api_code_text(int code)
{
    switch (code) {
    case 0:
        return "General error";
    case 10002:
        return "Unknown Application";
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
    case 20001:
        return "Bots cannot use this endpoint";
    case 20002:
        return "Only bots can use this endpoint";
    case 30003:
        return "Maximum number of pins reached (50)";
    case 30010:
        return "Maximum number of reactions reached (20)";
    case 40007:
        return "The user is banned from this guild.";
    case 50001:
        return "Missing Access";
    case 50003:
        return "Cannot execute action on a DM channel";
    case 50005:
        return "Cannot edit a message authored by another user";
    case 50006:
        return "Cannot send an empty message";
    case 50008:
        return "Cannot send messages in a non-text channel";
    case 50013:
        return "Missing Permissions";
    case 50016:
        return "Provided too few or too many messages to delete. Must provide at least 2 and "
               "fewer than 100 messages to delete.";
    case 50034:
        return "A message provided was too old to bulk delete";
    case 50028:
        return "Invalid Role";
    case 50035:
        return "Invalid Form Body";
    case 50055:
        return "Invalid Guild";
    case 50109:
        return "The request body contains invalid JSON.";
    case 200000:
        return "Message was blocked by automatic moderation";
    default:
        return "Unknown";
    }
}

void api_unknown(api_ctx_t *c, int code)
{
    api_error(c, 404, code, api_code_text(code));
}

void api_missing_access(api_ctx_t *c)
{
    api_error(c, 403, 50001, "Missing Access");
}

void api_missing_permissions(api_ctx_t *c)
{
    api_error(c, 403, 50013, "Missing Permissions");
}

void api_store_error(api_ctx_t *c, int rc, int unknown_code)
{
    api_form_t f = {0};

    switch (rc) {
    case STORE_ENOTFOUND:
    case STORE_EEXPIRED:
        api_unknown(c, unknown_code);
        break;
    case STORE_EPERM:
        api_missing_permissions(c);
        break;
    case STORE_EAUTH:
        api_unauthorized(c);
        break;
    case STORE_EINVAL:
        /* The handlers validate first: this is what they did not foresee. */
        api_form_reply(c, &f);
        break;
    case STORE_EEXIST:
        api_error(c, 400, 0, "400: Bad Request");
        break;
    case STORE_ELIMIT:
        api_error(c, 400, 30010, "Maximum number reached");
        break;
    default:
        api_error(c, 500, 0, "500: Internal Server Error");
        break;
    }
}

json_t *api_id_json(uint64_t id)
{
    char buf[21];

    return json_string(snowflake_str(id, buf));
}

/* ---- hubs --------------------------------------------------------------------------------------
 */

void api_hub(api_ctx_t *c, hub_scope_t scope, uint64_t id, hub_op_t op, const json_t *args,
             hub_result_t *r)
{
    memset(r, 0, sizeof(*r));
    hub_request(scope, id, op, c->user_id, args, 0, r);
}

bool api_hub_failed(api_ctx_t *c, hub_result_t *r)
{
    json_t *body;

    if (r->status >= 200 && r->status < 300)
        return false;
    if (r->status == 401) {
        api_unauthorized(c);
    } else if (r->code == 50035) {
        body = json_object();
        json_object_set_new(body, "code", json_integer(50035));
        json_object_set_new(body, "errors",
                            json_is_object(r->body) ? json_incref(r->body) : json_object());
        json_object_set_new(body, "message", json_string("Invalid Form Body"));
        api_json(c, 400, body);
    } else if (r->status < 400) {
        /* A hub that answered nothing usable. */
        api_error(c, 500, 0, "500: Internal Server Error");
    } else {
        api_error(c, r->status, r->code, r->message[0] ? r->message : api_code_text(r->code));
    }
    hub_result_clear(r);
    return true;
}

void api_hub_reply(api_ctx_t *c, hub_result_t *r, int status_ok)
{
    json_t *body;

    if (api_hub_failed(c, r))
        return;
    body = r->body;
    r->body = NULL;
    if (body == NULL || r->status == 204)
        api_empty(c);
    else
        api_json(c, status_ok ? status_ok : r->status, json_incref(body));
    json_decref(body);
    hub_result_clear(r);
}

/* The value of hex digit ch, or -1. */
static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* The length of s[0..n) without a character cut short at its end. */
static size_t utf8_whole(const char *s, size_t n)
{
    size_t i = n, need;
    unsigned char lead;

    while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--;
    if (i == 0)
        return n; /* no lead byte at all: not UTF-8, json_stringn refuses it */
    lead = (unsigned char)s[i - 1];
    if (lead < 0x80)
        return n;
    need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    return n - (i - 1) >= need ? n : i - 1;
}

void api_reason(const api_ctx_t *c, json_t *args)
{
    /* Room for the hub's STORE_REASON_MAX characters of up to 4 bytes; more is cut. */
    char buf[STORE_REASON_MAX * 4 + 1];
    const char *h = http_request_header(c->req, "X-Audit-Log-Reason");
    size_t n = 0;
    json_t *v;
    int hi, lo;

    if (h == NULL)
        return;
    while (*h != '\0' && n < sizeof(buf) - 1) {
        /* A '%' not followed by two hex digits is kept as it is, as browsers do. */
        if (h[0] == '%' && (hi = hexval(h[1])) >= 0 && (lo = hexval(h[2])) >= 0) {
            buf[n++] = (char)(hi << 4 | lo);
            h += 3;
        } else {
            buf[n++] = *h++;
        }
    }
    if (*h != '\0')
        n = utf8_whole(buf, n);
    if (n == 0 || memchr(buf, '\0', n) != NULL) /* "%00": no reason is better than a cut one */
        return;
    v = json_stringn(buf, n); /* NULL unless valid UTF-8 */
    if (v != NULL)
        json_object_set_new(args, "reason", v);
}

/* CHECK_ACCESS with args made of extra (copied) plus the channel's id when given. */
static bool check(api_ctx_t *c, hub_scope_t scope, uint64_t id, uint64_t channel_id,
                  const json_t *extra)
{
    json_t *args = extra != NULL ? json_deep_copy(extra) : json_object();
    hub_result_t r;

    if (channel_id != 0)
        json_object_set_new(args, "channel_id", api_id_json(channel_id));
    api_hub(c, scope, id, HUB_OP_CHECK_ACCESS, args, &r);
    json_decref(args);
    if (api_hub_failed(c, &r))
        return false;
    hub_result_clear(&r);
    return true;
}

bool api_check_channel(api_ctx_t *c, uint64_t channel_id)
{
    return check(c, HUB_CHANNEL, channel_id, channel_id, NULL);
}

bool api_check_guild(api_ctx_t *c, uint64_t guild_id)
{
    return check(c, HUB_GUILD, guild_id, 0, NULL);
}

bool api_check_channel_with(api_ctx_t *c, uint64_t channel_id, const json_t *extra)
{
    return check(c, HUB_CHANNEL, channel_id, channel_id, extra);
}

bool api_check_guild_with(api_ctx_t *c, uint64_t guild_id, const json_t *extra)
{
    return check(c, HUB_GUILD, guild_id, 0, extra);
}
