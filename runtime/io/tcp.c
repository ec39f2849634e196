/* TCP sockets owned by processes: the socket table, listen/accept/connect, reads
 * delivered as messages, coalesced writes, and ownership.
 *
 * Handles. A hearth_sock_t is (generation << 32) | (slot + 1) into a table of
 * fixed-size chunks that are never freed while the runtime runs, so looking up a
 * stale handle reads valid memory and fails the generation check (HEARTH_EINVAL)
 * instead of touching another socket. Each slot has one atomic word:
 *     generation (32 bits) | references (30 bits) | DEAD | CLOSING
 * A thread that operates on a socket takes a reference with a CAS that also checks
 * the generation and the flags (sock_acquire); CLOSING refuses new operations but
 * close; DEAD means the loop is done with the uv handle (its close callback ran).
 * The slot is recycled (generation + 1) by whoever drops the last reference of a
 * DEAD socket, so no thread can be inside a socket while it is reused.
 *
 * Threads. A socket lives on one libuv loop (ctx): listening and connecting sockets
 * on the caller's scheduler, accepted sockets spread round robin over all the
 * schedulers' loops, so every core does socket I/O. Only that loop's thread calls
 * uv_* on it. Other threads change atomic "wanted" state (want_read, CLOSING, the
 * write stack) and kick the socket: it goes on its loop's dirty stack, and the loop
 * reconciles (sock_sync) on its own thread.
 *
 * Writes. hearth_tcp_write copies into a node; hearth_tcp_write_shared points a node
 * at a shared payload (one reference, dropped once written). Nodes go on a lock-free
 * stack per socket. The loop takes the whole stack and writes it with one writev
 * (uv_try_write: no request, no poll registration); only what the socket does not
 * take goes through uv_write, and while that write is in flight the next nodes pile
 * up and go together in the next one. Queued bytes are bounded (HEARTH__IO_MAX_QUEUED):
 * beyond that a write fails with HEARTH_EAGAIN and the caller decides. A close
 * waits for queued writes, for at most hearth__io_linger_ms (a peer that stopped
 * reading must not hold the descriptor forever); an error or the runtime's stop
 * drops them.
 *
 * Reads. alloc_cb hands out the data area of a 64 KiB message (one spare per loop);
 * a read of more than half of it becomes the DATA message as is, a smaller one is
 * copied into a message of its own size (so a mailbox of small reads does not pin
 * 64 KiB each), and the spare is used again.
 *
 * Ownership. The slot holds the owner pid (atomic): events go to it, and a send
 * that fails (the owner is gone) closes the socket. For teardown each process keeps
 * a list of the sockets it owns (ext->socks), which only its own thread touches:
 * a socket is "adopted" (added to the owner's list, and adopted = owner) when the
 * owner itself calls any hearth_tcp_* on it; listen and connect adopt at once.
 * hearth__io_close_owned closes the listed sockets whose owner is still that
 * process (one given away is skipped). Between a change of owner (accept, give)
 * and adoption, the process's list does not know the socket: for that window the
 * loop keeps the socket on a watch list and checks every HEARTH__IO_TICK_MS whether
 * the owner is alive (backing off to once a second while nothing changes); a dead
 * owner's socket is closed. On the usual path (accept, give to a new process, which
 * calls hearth_tcp_read_start) the new owner adopts the socket before its loop first
 * looks, so it is never watched. The timer runs only while the list is not empty. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4 */
#endif
#include "io.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { SOCK_LISTEN = 1, SOCK_CONN = 2 };

#define W_CLOSING 0x1ull
#define W_DEAD 0x2ull
#define W_REF 0x4ull
#define W_REFS(w) ((w)&0xFFFFFFFCull)
#define W_GEN(w) ((uint32_t)((w) >> 32))

#define CHUNK_BITS 8
#define CHUNK_SIZE (1u << CHUNK_BITS)
#define MAX_CHUNKS 4096u /* a million sockets; the fd limit comes first */
#define ACCEPT_BATCH 64  /* accepts per readiness callback, for fairness */

/* A queued write: copied bytes follow the node, or payload holds them. */
typedef struct wnode {
    struct wnode *next;
    const char *base;
    size_t len;
    hearth_payload_t *payload;
} wnode_t;

typedef struct io_connect {
    uv_connect_t req;
    struct sockaddr_storage addr;
} io_connect_t;

struct hearth__io_sock {
    /* Any thread (atomics). */
    _Atomic uint64_t word;        /* generation | references | DEAD | CLOSING */
    _Atomic hearth_pid_t owner;   /* who gets the events */
    _Atomic hearth_pid_t adopted; /* whose socks list holds this socket */
    _Atomic hearth_pid_t given_from; /* the owner before the last give, until told */
    wnode_t *_Atomic wstack;      /* writes not yet taken by the loop, newest first */
    _Atomic size_t wbytes;        /* bytes queued and not yet written */
    _Atomic int queued;           /* on ctx->dirty */
    _Atomic int want_read;        /* reading (accepting, for a listener) wanted */
    _Atomic int port;             /* local port, 0 until known */

    /* Set at allocation, constant until recycled (published by the word). */
    hearth__io_loop_t *ctx;
    hearth_sock_t h;
    uint32_t index;
    int fd;             /* until the uv handle owns it (a listener's: always) */
    uint8_t kind;
    /* The remote address of an accepted socket (AF_INET: the first 4 bytes of
     * peer_addr), or peer_family 0; hearth_tcp_peer formats it. */
    uint8_t peer_family;
    uint8_t peer_addr[16];
    io_connect_t *conn; /* a connect not yet completed */

    /* The loop's thread only. */
    hearth__io_sock_t *dirty_next;
    uint8_t inited, reading, writing, connecting, uv_closing, discard, paused, watched;
    uint64_t linger_until;           /* closing with writes queued: drop them after this */
    wnode_t *pend_first, *pend_last; /* taken from wstack, not yet written */
    wnode_t *inflight;               /* being written by a uv_write_t of its own */
    size_t inflight_bytes;
    hearth__io_sock_t *wprev, *wnext; /* ctx->watch */
    hearth__io_sock_t *aprev, *anext; /* ctx->all */

    hearth__io_sock_t *free_next; /* under table_lock, while free */
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_tcp_t tcp;   /* SOCK_CONN */
        uv_poll_t poll; /* SOCK_LISTEN: we accept ourselves, see listen_cb */
    } u;
};

