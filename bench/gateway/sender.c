/* bench/gateway/sender.c: the sender process. It holds S keep-alive HTTP/1.1
 * connections to the REST API and posts R messages per second in total into one
 * channel for T seconds, open loop: message j is due at start + j/R and leaves on the
 * first connection with no request outstanding (so a slow reply delays later sends,
 * and the lag is reported). Each message's nonce and the start of its content are
 * the CLOCK_REALTIME nanoseconds just before its request is written: the workers
 * subtract that from the time their socket got the MESSAGE_CREATE. Requests rotate over the
 * first conf.sender_tokens tokens (Authorization: the raw user token).
 *
 * The REST round trip of each request goes into a histogram too; the result is
 * MSG_SENDER (sstat_t) and MSG_HIST to the parent, then the process exits. */
#include "bench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define DRAIN_NS (10ull * 1000000000u)    /* replies still awaited this long after T */
#define LATE_STOP_NS (2ull * 1000000000u) /* no new send starts later than T + this */
#define LOG_MAX 8

typedef struct {
    int fd;
    bool busy;
    uint64_t sent_ns; /* now_ns() of the outstanding request */
    char *in;
    size_t inlen, incap;
} sconn_t;

typedef struct {
    const conf_t *c;
    struct sockaddr_in dst;
    sconn_t *conns;
    int ep, logged;
    sstat_t st;
    hist_t rest;
    size_t tok;
    char pad[2048];
} sender_t;

static void slog(sender_t *s, const char *fmt, long v, const char *text)
{
    if (s->logged >= LOG_MAX)
        return;
    fprintf(stderr, "sender: ");
    fprintf(stderr, fmt, v, text);
    fputc('\n', stderr);
    if (++s->logged == LOG_MAX)
        fprintf(stderr, "sender: further errors not shown\n");
}

/* (Re)opens connection i, blocking until connected (5 s at most). 0 or -1. */
static int sconn_open(sender_t *s, int i)
{
    sconn_t *sc = &s->conns[i];
    struct pollfd pfd;
    struct epoll_event e = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    int err = 0;
    socklen_t len = sizeof(err);

    if (sc->fd >= 0)
        close(sc->fd);
    sc->busy = false;
    sc->inlen = 0;
    /* Senders use 127.0.0.1, the workers 127.0.0.2 and up. */
    sc->fd = tcp_connect_from(&s->dst, 0x7f000001u);
    if (sc->fd < 0)
        return -1;
    pfd.fd = sc->fd;
    pfd.events = POLLOUT;
    if (poll(&pfd, 1, 5000) != 1 || getsockopt(sc->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 ||
        err != 0 || epoll_ctl(s->ep, EPOLL_CTL_ADD, sc->fd, &e) != 0) {
        close(sc->fd);
        sc->fd = -1;
        return -1;
    }
    return 0;
}

/* Writes all of buf to a non-blocking socket, waiting for room if need be. */
static int send_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);

        if (w < 0) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                return -1;
            if (poll(&pfd, 1, 1000) < 0 && errno != EINTR)
                return -1;
            continue;
        }
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Posts one message on connection i. */
static void post(sender_t *s, int i, uint64_t due)
{
    const conf_t *c = s->c;
    sconn_t *sc = &s->conns[i];
    char body[2300], req[3000];
    const char *token = c->tokens[s->tok++ % (size_t)c->sender_tokens];
    int bn, rn;
    uint64_t t, wall;

    if (sc->fd < 0 && sconn_open(s, i) != 0) {
        s->st.errors++;
        slog(s, "cannot connect to the server (errno %ld)%s", errno, "");
        return;
    }
    t = now_ns();
    wall = wall_ns();
    bn = snprintf(body, sizeof(body), "{\"content\":\"%llu %.*s\",\"nonce\":\"%llu\"}",
                  (unsigned long long)wall, c->content_pad, s->pad, (unsigned long long)wall);
    rn = snprintf(req, sizeof(req),
                  "POST /api/v10/channels/%llu/messages HTTP/1.1\r\nHost: %s:%d\r\n"
                  "Authorization: %s\r\nContent-Type: application/json\r\n"
                  "Content-Length: %d\r\n\r\n%s",
                  (unsigned long long)c->channel_id, inet_ntoa(c->host), c->port, token, bn, body);
    if (send_all(sc->fd, req, (size_t)rn) != 0) {
        s->st.errors++;
        slog(s, "send failed (errno %ld)%s", errno, "");
        close(sc->fd);
        sc->fd = -1;
        return;
    }
    sc->busy = true;
    sc->sent_ns = t;
    s->st.sent++;
    if (s->st.first_send_ns == 0)
        s->st.first_send_ns = wall;
    s->st.last_send_ns = wall;
    if (t > due && t - due > s->st.max_lag_ns)
        s->st.max_lag_ns = t - due;
}

