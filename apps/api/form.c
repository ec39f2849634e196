/* 50035 Invalid Form Body: the "errors" object, and the validators that fill it.
 *
 * Discord reports every bad field at once, nested the way the body is:
 *
 *   {"code": 50035, "message": "Invalid Form Body", "errors": {"content": {"_errors":
 *     [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}]}}}
 *
 * so a handler runs every validator it needs on one api_form_t and answers once at
 * the end if any failed. The codes and texts are Discord's: BASE_TYPE_REQUIRED,
 * BASE_TYPE_MAX_LENGTH, BASE_TYPE_BAD_LENGTH, STRING_TYPE_CONVERT, NUMBER_TYPE_COERCE,
 * NUMBER_TYPE_MAX / _MIN, BOOLEAN_TYPE_COERCE, LIST_TYPE_CONVERT, DICT_TYPE_CONVERT.
 * Values are echoed in messages; they are cut short and anything but printable ASCII
 * becomes '?', so the answer is valid JSON whatever bytes came in. */
#include "internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ECHO_MAX 64 /* bytes of a bad value echoed in a message */

void api_form_scope(api_form_t *f, const char *prefix)
{
    if (prefix == NULL)
        f->prefix[0] = '\0';
    else
        snprintf(f->prefix, sizeof(f->prefix), "%s.", prefix);
}

bool api_form_ok(const api_form_t *f)
{
    return f->errors == NULL;
}

void api_form_free(api_form_t *f)
{
    json_decref(f->errors);
    f->errors = NULL;
}

/* Printable ASCII only, so json_string never refuses it. */
static void sanitize(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
            *s = '?';
}

void api_form_add(api_form_t *f, const char *path, const char *code, const char *fmt, ...)
{
    char full[192], msg[256], *seg, *save;
    json_t *node, *child, *list, *err;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sanitize(msg);
    if (f->errors == NULL)
        f->errors = json_object();
    snprintf(full, sizeof(full), "%s%s", path[0] ? f->prefix : "", path);
    sanitize(full);
    node = f->errors;
    for (seg = strtok_r(full, ".", &save); seg != NULL; seg = strtok_r(NULL, ".", &save)) {
        child = json_object_get(node, seg);
        if (!json_is_object(child)) {
            child = json_object();
            json_object_set_new(node, seg, child);
        }
        node = child;
    }
    list = json_object_get(node, "_errors");
    if (!json_is_array(list)) {
        list = json_array();
        json_object_set_new(node, "_errors", list);
    }
    err = json_object();
    json_object_set_new(err, "code", json_string(code));
    json_object_set_new(err, "message", json_string(msg));
    json_array_append_new(list, err);
}

void api_form_reply(api_ctx_t *c, api_form_t *f)
{
    json_t *body = json_object();

    json_object_set_new(body, "code", json_integer(50035));
    json_object_set_new(body, "errors", f->errors != NULL ? f->errors : json_object());
    json_object_set_new(body, "message", json_string("Invalid Form Body"));
    f->errors = NULL;
    api_json(c, 400, body);
}

void api_field_required(api_form_t *f, const char *key)
{
    api_form_add(f, key, "BASE_TYPE_REQUIRED", "This field is required");
}

/* How a bad value is shown: a string's text, anything else as compact JSON. */
static void echo(const json_t *v, char out[ECHO_MAX + 1])
{
    char *dump;

    if (json_is_string(v)) {
        snprintf(out, ECHO_MAX + 1, "%s", json_string_value(v));
    } else {
        dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        snprintf(out, ECHO_MAX + 1, "%s", dump != NULL ? dump : "?");
        free(dump);
    }
    sanitize(out);
}

long api_utf8_len(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    long n = 0;
    int more;

    while (*p) {
        if (*p < 0x80)
            more = 0;
        else if ((*p & 0xE0) == 0xC0 && *p >= 0xC2)
            more = 1;
        else if ((*p & 0xF0) == 0xE0)
            more = 2;
        else if ((*p & 0xF8) == 0xF0 && *p <= 0xF4)
            more = 3;
        else
            return -1;
        p++;
        for (; more > 0; more--, p++)
            if ((*p & 0xC0) != 0x80)
                return -1;
        n++;
    }
    return n;
}

