/* Request bodies: a JSON object, strictly parsed, or the payload_json part of a
 * multipart/form-data body (what discord.js sends when a message carries files).
 *
 * JSON goes through jansson with its defaults, which are strict where it matters
 * here: one value and nothing after it, no NUL escapes, no NaN, integers that fit 64
 * bits; anything else, or nesting deeper than JSON_MAX_DEPTH, is Discord's 400/50109. A JSON value
 * that is not an object is its 50035 DICT_TYPE_CONVERT. An empty body reads as {} (discord.js sends
 * none for POST /typing, say). The body's Content-Type is not required: a JSON body sent without
 * one is still read, as Discord does.
 *
 * Multipart: the part named payload_json is the JSON body. Without one, the text
 * parts (those without a filename) become string fields, as Discord accepts form
 * fields. File parts are not stored yet: they are ignored, and an "attachments" list
 * describing them is dropped by the message handlers. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Nesting deeper than this is refused before jansson sees it: its parser recurses once
 * per level, and a request process runs on a small green-thread stack. Discord's own
 * bodies (embeds, components) nest a handful of levels. */
#define JSON_MAX_DEPTH 64

static void invalid_json(api_ctx_t *c)
{
    api_error(c, 400, 50109, "The request body contains invalid JSON.");
}

/* True if the brackets in data nest at most JSON_MAX_DEPTH deep (outside strings). A
 * linear scan, no recursion. */
static bool depth_ok(const char *data, size_t len)
{
    bool in_string = false, escaped = false;
    int depth = 0;

    for (size_t i = 0; i < len; i++) {
        char ch = data[i];

        if (in_string) {
            if (escaped)
                escaped = false;
            else if (ch == '\\')
                escaped = true;
            else if (ch == '"')
                in_string = false;
        } else if (ch == '"') {
            in_string = true;
        } else if (ch == '[' || ch == '{') {
            if (++depth > JSON_MAX_DEPTH)
                return false;
        } else if (ch == ']' || ch == '}') {
            depth--;
        }
    }
    return true;
}

/* Parses len bytes of JSON into an object (into an array if list). Returns 0 and it in
 * *out, or -1 after answering. */
static int parse_json(api_ctx_t *c, const char *data, size_t len, bool list, json_t **out)
{
    json_error_t jerr;
    api_form_t f = {0};
    json_t *v;

    v = depth_ok(data, len) ? json_loadb(data, len, JSON_DECODE_ANY, &jerr) : NULL;
    if (v == NULL) {
        invalid_json(c);
        return -1;
    }
    if (list && !json_is_array(v)) {
        json_decref(v);
        api_form_add(&f, "", "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType");
        api_form_reply(c, &f);
        return -1;
    }
    if (!list && !json_is_object(v)) {
        json_decref(v);
        api_form_add(&f, "", "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType");
        api_form_reply(c, &f);
        return -1;
    }
    *out = v;
    return 0;
}

static bool blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return false;
    return true;
}

/* Copies the value of parameter key (name="x", or boundary=x) from a header value into
 * out. Returns true if found and it fit. */
static bool header_param(const char *value, const char *key, char *out, size_t size)
{
    size_t kl = strlen(key), n;
    const char *p = value, *end;

    while ((p = strchr(p, ';')) != NULL) {
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncasecmp(p, key, kl) != 0 || p[kl] != '=')
            continue;
        p += kl + 1;
        if (*p == '"') {
            p++;
            end = strchr(p, '"');
            if (end == NULL)
                return false;
        } else {
            end = p + strcspn(p, "; \t");
        }
        n = (size_t)(end - p);
        if (n == 0 || n >= size)
            return false;
        memcpy(out, p, n);
        out[n] = '\0';
        return true;
    }
    return false;
}

/* One part of a multipart body. */
typedef struct part {
    char name[128];
    bool file;
    const char *data;
    size_t len;
} part_t;

/* Reads the headers of the part at p (up to end): its name and whether it is a
 * file; sets *body to where its content starts. Returns false if malformed. */
