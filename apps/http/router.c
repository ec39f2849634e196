/* Routes: patterns with {param} and {*tail} segments, matched against a request's
 * decoded path segments, the most specific pattern winning; and the accessors a
 * handler uses on a request (headers, params, query string).
 *
 * A router is built once, before the listener starts, and read by every connection
 * process at the same time afterwards without locks: nothing changes it then. The
 * routes sit in a list tried in full for each request: with the hundred-odd routes of
 * a Discord-style API that costs far less than the request itself, and it lets the
 * best match win whatever the order routes were added in ("/users/@me" beats
 * "/users/{id}": a literal segment beats a parameter). */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { SEG_LIT = 3, SEG_PARAM = 2, SEG_TAIL = 1 };

typedef struct pseg {
    uint8_t kind;
    char *text; /* the literal, or the parameter's name */
} pseg_t;

struct http_route {
    char method[24]; /* a token, or "*" */
    http_handler_fn fn;
    const ws_handler_t *ws;
    void *udata;
    size_t nsegs;
    pseg_t segs[HTTP_MAX_SEGMENTS];
};

struct http_router {
    http_route_t **routes;
    size_t n, cap;
};

http_router_t *http_router_new(void)
{
    return http__calloc(1, sizeof(http_router_t));
}

static void route_free(http_route_t *rt)
{
    for (size_t i = 0; i < rt->nsegs; i++)
        free(rt->segs[i].text);
    free(rt);
}

void http_router_free(http_router_t *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n; i++)
        route_free(r->routes[i]);
    free(r->routes);
    free(r);
}

static bool name_ok(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    return true;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = http__malloc(n + 1);

    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* Parses pattern into rt. Returns 0 or HEARTH_EINVAL. */
static int pattern_parse(http_route_t *rt, const char *pattern)
{
    const char *s, *e;
    size_t len, nparams = 0;
    pseg_t *sg;

    if (pattern == NULL || pattern[0] != '/')
        return HEARTH_EINVAL;
    s = pattern + 1;
    while (*s != '\0') {
        e = strchr(s, '/');
        len = e ? (size_t)(e - s) : strlen(s);
        if (e != NULL && e[1] == '\0' && len == 0)
            break;
        if (rt->nsegs == HTTP_MAX_SEGMENTS)
            return HEARTH_EINVAL;
        if (rt->nsegs > 0 && rt->segs[rt->nsegs - 1].kind == SEG_TAIL)
            return HEARTH_EINVAL; /* {*tail} only last */
        sg = &rt->segs[rt->nsegs];
        if (len >= 3 && s[0] == '{' && s[len - 1] == '}') {
            bool tail = s[1] == '*';
            const char *nm = s + 1 + tail;
            size_t nl = len - 2 - tail;

            if (!name_ok(nm, nl) || ++nparams > HTTP_MAX_PARAMS)
                return HEARTH_EINVAL;
            sg->kind = tail ? SEG_TAIL : SEG_PARAM;
            sg->text = dup_n(nm, nl);
        } else {
            for (size_t i = 0; i < len; i++)
                if (s[i] == '{' || s[i] == '}' || s[i] == '?' || s[i] == '#' || s[i] == '%')
                    return HEARTH_EINVAL;
            sg->kind = SEG_LIT;
            sg->text = dup_n(s, len);
        }
        rt->nsegs++;
        if (e == NULL)
            break;
        s = e + 1;
    }
    return 0;
}

static int router_add(http_router_t *r, const char *method, const char *pattern, http_handler_fn fn,
                      const ws_handler_t *ws, void *udata)
{
    http_route_t *rt;
    size_t ml;
    int err;

    if (r == NULL || method == NULL || (fn == NULL && ws == NULL))
        return HEARTH_EINVAL;
    ml = strlen(method);
    if (ml == 0 || ml >= sizeof(rt->method))
        return HEARTH_EINVAL;
    if (strcmp(method, "*") != 0)
        for (size_t i = 0; i < ml; i++)
            if (!http__is_tchar((unsigned char)method[i]))
                return HEARTH_EINVAL;
    rt = http__calloc(1, sizeof(*rt));
    memcpy(rt->method, method, ml + 1);
    rt->fn = fn;
    rt->ws = ws;
    rt->udata = udata;
    err = pattern_parse(rt, pattern);
    if (err) {
        route_free(rt);
        return err;
    }
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->routes = http__realloc(r->routes, r->cap * sizeof(*r->routes));
    }
    r->routes[r->n++] = rt;
    return 0;
}

