/* Tests of socket I/O and the blocking-work pool (runtime/io/).
 *
 * The server side is made of processes: a listener event process that accepts and
 * hands each connection to a per-connection event process (echo, crash, burst of
 * writes, flood...). The client side is plain blocking sockets in the test's own
 * thread, which is also an attached process: it receives reports from the server
 * processes, and can own hearth sockets itself. Everything talks to 127.0.0.1 on
 * ports the kernel picks, so tests can run in parallel. */
#include "task.h"

#include "io/io.h" /* hearth__io_stats: write coalescing and payload references */

#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
    T_START = 1, /* to a connection process: the socket is yours, start */
    T_COUNT,     /* to the observer: value = sockets the listener holds */
    T_BROADCAST, /* to a collecting listener: write the bytes to every socket */
    T_SENT,      /* to the observer: value = sockets written to */
    T_FLOODED,   /* to the observer: value = bytes queued before EAGAIN */
    T_TID,       /* to the observer: value = pthread id, ref = 1 if on a scheduler */
    T_PING,
    T_PONG,
    T_JOB,      /* to a job-submitting process: value = job count */
    T_JOB_DONE, /* to the observer: ref = work ref, value = result */
    T_CONN,     /* to the observer: value = a new connection process */
    T_PAUSE,    /* to a connection process: stop reading, then tell the observer */
    T_RESUME,   /* to a connection process: read again */
};

enum {
    MODE_ECHO = 1,
    MODE_CRASH,
    MODE_BURST,
    MODE_FLOOD,       /* write until EAGAIN, report the bytes queued */
    MODE_FLOOD_CLOSE, /* the same, then close */
    MODE_GIVE_DIES,
    MODE_COLLECT,
    MODE_SAY_BYE, /* write BYE_LEN bytes and close at once */
};

#define BYE_LEN (256 << 10)

static uint8_t bye_byte(size_t i)
{
    return (uint8_t)(i * 7 + i / 251);
}

#define BURST_LINES 1000
#define LINE_LEN 8 /* "%07u\n" */

/* Line i of a burst: 7 digits and a newline (buf holds at least 16 bytes). */
static void burst_line(char *buf, int i)
{
    snprintf(buf, 16, "%07u\n", (unsigned)i % 10000000u);
}

static hearth_config_t cfg_with(int schedulers)
{
    hearth_config_t cfg = {0};
    cfg.schedulers = schedulers;
    cfg.fault_seed = 42;
    return cfg;
}

static bool match_tag(const hearth_msg_t *m, void *arg)
{
    return m->tag == *(uint32_t *)arg;
}

/* The next message with tag, or NULL after timeout_ms. */
static hearth_msg_t *recv_tag(uint32_t tag, int64_t timeout_ms)
{
    hearth_msg_t *m = NULL;

    if (hearth_receive(match_tag, &tag, timeout_ms, &m) != 0)
        return NULL;
    return m;
}

static void tell(hearth_pid_t to, uint32_t tag, int64_t value)
{
    hearth_send(to, hearth_msg_int(tag, value));
}

/* ---- the server: a listener process and per-connection processes ---------------- */

typedef struct server {
    int mode;
    hearth_pid_t observer;
    hearth_sock_t lsock;
    int port;
    /* MODE_COLLECT: the accepted sockets, kept by the listener */
    hearth_sock_t socks[1024];
    size_t nsocks, want;
} server_t;

typedef struct conn {
    int mode;
    hearth_sock_t sock;
    hearth_pid_t observer;
} conn_t;

static int conn_init(void **state, void *arg)
{
    conn_t *c = calloc(1, sizeof(*c));

    ASSERT_NOT_NULL(c);
    *c = *(conn_t *)arg;
    *state = c;
    return 0;
}

static void conn_terminate(void *state, hearth_reason_t reason)
{
    (void)reason;
    free(state);
}

static int conn_flood(conn_t *c)
{
    static char chunk[64 << 10];
    int64_t queued = 0;
    int err;

    memset(chunk, 'f', sizeof(chunk));
    for (;;) {
        err = hearth_tcp_write(c->sock, chunk, sizeof(chunk));
        if (err == HEARTH_EAGAIN)
            break;
        ASSERT_OK(err);
        queued += (int64_t)sizeof(chunk);
        ASSERT_LT(queued, 64 << 20); /* the bound must stop us long before this */
    }
    tell(c->observer, T_FLOODED, queued);
    if (c->mode == MODE_FLOOD_CLOSE)
        ASSERT_OK(hearth_tcp_close(c->sock));
    return 0;
}

