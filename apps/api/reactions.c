/* /channels/{channel_id}/messages/{message_id}/reactions: add and remove the caller's
 * own, remove someone else's, list who reacted with an emoji, remove all (or all of one
 * emoji).
 *
 * The {emoji} segment is what Discord clients put there, percent-decoded by the HTTP
 * layer: a unicode emoji itself ("👍", sent as %F0%9F%91%8D) or a custom one as
 * "name:id" (or "a:name:id"). A segment that is neither is Discord's 400/10014
 * Unknown Emoji. The hub gets the decoded text as "emoji" and does the writes (and the
 * MESSAGE_REACTION_* events); the list reads the store after an access check. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

#define EMOJI_TEXT_MAX 128

#define EMOJI_CODEPOINTS_MAX 16 /* the longest ZWJ sequences have about 10 */

/* Decodes the code point at *p (valid UTF-8, checked before) and advances *p. */
static uint32_t utf8_next(const unsigned char **p)
{
    const unsigned char *s = *p;
    uint32_t cp;
    int more;

    if (s[0] < 0x80) {
        cp = s[0];
        more = 0;
    } else if (s[0] < 0xE0) {
        cp = s[0] & 0x1F;
        more = 1;
    } else if (s[0] < 0xF0) {
        cp = s[0] & 0x0F;
        more = 2;
    } else {
        cp = s[0] & 0x07;
        more = 3;
    }
    for (int i = 1; i <= more; i++)
        cp = (cp << 6) | (s[i] & 0x3F);
    *p = s + 1 + more;
    return cp;
}

/* Whether name can be a unicode emoji. Without Unicode's emoji tables this is a shape
 * check, which is what turns away the common mistakes (a word, a name without its
 * id): a short sequence with at least one pictographic-range code point (U+00A9,
 * U+00AE, or U+2000 and up), whose ASCII parts may only be a keycap's 0-9 # *. */
static bool unicode_emoji_ok(const char *name)
{
    const unsigned char *p = (const unsigned char *)name;
    bool pictographic = false;
    int n = 0;
    uint32_t cp;

    while (*p) {
        cp = utf8_next(&p);
        if (++n > EMOJI_CODEPOINTS_MAX)
            return false;
        if (cp < 0x80 && !((cp >= '0' && cp <= '9') || cp == '#' || cp == '*'))
            return false;
        if (cp == 0xA9 || cp == 0xAE || cp >= 0x2000)
            pictographic = true;
    }
    return pictographic;
}

/* The route's {emoji}, checked. Returns it, or NULL after answering 400/10014 as
 * Discord does for anything that is not an emoji. */
static const char *emoji_param(api_ctx_t *c)
{
    const char *text = http_request_param(c->req, "emoji");
    char name[EMOJI_TEXT_MAX];
    store_emoji_t e;

    if (text == NULL || strlen(text) >= EMOJI_TEXT_MAX || api_utf8_len(text) < 0 ||
        store_emoji_parse(text, &e, name, sizeof(name)) != 0 ||
        (e.id == 0 && !unicode_emoji_ok(e.name))) {
        api_error(c, 400, 10014, api_code_text(10014));
        return NULL;
    }
    return text;
}

/* Sends op for the route's message (and emoji, unless with_emoji is false; and
 * user_id when not 0) to the channel's hub and answers 204, or its error. */
static void reaction_op(api_ctx_t *c, hub_op_t op, bool with_emoji, bool with_user)
{
    uint64_t channel_id, message_id, user_id = 0;
    const char *emoji = NULL;
    hub_result_t r;
    json_t *args;

    if (!api_param_id(c, "channel_id", &channel_id) || !api_param_id(c, "message_id", &message_id))
        return;
    if (with_user && !api_param_id(c, "user_id", &user_id))
        return;
    if (with_emoji && (emoji = emoji_param(c)) == NULL)
        return;
    args = json_object();
    json_object_set_new(args, "channel_id", api_id_json(channel_id));
    json_object_set_new(args, "message_id", api_id_json(message_id));
    if (emoji != NULL)
        json_object_set_new(args, "emoji", json_string(emoji));
    if (with_user)
        json_object_set_new(args, "user_id", api_id_json(user_id));
    api_hub(c, HUB_CHANNEL, channel_id, op, args, &r);
    json_decref(args);
    if (api_hub_failed(c, &r))
        return;
    hub_result_clear(&r);
    api_empty(c);
}

