/* ETF (Erlang external term format, version 131) <-> jansson: see etf.h for the
 * mapping. The encoder walks a jansson value and appends to a growable buffer; the
 * decoder is a bounded recursive descent over the input that checks every length
 * against the bytes left before it reads, so truncated or hostile input fails cleanly. */
#include "etf.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Tags this code reads or writes. */
enum {
    NEW_FLOAT_EXT = 70,
    SMALL_INTEGER_EXT = 97,
    INTEGER_EXT = 98,
    FLOAT_EXT = 99,
    ATOM_EXT = 100,
    SMALL_TUPLE_EXT = 104,
    LARGE_TUPLE_EXT = 105,
    NIL_EXT = 106,
    STRING_EXT = 107,
    LIST_EXT = 108,
    BINARY_EXT = 109,
    SMALL_BIG_EXT = 110,
    LARGE_BIG_EXT = 111,
    SMALL_ATOM_EXT = 115,
    MAP_EXT = 116,
    ATOM_UTF8_EXT = 118,
    SMALL_ATOM_UTF8_EXT = 119,
};

/* ---- the buffer ------------------------------------------------------------------------ */

void etf_buf_reserve(etf_buf_t *b, size_t more)
{
    size_t cap;

    if (b->cap - b->len >= more)
        return;
    cap = b->cap ? b->cap : 256;
    while (cap - b->len < more)
        cap *= 2;
    b->p = realloc(b->p, cap);
    if (b->p == NULL)
        abort(); /* as the runtime does on OOM */
    b->cap = cap;
}

void etf_buf_put(etf_buf_t *b, const void *data, size_t len)
{
    etf_buf_reserve(b, len);
    if (len)
        memcpy(b->p + b->len, data, len);
    b->len += len;
}

static void put8(etf_buf_t *b, uint8_t v)
{
    etf_buf_reserve(b, 1);
    b->p[b->len++] = v;
}

static void put16(etf_buf_t *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    etf_buf_put(b, x, 2);
}

static void put32(etf_buf_t *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    etf_buf_put(b, x, 4);
}

/* ---- encoding ---------------------------------------------------------------------------- */

void etf_put_map_header(etf_buf_t *b, uint32_t arity)
{
    put8(b, MAP_EXT);
    put32(b, arity);
}

void etf_put_atom(etf_buf_t *b, const char *s, size_t len)
{
    if (len <= 255) {
        put8(b, SMALL_ATOM_UTF8_EXT);
        put8(b, (uint8_t)len);
    } else if (len <= 65535) {
        put8(b, ATOM_UTF8_EXT);
        put16(b, (uint16_t)len);
    } else {
        etf_put_binary(b, s, len); /* no atom is that long: a key this long stays a string */
        return;
    }
    etf_buf_put(b, s, len);
}

void etf_put_binary(etf_buf_t *b, const void *s, size_t len)
{
    put8(b, BINARY_EXT);
    put32(b, (uint32_t)len);
    etf_buf_put(b, s, len);
}

void etf_put_int(etf_buf_t *b, int64_t v)
{
    uint64_t mag;
    uint8_t digits[8];
    size_t n = 0;

    if (v >= 0 && v <= 255) {
        put8(b, SMALL_INTEGER_EXT);
        put8(b, (uint8_t)v);
        return;
    }
    if (v >= INT32_MIN && v <= INT32_MAX) {
        put8(b, INTEGER_EXT);
        put32(b, (uint32_t)(int32_t)v);
        return;
    }
    /* SMALL_BIG_EXT: magnitude in little-endian bytes, then a sign byte before them. */
    mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    while (mag) {
        digits[n++] = (uint8_t)mag;
        mag >>= 8;
    }
    put8(b, SMALL_BIG_EXT);
    put8(b, (uint8_t)n);
    put8(b, v < 0);
    etf_buf_put(b, digits, n);
}

static void put_float(etf_buf_t *b, double d)
{
    uint64_t bits;
    uint8_t x[8];
    int i;

    memcpy(&bits, &d, sizeof(bits));
    for (i = 7; i >= 0; i--) {
        x[i] = (uint8_t)bits;
        bits >>= 8;
    }
    put8(b, NEW_FLOAT_EXT);
    etf_buf_put(b, x, 8);
}