static int conn_handle(void *state, hearth_msg_t *m)
{
    conn_t *c = state;
    char line[16];
    int i;

    switch (m->tag) {
    case T_START:
        if (c->mode == MODE_GIVE_DIES)
            return HEARTH_STOP; /* dies without ever touching its socket */
        if (c->mode == MODE_FLOOD || c->mode == MODE_FLOOD_CLOSE)
            return conn_flood(c);
        if (c->mode == MODE_SAY_BYE) {
            /* Likely before the socket's loop has even opened it: the close must
             * still deliver every queued byte first. */
            uint8_t *bye = malloc(BYE_LEN);
            size_t k;
            ASSERT_NOT_NULL(bye);
            for (k = 0; k < BYE_LEN; k++)
                bye[k] = bye_byte(k);
            ASSERT_OK(hearth_tcp_write(c->sock, bye, BYE_LEN / 2));
            ASSERT_OK(hearth_tcp_write(c->sock, bye + BYE_LEN / 2, BYE_LEN / 2));
            ASSERT_OK(hearth_tcp_close(c->sock));
            free(bye); /* the writes copied it */
            return 0;
        } /* never reads: the client does not write */
        {
            char peer[64];
            ASSERT_OK(hearth_tcp_peer(c->sock, peer, sizeof(peer)));
            ASSERT_EQ(0, strcmp(peer, "127.0.0.1")); /* the clients here are local */
        }
        ASSERT_OK(hearth_tcp_read_start(c->sock));
        return 0;
    case HEARTH_MSG_TCP_DATA:
        ASSERT_EQ(c->sock, m->ref);
        ASSERT_GT(m->len, 0);
        if (c->mode == MODE_CRASH)
            return -1000;
        if (c->mode == MODE_BURST) {
            /* All queued in one handler: they should leave in one writev. */
            for (i = 0; i < BURST_LINES; i++) {
                burst_line(line, i);
                ASSERT_OK(hearth_tcp_write(c->sock, line, LINE_LEN));
            }
            return 0;
        }
        ASSERT_OK(hearth_tcp_write(c->sock, m->data, m->len));
        return 0;
    case HEARTH_MSG_TCP_CLOSED:
        ASSERT_EQ(c->sock, m->ref);
        return HEARTH_STOP;
    case T_PAUSE:
        ASSERT_OK(hearth_tcp_read_stop(c->sock));
        tell(c->observer, T_PAUSE, 0);
        return 0;
    case T_RESUME:
        ASSERT_OK(hearth_tcp_read_start(c->sock));
        return 0;
    default:
        return 0;
    }
}

static const hearth_actor_t conn_actor = {"test-conn", conn_init, conn_handle, conn_terminate};

static int listener_init(void **state, void *arg)
{
    server_t *s = arg;

    ASSERT_OK(hearth_tcp_listen("127.0.0.1", 0, 0, &s->lsock));
    s->port = hearth_tcp_port(s->lsock);
    ASSERT_GT(s->port, 0);
    *state = s;
    return 0;
}

static void listener_broadcast(server_t *s, hearth_msg_t *m)
{
    hearth_payload_t *p = hearth_payload_new(m->data, m->len);
    int64_t sent = 0;
    size_t i;

    for (i = 0; i < s->nsocks; i++)
        sent += hearth_tcp_write_shared(s->socks[i], p) == 0;
    hearth_payload_unref(p); /* the sockets hold their own references now */
    tell(s->observer, T_SENT, sent);
}

static int listener_handle(void *state, hearth_msg_t *m)
{
    server_t *s = state;
    conn_t c;
    hearth_pid_t pid;

    if (m->tag == T_BROADCAST) {
        listener_broadcast(s, m);
        return 0;
    }
    if (m->tag != HEARTH_MSG_TCP_ACCEPTED)
        return 0;
    if (s->mode == MODE_COLLECT) {
        ASSERT_LT(s->nsocks, sizeof(s->socks) / sizeof(s->socks[0]));
        s->socks[s->nsocks++] = m->ref;
        if (s->nsocks == s->want) /* the handles, for writers that do not own them */
            hearth_send(s->observer,
                        hearth_msg_copy(T_COUNT, s->socks, s->nsocks * sizeof(s->socks[0])));
        return 0;
    }
    c.mode = s->mode;
    c.sock = m->ref;
    c.observer = s->observer;
    ASSERT_OK(hearth_spawn(&conn_actor, &c, 0, &pid));
    ASSERT_OK(hearth_tcp_give(m->ref, pid));
    /* Given away: the listener may no longer read it. */
    ASSERT_EQ(HEARTH_EINVAL, hearth_tcp_read_start(m->ref));
    tell(pid, T_START, 0);
    tell(s->observer, T_CONN, (int64_t)pid);
    return 0;
}

static const hearth_actor_t listener_actor = {"test-listener", listener_init, listener_handle,
                                              NULL};

/* Spawns a listener in mode; its port is in s->port. s must outlive the runtime. */
static hearth_pid_t server_start_n(server_t *s, int mode, size_t want)
{
    hearth_pid_t pid;

    memset(s, 0, sizeof(*s));
    s->mode = mode;
    s->want = want;
    s->observer = hearth_self();
    ASSERT_OK(hearth_spawn(&listener_actor, s, 0, &pid));
    return pid;
}

static hearth_pid_t server_start(server_t *s, int mode)
{
    return server_start_n(s, mode, 0);
}

/* ---- the client: plain blocking sockets ---------------------------------------------- */

static int client_connect(int port)
{
    struct sockaddr_in sin;
    struct timeval tv = {10, 0};
    int fd, one = 1;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_OK(connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
    ASSERT_OK(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
    ASSERT_OK(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)));
    ASSERT_OK(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)));
    return fd;
}

static void send_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    ssize_t n;

    while (len > 0) {
        n = send(fd, p, len, MSG_NOSIGNAL);
        ASSERT_GT(n, 0);
        p += n;
        len -= (size_t)n;
    }
}

/* Reads exactly len bytes (fails on EOF or the 10 s receive timeout). */
static void recv_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    ssize_t n;

    while (len > 0) {
        n = recv(fd, p, len, 0);
        if (n <= 0)
            test__fail(__FILE__, __LINE__, "recv_all: %zd (%s), %zu bytes missing", n,
                       n < 0 ? strerror(errno) : "EOF", len);
        p += n;
        len -= (size_t)n;
    }
}

/* True if the peer closed: recv sees EOF (or a reset) within timeout_ms. */
static bool peer_closed(int fd, int timeout_ms)
{
    struct pollfd pfd = {fd, POLLIN, 0};
    char c;

    if (poll(&pfd, 1, timeout_ms) != 1)
        return false;
    return recv(fd, &c, 1, MSG_DONTWAIT) <= 0;
}

