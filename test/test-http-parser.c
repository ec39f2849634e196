/* Unit tests of apps/http without sockets: the request parser (every split of the
 * input, pipelining, limits, malformed input), route matching, the query string and
 * response serialization. */
#include "task.h"

#include "http/internal.h"

#include <stdlib.h>
#include <string.h>

/* Feeds len bytes of s in pieces of piece bytes (0: all at once), calling next after
 * each; returns the last next's result. Every next before the last piece must say
 * MORE (a request is not complete before its last byte). */
static int feed_pieces(http_parser_t *p, const char *s, size_t len, size_t piece)
{
    size_t off = 0, n;
    int r = HTTP_PARSE_MORE;

    if (piece == 0)
        piece = len;
    while (off < len) {
        n = len - off < piece ? len - off : piece;
        if (http_parser_feed(p, s + off, n) != 0)
            return HTTP_PARSE_ERROR;
        off += n;
        r = http_parser_next(p);
        if (r != HTTP_PARSE_MORE)
            break;
    }
    return r;
}

static http_request_t *take(http_parser_t *p)
{
    void *mem = malloc(http_parser_request_size(p));

    ASSERT_NOT_NULL(mem);
    return http_parser_take(p, mem);
}

/* Parses s (whole) and returns the status of the error it must produce. */
static int parse_error(const char *s, const http_limits_t *lim)
{
    http_parser_t p;
    int r, status;

    http_parser_init(&p, lim);
    r = feed_pieces(&p, s, strlen(s), 0);
    if (r != HTTP_PARSE_ERROR) {
        fprintf(stderr, "no error for: %s\n", s);
        ASSERT_EQ(HTTP_PARSE_ERROR, r);
    }
    status = p.status;
    ASSERT_NOT_NULL(p.error);
    http_parser_free(&p);
    return status;
}

TEST_IMPL(http_parser_simple)
{
    static const char req[] = "GET /api/v10/users/%40me?with_counts=true&x=a+b HTTP/1.1\r\n"
                              "Host: localhost\r\n"
                              "Authorization:   Bot abc.def  \r\n"
                              "X-Empty:\r\n"
                              "\r\n";
    http_parser_t p;
    http_request_t *r;

    http_parser_init(&p, NULL);
    ASSERT_EQ(HTTP_PARSE_DONE, feed_pieces(&p, req, sizeof(req) - 1, 0));
    r = take(&p);
    ASSERT_STR_EQ("GET", r->method);
    ASSERT_STR_EQ("/api/v10/users/%40me?with_counts=true&x=a+b", r->target);
    ASSERT_STR_EQ("/api/v10/users/%40me", r->path);
    ASSERT_STR_EQ("with_counts=true&x=a+b", r->query);
    ASSERT_EQ(1, r->minor);
    ASSERT(r->keep_alive);
    ASSERT_EQ(3, r->nheaders);
    ASSERT_STR_EQ("Host", r->headers[0].name);
    ASSERT_STR_EQ("Bot abc.def", http_request_header(r, "authorization"));
    ASSERT_STR_EQ("", http_request_header(r, "x-empty"));
    ASSERT_NULL(http_request_header(r, "Content-Type"));
    ASSERT_EQ(4, r->nsegs);
    ASSERT_STR_EQ("api", r->segs[0]);
    ASSERT_STR_EQ("@me", r->segs[3]);
    ASSERT_EQ(0, r->body_len);
    ASSERT_STR_EQ("", r->body);
    /* Nothing buffered: the parser holds no memory. */
    ASSERT_EQ(0, http_parser_buffered(&p));
    ASSERT_NULL(p.buf);
    ASSERT_EQ(HTTP_PARSE_MORE, http_parser_next(&p));
    free(r);
    http_parser_free(&p);
    return 0;
}

