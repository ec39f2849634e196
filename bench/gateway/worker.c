/* bench/gateway/worker.c: one gateway worker process, a slice of the connections.
 *
 * Each connection walks CONNECTING (non-blocking connect from its 127.0.0.x source)
 * -> HANDSHAKE (HTTP Upgrade sent, waiting for 101) -> HELLO (waiting for op 10) ->
 * IDENTIFY (op 2 sent, waiting for READY) -> READY. At most conf.inflight connections
 * are between CONNECTING and READY at once, so the server's accept queue is never
 * flooded; one that fails before READY is retried a few times, then counted failed.
 * After HELLO each connection heartbeats (op 1 with its last sequence) at the
 * server's interval, with a random first offset as Discord clients do, and answers
 * op 1 requests and pings.
 *
 * Reads go into one scratch buffer per worker; only an incomplete frame's bytes are
 * kept per connection, so 7,500 idle connections cost ~100 bytes each here.
 *
 * Every MESSAGE_CREATE is compared with the send time in its nonce twice:
 *   - arrival: the kernel's receive stamp of the socket's data (SO_TIMESTAMPNS; for
 *     TCP the stamp of the last segment a recvmsg read, so an upper bound for every
 *     frame in that read). On loopback that is when the server's write reached the
 *     stack: send-to-deliver without this tool's own queueing. The main figure.
 *   - read: the clock when this worker read the bytes, which adds the time the
 *     frame waited for this process (the machine has 2 cores for the server and
 *     the tool). An upper bound, reported beside it.
 * Arrival latencies go into a histogram and into a per-message row (count, latest)
 * for "time until all connections had it"; read latencies into a second histogram.
 *
 * The parent drives the worker with one-byte commands (bench.h); while connections
 * are opening the worker also sends a MSG_STATUS every second for progress. */
#include "bench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define SCRATCH_SIZE (1u << 20)
#define MAX_FRAME (64u << 20)
#define TABLE_SLOTS (1u << 15)
#define HANDSHAKE_MAX 16384
#define PRE_READY_TIMEOUT_NS (60ull * 1000000000u)
#define SWEEP_NS (50ull * 1000000u)
#define PROGRESS_NS (1000ull * 1000000u)
#define LOG_MAX 8

enum {
    C_NEW,
    C_CONNECTING,
    C_HANDSHAKE,
    C_HELLO,
    C_IDENTIFY,
    C_READY,
    C_RETRY,
    C_FAILED,
    C_DROPPED
};

typedef struct {
    int fd;
    uint8_t state, tries, got_guild;
    uint32_t hb_ms;    /* the heartbeat interval from HELLO, 0 before */
    int64_t seq;       /* the last dispatch's s, -1 for none */
    uint64_t hb_ns;    /* when the next heartbeat is due */
    uint64_t timer_ns; /* before READY: the give-up time; C_RETRY: when to retry */
    uint8_t *rbuf;     /* bytes of an incomplete frame (or handshake) */
    uint32_t rlen, rcap, need;
    uint8_t *wbuf; /* bytes the socket did not take yet */
    uint32_t wlen;
    uint8_t *frag; /* a fragmented message being joined */
    uint32_t flen;
    uint32_t tok; /* index into conf.tokens */
} conn_t;

typedef struct {
    const conf_t *c;
    int id, ep, cmd_fd, res_fd;
    conn_t *conns;
    size_t n, next, target, inflight, settled;
    bool warm_pending, connect_pending;
    uint64_t next_progress;
    wstat_t st;
    hist_t hist, hist_read; /* arrival and read latencies */
    uint64_t rx_kernel;     /* the current read's kernel stamp (wall clock; 0: none) */
    uint64_t rx_read;       /* and wall_ns() when it was read */
    msgrow_t *table;
    size_t table_used;
    uint8_t *scratch;
    struct sockaddr_in dst;
    uint32_t rng;
    int logged;
    char upgrade[512];
    size_t upgrade_len;
} worker_t;

static uint32_t rnd(worker_t *w)
{
    w->rng ^= w->rng << 13;
    w->rng ^= w->rng >> 17;
    w->rng ^= w->rng << 5;
    return w->rng;
}

/* Says what went wrong with c on stderr, for the first LOG_MAX problems. */
static void wlog(worker_t *w, const conn_t *c, const char *what, long v)
{
    if (w->logged >= LOG_MAX)
        return;
    fprintf(stderr, "worker %d: connection %u: %s (%ld)\n", w->id, c->tok, what, v);
    if (++w->logged == LOG_MAX)
        fprintf(stderr, "worker %d: further errors not shown\n", w->id);
}