/* Sends out (in pieces of random sizes) while reading the echo into in, so neither
 * side's buffers fill up and stall the other. */
static void echo_exchange(int fd, const uint8_t *out, uint8_t *in, size_t len, uint64_t seed)
{
    struct pollfd pfd;
    size_t sent = 0, got = 0, piece;
    ssize_t n;

    while (got < len) {
        pfd.fd = fd;
        pfd.events = POLLIN | (sent < len ? POLLOUT : 0);
        pfd.revents = 0;
        ASSERT_EQ(1, poll(&pfd, 1, 10000));
        if ((pfd.revents & POLLOUT) && sent < len) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            piece = 1 + (size_t)(seed >> 33) % 9000;
            if (piece > len - sent)
                piece = len - sent;
            n = send(fd, out + sent, piece, MSG_NOSIGNAL | MSG_DONTWAIT);
            ASSERT(n > 0 || errno == EAGAIN);
            if (n > 0)
                sent += (size_t)n;
        }
        if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
            n = recv(fd, in + got, len - got, MSG_DONTWAIT);
            ASSERT(n > 0 || (n < 0 && errno == EAGAIN));
            if (n > 0)
                got += (size_t)n;
        }
    }
}

/* CPU time this process used so far, all threads. */
static double cpu_seconds(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Times a thread of this process gave up the CPU to wait: each sleeping scheduler
 * woken by a timer counts one. */
static long wakeups(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_nvcsw;
}

/* Waits until the io layer holds no payload reference (writes complete). */
static int64_t shared_held_settled(int64_t timeout_ms)
{
    hearth__io_stats_t st;
    uint64_t deadline = hearth_now_ms() + (uint64_t)timeout_ms;

    for (;;) {
        hearth__io_stats(&st);
        if (st.shared_held == 0 || hearth_now_ms() > deadline)
            return st.shared_held;
        usleep(1000);
    }
}

/* ---- tests -------------------------------------------------------------------------- */

TEST_IMPL(io_echo_roundtrip)
{
    hearth_config_t cfg = cfg_with(2);
    static server_t srv;
    char buf[64];
    int fd, i;

    ASSERT_OK(hearth_start(&cfg));
    server_start(&srv, MODE_ECHO);
    fd = client_connect(srv.port);
    for (i = 0; i < 100; i++) {
        int n = snprintf(buf, sizeof(buf), "hello %d", i);
        char back[64];
        send_all(fd, buf, (size_t)n);
        recv_all(fd, back, (size_t)n);
        ASSERT_OK(memcmp(buf, back, (size_t)n));
    }
    close(fd);
    ASSERT_OK(hearth_stop());
    return 0;
}

TEST_IMPL(io_echo_1mib_in_pieces)
{
    hearth_config_t cfg = cfg_with(2);
    static server_t srv;
    size_t len = (size_t)1 << 20, i;
    uint8_t *out = malloc(len), *in = calloc(1, len);
    uint64_t x = test_seed() | 1;
    int fd;

    ASSERT_NOT_NULL(out);
    ASSERT_NOT_NULL(in);
    for (i = 0; i < len; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        out[i] = (uint8_t)x;
    }
    ASSERT_OK(hearth_start(&cfg));
    server_start(&srv, MODE_ECHO);
    fd = client_connect(srv.port);
    echo_exchange(fd, out, in, len, x);
    ASSERT_OK(memcmp(out, in, len));
    close(fd);
    ASSERT_OK(hearth_stop());
    free(out);
    free(in);
    return 0;
}

TEST_IMPL(io_many_connections)
{
    hearth_config_t cfg = cfg_with(2);
    static server_t srv;
    size_t n = test_scaled(500), i;
    int *fds = calloc(n, sizeof(*fds));
    char buf[32], back[32];
    hearth__io_stats_t st;
    int len;

    ASSERT_NOT_NULL(fds);
    ASSERT_OK(hearth_start(&cfg));
    server_start(&srv, MODE_ECHO);
    /* All connected and talking at once: every line is in flight before any is read. */
    for (i = 0; i < n; i++)
        fds[i] = client_connect(srv.port);
    for (i = 0; i < n; i++) {
        len = snprintf(buf, sizeof(buf), "conn %zu", i);
        send_all(fds[i], buf, (size_t)len);
    }
    for (i = 0; i < n; i++) {
        len = snprintf(buf, sizeof(buf), "conn %zu", i);
        recv_all(fds[i], back, (size_t)len);
        ASSERT_OK(memcmp(buf, back, (size_t)len));
    }
    hearth__io_stats(&st);
    ASSERT_EQ(n, st.accepted);
    ASSERT_GE(st.socks, (int64_t)n + 1);
    for (i = 0; i < n; i++)
        close(fds[i]);
    /* Each connection process sees TCP_CLOSED, stops, and its socket is recycled. */
    for (i = 0; i < 5000; i++) {
        hearth__io_stats(&st);
        if (st.socks == 1)
            break;
        usleep(1000);
    }
    ASSERT_EQ(1, st.socks); /* the listener */
    ASSERT_OK(hearth_stop());
    hearth__io_stats(&st);
    ASSERT_EQ(0, st.socks);
    free(fds);
    return 0;
}

TEST_IMPL(io_read_stop_pauses_reading)
{
    hearth_config_t cfg = cfg_with(2);
    static server_t srv;
    struct pollfd pfd;
    hearth_pid_t conn;
    hearth_msg_t *m;
    char back[5];
    int fd;

    ASSERT_OK(hearth_start(&cfg));
    server_start(&srv, MODE_ECHO);
    fd = client_connect(srv.port);
    m = recv_tag(T_CONN, 5000);
    ASSERT_NOT_NULL(m);
    conn = (hearth_pid_t)m->value;
    hearth_msg_free(m);
    send_all(fd, "one", 3);
    recv_all(fd, back, 3);

    tell(conn, T_PAUSE, 0);
    m = recv_tag(T_PAUSE, 5000);
    ASSERT_NOT_NULL(m);
    hearth_msg_free(m);
    usleep(50 * 1000); /* the read stop travels to the socket's loop */
    send_all(fd, "two", 3);
    pfd.fd = fd;
    pfd.events = POLLIN;
    ASSERT_EQ(0, poll(&pfd, 1, 300)); /* not read, so not echoed */

    tell(conn, T_RESUME, 0);
    recv_all(fd, back, 3);
    ASSERT_OK(memcmp("two", back, 3));
    close(fd);
    ASSERT_OK(hearth_stop());
    return 0;
}

TEST_IMPL(io_idle_sockets_cost_no_cpu)
{
    hearth_config_t cfg = cfg_with(2);
    static server_t srv;
    int fds[20], i;
    char back[2];
    double cpu0;
    long csw0;

    /* Open, adopted, quiet connections: no timer may keep waking the schedulers. */
    ASSERT_OK(hearth_start(&cfg));
    server_start(&srv, MODE_ECHO);
    for (i = 0; i < 20; i++) {
        fds[i] = client_connect(srv.port);
        send_all(fds[i], "hi", 2);
        recv_all(fds[i], back, 2);
    }
    usleep(200 * 1000); /* let the watch see every socket adopted */
    cpu0 = cpu_seconds();
    csw0 = wakeups();
    usleep(500 * 1000);
    ASSERT(cpu_seconds() - cpu0 < 0.02);
#ifndef HEARTH_TSAN                 /* ThreadSanitizer's own background thread wakes every 100 ms */
    ASSERT_LE(wakeups() - csw0, 3); /* our own sleep, and a little slack */
#else
    (void)csw0;
#endif
    for (i = 0; i < 20; i++)
        close(fds[i]);
    ASSERT_OK(hearth_stop());
    return 0;
}

TEST_IMPL(io_runtime_restarts)
{
    hearth_config_t cfg = cfg_with(2);
    static server_t srv;
    hearth__io_stats_t st;
    char back[4];
    int fd, round;

    /* Sockets left open at stop are closed by it, and the next start begins clean. */
    for (round = 0; round < 3; round++) {
        ASSERT_OK(hearth_start(&cfg));
        server_start(&srv, MODE_ECHO);
        fd = client_connect(srv.port);
        send_all(fd, "ping", 4);
        recv_all(fd, back, 4);
        ASSERT_OK(memcmp("ping", back, 4));
        ASSERT_OK(hearth_stop());
        ASSERT(peer_closed(fd, 5000));
        close(fd);
        hearth__io_stats(&st);
        ASSERT_EQ(0, st.socks);
        ASSERT_EQ(0, st.shared_held);
    }
    return 0;
}

TEST_IMPL(io_crash_closes_socket)
{
    hearth_config_t cfg = cfg_with(2);
    static server_t srv;
    int fd;

    ASSERT_OK(hearth_start(&cfg));
    server_start(&srv, MODE_CRASH);
    fd = client_connect(srv.port);
    send_all(fd, "boom", 4);
    ASSERT(peer_closed(fd, 5000));
    close(fd);
    ASSERT_OK(hearth_stop());
    return 0;
}

TEST_IMPL(io_give_to_dying_owner_closes)
{
    hearth_config_t cfg = cfg_with(2);
    static server_t srv;
    int fd;

    /* The connection process dies before it ever touches its socket, so the socket is
     * in no process's list: the loop's watch must notice the dead owner. */
    ASSERT_OK(hearth_start(&cfg));
    server_start(&srv, MODE_GIVE_DIES);
    fd = client_connect(srv.port);
    ASSERT(peer_closed(fd, 5000));
    close(fd);
    ASSERT_OK(hearth_stop());
    return 0;
}

TEST_IMPL(io_listener_closes_with_owner)
{
    hearth_config_t cfg = cfg_with(2);
    static server_t srv;
    struct sockaddr_in sin;
    hearth_reason_t reason;
    hearth_pid_t pid;
    int fd, i, rc = 0;

    ASSERT_OK(hearth_start(&cfg));
    pid = server_start(&srv, MODE_ECHO);
    ASSERT_OK(hearth_exit_signal(pid, HEARTH_KILL));
    ASSERT_OK(hearth_wait(pid, 5000, &reason));
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)srv.port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (i = 0; i < 500; i++) { /* the close goes through the listener's loop */
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        rc = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
        if (rc < 0)
            ASSERT_EQ(ECONNREFUSED, errno);
        close(fd);
        if (rc < 0)
            break;
        usleep(10000);
    }
    ASSERT_EQ(-1, rc);
    ASSERT_EQ(HEARTH_EINVAL, hearth_tcp_port(srv.lsock));
    ASSERT_OK(hearth_stop());
    return 0;
}

