/* bench/gateway/bench.h: the parts of the gateway load tool and how they talk.
 *
 * The tool (hearth-bench-gateway) is one parent process and forked children; it uses
 * no Hearth code at all, only sockets, epoll and pipes, so it measures the server and
 * not itself:
 *
 *   main.c     the parent: options, the REST look-up of the channel, forking, the
 *              phases (warm-up, connect, settle, load, drain), reading the server's
 *              /proc/<pid>/{stat,status}, merging results, printing result lines
 *   worker.c   a gateway worker: up to ~15,000 WebSocket connections on one epoll,
 *              each IDENTIFYed with its own token; answers heartbeats, timestamps
 *              every MESSAGE_CREATE against the send time carried in its nonce
 *   sender.c   the sender: S keep-alive HTTP/1.1 connections that POST messages into
 *              the channel at R messages/s in total, open loop
 *   ws.c       a minimal WebSocket client codec (masked frames out, server frames in)
 *   json.c     a tiny JSON scanner: members of an object, items of an array
 *   hist.c     log-linear latency histograms (about 1.5% resolution), mergeable
 *   util.c     clocks, blocking I/O helpers, sockets bound to a source address,
 *              the pipe protocol between parent and children
 *
 * Parent and children talk over two pipes per child: one-byte commands down
 * (cmd_fd), replies up (res_fd), each reply a msg_hdr_t then its payload. */
#ifndef HEARTH_BENCH_GATEWAY_H
#define HEARTH_BENCH_GATEWAY_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- settings shared by the parent and its children ---------------------------------- */

typedef struct {
    struct in_addr host; /* the server's address */
    int port;            /* the server's port */
    const char *path;    /* the gateway's request target, "/gateway?v=10&encoding=json" */
    int sources;         /* connections spread over 127.0.0.2 .. 127.0.0.(1+sources) */
    int inflight;        /* per worker: connections opened but not yet READY */
    int intents;         /* the IDENTIFY intents */
    int retries;         /* per connection: reconnects allowed before READY */
    char **tokens;       /* every token of the tokens file */
    size_t ntokens;
    uint64_t channel_id; /* where senders post */
    int senders;         /* S: sender connections */
    double rate;         /* R: messages per second, all senders together */
    double seconds;      /* T: how long senders send */
    int sender_tokens;   /* senders rotate over the first this-many tokens */
    bool kernel_stamps;  /* latency to the kernel's receive stamp, not to the read */
    int content_pad;     /* content bytes after the timestamp (at most 1,900) */
} conf_t;

/* ---- clocks and I/O (util.c) ----------------------------------------------------------- */

/* CLOCK_MONOTONIC in nanoseconds, for durations and deadlines. */
uint64_t now_ns(void);
/* CLOCK_REALTIME in nanoseconds, for send and receive stamps: one clock for every
 * process on the machine, and the clock of the kernel's SO_TIMESTAMPNS receive
 * stamps, so a send time taken in the sender compares with the time a worker's
 * socket got the MESSAGE_CREATE. */
uint64_t wall_ns(void);
void sleep_ns(uint64_t ns);
/* Writes or reads exactly n bytes (blocking, retrying EINTR). 0, or -1 with errno
 * (EPIPE or 0 for end of file on read). */
int write_all(int fd, const void *buf, size_t n);
int read_all(int fd, void *buf, size_t n);
/* A non-blocking TCP socket bound to source address src (host order, 0 for any)
 * with IP_BIND_ADDRESS_NO_PORT, connecting to dst. Returns the fd (the connect may
 * still be in progress: wait for EPOLLOUT) or -1 with errno. */
int tcp_connect_from(const struct sockaddr_in *dst, uint32_t src);
/* Sets O_NONBLOCK. */
void set_nonblock(int fd);
/* One blocking HTTP/1.1 request (Connection: close) to host:port; stores the status
 * and a malloc'd, NUL-terminated body (free it). 0, or -1 with a message on stderr. */
int http_simple(const struct sockaddr_in *dst, const char *method, const char *target,
                const char *auth, const char *body, int *status, char **resp_body);
/* malloc, calloc and realloc that end the process when memory runs out. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* ---- JSON scanning (json.c) -------------------------------------------------------------- */

typedef struct {
    const char *p;
    size_t n;
} span_t;

typedef struct {
    const char *p, *e;
    bool first;
} json_iter_t;

/* Starts iterating the object (or array) that val holds. 0, or -1 if it is not one. */
int json_obj_begin(json_iter_t *it, span_t val);
int json_arr_begin(json_iter_t *it, span_t val);
/* The next member's key (without quotes, escapes left as they are) and value span.
 * 1 for a member, 0 at the end, -1 if malformed or truncated. */
int json_obj_next(json_iter_t *it, span_t *key, span_t *val);
/* The next item of an array. 1, 0 at the end, -1 if malformed. */
int json_arr_next(json_iter_t *it, span_t *val);
/* The value of key in the object val. 0, or -1 if absent or malformed. */
int json_get(span_t obj, const char *key, span_t *val);
/* A number's value (an integer, or a string of digits, as Discord sends ids).
 * 0, or -1 if v is neither. */
int json_u64(span_t v, uint64_t *out);
bool span_eq(span_t s, const char *lit);
/* A string value's text without its quotes (no unescaping). 0, or -1. */
int json_str(span_t v, span_t *out);

/* ---- WebSocket client codec (ws.c) ------------------------------------------------------- */