int http_router_add(http_router_t *r, const char *method, const char *pattern, http_handler_fn fn,
                    void *udata)
{
    if (fn == NULL)
        return HEARTH_EINVAL;
    return router_add(r, method, pattern, fn, NULL, udata);
}

int http_router_ws(http_router_t *r, const char *pattern, const ws_handler_t *handler, void *udata)
{
    if (handler == NULL || handler->open == NULL || handler->message == NULL)
        return HEARTH_EINVAL;
    return router_add(r, "GET", pattern, NULL, handler, udata);
}

/* The specificity of rt matching req's path (2 bits per segment, the first segment
 * highest), or 0 if it does not match. */
static uint64_t path_score(const http_route_t *rt, const http_request_t *req)
{
    uint64_t score = 0;
    size_t i;

    for (i = 0; i < rt->nsegs; i++) {
        const pseg_t *sg = &rt->segs[i];

        if (sg->kind == SEG_TAIL)
            return (score | (uint64_t)SEG_TAIL << (62 - 2 * i));
        if (i >= req->nsegs)
            return 0;
        if (sg->kind == SEG_LIT ? strcmp(sg->text, req->segs[i]) != 0 : req->segs[i][0] == '\0')
            return 0;
        score |= (uint64_t)sg->kind << (62 - 2 * i);
    }
    if (i != req->nsegs)
        return 0;
    return score | 1; /* the empty path "/" must still score above "no match" */
}

static bool method_ok(const http_route_t *rt, const char *method)
{
    return strcmp(rt->method, "*") == 0 || strcmp(rt->method, method) == 0 ||
           (strcmp(method, "HEAD") == 0 && strcmp(rt->method, "GET") == 0);
}

/* Points req's params at its segments for rt; a tail joins the rest with '/'. */
static void fill_params(const http_route_t *rt, http_request_t *req)
{
    req->nparams = 0;
    for (size_t i = 0; i < rt->nsegs; i++) {
        const pseg_t *sg = &rt->segs[i];

        if (sg->kind == SEG_LIT)
            continue;
        req->param_names[req->nparams] = sg->text;
        if (sg->kind == SEG_PARAM) {
            req->params[req->nparams++] = req->segs[i];
        } else if (i >= req->nsegs) {
            req->params[req->nparams++] = "";
        } else {
            /* The parser lays the decoded segments out one after the other, each
             * NUL-terminated: turning the NULs between them into '/' joins them. */
            char *s = (char *)req->segs[i];

            for (size_t k = i + 1; k < req->nsegs; k++)
                s[req->segs[k] - s - 1] = '/';
            req->params[req->nparams++] = s;
        }
    }
}

static void allow_add(char *allow, size_t size, const char *method)
{
    size_t len = strlen(allow), ml = strlen(method);
    const char *p = allow;

    while ((p = strstr(p, method)) != NULL) { /* already listed? */
        if ((p == allow || p[-1] == ' ') && (p[ml] == ',' || p[ml] == '\0'))
            return;
        p += ml;
    }
    if (len + ml + 3 > size)
        return;
    if (len) {
        memcpy(allow + len, ", ", 2);
        len += 2;
    }
    memcpy(allow + len, method, ml + 1);
}

