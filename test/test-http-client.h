/* A tiny blocking HTTP/1.1 and WebSocket client for the apps/http socket tests
 * (test-http-server.c, test-ws-server.c): the test thread plays the client with plain
 * blocking sockets on 127.0.0.1, reads with a timeout so a missing answer fails the
 * test instead of hanging it, and keeps what it read past one response for the next
 * (pipelining). Header-only: static functions, each file uses what it needs. */
#ifndef HEARTH_TEST_HTTP_CLIENT_H
#define HEARTH_TEST_HTTP_CLIENT_H

#include "task.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define CLI_BUF (256 << 10)

typedef struct cli {
    int fd;
    size_t len;
    char *buf; /* CLI_BUF bytes: read but not yet consumed */
} cli_t;

typedef struct cli_resp {
    int status;
    char head[8192]; /* status line and headers, NUL-terminated */
    char *body;      /* malloc'd, NUL-terminated */
    size_t body_len;
} cli_resp_t;

__attribute__((unused)) static void cli_raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* Connects to 127.0.0.1:port with a 10 s receive timeout. */
__attribute__((unused)) static void cli_connect(cli_t *c, int port)
{
    struct sockaddr_in sa;
    struct timeval tv = {10, 0};
    int one = 1;

    memset(c, 0, sizeof(*c));
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(c->fd, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_OK(connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)));
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->buf = malloc(CLI_BUF);
    ASSERT_NOT_NULL(c->buf);
}

__attribute__((unused)) static void cli_close(cli_t *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->buf);
    c->buf = NULL;
}