/* Every request below, split at every piece size, parses to the same result. */
TEST_IMPL(http_parser_pieces)
{
    static const char *reqs[] = {
        "POST /channels/1/messages HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n"
        "Content-Type: application/json\r\n\r\n{\"a\":\"bcd\"}",
        "PUT /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        "4;ext=1\r\n{\"a\"\r\nB\r\n:\"bcdefghij\r\n1\r\n}\r\n0\r\nTrailer: yes\r\n\r\n",
        "\r\nGET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    };
    static const char *bodies[] = {"{\"a\":\"bcd\"}", "{\"a\":\"bcdefghij}", ""};
    static const char *targets[] = {"/channels/1/messages", "/x", "/"};
    http_parser_t p;
    http_request_t *r;
    size_t len, piece;

    for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
        len = strlen(reqs[i]);
        for (piece = 1; piece <= len; piece++) {
            http_parser_init(&p, NULL);
            ASSERT_EQ(HTTP_PARSE_DONE, feed_pieces(&p, reqs[i], len, piece));
            r = take(&p);
            ASSERT_STR_EQ(targets[i], r->target);
            ASSERT_EQ(strlen(bodies[i]), r->body_len);
            ASSERT_STR_EQ(bodies[i], r->body);
            ASSERT(r->keep_alive);
            ASSERT_EQ(0, http_parser_buffered(&p));
            free(r);
            http_parser_free(&p);
        }
    }
    return 0;
}

TEST_IMPL(http_parser_pipeline)
{
    static const char reqs[] = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
                               "\r\n" /* a stray CRLF between requests is allowed */
                               "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz"
                               "DELETE /c HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
                               "GET /d HT";
    static const char *paths[] = {"/a", "/b", "/c"};
    http_parser_t p;
    http_request_t *r;

    http_parser_init(&p, NULL);
    ASSERT_OK(http_parser_feed(&p, reqs, sizeof(reqs) - 1));
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(HTTP_PARSE_DONE, http_parser_next(&p));
        r = take(&p);
        ASSERT_STR_EQ(paths[i], r->path);
        ASSERT_EQ(i != 2, r->keep_alive);
        if (i == 1)
            ASSERT_STR_EQ("xyz", r->body);
        free(r);
    }
    ASSERT_EQ(HTTP_PARSE_MORE, http_parser_next(&p));
    ASSERT_EQ(9, http_parser_buffered(&p));
    ASSERT_OK(http_parser_feed(&p, "TP/1.1\r\nHost: h\r\n\r\n", 19));
    ASSERT_EQ(HTTP_PARSE_DONE, http_parser_next(&p));
    r = take(&p);
    ASSERT_STR_EQ("/d", r->path);
    free(r);
    http_parser_free(&p);
    return 0;
}

TEST_IMPL(http_parser_limits)
{
    http_limits_t lim = {0};
    char *big;
    size_t i, n;

    lim.max_head = 1024;
    lim.max_headers = 8;
    lim.max_body = 100;

    /* Headers over max_head: 431 as soon as the limit passes, without an end. */
    big = malloc(4096);
    n = (size_t)sprintf(big, "GET / HTTP/1.1\r\nHost: h\r\nX-Big: ");
    memset(big + n, 'a', 2000);
    big[n + 2000] = '\0';
    ASSERT_EQ(431, parse_error(big, &lim));
    /* A request line that never ends: 414. */
    n = (size_t)sprintf(big, "GET /");
    memset(big + n, 'a', 2000);
    big[n + 2000] = '\0';
    ASSERT_EQ(414, parse_error(big, &lim));
    /* Too many header lines. */
    n = (size_t)sprintf(big, "GET / HTTP/1.1\r\nHost: h\r\n");
    for (i = 0; i < 9; i++)
        n += (size_t)sprintf(big + n, "X-%zu: y\r\n", i);
    sprintf(big + n, "\r\n");
    ASSERT_EQ(431, parse_error(big, &lim));
    /* Exactly max_headers is fine. */
    {
        http_parser_t p;

        n = (size_t)sprintf(big, "GET / HTTP/1.1\r\nHost: h\r\n");
        for (i = 0; i < 7; i++)
            n += (size_t)sprintf(big + n, "X-%zu: y\r\n", i);
        n += (size_t)sprintf(big + n, "\r\n");
        http_parser_init(&p, &lim);
        ASSERT_EQ(HTTP_PARSE_DONE, feed_pieces(&p, big, n, 0));
        http_parser_free(&p);
    }
    /* Bodies over max_body, from Content-Length or chunk sizes, before the bytes. */
    ASSERT_EQ(413, parse_error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 101\r\n\r\n", &lim));
    ASSERT_EQ(413, parse_error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: "
                               "99999999999999999999999\r\n\r\n",
                               &lim));
    ASSERT_EQ(413, parse_error("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "65\r\n",
                               &lim));
    {
        http_parser_t p;

        http_parser_init(&p, &lim);
        n = (size_t)sprintf(big, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                                 "40\r\n");
        memset(big + n, 'z', 64);
        n += 64;
        n += (size_t)sprintf(big + n, "\r\n40\r\n");
        ASSERT_EQ(HTTP_PARSE_ERROR, feed_pieces(&p, big, n, 7));
        ASSERT_EQ(413, p.status);
        http_parser_free(&p);
    }
    /* Feeding far past every limit without calling next is refused too. */
    {
        http_parser_t p;
        char *huge = calloc(1, (size_t)1 << 20);

        http_parser_init(&p, &lim);
        ASSERT_EQ(HTTP_PARSE_ERROR, http_parser_feed(&p, huge, (size_t)1 << 20));
        ASSERT_EQ(413, p.status);
        http_parser_free(&p);
        free(huge);
    }
    free(big);
    return 0;
}