static hearth__io_sock_t *_Atomic chunks[MAX_CHUNKS];
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static hearth__io_sock_t *free_list; /* under table_lock */
_Atomic uint64_t hearth__io_linger_ms = HEARTH__IO_LINGER_MS;
static uint32_t nslots; /* under table_lock */

static void sock_sync(hearth__io_sock_t *e);

/* ---- the table ------------------------------------------------------------------ */

static hearth__io_sock_t *sock_at(uint32_t index)
{
    hearth__io_sock_t *c;

    if (index >= MAX_CHUNKS * CHUNK_SIZE)
        return NULL;
    /* acquire: pairs with the release store that published the chunk. */
    c = atomic_load_explicit(&chunks[index >> CHUNK_BITS], memory_order_acquire);
    return c ? &c[index & (CHUNK_SIZE - 1)] : NULL;
}

/* Takes a free slot for a socket on ctx. Returns it unpublished (acquire refuses it
 * until sock_publish), or NULL when the table is full. */
static hearth__io_sock_t *sock_alloc(hearth__io_loop_t *ctx, uint8_t kind)
{
    hearth__io_sock_t *e, *c;
    uint32_t i, ci;

    pthread_mutex_lock(&table_lock);
    e = free_list;
    if (e != NULL) {
        free_list = e->free_next;
    } else if (nslots < MAX_CHUNKS * CHUNK_SIZE) {
        ci = nslots >> CHUNK_BITS;
        c = atomic_load_explicit(&chunks[ci], memory_order_relaxed);
        if (c == NULL) {
            c = hearth__calloc(CHUNK_SIZE, sizeof(*c));
            for (i = 0; i < CHUNK_SIZE; i++) {
                c[i].index = ci * CHUNK_SIZE + i;
                c[i].fd = -1;
                atomic_init(&c[i].word, (1ull << 32) | W_CLOSING | W_DEAD);
            }
            atomic_store_explicit(&chunks[ci], c, memory_order_release);
        }
        e = &c[nslots & (CHUNK_SIZE - 1)];
        nslots++;
    }
    pthread_mutex_unlock(&table_lock);
    if (e == NULL)
        return NULL;

    e->ctx = ctx;
    e->kind = kind;
    e->fd = -1;
    e->peer_family = 0;
    e->conn = NULL;
    e->h = ((uint64_t)W_GEN(atomic_load(&e->word)) << 32) | (e->index + 1);
    atomic_store_explicit(&e->owner, HEARTH_PID_NONE, memory_order_relaxed);
    atomic_store_explicit(&e->adopted, HEARTH_PID_NONE, memory_order_relaxed);
    atomic_store_explicit(&e->wstack, NULL, memory_order_relaxed);
    atomic_store_explicit(&e->wbytes, 0, memory_order_relaxed);
    atomic_store_explicit(&e->queued, 0, memory_order_relaxed);
    atomic_store_explicit(&e->want_read, kind == SOCK_LISTEN, memory_order_relaxed);
    atomic_store_explicit(&e->port, 0, memory_order_relaxed);
    atomic_fetch_add_explicit(&hearth__io_counters.socks, 1, memory_order_relaxed);
    return e;
}

/* Makes e's handle valid, with one reference held by the caller. */
static void sock_publish(hearth__io_sock_t *e)
{
    /* release: the fields set since sock_alloc are visible to whoever acquires. */
    atomic_store_explicit(&e->word, (e->h & 0xFFFFFFFF00000000ull) | W_REF, memory_order_release);
}

/* Takes a reference to the socket named by h. Returns 0 and the socket in *out;
 * HEARTH_EINVAL if h is stale or was never a socket; HEARTH_EPIPE if the socket is
 * closing (unless allow_closing). The caller drops it with sock_release. */
static int sock_acquire(hearth_sock_t h, bool allow_closing, hearth__io_sock_t **out)
{
    hearth__io_sock_t *e;
    uint64_t w;

    if ((uint32_t)h == 0)
        return HEARTH_EINVAL;
    e = sock_at((uint32_t)h - 1);
    if (e == NULL)
        return HEARTH_EINVAL;
    w = atomic_load_explicit(&e->word, memory_order_acquire);
    do {
        if (W_GEN(w) != (uint32_t)(h >> 32) || (w & W_DEAD))
            return HEARTH_EINVAL;
        if ((w & W_CLOSING) && !allow_closing)
            return HEARTH_EPIPE;
        /* acquire: the fields published with this generation are visible. */
    } while (!atomic_compare_exchange_weak_explicit(&e->word, &w, w + W_REF, memory_order_acquire,
                                                    memory_order_acquire));
    *out = e;
    return 0;
}

/* Frees a list of write nodes; returns the bytes they held. */
static size_t wlist_free(wnode_t *n)
{
    wnode_t *next;
    size_t bytes;

    bytes = 0;
    for (; n != NULL; n = next) {
        next = n->next;
        bytes += n->len;
        if (n->payload != NULL) {
            hearth_payload_unref(n->payload);
            atomic_fetch_sub_explicit(&hearth__io_counters.shared_held, 1, memory_order_relaxed);
        }
        hearth__free(n);
    }
    return bytes;
}

/* Gives the slot back: the loop is done with it and nobody holds a reference. */
static void sock_recycle(hearth__io_sock_t *e)
{
    uint32_t gen;

    wlist_free(atomic_exchange(&e->wstack, NULL)); /* pushed by a write racing a close */
    wlist_free(e->pend_first);
    wlist_free(e->inflight);
    hearth__free(e->conn);
    e->conn = NULL;
    e->pend_first = e->pend_last = e->inflight = NULL;
    e->inflight_bytes = 0;
    e->inited = e->reading = e->writing = e->connecting = 0;
    e->uv_closing = e->discard = e->paused = e->watched = 0;
    e->linger_until = 0;
    e->wprev = e->wnext = e->aprev = e->anext = NULL;
    e->dirty_next = NULL;
    e->fd = -1;
    atomic_store_explicit(&e->wbytes, 0, memory_order_relaxed);
    gen = W_GEN(atomic_load(&e->word)) + 1;
    /* release: the resets above happen before any later acquire of the slot. */
    atomic_store_explicit(&e->word, ((uint64_t)gen << 32) | W_CLOSING | W_DEAD,
                          memory_order_release);
    atomic_fetch_sub_explicit(&hearth__io_counters.socks, 1, memory_order_relaxed);
    pthread_mutex_lock(&table_lock);
    e->free_next = free_list;
    free_list = e;
    pthread_mutex_unlock(&table_lock);
}