/* The length error of a string or list, Discord's way: "or fewer" when only the top is
 * bounded, "between" when both are. */
static void length_error(api_form_t *f, const char *key, size_t min, size_t max)
{
    if (min == 0)
        api_form_add(f, key, "BASE_TYPE_MAX_LENGTH", "Must be %zu or fewer in length.", max);
    else if (max == SIZE_MAX)
        api_form_add(f, key, "BASE_TYPE_MIN_LENGTH", "Must be %zu or more in length.", min);
    else
        api_form_add(f, key, "BASE_TYPE_BAD_LENGTH", "Must be between %zu and %zu in length.", min,
                     max);
}

int api_field_str(api_form_t *f, const json_t *obj, const char *key, size_t min, size_t max,
                  const char **out)
{
    const json_t *v = json_object_get(obj, key);
    char shown[ECHO_MAX + 1];
    long len;

    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        echo(v, shown);
        api_form_add(f, key, "STRING_TYPE_CONVERT", "Could not interpret \"%s\" as string.", shown);
        return -1;
    }
    len = api_utf8_len(json_string_value(v));
    if (len < 0 || (size_t)len < min || (size_t)len > max) {
        length_error(f, key, min, max);
        return -1;
    }
    *out = json_string_value(v);
    return 1;
}

/* Parses a whole decimal integer. */
static bool parse_int(const char *s, int64_t *out)
{
    char *end;
    long long v;

    if (*s == '\0' || *s == ' ' || *s == '+')
        return false;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = v;
    return true;
}

static int int_check(api_form_t *f, const char *key, int64_t v, int64_t min, int64_t max,
                     int64_t *out)
{
    if (v > max) {
        api_form_add(f, key, "NUMBER_TYPE_MAX",
                     "int value should be less than or equal to %" PRId64 ".", max);
        return -1;
    }
    if (v < min) {
        api_form_add(f, key, "NUMBER_TYPE_MIN",
                     "int value should be greater than or equal to %" PRId64 ".", min);
        return -1;
    }
    *out = v;
    return 1;
}

int api_field_int(api_form_t *f, const json_t *obj, const char *key, int64_t min, int64_t max,
                  int64_t *out)
{
    const json_t *v = json_object_get(obj, key);
    char shown[ECHO_MAX + 1];
    int64_t n;

    if (v == NULL || json_is_null(v))
        return 0;
    /* Discord coerces numeric strings ("5"), so we do too. */
    if (json_is_integer(v))
        n = json_integer_value(v);
    else if (!json_is_string(v) || !parse_int(json_string_value(v), &n)) {
        echo(v, shown);
        api_form_add(f, key, "NUMBER_TYPE_COERCE", "Value \"%s\" is not int.", shown);
        return -1;
    }
    return int_check(f, key, n, min, max, out);
}

int api_field_bool(api_form_t *f, const json_t *obj, const char *key, bool *out)
{
    const json_t *v = json_object_get(obj, key);
    char shown[ECHO_MAX + 1];

    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_boolean(v)) {
        echo(v, shown);
        api_form_add(f, key, "BOOLEAN_TYPE_COERCE", "Value \"%s\" is not a boolean.", shown);
        return -1;
    }
    *out = json_is_true(v);
    return 1;
}

int api_field_id(api_form_t *f, const json_t *obj, const char *key, uint64_t *out)
{
    const json_t *v = json_object_get(obj, key);
    char shown[ECHO_MAX + 1];

    if (v == NULL || json_is_null(v))
        return 0;
    if (json_is_string(v) && snowflake_parse(json_string_value(v), out) == 0)
        return 1;
    if (json_is_integer(v) && json_integer_value(v) > 0) {
        *out = (uint64_t)json_integer_value(v);
        return 1;
    }
    echo(v, shown);
    api_form_add(f, key, "NUMBER_TYPE_COERCE", "Value \"%s\" is not snowflake.", shown);
    return -1;
}

int api_field_array(api_form_t *f, const json_t *obj, const char *key, size_t max, json_t **out)
{
    json_t *v = json_object_get(obj, key);

    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_array(v)) {
        api_form_add(f, key, "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType");
        return -1;
    }
    if (json_array_size(v) > max) {
        length_error(f, key, 0, max);
        return -1;
    }
    *out = v;
    return 1;
}