static void conn_free_buffers(conn_t *c)
{
    free(c->rbuf);
    free(c->wbuf);
    free(c->frag);
    c->rbuf = c->wbuf = c->frag = NULL;
    c->rlen = c->rcap = c->need = c->wlen = c->flen = 0;
}

static bool pre_ready(const conn_t *c)
{
    return c->state >= C_CONNECTING && c->state <= C_IDENTIFY;
}

/* Closes c after an error or a close from the server: before READY it is retried
 * (or given up), after READY it counts as dropped. */
static void conn_fail(worker_t *w, conn_t *c, const char *why, long v)
{
    uint64_t now = now_ns();

    wlog(w, c, why, v);
    if (c->fd >= 0) {
        close(c->fd); /* also leaves the epoll set */
        c->fd = -1;
    }
    conn_free_buffers(c);
    c->hb_ms = 0;
    if (c->state == C_READY) {
        w->st.ready--;
        w->st.dropped++;
        c->state = C_DROPPED;
        return;
    }
    if (pre_ready(c))
        w->inflight--;
    if (c->tries < w->c->retries) {
        c->tries++;
        w->st.retries++;
        c->state = C_RETRY;
        c->timer_ns = now + (uint64_t)c->tries * 200000000u + rnd(w) % 100000000u;
    } else {
        c->state = C_FAILED;
        w->st.failed++;
        w->settled++;
    }
}

static void set_events(worker_t *w, conn_t *c, uint32_t ev)
{
    struct epoll_event e = {.events = ev, .data.ptr = c};

    epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &e);
}

/* Sends raw bytes, queueing what the socket does not take. */
static void conn_write(worker_t *w, conn_t *c, const void *data, size_t len)
{
    ssize_t n = 0;

    if (c->wlen == 0) {
        n = send(c->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                conn_fail(w, c, "send: errno", errno);
                return;
            }
            n = 0;
        }
        if ((size_t)n == len)
            return;
        set_events(w, c, EPOLLIN | EPOLLOUT);
    }
    c->wbuf = xrealloc(c->wbuf, c->wlen + (len - (size_t)n));
    memcpy(c->wbuf + c->wlen, (const char *)data + n, len - (size_t)n);
    c->wlen += (uint32_t)(len - (size_t)n);
}

static void conn_flush(worker_t *w, conn_t *c)
{
    ssize_t n = send(c->fd, c->wbuf, c->wlen, MSG_NOSIGNAL | MSG_DONTWAIT);

    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            conn_fail(w, c, "send: errno", errno);
        return;
    }
    memmove(c->wbuf, c->wbuf + n, c->wlen - (size_t)n);
    c->wlen -= (uint32_t)n;
    if (c->wlen == 0) {
        free(c->wbuf);
        c->wbuf = NULL;
        set_events(w, c, EPOLLIN);
    }
}

static void send_frame(worker_t *w, conn_t *c, int opcode, const void *payload, size_t len)
{
    uint8_t stackbuf[1024], *out = len + 14 <= sizeof(stackbuf) ? stackbuf : xmalloc(len + 14);
    size_t n = ws_encode(out, opcode, payload, len, rnd(w));

    conn_write(w, c, out, n);
    if (out != stackbuf)
        free(out);
}

static void send_heartbeat(worker_t *w, conn_t *c)
{
    char buf[64];
    int n = c->seq >= 0 ? snprintf(buf, sizeof(buf), "{\"op\":1,\"d\":%lld}", (long long)c->seq)
                        : snprintf(buf, sizeof(buf), "{\"op\":1,\"d\":null}");

    send_frame(w, c, WS_TEXT, buf, (size_t)n);
    w->st.heartbeats++;
}

static void send_identify(worker_t *w, conn_t *c)
{
    char buf[1024];
    int n = snprintf(buf, sizeof(buf),
                     "{\"op\":2,\"d\":{\"token\":\"%s\",\"intents\":%d,\"properties\":{\"os\":"
                     "\"linux\",\"browser\":\"hearth-bench\",\"device\":\"hearth-bench\"},"
                     "\"large_threshold\":50,\"compress\":false}}",
                     w->c->tokens[c->tok], w->c->intents);

    send_frame(w, c, WS_TEXT, buf, (size_t)n);
}

