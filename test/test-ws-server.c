/* Tests of the WebSocket side of apps/http over real sockets: a server whose WebSocket
 * route hosts a small echo session (with commands), the test thread as a blocking
 * client. The handshake and its refusals, echo of text and binary, fragments, ping,
 * both closing handshakes, protocol violations and their close codes, fan-out of one
 * shared payload, many concurrent connections, the memory of an idle connection,
 * detached sessions and moving a socket to another connection process. */
#include "test-http-client.h"

#include "http/internal.h"
#include "io/io.h" /* hearth__io_stats: write coalescing */

#include <stdio.h>

enum {
    T_OPENED = 1, /* to the observer: ref = connection pid */
    T_CLOSED,     /* to the observer: ref = pid, value = code, data = reason */
    T_TERM,       /* to the observer: ref = pid */
    T_SAY,        /* to a connection: send data as text */
    T_SHARED,     /* to a connection: send the (shared) bytes with ws_send_msg */
    T_CHECK,      /* to a connection: report its decoder's buffers as text */
    T_BURST,      /* to a connection: send value frames in this one callback */
    T_PARTS,      /* to a connection: send "<" + the shared bytes from value + ">" */
};

typedef struct sess {
    hearth_pid_t observer;
    bool keep;
} sess_t;

static hearth_pid_t observer;

static void report(uint32_t tag, int64_t value, const char *data, size_t len)
{
    hearth_msg_t *m = hearth_msg_copy(tag, data, len);

    m->ref = hearth_self();
    m->value = value;
    hearth_send(observer, m);
}

static int s_open(ws_conn_t *c, const http_request_t *req, void *udata, void **state)
{
    sess_t *s = calloc(1, sizeof(*s));
    char v[16], hello[64];

    (void)udata;
    if (http_query_get(req, "v", v, sizeof(v)) >= 0) {
        snprintf(hello, sizeof(hello), "hello v=%s", v);
        ws_send_text(c, hello, strlen(hello));
    }
    *state = s;
    report(T_OPENED, 0, NULL, 0);
    return 0;
}

static int s_message(ws_conn_t *c, void *state, int opcode, void *data, size_t len)
{
    sess_t *s = state;
    char out[128], *d = data;
    unsigned long long pid;
    int code;

    if (opcode == WS_TEXT && len < 100) {
        memcpy(out, d, len);
        out[len] = '\0';
        if (strcmp(out, "pid") == 0) {
            snprintf(out, sizeof(out), "pid:%llu", (unsigned long long)hearth_self());
            return ws_send_text(c, out, strlen(out));
        }
        if (strcmp(out, "keep") == 0) {
            s->keep = true;
            return ws_send_text(c, "kept", 4);
        }
        if (strcmp(out, "error") == 0)
            return -1;
        if (sscanf(out, "close:%d:", &code) == 1)
            return ws_close(c, code, strchr(out + 6, ':') + 1);
        if (sscanf(out, "move:%llu", &pid) == 1) {
            ASSERT_OK(ws_conn_move(c, (hearth_pid_t)pid, "blob!", 5));
            ASSERT(!ws_conn_open(c));
            ASSERT_EQ(HEARTH_EPIPE, ws_send_text(c, "x", 1));
            return 0;
        }
    }
    return opcode == WS_TEXT ? ws_send_text(c, data, len) : ws_send_binary(c, data, len);
}

static int s_info(ws_conn_t *c, void *state, hearth_msg_t *m)
{
    http_conn_t *hc = c;
    char out[64];

    (void)state;
    switch (m->tag) {
    case T_SAY:
        ws_send_text(c, m->data, m->len); /* HEARTH_EPIPE when detached: fine */
        return 0;
    case T_SHARED:
        ASSERT_OK(ws_send_msg(c, WS_TEXT, m));
        return 0;
    case T_PARTS:
        ASSERT_OK(ws_send_parts(c, WS_TEXT, "<", 1, hearth_msg_payload(m), (size_t)m->value,
                                m->len - (size_t)m->value, ">", 1));
        return 0;
    case T_BURST:
        for (int64_t i = 0; i < m->value; i++) {
            snprintf(out, sizeof(out), "frame %lld", (long long)i);
            ASSERT_OK(ws_send_text(c, out, strlen(out)));
        }
        return 0;
    case T_CHECK:
        snprintf(out, sizeof(out), "buf=%d msg=%d", hc->u.w.dec.buf != NULL,
                 hc->u.w.dec.msg != NULL);
        return ws_send_text(c, out, strlen(out));
    default:
        return 0;
    }
}

