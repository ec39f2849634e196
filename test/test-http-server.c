/* Tests of the HTTP side of apps/http over real sockets: a server with a few routes
 * on 127.0.0.1 (a port the kernel picks), the test thread as a blocking client. Keep-
 * alive and pipelined requests answered in order, 404/405, HEAD, limits (431, 413,
 * 400 and a close), a crashing handler (500), chunked bodies and 100-continue, the
 * idle timeout, pipelining far past the read-pause threshold, static files. */
#include "test-http-client.h"

#include "http/http.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

static void h_hello(const http_request_t *req, http_response_t *res, void *udata)
{
    (void)req, (void)udata;
    http_response_body(res, "text/plain", "hello", 5);
}

/* Echoes the body, with the method and a header of the request in headers. */
static void h_echo(const http_request_t *req, http_response_t *res, void *udata)
{
    const char *ct = http_request_header(req, "Content-Type");

    (void)udata;
    http_response_header(res, "X-Method", req->method);
    http_response_header(res, "X-RateLimit-Remaining", "4");
    http_response_body(res, ct ? ct : "application/octet-stream", req->body, req->body_len);
}

/* Sleeps {ms} milliseconds, then answers with them: later requests must wait. */
static void h_slow(const http_request_t *req, http_response_t *res, void *udata)
{
    const char *ms = http_request_param(req, "ms");

    (void)udata;
    hearth_sleep(atoi(ms));
    http_response_body(res, "text/plain", ms, strlen(ms));
}

static void h_user(const http_request_t *req, http_response_t *res, void *udata)
{
    char json[128];

    (void)udata;
    snprintf(json, sizeof(json), "{\"id\": \"%s\"}", http_request_param(req, "user_id"));
    http_response_json(res, 200, json);
}

static void h_crash(const http_request_t *req, http_response_t *res, void *udata)
{
    (void)req, (void)res, (void)udata;
    hearth_exit(HEARTH_CRASH);
}

static void h_nothing(const http_request_t *req, http_response_t *res, void *udata)
{
    (void)req, (void)res, (void)udata;
}

static http_server_t srv;
static char static_dir[64];

/* Starts the runtime and a server with the routes above. */
static int start(uint32_t idle_ms)
{
    http_router_t *r = http_router_new();

    ASSERT_OK(hearth_start(NULL));
    ASSERT_OK(http_router_add(r, "GET", "/hello", h_hello, NULL));
    ASSERT_OK(http_router_add(r, "POST", "/echo", h_echo, NULL));
    ASSERT_OK(http_router_add(r, "PUT", "/echo", h_echo, NULL));
    ASSERT_OK(http_router_add(r, "GET", "/slow/{ms}", h_slow, NULL));
    ASSERT_OK(http_router_add(r, "GET", "/users/{user_id}", h_user, NULL));
    ASSERT_OK(http_router_add(r, "GET", "/crash", h_crash, NULL));
    ASSERT_OK(http_router_add(r, "DELETE", "/nothing", h_nothing, NULL));
    ASSERT_OK(http_router_add(r, "GET", "/static/{*path}", http_static_handler, static_dir));
    memset(&srv, 0, sizeof(srv));
    srv.bind = "127.0.0.1";
    srv.router = r;
    srv.limits.max_head = 4096;
    srv.limits.max_body = 64 << 10;
    srv.limits.idle_ms = idle_ms;
    ASSERT_OK(http_listener_start(&srv, 0, NULL));
    ASSERT_GT(srv.bound_port, 0);
    return srv.bound_port;
}

static void stop(void)
{
    ASSERT_OK(hearth_stop());
    http_router_free(srv.router);
}

/* One request, one response, on a new connection. */
static void roundtrip(int port, const char *req, cli_resp_t *r)
{
    cli_t c;

    cli_connect(&c, port);
    cli_sends(&c, req);
    if (!cli_response(&c, r, strncmp(req, "HEAD", 4) == 0))
        test__fail(__FILE__, __LINE__, "no response to: %s", req);
    cli_close(&c);
}