void http__route(const http_router_t *r, http_request_t *req, bool upgrade, http_match_t *out)
{
    const http_route_t *best = NULL;
    uint64_t score, best_score = 0;
    bool path_seen = false, ws_seen = false;
    size_t i;

    memset(out, 0, sizeof(*out));
    if (r != NULL && upgrade) {
        for (i = 0; i < r->n; i++) {
            const http_route_t *rt = r->routes[i];

            if (rt->ws && (score = path_score(rt, req)) > best_score) {
                best = rt;
                best_score = score;
            }
        }
    }
    for (i = 0; r != NULL && !(upgrade && best != NULL) && i < r->n; i++) {
        const http_route_t *rt = r->routes[i];

        score = path_score(rt, req);
        if (score == 0)
            continue;
        if (rt->ws) {
            ws_seen = true;
            continue;
        }
        path_seen = true;
        if (strcmp(rt->method, "*") == 0) {
            allow_add(out->allow, sizeof(out->allow), "*");
        } else {
            allow_add(out->allow, sizeof(out->allow), rt->method);
            if (strcmp(rt->method, "GET") == 0)
                allow_add(out->allow, sizeof(out->allow), "HEAD");
        }
        if (method_ok(rt, req->method) && score > best_score) {
            best_score = score;
            best = rt;
        }
    }
    if (best == NULL) {
        out->status = path_seen ? 405 : (ws_seen ? 426 : 404);
        return;
    }
    fill_params(best, req);
    out->route = best;
    out->fn = best->fn;
    out->ws = best->ws;
    out->udata = best->udata;
}

/* ---- request accessors ---------------------------------------------------------------- */

const char *http_request_header(const http_request_t *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

bool http__header_has_token(const http_request_t *req, const char *name, const char *token)
{
    size_t tl = strlen(token);

    for (size_t i = 0; i < req->nheaders; i++) {
        const char *v = req->headers[i].value;

        if (strcasecmp(req->headers[i].name, name) != 0)
            continue;
        while (*v) {
            size_t n;

            while (*v == ' ' || *v == '\t' || *v == ',')
                v++;
            n = strcspn(v, ",");
            while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
                n--;
            if (n == tl && strncasecmp(v, token, tl) == 0)
                return true;
            v += strcspn(v, ",");
        }
    }
    return false;
}

const char *http_request_param(const http_request_t *req, const char *name)
{
    for (size_t i = 0; i < req->nparams; i++)
        if (strcmp(req->param_names[i], name) == 0)
            return req->params[i];
    return NULL;
}

int http_query_get(const http_request_t *req, const char *key, char *out, size_t size)
{
    const char *q = req->query, *amp, *eq, *v;
    size_t klen = strlen(key), plen, vlen;
    char kbuf[64];
    long n;

    while (*q != '\0') {
        amp = strchr(q, '&');
        plen = amp ? (size_t)(amp - q) : strlen(q);
        eq = memchr(q, '=', plen);
        /* Keys are compared decoded; keys longer than kbuf match nothing we look up. */
        n = plen && (size_t)((eq ? eq : q + plen) - q) < sizeof(kbuf)
                ? http__pct_decode(q, (size_t)((eq ? eq : q + plen) - q), kbuf, true)
                : -1;
        if (n >= 0 && (size_t)n == klen && memcmp(kbuf, key, klen) == 0) {
            v = eq ? eq + 1 : q + plen;
            vlen = (size_t)(q + plen - v);
            if (size == 0)
                return -2;
            if (vlen < size) {
                n = http__pct_decode(v, vlen, out, true);
            } else {
                char *tmp = http__malloc(vlen);

                n = http__pct_decode(v, vlen, tmp, true);
                if (n >= 0 && (size_t)n < size)
                    memcpy(out, tmp, (size_t)n);
                else
                    n = -1;
                free(tmp);
            }
            if (n < 0)
                return -2;
            out[n] = '\0';
            return (int)n;
        }
        if (amp == NULL)
            break;
        q = amp + 1;
    }
    return -1;
}