TEST_IMPL(io_writes_coalesce)
{
    hearth_config_t cfg = cfg_with(1);
    static server_t srv;
    static char got[BURST_LINES * LINE_LEN + 1];
    char want[16];
    hearth__io_stats_t before, after;
    int fd, i;

    /* One scheduler: the handler and the socket's loop share a thread, so nothing can
     * be written while the handler queues, and all 1,000 writes must go as one. */
    ASSERT_OK(hearth_start(&cfg));
    server_start(&srv, MODE_BURST);
    fd = client_connect(srv.port);
    hearth__io_stats(&before);
    send_all(fd, "go", 2);
    recv_all(fd, got, BURST_LINES * LINE_LEN);
    for (i = 0; i < BURST_LINES; i++) {
        burst_line(want, i);
        ASSERT_OK(memcmp(want, got + i * LINE_LEN, LINE_LEN));
    }
    hearth__io_stats(&after);
    ASSERT_GE(after.writes - before.writes, 1);
    ASSERT_LE(after.writes - before.writes, 2);
    ASSERT_GE(after.write_bufs - before.write_bufs, BURST_LINES);
    close(fd);
    ASSERT_OK(hearth_stop());
    return 0;
}

TEST_IMPL(io_writes_in_order_across_threads)
{
    hearth_config_t cfg = cfg_with(2);
    static server_t srv;
    static char got[BURST_LINES * LINE_LEN];
    char want[16];
    hearth__io_stats_t before, after;
    int fd, i, round;

    /* Two schedulers: the socket's loop may write while the handler still queues.
     * Order and content must hold anyway, and batching still beats one write each. */
    ASSERT_OK(hearth_start(&cfg));
    server_start(&srv, MODE_BURST);
    fd = client_connect(srv.port);
    hearth__io_stats(&before);
    for (round = 0; round < 10; round++) {
        send_all(fd, "go", 2);
        recv_all(fd, got, sizeof(got));
        for (i = 0; i < BURST_LINES; i++) {
            burst_line(want, i);
            ASSERT_OK(memcmp(want, got + i * LINE_LEN, LINE_LEN));
        }
    }
    hearth__io_stats(&after);
    ASSERT_LT(after.writes - before.writes, 10 * BURST_LINES / 4);
    close(fd);
    ASSERT_OK(hearth_stop());
    return 0;
}