int api_field_object(api_form_t *f, const json_t *obj, const char *key, json_t **out)
{
    json_t *v = json_object_get(obj, key);

    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_object(v)) {
        api_form_add(f, key, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType");
        return -1;
    }
    *out = v;
    return 1;
}

void api_fields_copy(api_form_t *f, const json_t *body, const api_field_spec_t *specs, size_t n,
                     json_t *params)
{
    const api_field_spec_t *sp;
    const char *str;
    uint64_t id;
    int64_t i;
    json_t *v;
    bool b;

    for (sp = specs; sp < specs + n; sp++) {
        v = json_object_get(body, sp->key);
        if (v == NULL)
            continue;
        if (json_is_null(v)) {
            if (sp->nullable)
                json_object_set_new(params, sp->key, json_null());
            continue;
        }
        switch (sp->type) {
        case API_F_STR:
            if (api_field_str(f, body, sp->key, (size_t)sp->min, (size_t)sp->max, &str) == 1)
                json_object_set_new(params, sp->key, json_string(str));
            break;
        case API_F_INT:
            if (api_field_int(f, body, sp->key, sp->min, sp->max, &i) == 1)
                json_object_set_new(params, sp->key, json_integer(i));
            break;
        case API_F_ID:
            if (api_field_id(f, body, sp->key, &id) == 1)
                json_object_set_new(params, sp->key, api_id_json(id));
            break;
        case API_F_BOOL:
            if (api_field_bool(f, body, sp->key, &b) == 1)
                json_object_set_new(params, sp->key, json_boolean(b));
            break;
        case API_F_ARRAY:
            if (api_field_array(f, body, sp->key, (size_t)sp->max, &v) == 1)
                json_object_set(params, sp->key, v);
            break;
        case API_F_OBJECT:
            if (api_field_object(f, body, sp->key, &v) == 1)
                json_object_set(params, sp->key, v);
            break;
        }
    }
}

/* ---- query parameters and path ids ---------------------------------------------------------- */

int api_query_int(api_form_t *f, const api_ctx_t *c, const char *key, int64_t min, int64_t max,
                  int64_t *out)
{
    char buf[ECHO_MAX + 1];
    int64_t n;
    int len;

    len = http_query_get(c->req, key, buf, sizeof(buf));
    if (len == -1)
        return 0;
    if (len < 0 || !parse_int(buf, &n)) {
        if (len < 0)
            snprintf(buf, sizeof(buf), "?");
        sanitize(buf);
        api_form_add(f, key, "NUMBER_TYPE_COERCE", "Value \"%s\" is not int.", buf);
        return -1;
    }
    return int_check(f, key, n, min, max, out);
}

int api_query_id(api_form_t *f, const api_ctx_t *c, const char *key, uint64_t *out)
{
    char buf[ECHO_MAX + 1];
    int len;

    len = http_query_get(c->req, key, buf, sizeof(buf));
    if (len == -1)
        return 0;
    if (len < 0 || snowflake_parse(buf, out) != 0) {
        if (len < 0)
            snprintf(buf, sizeof(buf), "?");
        sanitize(buf);
        api_form_add(f, key, "NUMBER_TYPE_COERCE", "Value \"%s\" is not snowflake.", buf);
        return -1;
    }
    return 1;
}

bool api_query_flag(const api_ctx_t *c, const char *key)
{
    char buf[8];

    if (http_query_get(c->req, key, buf, sizeof(buf)) < 0)
        return false;
    return strcmp(buf, "true") == 0 || strcmp(buf, "1") == 0 || strcmp(buf, "True") == 0;
}

bool api_param_id(api_ctx_t *c, const char *name, uint64_t *out)
{
    const char *v = http_request_param(c->req, name);
    char shown[ECHO_MAX + 1];
    api_form_t f = {0};

    if (v != NULL && snowflake_parse(v, out) == 0)
        return true;
    snprintf(shown, sizeof(shown), "%s", v != NULL ? v : "");
    sanitize(shown);
    api_form_add(&f, name, "NUMBER_TYPE_COERCE", "Value \"%s\" is not snowflake.", shown);
    api_form_reply(c, &f);
    return false;
}