static void reply_status(worker_t *w, uint32_t type)
{
    if (msg_send(w->res_fd, type, &w->st, sizeof(w->st)) != 0)
        _exit(1);
}

static void became_ready(worker_t *w, conn_t *c)
{
    uint64_t now = now_ns();

    c->state = C_READY;
    w->inflight--;
    w->settled++;
    w->st.ready++;
    if (w->st.first_ready_ns == 0)
        w->st.first_ready_ns = now;
    w->st.last_ready_ns = now;
}

/* Adds one delivery of the message sent at sent_ns to the table. */
static void table_add(worker_t *w, uint64_t sent_ns, uint64_t lat)
{
    size_t i = (size_t)((sent_ns * 0x9e3779b97f4a7c15ull) >> 49) & (TABLE_SLOTS - 1);

    for (;;) {
        msgrow_t *r = &w->table[i];

        if (r->sent_ns == sent_ns) {
            r->count++;
            if (lat > r->max_ns)
                r->max_ns = lat;
            return;
        }
        if (r->sent_ns == 0) {
            if (w->table_used >= TABLE_SLOTS * 3 / 4)
                return; /* full: the histogram still counts it */
            w->table_used++;
            r->sent_ns = sent_ns;
            r->count = 1;
            r->max_ns = lat;
            return;
        }
        i = (i + 1) & (TABLE_SLOTS - 1);
    }
}

/* A MESSAGE_CREATE: its send time is the nonce, or else the leading digits of its
 * content (the sender puts it in both). */
static void on_message_create(worker_t *w, span_t d)
{
    span_t v;
    uint64_t sent = 0, at = w->rx_kernel ? w->rx_kernel : w->rx_read, lat;

    if (json_get(d, "nonce", &v) != 0 || json_u64(v, &sent) != 0) {
        span_t s;
        sent = 0;
        if (json_get(d, "content", &v) == 0 && json_str(v, &s) == 0)
            for (size_t i = 0; i < s.n && s.p[i] >= '0' && s.p[i] <= '9'; i++)
                sent = sent * 10 + (uint64_t)(s.p[i] - '0');
    }
    if (sent == 0 || sent > w->rx_read + 1000000000ull) {
        w->st.foreign++;
        return;
    }
    lat = at > sent ? at - sent : 0;
    hist_add(&w->hist, lat);
    table_add(w, sent, lat);
    hist_add(&w->hist_read, w->rx_read > sent ? w->rx_read - sent : 0);
    w->st.deliveries++;
    w->st.kernel_stamps += w->rx_kernel != 0;
    if (at > w->st.last_delivery_ns)
        w->st.last_delivery_ns = at;
}

/* One whole text message from the server. */
static void on_text(worker_t *w, conn_t *c, const uint8_t *p, size_t n, uint64_t now)
{
    span_t all = {(const char *)p, n}, k, v, op = {0}, t = {0}, s = {0}, d = {0};
    json_iter_t it;
    uint64_t opv, x;
    int r;

    if (json_obj_begin(&it, all) != 0)
        goto bad;
    while ((r = json_obj_next(&it, &k, &v)) == 1) {
        if (span_eq(k, "op"))
            op = v;
        else if (span_eq(k, "t"))
            t = v;
        else if (span_eq(k, "s"))
            s = v;
        else if (span_eq(k, "d"))
            d = v;
    }
    if (r < 0 || json_u64(op, &opv) != 0)
        goto bad;
    switch (opv) {
    case 0: /* DISPATCH */
        if (json_u64(s, &x) == 0)
            c->seq = (int64_t)x;
        if (span_eq(t, "\"MESSAGE_CREATE\"")) {
            on_message_create(w, d);
        } else if (span_eq(t, "\"READY\"")) {
            if (c->state == C_IDENTIFY)
                became_ready(w, c);
        } else if (span_eq(t, "\"GUILD_CREATE\"")) {
            if (!c->got_guild) {
                c->got_guild = 1;
                w->st.guild_creates++;
            }
        }
        return;
    case 1: /* HEARTBEAT request */
        send_heartbeat(w, c);
        return;
    case 7: /* RECONNECT */
        conn_fail(w, c, "op 7 RECONNECT", 7);
        return;
    case 9: /* INVALID_SESSION */
        conn_fail(w, c, "op 9 INVALID_SESSION", 9);
        return;
    case 10: /* HELLO */
        if (json_get(d, "heartbeat_interval", &v) != 0 || json_u64(v, &x) != 0 || x == 0)
            goto bad;
        c->hb_ms = (uint32_t)x;
        c->hb_ns = now + (uint64_t)((double)x * 1e6 * (rnd(w) % 1000) / 1000.0);
        if (c->state == C_HELLO) {
            c->state = C_IDENTIFY;
            send_identify(w, c);
        }
        return;
    case 11: /* HEARTBEAT_ACK */
        w->st.acks++;
        return;
    default:
        return;
    }
bad:
    wlog(w, c, "unreadable gateway payload, bytes", (long)n);
}