static int s_closed(ws_conn_t *c, void *state, int code, const char *reason, size_t rlen)
{
    sess_t *s = state;

    ASSERT(!ws_conn_open(c));
    report(T_CLOSED, code, reason, rlen);
    return s->keep ? WS_KEEP : 0;
}

static int s_adopt(ws_conn_t *c, void *state, const void *blob, size_t len)
{
    char out[64];
    int n = snprintf(out, sizeof(out), "adopted:%.*s", (int)len, (const char *)blob);

    ((sess_t *)state)->keep = false;
    return ws_send_text(c, out, (size_t)n);
}

static void s_terminate(void *state)
{
    report(T_TERM, 0, NULL, 0);
    free(state);
}

static const ws_handler_t echo_handler = {"test-echo", s_open,  s_message,  s_info,
                                          s_closed,    s_adopt, s_terminate};

static http_server_t srv;

static int start(size_t max_message)
{
    http_router_t *r = http_router_new();

    cli_raise_fd_limit();
    ASSERT_OK(hearth_start(NULL));
    observer = hearth_self();
    ASSERT_OK(http_router_ws(r, "/ws", &echo_handler, NULL));
    memset(&srv, 0, sizeof(srv));
    srv.bind = "127.0.0.1";
    srv.router = r;
    srv.limits.ws_max_message = max_message;
    srv.limits.max_headers = 16;
    ASSERT_OK(http_listener_start(&srv, 0, NULL));
    return srv.bound_port;
}

static void stop(void)
{
    ASSERT_OK(hearth_stop());
    http_router_free(srv.router);
}

static bool match_tag(const hearth_msg_t *m, void *arg)
{
    return m->tag == *(uint32_t *)arg;
}

/* The next report with tag (within 10 s; a missing one fails the test). */
static hearth_msg_t *expect(uint32_t tag)
{
    hearth_msg_t *m = NULL;

    if (hearth_receive(match_tag, &tag, 10000, &m) != 0)
        test__fail(__FILE__, __LINE__, "no report with tag %u", tag);
    return m;
}

/* Expects T_CLOSED with code, returns the connection's pid. */
static hearth_pid_t expect_closed(int code)
{
    hearth_msg_t *m = expect(T_CLOSED);
    hearth_pid_t pid = m->ref;

    ASSERT_EQ(code, m->value);
    hearth_msg_free(m);
    return pid;
}

/* Connects, upgrades on /ws, returns the connection process's pid. */
static hearth_pid_t ws_open(cli_t *c, int port)
{
    hearth_msg_t *m;
    hearth_pid_t pid;

    cli_connect(c, port);
    cli_ws_handshake(c, "/ws?v=10&encoding=json");
    cli_ws_expect_text(c, "hello v=10");
    m = expect(T_OPENED);
    pid = m->ref;
    hearth_msg_free(m);
    return pid;
}

