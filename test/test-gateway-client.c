/* The hub and gateway tests' environment and WebSocket client: see test-gateway.h.
 * Plain blocking sockets with poll() timeouts; the client is only ever used by the
 * test thread. */
#include "test-gateway.h"

#include "hub/etf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- the environment ------------------------------------------------------------------------- */

void gwt_start(gwt_env_t *e, const gateway_config_t *cfg, const hub_config_t *hcfg)
{
    hearth_config_t rc = {0};

    memset(e, 0, sizeof(*e));
    ts_mkdir(e->dir);
    rc.schedulers = 2;
    ASSERT_OK(hearth_start(&rc));
    ASSERT_OK(store_init(e->dir));
    e->db = store_open(e->dir, false);
    ASSERT_NOT_NULL(e->db);
    ASSERT_OK(gateway_init(cfg));
    ASSERT_OK(hub_sup_child_start((void *)hcfg, &e->hubs));
    e->router = http_router_new();
    ASSERT_OK(http_router_ws(e->router, "/", &gateway_ws_handler, NULL));
    ASSERT_OK(http_router_ws(e->router, "/gateway", &gateway_ws_handler, NULL));
    e->srv.bind = "127.0.0.1";
    e->srv.router = e->router;
    ASSERT_OK(http_listener_start(&e->srv, 0, NULL));
    e->port = e->srv.bound_port;
}

void gwt_stop(gwt_env_t *e)
{
    ASSERT_OK(hearth_stop());
    store_close(e->db);
    store_fini();
    http_router_free(e->router);
    ts_rmdir(e->dir);
}

uint64_t gwt_user(gwt_env_t *e, const char *name, char *token)
{
    uint64_t id = ts_user(e->db, name);

    ASSERT_OK(store_token_create(e->db, id, token));
    return id;
}

uint64_t gwt_bot(gwt_env_t *e, uint64_t owner, const char *name, char *token)
{
    json_t *p = json_pack("{s:s}", "name", name), *app, *bot;
    uint64_t id;

    ASSERT_OK(store_app_create(e->db, owner, p, &app));
    ASSERT_OK(store_app_bot_create(e->db, jid(app, "id"), token, &bot));
    id = jid(bot, "id");
    json_decref(p);
    json_decref(app);
    json_decref(bot);
    return id;
}

/* ---- raw I/O ------------------------------------------------------------------------------------
 */

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void write_all(gwc_t *c, const void *data, size_t len)
{
    const char *p = data;
    ssize_t n;

    while (len > 0) {
        n = send(c->fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* the server closed: the reads will tell */
        p += n;
        len -= (size_t)n;
    }
}

/* Reads more bytes into the buffer: 1, 0 at EOF, -1 on timeout. */
static int fill(gwc_t *c, double deadline)
{
    struct pollfd pfd = {c->fd, POLLIN, 0};
    ssize_t n;
    int left;

    for (;;) {
        left = (int)(deadline - now_ms());
        if (left < 0)
            left = 0;
        if (poll(&pfd, 1, left) == 0)
            return -1;
        if (c->cap - c->len < 65536) {
            c->cap = c->cap ? c->cap * 2 : 131072;
            c->buf = realloc(c->buf, c->cap);
            ASSERT_NOT_NULL(c->buf);
        }
        n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        c->len += (size_t)n;
        return 1;
    }
}

static void take(gwc_t *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}

void gwc_connect(gwc_t *c, int port, const char *target)
{
    struct sockaddr_in sa;
    char req[512], *end;
    double deadline;
    int one = 1;

    memset(c, 0, sizeof(*c));
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT(c->fd >= 0);
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_OK(connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)));
    c->etf = strstr(target, "encoding=etf") != NULL;
    c->zlib = strstr(target, "compress=zlib-stream") != NULL;
    if (c->zlib)
        ASSERT_EQ(Z_OK, inflateInit(&c->inf));
    snprintf(req, sizeof(req),
             "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
             "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
             "Sec-WebSocket-Version: 13\r\n\r\n",
             target, port);
    write_all(c, req, strlen(req));
    deadline = now_ms() + 5000;
    for (;;) {
        if (c->len > 0) {
            c->buf[c->len < c->cap ? c->len : c->cap - 1] = '\0';
            end = c->len >= 4 ? memmem(c->buf, c->len, "\r\n\r\n", 4) : NULL;
            if (end != NULL) {
                ASSERT(strncmp((char *)c->buf, "HTTP/1.1 101", 12) == 0);
                take(c, (size_t)(end + 4 - (char *)c->buf));
                return;
            }
        }
        ASSERT_EQ(1, fill(c, deadline));
    }
}