static void on_frame(worker_t *w, conn_t *c, const ws_frame_t *f, uint64_t now)
{
    switch (f->opcode) {
    case WS_TEXT:
    case WS_BIN:
        if (c->flen != 0) {
            conn_fail(w, c, "new message inside a fragmented one", 0);
            return;
        }
        if (f->fin) {
            on_text(w, c, f->payload, f->len, now);
            return;
        }
        /* The first fragment. */
        /* fall through */
    case WS_CONT:
        if (c->flen + f->len > MAX_FRAME) {
            conn_fail(w, c, "fragmented message too big", (long)c->flen);
            return;
        }
        c->frag = xrealloc(c->frag, c->flen + f->len + 1);
        memcpy(c->frag + c->flen, f->payload, f->len);
        c->flen += (uint32_t)f->len;
        if (f->fin) {
            on_text(w, c, c->frag, c->flen, now);
            if (c->fd >= 0) {
                free(c->frag);
                c->frag = NULL;
                c->flen = 0;
            }
        }
        return;
    case WS_CLOSE: {
        long code = f->len >= 2 ? (long)(f->payload[0] << 8 | f->payload[1]) : 1005;
        w->st.last_close_code = (int32_t)code;
        conn_fail(w, c, "closed by the server with code", code);
        return;
    }
    case WS_PING:
        send_frame(w, c, WS_PONG, f->payload, f->len);
        return;
    default:
        return;
    }
}

/* Handles the bytes buf[0..have) read for c. Returns how many were used; the rest is
 * an incomplete frame, *need (if known) its whole size. */
static size_t on_bytes(worker_t *w, conn_t *c, uint8_t *buf, size_t have, uint64_t now,
                       uint32_t *need)
{
    size_t off = 0;

    *need = 0;
    if (c->state == C_HANDSHAKE) {
        const uint8_t *end = memmem(buf, have, "\r\n\r\n", 4);

        if (end == NULL) {
            if (have > HANDSHAKE_MAX)
                conn_fail(w, c, "handshake answer too long", (long)have);
            return 0;
        }
        if (have < 12 || memcmp(buf, "HTTP/1.1 101", 12) != 0) {
            conn_fail(w, c, "upgrade refused: HTTP status",
                      have >= 12 ? strtol((const char *)buf + 9, NULL, 10) : 0);
            return have;
        }
        c->state = C_HELLO;
        off = (size_t)(end + 4 - buf);
    }
    while (c->fd >= 0 && off < have) {
        ws_frame_t f;
        int r = ws_decode(buf + off, have - off, MAX_FRAME, &f);

        if (r < 0) {
            conn_fail(w, c, "bad frame from the server", (long)buf[off]);
            return have;
        }
        if (r == 0) {
            *need = (uint32_t)f.total;
            break;
        }
        on_frame(w, c, &f, now);
        off += f.total;
    }
    return off;
}