TEST_IMPL(ws_server_echo)
{
    int port = start(128 << 10);
    char *big = malloc(100000), *d;
    uint8_t close_bye[] = {0x03, 0xE8, 'b', 'y', 'e'};
    hearth_msg_t *m;
    size_t n;
    cli_t c;

    ws_open(&c, port);
    cli_ws_text(&c, "{\"op\":1,\"d\":null}");
    cli_ws_expect_text(&c, "{\"op\":1,\"d\":null}");
    for (size_t i = 0; i < 100000; i++)
        big[i] = (char)(i * 7);
    /* Binary of each length encoding. */
    for (size_t len = 1; len <= 100000; len *= 10) {
        cli_ws_send(&c, 2, big, len);
        ASSERT_EQ(2, cli_ws_recv(&c, &d, &n));
        ASSERT_EQ(len, n);
        ASSERT(memcmp(d, big, len) == 0);
        free(d);
    }
    /* Fragments with a ping between them: the pong comes first, then the message. */
    cli_ws_send_raw(&c, 0x01, "frag", 4, false);
    cli_ws_send_raw(&c, 0x89, "are you there", 13, false);
    cli_ws_send_raw(&c, 0x00, "men", 3, false);
    cli_ws_send_raw(&c, 0x80, "ted", 3, false);
    ASSERT_EQ(10, cli_ws_recv(&c, &d, &n));
    ASSERT_STR_EQ("are you there", d);
    free(d);
    cli_ws_expect_text(&c, "fragmented");
    /* The client closes: the server answers with the same code and closes TCP. */
    cli_ws_send(&c, 8, close_bye, sizeof(close_bye));
    cli_ws_expect_close(&c, 1000, "");
    ASSERT(cli_wait_eof(&c));
    m = expect(T_CLOSED);
    ASSERT_EQ(1000, m->value);
    ASSERT_EQ(3, m->len);
    ASSERT(memcmp(m->data, "bye", 3) == 0);
    hearth_msg_free(m);
    hearth_msg_free(expect(T_TERM));
    cli_close(&c);
    free(big);
    stop();
    return 0;
}