static void sock_release(hearth__io_sock_t *e)
{
    uint64_t w;

    /* acq_rel: our uses of e happen before the recycle, whoever does it. */
    w = atomic_fetch_sub_explicit(&e->word, W_REF, memory_order_acq_rel) - W_REF;
    if (W_REFS(w) == 0 && (w & W_DEAD))
        sock_recycle(e);
}

/* The loop is done with e (uv handle closed, or never opened). Loop thread. */
static void sock_dead(hearth__io_sock_t *e)
{
    uint64_t w;

    w = atomic_fetch_or_explicit(&e->word, W_DEAD, memory_order_acq_rel);
    if (W_REFS(w) == 0)
        sock_recycle(e);
}

/* Puts e on its loop's dirty stack (once) so the loop reconciles it. The caller
 * holds a reference; the stack takes one of its own. Any thread. */
static void sock_kick(hearth__io_sock_t *e)
{
    hearth__io_loop_t *ctx;
    hearth__io_sock_t *head;

    /* seq_cst, with the loop's store of 0 before it syncs: either we see 0 and push,
     * or the loop's sync comes after our change of wanted state. */
    if (atomic_exchange(&e->queued, 1))
        return;
    atomic_fetch_add_explicit(&e->word, W_REF, memory_order_relaxed);
    ctx = e->ctx;
    head = atomic_load_explicit(&ctx->dirty, memory_order_relaxed);
    do {
        e->dirty_next = head;
    } while (!atomic_compare_exchange_weak_explicit(&ctx->dirty, &head, e, memory_order_release,
                                                    memory_order_relaxed));
    hearth__io_loop_kick(ctx);
}

/* Asks for e to be closed after its queued writes. Any thread, reference held. */
static void sock_close_request(hearth__io_sock_t *e)
{
    if (!(atomic_fetch_or(&e->word, W_CLOSING) & W_CLOSING))
        sock_kick(e);
}

/* True if h names a live socket owned by pid (a hint: no reference is taken). */
static bool sock_owned_by(hearth_sock_t h, hearth_pid_t pid)
{
    hearth__io_sock_t *e;
    uint64_t w;

    e = sock_at((uint32_t)h - 1);
    if (e == NULL)
        return false;
    w = atomic_load(&e->word);
    return W_GEN(w) == (uint32_t)(h >> 32) && !(w & W_DEAD) && atomic_load(&e->owner) == pid;
}

/* Adds h to p's socket list. p's own thread only. */
static void owner_list_add(hearth__proc_t *p, hearth_sock_t h)
{
    hearth__proc_ext_t *x;
    size_t i, j;

    x = hearth__proc_ext(p);
    if (x->nsocks == x->capsocks) {
        /* Drop the sockets closed or given away since, before growing: a process
         * that opens and closes many sockets over time keeps a short list. */
        for (i = j = 0; i < x->nsocks; i++)
            if (sock_owned_by(x->socks[i], p->pid))
                x->socks[j++] = x->socks[i];
        x->nsocks = j;
        if (j == x->capsocks) {
            x->capsocks = x->capsocks ? 2 * x->capsocks : 1; /* one, for a connection */
            x->socks = hearth__realloc(x->socks, x->capsocks * sizeof(*x->socks));
        }
    }
    x->socks[x->nsocks++] = h;
}

/* Records e in p's list if p owns it and has not yet. p's own thread. */
static void sock_adopt(hearth__io_sock_t *e, hearth__proc_t *p)
{
    if (p == NULL || atomic_load(&e->owner) != p->pid || atomic_load(&e->adopted) == p->pid)
        return;
    owner_list_add(p, e->h);
    atomic_store(&e->adopted, p->pid);
}

/* ---- the loop's side --------------------------------------------------------------- */

static void watch_add(hearth__io_sock_t *e)
{
    hearth__io_loop_t *ctx;

    if (e->watched)
        return;
    ctx = e->ctx;
    e->watched = 1;
    e->wprev = NULL;
    e->wnext = ctx->watch;
    if (ctx->watch != NULL)
        ctx->watch->wprev = e;
    ctx->watch = e;
    ctx->nwatch++;
    hearth__io_loop_tick(ctx, true); /* check the newcomer soon, whatever the backoff */
}

static void watch_del(hearth__io_sock_t *e)
{
    hearth__io_loop_t *ctx;

    if (!e->watched)
        return;
    ctx = e->ctx;
    e->watched = 0;
    if (e->wprev != NULL)
        e->wprev->wnext = e->wnext;
    else
        ctx->watch = e->wnext;
    if (e->wnext != NULL)
        e->wnext->wprev = e->wprev;
    e->wprev = e->wnext = NULL;
    if (--ctx->nwatch == 0)
        hearth__io_loop_tick(ctx, false);
}

static void all_add(hearth__io_sock_t *e)
{
    hearth__io_loop_t *ctx;

    ctx = e->ctx;
    e->aprev = NULL;
    e->anext = ctx->all;
    if (ctx->all != NULL)
        ctx->all->aprev = e;
    ctx->all = e;
    ctx->nsocks++;
}

static void all_del(hearth__io_sock_t *e)
{
    hearth__io_loop_t *ctx;

    ctx = e->ctx;
    if (e->aprev != NULL)
        e->aprev->anext = e->anext;
    else
        ctx->all = e->anext;
    if (e->anext != NULL)
        e->anext->aprev = e->aprev;
    e->aprev = e->anext = NULL;
    ctx->nsocks--;
}

static int fd_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len;

    len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return 0;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

/* Records the remote address of fd in e (peer_family stays 0 if unknown). */
static void fd_peer(int fd, hearth__io_sock_t *e)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    e->peer_family = 0;
    if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
        return;
    if (ss.ss_family == AF_INET) {
        memcpy(e->peer_addr, &((struct sockaddr_in *)&ss)->sin_addr, 4);
        e->peer_family = AF_INET;
    } else if (ss.ss_family == AF_INET6) {
        memcpy(e->peer_addr, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
        e->peer_family = AF_INET6;
    }
}

/* Sends an event to e's owner. Returns false if the owner is gone. */
static bool sock_event(hearth__io_sock_t *e, hearth_msg_t *m)
{
    m->ref = e->h;
    return hearth_send(atomic_load(&e->owner), m) == 0;
}

/* Starts closing e from the loop: err is what TCP_CLOSED reports (sent if notify
 * and nobody asked for the close before); discard drops queued writes. */