enum { WS_CONT = 0, WS_TEXT = 1, WS_BIN = 2, WS_CLOSE = 8, WS_PING = 9, WS_PONG = 10 };

typedef struct {
    int opcode;
    bool fin;
    const uint8_t *payload;
    size_t len;
    size_t total; /* header + payload */
} ws_frame_t;

/* Writes one masked client frame (FIN set) carrying payload into out, which must
 * hold len + 14 bytes. Returns the frame's length. */
size_t ws_encode(uint8_t *out, int opcode, const void *payload, size_t len, uint32_t mask);
/* Parses the server frame at p[0..n). Returns 1 and fills f for a whole frame; 0 if
 * more bytes are needed (f->total then says how many in all, when known, else 0);
 * -1 for a frame a server must not send (masked, reserved bits, oversize). */
int ws_decode(const uint8_t *p, size_t n, size_t max_len, ws_frame_t *f);

/* ---- latency histograms (hist.c) --------------------------------------------------------- */

#define HIST_SUB 64                               /* buckets per power of two */
#define HIST_EXACT 128                            /* values below this have their own */
#define HIST_BUCKETS (HIST_EXACT + 34 * HIST_SUB) /* up to 2^41 ns, about 36 minutes */

typedef struct {
    uint64_t count, sum, min, max; /* nanoseconds */
    uint64_t b[HIST_BUCKETS];
} hist_t;

void hist_init(hist_t *h);
void hist_add(hist_t *h, uint64_t ns);
void hist_merge(hist_t *into, const hist_t *from);
/* The value at quantile q (0..1): the upper edge of its bucket, at most the max. */
uint64_t hist_quantile(const hist_t *h, double q);

/* ---- the pipe protocol --------------------------------------------------------------------- */

/* Commands, one byte each, parent to child. */
enum {
    CMD_WARM = 'W',    /* worker: open one connection; reply MSG_WARM once READY */
    CMD_CONNECT = 'C', /* worker: open the rest; reply MSG_CONNECTED once all are READY */
    CMD_STATUS = 'S',  /* worker: reply MSG_STATUS */
    CMD_RESET = 'R',   /* worker: forget latencies so far; reply MSG_STATUS */
    CMD_REPORT = 'H',  /* worker: reply MSG_STATUS, MSG_HIST (kernel arrival),
                          MSG_HIST (read by the worker), MSG_TABLE */
    CMD_QUIT = 'Q',    /* worker: close everything and exit */
    CMD_GO = 'G',      /* sender: start sending now; reply MSG_SENDER then exit */
};

enum { MSG_WARM = 1, MSG_CONNECTED, MSG_STATUS, MSG_HIST, MSG_TABLE, MSG_SENDER, MSG_SENDER_READY };

typedef struct {
    uint32_t type;
    uint32_t len; /* payload bytes that follow */
} msg_hdr_t;

/* A worker's counters. */
typedef struct {
    uint64_t conns;          /* connections this worker owns */
    uint64_t ready;          /* READY received (and still open) */
    uint64_t guild_creates;  /* connections that got their first GUILD_CREATE */
    uint64_t failed;         /* connections given up before READY */
    uint64_t retries;        /* reconnects before READY */
    uint64_t dropped;        /* closed by the server after READY */
    uint64_t deliveries;     /* MESSAGE_CREATE with a bench nonce, since the last reset */
    uint64_t foreign;        /* MESSAGE_CREATE without one */
    uint64_t heartbeats;     /* heartbeats sent */
    uint64_t acks;           /* heartbeat ACKs received */
    uint64_t first_ready_ns; /* now_ns() of the first and last READY (0: none yet) */
    uint64_t last_ready_ns;
    uint64_t last_delivery_ns; /* wall_ns(): when the last delivery arrived */
    uint64_t kernel_stamps;    /* deliveries stamped by the kernel (SO_TIMESTAMPNS) */
    int32_t last_close_code;   /* the last close code or errno seen, for the log */
    int32_t last_errno;
} wstat_t;

/* One message's deliveries as one worker saw them (MSG_TABLE rows). */
typedef struct {
    uint64_t sent_ns; /* the nonce: when it was sent (wall_ns()), which also names it */
    uint64_t count;
    uint64_t max_ns; /* the latest delivery's latency */
} msgrow_t;

/* The sender's result (MSG_SENDER, followed by MSG_HIST of REST round trips). */
typedef struct {
    uint64_t planned, sent, ok, errors, rate_limited, reconnects;
    uint64_t first_send_ns, last_send_ns; /* wall_ns() */
    uint64_t max_lag_ns;                  /* the latest a send left after its planned time */
    int32_t last_status;
} sstat_t;

int msg_send(int fd, uint32_t type, const void *payload, uint32_t len);
/* Reads the next reply; its payload (malloc'd, free it) in *payload. 0, or -1 if the
 * child is gone. */
int msg_recv(int fd, msg_hdr_t *h, void **payload);

/* ---- children ----------------------------------------------------------------------------- */

/* Runs a gateway worker for tokens[first .. first+count) until CMD_QUIT. Never returns. */
void worker_main(const conf_t *c, int id, size_t first, size_t count, int cmd_fd, int res_fd)
    __attribute__((noreturn));
/* Runs the sender: connects, replies MSG_SENDER_READY, waits for CMD_GO, sends for
 * c->seconds, waits for the last replies, reports. Never returns. */
void sender_main(const conf_t *c, int cmd_fd, int res_fd) __attribute__((noreturn));

#endif /* HEARTH_BENCH_GATEWAY_H */