/* The handshake's refusals. */
TEST_IMPL(ws_server_handshake)
{
    int port = start(0);
    char val[64];
    cli_resp_t r;
    cli_t c;

    /* Handshake and first frame in one write: the frame is not lost. */
    cli_connect(&c, port);
    {
        char buf[512];
        int n = snprintf(buf, sizeof(buf),
                         "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
                         "Connection: keep-alive, Upgrade\r\n"
                         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                         "Sec-WebSocket-Version: 13\r\n\r\n");

        /* A masked text frame "early" (key 0). */
        memcpy(buf + n, "\x81\x85\0\0\0\0early", 11);
        cli_send(&c, buf, (size_t)n + 11);
    }
    ASSERT(cli_response(&c, &r, true));
    ASSERT_EQ(101, r.status);
    cli_resp_free(&r);
    cli_ws_expect_text(&c, "early");
    hearth_msg_free(expect(T_OPENED));
    cli_close(&c);
    expect_closed(WS_CLOSE_ABNORMAL);

    cli_connect(&c, port);
    cli_sends(&c,
              "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n");
    ASSERT(cli_response(&c, &r, false));
    ASSERT_EQ(426, r.status);
    ASSERT_STR_EQ("13", cli_header(&r, "Sec-WebSocket-Version", val, sizeof(val)));
    cli_resp_free(&r);
    ASSERT(cli_wait_eof(&c));
    cli_close(&c);

    cli_connect(&c, port);
    cli_sends(&c, "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n");
    ASSERT(cli_response(&c, &r, false));
    ASSERT_EQ(400, r.status);
    cli_resp_free(&r);
    cli_close(&c);

    cli_connect(&c, port);
    cli_sends(&c,
              "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    ASSERT(cli_response(&c, &r, false));
    ASSERT_EQ(400, r.status); /* no Connection: Upgrade */
    cli_resp_free(&r);
    cli_close(&c);

    /* A plain GET of a WebSocket path. */
    cli_connect(&c, port);
    cli_sends(&c, "GET /ws HTTP/1.1\r\nHost: h\r\n\r\n");
    ASSERT(cli_response(&c, &r, false));
    ASSERT_EQ(426, r.status);
    ASSERT_STR_EQ("websocket", cli_header(&r, "Upgrade", val, sizeof(val)));
    cli_resp_free(&r);
    cli_close(&c);
    stop();
    return 0;
}

/* Each violation closes with its code, and the handler hears of it. */
TEST_IMPL(ws_server_violations)
{
    int port = start(0);
    char *big = calloc(1, 70000);
    cli_t c;

    ws_open(&c, port);
    cli_ws_send_raw(&c, 0x81, "plain", 5, true); /* unmasked */
    cli_ws_expect_close(&c, WS_CLOSE_PROTOCOL, NULL);
    ASSERT(cli_wait_eof(&c));
    cli_close(&c);
    expect_closed(WS_CLOSE_PROTOCOL);

    ws_open(&c, port);
    cli_ws_send(&c, 2, big, 70000); /* over the default 64 KiB */
    cli_ws_expect_close(&c, WS_CLOSE_TOO_BIG, NULL);
    ASSERT(cli_wait_eof(&c));
    cli_close(&c);
    expect_closed(WS_CLOSE_TOO_BIG);

    ws_open(&c, port);
    cli_ws_send_raw(&c, 0x02, big, 40000, false); /* fragments adding up past it */
    cli_ws_send_raw(&c, 0x80, big, 40000, false);
    cli_ws_expect_close(&c, WS_CLOSE_TOO_BIG, NULL);
    cli_close(&c);
    expect_closed(WS_CLOSE_TOO_BIG);

    ws_open(&c, port);
    cli_ws_send(&c, 1, "\xff\xfe", 2);
    cli_ws_expect_close(&c, WS_CLOSE_INVALID_DATA, NULL);
    cli_close(&c);
    expect_closed(WS_CLOSE_INVALID_DATA);

    ws_open(&c, port);
    cli_ws_text(&c, "error"); /* the handler fails */
    cli_ws_expect_close(&c, WS_CLOSE_INTERNAL, NULL);
    cli_close(&c);
    expect_closed(WS_CLOSE_INTERNAL);

    ws_open(&c, port);
    cli_close(&c); /* TCP ends without a close frame */
    expect_closed(WS_CLOSE_ABNORMAL);
    free(big);
    stop();
    return 0;
}

/* The server starts the closing handshake (as the gateway does with 4004). */
TEST_IMPL(ws_server_close)
{
    int port = start(0);
    uint8_t reply[] = {0x0F, 0xA4};
    cli_t c;

    ws_open(&c, port);
    cli_ws_text(&c, "close:4004:Authentication failed.");
    cli_ws_expect_close(&c, 4004, "Authentication failed.");
    /* Data sent meanwhile is dropped; sends after the close fail. */
    cli_ws_text(&c, "dropped");
    cli_ws_send(&c, 8, reply, sizeof(reply));
    ASSERT(cli_wait_eof(&c));
    cli_close(&c);
    expect_closed(4004);
    hearth_msg_free(expect(T_TERM));
    stop();
    return 0;
}

/* One shared payload sent to many connections: each writes only its header. */
TEST_IMPL(ws_server_fanout)
{
    int port = start(0);
    size_t n = test_scaled(100), i;
    hearth_pid_t *pids = calloc(n, sizeof(*pids));
    cli_t *cs = calloc(n, sizeof(*cs));
    static const char ev[] =
        "{\"t\":\"MESSAGE_CREATE\",\"s\":1,\"op\":0,\"d\":{\"content\":\"hi\"}}";
    hearth_payload_t *p;

    for (i = 0; i < n; i++)
        pids[i] = ws_open(&cs[i], port);
    p = hearth_payload_new(ev, sizeof(ev) - 1);
    for (int round = 0; round < 3; round++)
        ASSERT_EQ(n, hearth_send_shared(pids, n, T_SHARED, p));
    hearth_payload_unref(p);
    /* And a copied message through the same path. */
    for (i = 0; i < n; i++)
        hearth_send(pids[i], hearth_msg_copy(T_SHARED, "copied", 6));
    for (i = 0; i < n; i++) {
        for (int round = 0; round < 3; round++)
            cli_ws_expect_text(&cs[i], ev);
        cli_ws_expect_text(&cs[i], "copied");
        cli_close(&cs[i]);
    }
    free(cs);
    free(pids);
    stop();
    return 0;
}

/* A shared payload inside a per-connection envelope (prefix, a range of the payload,
 * suffix), small (joined) and large (the payload referenced, not copied). */
TEST_IMPL(ws_server_parts)
{
    int port = start(0);
    cli_t cs[3];
    hearth_pid_t pids[3];
    size_t sizes[2] = {40, 100000}, i, k;

    for (i = 0; i < 3; i++)
        pids[i] = ws_open(&cs[i], port);
    for (k = 0; k < 2; k++) {
        size_t n = sizes[k];
        hearth_payload_t *p = hearth_payload_alloc(n);
        char *want = malloc(n + 2);
        for (i = 0; i < n; i++)
            ((char *)hearth_payload_data(p))[i] = (char)('a' + i % 26);
        /* The envelope takes the payload from offset 3: the range must be honoured. */
        want[0] = '<';
        memcpy(want + 1, (char *)hearth_payload_data(p) + 3, n - 3);
        want[n - 2] = '>';
        want[n - 1] = '\0';
        for (i = 0; i < 3; i++) {
            hearth_msg_t *m = hearth_msg_shared(T_PARTS, p);
            m->value = 3;
            ASSERT_OK(hearth_send(pids[i], m));
        }
        hearth_payload_unref(p);
        for (i = 0; i < 3; i++)
            cli_ws_expect_text(&cs[i], want);
        free(want);
    }
    for (i = 0; i < 3; i++)
        cli_close(&cs[i]);
    stop();
    return 0;
}

/* 1,000 concurrent connections (scaled), all open at once, each echoing. */
TEST_IMPL(ws_server_many)
{
    int port = start(0);
    size_t n = test_scaled(1000), i;
    cli_t *cs = calloc(n, sizeof(*cs));
    uint64_t t0 = hearth_now_ms(), t1;
    char msg[32];

    for (i = 0; i < n; i++)
        ws_open(&cs[i], port);
    t1 = hearth_now_ms();
    for (i = 0; i < n; i++) {
        snprintf(msg, sizeof(msg), "message %zu", i);
        cli_ws_text(&cs[i], msg);
    }
    for (i = 0; i < n; i++) {
        snprintf(msg, sizeof(msg), "message %zu", i);
        cli_ws_expect_text(&cs[i], msg);
    }
    fprintf(stderr, "ws_server_many: %zu connections opened in %llu ms, echoed in %llu ms\n", n,
            (unsigned long long)(t1 - t0), (unsigned long long)(hearth_now_ms() - t1));
    for (i = 0; i < n; i++)
        cli_close(&cs[i]);
    for (i = 0; i < n; i++)
        expect_closed(WS_CLOSE_ABNORMAL);
    free(cs);
    stop();
    return 0;
}

/* What an idle WebSocket connection costs: its process (hearth_process_info) and our
 * state, with no buffer left over from the messages it handled. */
TEST_IMPL(ws_server_idle_memory)
{
    int port = start(0);
    char *big = calloc(1, 60000), *d;
    hearth_proc_info_t info;
    hearth_pid_t pid;
    size_t n;
    cli_t c;

    pid = ws_open(&c, port);
    cli_ws_send(&c, 2, big, 60000);
    ASSERT_EQ(2, cli_ws_recv(&c, &d, &n));
    free(d);
    cli_ws_send_raw(&c, 0x01, "a", 1, false);
    cli_ws_send_raw(&c, 0x80, "b", 1, false);
    cli_ws_expect_text(&c, "ab");
    /* A frame cut in two: the first half is held until the second comes. */
    cli_send(&c, "\x81\x83\0\0\0\0x", 7);
    usleep(50000);
    hearth_send(pid, hearth_msg_int(T_CHECK, 0));
    cli_ws_expect_text(&c, "buf=1 msg=0");
    cli_send(&c, "yz", 2);
    cli_ws_expect_text(&c, "xyz");
    hearth_send(pid, hearth_msg_int(T_CHECK, 0));
    cli_ws_expect_text(&c, "buf=0 msg=0");

    ASSERT_OK(hearth_process_info(pid, &info));
    ASSERT_STR_EQ("http-conn", info.actor);
    ASSERT_EQ(0, info.mailbox_len);
    fprintf(stderr,
            "ws_server_idle_memory: idle WebSocket connection: process %zu bytes (process_info) "
            "+ connection state %zu bytes + session state %zu bytes = %zu bytes\n",
            info.memory, sizeof(http_conn_t), sizeof(sess_t),
            info.memory + sizeof(http_conn_t) + sizeof(sess_t));
    ASSERT_LE(sizeof(http_conn_t), 128);
    ASSERT_LE(info.memory + sizeof(http_conn_t), 3072);
    cli_close(&c);
    expect_closed(WS_CLOSE_ABNORMAL);
    free(big);
    stop();
    return 0;
}

/* A session kept alive after its socket dropped gets a new connection's socket
 * moved to it, as a gateway RESUME would do. */
TEST_IMPL(ws_server_move)
{
    int port = start(0);
    hearth_pid_t a, b;
    char cmd[64], want[64];
    hearth_msg_t *m;
    cli_t ca, cb;

    a = ws_open(&ca, port);
    cli_ws_text(&ca, "keep");
    cli_ws_expect_text(&ca, "kept");
    cli_close(&ca);
    ASSERT_EQ(a, expect_closed(WS_CLOSE_ABNORMAL));
    ASSERT(hearth_is_alive(a)); /* detached, not gone */
    /* Detached: info still arrives; sends fail quietly. */
    hearth_send(a, hearth_msg_copy(T_SAY, "nobody", 6));

    b = ws_open(&cb, port);
    snprintf(cmd, sizeof(cmd), "move:%llu", (unsigned long long)a);
    /* The move and a frame right behind it, in one write: the second reaches a. */
    {
        char buf[128];
        size_t len = strlen(cmd);

        buf[0] = (char)0x81;
        buf[1] = (char)(0x80 | len);
        memset(buf + 2, 0, 4);
        memcpy(buf + 6, cmd, len);
        memcpy(buf + 6 + len, "\x81\x83\0\0\0\0pid", 9);
        cli_send(&cb, buf, 6 + len + 9);
    }
    cli_ws_expect_text(&cb, "adopted:blob!");
    snprintf(want, sizeof(want), "pid:%llu", (unsigned long long)a);
    cli_ws_expect_text(&cb, want);
    /* b has ended (without a closed: its socket lives on in a). */
    m = expect(T_TERM);
    ASSERT_EQ(b, m->ref);
    hearth_msg_free(m);
    ASSERT(!hearth_is_alive(b));
    /* a serves the new socket from now on, reads included. */
    cli_ws_text(&cb, "pid");
    cli_ws_expect_text(&cb, want);
    hearth_send(a, hearth_msg_copy(T_SAY, "from a", 6));
    cli_ws_expect_text(&cb, "from a");
    cli_ws_text(&cb, "close:1000:done");
    cli_ws_expect_close(&cb, 1000, "done");
    cli_close(&cb);
    ASSERT_EQ(a, expect_closed(1000));
    m = expect(T_TERM);
    ASSERT_EQ(a, m->ref);
    hearth_msg_free(m);
    stop();
    return 0;
}

/* Frames queued in one callback leave in one write (the runtime coalesces them). */
TEST_IMPL(ws_server_coalesce)
{
    int port = start(0);
    hearth__io_stats_t s0, s1;
    hearth_pid_t pid;
    char want[32];
    cli_t c;

    pid = ws_open(&c, port);
    hearth__io_stats(&s0);
    hearth_send(pid, hearth_msg_int(T_BURST, 200));
    for (int i = 0; i < 200; i++) {
        snprintf(want, sizeof(want), "frame %d", i);
        cli_ws_expect_text(&c, want);
    }
    hearth__io_stats(&s1);
    fprintf(stderr, "ws_server_coalesce: 200 frames in %llu writes\n",
            (unsigned long long)(s1.writes - s0.writes));
    ASSERT_LE(s1.writes - s0.writes, 3);
    ASSERT_GE(s1.write_bufs - s0.write_bufs, 200);
    cli_close(&c);
    expect_closed(WS_CLOSE_ABNORMAL);
    stop();
    return 0;
}