static void sock_fail(hearth__io_sock_t *e, int err, bool notify, bool discard)
{
    uint64_t old;

    old = atomic_fetch_or(&e->word, W_CLOSING);
    if (discard)
        e->discard = 1;
    if (notify && !(old & W_CLOSING))
        sock_event(e, hearth_msg_int(HEARTH_MSG_TCP_CLOSED, err));
    sock_sync(e);
}

static void close_cb(uv_handle_t *h)
{
    hearth__io_sock_t *e;

    e = h->data;
    if (e->kind == SOCK_LISTEN) {
        close(e->fd); /* uv_poll does not own the fd */
        e->fd = -1;
    }
    all_del(e);
    e->inflight_bytes = 0;
    sock_dead(e);
}

static void sock_close_uv(hearth__io_sock_t *e)
{
    if (e->uv_closing)
        return;
    e->uv_closing = 1;
    watch_del(e);
    uv_close(&e->u.handle, close_cb);
}

/* Closes a socket whose uv handle was never opened. */
static void sock_close_raw(hearth__io_sock_t *e)
{
    if (e->fd >= 0)
        close(e->fd);
    e->fd = -1;
    e->uv_closing = 1;
    sock_dead(e);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    hearth__io_sock_t *e;
    hearth__io_loop_t *ctx;

    (void)suggested;
    e = h->data;
    ctx = e->ctx;
    if (ctx->spare == NULL)
        ctx->spare = hearth_msg_new(HEARTH_MSG_TCP_DATA, HEARTH__IO_READ_SIZE);
    *buf = uv_buf_init(ctx->spare->data, HEARTH__IO_READ_SIZE);
}

static void read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    hearth__io_sock_t *e;
    hearth__io_loop_t *ctx;
    hearth_msg_t *m;

    e = stream->data;
    ctx = e->ctx;
    if (nread > 0) {
        if ((size_t)nread > HEARTH__IO_READ_SIZE / 2) {
            m = ctx->spare; /* the buffer becomes the message: no copy */
            ctx->spare = NULL;
            m->len = (size_t)nread;
        } else {
            m = hearth_msg_copy(HEARTH_MSG_TCP_DATA, buf->base, (size_t)nread);
        }
        if (!sock_event(e, m))
            sock_fail(e, 0, false, false);
        return;
    }
    if (nread == 0)
        return; /* EAGAIN: the buffer stays the spare */
    if (nread == UV_EOF)
        sock_fail(e, 0, true, false); /* the peer is done: flush what we owe, close */
    else
        sock_fail(e, (int)nread, true, true);
}

static void write_cb(uv_write_t *req, int status)
{
    hearth__io_sock_t *e;

    e = req->data;
    hearth__free(req); /* only a write the socket did not take at once has one */
    e->writing = 0;
    wlist_free(e->inflight);
    e->inflight = NULL;
    atomic_fetch_sub_explicit(&e->wbytes, e->inflight_bytes, memory_order_relaxed);
    e->inflight_bytes = 0;
    if (e->uv_closing)
        return;
    if (status < 0)
        sock_fail(e, status, true, true);
    else
        sock_sync(e); /* writes queued meanwhile go out together now */
}

/* Takes e's new writes and, if none is in flight, writes what is pending. */
static void sock_flush(hearth__io_sock_t *e)
{
    hearth__io_loop_t *ctx;
    wnode_t *n, *next, *rev, *last;
    uv_write_t *req;
    size_t count, bytes;
    int r;

    n = atomic_exchange(&e->wstack, NULL); /* seq_cst: sees the pushes' nodes */
    if (n != NULL) {
        last = n; /* the newest: the tail once reversed */
        for (rev = NULL; n != NULL; n = next) {
            next = n->next;
            n->next = rev;
            rev = n;
        }
        if (e->pend_last != NULL)
            e->pend_last->next = rev;
        else
            e->pend_first = rev;
        e->pend_last = last;
    }
    if (e->discard) {
        bytes = wlist_free(e->pend_first);
        atomic_fetch_sub_explicit(&e->wbytes, bytes, memory_order_relaxed);
        e->pend_first = e->pend_last = NULL;
        return;
    }
    ctx = e->ctx;
    for (;;) {
        if (e->writing || e->connecting || e->pend_first == NULL)
            return;
        if (ctx->capbufs == 0) {
            ctx->capbufs = HEARTH__IO_MAX_BUFS;
            ctx->bufs = hearth__malloc(ctx->capbufs * sizeof(*ctx->bufs));
        }
        count = bytes = 0;
        last = NULL;
        for (n = e->pend_first; n != NULL && count < HEARTH__IO_MAX_BUFS; n = n->next) {
            ctx->bufs[count++] = uv_buf_init((char *)n->base, (unsigned)n->len);
            bytes += n->len;
            last = n;
        }
        /* Counted first: the bytes may reach the kernel before the call returns, and
         * whoever reads them may look at the counters right away. */
        atomic_fetch_add_explicit(&hearth__io_counters.writes, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&hearth__io_counters.write_bufs, count, memory_order_relaxed);

        /* Nothing in flight, so the stream's queue is empty: write what the socket
         * takes now (one writev, no request, no poll registration). Only what it does
         * not take goes through uv_write, which waits for POLLOUT. queued bytes are at
         * most HEARTH__IO_MAX_QUEUED, so they fit the int uv_try_write returns. */
        r = uv_try_write(&e->u.stream, ctx->bufs, (unsigned)count);
        if (r < 0 && r != UV_EAGAIN) {
            sock_fail(e, r, true, true);
            return;
        }
        if (r > 0) {
            size_t done = (size_t)r;
            atomic_fetch_sub_explicit(&e->wbytes, done, memory_order_relaxed);
            while (e->pend_first != NULL && done >= e->pend_first->len) {
                n = e->pend_first;
                done -= n->len;
                e->pend_first = n->next;
                n->next = NULL;
                wlist_free(n);
            }
            if (e->pend_first == NULL) {
                e->pend_last = NULL;
                continue; /* all of it: more may be pending past HEARTH__IO_MAX_BUFS */
            }
            e->pend_first->base += done;
            e->pend_first->len -= done;
            if ((size_t)r == bytes)
                continue;
        }
        break;
    }

    /* The socket is full: the rest waits for it to drain. */
    count = bytes = 0;
    last = NULL;
    for (n = e->pend_first; n != NULL && count < HEARTH__IO_MAX_BUFS; n = n->next) {
        ctx->bufs[count++] = uv_buf_init((char *)n->base, (unsigned)n->len);
        bytes += n->len;
        last = n;
    }
    e->inflight = e->pend_first;
    e->pend_first = last->next;
    last->next = NULL;
    if (e->pend_first == NULL)
        e->pend_last = NULL;
    e->inflight_bytes = bytes;
    req = hearth__malloc(sizeof(*req));
    req->data = e;
    /* uv_write copies the buffer array, so ctx->bufs is free again on return. */
    r = uv_write(req, &e->u.stream, ctx->bufs, (unsigned)count, write_cb);
    if (r < 0) {
        hearth__free(req);
        wlist_free(e->inflight);
        e->inflight = NULL;
        atomic_fetch_sub_explicit(&e->wbytes, bytes, memory_order_relaxed);
        e->inflight_bytes = 0;
        sock_fail(e, r, true, true);
        return;
    }
    e->writing = 1;
}