TEST_IMPL(io_write_shared_fanout)
{
    hearth_config_t cfg = cfg_with(2);
    static server_t srv;
    size_t n = 100, len = 48 << 10, i;
    char *payload = malloc(len), *got = malloc(2 * len);
    hearth_sock_t socks[100];
    hearth_payload_t *p;
    hearth_msg_t *m;
    int fds[100];
    hearth_pid_t pid;

    ASSERT_NOT_NULL(payload);
    ASSERT_NOT_NULL(got);
    for (i = 0; i < len; i++)
        payload[i] = (char)('a' + i % 26);
    ASSERT_OK(hearth_start(&cfg));
    pid = server_start_n(&srv, MODE_COLLECT, n);
    for (i = 0; i < n; i++)
        fds[i] = client_connect(srv.port);
    m = recv_tag(T_COUNT, 10000);
    ASSERT_NOT_NULL(m);
    ASSERT_EQ(n * sizeof(socks[0]), m->len);
    memcpy(socks, m->data, m->len);
    hearth_msg_free(m);

    /* One payload, written to 100 sockets without a copy, by the process that owns
     * them... */
    ASSERT_OK(hearth_send(pid, hearth_msg_copy(T_BROADCAST, payload, len)));
    m = recv_tag(T_SENT, 10000);
    ASSERT_NOT_NULL(m);
    ASSERT_EQ(n, m->value);
    hearth_msg_free(m);
    /* ...and one written by a thread that owns none of them, as a channel process
     * writes to its members' connections. */
    p = hearth_payload_new(payload, len);
    for (i = 0; i < n; i++)
        ASSERT_OK(hearth_tcp_write_shared(socks[i], p));
    hearth_payload_unref(p);
    for (i = 0; i < n; i++) {
        recv_all(fds[i], got, 2 * len);
        ASSERT_OK(memcmp(payload, got, len));
        ASSERT_OK(memcmp(payload, got + len, len));
    }
    /* Every reference the sockets held is dropped once written; the writers dropped
     * their own, so both payloads are freed (LeakSanitizer checks it under ASan). */
    ASSERT_EQ(0, shared_held_settled(5000));
    for (i = 0; i < n; i++)
        close(fds[i]);
    ASSERT_OK(hearth_stop());
    free(payload);
    free(got);
    return 0;
}

/* The highest open descriptor. */
static int max_open_fd(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    int max = 0;

    ASSERT_NOT_NULL(d);
    while ((de = readdir(d)) != NULL)
        if (atoi(de->d_name) > max)
            max = atoi(de->d_name);
    closedir(d);
    return max;
}

TEST_IMPL(io_accept_survives_fd_exhaustion)
{
    hearth_config_t cfg = cfg_with(2);
    static server_t srv;
    struct sockaddr_in sin;
    struct rlimit old, low;
    hearth__io_stats_t st0, st1;
    int fds[8], nfill = 0, i, fd;
    static int fillers[4096];
    char back[8];
    double cpu0;

    ASSERT_OK(hearth_start(&cfg));
    server_start(&srv, MODE_ECHO);
    for (i = 0; i < 8; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ASSERT_GE(fds[i], 0);
    }
    /* No descriptor left: the limit just above the highest one, holes filled. */
    ASSERT_OK(getrlimit(RLIMIT_NOFILE, &old));
    low = old;
    low.rlim_cur = (rlim_t)max_open_fd() + 1;
    ASSERT_OK(setrlimit(RLIMIT_NOFILE, &low));
    errno = 0;
    while (nfill < 4096 && (fd = dup(0)) >= 0)
        fillers[nfill++] = fd;
    ASSERT_EQ(EMFILE, errno);

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)srv.port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    hearth__io_stats(&st0);
    for (i = 0; i < 8; i++) /* the handshakes complete in the listen backlog */
        ASSERT_OK(connect(fds[i], (struct sockaddr *)&sin, sizeof(sin)));
    cpu0 = cpu_seconds();
    usleep(300 * 1000);
    hearth__io_stats(&st1);
    ASSERT_EQ(st0.accepted, st1.accepted);
    /* The listener pauses instead of spinning on a readable fd it cannot accept. */
    ASSERT(cpu_seconds() - cpu0 < 0.15);

    for (i = 0; i < nfill; i++)
        close(fillers[i]);
    ASSERT_OK(setrlimit(RLIMIT_NOFILE, &old));
    for (i = 0; i < 8; i++) {
        struct timeval tv = {10, 0};
        ASSERT_OK(setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
        send_all(fds[i], "again", 5);
        recv_all(fds[i], back, 5);
        ASSERT_OK(memcmp("again", back, 5));
        close(fds[i]);
    }
    ASSERT_OK(hearth_stop());
    return 0;
}

