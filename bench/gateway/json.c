/* bench/gateway/json.c: a tiny JSON scanner, just enough for gateway payloads and one
 * REST answer. It never copies or unescapes: it walks an object's members or an
 * array's items and hands back spans of the input, skipping nested values by
 * counting brackets outside strings. Malformed or truncated input gives -1, never a
 * read past the end. */
#include "bench.h"

#include <string.h>

static const char *skip_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* p at an opening quote: the byte after the closing one, or NULL. */
static const char *skip_string(const char *p, const char *e)
{
    p++;
    for (;;) {
        const char *q = memchr(p, '"', (size_t)(e - p));
        const char *b;

        if (q == NULL)
            return NULL;
        /* Escaped if an odd number of backslashes precede it. */
        for (b = q; b > p && b[-1] == '\\'; b--)
            ;
        if (((q - b) & 1) == 0)
            return q + 1;
        p = q + 1;
    }
}

/* p at a value: the byte after it, or NULL. */
static const char *skip_value(const char *p, const char *e)
{
    int depth = 0;

    if (p >= e)
        return NULL;
    if (*p == '"')
        return skip_string(p, e);
    if (*p != '{' && *p != '[') {
        const char *s = p;
        while (p < e && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n' &&
               *p != '\r' && *p != '\t')
            p++;
        return p > s ? p : NULL;
    }
    while (p < e) {
        switch (*p) {
        case '"':
            p = skip_string(p, e);
            if (p == NULL)
                return NULL;
            continue;
        case '{':
        case '[':
            depth++;
            break;
        case '}':
        case ']':
            if (--depth == 0)
                return p + 1;
            break;
        }
        p++;
    }
    return NULL;
}

static int begin(json_iter_t *it, span_t v, char open)
{
    const char *p = skip_ws(v.p, v.p + v.n);

    if (p >= v.p + v.n || *p != open)
        return -1;
    it->p = p + 1;
    it->e = v.p + v.n;
    it->first = true;
    return 0;
}

int json_obj_begin(json_iter_t *it, span_t val)
{
    return begin(it, val, '{');
}

int json_arr_begin(json_iter_t *it, span_t val)
{
    return begin(it, val, '[');
}

/* Steps over the separator before the next element: 1 if there is one, 0 at close. */
static int next_sep(json_iter_t *it, char close)
{
    const char *p = skip_ws(it->p, it->e);

    if (p >= it->e)
        return -1;
    if (*p == close) {
        it->p = p + 1;
        return 0;
    }
    if (!it->first) {
        if (*p != ',')
            return -1;
        p = skip_ws(p + 1, it->e);
    }
    it->first = false;
    it->p = p;
    return 1;
}

int json_obj_next(json_iter_t *it, span_t *key, span_t *val)
{
    const char *p, *q;
    int r = next_sep(it, '}');

    if (r <= 0)
        return r;
    p = it->p;
    if (p >= it->e || *p != '"' || (q = skip_string(p, it->e)) == NULL)
        return -1;
    key->p = p + 1;
    key->n = (size_t)(q - p - 2);
    p = skip_ws(q, it->e);
    if (p >= it->e || *p != ':')
        return -1;
    p = skip_ws(p + 1, it->e);
    q = skip_value(p, it->e);
    if (q == NULL)
        return -1;
    val->p = p;
    val->n = (size_t)(q - p);
    it->p = q;
    return 1;
}

int json_arr_next(json_iter_t *it, span_t *val)
{
    const char *q;
    int r = next_sep(it, ']');

    if (r <= 0)
        return r;
    q = skip_value(it->p, it->e);
    if (q == NULL)
        return -1;
    val->p = it->p;
    val->n = (size_t)(q - it->p);
    it->p = q;
    return 1;
}

bool span_eq(span_t s, const char *lit)
{
    size_t n = strlen(lit);

    return s.n == n && memcmp(s.p, lit, n) == 0;
}

int json_get(span_t obj, const char *key, span_t *val)
{
    json_iter_t it;
    span_t k;
    int r;

    if (json_obj_begin(&it, obj) != 0)
        return -1;
    while ((r = json_obj_next(&it, &k, val)) == 1)
        if (span_eq(k, key))
            return 0;
    return -1;
}

int json_str(span_t v, span_t *out)
{
    if (v.n < 2 || v.p[0] != '"' || v.p[v.n - 1] != '"')
        return -1;
    out->p = v.p + 1;
    out->n = v.n - 2;
    return 0;
}

int json_u64(span_t v, uint64_t *out)
{
    uint64_t x = 0;
    size_t i;

    if (v.n >= 2 && v.p[0] == '"')
        v.p++, v.n -= 2;
    if (v.n == 0 || v.n > 20)
        return -1;
    for (i = 0; i < v.n; i++) {
        if (v.p[i] < '0' || v.p[i] > '9')
            return -1;
        x = x * 10 + (uint64_t)(v.p[i] - '0');
    }
    *out = x;
    return 0;
}