static void connect_cb(uv_connect_t *req, int status)
{
    hearth__io_sock_t *e;
    struct sockaddr_storage ss;
    int len;
    bool alive;

    e = req->data;
    hearth__free(e->conn);
    e->conn = NULL;
    e->connecting = 0;
    if (e->uv_closing)
        return; /* UV_ECANCELED: closed meanwhile, nothing to report */
    if (status == 0) {
        uv_tcp_nodelay(&e->u.tcp, 1);
        len = sizeof(ss);
        if (uv_tcp_getsockname(&e->u.tcp, (struct sockaddr *)&ss, &len) == 0)
            atomic_store(&e->port,
                         ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                        : ((struct sockaddr_in *)&ss)->sin_port));
    }
    alive = sock_event(e, hearth_msg_int(HEARTH_MSG_TCP_CONNECTED, status));
    if (status < 0)
        sock_fail(e, status, false, true);
    else if (!alive)
        sock_fail(e, 0, false, false);
    else
        sock_sync(e);
}

static void listen_cb(uv_poll_t *poll, int status, int events);

/* Opens e's uv handle on its loop. Returns 0, or -1 if e failed (and is closing). */
static int sock_open(hearth__io_sock_t *e)
{
    uv_loop_t *loop;
    io_connect_t *c;
    int r;

    loop = e->ctx->loop;
    if (e->kind == SOCK_LISTEN) {
        r = uv_poll_init_socket(loop, &e->u.poll, e->fd);
        if (r < 0) {
            sock_event(e, hearth_msg_int(HEARTH_MSG_TCP_CLOSED, r));
            sock_close_raw(e);
            return -1;
        }
        e->u.handle.data = e;
        e->inited = 1;
        all_add(e);
        return 0;
    }

    HEARTH_ASSERT(uv_tcp_init(loop, &e->u.tcp) == 0);
    e->u.handle.data = e;
    e->inited = 1;
    all_add(e);
    if (e->conn == NULL) { /* accepted */
        r = uv_tcp_open(&e->u.tcp, e->fd);
        if (r < 0) {
            close(e->fd);
            e->fd = -1;
            sock_fail(e, r, true, true);
            return -1;
        }
        e->fd = -1; /* the handle owns it now */
        uv_tcp_nodelay(&e->u.tcp, 1);
        return 0;
    }
    c = e->conn;
    c->req.data = e;
    r = uv_tcp_connect(&c->req, &e->u.tcp, (struct sockaddr *)&c->addr, connect_cb);
    if (r < 0) {
        hearth__free(c);
        e->conn = NULL;
        sock_event(e, hearth_msg_int(HEARTH_MSG_TCP_CONNECTED, r));
        sock_fail(e, r, false, true);
        return -1;
    }
    e->connecting = 1;
    return 0;
}

/* Makes e's uv state match what is wanted: opened, reading or not, writes flushed,
 * watched until adopted, closed once closing and flushed. Loop thread; e is kept
 * alive by a reference or its open handle. */
static void sock_sync(hearth__io_sock_t *e)
{
    bool closing, want;
    int r;

    if (e->uv_closing)
        return;
    closing = atomic_load(&e->word) & W_CLOSING;
    if (!e->inited) {
        /* Closed before its loop got to it: close the fd as it is, unless writes are
         * queued, which a close still owes the peer. */
        if (closing && (e->discard || e->kind == SOCK_LISTEN || atomic_load(&e->wstack) == NULL)) {
            sock_close_raw(e);
            return;
        }
        if (sock_open(e) < 0)
            return;
    }

    want = !closing && atomic_load(&e->want_read) && !e->connecting && !e->paused;
    if (want && !e->reading) {
        if (e->kind == SOCK_LISTEN)
            r = uv_poll_start(&e->u.poll, UV_READABLE, listen_cb);
        else
            r = uv_read_start(&e->u.stream, alloc_cb, read_cb);
        if (r < 0) {
            sock_fail(e, r, true, true);
            return;
        }
        e->reading = 1;
    } else if (!want && e->reading) {
        if (e->kind == SOCK_LISTEN)
            uv_poll_stop(&e->u.poll);
        else
            uv_read_stop(&e->u.stream);
        e->reading = 0;
    }

    if (e->kind == SOCK_CONN) {
        sock_flush(e);
        if (e->uv_closing)
            return;
    }
    if (closing) {
        if (e->discard || (!e->writing && !e->connecting)) {
            sock_close_uv(e);
        } else if (e->linger_until == 0) {
            /* Writes still queued: wait for them, but not forever (see the tick). */
            e->linger_until = hearth_now_ms() + atomic_load(&hearth__io_linger_ms);
            watch_add(e);
        }
        return;
    }
    if (!e->watched && atomic_load(&e->owner) != atomic_load(&e->adopted))
        watch_add(e);
}

/* Accepts fd on listener l: a new socket on the next loop in turn, owned by l's
 * owner, which gets TCP_ACCEPTED. Returns -1 if the owner is gone. */
static int accept_one(hearth__io_sock_t *l, int fd)
{
    hearth__io_loop_t *ctx;
    hearth__io_sock_t *e;
    hearth_pid_t owner;
    hearth_msg_t *m;
    unsigned n;

    n = (unsigned)hearth_schedulers();
    ctx = l->ctx;
    if (n > 1)
        ctx = hearth__io_loop_get(hearth__sched_get((int)(atomic_fetch_add(&l->ctx->rr, 1) % n)));
    e = sock_alloc(ctx, SOCK_CONN);
    if (e == NULL) {
        close(fd); /* table full: refuse this one */
        return 0;
    }
    owner = atomic_load(&l->owner);
    e->fd = fd;
    fd_peer(fd, e);
    atomic_store_explicit(&e->owner, owner, memory_order_relaxed);
    atomic_store_explicit(&e->port, fd_port(fd), memory_order_relaxed);
    sock_publish(e); /* our reference keeps it until the message is out */
    sock_kick(e);    /* its loop opens it, and watches it until adopted */
    m = hearth_msg_int(HEARTH_MSG_TCP_ACCEPTED, 0);
    m->ref = e->h;
    if (hearth_send(owner, m) != 0) {
        sock_close_request(e);
        sock_release(e);
        sock_fail(l, 0, false, false);
        return -1;
    }
    sock_release(e);
    atomic_fetch_add_explicit(&hearth__io_counters.accepted, 1, memory_order_relaxed);
    return 0;
}