void gwc_send_frame(gwc_t *c, int opcode, const void *data, size_t len)
{
    unsigned char hdr[14], *masked;
    static const unsigned char key[4] = {0x12, 0x34, 0x56, 0x78};
    size_t h = 0, i;

    hdr[h++] = (unsigned char)(0x80 | opcode);
    if (len < 126) {
        hdr[h++] = (unsigned char)(0x80 | len);
    } else if (len < 65536) {
        hdr[h++] = 0x80 | 126;
        hdr[h++] = (unsigned char)(len >> 8);
        hdr[h++] = (unsigned char)len;
    } else {
        hdr[h++] = 0x80 | 127;
        for (i = 0; i < 8; i++)
            hdr[h++] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
    }
    memcpy(hdr + h, key, 4);
    h += 4;
    masked = malloc(len + 1);
    ASSERT_NOT_NULL(masked);
    for (i = 0; i < len; i++)
        masked[i] = ((const unsigned char *)data)[i] ^ key[i % 4];
    write_all(c, hdr, h);
    write_all(c, masked, len);
    free(masked);
}

void gwc_send(gwc_t *c, json_t *v)
{
    etf_buf_t b = {0};
    char *s;

    if (c->etf) {
        ASSERT_OK(etf_encode(v, &b, true));
        gwc_send_frame(c, 2, b.p, b.len);
        free(b.p);
    } else {
        s = json_dumps(v, JSON_COMPACT);
        gwc_send_frame(c, 1, s, strlen(s));
        free(s);
    }
    json_decref(v);
}

/* One frame: its opcode and a malloc'd copy of its payload, or -1 on timeout, 0 at EOF. */
static int frame(gwc_t *c, double deadline, int *opcode, unsigned char **data, size_t *len)
{
    size_t need, plen, h, i;
    int r;

    for (;;) {
        if (c->len >= 2) {
            plen = c->buf[1] & 0x7f;
            h = 2;
            if (plen == 126)
                h = 4;
            else if (plen == 127)
                h = 10;
            ASSERT_EQ(0, c->buf[1] & 0x80); /* the server never masks */
            if (c->len >= h) {
                if (plen == 126)
                    plen = (size_t)c->buf[2] << 8 | c->buf[3];
                else if (plen == 127)
                    for (plen = 0, i = 0; i < 8; i++)
                        plen = plen << 8 | c->buf[2 + i];
                need = h + plen;
                if (c->len >= need) {
                    ASSERT(c->buf[0] & 0x80); /* unfragmented */
                    *opcode = c->buf[0] & 0x0f;
                    *data = malloc(plen + 1);
                    ASSERT_NOT_NULL(*data);
                    memcpy(*data, c->buf + h, plen);
                    (*data)[plen] = '\0';
                    *len = plen;
                    take(c, need);
                    return 1;
                }
            }
        }
        r = fill(c, deadline);
        if (r <= 0)
            return r;
    }
}

/* zlib-stream: inflates one message (ending with a sync flush) into a new buffer. */
static unsigned char *inflate_msg(gwc_t *c, const unsigned char *in, size_t len, size_t *out_len)
{
    size_t cap = 4096 + len * 8, n = 0;
    unsigned char *out = malloc(cap);
    int rc;

    ASSERT_NOT_NULL(out);
    ASSERT(len >= 4 && memcmp(in + len - 4, "\x00\x00\xff\xff", 4) == 0);
    c->inf.next_in = (Bytef *)in;
    c->inf.avail_in = (uInt)len;
    do {
        if (cap - n < 4096) {
            cap *= 2;
            out = realloc(out, cap);
            ASSERT_NOT_NULL(out);
        }
        c->inf.next_out = out + n;
        c->inf.avail_out = (uInt)(cap - n - 1);
        rc = inflate(&c->inf, Z_SYNC_FLUSH);
        ASSERT(rc == Z_OK || rc == Z_BUF_ERROR);
        n = cap - 1 - c->inf.avail_out;
    } while (c->inf.avail_in > 0 || c->inf.avail_out == 0);
    out[n] = '\0';
    *out_len = n;
    return out;
}

json_t *gwc_recv(gwc_t *c, int timeout_ms)
{
    double deadline = now_ms() + timeout_ms;
    unsigned char *data, *plain;
    size_t len, plen;
    json_t *v = NULL;
    int op, r;

    for (;;) {
        r = frame(c, deadline, &op, &data, &len);
        if (r <= 0) {
            if (r == 0 && c->close_code == 0)
                c->close_code = 1006;
            return NULL;
        }
        c->last_opcode = op;
        if (op == 8) {
            c->close_code = len >= 2 ? data[0] << 8 | data[1] : 1005;
            free(data);
            return NULL;
        }
        if (op == 9 || op == 10) {
            free(data);
            continue;
        }
        break;
    }
    plain = data;
    plen = len;
    if (c->zlib) {
        ASSERT_EQ(2, op);
        plain = inflate_msg(c, data, len, &plen);
        free(data);
    }
    if (c->etf) {
        ASSERT_OK(etf_decode(plain, plen, &v));
    } else {
        if (!c->zlib)
            ASSERT_EQ(1, op);
        v = json_loadb((char *)plain, plen, 0, NULL);
    }
    free(plain);
    ASSERT(json_is_object(v));
    if (json_is_integer(json_object_get(v, "s")))
        c->seq = (uint32_t)json_integer_value(json_object_get(v, "s"));
    return v;
}

