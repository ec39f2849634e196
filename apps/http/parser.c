/* The HTTP/1.1 request parser: incremental, strict and bounded.
 *
 * Bytes are appended to one buffer as they arrive (http_parser_feed); the parser
 * never needs them in any particular pieces. The head is found line by line: each
 * '\n' must follow a '\r' (a bare LF is refused at once rather than waited on), and
 * the request line and header lines are counted and measured as they come, so an
 * oversize head fails as soon as it passes the limit (414 for a request line that
 * never ends, 431 for headers), not when it ends. At the empty line the whole head
 * is validated in one pass: method and header names are tokens, the target an
 * origin-form path (percent escapes well-formed, no %00), header values free of
 * control characters, no obs-fold, exactly one Host for HTTP/1.1, a single
 * Content-Length or "Transfer-Encoding: chunked" but never both (request smuggling),
 * other transfer codings 501, an Expect other than 100-continue 417, HTTP/2+ 505.
 *
 * Bodies: Content-Length bodies wait until all their bytes are buffered; chunked
 * bodies are decoded in place (the decoded bytes move down over the chunk headers,
 * so the buffer never holds both), trailers read and dropped. A body over max_body is
 * 413, refused from Content-Length or the chunk size before its bytes arrive.
 *
 * The live bytes are buf[off .. len); every position below is relative to off, so
 * taking a request is just moving off, and the bytes are compacted only when a feed
 * needs room. When nothing is buffered the buffer is freed: an idle keep-alive
 * connection holds no memory here. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
    PS_HEAD = 0,
    PS_BODY,
    PS_CHUNK_SIZE,
    PS_CHUNK_DATA,
    PS_CHUNK_CRLF,
    PS_TRAILER,
    PS_DONE,
    PS_ERROR
};

/* What the chunked body's steps return besides HTTP_PARSE_MORE and HTTP_PARSE_ERROR. */
#define PROGRESS 2

/* Leading empty lines tolerated before a request line (RFC 9112 2.2). */
#define MAX_LEADING_CRLF 8
/* A chunk-size line, extensions included. */
#define MAX_CHUNK_LINE 1024
/* Room for the next request's first read beyond the limits of the current one. */
#define FEED_SLACK ((size_t)256 << 10)

struct http_hidx {
    uint32_t name_off, name_len, val_off, val_len; /* relative to off */
};

void *http__malloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (p == NULL)
        abort(); /* small allocations abort on OOM, as the runtime's do */
    return p;
}

void *http__realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (q == NULL)
        abort();
    return q;
}

void *http__calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);

    if (p == NULL)
        abort();
    return p;
}

http_limits_t http__limits_resolve(const http_limits_t *limits)
{
    http_limits_t l = {0};

    if (limits != NULL)
        l = *limits;
    if (l.max_head == 0)
        l.max_head = HTTP_DEFAULT_MAX_HEAD;
    if (l.max_headers == 0)
        l.max_headers = HTTP_DEFAULT_MAX_HEADERS;
    if (l.max_body == 0)
        l.max_body = HTTP_DEFAULT_MAX_BODY;
    if (l.ws_max_message == 0)
        l.ws_max_message = HTTP_DEFAULT_WS_MAX_MESSAGE;
    if (l.idle_ms == 0)
        l.idle_ms = HTTP_DEFAULT_IDLE_MS;
    /* Offsets are 32-bit: keep the head well inside that. */
    if (l.max_head > ((size_t)1 << 30))
        l.max_head = (size_t)1 << 30;
    return l;
}