/* The listening fd is readable. libuv's own accept path would keep every accepted
 * socket on this loop; accepting here lets them spread over all the loops. */
static void listen_cb(uv_poll_t *poll, int status, int events)
{
    hearth__io_sock_t *e;
    int fd, i;

    (void)events;
    e = poll->data;
    if (status < 0) {
        sock_fail(e, status, true, true);
        return;
    }
    for (i = 0; i < ACCEPT_BATCH && !e->uv_closing; i++) {
        fd = accept4(e->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Out of descriptors: the fd stays readable, so polling it now would
                 * spin. Pause for a tick; the pending connections wait in the
                 * backlog. */
                uv_poll_stop(&e->u.poll);
                e->reading = 0;
                e->paused = 1;
                watch_add(e);
            }
            break;
        }
        if (accept_one(e, fd) < 0)
            break;
    }
}

/* The watch timer: resumes paused listeners, closes sockets whose writes did not
 * drain within the linger time, drops adopted sockets from the watch, and closes
 * the sockets whose owner died before adopting them. */
bool hearth__io_tcp_tick(hearth__io_loop_t *ctx)
{
    hearth__io_sock_t *e, *next;
    hearth_pid_t owner;
    uint64_t now;
    bool changed = false;

    now = hearth_now_ms();
    for (e = ctx->watch; e != NULL; e = next) {
        next = e->wnext;
        if (e->paused) {
            e->paused = 0;
            watch_del(e);
            sock_sync(e);
            changed = true;
            continue;
        }
        if (atomic_load(&e->word) & W_CLOSING) {
            /* A closing socket leaves the watch when its handle closes. */
            if (e->linger_until != 0 && now >= e->linger_until) {
                watch_del(e);
                e->discard = 1; /* the peer stopped reading: drop what is queued */
                sock_sync(e);
                changed = true;
            }
            continue;
        }
        owner = atomic_load(&e->owner);
        if (owner == atomic_load(&e->adopted)) {
            watch_del(e);
            changed = true;
        } else if (!hearth_is_alive(owner)) {
            watch_del(e);
            sock_fail(e, 0, false, false);
            changed = true;
        }
    }
    return changed;
}

/* Reconciles every socket kicked since the last run. Loop thread. */
void hearth__io_tcp_run(hearth__io_loop_t *ctx)
{
    hearth__io_sock_t *e, *next, *rev;

    /* acquire (seq_cst): the pushers' fields and state are visible. */
    e = atomic_exchange(&ctx->dirty, NULL);
    for (rev = NULL; e != NULL; e = next) { /* oldest kick first */
        next = e->dirty_next;
        e->dirty_next = rev;
        rev = e;
    }
    for (e = rev; e != NULL; e = next) {
        hearth_pid_t given_from;

        next = e->dirty_next;
        atomic_store(&e->queued, 0); /* seq_cst: see sock_kick */
        given_from = atomic_exchange(&e->given_from, HEARTH_PID_NONE);
        if (given_from != HEARTH_PID_NONE) {
            /* Every event this loop sent the old owner left before this marker (one
             * sender, in order), so after it the old owner will get nothing more. */
            hearth_msg_t *m = hearth_msg_int(HEARTH_MSG_TCP_GIVEN, 0);
            m->ref = e->h;
            hearth_send(given_from, m);
        }
        sock_sync(e);
        sock_release(e); /* the dirty stack's reference */
    }
}

/* Runtime stop: closes every socket of ctx now, dropping queued writes. Called on
 * the stopping thread once the scheduler threads are gone. */
void hearth__io_tcp_close_all(hearth__io_loop_t *ctx)
{
    hearth__io_sock_t *e, *next;

    e = atomic_exchange(&ctx->dirty, NULL);
    for (; e != NULL; e = next) {
        next = e->dirty_next;
        atomic_store(&e->queued, 0);
        atomic_fetch_or(&e->word, W_CLOSING);
        e->discard = 1;
        sock_sync(e);
        sock_release(e);
    }
    for (e = ctx->all; e != NULL; e = next) {
        next = e->anext;
        atomic_fetch_or(&e->word, W_CLOSING);
        e->discard = 1;
        sock_sync(e);
    }
}

void hearth__io_tcp_init(void)
{
}

/* Frees the table. Every loop has closed its sockets; a slot whose last reference
 * was never dropped (a bug elsewhere) still gets its queued writes freed. */
void hearth__io_tcp_fini(void)
{
    hearth__io_sock_t *c;
    uint32_t i, j;

    for (i = 0; i < MAX_CHUNKS; i++) {
        c = atomic_load(&chunks[i]);
        if (c == NULL)
            continue;
        for (j = 0; j < CHUNK_SIZE; j++) {
            wlist_free(atomic_exchange(&c[j].wstack, NULL));
            wlist_free(c[j].pend_first);
            wlist_free(c[j].inflight);
            hearth__free(c[j].conn);
            if (!(atomic_load(&c[j].word) & W_DEAD))
                atomic_fetch_sub(&hearth__io_counters.socks, 1);
        }
        hearth__free(c);
        atomic_store(&chunks[i], NULL);
    }
    free_list = NULL;
    nslots = 0;
}

/* ---- the public API ------------------------------------------------------------- */

/* Parses a numeric IPv4/IPv6 address (or "localhost"; NULL or "" is any address
 * when any is true). Name resolution blocks, so it is the caller's to do, on the
 * work pool. Returns 0 or HEARTH_EINVAL. */