static int encode(const json_t *v, etf_buf_t *b, int depth)
{
    const char *key;
    json_t *val;
    size_t i, n;

    if (depth > ETF_MAX_DEPTH)
        return -1;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        etf_put_map_header(b, (uint32_t)json_object_size(v));
        json_object_foreach((json_t *)v, key, val)
        {
            etf_put_atom(b, key, strlen(key));
            if (encode(val, b, depth + 1) < 0)
                return -1;
        }
        return 0;
    case JSON_ARRAY:
        n = json_array_size(v);
        if (n == 0) {
            put8(b, NIL_EXT);
            return 0;
        }
        put8(b, LIST_EXT);
        put32(b, (uint32_t)n);
        for (i = 0; i < n; i++)
            if (encode(json_array_get(v, i), b, depth + 1) < 0)
                return -1;
        put8(b, NIL_EXT);
        return 0;
    case JSON_STRING:
        etf_put_binary(b, json_string_value(v), json_string_length(v));
        return 0;
    case JSON_INTEGER:
        etf_put_int(b, (int64_t)json_integer_value(v));
        return 0;
    case JSON_REAL:
        put_float(b, json_real_value(v));
        return 0;
    case JSON_TRUE:
        etf_put_atom(b, "true", 4);
        return 0;
    case JSON_FALSE:
        etf_put_atom(b, "false", 5);
        return 0;
    case JSON_NULL:
    default:
        etf_put_atom(b, "nil", 3);
        return 0;
    }
}

int etf_encode(const json_t *v, etf_buf_t *b, bool version)
{
    if (version)
        put8(b, ETF_VERSION);
    return encode(v, b, 0);
}

/* ---- decoding ---------------------------------------------------------------------------- */

typedef struct rd {
    const uint8_t *p;
    size_t left;
} rd_t;

static int get8(rd_t *r, uint8_t *v)
{
    if (r->left < 1)
        return -1;
    *v = r->p[0];
    r->p++;
    r->left--;
    return 0;
}

static int get16(rd_t *r, uint32_t *v)
{
    if (r->left < 2)
        return -1;
    *v = (uint32_t)r->p[0] << 8 | r->p[1];
    r->p += 2;
    r->left -= 2;
    return 0;
}

static int get32(rd_t *r, uint32_t *v)
{
    if (r->left < 4)
        return -1;
    *v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
    r->p += 4;
    r->left -= 4;
    return 0;
}

/* Takes n bytes; -1 if fewer are left. */
static int take(rd_t *r, size_t n, const uint8_t **out)
{
    if (r->left < n)
        return -1;
    *out = r->p;
    r->p += n;
    r->left -= n;
    return 0;
}

/* A string of n bytes (NULL if not UTF-8: jansson checks). */
static json_t *str_n(const uint8_t *s, size_t n)
{
    return json_stringn((const char *)s, n);
}

/* An atom's name as a value: nil/null/true/false are special. */
static json_t *atom_value(const uint8_t *s, size_t n)
{
    if ((n == 3 && memcmp(s, "nil", 3) == 0) || (n == 4 && memcmp(s, "null", 4) == 0))
        return json_null();
    if (n == 4 && memcmp(s, "true", 4) == 0)
        return json_true();
    if (n == 5 && memcmp(s, "false", 5) == 0)
        return json_false();
    return str_n(s, n);
}

static json_t *big_value(rd_t *r, uint32_t n)
{
    const uint8_t *d;
    uint8_t sign;
    uint64_t mag = 0;
    char buf[24];
    uint32_t i;

    if (get8(r, &sign) < 0 || take(r, n, &d) < 0 || n > 8 || sign > 1)
        return NULL;
    for (i = n; i > 0; i--)
        mag = mag << 8 | d[i - 1];
    if (sign == 0) {
        if (mag <= (uint64_t)INT64_MAX)
            return json_integer((json_int_t)mag);
        snprintf(buf, sizeof(buf), "%" PRIu64, mag); /* a snowflake beyond int64 */
        return json_string(buf);
    }
    if (mag > (uint64_t)INT64_MAX + 1)
        return NULL;
    return json_integer(mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(json_int_t)mag);
}

static json_t *decode(rd_t *r, int depth);

/* count elements into a new array; with_tail: a list, whose tail must be NIL. */
static json_t *seq_value(rd_t *r, uint32_t count, bool with_tail, int depth)
{
    json_t *a, *e;
    uint8_t tail;
    uint32_t i;

    /* Each element takes at least one byte: a count beyond the input is a lie. */
    if (count > r->left)
        return NULL;
    a = json_array();
    for (i = 0; i < count; i++) {
        e = decode(r, depth + 1);
        if (e == NULL || json_array_append_new(a, e) < 0)
            goto fail;
    }
    if (with_tail && (get8(r, &tail) < 0 || tail != NIL_EXT))
        goto fail;
    return a;
fail:
    json_decref(a);
    return NULL;
}