TEST_IMPL(io_write_backpressure)
{
    hearth_config_t cfg = cfg_with(2);
    static server_t srv;
    static char buf[64 << 10];
    hearth_msg_t *m;
    int64_t queued, got = 0;
    ssize_t n;
    int fd;

    ASSERT_OK(hearth_start(&cfg));
    server_start(&srv, MODE_FLOOD);
    fd = client_connect(srv.port);
    m = recv_tag(T_FLOODED, 10000);
    ASSERT_NOT_NULL(m);
    queued = m->value;
    hearth_msg_free(m);
    /* The queue is bounded at 4 MiB (the kernel takes some meanwhile). */
    ASSERT_GE(queued, 4 << 20);
    ASSERT_LT(queued, 32 << 20);
    /* Everything accepted is delivered. */
    while (got < queued) {
        n = recv(fd, buf, sizeof(buf), 0);
        ASSERT_GT(n, 0);
        got += n;
    }
    ASSERT_EQ(queued, got);
    close(fd);
    ASSERT_OK(hearth_stop());
    return 0;
}

TEST_IMPL(io_close_flushes_queued_writes)
{
    hearth_config_t cfg = cfg_with(2);
    static server_t srv;
    static uint8_t got[BYE_LEN + 1];
    size_t have = 0, k;
    ssize_t n;
    int fd, round;

    ASSERT_OK(hearth_start(&cfg));
    server_start(&srv, MODE_SAY_BYE);
    for (round = 0; round < 10; round++) {
        fd = client_connect(srv.port);
        have = 0;
        while ((n = recv(fd, got + have, sizeof(got) - have, 0)) > 0)
            have += (size_t)n;
        ASSERT_EQ(0, n);          /* a clean end, after... */
        ASSERT_EQ(BYE_LEN, have); /* ...every byte */
        for (k = 0; k < BYE_LEN; k++)
            ASSERT_EQ(bye_byte(k), got[k]);
        close(fd);
    }
    ASSERT_OK(hearth_stop());
    return 0;
}

TEST_IMPL(io_close_gives_up_on_stalled_peer)
{
    hearth_config_t cfg = cfg_with(2);
    static server_t srv;
    static char buf[64 << 10];
    hearth__io_stats_t st;
    hearth_msg_t *m;
    int64_t queued, got = 0;
    ssize_t n;
    int fd, i;

    /* A close waits for queued writes, but a peer that stopped reading must not keep
     * the descriptor forever: after the linger time the rest is dropped. */
    atomic_store(&hearth__io_linger_ms, 200);
    ASSERT_OK(hearth_start(&cfg));
    server_start(&srv, MODE_FLOOD_CLOSE);
    fd = client_connect(srv.port);
    m = recv_tag(T_FLOODED, 10000);
    ASSERT_NOT_NULL(m);
    queued = m->value;
    hearth_msg_free(m);
    for (i = 0; i < 3000; i++) {
        hearth__io_stats(&st);
        if (st.socks == 1)
            break;
        usleep(1000);
    }
    ASSERT_EQ(1, st.socks); /* only the listener is left */
    /* The client gets what the kernel had taken, then the end. */
    while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
        got += n;
    ASSERT(n == 0 || errno == ECONNRESET);
    ASSERT_LT(got, queued);
    close(fd);
    ASSERT_OK(hearth_stop());
    return 0;
}

TEST_IMPL(io_connect_to_hearth_listener)
{
    hearth_config_t cfg = cfg_with(2);
    static server_t srv;
    hearth_sock_t s;
    hearth_msg_t *m;
    char got[64];
    size_t have = 0;
    const char *msg = "ping from a hearth socket";

    ASSERT_OK(hearth_start(&cfg));
    server_start(&srv, MODE_ECHO);
    /* The test thread owns the client socket and receives its events. */
    ASSERT_OK(hearth_tcp_connect("127.0.0.1", srv.port, &s));
    m = recv_tag(HEARTH_MSG_TCP_CONNECTED, 5000);
    ASSERT_NOT_NULL(m);
    ASSERT_EQ(s, m->ref);
    ASSERT_OK(m->value);
    hearth_msg_free(m);
    ASSERT_GT(hearth_tcp_port(s), 0);
    ASSERT_OK(hearth_tcp_read_start(s));
    ASSERT_OK(hearth_tcp_write(s, msg, strlen(msg)));
    while (have < strlen(msg)) {
        m = recv_tag(HEARTH_MSG_TCP_DATA, 5000);
        ASSERT_NOT_NULL(m);
        ASSERT_EQ(s, m->ref);
        ASSERT_LE(have + m->len, strlen(msg));
        memcpy(got + have, m->data, m->len);
        have += m->len;
        hearth_msg_free(m);
    }
    ASSERT_OK(memcmp(msg, got, have));
    ASSERT_OK(hearth_tcp_close(s));
    ASSERT_OK(hearth_stop());
    return 0;
}

