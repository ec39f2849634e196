/* Rules as Discord's JSON: validation of create and modify bodies into a normalized
 * rule object, with the field errors of a 50035 (Invalid Form Body) response.
 *
 * Normalized means: every field of the rule object present with its type's default
 * (enabled false, empty lists), ids as decimal strings, trigger_metadata holding
 * exactly the fields of the rule's trigger type, and each action with a metadata
 * object holding exactly the fields of its type. The evaluator compiles only
 * normalized rules, and the store keeps them as they are. */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- form errors -------------------------------------------------------------------------------
 */

void am_form_error(json_t **errs, const char *path, const char *code, const char *fmt, ...)
{
    json_t *node, *next, *list;
    const char *p = path, *dot;
    char part[64], message[256];
    va_list ap;
    size_t n;

    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    if (*errs == NULL)
        *errs = json_object();
    node = *errs;
    /* "_errors" alone: the body as a whole. Else one object per path segment, as
     * Discord nests them: {"actions": {"0": {"type": {"_errors": [...]}}}}. */
    while (strcmp(p, "_errors") != 0 && *p != '\0') {
        dot = strchr(p, '.');
        n = dot != NULL ? (size_t)(dot - p) : strlen(p);
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

/* ---- ids ---------------------------------------------------------------------------------------
 */

int am_id_value(const json_t *v, uint64_t *out)
{
    const char *s;
    uint64_t id = 0;
    size_t i;

    if (json_is_integer(v) && json_integer_value(v) > 0) {
        *out = (uint64_t)json_integer_value(v);
        return 0;
    }
    s = json_string_value(v);
    if (s == NULL || s[0] == '\0' || strlen(s) > 20)
        return -1;
    for (i = 0; s[i] != '\0'; i++) {
        if (s[i] < '0' || s[i] > '9' || id > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
            return -1;
        id = id * 10 + (uint64_t)(s[i] - '0');
    }
    if (id == 0)
        return -1;
    *out = id;
    return 0;
}

json_t *am_id_json(uint64_t id)
{
    char buf[24];

    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)id);
    return json_string(buf);
}

/* ---- field checks ------------------------------------------------------------------------------
 */

/* Characters in a UTF-8 string (jansson's strings are valid UTF-8). */
static size_t char_len(const char *s)
{
    size_t n = 0;

    for (; *s != '\0'; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* A string of min..max characters: it, or NULL with an error at path. */
static const char *check_str(json_t **errs, const char *path, const json_t *v, size_t min,
                             size_t max)
{
    const char *s = json_string_value(v);
    size_t n;

    if (s == NULL) {
        am_form_error(errs, path, "BASE_TYPE_STRING", "Must be a string.");
        return NULL;
    }
    n = char_len(s);
    if (n < min || n > max) {
        if (min == 0)
            am_form_error(errs, path, "BASE_TYPE_MAX_LENGTH", "Must be %zu or fewer in length.",
                          max);
        else
            am_form_error(errs, path, "BASE_TYPE_BAD_LENGTH",
                          "Must be between %zu and %zu in length.", min, max);
        return NULL;
    }
    return s;
}

/* An integer within [min, max]: true and *out, or false with an error at path. */
static bool check_int(json_t **errs, const char *path, const json_t *v, int64_t min, int64_t max,
                      int64_t *out)
{
    int64_t x;

    if (!json_is_integer(v)) {
        am_form_error(errs, path, "NUMBER_TYPE_COERCE", "Value is not int.");
        return false;
    }
    x = (int64_t)json_integer_value(v);
    if (x < min) {
        am_form_error(errs, path, "NUMBER_TYPE_MIN",
                      "int value should be greater than or equal to %lld.", (long long)min);
        return false;
    }
    if (x > max) {
        am_form_error(errs, path, "NUMBER_TYPE_MAX",
                      "int value should be less than or equal to %lld.", (long long)max);
        return false;
    }
    *out = x;
    return true;
}

/* A list of at most max elements (null: empty): true, or false with an error. */
static bool check_list(json_t **errs, const char *path, const json_t *v, size_t max)
{
    if (!json_is_array(v)) {
        am_form_error(errs, path, "BASE_TYPE_LIST", "Must be a list.");
        return false;
    }
    if (json_array_size(v) > max) {
        am_form_error(errs, path, "BASE_TYPE_MAX_LENGTH", "Must be %zu or fewer in length.", max);
        return false;
    }
    return true;
}

/* A list of strings of 1..max_len characters: a new array of them, or NULL (errors
 * added). v NULL or null: an empty array. */
static json_t *check_strs(json_t **errs, const char *path, const json_t *v, size_t max,
                          size_t max_len)
{
    char sub[96];
    json_t *a, *e;
    bool ok = true;
    size_t i;

    if (v == NULL || json_is_null(v))
        return json_array();
    if (!check_list(errs, path, v, max))
        return NULL;
    a = json_array();
    json_array_foreach(v, i, e)
    {
        snprintf(sub, sizeof(sub), "%s.%zu", path, i);
        if (check_str(errs, sub, e, 1, max_len) == NULL)
            ok = false;
        else
            json_array_append(a, e);
    }
    if (!ok) {
        json_decref(a);
        return NULL;
    }
    return a;
}

/* A list of at most max ids, each known to exists (when given): a new array of id
 * strings without repeats, or NULL (errors added). */
static json_t *check_ids(json_t **errs, const char *path, const json_t *v, size_t max,
                         bool (*exists)(void *, uint64_t), void *arg, const char *what)
{
    char sub[96];
    uint64_t id, other;
    json_t *a, *e;
    bool ok = true, dup;
    size_t i, j;

    if (v == NULL || json_is_null(v))
        return json_array();
    if (!check_list(errs, path, v, max))
        return NULL;
    a = json_array();
    json_array_foreach(v, i, e)
    {
        snprintf(sub, sizeof(sub), "%s.%zu", path, i);
        if (am_id_value(e, &id) < 0) {
            am_form_error(errs, sub, "NUMBER_TYPE_COERCE", "Value is not snowflake.");
            ok = false;
            continue;
        }
        if (exists != NULL && !exists(arg, id)) {
            am_form_error(errs, sub, "UNKNOWN_ID", "Unknown %s.", what);
            ok = false;
            continue;
        }
        dup = false;
        for (j = 0; j < json_array_size(a) && !dup; j++)
            dup = am_id_value(json_array_get(a, j), &other) == 0 && other == id;
        if (!dup)
            json_array_append_new(a, am_id_json(id));
    }
    if (!ok) {
        json_decref(a);
        return NULL;
    }
    return a;
}

/* ---- trigger metadata --------------------------------------------------------------------------
 */

static void meta_keyword(json_t **errs, const json_t *in, json_t *out)
{
    const char *why, *pattern;
    char path[96];
    json_t *a;
    regex_t rx;
    size_t i;

    a = check_strs(errs, "trigger_metadata.keyword_filter", json_object_get(in, "keyword_filter"),
                   AUTOMOD_KEYWORDS_MAX, AUTOMOD_KEYWORD_LEN_MAX);
    if (a != NULL)
        json_object_set_new(out, "keyword_filter", a);
    a = check_strs(errs, "trigger_metadata.regex_patterns", json_object_get(in, "regex_patterns"),
                   AUTOMOD_REGEX_MAX, AUTOMOD_REGEX_LEN_MAX);
    if (a != NULL) {
        for (i = 0; i < json_array_size(a); i++) {
            pattern = json_string_value(json_array_get(a, i));
            if (am_regex_compile(&rx, pattern, &why) < 0) {
                snprintf(path, sizeof(path), "trigger_metadata.regex_patterns.%zu", i);
                am_form_error(errs, path, "AUTO_MODERATION_INVALID_REGEX", "Invalid regex: %s.",
                              why);
                continue;
            }
            regfree(&rx);
        }
        json_object_set_new(out, "regex_patterns", a);
    }
    a = check_strs(errs, "trigger_metadata.allow_list", json_object_get(in, "allow_list"),
                   AUTOMOD_ALLOW_MAX, AUTOMOD_KEYWORD_LEN_MAX);
    if (a != NULL)
        json_object_set_new(out, "allow_list", a);
}

static void meta_preset(json_t **errs, const json_t *in, json_t *out)
{
    const json_t *v = json_object_get(in, "presets");
    char path[96];
    json_t *a, *e;
    int64_t p;
    bool seen[4] = {false};
    size_t i;

    a = json_array();
    if (v != NULL && !json_is_null(v) && check_list(errs, "trigger_metadata.presets", v, 3)) {
        json_array_foreach(v, i, e)
        {
            snprintf(path, sizeof(path), "trigger_metadata.presets.%zu", i);
            if (!json_is_integer(e) || json_integer_value(e) < 1 || json_integer_value(e) > 3) {
                am_form_error(errs, path, "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3}.");
                continue;
            }
            p = (int64_t)json_integer_value(e);
            if (!seen[p])
                json_array_append_new(a, json_integer(p));
            seen[p] = true;
        }
    }
    json_object_set_new(out, "presets", a);
    a = check_strs(errs, "trigger_metadata.allow_list", json_object_get(in, "allow_list"),
                   AUTOMOD_ALLOW_PRESET_MAX, AUTOMOD_KEYWORD_LEN_MAX);
    if (a != NULL)
        json_object_set_new(out, "allow_list", a);
}

static void meta_mention(json_t **errs, const json_t *in, json_t *out)
{
    const json_t *v;
    int64_t limit;

    v = json_object_get(in, "mention_total_limit");
    if (v == NULL || json_is_null(v))
        am_form_error(errs, "trigger_metadata.mention_total_limit", "BASE_TYPE_REQUIRED",
                      "This field is required");
    else if (check_int(errs, "trigger_metadata.mention_total_limit", v, 0,
                       AUTOMOD_MENTION_LIMIT_MAX, &limit))
        json_object_set_new(out, "mention_total_limit", json_integer(limit));
    v = json_object_get(in, "mention_raid_protection_enabled");
    if (v != NULL && !json_is_null(v) && !json_is_boolean(v))
        am_form_error(errs, "trigger_metadata.mention_raid_protection_enabled", "BASE_TYPE_BOOLEAN",
                      "Must be either true or false.");
    json_object_set_new(out, "mention_raid_protection_enabled", json_boolean(json_is_true(v)));
}

static void meta_spam(json_t **errs, const json_t *in, json_t *out)
{
    static const struct {
        const char *key;
        int64_t min, max, def;
    } fields[] = {
        {"duplicate_limit", 0, AUTOMOD_SPAM_HISTORY - 2, AUTOMOD_SPAM_DUPLICATE_LIMIT},
        {"duplicate_window_seconds", 1, 3600, AUTOMOD_SPAM_DUPLICATE_WINDOW},
        {"burst_limit", 0, AUTOMOD_SPAM_HISTORY - 2, AUTOMOD_SPAM_BURST_LIMIT},
        {"burst_window_seconds", 1, 3600, AUTOMOD_SPAM_BURST_WINDOW},
        {"link_limit", 0, 50, AUTOMOD_SPAM_LINK_LIMIT},
    };
    const json_t *v;
    char path[96];
    int64_t x;
    size_t i;

    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        snprintf(path, sizeof(path), "trigger_metadata.%s", fields[i].key);
        v = json_object_get(in, fields[i].key);
        x = fields[i].def;
        if (v != NULL && !json_is_null(v) &&
            !check_int(errs, path, v, fields[i].min, fields[i].max, &x))
            continue;
        /* One message is never a duplicate of itself. */
        if (i == 0 && x == 1) {
            am_form_error(errs, path, "NUMBER_TYPE_MIN", "int value should be 0 or at least 2.");
            continue;
        }
        json_object_set_new(out, fields[i].key, json_integer(x));
    }
}

/* ---- actions -----------------------------------------------------------------------------------
 */

static json_t *check_action(json_t **errs, size_t i, const json_t *in, int64_t trigger,
                            const automod_refs_t *refs, bool seen[4])
{
    const json_t *meta, *v;
    const char *s;
    char path[96];
    json_t *out, *m;
    uint64_t channel;
    int64_t type, secs;
    bool ok = true;

    snprintf(path, sizeof(path), "actions.%zu", i);
    if (!json_is_object(in)) {
        am_form_error(errs, path, "DICT_TYPE_CONVERT",
                      "Only dictionaries may be used in a DictType");
        return NULL;
    }
    snprintf(path, sizeof(path), "actions.%zu.type", i);
    v = json_object_get(in, "type");
    if (v == NULL) {
        am_form_error(errs, path, "BASE_TYPE_REQUIRED", "This field is required");
        return NULL;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 3) {
        am_form_error(errs, path, "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3}.");
        return NULL;
    }
    type = (int64_t)json_integer_value(v);
    if (seen[type]) {
        am_form_error(errs, path, "AUTO_MODERATION_DUPLICATE_ACTION",
                      "Each action type may appear once.");
        return NULL;
    }
    seen[type] = true;
    if (type == AUTOMOD_ACTION_TIMEOUT && trigger == AUTOMOD_TRIGGER_KEYWORD_PRESET) {
        am_form_error(errs, path, "AUTO_MODERATION_INVALID_ACTION",
                      "Timeout actions are not supported for this trigger type.");
        return NULL;
    }
    meta = json_object_get(in, "metadata");
    if (meta != NULL && !json_is_null(meta) && !json_is_object(meta)) {
        snprintf(path, sizeof(path), "actions.%zu.metadata", i);
        am_form_error(errs, path, "DICT_TYPE_CONVERT",
                      "Only dictionaries may be used in a DictType");
        return NULL;
    }
    m = json_object();
    switch (type) {
    case AUTOMOD_ACTION_BLOCK_MESSAGE:
        v = json_object_get(meta, "custom_message");
        if (v != NULL && !json_is_null(v)) {
            snprintf(path, sizeof(path), "actions.%zu.metadata.custom_message", i);
            s = check_str(errs, path, v, 0, AUTOMOD_CUSTOM_MESSAGE_MAX);
            if (s == NULL)
                ok = false;
            else if (s[0] != '\0')
                json_object_set_new(m, "custom_message", json_string(s));
        }
        break;
    case AUTOMOD_ACTION_SEND_ALERT_MESSAGE:
        snprintf(path, sizeof(path), "actions.%zu.metadata.channel_id", i);
        v = json_object_get(meta, "channel_id");
        if (v == NULL || json_is_null(v)) {
            am_form_error(errs, path, "BASE_TYPE_REQUIRED", "This field is required");
            ok = false;
        } else if (am_id_value(v, &channel) < 0) {
            am_form_error(errs, path, "NUMBER_TYPE_COERCE", "Value is not snowflake.");
            ok = false;
        } else if (refs != NULL && refs->channel_exists != NULL &&
                   !refs->channel_exists(refs->arg, channel)) {
            am_form_error(errs, path, "UNKNOWN_ID", "Unknown channel.");
            ok = false;
        } else {
            json_object_set_new(m, "channel_id", am_id_json(channel));
        }
        break;
    default: /* TIMEOUT */
        snprintf(path, sizeof(path), "actions.%zu.metadata.duration_seconds", i);
        v = json_object_get(meta, "duration_seconds");
        if (v == NULL || json_is_null(v)) {
            am_form_error(errs, path, "BASE_TYPE_REQUIRED", "This field is required");
            ok = false;
        } else if (!check_int(errs, path, v, 1, AUTOMOD_TIMEOUT_MAX, &secs)) {
            ok = false;
        } else {
            json_object_set_new(m, "duration_seconds", json_integer(secs));
        }
        break;
    }
    if (!ok) {
        json_decref(m);
        return NULL;
    }
    out = json_object();
    json_object_set_new(out, "type", json_integer(type));
    json_object_set_new(out, "metadata", m);
    return out;
}

/* ---- the rule ----------------------------------------------------------------------------------
 */

/* The fields a body may set (trigger_type only on create). */
static const char *const settable[] = {
    "name",    "event_type",   "trigger_metadata", "actions",
    "enabled", "exempt_roles", "exempt_channels",
};

int automod_rule_validate(const json_t *params, const json_t *old, const automod_refs_t *refs,
                          json_t **rule, json_t **errors)
{
    static const char *const idkeys[] = {"id", "guild_id", "creator_id"};
    json_t *errs = NULL, *src, *out, *meta, *a, *act;
    const json_t *v;
    const char *s;
    int64_t trigger = 0;
    bool seen[4] = {false};
    uint64_t id;
    size_t i;

    if (!json_is_object(params) || (old != NULL && !json_is_object(old))) {
        am_form_error(&errs, "_errors", "DICT_TYPE_CONVERT",
                      "Only dictionaries may be used in a DictType");
        *errors = errs;
        return AUTOMOD_EINVAL;
    }
    /* The rule as it would be: old with the body's fields over it. */
    src = old != NULL ? json_copy((json_t *)old) : json_object();
    for (i = 0; i < sizeof(settable) / sizeof(settable[0]); i++)
        if ((v = json_object_get(params, settable[i])) != NULL)
            json_object_set(src, settable[i], (json_t *)v);
    if (old == NULL) {
        for (i = 0; i < sizeof(idkeys) / sizeof(idkeys[0]); i++)
            if ((v = json_object_get(params, idkeys[i])) != NULL)
                json_object_set(src, idkeys[i], (json_t *)v);
        if ((v = json_object_get(params, "trigger_type")) != NULL)
            json_object_set(src, "trigger_type", (json_t *)v);
    }
    out = json_object();
    for (i = 0; i < sizeof(idkeys) / sizeof(idkeys[0]); i++)
        if (am_id_value(json_object_get(src, idkeys[i]), &id) == 0)
            json_object_set_new(out, idkeys[i], am_id_json(id));

    v = json_object_get(src, "name");
    if (v == NULL || json_is_null(v))
        am_form_error(&errs, "name", "BASE_TYPE_REQUIRED", "This field is required");
    else if ((s = check_str(&errs, "name", v, 1, AUTOMOD_NAME_MAX)) != NULL)
        json_object_set_new(out, "name", json_string(s));

    v = json_object_get(src, "event_type");
    if (v == NULL || json_is_null(v))
        am_form_error(&errs, "event_type", "BASE_TYPE_REQUIRED", "This field is required");
    else if (!json_is_integer(v) || json_integer_value(v) != AUTOMOD_EVENT_MESSAGE_SEND)
        am_form_error(&errs, "event_type", "BASE_TYPE_CHOICES", "Value must be one of {1}.");
    else
        json_object_set_new(out, "event_type", json_integer(AUTOMOD_EVENT_MESSAGE_SEND));

    v = json_object_get(src, "trigger_type");
    if (v == NULL || json_is_null(v)) {
        am_form_error(&errs, "trigger_type", "BASE_TYPE_REQUIRED", "This field is required");
    } else if (!json_is_integer(v) || (json_integer_value(v) != AUTOMOD_TRIGGER_KEYWORD &&
                                       json_integer_value(v) != AUTOMOD_TRIGGER_SPAM &&
                                       json_integer_value(v) != AUTOMOD_TRIGGER_KEYWORD_PRESET &&
                                       json_integer_value(v) != AUTOMOD_TRIGGER_MENTION_SPAM)) {
        am_form_error(&errs, "trigger_type", "BASE_TYPE_CHOICES",
                      "Value must be one of {1, 3, 4, 5}.");
    } else {
        trigger = (int64_t)json_integer_value(v);
        json_object_set_new(out, "trigger_type", json_integer(trigger));
    }

    v = json_object_get(src, "trigger_metadata");
    if (v != NULL && !json_is_null(v) && !json_is_object(v)) {
        am_form_error(&errs, "trigger_metadata", "DICT_TYPE_CONVERT",
                      "Only dictionaries may be used in a DictType");
    } else if (trigger != 0) {
        meta = json_object();
        if (trigger == AUTOMOD_TRIGGER_KEYWORD)
            meta_keyword(&errs, v, meta);
        else if (trigger == AUTOMOD_TRIGGER_KEYWORD_PRESET)
            meta_preset(&errs, v, meta);
        else if (trigger == AUTOMOD_TRIGGER_MENTION_SPAM)
            meta_mention(&errs, v, meta);
        else
            meta_spam(&errs, v, meta);
        json_object_set_new(out, "trigger_metadata", meta);
    }

    v = json_object_get(src, "actions");
    if (v == NULL || json_is_null(v)) {
        am_form_error(&errs, "actions", "BASE_TYPE_REQUIRED", "This field is required");
    } else if (check_list(&errs, "actions", v, AUTOMOD_ACTIONS_MAX)) {
        if (json_array_size(v) == 0)
            am_form_error(&errs, "actions", "BASE_TYPE_MIN_LENGTH", "Must be 1 or more in length.");
        a = json_array();
        for (i = 0; i < json_array_size(v); i++)
            if ((act = check_action(&errs, i, json_array_get(v, i), trigger, refs, seen)) != NULL)
                json_array_append_new(a, act);
        json_object_set_new(out, "actions", a);
    }

    v = json_object_get(src, "enabled");
    if (v != NULL && !json_is_null(v) && !json_is_boolean(v))
        am_form_error(&errs, "enabled", "BASE_TYPE_BOOLEAN", "Must be either true or false.");
    json_object_set_new(out, "enabled", json_boolean(json_is_true(v)));

    a = check_ids(&errs, "exempt_roles", json_object_get(src, "exempt_roles"),
                  AUTOMOD_EXEMPT_ROLES_MAX, refs != NULL ? refs->role_exists : NULL,
                  refs != NULL ? refs->arg : NULL, "role");
    if (a != NULL)
        json_object_set_new(out, "exempt_roles", a);
    a = check_ids(&errs, "exempt_channels", json_object_get(src, "exempt_channels"),
                  AUTOMOD_EXEMPT_CHANNELS_MAX, refs != NULL ? refs->channel_exists : NULL,
                  refs != NULL ? refs->arg : NULL, "channel");
    if (a != NULL)
        json_object_set_new(out, "exempt_channels", a);

    json_decref(src);
    if (errs != NULL) {
        json_decref(out);
        *errors = errs;
        return AUTOMOD_EINVAL;
    }
    *rule = out;
    return 0;
}