static void reaction_put(api_ctx_t *c)
{
    reaction_op(c, HUB_OP_REACTION_ADD, true, false);
}

static void reaction_delete_own(api_ctx_t *c)
{
    reaction_op(c, HUB_OP_REACTION_REMOVE_OWN, true, false);
}

static void reaction_delete_user(api_ctx_t *c)
{
    reaction_op(c, HUB_OP_REACTION_REMOVE_USER, true, true);
}

static void reactions_delete_all(api_ctx_t *c)
{
    reaction_op(c, HUB_OP_REACTION_REMOVE_ALL, false, false);
}

static void reactions_delete_emoji(api_ctx_t *c)
{
    reaction_op(c, HUB_OP_REACTION_REMOVE_EMOJI, true, false);
}

/* ---- GET .../reactions/{emoji} ----------------------------------------------------------------
 */

/* j->a, j->b: channel, message; j->s: the emoji's text (parsed here: the parse is
 * pure, and the parsed name must live where the job runs). */
static int64_t reaction_users_job(store_t *s, void *arg)
{
    api_job_t *j = arg;
    char name[EMOJI_TEXT_MAX];
    store_emoji_t e;

    if (store_emoji_parse(j->s, &e, name, sizeof(name)) != 0)
        return STORE_EINVAL;
    return store_reaction_users(s, j->a, j->b, &e, &j->page, &j->out);
}

static void reaction_users(api_ctx_t *c)
{
    uint64_t channel_id, message_id;
    api_form_t f = {0};
    int64_t limit = 25;
    const char *emoji;
    api_job_t *j;
    int rc;

    if (!api_param_id(c, "channel_id", &channel_id) ||
        !api_param_id(c, "message_id", &message_id) || (emoji = emoji_param(c)) == NULL)
        return;
    j = api_job_new();
    api_query_int(&f, c, "limit", 1, 100, &limit);
    api_query_id(&f, c, "after", &j->page.after);
    if (!api_form_ok(&f)) {
        api_form_reply(c, &f);
        goto out;
    }
    if (!api_check_channel(c, channel_id))
        goto out;
    j->a = channel_id;
    j->b = message_id;
    snprintf(j->text, sizeof(j->text), "%s", emoji);
    j->s = j->text;
    j->page.limit = (int)limit;
    rc = api_job_run(reaction_users_job, j);
    if (rc == STORE_EINVAL) {
        api_error(c, 400, 10014, api_code_text(10014));
    } else if (rc < 0) {
        api_store_error(c, rc, 10008);
    } else {
        api_json(c, 200, j->out);
        j->out = NULL;
    }
out:
    api_job_free(j);
}

#define MSG "/channels/{channel_id}/messages/{message_id}"

const api_route_t api_reaction_routes[] = {
    {"PUT", MSG "/reactions/{emoji}/@me", reaction_put, API_AUTH},
    {"DELETE", MSG "/reactions/{emoji}/@me", reaction_delete_own, API_AUTH},
    {"DELETE", MSG "/reactions/{emoji}/{user_id}", reaction_delete_user, API_AUTH},
    {"GET", MSG "/reactions/{emoji}", reaction_users, API_AUTH},
    {"DELETE", MSG "/reactions/{emoji}", reactions_delete_emoji, API_AUTH},
    {"DELETE", MSG "/reactions", reactions_delete_all, API_AUTH},
    {NULL, NULL, NULL, 0},
};