static bool part_head(const char *p, const char *end, part_t *pt, const char **body)
{
    const char *hend = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
    char line[1024], fname[8];
    const char *l, *le;
    size_t n;

    if (hend == NULL)
        return false;
    pt->name[0] = '\0';
    pt->file = false;
    for (l = p; l < hend; l = le + 2) {
        le = memmem(l, (size_t)(hend + 2 - l), "\r\n", 2);
        if (le == NULL)
            le = hend;
        n = (size_t)(le - l);
        if (n >= sizeof(line))
            continue; /* a header this long is none we need */
        memcpy(line, l, n);
        line[n] = '\0';
        if (strncasecmp(line, "Content-Disposition:", 20) != 0)
            continue;
        if (!header_param(line, "name", pt->name, sizeof(pt->name)))
            return false;
        /* filename="" still marks a file part; any value will do here. */
        pt->file = strstr(line, "filename=") != NULL || strstr(line, "filename*=") != NULL ||
                   header_param(line, "filename", fname, sizeof(fname));
    }
    *body = hend + 4;
    return pt->name[0] != '\0';
}

/* Parses a multipart/form-data body. Returns 0 with c->body set, or -1 after
 * answering. */
static int parse_multipart(api_ctx_t *c, const char *ctype)
{
    const char *data = c->req->body, *end = data + c->req->body_len, *p, *body, *next;
    char boundary[80], delim[84];
    json_t *fields = NULL, *payload = NULL;
    size_t dl;
    part_t pt;

    if (!header_param(ctype, "boundary", boundary, sizeof(boundary)))
        goto bad;
    dl = (size_t)snprintf(delim, sizeof(delim), "--%s", boundary);
    p = memmem(data, c->req->body_len, delim, dl);
    if (p == NULL)
        goto bad;
    for (;;) {
        p += dl;
        if (end - p >= 2 && p[0] == '-' && p[1] == '-')
            break; /* the closing delimiter */
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
            goto bad;
        p += 2;
        if (!part_head(p, end, &pt, &body))
            goto bad;
        /* The content ends at CRLF + the delimiter. */
        next = body;
        for (;;) {
            next = memmem(next, (size_t)(end - next), delim, dl);
            if (next == NULL || next - body < 2)
                goto bad;
            if (next[-2] == '\r' && next[-1] == '\n')
                break;
            next += dl;
        }
        pt.data = body;
        pt.len = (size_t)(next - 2 - body);
        if (strcmp(pt.name, "payload_json") == 0 && !pt.file) {
            if (payload != NULL)
                goto bad;
            if (parse_json(c, pt.data, pt.len, false, &payload) < 0) {
                json_decref(fields);
                return -1;
            }
        } else if (!pt.file) {
            json_t *s = json_stringn(pt.data, pt.len);

            if (s == NULL) /* not UTF-8 */
                goto bad;
            if (fields == NULL)
                fields = json_object();
            json_object_set_new(fields, pt.name, s);
        }
        p = next;
    }
    if (payload != NULL) {
        json_decref(fields);
        c->body = payload;
    } else {
        c->body = fields != NULL ? fields : json_object();
    }
    return 0;

bad:
    json_decref(fields);
    json_decref(payload);
    {
        api_form_t f = {0};

        api_form_add(&f, "", "MULTIPART_INVALID", "The multipart body is malformed.");
        api_form_reply(c, &f);
    }
    return -1;
}

int api_body_parse(api_ctx_t *c)
{
    const char *ctype = http_request_header(c->req, "Content-Type");

    if (ctype != NULL && strncasecmp(ctype, "multipart/form-data", 19) == 0)
        return parse_multipart(c, ctype);
    if (c->req->body_len == 0 || blank(c->req->body, c->req->body_len)) {
        c->body = json_object();
        return 0;
    }
    return parse_json(c, c->req->body, c->req->body_len, false, &c->body);
}

int api_body_parse_list(api_ctx_t *c)
{
    if (c->req->body_len == 0 || blank(c->req->body, c->req->body_len)) {
        c->body = json_array();
        return 0;
    }
    return parse_json(c, c->req->body, c->req->body_len, true, &c->body);
}