TEST_IMPL(io_connect_refused)
{
    hearth_config_t cfg = cfg_with(2);
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    hearth_sock_t s;
    hearth_msg_t *m;
    int fd, port, i;

    /* A port that was just free: bound, then closed without listening. */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_OK(bind(fd, (struct sockaddr *)&sin, sizeof(sin)));
    ASSERT_OK(getsockname(fd, (struct sockaddr *)&sin, &len));
    port = ntohs(sin.sin_port);
    close(fd);

    ASSERT_OK(hearth_start(&cfg));
    ASSERT_EQ(HEARTH_EINVAL, hearth_tcp_connect("no such host", port, &s));
    ASSERT_OK(hearth_tcp_connect("127.0.0.1", port, &s));
    m = recv_tag(HEARTH_MSG_TCP_CONNECTED, 5000);
    ASSERT_NOT_NULL(m);
    ASSERT_EQ(s, m->ref);
    ASSERT_EQ(-ECONNREFUSED, m->value);
    hearth_msg_free(m);
    /* A failed socket is closed: its handle goes stale. */
    for (i = 0; i < 5000 && hearth_tcp_port(s) != HEARTH_EINVAL; i++)
        usleep(1000);
    ASSERT_EQ(HEARTH_EINVAL, hearth_tcp_port(s));
    ASSERT_OK(hearth_stop());
    return 0;
}

TEST_IMPL(io_stale_handle_refused)
{
    hearth_config_t cfg = cfg_with(2);
    hearth_sock_t a, b;
    int i;

    ASSERT_OK(hearth_start(&cfg));
    ASSERT_EQ(HEARTH_EINVAL, hearth_tcp_write(0, "x", 1));
    ASSERT_EQ(HEARTH_EINVAL, hearth_tcp_close((hearth_sock_t)0x123456789abcull));
    ASSERT_EQ(HEARTH_EINVAL, hearth_tcp_port(~(hearth_sock_t)0));

    ASSERT_OK(hearth_tcp_listen("127.0.0.1", 0, 0, &a));
    ASSERT_GT(hearth_tcp_port(a), 0);
    ASSERT_OK(hearth_tcp_close(a));
    ASSERT_OK(hearth_tcp_close(a)); /* closing already: fine */
    for (i = 0; i < 5000 && hearth_tcp_port(a) != HEARTH_EINVAL; i++)
        usleep(1000);
    ASSERT_EQ(HEARTH_EINVAL, hearth_tcp_port(a));

    /* The slot is reused by the next socket; the old handle must not reach it. */
    ASSERT_OK(hearth_tcp_listen("127.0.0.1", 0, 0, &b));
    ASSERT_EQ((uint32_t)a, (uint32_t)b); /* same slot... */
    ASSERT_NE(a, b);                     /* ...another generation */
    ASSERT_EQ(HEARTH_EINVAL, hearth_tcp_close(a));
    ASSERT_EQ(HEARTH_EINVAL, hearth_tcp_read_stop(a));
    ASSERT_EQ(HEARTH_EINVAL, hearth_tcp_give(a, hearth_self()));
    ASSERT_EQ(HEARTH_EINVAL, hearth_tcp_port(a));
    ASSERT_GT(hearth_tcp_port(b), 0);
    ASSERT_OK(hearth_tcp_close(b));
    ASSERT_OK(hearth_stop());
    ASSERT_EQ(HEARTH_ESHUTDOWN, hearth_tcp_close(b));
    return 0;
}

TEST_IMPL(io_listen_errors)
{
    hearth_config_t cfg = cfg_with(1);
    hearth_sock_t a, b;

    ASSERT_OK(hearth_start(&cfg));
    ASSERT_EQ(HEARTH_EINVAL, hearth_tcp_listen("not an address", 0, 0, &a));
    ASSERT_EQ(HEARTH_EINVAL, hearth_tcp_listen("127.0.0.1", 70000, 0, &a));
    ASSERT_OK(hearth_tcp_listen("127.0.0.1", 0, 0, &a));
    ASSERT_EQ(-EADDRINUSE, hearth_tcp_listen("127.0.0.1", hearth_tcp_port(a), 0, &b));
    /* A listener takes no writes. */
    ASSERT_EQ(HEARTH_EINVAL, hearth_tcp_write(a, "x", 1));
    ASSERT_OK(hearth_stop());
    return 0;
}

/* ---- the work pool ---------------------------------------------------------------- */

typedef struct job_arg {
    pthread_t tid;
    bool on_scheduler;
    int64_t in;
} job_arg_t;

static int64_t job_fn(void *arg)
{
    job_arg_t *a = arg;

    a->tid = pthread_self();
    a->on_scheduler = hearth_uv_loop() != NULL;
    return a->in * 2;
}

static int tid_handle(void *state, hearth_msg_t *m)
{
    hearth_msg_t *r;

    (void)state;
    r = hearth_msg_int(T_TID, (int64_t)pthread_self());
    r->ref = hearth_uv_loop() != NULL;
    hearth_send(m->from, r);
    return HEARTH_STOP;
}

static const hearth_actor_t tid_actor = {"test-tid", NULL, tid_handle, NULL};