TEST_IMPL(http_server_routes)
{
    int port = start(0);
    char val[64];
    cli_resp_t r;

    roundtrip(port, "GET /hello HTTP/1.1\r\nHost: h\r\n\r\n", &r);
    ASSERT_EQ(200, r.status);
    ASSERT_STR_EQ("hello", r.body);
    ASSERT_STR_EQ("text/plain", cli_header(&r, "Content-Type", val, sizeof(val)));
    ASSERT_NOT_NULL(cli_header(&r, "Date", val, sizeof(val)));
    cli_resp_free(&r);

    roundtrip(port, "GET /users/42 HTTP/1.1\r\nHost: h\r\n\r\n", &r);
    ASSERT_EQ(200, r.status);
    ASSERT_STR_EQ("{\"id\": \"42\"}", r.body);
    ASSERT_STR_EQ("application/json", cli_header(&r, "Content-Type", val, sizeof(val)));
    cli_resp_free(&r);

    roundtrip(port,
              "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
              "Content-Length: 12\r\n\r\n{\"a\": \"b c\"}",
              &r);
    ASSERT_EQ(200, r.status);
    ASSERT_STR_EQ("{\"a\": \"b c\"}", r.body);
    ASSERT_STR_EQ("POST", cli_header(&r, "X-Method", val, sizeof(val)));
    ASSERT_STR_EQ("4", cli_header(&r, "X-RateLimit-Remaining", val, sizeof(val)));
    cli_resp_free(&r);

    /* Unknown path: Discord's error shape. Known path, other method: 405 and Allow. */
    roundtrip(port, "GET /nope HTTP/1.1\r\nHost: h\r\n\r\n", &r);
    ASSERT_EQ(404, r.status);
    ASSERT_STR_EQ("{\"code\": 0, \"message\": \"404: Not Found\"}", r.body);
    cli_resp_free(&r);
    roundtrip(port, "DELETE /hello HTTP/1.1\r\nHost: h\r\n\r\n", &r);
    ASSERT_EQ(405, r.status);
    ASSERT_STR_EQ("GET, HEAD", cli_header(&r, "Allow", val, sizeof(val)));
    ASSERT_STR_EQ("{\"code\": 0, \"message\": \"405: Method Not Allowed\"}", r.body);
    cli_resp_free(&r);

    /* HEAD: GET's headers, no body. A handler that sets nothing: 204. */
    roundtrip(port, "HEAD /hello HTTP/1.1\r\nHost: h\r\n\r\n", &r);
    ASSERT_EQ(200, r.status);
    ASSERT_STR_EQ("5", cli_header(&r, "Content-Length", val, sizeof(val)));
    ASSERT_EQ(0, r.body_len);
    cli_resp_free(&r);
    roundtrip(port, "DELETE /nothing HTTP/1.1\r\nHost: h\r\n\r\n", &r);
    ASSERT_EQ(204, r.status);
    ASSERT_NULL(cli_header(&r, "Content-Length", val, sizeof(val)));
    cli_resp_free(&r);
    stop();
    return 0;
}