bool http__is_tchar(unsigned char c)
{
    /* tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" /
     *         "`" / "|" / "~" / DIGIT / ALPHA */
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long http__pct_decode(const char *s, size_t len, char *out, bool plus)
{
    size_t i, o = 0;
    int hi, lo;

    for (i = 0; i < len; i++) {
        if (s[i] == '%') {
            if (len - i < 3)
                return -1;
            hi = hexval((unsigned char)s[i + 1]);
            lo = hexval((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return -1; /* %00 would cut every C string built from it */
            out[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else if (plus && s[i] == '+') {
            out[o++] = ' ';
        } else {
            out[o++] = s[i];
        }
    }
    return (long)o;
}

void http_parser_init(http_parser_t *p, const http_limits_t *limits)
{
    memset(p, 0, sizeof(*p));
    p->lim = http__limits_resolve(limits);
    p->keep_alive = true;
}

void http_parser_free(http_parser_t *p)
{
    free(p->buf);
    free(p->hidx);
    p->buf = NULL;
    p->hidx = NULL;
    p->len = p->cap = 0;
}

static int fail(http_parser_t *p, int status, const char *why)
{
    p->state = PS_ERROR;
    p->status = status;
    p->error = why;
    return HTTP_PARSE_ERROR;
}

size_t http_parser_buffered(const http_parser_t *p)
{
    return p->buf ? p->len - p->off : 0;
}

int http_parser_feed(http_parser_t *p, const void *data, size_t n)
{
    size_t live = http_parser_buffered(p), bound, cap;

    if (p->state == PS_ERROR)
        return HTTP_PARSE_ERROR;
    if (n == 0)
        return 0;
    bound = p->lim.max_head + p->lim.max_body + FEED_SLACK;
    if (n > bound - (live < bound ? live : bound) || live >= bound)
        return fail(p, 413, "too much input buffered");
    if (p->off > 0 && p->len + n > p->cap) {
        /* Compact: the positions are relative to off, so none of them changes. */
        memmove(p->buf, p->buf + p->off, live);
        p->len = live;
        p->off = 0;
    }
    if (p->len + n > p->cap) {
        cap = p->cap ? p->cap * 2 : 1024;
        while (cap < p->len + n)
            cap *= 2;
        p->buf = http__realloc(p->buf, cap);
        p->cap = cap;
    }
    memcpy(p->buf + p->len, data, n);
    p->len += n;
    return 0;
}

/* ---- the head ------------------------------------------------------------------------ */

/* Case-insensitive comparison of len bytes at s with the NUL-terminated lit. */
static bool eq_ci(const char *s, size_t len, const char *lit)
{
    return strlen(lit) == len && strncasecmp(s, lit, len) == 0;
}

/* A header value byte: HTAB, SP, VCHAR, obs-text. */
static bool is_vbyte(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7F);
}

/* True if every '%' in s starts a well-formed escape other than %00. */
static bool pct_valid(const char *s, size_t len)
{
    size_t i;
    int hi, lo;

    for (i = 0; i < len; i++) {
        if (s[i] != '%')
            continue;
        if (len - i < 3)
            return false;
        hi = hexval((unsigned char)s[i + 1]);
        lo = hexval((unsigned char)s[i + 2]);
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
            return false;
        i += 2;
    }
    return true;
}

/* Walks the comma-separated tokens of a Connection value. */
static void connection_tokens(http_parser_t *p, const char *v, size_t len)
{
    size_t i = 0, s, e;

    while (i < len) {
        while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        s = i;
        while (i < len && v[i] != ',')
            i++;
        e = i;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (eq_ci(v + s, e - s, "close"))
            p->close = true;
        else if (eq_ci(v + s, e - s, "keep-alive") && p->minor == 0)
            p->keep_alive = true;
    }
    if (p->close)
        p->keep_alive = false;
}

static int parse_request_line(http_parser_t *p, const char *b, size_t len)
{
    size_t i = 0, t0, q;
    int major, minor;

    while (i < len && http__is_tchar((unsigned char)b[i]))
        i++;
    if (i == 0 || i > 32 || i >= len || b[i] != ' ')
        return fail(p, 400, "bad method");
    p->m_len = (uint32_t)i;
    t0 = ++i;
    while (i < len && (unsigned char)b[i] > 0x20 && (unsigned char)b[i] < 0x7F)
        i++;
    if (i == t0 || i >= len || b[i] != ' ')
        return fail(p, 400, "bad request target");
    p->t_off = (uint32_t)t0; /* from the line's start, which is head_start */
    p->t_len = (uint32_t)(i - t0);
    i++;
    if (len - i != 8 || memcmp(b + i, "HTTP/", 5) != 0 || b[i + 5] < '0' || b[i + 5] > '9' ||
        b[i + 6] != '.' || b[i + 7] < '0' || b[i + 7] > '9')
        return fail(p, 400, "bad HTTP version");
    major = b[i + 5] - '0';
    minor = b[i + 7] - '0';
    if (major != 1)
        return fail(p, 505, "HTTP version not supported");
    /* 1.x for x > 1 is answered as 1.1 (RFC 9110 6.2: minor versions are compatible). */
    p->minor = minor > 1 ? 1 : minor;
    p->keep_alive = p->minor == 1;

    /* Origin form only ("*" for OPTIONS): no absolute form, no fragment. */
    b += t0;
    if (p->t_len == 1 && b[0] == '*') {
        if (!eq_ci(b - t0, p->m_len, "OPTIONS"))
            return fail(p, 400, "bad request target");
        p->p_len = 1;
        p->nsegs = 0;
        return 0;
    }
    if (b[0] != '/')
        return fail(p, 400, "request target must be a path");
    if (memchr(b, '#', p->t_len) != NULL)
        return fail(p, 400, "fragment in request target");
    q = 0;
    while (q < p->t_len && b[q] != '?')
        q++;
    p->p_len = (uint32_t)q;
    if (!pct_valid(b, q))
        return fail(p, 400, "bad percent-encoding in path");
    /* Segments after the leading '/'; a trailing slash adds none. */
    p->nsegs = 0;
    for (i = 1; i <= q; i++) {
        if (i == q || b[i] == '/') {
            if (i == q && (q == 1 || b[q - 1] == '/'))
                break;
            p->nsegs++;
        }
    }
    if (p->nsegs > HTTP_MAX_SEGMENTS)
        return fail(p, 414, "too many path segments");
    return 0;
}

static int parse_header_line(http_parser_t *p, const char *b, size_t lineoff, size_t len,
                             int *hosts, int *clens, int *tes)
{
    const char *l = b + lineoff;
    size_t i = 0, vs, ve;
    http_hidx_t *h;
    uint64_t v;

    if (len > 0 && (l[0] == ' ' || l[0] == '\t'))
        return fail(p, 400, "obsolete line folding");
    while (i < len && http__is_tchar((unsigned char)l[i]))
        i++;
    if (i == 0 || i >= len || l[i] != ':')
        return fail(p, 400, "bad header name");
    vs = i + 1;
    while (vs < len && (l[vs] == ' ' || l[vs] == '\t'))
        vs++;
    ve = len;
    while (ve > vs && (l[ve - 1] == ' ' || l[ve - 1] == '\t'))
        ve--;
    for (size_t k = vs; k < ve; k++)
        if (!is_vbyte((unsigned char)l[k]))
            return fail(p, 400, "bad header value");

    h = &p->hidx[p->nhidx++];
    h->name_off = (uint32_t)lineoff;
    h->name_len = (uint32_t)i;
    h->val_off = (uint32_t)(lineoff + vs);
    h->val_len = (uint32_t)(ve - vs);

    if (eq_ci(l, i, "host")) {
        (*hosts)++;
    } else if (eq_ci(l, i, "content-length")) {
        if (ve == vs || ve - vs > 18)
            return fail(p, ve == vs ? 400 : 413, "bad Content-Length");
        v = 0;
        for (size_t k = vs; k < ve; k++) {
            if (l[k] < '0' || l[k] > '9')
                return fail(p, 400, "bad Content-Length");
            v = v * 10 + (uint64_t)(l[k] - '0');
        }
        if (*clens > 0 && v != p->clen)
            return fail(p, 400, "conflicting Content-Length");
        p->clen = v;
        (*clens)++;
    } else if (eq_ci(l, i, "transfer-encoding")) {
        if (*tes > 0 || !eq_ci(l + vs, ve - vs, "chunked"))
            return fail(p, 501, "transfer coding not implemented");
        (*tes)++;
        p->chunked = true;
    } else if (eq_ci(l, i, "connection")) {
        connection_tokens(p, l + vs, ve - vs);
    } else if (eq_ci(l, i, "expect")) {
        if (!eq_ci(l + vs, ve - vs, "100-continue"))
            return fail(p, 417, "expectation failed");
        p->want_continue = p->minor == 1;
    }
    return 0;
}

/* The head is complete at head_len: validate it all and choose the body's framing. */
static int parse_head(http_parser_t *p)
{
    const char *b = p->buf + p->off;
    size_t pos, nl, first = 1;
    int hosts = 0, clens = 0, tes = 0, err;

    p->want_continue = false;
    p->chunked = p->close = false;
    p->clen = 0;
    p->nhidx = 0;
    if (p->nlines > 1 && p->hidx == NULL)
        p->hidx = http__malloc((p->nlines - 1) * sizeof(*p->hidx));
    for (pos = p->head_start; pos < p->head_len - 2; pos = nl + 1) {
        nl = (size_t)((const char *)memchr(b + pos, '\n', p->head_len - pos) - b);
        if (first) {
            first = 0;
            err = parse_request_line(p, b + pos, nl - 1 - pos);
            /* Connection: keep-alive for 1.0 is read after the version is known. */
        } else {
            err = parse_header_line(p, b, pos, nl - 1 - pos, &hosts, &clens, &tes);
        }
        if (err)
            return err;
    }
    if (p->minor == 1 ? hosts != 1 : hosts > 1)
        return fail(p, 400, hosts ? "more than one Host" : "missing Host");
    if (tes && clens)
        return fail(p, 400, "both Content-Length and Transfer-Encoding");
    if (tes && p->minor == 0)
        return fail(p, 400, "Transfer-Encoding in HTTP/1.0");
    if (!tes && p->clen > p->lim.max_body)
        return fail(p, 413, "body too large");
    if (!tes && p->clen == 0)
        p->want_continue = false;
    p->body_len = 0;
    p->rpos = p->head_len;
    p->state = tes ? PS_CHUNK_SIZE : PS_BODY;
    return 0;
}

/* Finds the end of the head, checking lines as they complete. */
static int scan_head(http_parser_t *p)
{
    const char *b = p->buf + p->off;
    size_t n = p->len - p->off, pos;
    const char *nl;

    for (;;) {
        nl = p->scan < n ? memchr(b + p->scan, '\n', n - p->scan) : NULL;
        if (nl == NULL) {
            p->scan = n;
            if (n - p->head_start > p->lim.max_head)
                return p->nlines == 0 ? fail(p, 414, "request line too long")
                                      : fail(p, 431, "request header fields too large");
            return HTTP_PARSE_MORE;
        }
        pos = (size_t)(nl - b);
        p->scan = pos + 1;
        if (pos == p->line || b[pos - 1] != '\r')
            return fail(p, 400, "bare LF");
        if (p->scan - p->head_start > p->lim.max_head)
            return p->nlines == 0 ? fail(p, 414, "request line too long")
                                  : fail(p, 431, "request header fields too large");
        if (pos - 1 == p->line) { /* an empty line */
            if (p->nlines == 0) {
                if (p->scan > 2 * MAX_LEADING_CRLF)
                    return fail(p, 400, "too many empty lines");
                p->head_start = p->line = p->scan;
                continue;
            }
            p->head_len = p->scan;
            return parse_head(p);
        }
        if (p->nlines > p->lim.max_headers) /* the request line plus max_headers */
            return fail(p, 431, "too many header fields");
        p->nlines++;
        p->line = p->scan;
    }
}

/* ---- bodies ---------------------------------------------------------------------------- */

static int chunk_size_line(http_parser_t *p, char *b, size_t n)
{
    const char *nl;
    size_t i, end;
    uint64_t v = 0;
    int d;

    nl = memchr(b + p->rpos, '\n', n - p->rpos);
    if (nl == NULL) {
        if (n - p->rpos > MAX_CHUNK_LINE)
            return fail(p, 400, "chunk size line too long");
        return HTTP_PARSE_MORE;
    }
    end = (size_t)(nl - b);
    if (end - p->rpos > MAX_CHUNK_LINE)
        return fail(p, 400, "chunk size line too long");
    if (end == p->rpos || b[end - 1] != '\r')
        return fail(p, 400, "bad chunk size line");
    end--; /* at the CR */
    for (i = p->rpos; i < end && (d = hexval((unsigned char)b[i])) >= 0; i++) {
        if (i - p->rpos >= 15)
            return fail(p, 413, "chunk too large");
        v = v << 4 | (uint64_t)d;
    }
    if (i == p->rpos)
        return fail(p, 400, "bad chunk size");
    if (i < end) {
        /* chunk extensions: ';' then anything printable, ignored */
        if (b[i] != ';' && b[i] != ' ' && b[i] != '\t')
            return fail(p, 400, "bad chunk size");
        for (; i < end; i++)
            if (!is_vbyte((unsigned char)b[i]))
                return fail(p, 400, "bad chunk extension");
    }
    p->rpos = end + 2;
    if (v > p->lim.max_body - p->body_len)
        return fail(p, 413, "body too large");
    p->chunk_left = v;
    p->state = v ? PS_CHUNK_DATA : PS_TRAILER;
    p->line = p->scan = p->rpos;
    return PROGRESS;
}

/* Reads the trailer lines (checked, then dropped) up to the empty line. */
static int chunk_trailer(http_parser_t *p, const char *b, size_t n)
{
    const char *nl;
    size_t pos;

    for (;;) {
        nl = p->rpos < n ? memchr(b + p->rpos, '\n', n - p->rpos) : NULL;
        if (nl == NULL) {
            if (n - p->scan > p->lim.max_head)
                return fail(p, 431, "trailers too large");
            return HTTP_PARSE_MORE;
        }
        pos = (size_t)(nl - b);
        if (pos == p->line || b[pos - 1] != '\r')
            return fail(p, 400, "bare LF");
        p->rpos = pos + 1;
        if (p->rpos - p->scan > p->lim.max_head)
            return fail(p, 431, "trailers too large");
        if (pos - 1 == p->line) {
            p->state = PS_DONE;
            return PROGRESS;
        }
        for (size_t k = p->line; k < pos - 1; k++)
            if (!is_vbyte((unsigned char)b[k]))
                return fail(p, 400, "bad trailer");
        p->line = p->rpos;
    }
}

/* Decodes as much of a chunked body as is buffered. Returns 0 (done or more needed:
 * the state says which) or HTTP_PARSE_ERROR. */
static int chunked(http_parser_t *p)
{
    char *b = p->buf + p->off;
    size_t n = p->len - p->off, take;
    int r;

    for (;;) {
        switch (p->state) {
        case PS_CHUNK_SIZE:
            r = chunk_size_line(p, b, n);
            if (r != PROGRESS)
                return r;
            break;
        case PS_CHUNK_DATA:
            take = n - p->rpos;
            if (take > p->chunk_left)
                take = (size_t)p->chunk_left;
            if (take == 0)
                return HTTP_PARSE_MORE;
            /* Decoded bytes end at or before rpos: moving them down is safe. */
            memmove(b + p->head_len + p->body_len, b + p->rpos, take);
            p->body_len += take;
            p->rpos += take;
            p->chunk_left -= take;
            if (p->chunk_left == 0)
                p->state = PS_CHUNK_CRLF;
            break;
        case PS_CHUNK_CRLF:
            if (n - p->rpos < 2)
                return HTTP_PARSE_MORE;
            if (b[p->rpos] != '\r' || b[p->rpos + 1] != '\n')
                return fail(p, 400, "chunk not followed by CRLF");
            p->rpos += 2;
            p->state = PS_CHUNK_SIZE;
            break;
        case PS_TRAILER:
            r = chunk_trailer(p, b, n);
            if (r != PROGRESS)
                return r;
            break;
        default:
            return 0; /* PS_DONE */
        }
    }
}

/* The size of the request http_parser_take builds. */
static size_t request_size(const http_parser_t *p)
{
    size_t size, q_len, i;

    q_len = p->t_len > p->p_len ? p->t_len - p->p_len - 1 : 0;
    size = sizeof(http_request_t) + p->nhidx * sizeof(http_header_t) + p->nsegs * sizeof(char *);
    size += p->m_len + 1 + p->t_len + 1 + p->p_len + 1 + q_len + 1;
    for (i = 0; i < p->nhidx; i++)
        size += p->hidx[i].name_len + 1 + p->hidx[i].val_len + 1;
    size += p->p_len + p->nsegs; /* decoded segments are never longer than the path */
    size += p->body_len + 1;
    return size;
}

int http_parser_next(http_parser_t *p)
{
    int r;

    switch (p->state) {
    case PS_ERROR:
        return HTTP_PARSE_ERROR;
    case PS_DONE:
        return HTTP_PARSE_DONE;
    case PS_HEAD:
        if (p->buf == NULL)
            return HTTP_PARSE_MORE;
        r = scan_head(p);
        if (r != 0)
            return r;
        if (p->state == PS_HEAD)
            return HTTP_PARSE_MORE;
        break;
    default:
        break;
    }
    if (p->state == PS_BODY) {
        if (p->len - p->off - p->head_len < p->clen)
            return HTTP_PARSE_MORE;
        p->body_len = (size_t)p->clen;
        p->rpos = p->head_len + p->body_len;
        p->state = PS_DONE;
    } else if (p->state != PS_DONE) {
        r = chunked(p);
        if (r != 0)
            return r;
        if (p->state != PS_DONE)
            return HTTP_PARSE_MORE;
    }
    p->want_continue = false;
    p->req_size = request_size(p);
    return HTTP_PARSE_DONE;
}

size_t http_parser_request_size(const http_parser_t *p)
{
    return p->state == PS_DONE ? p->req_size : 0;
}

/* Copies len bytes and a NUL at *dst, returns the copy and advances *dst. */
static char *put(char **dst, const char *src, size_t len)
{
    char *s = *dst;

    if (len)
        memcpy(s, src, len);
    s[len] = '\0';
    *dst += len + 1;
    return s;
}

http_request_t *http_parser_take(http_parser_t *p, void *mem)
{
    const char *b = p->buf + p->off;
    const char *tgt = b + p->head_start + p->t_off;
    http_request_t *req = mem;
    http_header_t *hdrs;
    const char **segs;
    char *s;
    size_t i, start, k;
    long dl;

    memset(req, 0, sizeof(*req));
    hdrs = (http_header_t *)(req + 1);
    segs = (const char **)(hdrs + p->nhidx);
    s = (char *)(segs + p->nsegs);

    req->method = put(&s, b + p->head_start, p->m_len);
    req->target = put(&s, tgt, p->t_len);
    req->path = put(&s, tgt, p->p_len);
    req->query = put(&s, p->t_len > p->p_len ? tgt + p->p_len + 1 : "",
                     p->t_len > p->p_len ? p->t_len - p->p_len - 1 : 0);
    req->minor = p->minor;
    req->keep_alive = p->keep_alive;
    for (i = 0; i < p->nhidx; i++) {
        hdrs[i].name = put(&s, b + p->hidx[i].name_off, p->hidx[i].name_len);
        hdrs[i].value = put(&s, b + p->hidx[i].val_off, p->hidx[i].val_len);
    }
    req->headers = hdrs;
    req->nheaders = p->nhidx;
    /* Segments: split the raw path at '/', then decode each (so %2F stays inside its
     * segment). The escapes were checked with the head. */
    k = 0;
    start = 1;
    for (i = 1; i <= p->p_len && k < p->nsegs; i++) {
        if (i == p->p_len || tgt[i] == '/') {
            dl = http__pct_decode(tgt + start, i - start, s, false);
            segs[k++] = s;
            s[dl < 0 ? 0 : dl] = '\0';
            s += (dl < 0 ? 0 : dl) + 1;
            start = i + 1;
        }
    }
    req->segs = segs;
    req->nsegs = k;
    req->body = put(&s, b + p->head_len, p->body_len);
    req->body_len = p->body_len;

    /* Drop the request's bytes; keep the next one's. */
    p->off += p->rpos;
    if (p->off == p->len) {
        free(p->buf);
        p->buf = NULL;
        p->off = p->len = p->cap = 0;
    }
    free(p->hidx);
    p->hidx = NULL;
    p->nhidx = 0;
    p->state = PS_HEAD;
    p->scan = p->line = p->head_start = p->head_len = p->nlines = 0;
    p->body_len = p->rpos = 0;
    p->clen = 0;
    p->chunk_left = 0;
    p->chunked = p->close = false;
    p->keep_alive = true;
    p->req_size = 0;
    return req;
}

size_t http_parser_detach(http_parser_t *p, char **out)
{
    size_t n = http_parser_buffered(p);

    *out = NULL;
    if (n) {
        *out = http__malloc(n);
        memcpy(*out, p->buf + p->off, n);
    }
    http_parser_free(p);
    p->off = 0;
    return n;
}