static int addr_parse(const char *host, int port, bool any, struct sockaddr_storage *ss,
                      socklen_t *len)
{
    struct sockaddr_in *in4;
    struct sockaddr_in6 *in6;

    if (port < 0 || port > 65535)
        return HEARTH_EINVAL;
    memset(ss, 0, sizeof(*ss));
    in4 = (struct sockaddr_in *)ss;
    in6 = (struct sockaddr_in6 *)ss;
    if (host == NULL || *host == '\0') {
        if (!any)
            return HEARTH_EINVAL;
        host = "0.0.0.0";
    }
    if (strcmp(host, "localhost") == 0)
        host = "127.0.0.1";
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        *len = sizeof(*in4);
        return 0;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        *len = sizeof(*in6);
        return 0;
    }
    return HEARTH_EINVAL;
}

/* Listens on host:port. The socket is bound and listening when this returns (errors
 * such as an address in use come back here, as a negative errno); accepting starts
 * on the caller's scheduler loop. Returns 0 and the socket in *out (owned by the
 * caller), or HEARTH_EINVAL, HEARTH_ENOMEM (socket table full), HEARTH_ESHUTDOWN or
 * a negative errno. */
int hearth_tcp_listen(const char *host, int port, int backlog, hearth_sock_t *out)
{
    struct sockaddr_storage ss;
    hearth__io_sock_t *e;
    hearth__proc_t *p;
    socklen_t len;
    int fd, err, one;

    if (!hearth__running())
        return HEARTH_ESHUTDOWN;
    if (out == NULL)
        return HEARTH_EINVAL;
    err = addr_parse(host, port, true, &ss, &len);
    if (err)
        return err;

    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, len) < 0)
        goto fail_errno;
    if (listen(fd, backlog > 0 ? backlog : SOMAXCONN) < 0)
        goto fail_errno;

    p = hearth__current_or_attach();
    if (p == NULL) { /* a scheduler thread outside any process: no owner */
        err = HEARTH_EINVAL;
        goto fail;
    }
    e = sock_alloc(hearth__io_loop_here(), SOCK_LISTEN);
    if (e == NULL) {
        err = HEARTH_ENOMEM;
        goto fail;
    }
    e->fd = fd;
    atomic_store_explicit(&e->port, fd_port(fd), memory_order_relaxed);
    atomic_store_explicit(&e->owner, p->pid, memory_order_relaxed);
    atomic_store_explicit(&e->adopted, p->pid, memory_order_relaxed);
    sock_publish(e);
    owner_list_add(p, e->h);
    sock_kick(e); /* the loop starts polling it */
    *out = e->h;
    sock_release(e);
    return 0;

fail_errno:
    err = -errno;
fail:
    close(fd);
    return err;
}

/* Connects to host:port (numeric address or "localhost") from the caller's
 * scheduler loop. Returns 0 and the socket in *out; TCP_CONNECTED (value 0 or a
 * negative errno) arrives when done, and a failed socket is closed. Writes queued
 * before then go out once connected. */
int hearth_tcp_connect(const char *host, int port, hearth_sock_t *out)
{
    struct sockaddr_storage ss;
    hearth__io_sock_t *e;
    hearth__proc_t *p;
    socklen_t len;
    int err;

    if (!hearth__running())
        return HEARTH_ESHUTDOWN;
    if (out == NULL)
        return HEARTH_EINVAL;
    err = addr_parse(host, port, false, &ss, &len);
    if (err)
        return err;

    p = hearth__current_or_attach();
    if (p == NULL)
        return HEARTH_EINVAL;
    e = sock_alloc(hearth__io_loop_here(), SOCK_CONN);
    if (e == NULL)
        return HEARTH_ENOMEM;
    e->conn = hearth__malloc(sizeof(*e->conn));
    memcpy(&e->conn->addr, &ss, sizeof(ss));
    atomic_store_explicit(&e->owner, p->pid, memory_order_relaxed);
    atomic_store_explicit(&e->adopted, p->pid, memory_order_relaxed);
    sock_publish(e);
    owner_list_add(p, e->h);
    sock_kick(e);
    *out = e->h;
    sock_release(e);
    return 0;
}

/* Returns the local port of s, HEARTH_EAGAIN while a connect is pending, or
 * HEARTH_EINVAL for a stale handle. */
int hearth_tcp_port(hearth_sock_t s)
{
    hearth__io_sock_t *e;
    int err, port;

    err = sock_acquire(s, true, &e);
    if (err)
        return err;
    port = atomic_load(&e->port);
    sock_release(e);
    return port > 0 ? port : HEARTH_EAGAIN;
}

int hearth_tcp_peer(hearth_sock_t s, char *buf, size_t size)
{
    hearth__io_sock_t *e;
    char text[INET6_ADDRSTRLEN];
    int err;

    if (buf == NULL || size == 0)
        return HEARTH_EINVAL;
    err = sock_acquire(s, true, &e);
    if (err)
        return err;
    /* Set before the socket was published. Text ("127.0.0.1", "::1"), or "". */
    text[0] = '\0';
    if (e->peer_family != 0 && inet_ntop(e->peer_family, e->peer_addr, text, sizeof(text)) == NULL)
        text[0] = '\0';
    snprintf(buf, size, "%s", text);
    sock_release(e);
    return buf[0] ? 0 : HEARTH_ENOENT;
}

/* Makes new_owner the owner of s: it gets s's events from now on. Only the owner
 * may give (HEARTH_EINVAL otherwise); HEARTH_ESRCH if new_owner is not alive (s
 * stays the caller's). The new owner adopts s when it first calls hearth_tcp_* on
 * it; until then the loop watches it and closes it if the new owner dies. */
int hearth_tcp_give(hearth_sock_t s, hearth_pid_t new_owner)
{
    hearth__io_sock_t *e;
    hearth__proc_t *p;
    hearth_pid_t self;
    int err;

    if (!hearth__running())
        return HEARTH_ESHUTDOWN;
    err = sock_acquire(s, false, &e);
    if (err)
        return err;
    p = hearth__current_or_attach();
    self = p ? p->pid : HEARTH_PID_NONE;
    if (p == NULL || atomic_load(&e->owner) != self) {
        err = HEARTH_EINVAL;
        goto out;
    }
    if (new_owner == self)
        goto out;
    if (!hearth_is_alive(new_owner)) {
        err = HEARTH_ESRCH;
        goto out;
    }
    /* Only the owner changes the owner, so this cannot fail; the CAS documents it. */
    if (!atomic_compare_exchange_strong(&e->owner, &self, new_owner)) {
        err = HEARTH_EINVAL;
        goto out;
    }
    atomic_store(&e->given_from, self);
    sock_kick(e); /* the loop watches it until new_owner adopts it, and tells self */
out:
    sock_release(e);
    return err;
}