json_t *gwc_wait(gwc_t *c, const char *t, int timeout_ms)
{
    double deadline = now_ms() + timeout_ms;
    json_t *v;
    const char *vt;

    for (;;) {
        v = gwc_recv(c, (int)(deadline - now_ms() > 0 ? deadline - now_ms() : 0));
        if (v == NULL)
            return NULL;
        vt = json_string_value(json_object_get(v, "t"));
        if (vt != NULL && strcmp(vt, t) == 0)
            return v;
        json_decref(v);
    }
}

int gwc_wait_close(gwc_t *c, int timeout_ms)
{
    double deadline = now_ms() + timeout_ms;
    json_t *v;

    while (c->close_code == 0 && now_ms() < deadline) {
        v = gwc_recv(c, (int)(deadline - now_ms()));
        json_decref(v);
    }
    return c->close_code;
}

void gwc_drop(gwc_t *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->buf);
    c->buf = NULL;
    c->len = c->cap = 0;
    if (c->zlib)
        inflateEnd(&c->inf);
    c->zlib = false;
}

void gwc_close(gwc_t *c, int code)
{
    unsigned char p[2] = {(unsigned char)(code >> 8), (unsigned char)code};

    gwc_send_frame(c, 8, p, 2);
    gwc_drop(c);
}

json_t *gwc_identify(gwc_t *c, const char *token, int64_t intents)
{
    json_t *hello, *d;

    hello = gwc_recv(c, 5000);
    ASSERT_NOT_NULL(hello);
    ASSERT_EQ(10, gwj_i(hello, "op"));
    ASSERT_GT(gwj_i(hello, "d.heartbeat_interval"), 0);
    json_decref(hello);
    d = json_pack("{s:s, s:{s:s, s:s, s:s}}", "token", token, "properties", "os", "linux",
                  "browser", "hearth-test", "device", "hearth-test");
    if (intents >= 0)
        json_object_set_new(d, "intents", json_integer(intents));
    gwc_send(c, json_pack("{s:i, s:o}", "op", 2, "d", d));
    return gwc_wait(c, "READY", 5000);
}

/* ---- reading fields
 * ------------------------------------------------------------------------------------ */

json_t *gwj(const json_t *o, const char *path)
{
    char part[64];
    const char *p = path, *dot;
    size_t n;

    while (o != NULL && *p) {
        dot = strchr(p, '.');
        n = dot ? (size_t)(dot - p) : strlen(p);
        ASSERT(n < sizeof(part));
        memcpy(part, p, n);
        part[n] = '\0';
        if (json_is_array(o))
            o = json_array_get(o, (size_t)atoi(part));
        else
            o = json_object_get(o, part);
        if (dot == NULL)
            break;
        p = dot + 1;
    }
    return (json_t *)o;
}

const char *gwj_s(const json_t *o, const char *path)
{
    return json_string_value(gwj(o, path));
}

long long gwj_i(const json_t *o, const char *path)
{
    return (long long)json_integer_value(gwj(o, path));
}

/* ---- hubs
 * ------------------------------------------------------------------------------------------------
 */

void gwt_req_full(hub_scope_t scope, uint64_t id, hub_op_t op, uint64_t actor, json_t *args,
                  hub_result_t *r)
{
    hub_request(scope, id, op, actor, args, 0, r);
    json_decref(args);
}

json_t *gwt_req(hub_scope_t scope, uint64_t id, hub_op_t op, uint64_t actor, json_t *args,
                int status)
{
    hub_result_t r;
    json_t *body;

    gwt_req_full(scope, id, op, actor, args, &r);
    if (r.status != status) {
        char *b = r.body ? json_dumps(r.body, JSON_COMPACT) : NULL;
        fprintf(stderr, "hub_request op %d: status %d code %d %s %s\n", (int)op, r.status, r.code,
                r.message, b ? b : "");
        free(b);
    }
    ASSERT_EQ(status, r.status);
    body = r.body;
    r.body = NULL;
    hub_result_clear(&r);
    return body;
}

hearth_pid_t gwt_whereis(const char *name, int ms)
{
    double deadline = now_ms() + ms;
    hearth_pid_t pid;

    while ((pid = hearth_whereis(name)) == HEARTH_PID_NONE && now_ms() < deadline)
        usleep(1000);
    return pid;
}