TEST_IMPL(work_runs_off_the_schedulers)
{
    hearth_config_t cfg = cfg_with(2);
    pthread_t seen[64];
    size_t nseen = 0, i, j;
    job_arg_t a = {0};
    hearth_msg_t *m;
    uint64_t ref;
    hearth_pid_t pid;

    ASSERT_OK(hearth_start(&cfg));
    /* The scheduler threads: whoever runs these processes. */
    for (i = 0; i < 200; i++) {
        ASSERT_OK(hearth_spawn(&tid_actor, NULL, 0, &pid));
        tell(pid, T_PING, 0);
    }
    for (i = 0; i < 200; i++) {
        m = recv_tag(T_TID, 5000);
        ASSERT_NOT_NULL(m);
        ASSERT_EQ(1, m->ref); /* a process runs on a scheduler: hearth_uv_loop says so */
        for (j = 0; j < nseen && !pthread_equal(seen[j], (pthread_t)m->value); j++)
            ;
        if (j == nseen && nseen < 64)
            seen[nseen++] = (pthread_t)m->value;
        hearth_msg_free(m);
    }
    ASSERT_GE(nseen, 1);
    ASSERT_LE(nseen, 2);

    a.in = 21;
    ASSERT_OK(hearth_work_submit(job_fn, &a, &ref));
    ASSERT_OK(hearth_receive_ref(HEARTH_MSG_WORK_DONE, ref, 5000, &m));
    ASSERT_EQ(ref, m->ref);
    ASSERT_EQ(42, m->value);
    hearth_msg_free(m);
    ASSERT(!a.on_scheduler);
    ASSERT(!pthread_equal(a.tid, pthread_self()));
    for (j = 0; j < nseen; j++)
        ASSERT(!pthread_equal(a.tid, seen[j]));
    ASSERT_EQ(HEARTH_EINVAL, hearth_work_submit(NULL, NULL, &ref));
    ASSERT_OK(hearth_stop());
    ASSERT_EQ(HEARTH_ESHUTDOWN, hearth_work_submit(job_fn, &a, &ref));
    return 0;
}

TEST_IMPL(work_many_replies_match)
{
    hearth_config_t cfg = cfg_with(2);
    size_t n = test_scaled(300), i, k;
    job_arg_t *args = calloc(n, sizeof(*args));
    uint64_t *refs = calloc(n, sizeof(*refs));
    bool *done = calloc(n, sizeof(*done));
    hearth_msg_t *m;

    ASSERT_NOT_NULL(args);
    ASSERT_NOT_NULL(refs);
    ASSERT_NOT_NULL(done);
    ASSERT_OK(hearth_start(&cfg));
    for (i = 0; i < n; i++) {
        args[i].in = (int64_t)i;
        ASSERT_OK(hearth_work_submit(job_fn, &args[i], &refs[i]));
        for (k = 0; k < i; k++)
            ASSERT_NE(refs[k], refs[i]);
    }
    for (i = 0; i < n; i++) {
        m = recv_tag(HEARTH_MSG_WORK_DONE, 5000);
        ASSERT_NOT_NULL(m);
        for (k = 0; k < n && refs[k] != m->ref; k++)
            ;
        ASSERT_LT(k, n);
        ASSERT(!done[k]);
        done[k] = true;
        ASSERT_EQ(2 * (int64_t)k, m->value);
        ASSERT(!args[k].on_scheduler);
        hearth_msg_free(m);
    }
    ASSERT_OK(hearth_stop());
    free(args);
    free(refs);
    free(done);
    return 0;
}

static int64_t sleepy_fn(void *arg)
{
    (void)arg;
    usleep(400 * 1000);
    return 7;
}

static int pong_handle(void *state, hearth_msg_t *m)
{
    uint64_t ref;

    (void)state;
    if (m->tag == T_JOB) {
        /* Submitted from an event process, on a scheduler thread. */
        ASSERT_OK(hearth_work_submit(sleepy_fn, NULL, &ref));
        tell(m->from, T_JOB_DONE, (int64_t)ref);
    } else if (m->tag == HEARTH_MSG_WORK_DONE) {
        hearth_msg_t *r = hearth_msg_int(T_JOB_DONE + 100, m->value);
        r->ref = m->ref;
        hearth_send((hearth_pid_t)(uintptr_t)state, r);
    } else if (m->tag == T_PING) {
        tell(m->from, T_PONG, m->value);
    }
    return 0;
}

static const hearth_actor_t pong_actor = {"test-pong", NULL, pong_handle, NULL};

TEST_IMPL(work_never_blocks_schedulers)
{
    hearth_config_t cfg = cfg_with(2);
    hearth_pid_t pongs[4];
    uint64_t refs[4], t0, elapsed;
    hearth_msg_t *m;
    int i, k;

    ASSERT_OK(hearth_start(&cfg));
    /* Four processes each start a 400 ms blocking job, more jobs than schedulers. */
    for (i = 0; i < 4; i++) {
        ASSERT_OK(hearth_spawn(&pong_actor, (void *)(uintptr_t)hearth_self(), 0, &pongs[i]));
        tell(pongs[i], T_JOB, 0);
        m = recv_tag(T_JOB_DONE, 5000);
        ASSERT_NOT_NULL(m);
        refs[i] = (uint64_t)m->value;
        hearth_msg_free(m);
    }
    /* Meanwhile the schedulers keep running processes: 200 round trips, quickly. */
    t0 = hearth_now_ms();
    for (i = 0; i < 200; i++) {
        tell(pongs[i % 4], T_PING, i);
        m = recv_tag(T_PONG, 5000);
        ASSERT_NOT_NULL(m);
        ASSERT_EQ(i, m->value);
        hearth_msg_free(m);
    }
    elapsed = hearth_now_ms() - t0;
    ASSERT_LT(elapsed, 300);
    /* And each job's reply reaches the process that submitted it. */
    for (i = 0; i < 4; i++) {
        m = recv_tag(T_JOB_DONE + 100, 5000);
        ASSERT_NOT_NULL(m);
        ASSERT_EQ(7, m->value);
        for (k = 0; k < 4 && refs[k] != m->ref; k++)
            ;
        ASSERT_LT(k, 4);
        hearth_msg_free(m);
    }
    ASSERT_OK(hearth_stop());
    return 0;
}