static void on_readable(worker_t *w, conn_t *c)
{
    char cmsg_buf[CMSG_SPACE(sizeof(struct timespec)) * 2];
    struct iovec iov;
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

    for (int round = 0; round < 16 && c->fd >= 0; round++) {
        uint8_t *buf;
        size_t have, cap, used, left;
        uint32_t need;
        ssize_t r;
        uint64_t now;

        if (c->rlen > 0) {
            size_t want = c->need > c->rlen ? c->need : c->rlen + 65536;
            if (want < c->rlen + 4096)
                want = c->rlen + 4096;
            if (c->rcap < want) {
                c->rbuf = xrealloc(c->rbuf, want);
                c->rcap = (uint32_t)want;
            }
            buf = c->rbuf;
            have = c->rlen;
            cap = c->rcap;
        } else {
            buf = w->scratch;
            have = 0;
            cap = SCRATCH_SIZE;
        }
        iov.iov_base = buf + have;
        iov.iov_len = cap - have;
        mh.msg_control = cmsg_buf;
        mh.msg_controllen = sizeof(cmsg_buf);
        r = recvmsg(c->fd, &mh, MSG_DONTWAIT);
        if (r == 0) {
            conn_fail(w, c, "closed by the server (end of stream)", 0);
            return;
        }
        if (r < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                conn_fail(w, c, "recv: errno", errno);
            return;
        }
        now = now_ns();
        w->rx_read = wall_ns();
        w->rx_kernel = 0;
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
            if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
                struct timespec ts;
                memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
                w->rx_kernel = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
            }
        used = on_bytes(w, c, buf, have + (size_t)r, now, &need);
        if (c->fd < 0)
            return;
        left = have + (size_t)r - used;
        if (buf == w->scratch) {
            if (left > 0) {
                c->rcap = (uint32_t)(left > need ? left : need) + 4096;
                c->rbuf = xmalloc(c->rcap);
                memcpy(c->rbuf, buf + used, left);
            }
        } else {
            memmove(c->rbuf, c->rbuf + used, left);
            if (left == 0) {
                free(c->rbuf);
                c->rbuf = NULL;
                c->rcap = 0;
            }
        }
        c->rlen = (uint32_t)left;
        c->need = need;
        if ((size_t)r < cap - have)
            return; /* the socket is drained */
    }
}

static void conn_start(worker_t *w, conn_t *c)
{
    uint32_t src = 0x7f000002u + c->tok % (uint32_t)w->c->sources;
    int one = 1;
    struct epoll_event e = {.events = EPOLLOUT | EPOLLIN, .data.ptr = c};

    c->seq = -1;
    c->got_guild = 0;
    c->timer_ns = now_ns() + PRE_READY_TIMEOUT_NS;
    c->state = C_CONNECTING;
    w->inflight++;
    c->fd = tcp_connect_from(&w->dst, src);
    if (c->fd < 0) {
        conn_fail(w, c, "connect: errno", errno);
        return;
    }
    if (w->c->kernel_stamps)
        setsockopt(c->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
    if (epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &e) != 0)
        conn_fail(w, c, "epoll_ctl: errno", errno);
}

static void on_connected(worker_t *w, conn_t *c)
{
    int err = 0;
    socklen_t len = sizeof(err);

    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
        conn_fail(w, c, "connect: errno", err);
        return;
    }
    c->state = C_HANDSHAKE;
    set_events(w, c, EPOLLIN);
    conn_write(w, c, w->upgrade, w->upgrade_len);
}

/* Starts connections while fewer than conf.inflight are opening. */
static void start_more(worker_t *w)
{
    while (w->inflight < (size_t)w->c->inflight && w->next < w->target)
        conn_start(w, &w->conns[w->next++]);
}

/* Heartbeats due, retries due, opening connections past their deadline. */
static void sweep(worker_t *w, uint64_t now)
{
    for (size_t i = 0; i < w->next; i++) {
        conn_t *c = &w->conns[i];

        if (c->state == C_RETRY) {
            if (now >= c->timer_ns && w->inflight < (size_t)w->c->inflight)
                conn_start(w, c);
            continue;
        }
        if (c->fd < 0)
            continue;
        if (pre_ready(c) && now >= c->timer_ns) {
            conn_fail(w, c, "no READY in time, state", (long)c->state);
            continue;
        }
        if (c->hb_ms != 0 && now >= c->hb_ns) {
            send_heartbeat(w, c);
            c->hb_ns = now + (uint64_t)c->hb_ms * 1000000u;
        }
    }
}

static void send_report(worker_t *w)
{
    msgrow_t *rows = xmalloc((w->table_used + 1) * sizeof(*rows));
    size_t n = 0;

    for (size_t i = 0; i < TABLE_SLOTS; i++)
        if (w->table[i].sent_ns != 0)
            rows[n++] = w->table[i];
    reply_status(w, MSG_STATUS);
    if (msg_send(w->res_fd, MSG_HIST, &w->hist, sizeof(w->hist)) != 0 ||
        msg_send(w->res_fd, MSG_HIST, &w->hist_read, sizeof(w->hist_read)) != 0 ||
        msg_send(w->res_fd, MSG_TABLE, rows, (uint32_t)(n * sizeof(*rows))) != 0)
        _exit(1);
    free(rows);
}

