/* Private structures of the I/O layer: sockets and the blocking-work pool.
 *
 * How the parts fit:
 *   loop.c  one I/O context per scheduler (its libuv loop): the queue through which
 *           any thread hands work to that loop, runtime start and stop;
 *   tcp.c   the socket table (handle = slot + generation), listen/accept/connect,
 *           reads delivered as messages, coalesced writes, ownership;
 *   work.c  hearth_work_submit on libuv's threadpool.
 *
 * Threads: every uv_* call for a handle happens on the thread of the loop that owns
 * it. Other threads (processes that migrated, attached threads, other schedulers)
 * never touch uv state: they set atomic "wanted" state on the socket and kick the
 * loop (hearth__io_sock_kick), which reconciles on its own thread. One kick per
 * loop turn is posted (hearth__sched_post) however many sockets or writes are
 * pending: that is what coalesces writes and makes fan-out cheap. */
#ifndef HEARTH_RUNTIME_IO_IO_H
#define HEARTH_RUNTIME_IO_IO_H

#include "../internal.h"

#include <uv.h>

/* A socket's queued-but-unwritten bytes are bounded: a write beyond this fails with
 * HEARTH_EAGAIN (a write to an empty queue is always accepted, whatever its size). */
#define HEARTH__IO_MAX_QUEUED ((size_t)4 << 20)
/* Bytes handed to a socket read; reads of more than half of it become the DATA
 * message without a copy, smaller ones are copied into a message of their size. */
#define HEARTH__IO_READ_SIZE ((size_t)64 << 10)
/* Buffers per uv_write (writev); more wait for the next write. */
#define HEARTH__IO_MAX_BUFS 1024
/* How often a loop checks its watch list (sockets whose owner has not adopted them
 * yet, see tcp.c; lingering closes; paused listeners): every HEARTH__IO_TICK_MS after
 * a change, backing off to HEARTH__IO_TICK_MAX_MS while nothing changes, so a socket
 * held unadopted for long costs one wake-up a second. */
#define HEARTH__IO_TICK_MS 50
#define HEARTH__IO_TICK_MAX_MS 1000
/* How long a close waits for queued writes to drain (a peer that stopped reading)
 * before it drops them and closes anyway. A variable so tests can shorten it. */
#define HEARTH__IO_LINGER_MS 5000
extern _Atomic uint64_t hearth__io_linger_ms;
/* Index bound of the per-scheduler contexts (hearth__proc_t.home is a uint8_t). */
#define HEARTH__IO_MAX_LOOPS 256

typedef struct hearth__io_sock hearth__io_sock_t;
typedef struct hearth__io_work hearth__io_work_t;

/* The I/O context of one scheduler. Static storage: a kick posted just before the
 * runtime stops may still find it after hearth__io_fini. */
typedef struct hearth__io_loop {
    /* Set once under the init lock, then read-only until fini. */
    _Atomic int ready;
    int index;
    hearth__sched_t *sched;
    uv_loop_t *loop;

    /* Any thread. */
    _Atomic int armed;                /* 1 while a hearth__io_loop_run is posted */
    hearth__io_sock_t *_Atomic dirty; /* Treiber stack: sockets to reconcile */
    hearth__io_work_t *_Atomic jobs;  /* Treiber stack: jobs from other threads */
    _Atomic unsigned rr;              /* round robin for accepted sockets */

    /* The loop's thread only. */
    hearth_msg_t *spare; /* the read buffer handed out by alloc_cb */
    uv_timer_t tick;     /* runs while the watch list is not empty */
    bool tick_inited, tick_active;
    uint32_t tick_ms;         /* the current interval (backs off) */
    hearth__io_sock_t *watch; /* unadopted sockets and paused listeners */
    size_t nwatch;
    hearth__io_sock_t *all; /* sockets with an open uv handle here */
    size_t nsocks;
    hearth__io_work_t *works; /* jobs queued in the threadpool */
    size_t nwork;
    uv_buf_t *bufs; /* scratch for uv_write */
    size_t capbufs;
} hearth__io_loop_t;

/* The context of scheduler s, created on first use. Any thread. Never NULL. */
hearth__io_loop_t *hearth__io_loop_get(hearth__sched_t *s);
/* The context of the calling scheduler, or of scheduler 0 off the schedulers. */
hearth__io_loop_t *hearth__io_loop_here(void);
/* True on the thread that runs ctx's loop. */
bool hearth__io_on_loop(const hearth__io_loop_t *ctx);
/* Makes sure hearth__io_loop_run(ctx) runs soon on ctx's thread. Any thread. */
void hearth__io_loop_kick(hearth__io_loop_t *ctx);
/* Starts ctx's watch timer, or brings its next run within HEARTH__IO_TICK_MS (on), or
 * stops it (off). ctx's thread only. */
void hearth__io_loop_tick(hearth__io_loop_t *ctx, bool on);

/* tcp.c, called by loop.c on the loop's thread. */
void hearth__io_tcp_run(hearth__io_loop_t *ctx);       /* reconciles dirty sockets */
bool hearth__io_tcp_tick(hearth__io_loop_t *ctx);      /* watch timer: true if anything changed */
void hearth__io_tcp_close_all(hearth__io_loop_t *ctx); /* fini: closes everything */
void hearth__io_tcp_init(void);
void hearth__io_tcp_fini(void); /* after every loop is done: frees the table */

/* work.c, called by loop.c on the loop's thread. */
void hearth__io_work_run(hearth__io_loop_t *ctx);        /* queues submitted jobs */
void hearth__io_work_cancel_all(hearth__io_loop_t *ctx); /* fini */

/* Counters, for tests and introspection. */
typedef struct hearth__io_stats {
    uint64_t writes;     /* uv_write calls */
    uint64_t write_bufs; /* buffers those calls carried */
    int64_t shared_held; /* payload references held by queued writes */
    int64_t socks;       /* sockets allocated and not yet recycled */
    uint64_t accepted;
} hearth__io_stats_t;
void hearth__io_stats(hearth__io_stats_t *out);

extern struct hearth__io_counters {
    _Atomic uint64_t writes, write_bufs, accepted;
    _Atomic int64_t shared_held, socks;
} hearth__io_counters;

#endif /* HEARTH_RUNTIME_IO_IO_H */