__attribute__((unused)) static void cli_send(cli_t *c, const void *data, size_t len)
{
    const char *p = data;
    ssize_t n;

    while (len > 0) {
        n = send(c->fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        ASSERT_GT(n, 0);
        p += n;
        len -= (size_t)n;
    }
}

__attribute__((unused)) static void cli_sends(cli_t *c, const char *s)
{
    cli_send(c, s, strlen(s));
}

/* Reads more bytes into the buffer. Returns the count, 0 at EOF, -1 on timeout or
 * error. */
static ssize_t cli_fill(cli_t *c)
{
    ssize_t n;

    ASSERT_LT(c->len, CLI_BUF);
    do
        n = recv(c->fd, c->buf + c->len, CLI_BUF - c->len, 0);
    while (n < 0 && errno == EINTR);
    if (n > 0)
        c->len += (size_t)n;
    return n;
}

static void cli_consume(cli_t *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}

/* Ensures n bytes are buffered. Returns false at EOF or timeout. */
static bool cli_need(cli_t *c, size_t n)
{
    while (c->len < n)
        if (cli_fill(c) <= 0)
            return false;
    return true;
}

/* True once the peer has closed: reads (and drops) until EOF, within the timeout. */
__attribute__((unused)) static bool cli_wait_eof(cli_t *c)
{
    for (;;) {
        ssize_t n;

        c->len = 0;
        n = cli_fill(c);
        if (n == 0)
            return true;
        if (n < 0)
            return errno == ECONNRESET;
    }
}

/* The value of header name in r->head (copied into out), or NULL. */
__attribute__((unused)) static const char *cli_header(const cli_resp_t *r, const char *name,
                                                      char *out, size_t size)
{
    const char *p = strstr(r->head, "\r\n");
    size_t nl = strlen(name);

    while (p != NULL && p[2] != '\0') {
        const char *line = p + 2, *end = strstr(line, "\r\n");

        if (end == NULL)
            break;
        if ((size_t)(end - line) > nl && line[nl] == ':' && strncasecmp(line, name, nl) == 0) {
            const char *v = line + nl + 1;
            size_t n;

            while (*v == ' ')
                v++;
            n = (size_t)(end - v) < size - 1 ? (size_t)(end - v) : size - 1;
            memcpy(out, v, n);
            out[n] = '\0';
            return out;
        }
        p = end;
    }
    return NULL;
}

/* Reads one response (Content-Length bodies only; none for 1xx, 204, 304 or a HEAD
 * when head). Returns false at EOF or timeout before a whole response. */
__attribute__((unused)) static bool cli_response(cli_t *c, cli_resp_t *r, bool head)
{
    char *end, val[32];
    size_t hl;

    memset(r, 0, sizeof(*r));
    for (;;) {
        end = c->len >= 4 ? memmem(c->buf, c->len, "\r\n\r\n", 4) : NULL;
        if (end != NULL)
            break;
        if (cli_fill(c) <= 0)
            return false;
    }
    hl = (size_t)(end - c->buf) + 4;
    ASSERT_LT(hl, sizeof(r->head));
    memcpy(r->head, c->buf, hl);
    r->head[hl] = '\0';
    ASSERT(strncmp(r->head, "HTTP/1.1 ", 9) == 0);
    r->status = atoi(r->head + 9);
    cli_consume(c, hl);
    if (!head && r->status >= 200 && r->status != 204 && r->status != 304 &&
        cli_header(r, "Content-Length", val, sizeof(val)) != NULL)
        r->body_len = (size_t)strtoull(val, NULL, 10);
    r->body = malloc(r->body_len + 1);
    ASSERT_NOT_NULL(r->body);
    if (!cli_need(c, r->body_len)) {
        free(r->body);
        r->body = NULL;
        return false;
    }
    memcpy(r->body, c->buf, r->body_len);
    r->body[r->body_len] = '\0';
    cli_consume(c, r->body_len);
    return true;
}

__attribute__((unused)) static void cli_resp_free(cli_resp_t *r)
{
    free(r->body);
    r->body = NULL;
}

/* ---- WebSocket ---------------------------------------------------------------------- */

/* Upgrades c on path (with its query). Asserts a 101 with the right accept key. */
__attribute__((unused)) static void cli_ws_handshake(cli_t *c, const char *path)
{
    char req[512], val[64];
    cli_resp_t r;

    snprintf(req, sizeof(req),
             "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
             "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
             "Sec-WebSocket-Version: 13\r\n\r\n",
             path);
    cli_sends(c, req);
    ASSERT(cli_response(c, &r, true));
    ASSERT_EQ(101, r.status);
    ASSERT_STR_EQ("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
                  cli_header(&r, "Sec-WebSocket-Accept", val, sizeof(val)));
    cli_resp_free(&r);
}

/* Sends one frame: b0 is FIN/RSV/opcode; masked unless unmasked. */
__attribute__((unused)) static void cli_ws_send_raw(cli_t *c, int b0, const void *data, size_t n,
                                                    bool unmasked)
{
    static const uint8_t key[4] = {0xa1, 0x5b, 0x02, 0xee};
    uint8_t *f = malloc(n + 14);
    size_t h = 0;

    ASSERT_NOT_NULL(f);
    f[h++] = (uint8_t)b0;
    if (n < 126) {
        f[h++] = (uint8_t)((unmasked ? 0 : 0x80) | n);
    } else if (n <= 0xFFFF) {
        f[h++] = (uint8_t)((unmasked ? 0 : 0x80) | 126);
        f[h++] = (uint8_t)(n >> 8);
        f[h++] = (uint8_t)n;
    } else {
        f[h++] = (uint8_t)((unmasked ? 0 : 0x80) | 127);
        for (int i = 0; i < 8; i++)
            f[h++] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
    }
    if (!unmasked) {
        memcpy(f + h, key, 4);
        h += 4;
    }
    for (size_t i = 0; i < n; i++)
        f[h + i] = ((const uint8_t *)data)[i] ^ (unmasked ? 0 : key[i & 3]);
    cli_send(c, f, h + n);
    free(f);
}

__attribute__((unused)) static void cli_ws_send(cli_t *c, int opcode, const void *data, size_t n)
{
    cli_ws_send_raw(c, 0x80 | opcode, data, n, false);
}

__attribute__((unused)) static void cli_ws_text(cli_t *c, const char *s)
{
    cli_ws_send(c, 1, s, strlen(s));
}

/* Reads one server frame: its opcode (FIN asserted, no mask asserted) and payload
 * (malloc'd, NUL-terminated, in *data). Returns -1 at EOF or timeout. */
__attribute__((unused)) static int cli_ws_recv(cli_t *c, char **data, size_t *len)
{
    size_t h = 2, n;
    int op;

    *data = NULL;
    *len = 0;
    if (!cli_need(c, 2))
        return -1;
    ASSERT_EQ(0x80, (uint8_t)c->buf[0] & 0xF0); /* FIN, no RSV */
    ASSERT_EQ(0, (uint8_t)c->buf[1] & 0x80);    /* servers do not mask */
    op = c->buf[0] & 0x0F;
    n = (uint8_t)c->buf[1] & 0x7F;
    if (n == 126) {
        if (!cli_need(c, 4))
            return -1;
        n = (size_t)(uint8_t)c->buf[2] << 8 | (uint8_t)c->buf[3];
        h = 4;
    } else if (n == 127) {
        if (!cli_need(c, 10))
            return -1;
        n = 0;
        for (int i = 0; i < 8; i++)
            n = n << 8 | (uint8_t)c->buf[2 + i];
        h = 10;
    }
    if (!cli_need(c, h + n))
        return -1;
    *data = malloc(n + 1);
    ASSERT_NOT_NULL(*data);
    memcpy(*data, c->buf + h, n);
    (*data)[n] = '\0';
    *len = n;
    cli_consume(c, h + n);
    return op;
}

/* Reads a frame and asserts it is text equal to expect. */
__attribute__((unused)) static void cli_ws_expect_text(cli_t *c, const char *expect)
{
    char *d;
    size_t n;

    ASSERT_EQ(1, cli_ws_recv(c, &d, &n));
    ASSERT_STR_EQ(expect, d);
    free(d);
}

/* Reads a frame and asserts it is a close with code (and reason, if not NULL). */
__attribute__((unused)) static void cli_ws_expect_close(cli_t *c, int code, const char *reason)
{
    char *d;
    size_t n;

    ASSERT_EQ(8, cli_ws_recv(c, &d, &n));
    ASSERT_GE(n, 2);
    ASSERT_EQ(code, (uint8_t)d[0] << 8 | (uint8_t)d[1]);
    if (reason != NULL)
        ASSERT_STR_EQ(reason, d + 2);
    free(d);
}

#endif /* HEARTH_TEST_HTTP_CLIENT_H */