static int sock_set_read(hearth_sock_t s, bool on)
{
    hearth__io_sock_t *e;
    hearth__proc_t *p;
    int err;

    if (!hearth__running())
        return HEARTH_ESHUTDOWN;
    err = sock_acquire(s, false, &e);
    if (err)
        return err;
    p = hearth__current_or_attach();
    if (p == NULL || atomic_load(&e->owner) != p->pid) {
        err = HEARTH_EINVAL;
        goto out;
    }
    sock_adopt(e, p);
    if (atomic_exchange(&e->want_read, on) != on)
        sock_kick(e);
out:
    sock_release(e);
    return err;
}

/* Starts delivering TCP_DATA (and TCP_CLOSED) to the owner; on a listener, resumes
 * accepting. Owner only: HEARTH_EINVAL otherwise or for a stale handle;
 * HEARTH_EPIPE if s is closing. */
int hearth_tcp_read_start(hearth_sock_t s)
{
    return sock_set_read(s, true);
}

/* Stops reading (the kernel's buffer then pushes back on the peer); on a listener,
 * pauses accepting. Messages already sent stay in the mailbox. */
int hearth_tcp_read_stop(hearth_sock_t s)
{
    return sock_set_read(s, false);
}

/* Queues node n (len bytes) on s. Returns 0 (n is the socket's), or an error (n is
 * still the caller's): HEARTH_EINVAL (stale), HEARTH_EPIPE (closing), HEARTH_EAGAIN
 * (queue full). */
static int sock_queue(hearth_sock_t s, wnode_t *n)
{
    hearth__io_sock_t *e;
    size_t old;
    int err;

    if (!hearth__running())
        return HEARTH_ESHUTDOWN;
    err = sock_acquire(s, false, &e);
    if (err)
        return err;
    /* A uv_buf_t length is an unsigned int; nobody writes 2 GiB at once anyway. */
    if (e->kind != SOCK_CONN || n->len > (size_t)INT32_MAX) {
        err = HEARTH_EINVAL;
        goto out;
    }
    old = atomic_load_explicit(&e->wbytes, memory_order_relaxed);
    do {
        if (old != 0 && (n->len > HEARTH__IO_MAX_QUEUED || old > HEARTH__IO_MAX_QUEUED - n->len)) {
            err = HEARTH_EAGAIN;
            goto out;
        }
    } while (!atomic_compare_exchange_weak_explicit(&e->wbytes, &old, old + n->len,
                                                    memory_order_relaxed, memory_order_relaxed));
    sock_adopt(e, hearth__current());
    n->next = atomic_load_explicit(&e->wstack, memory_order_relaxed);
    /* release: the node's bytes are visible to the loop's exchange. */
    while (!atomic_compare_exchange_weak_explicit(&e->wstack, &n->next, n, memory_order_release,
                                                  memory_order_relaxed))
        ;
    sock_kick(e);
out:
    sock_release(e);
    return err;
}

/* Queues a copy of len bytes for writing on s (any process may write to any
 * socket). Writes queued before the loop gets to them go out in one writev.
 * Returns 0, HEARTH_EINVAL (stale handle, a listener, or len over 2 GiB), HEARTH_EPIPE
 * (closing),
 * HEARTH_EAGAIN (more than HEARTH__IO_MAX_QUEUED bytes already queued: the caller
 * decides, say, to close a slow consumer). */
int hearth_tcp_write(hearth_sock_t s, const void *data, size_t len)
{
    wnode_t *n;
    int err;

    if (data == NULL && len != 0)
        return HEARTH_EINVAL;
    n = hearth__malloc(sizeof(*n) + len);
    n->base = (const char *)(n + 1);
    n->len = len;
    n->payload = NULL;
    if (len != 0)
        memcpy(n + 1, data, len);
    err = sock_queue(s, n);
    if (err)
        hearth__free(n);
    return err;
}

/* Queues p's bytes for writing on s without copying: takes a reference to p,
 * dropped once written (or dropped). Errors as hearth_tcp_write; on error no
 * reference is taken. */
int hearth_tcp_write_shared(hearth_sock_t s, hearth_payload_t *p)
{
    if (p == NULL)
        return HEARTH_EINVAL;
    return hearth_tcp_write_shared_range(s, p, 0, hearth_payload_len(p));
}

int hearth_tcp_write_shared_range(hearth_sock_t s, hearth_payload_t *p, size_t off, size_t len)
{
    wnode_t *n;
    int err;

    if (p == NULL || off > hearth_payload_len(p) || len > hearth_payload_len(p) - off)
        return HEARTH_EINVAL;
    n = hearth__malloc(sizeof(*n));
    n->base = (const char *)hearth_payload_data(p) + off;
    n->len = len;
    /* The reference is taken before the node is visible: the loop may write it and
     * drop the reference before sock_queue even returns. */
    n->payload = hearth_payload_ref(p);
    atomic_fetch_add_explicit(&hearth__io_counters.shared_held, 1, memory_order_relaxed);
    err = sock_queue(s, n);
    if (err) {
        n->next = NULL;
        wlist_free(n);
    }
    return err;
}

/* Closes s once its queued writes are written (dropped after hearth__io_linger_ms,
 * 5 s, if the peer stops reading). Any process may close any socket. No TCP_CLOSED
 * follows a close asked for here. Returns 0 (also if s is already
 * closing), or HEARTH_EINVAL if the handle is stale. */
int hearth_tcp_close(hearth_sock_t s)
{
    hearth__io_sock_t *e;
    int err;

    if (!hearth__running())
        return HEARTH_ESHUTDOWN;
    err = sock_acquire(s, true, &e);
    if (err)
        return err;
    sock_close_request(e);
    sock_release(e);
    return 0;
}

/* Process teardown, on p's own thread: closes every socket p still owns (after
 * their queued writes) and frees p's list. Sockets given away are skipped; a socket
 * given to p but never adopted is not in the list: its loop's watch closes it. */
void hearth__io_close_owned(hearth__proc_t *p)
{
    hearth__proc_ext_t *x;
    hearth__io_sock_t *e;
    size_t i;

    x = p->ext;
    if (x == NULL || x->socks == NULL)
        return;
    for (i = 0; i < x->nsocks; i++) {
        if (sock_acquire(x->socks[i], true, &e) != 0)
            continue;
        if (atomic_load(&e->owner) == p->pid)
            sock_close_request(e);
        sock_release(e);
    }
    hearth__free(x->socks);
    x->socks = NULL;
    x->nsocks = x->capsocks = 0;
}