TEST_IMPL(http_server_keepalive_pipelining)
{
    int port = start(0);
    cli_resp_t r;
    cli_t c;

    /* Several requests, one after the other, on one connection. */
    cli_connect(&c, port);
    for (int i = 0; i < 5; i++) {
        cli_sends(&c, "GET /hello HTTP/1.1\r\nHost: h\r\n\r\n");
        ASSERT(cli_response(&c, &r, false));
        ASSERT_EQ(200, r.status);
        cli_resp_free(&r);
    }
    /* Pipelined in one write: answered in order although the first is the slowest. */
    cli_sends(&c, "GET /slow/100 HTTP/1.1\r\nHost: h\r\n\r\n"
                  "GET /slow/0 HTTP/1.1\r\nHost: h\r\n\r\n"
                  "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
                  "GET /nope HTTP/1.1\r\nHost: h\r\n\r\n"
                  "GET /users/7 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    ASSERT(cli_response(&c, &r, false));
    ASSERT_STR_EQ("100", r.body);
    cli_resp_free(&r);
    ASSERT(cli_response(&c, &r, false));
    ASSERT_STR_EQ("0", r.body);
    cli_resp_free(&r);
    ASSERT(cli_response(&c, &r, false));
    ASSERT_STR_EQ("abc", r.body);
    cli_resp_free(&r);
    ASSERT(cli_response(&c, &r, false));
    ASSERT_EQ(404, r.status);
    cli_resp_free(&r);
    ASSERT(cli_response(&c, &r, false));
    ASSERT_STR_EQ("{\"id\": \"7\"}", r.body);
    ASSERT_NOT_NULL(strstr(r.head, "Connection: close\r\n"));
    cli_resp_free(&r);
    /* Connection: close was honoured. */
    ASSERT(cli_wait_eof(&c));
    cli_close(&c);

    /* HTTP/1.0 closes after one response unless asked to keep alive. */
    cli_connect(&c, port);
    cli_sends(&c, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    ASSERT(cli_response(&c, &r, false));
    ASSERT_NOT_NULL(strstr(r.head, "Connection: keep-alive\r\n"));
    cli_resp_free(&r);
    cli_sends(&c, "GET /hello HTTP/1.0\r\n\r\n");
    ASSERT(cli_response(&c, &r, false));
    ASSERT_EQ(200, r.status);
    cli_resp_free(&r);
    ASSERT(cli_wait_eof(&c));
    cli_close(&c);
    stop();
    return 0;
}

/* Thousands of pipelined requests sent without reading: the server pauses reading
 * past its threshold instead of buffering them all, and answers every one in order. */
TEST_IMPL(http_server_pipeline_flood)
{
    int port = start(0);
    size_t n = test_scaled(5000), i, len = 0;
    char *reqs = malloc(n * 64);
    cli_resp_t r;
    cli_t c;

    for (i = 0; i < n; i++)
        len += (size_t)sprintf(reqs + len, "GET /users/%zu HTTP/1.1\r\nHost: h\r\n\r\n", i);
    cli_connect(&c, port);
    /* The server writes while we write: a sender thread would be needed if both
     * kernel buffers filled, so send in slices and read the answers between. */
    for (size_t off = 0, got = 0; got < n;) {
        size_t slice = len - off < 32768 ? len - off : 32768;
        char want[64];

        if (slice > 0) {
            cli_send(&c, reqs + off, slice);
            off += slice;
        }
        while (got < n) {
            struct pollfd pfd = {c.fd, POLLIN, 0};

            if (c.len == 0 && off < len && poll(&pfd, 1, 0) == 0)
                break; /* nothing to read yet: send more */
            ASSERT(cli_response(&c, &r, false));
            snprintf(want, sizeof(want), "{\"id\": \"%zu\"}", got);
            ASSERT_STR_EQ(want, r.body);
            cli_resp_free(&r);
            got++;
        }
    }
    cli_close(&c);
    free(reqs);
    stop();
    return 0;
}

TEST_IMPL(http_server_limits)
{
    int port = start(0);
    char *big = malloc(16384);
    cli_resp_t r;
    cli_t c;
    size_t n;

    /* Headers past max_head (4 KiB here): 431, then the connection closes. */
    cli_connect(&c, port);
    n = (size_t)sprintf(big, "GET /hello HTTP/1.1\r\nHost: h\r\nX-Big: ");
    memset(big + n, 'x', 8000);
    memcpy(big + n + 8000, "\r\n\r\n", 5);
    cli_sends(&c, big);
    ASSERT(cli_response(&c, &r, false));
    ASSERT_EQ(431, r.status);
    ASSERT_STR_EQ("{\"code\": 0, \"message\": \"431: Request Header Fields Too Large\"}", r.body);
    cli_resp_free(&r);
    ASSERT(cli_wait_eof(&c));
    cli_close(&c);

    /* A body past max_body (64 KiB here): 413 from the Content-Length alone. */
    cli_connect(&c, port);
    cli_sends(&c, "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 70000\r\n\r\n");
    ASSERT(cli_response(&c, &r, false));
    ASSERT_EQ(413, r.status);
    cli_resp_free(&r);
    ASSERT(cli_wait_eof(&c));
    cli_close(&c);

    /* Malformed: 400 and close, after the good request before it was answered. */
    cli_connect(&c, port);
    cli_sends(&c, "GET /hello HTTP/1.1\r\nHost: h\r\n\r\nGET /hello HTTP/1.1\nHost: h\n\n");
    ASSERT(cli_response(&c, &r, false));
    ASSERT_EQ(200, r.status);
    cli_resp_free(&r);
    ASSERT(cli_response(&c, &r, false));
    ASSERT_EQ(400, r.status);
    cli_resp_free(&r);
    ASSERT(cli_wait_eof(&c));
    cli_close(&c);

    roundtrip(port, "GET /hello HTTP/3.0\r\nHost: h\r\n\r\n", &r);
    ASSERT_EQ(505, r.status);
    cli_resp_free(&r);
    roundtrip(port, "POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", &r);
    ASSERT_EQ(501, r.status);
    cli_resp_free(&r);
    free(big);
    stop();
    return 0;
}

TEST_IMPL(http_server_crash)
{
    int port = start(0);
    cli_resp_t r;
    cli_t c;

    cli_connect(&c, port);
    cli_sends(&c, "GET /crash HTTP/1.1\r\nHost: h\r\n\r\n");
    ASSERT(cli_response(&c, &r, false));
    ASSERT_EQ(500, r.status);
    ASSERT_STR_EQ("{\"code\": 0, \"message\": \"500: Internal Server Error\"}", r.body);
    cli_resp_free(&r);
    ASSERT(cli_wait_eof(&c));
    cli_close(&c);
    /* The server goes on. */
    roundtrip(port, "GET /hello HTTP/1.1\r\nHost: h\r\n\r\n", &r);
    ASSERT_EQ(200, r.status);
    cli_resp_free(&r);
    stop();
    return 0;
}

TEST_IMPL(http_server_chunked_continue)
{
    int port = start(0);
    cli_resp_t r;
    cli_t c;

    cli_connect(&c, port);
    cli_sends(&c, "PUT /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "5\r\nhello\r\n");
    usleep(20000);
    cli_sends(&c, "1;x=y\r\n \r\n5\r\nworld\r\n0\r\n\r\n");
    ASSERT(cli_response(&c, &r, false));
    ASSERT_EQ(200, r.status);
    ASSERT_STR_EQ("hello world", r.body);
    cli_resp_free(&r);

    /* Expect: 100-continue gets a 100 before the body is sent. */
    cli_sends(&c, "POST /echo HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
                  "Content-Length: 4\r\n\r\n");
    ASSERT(cli_response(&c, &r, false));
    ASSERT_EQ(100, r.status);
    cli_resp_free(&r);
    cli_sends(&c, "body");
    ASSERT(cli_response(&c, &r, false));
    ASSERT_EQ(200, r.status);
    ASSERT_STR_EQ("body", r.body);
    cli_resp_free(&r);
    cli_close(&c);
    stop();
    return 0;
}

TEST_IMPL(http_server_idle_timeout)
{
    int port = start(200);
    uint64_t t0;
    cli_resp_t r;
    cli_t c;

    cli_connect(&c, port);
    cli_sends(&c, "GET /hello HTTP/1.1\r\nHost: h\r\n\r\n");
    ASSERT(cli_response(&c, &r, false));
    cli_resp_free(&r);
    t0 = hearth_now_ms();
    ASSERT(cli_wait_eof(&c));
    ASSERT_GE(hearth_now_ms() - t0, 150);
    cli_close(&c);
    /* A connection that never sends anything is closed too. */
    cli_connect(&c, port);
    ASSERT(cli_wait_eof(&c));
    cli_close(&c);
    stop();
    return 0;
}

static void write_file(const char *path, const char *data)
{
    FILE *f = fopen(path, "w");

    ASSERT_NOT_NULL(f);
    fputs(data, f);
    fclose(f);
}

TEST_IMPL(http_server_static)
{
    char path[128];
    cli_resp_t r;
    char val[64];
    int port;

    snprintf(static_dir, sizeof(static_dir), "/tmp/hearth-static-XXXXXX");
    ASSERT_NOT_NULL(mkdtemp(static_dir));
    snprintf(path, sizeof(path), "%s/index.html", static_dir);
    write_file(path, "<h1>hearth</h1>");
    snprintf(path, sizeof(path), "%s/js", static_dir);
    ASSERT_OK(mkdir(path, 0755));
    snprintf(path, sizeof(path), "%s/js/app.js", static_dir);
    write_file(path, "console.log(1);");
    snprintf(path, sizeof(path), "%s/.secret", static_dir);
    write_file(path, "no");
    port = start(0);

    roundtrip(port, "GET /static/js/app.js HTTP/1.1\r\nHost: h\r\n\r\n", &r);
    ASSERT_EQ(200, r.status);
    ASSERT_STR_EQ("console.log(1);", r.body);
    ASSERT_STR_EQ("text/javascript; charset=utf-8",
                  cli_header(&r, "Content-Type", val, sizeof(val)));
    cli_resp_free(&r);
    roundtrip(port, "GET /static/ HTTP/1.1\r\nHost: h\r\n\r\n", &r);
    ASSERT_EQ(200, r.status);
    ASSERT_STR_EQ("<h1>hearth</h1>", r.body);
    ASSERT_STR_EQ("text/html; charset=utf-8", cli_header(&r, "Content-Type", val, sizeof(val)));
    cli_resp_free(&r);
    roundtrip(port, "GET /static/js HTTP/1.1\r\nHost: h\r\n\r\n", &r);
    ASSERT_EQ(404, r.status); /* a directory without index.html */
    cli_resp_free(&r);
    /* Traversal, encoded or not, and hidden files: 404. */
    static const char *bad[] = {"/static/../test-http-server.c",
                                "/static/js/../../etc/passwd",
                                "/static/%2e%2e/%2e%2e/etc/passwd",
                                "/static/js%2F..%2F..%2Fetc%2Fpasswd",
                                "/static/.secret",
                                "/static/js//app.js",
                                "/static/nope.txt"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char req[256];

        snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: h\r\n\r\n", bad[i]);
        roundtrip(port, req, &r);
        ASSERT_EQ(404, r.status);
        cli_resp_free(&r);
    }
    stop();
    snprintf(path, sizeof(path), "rm -rf %s", static_dir);
    ASSERT_OK(system(path));
    return 0;
}