/* The length of the whole response at in[0..n), or 0 if it is not all there. */
static size_t response_len(const char *in, size_t n, int *status, bool *close_after)
{
    const char *end = memmem(in, n, "\r\n\r\n", 4), *p;
    size_t head;

    if (end == NULL)
        return 0;
    head = (size_t)(end + 4 - in);
    *status = n >= 12 ? atoi(in + 9) : 0;
    *close_after = false;
    for (p = in; p < end; p++) {
        p = memchr(p, '\n', (size_t)(end - p));
        if (p == NULL)
            break;
        if (strncasecmp(p + 1, "content-length:", 15) == 0) {
            size_t len = strtoul(p + 16, NULL, 10);
            return n >= head + len ? head + len : 0;
        }
        if (strncasecmp(p + 1, "connection: close", 17) == 0)
            *close_after = true;
        if (strncasecmp(p + 1, "transfer-encoding: chunked", 26) == 0) {
            const char *last = memmem(end + 2, n - (size_t)(end + 2 - in), "\r\n0\r\n\r\n", 7);
            return last ? (size_t)(last + 7 - in) : 0;
        }
    }
    return head; /* no body */
}

static void on_readable(sender_t *s, int i)
{
    sconn_t *sc = &s->conns[i];
    ssize_t r;

    if (sc->incap - sc->inlen < 4096) {
        sc->incap = sc->incap ? sc->incap * 2 : 16384;
        sc->in = xrealloc(sc->in, sc->incap);
    }
    r = recv(sc->fd, sc->in + sc->inlen, sc->incap - sc->inlen - 1, MSG_DONTWAIT);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (r <= 0) {
        if (sc->busy) {
            s->st.errors++;
            slog(s, "connection closed with a request outstanding (errno %ld)%s", r < 0 ? errno : 0,
                 "");
        }
        close(sc->fd);
        sc->fd = -1;
        sc->busy = false;
        s->st.reconnects++;
        return;
    }
    sc->inlen += (size_t)r;
    for (;;) {
        int status;
        bool close_after;
        size_t len = response_len(sc->in, sc->inlen, &status, &close_after);

        if (len == 0)
            return;
        if (sc->busy) {
            hist_add(&s->rest, now_ns() - sc->sent_ns);
            sc->busy = false;
        }
        s->st.last_status = status;
        if (status >= 200 && status < 300) {
            s->st.ok++;
        } else {
            sc->in[len < sc->incap ? len : sc->incap - 1] = '\0';
            if (status == 429)
                s->st.rate_limited++;
            else
                s->st.errors++;
            slog(s, "HTTP %ld: %.300s", status, sc->in);
        }
        memmove(sc->in, sc->in + len, sc->inlen - len);
        sc->inlen -= len;
        if (close_after) {
            close(sc->fd);
            sc->fd = -1;
            s->st.reconnects++;
            return;
        }
    }
}

void sender_main(const conf_t *c, int cmd_fd, int res_fd)
{
    sender_t *s = xcalloc(1, sizeof(*s));
    struct epoll_event evs[256];
    uint64_t start, period, end_send, give_up;
    char cmd;
    int i, nconns = c->senders;

    s->c = c;
    s->dst.sin_family = AF_INET;
    s->dst.sin_addr = c->host;
    s->dst.sin_port = htons((uint16_t)c->port);
    memset(s->pad, 'x', sizeof(s->pad));
    hist_init(&s->rest);
    s->conns = xcalloc((size_t)nconns, sizeof(*s->conns));
    s->ep = epoll_create1(EPOLL_CLOEXEC);
    for (i = 0; i < nconns; i++) {
        s->conns[i].fd = -1;
        if (sconn_open(s, i) != 0)
            die("sender: cannot connect to the server: %s", strerror(errno));
    }
    if (msg_send(res_fd, MSG_SENDER_READY, NULL, 0) != 0 || read_all(cmd_fd, &cmd, 1) != 0 ||
        cmd != CMD_GO)
        _exit(1);

    s->st.planned = (uint64_t)(c->rate * c->seconds + 0.5);
    period = (uint64_t)(1e9 / c->rate);
    start = now_ns();
    end_send = start + (uint64_t)(c->seconds * 1e9) + LATE_STOP_NS;
    give_up = start + (uint64_t)(c->seconds * 1e9) + DRAIN_NS;
    for (uint64_t j = 0;;) {
        uint64_t now = now_ns();
        int busy = 0, timeout, n;

        /* Every due message goes out on an idle connection. */
        while (j < s->st.planned && start + j * period <= now && now < end_send) {
            for (i = 0; i < nconns && s->conns[i].busy; i++)
                ;
            if (i == nconns)
                break;
            post(s, i, start + j * period);
            j++;
        }
        for (i = 0; i < nconns; i++)
            busy += s->conns[i].busy;
        if ((j >= s->st.planned || now >= end_send) && busy == 0)
            break;
        if (now >= give_up) {
            s->st.errors += (uint64_t)busy;
            slog(s, "%ld replies never came%s", busy, "");
            break;
        }
        if (j < s->st.planned && now < end_send && busy < nconns) {
            uint64_t due = start + j * period;
            timeout = due > now ? (int)((due - now + 999999) / 1000000) : 0;
        } else {
            timeout = 100;
        }
        n = epoll_wait(s->ep, evs, 256, timeout);
        for (int k = 0; k < n; k++)
            on_readable(s, (int)evs[k].data.u32);
    }
    if (msg_send(res_fd, MSG_SENDER, &s->st, sizeof(s->st)) != 0 ||
        msg_send(res_fd, MSG_HIST, &s->rest, sizeof(s->rest)) != 0)
        _exit(1);
    _exit(0);
}