TEST_IMPL(http_parser_malformed)
{
    static const struct {
        const char *req;
        int status;
    } cases[] = {
        {"GET / HTTP/1.1\nHost: h\r\n\r\n", 400}, /* bare LF */
        {"GET / HTTP/1.1\r\nHost: h\n\r\n", 400},
        {"\n", 400},
        {"GET / HTTP/1.1\r\n\r\n", 400}, /* no Host */
        {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
        {"G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
        {" GET / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
        {"GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
        {"GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400},
        {"GET /\r\nHost: h\r\n\r\n", 400},
        {"GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505},
        {"GET / HTTP/0.9\r\nHost: h\r\n\r\n", 505},
        {"GET / HTTP/1.1x\r\nHost: h\r\n\r\n", 400},
        {"GET / http/1.1\r\nHost: h\r\n\r\n", 400},
        {"GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400},
        {"GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400},
        {"GET /a#b HTTP/1.1\r\nHost: h\r\n\r\n", 400},
        {"GET /%zz HTTP/1.1\r\nHost: h\r\n\r\n", 400},
        {"GET /a%2 HTTP/1.1\r\nHost: h\r\n\r\n", 400},
        {"GET /a%00b HTTP/1.1\r\nHost: h\r\n\r\n", 400},
        {"GET /\x7f HTTP/1.1\r\nHost: h\r\n\r\n", 400},
        {"GET /\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\n: h\r\nHost: h\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", 400}, /* obs-fold */
        {"GET / HTTP/1.1\r\nHost: h\r\nX: a\x01b\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1x\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
         400},
        {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
        {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
         "Transfer-Encoding: chunked\r\n\r\n",
         501},
        {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nx\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\nab\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1x\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\n\r\n", 417},
        {"\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int st = parse_error(cases[i].req, NULL);

        if (st != cases[i].status)
            fprintf(stderr, "case %zu: %s\n", i, cases[i].req);
        ASSERT_EQ(cases[i].status, st);
    }
    return 0;
}

TEST_IMPL(http_parser_misc)
{
    http_parser_t p;
    http_request_t *r;
    const char *s;

    /* HTTP/1.0 closes by default, keeps alive when asked; 1.1 closes when asked. */
    s = "GET / HTTP/1.0\r\n\r\n";
    http_parser_init(&p, NULL);
    ASSERT_EQ(HTTP_PARSE_DONE, feed_pieces(&p, s, strlen(s), 0));
    r = take(&p);
    ASSERT(!r->keep_alive);
    ASSERT_EQ(0, r->minor);
    ASSERT_EQ(0, r->nsegs);
    free(r);
    s = "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Close\r\n\r\n";
    ASSERT_EQ(HTTP_PARSE_DONE, feed_pieces(&p, s, strlen(s), 0));
    r = take(&p);
    ASSERT(!r->keep_alive);
    free(r);
    /* HTTP/1.2 is answered as 1.1. */
    s = "GET / HTTP/1.2\r\nHost: h\r\n\r\n";
    ASSERT_EQ(HTTP_PARSE_DONE, feed_pieces(&p, s, strlen(s), 0));
    r = take(&p);
    ASSERT_EQ(1, r->minor);
    free(r);
    /* Segments: decoded one by one; %2F stays inside; a trailing slash adds none. */
    s = "GET /a%20b/c%2Fd//e/?q HTTP/1.1\r\nHost: h\r\n\r\n";
    ASSERT_EQ(HTTP_PARSE_DONE, feed_pieces(&p, s, strlen(s), 0));
    r = take(&p);
    ASSERT_EQ(4, r->nsegs);
    ASSERT_STR_EQ("a b", r->segs[0]);
    ASSERT_STR_EQ("c/d", r->segs[1]);
    ASSERT_STR_EQ("", r->segs[2]);
    ASSERT_STR_EQ("e", r->segs[3]);
    ASSERT_STR_EQ("q", r->query);
    free(r);
    /* OPTIONS * is the one non-path target. */
    s = "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n";
    ASSERT_EQ(HTTP_PARSE_DONE, feed_pieces(&p, s, strlen(s), 0));
    r = take(&p);
    ASSERT_STR_EQ("*", r->path);
    free(r);
    /* Expect: 100-continue is flagged while the body is pending. */
    s = "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n";
    ASSERT_EQ(HTTP_PARSE_MORE, feed_pieces(&p, s, strlen(s), 0));
    ASSERT(p.want_continue);
    p.want_continue = false;
    ASSERT_EQ(HTTP_PARSE_DONE, feed_pieces(&p, "hi", 2, 0));
    r = take(&p);
    ASSERT_STR_EQ("hi", r->body);
    free(r);
    http_parser_free(&p);
    return 0;
}

TEST_IMPL(http_query)
{
    http_request_t req;
    char out[16];

    memset(&req, 0, sizeof(req));
    req.query = "v=10&encoding=json&compress=zlib-stream&flag&e=&sp=a+b%21&big=0123456789abcdef&"
                "bad=%zz&k%65y=x";
    ASSERT_EQ(2, http_query_get(&req, "v", out, sizeof(out)));
    ASSERT_STR_EQ("10", out);
    ASSERT_EQ(4, http_query_get(&req, "encoding", out, sizeof(out)));
    ASSERT_STR_EQ("json", out);
    ASSERT_EQ(11, http_query_get(&req, "compress", out, sizeof(out)));
    ASSERT_EQ(0, http_query_get(&req, "flag", out, sizeof(out)));
    ASSERT_EQ(0, http_query_get(&req, "e", out, sizeof(out)));
    ASSERT_EQ(4, http_query_get(&req, "sp", out, sizeof(out)));
    ASSERT_STR_EQ("a b!", out);
    ASSERT_EQ(-2, http_query_get(&req, "big", out, sizeof(out)));
    ASSERT_EQ(-2, http_query_get(&req, "bad", out, sizeof(out)));
    ASSERT_EQ(1, http_query_get(&req, "key", out, sizeof(out)));
    ASSERT_EQ(-1, http_query_get(&req, "nope", out, sizeof(out)));
    req.query = "";
    ASSERT_EQ(-1, http_query_get(&req, "v", out, sizeof(out)));
    return 0;
}

/* ---- routing ---------------------------------------------------------------------------- */

/* Two handlers with different bodies, so the compiler cannot fold them into one. */
static void h_a(const http_request_t *req, http_response_t *res, void *udata)
{
    (void)req, (void)udata;
    http_response_status(res, 201);
}

static void h_b(const http_request_t *req, http_response_t *res, void *udata)
{
    (void)req, (void)udata;
    http_response_status(res, 202);
}

static int ws_open(ws_conn_t *c, const http_request_t *req, void *udata, void **state)
{
    (void)c, (void)req, (void)udata, (void)state;
    return 0;
}

static int ws_message(ws_conn_t *c, void *state, int opcode, void *data, size_t len)
{
    (void)c, (void)state, (void)opcode, (void)data, (void)len;
    return 0;
}

static const ws_handler_t ws_dummy = {"dummy", ws_open, ws_message, NULL, NULL, NULL, NULL};

/* Routes method and target (built through the parser). */
static http_request_t *routed(const http_router_t *r, const char *method, const char *target,
                              bool upgrade, http_match_t *m)
{
    char buf[512];
    http_parser_t p;
    http_request_t *req;
    int n = snprintf(buf, sizeof(buf), "%s %s HTTP/1.1\r\nHost: h\r\n\r\n", method, target);

    http_parser_init(&p, NULL);
    ASSERT_EQ(HTTP_PARSE_DONE, feed_pieces(&p, buf, (size_t)n, 0));
    req = take(&p);
    http_parser_free(&p);
    http__route(r, req, upgrade, m);
    return req;
}

TEST_IMPL(http_router_match)
{
    http_router_t *r = http_router_new();
    http_request_t *req;
    http_match_t m;

    ASSERT_OK(http_router_add(r, "GET", "/users/{user_id}", h_a, NULL));
    ASSERT_OK(http_router_add(r, "GET", "/users/@me", h_b, NULL));
    ASSERT_OK(http_router_add(r, "PATCH", "/users/@me", h_b, NULL));
    ASSERT_OK(
        http_router_add(r, "GET", "/channels/{channel_id}/messages/{message_id}", h_a, (void *)7));
    ASSERT_OK(http_router_add(
        r, "PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", h_b, NULL));
    ASSERT_OK(http_router_add(r, "GET", "/app/{*path}", h_a, NULL));
    ASSERT_OK(http_router_add(r, "*", "/any", h_a, NULL));
    ASSERT_OK(http_router_ws(r, "/gateway", &ws_dummy, NULL));
    ASSERT_OK(http_router_ws(r, "/", &ws_dummy, NULL));
    ASSERT_OK(http_router_add(r, "GET", "/", h_b, NULL));
    /* Malformed patterns and methods. */
    ASSERT_EQ(HEARTH_EINVAL, http_router_add(r, "GET", "users", h_a, NULL));
    ASSERT_EQ(HEARTH_EINVAL, http_router_add(r, "GET", "/a/{}", h_a, NULL));
    ASSERT_EQ(HEARTH_EINVAL, http_router_add(r, "GET", "/a/{x-y}", h_a, NULL));
    ASSERT_EQ(HEARTH_EINVAL, http_router_add(r, "GET", "/{*a}/b", h_a, NULL));
    ASSERT_EQ(HEARTH_EINVAL, http_router_add(r, "GET", "/a?b", h_a, NULL));
    ASSERT_EQ(HEARTH_EINVAL, http_router_add(r, "G T", "/a", h_a, NULL));
    ASSERT_EQ(HEARTH_EINVAL, http_router_add(r, "GET", "/a", NULL, NULL));

    /* A literal beats a parameter whatever the order they were added in. */
    req = routed(r, "GET", "/users/@me", false, &m);
    ASSERT_EQ(0, m.status);
    ASSERT(m.fn == h_b);
    free(req);
    req = routed(r, "GET", "/users/123/", false, &m);
    ASSERT(m.fn == h_a);
    ASSERT_STR_EQ("123", http_request_param(req, "user_id"));
    free(req);
    req = routed(r, "GET", "/channels/1/messages/2", false, &m);
    ASSERT(m.fn == h_a);
    ASSERT(m.udata == (void *)7);
    ASSERT_STR_EQ("1", http_request_param(req, "channel_id"));
    ASSERT_STR_EQ("2", http_request_param(req, "message_id"));
    ASSERT_NULL(http_request_param(req, "emoji"));
    free(req);
    /* Parameters are decoded segments (an emoji in a reaction path). */
    req = routed(r, "PUT", "/channels/1/messages/2/reactions/%F0%9F%91%8D/@me", false, &m);
    ASSERT(m.fn == h_b);
    ASSERT_STR_EQ("\xF0\x9F\x91\x8D", http_request_param(req, "emoji"));
    free(req);
    req = routed(r, "PUT", "/channels/1/messages/2/reactions/name%3A123/@me", false, &m);
    ASSERT_STR_EQ("name:123", http_request_param(req, "emoji"));
    free(req);
    /* An empty segment is no parameter. */
    req = routed(r, "GET", "/channels//messages/2", false, &m);
    ASSERT_EQ(404, m.status);
    free(req);
    /* 405 lists the methods the path has; HEAD goes to GET. */
    req = routed(r, "DELETE", "/users/@me", false, &m);
    ASSERT_EQ(405, m.status);
    ASSERT_STR_EQ("GET, HEAD, PATCH", m.allow);
    free(req);
    req = routed(r, "HEAD", "/users/@me", false, &m);
    ASSERT_EQ(0, m.status);
    ASSERT(m.fn == h_b);
    free(req);
    req = routed(r, "POST", "/any", false, &m);
    ASSERT_EQ(0, m.status);
    free(req);
    req = routed(r, "GET", "/nope", false, &m);
    ASSERT_EQ(404, m.status);
    free(req);
    /* A tail takes the rest of the path, joined. */
    req = routed(r, "GET", "/app/js/a%20b.js", false, &m);
    ASSERT(m.fn == h_a);
    ASSERT_STR_EQ("js/a b.js", http_request_param(req, "path"));
    free(req);
    req = routed(r, "GET", "/app", false, &m);
    ASSERT_STR_EQ("", http_request_param(req, "path"));
    free(req);
    /* WebSocket routes answer upgrades only; a plain GET goes elsewhere or gets 426. */
    req = routed(r, "GET", "/gateway/?v=10", true, &m);
    ASSERT_EQ(0, m.status);
    ASSERT(m.ws == &ws_dummy);
    free(req);
    req = routed(r, "GET", "/gateway", false, &m);
    ASSERT_EQ(426, m.status);
    free(req);
    req = routed(r, "GET", "/", true, &m);
    ASSERT(m.ws == &ws_dummy);
    free(req);
    req = routed(r, "GET", "/", false, &m);
    ASSERT(m.fn == h_b);
    free(req);
    /* An upgrade asked for on a REST path is ignored. */
    req = routed(r, "GET", "/users/1", true, &m);
    ASSERT(m.fn == h_a);
    free(req);
    http_router_free(r);
    return 0;
}

/* ---- responses ---------------------------------------------------------------------------- */

static char *payload_str(hearth_payload_t *p)
{
    size_t n = hearth_payload_len(p);
    char *s = malloc(n + 1);

    memcpy(s, hearth_payload_data(p), n);
    s[n] = '\0';
    hearth_payload_unref(p);
    return s;
}

TEST_IMPL(http_response_format)
{
    http_response_t res;
    char *s;

    http__response_init(&res);
    http_response_json(&res, 201, "{\"id\":\"1\"}");
    ASSERT_OK(http_response_header(&res, "X-RateLimit-Limit", "5"));
    ASSERT_EQ(HEARTH_EINVAL, http_response_header(&res, "X-Bad", "a\r\nSet-Cookie: x"));
    ASSERT_EQ(HEARTH_EINVAL, http_response_header(&res, "X Bad", "a"));
    ASSERT_EQ(HEARTH_EINVAL, http_response_header(&res, "Content-Length", "3"));
    s = payload_str(http__response_serialize(&res, 1, false, false));
    ASSERT(strncmp(s, "HTTP/1.1 201 Created\r\nDate: ", 28) == 0);
    ASSERT_NOT_NULL(strstr(s, " GMT\r\nContent-Type: application/json\r\nContent-Length: 10\r\n"
                              "X-RateLimit-Limit: 5\r\n\r\n{\"id\":\"1\"}"));
    ASSERT_NULL(strstr(s, "Connection"));
    free(s);
    /* HEAD: the length without the body; close and HTTP/1.0 keep-alive say so. */
    s = payload_str(http__response_serialize(&res, 0, true, false));
    ASSERT_NOT_NULL(strstr(s, "Content-Length: 10\r\n"));
    ASSERT_NOT_NULL(strstr(s, "Connection: keep-alive\r\n\r\n"));
    ASSERT(s[strlen(s) - 1] == '\n');
    free(s);
    http_response_close(&res);
    s = payload_str(http__response_serialize(&res, 1, false, false));
    ASSERT_NOT_NULL(strstr(s, "Connection: close\r\n"));
    free(s);
    http__response_free(&res);

    /* Nothing set: 204, no body, no length. */
    http__response_init(&res);
    s = payload_str(http__response_serialize(&res, 1, false, false));
    ASSERT(strncmp(s, "HTTP/1.1 204 No Content\r\n", 25) == 0);
    ASSERT_NULL(strstr(s, "Content-Length"));
    free(s);
    /* Discord's error shape, escaped. */
    http_response_error(&res, 400, 50035, "Invalid \"Form\" Body\n");
    s = payload_str(http__response_serialize(&res, 1, false, false));
    ASSERT_NOT_NULL(strstr(s, "HTTP/1.1 400 Bad Request\r\n"));
    ASSERT_NOT_NULL(
        strstr(s, "\r\n\r\n{\"code\": 50035, \"message\": \"Invalid \\\"Form\\\" Body\\u000a\"}"));
    free(s);
    http__response_free(&res);

    s = payload_str(http__error_payload(404, 1, true, NULL));
    ASSERT_NOT_NULL(strstr(s, "HTTP/1.1 404 Not Found\r\n"));
    ASSERT_NOT_NULL(strstr(s, "Connection: close\r\n"));
    ASSERT_NOT_NULL(strstr(s, "\r\n\r\n{\"code\": 0, \"message\": \"404: Not Found\"}"));
    free(s);
    return 0;
}