static void reset(worker_t *w)
{
    hist_init(&w->hist);
    hist_init(&w->hist_read);
    memset(w->table, 0, TABLE_SLOTS * sizeof(*w->table));
    w->table_used = 0;
    w->st.deliveries = w->st.foreign = w->st.kernel_stamps = 0;
    w->st.last_delivery_ns = 0;
}

/* One command from the parent; false to quit. */
static bool on_command(worker_t *w)
{
    char cmd;
    ssize_t r = read(w->cmd_fd, &cmd, 1);

    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return true;
    if (r <= 0)
        return false; /* the parent is gone */
    switch (cmd) {
    case CMD_WARM:
        w->target = w->n > 0 ? 1 : 0;
        w->warm_pending = true;
        break;
    case CMD_CONNECT:
        w->target = w->n;
        w->connect_pending = true;
        w->next_progress = now_ns() + PROGRESS_NS;
        break;
    case CMD_STATUS:
        reply_status(w, MSG_STATUS);
        break;
    case CMD_RESET:
        reset(w);
        reply_status(w, MSG_STATUS);
        break;
    case CMD_REPORT:
        send_report(w);
        break;
    case CMD_QUIT:
        return false;
    }
    return true;
}

void worker_main(const conf_t *c, int id, size_t first, size_t count, int cmd_fd, int res_fd)
{
    static struct epoll_event evs[1024];
    worker_t *w = xcalloc(1, sizeof(*w));
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = NULL};
    uint64_t next_sweep = 0;

    w->c = c;
    w->id = id;
    w->cmd_fd = cmd_fd;
    w->res_fd = res_fd;
    w->n = count;
    w->conns = xcalloc(count ? count : 1, sizeof(*w->conns));
    for (size_t i = 0; i < count; i++) {
        w->conns[i].fd = -1;
        w->conns[i].tok = (uint32_t)(first + i);
    }
    w->table = xcalloc(TABLE_SLOTS, sizeof(*w->table));
    w->scratch = xmalloc(SCRATCH_SIZE);
    w->rng = 0x9e3779b9u ^ (uint32_t)(id * 7919 + 1) ^ (uint32_t)now_ns();
    w->dst.sin_family = AF_INET;
    w->dst.sin_addr = c->host;
    w->dst.sin_port = htons((uint16_t)c->port);
    w->upgrade_len = (size_t)snprintf(w->upgrade, sizeof(w->upgrade),
                                      "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                                      "Connection: Upgrade\r\nSec-WebSocket-Key: "
                                      "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                                      "User-Agent: hearth-bench-gateway\r\n\r\n",
                                      c->path, inet_ntoa(c->host), c->port);
    hist_init(&w->hist);
    hist_init(&w->hist_read);
    w->st.conns = count;
    w->ep = epoll_create1(EPOLL_CLOEXEC);
    set_nonblock(cmd_fd);
    if (w->ep < 0 || epoll_ctl(w->ep, EPOLL_CTL_ADD, cmd_fd, &e) != 0)
        die("worker %d: epoll: %s", id, strerror(errno));

    for (;;) {
        int n = epoll_wait(w->ep, evs, 1024, 10);
        uint64_t now;

        for (int i = 0; i < n; i++) {
            conn_t *cn = evs[i].data.ptr;

            if (cn == NULL) {
                if (!on_command(w))
                    _exit(0);
                continue;
            }
            if (cn->fd < 0)
                continue; /* closed earlier in this batch */
            if (cn->state == C_CONNECTING) {
                if (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
                    on_connected(w, cn);
                continue;
            }
            if ((evs[i].events & EPOLLOUT) && cn->wlen > 0)
                conn_flush(w, cn);
            if (cn->fd >= 0 && (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
                on_readable(w, cn);
        }
        now = now_ns();
        if (now >= next_sweep) {
            sweep(w, now);
            next_sweep = now + SWEEP_NS;
        }
        start_more(w);
        if (w->warm_pending && w->n > 0 && w->conns[0].state >= C_READY &&
            w->conns[0].state != C_RETRY) {
            w->warm_pending = false;
            reply_status(w, MSG_WARM);
        }
        if (w->connect_pending) {
            if (w->settled >= w->n) {
                w->connect_pending = false;
                reply_status(w, MSG_CONNECTED);
            } else if (now >= w->next_progress) {
                reply_status(w, MSG_STATUS);
                w->next_progress = now + PROGRESS_NS;
            }
        }
    }
}