/* A map key: binary, STRING_EXT or atom, as a NUL-terminated copy in *out. */
static int key_value(rd_t *r, char **out)
{
    const uint8_t *s;
    uint8_t tag, n8;
    uint32_t n;
    json_t *probe;

    if (get8(r, &tag) < 0)
        return -1;
    switch (tag) {
    case BINARY_EXT:
        if (get32(r, &n) < 0)
            return -1;
        break;
    case STRING_EXT:
    case ATOM_EXT:
    case ATOM_UTF8_EXT:
        if (get16(r, &n) < 0)
            return -1;
        break;
    case SMALL_ATOM_EXT:
    case SMALL_ATOM_UTF8_EXT:
        if (get8(r, &n8) < 0)
            return -1;
        n = n8;
        break;
    default:
        return -1; /* integer or compound keys: Discord wants string keys */
    }
    if (take(r, n, &s) < 0 || memchr(s, '\0', n) != NULL)
        return -1;
    probe = str_n(s, n); /* checks UTF-8 */
    if (probe == NULL)
        return -1;
    json_decref(probe);
    *out = malloc(n + 1);
    if (*out == NULL)
        abort();
    memcpy(*out, s, n);
    (*out)[n] = '\0';
    return 0;
}

static json_t *map_value(rd_t *r, uint32_t arity, int depth)
{
    json_t *o, *v;
    char *key;
    uint32_t i;

    if (arity > r->left / 2)
        return NULL;
    o = json_object();
    for (i = 0; i < arity; i++) {
        if (key_value(r, &key) < 0)
            goto fail;
        v = decode(r, depth + 1);
        if (v == NULL) {
            free(key);
            goto fail;
        }
        json_object_set_new(o, key, v); /* a repeated key: the last one wins */
        free(key);
    }
    return o;
fail:
    json_decref(o);
    return NULL;
}

static json_t *decode(rd_t *r, int depth)
{
    const uint8_t *s;
    uint8_t tag, n8;
    uint32_t n;
    uint64_t bits;
    double d;
    char fbuf[32];
    int i;

    if (depth > ETF_MAX_DEPTH || get8(r, &tag) < 0)
        return NULL;
    switch (tag) {
    case SMALL_INTEGER_EXT:
        return get8(r, &n8) < 0 ? NULL : json_integer(n8);
    case INTEGER_EXT:
        return get32(r, &n) < 0 ? NULL : json_integer((int32_t)n);
    case SMALL_BIG_EXT:
        return get8(r, &n8) < 0 ? NULL : big_value(r, n8);
    case LARGE_BIG_EXT:
        return get32(r, &n) < 0 ? NULL : big_value(r, n);
    case NEW_FLOAT_EXT:
        if (take(r, 8, &s) < 0)
            return NULL;
        bits = 0;
        for (i = 0; i < 8; i++)
            bits = bits << 8 | s[i];
        memcpy(&d, &bits, sizeof(d));
        return isfinite(d) ? json_real(d) : NULL;
    case FLOAT_EXT:
        if (take(r, 31, &s) < 0)
            return NULL;
        memcpy(fbuf, s, 31);
        fbuf[31] = '\0';
        d = strtod(fbuf, NULL);
        return isfinite(d) ? json_real(d) : NULL;
    case ATOM_EXT:
    case ATOM_UTF8_EXT:
        if (get16(r, &n) < 0 || take(r, n, &s) < 0)
            return NULL;
        return atom_value(s, n);
    case SMALL_ATOM_EXT:
    case SMALL_ATOM_UTF8_EXT:
        if (get8(r, &n8) < 0 || take(r, n8, &s) < 0)
            return NULL;
        return atom_value(s, n8);
    case BINARY_EXT:
        if (get32(r, &n) < 0 || take(r, n, &s) < 0)
            return NULL;
        return str_n(s, n);
    case STRING_EXT:
        if (get16(r, &n) < 0 || take(r, n, &s) < 0)
            return NULL;
        return str_n(s, n);
    case NIL_EXT:
        return json_array();
    case LIST_EXT:
        return get32(r, &n) < 0 ? NULL : seq_value(r, n, true, depth);
    case SMALL_TUPLE_EXT:
        return get8(r, &n8) < 0 ? NULL : seq_value(r, n8, false, depth);
    case LARGE_TUPLE_EXT:
        return get32(r, &n) < 0 ? NULL : seq_value(r, n, false, depth);
    case MAP_EXT:
        return get32(r, &n) < 0 ? NULL : map_value(r, n, depth);
    default:
        return NULL;
    }
}

int etf_decode(const void *data, size_t len, json_t **out)
{
    rd_t r = {data, len};
    uint8_t ver;
    json_t *v;

    if (get8(&r, &ver) < 0 || ver != ETF_VERSION)
        return -1;
    v = decode(&r, 0);
    if (v == NULL)
        return -1;
    if (r.left != 0) {
        json_decref(v);
        return -1;
    }
    *out = v;
    return 0;
}
