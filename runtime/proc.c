/* Processes: the table that maps pids to process structs, spawning, sending, the
 * signals between processes (links, monitors, exits) and teardown.
 *
 * A pid is (generation << 32) | slot. The table is an array of chunks that never
 * move, so a lookup is two loads and a compare with the struct's own pid; a slot is
 * reused only after its process struct was freed by the epoch (epoch.c), with a new
 * generation, so a stale pid never reaches a later process.
 *
 * Signals travel in the same queue as messages (flagged HEARTH__MSG_SIGNAL), so what
 * one process sends another arrives in order, signals included. The receiver acts on
 * them when it takes them out of its queue (hearth__proc_drain), before handling the
 * messages that came with them, as the Erlang VM does. A signal sent to a process that
 * is already gone is answered for it: a link gets an exit with reason noproc, a
 * monitor a DOWN with reason noproc. */
#include "internal.h"

#include <string.h>

#define CHUNK_BITS 16
#define CHUNK_SLOTS (1u << CHUNK_BITS)
#define MAX_CHUNKS 256 /* 16M processes */
#define SLOT_CACHE 128 /* free slots a thread keeps for itself */

typedef struct slot {
    hearth__proc_t *_Atomic proc;
    uint32_t gen;       /* under table_lock or owned by the freeing thread */
    uint32_t next_free; /* global free list link, under table_lock */
} slot_t;

static slot_t *_Atomic chunks[MAX_CHUNKS];
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t free_head = UINT32_MAX; /* under table_lock */
static _Atomic uint32_t next_unused;    /* slots never handed out start here */

static __thread uint32_t slot_cache[SLOT_CACHE];
static __thread unsigned slot_cache_len;

hearth__counters_t hearth__counters;

static __thread hearth__proc_t *current;
static __thread uint64_t current_gen; /* the runtime generation current belongs to */
extern _Atomic uint64_t hearth__runtime_gen;

static inline slot_t *slot_at(uint32_t idx)
{
    slot_t *chunk = atomic_load_explicit(&chunks[idx >> CHUNK_BITS], memory_order_acquire);
    return chunk ? &chunk[idx & (CHUNK_SLOTS - 1)] : NULL;
}

static uint32_t slots_limit(void)
{
    size_t max = hearth__config()->max_processes;
    if (max == 0 || max > (size_t)MAX_CHUNKS * CHUNK_SLOTS)
        max = (size_t)MAX_CHUNKS * CHUNK_SLOTS;
    return (uint32_t)max;
}

/* Takes a batch of free slots into this thread's cache. Returns false when the table
 * is full. */
static bool slot_refill(void)
{
    pthread_mutex_lock(&table_lock);
    while (slot_cache_len < SLOT_CACHE / 2 && free_head != UINT32_MAX) {
        uint32_t idx = free_head;
        free_head = slot_at(idx)->next_free;
        slot_cache[slot_cache_len++] = idx;
    }
    while (slot_cache_len < SLOT_CACHE / 2) {
        uint32_t idx = atomic_load_explicit(&next_unused, memory_order_relaxed);
        if (idx >= slots_limit())
            break;
        if (atomic_load_explicit(&chunks[idx >> CHUNK_BITS], memory_order_relaxed) == NULL) {
            slot_t *chunk = hearth__calloc(CHUNK_SLOTS, sizeof(slot_t));
            atomic_store_explicit(&chunks[idx >> CHUNK_BITS], chunk, memory_order_release);
        }
        slot_at(idx)->gen = 1;
        atomic_store_explicit(&next_unused, idx + 1, memory_order_relaxed);
        slot_cache[slot_cache_len++] = idx;
    }
    pthread_mutex_unlock(&table_lock);
    return slot_cache_len > 0;
}

static void slot_release(uint32_t idx)
{
    slot_t *s = slot_at(idx);
    s->gen = s->gen == UINT32_MAX ? 1 : s->gen + 1;
    if (slot_cache_len == SLOT_CACHE) {
        /* Give half back so one thread that frees a lot does not hoard slots. */
        pthread_mutex_lock(&table_lock);
        while (slot_cache_len > SLOT_CACHE / 2) {
            uint32_t i = slot_cache[--slot_cache_len];
            slot_at(i)->next_free = free_head;
            free_head = i;
        }
        pthread_mutex_unlock(&table_lock);
    }
    slot_cache[slot_cache_len++] = idx;
}

/* Resets the table at runtime stop (no other thread runs). */
void hearth__proc_table_reset(void)
{
    int i;
    for (i = 0; i < MAX_CHUNKS; i++) {
        slot_t *c = atomic_load(&chunks[i]);
        atomic_store(&chunks[i], NULL);
        hearth__free(c);
    }
    free_head = UINT32_MAX;
    atomic_store(&next_unused, 0);
    slot_cache_len = 0;
}

/* Slot caches of other threads refer to the old table: the runtime generation check in
 * hearth__proc_alloc makes a thread drop its cache after a restart. */
static __thread uint64_t slot_cache_gen;

hearth__proc_t *hearth__proc_lookup(hearth_pid_t pid)
{
    uint32_t idx = (uint32_t)pid;
    slot_t *s;
    hearth__proc_t *p;

    if (HEARTH_UNLIKELY(idx >= atomic_load_explicit(&next_unused, memory_order_acquire)))
        return NULL;
    s = slot_at(idx);
    if (s == NULL)
        return NULL;
    p = atomic_load_explicit(&s->proc, memory_order_acquire);
    if (p == NULL || p->pid != pid)
        return NULL;
    return p;
}

hearth__proc_t *hearth__proc_alloc(uint8_t kind)
{
    uint64_t gen = atomic_load(&hearth__runtime_gen);
    hearth__proc_t *p;
    uint32_t idx;
    slot_t *s;

    if (slot_cache_gen != gen) {
        slot_cache_len = 0;
        slot_cache_gen = gen;
    }
    if (slot_cache_len == 0 && !slot_refill())
        return NULL;
    idx = slot_cache[--slot_cache_len];
    s = slot_at(idx);

    p = hearth__calloc(1, sizeof(*p));
    hearth__mpsc_init(&p->mq);
    atomic_init(&p->scheduled, 1);
    atomic_init(&p->life, HEARTH__RUNNING);
    p->kind = kind;
    p->pid = ((uint64_t)s->gen << 32) | idx;
    atomic_fetch_add_explicit(&hearth__counters.spawned, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&hearth__counters.live, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&hearth__counters.proc_bytes, sizeof(*p), memory_order_relaxed);
    /* Release: the struct's fields are visible to whoever finds it through the slot. */
    atomic_store_explicit(&s->proc, p, memory_order_release);
    return p;
}

hearth__proc_ext_t *hearth__proc_ext(hearth__proc_t *p)
{
    if (p->ext == NULL)
        p->ext = hearth__calloc(1, sizeof(*p->ext));
    return p->ext;
}

hearth__proc_t *hearth__current(void)
{
    if (current && current_gen != atomic_load_explicit(&hearth__runtime_gen, memory_order_relaxed))
        current = NULL; /* left over from a runtime that was stopped */
    return current;
}

void hearth__set_current(hearth__proc_t *p)
{
    current = p;
    current_gen = atomic_load_explicit(&hearth__runtime_gen, memory_order_relaxed);
}

/* Epoch sections around operations from threads that are not already inside one
 * (attached threads, libuv workers). Scheduler threads are always inside. */
typedef struct guard {
    hearth__epoch_rec_t *rec;
    bool entered;
} guard_t;

static inline guard_t guard_enter(void)
{
    guard_t g;
    g.entered = !hearth__epoch_inside;
    g.rec = g.entered ? hearth__epoch_self() : NULL;
    if (g.entered)
        hearth__epoch_enter(g.rec);
    return g;
}

static inline void guard_exit(guard_t g)
{
    if (g.entered)
        hearth__epoch_exit(g.rec);
}

hearth_pid_t hearth_self(void)
{
    hearth__proc_t *p = hearth__current_or_attach();
    return p ? p->pid : HEARTH_PID_NONE;
}

bool hearth_is_alive(hearth_pid_t pid)
{
    guard_t g = guard_enter();
    hearth__proc_t *p = hearth__proc_lookup(pid);
    bool alive = p && atomic_load_explicit(&p->life, memory_order_acquire) == HEARTH__RUNNING;
    guard_exit(g);
    return alive;
}

/* ---- delivery ------------------------------------------------------------------- */

void hearth__proc_deliver(hearth__proc_t *p, hearth_msg_t *m)
{
    hearth__mpsc_push(&p->mq, m);
    atomic_fetch_add_explicit(&p->mq_len, 1, memory_order_relaxed);
    /* The push's seq_cst exchange comes before this seq_cst load: if we see 1, the
     * owner's later "scheduled = 0; is the queue empty?" will see our message. */
    if (atomic_load_explicit(&p->scheduled, memory_order_seq_cst))
        return;
    if (atomic_exchange_explicit(&p->scheduled, 1, memory_order_seq_cst) == 0) {
        if (p->kind == HEARTH_KIND_THREAD)
            hearth__thread_wake(p);
        else
            hearth__sched_enqueue(p);
    }
}

/* Sends counted per thread (a shared counter would bounce one cache line between
 * every sender); hearth_stats adds them up. Blocks are never freed: few threads. */
typedef struct send_count {
    _Atomic uint64_t sent;
    struct send_count *next;
} send_count_t;

static send_count_t *_Atomic send_counts;
static __thread send_count_t *my_send_count;

static inline void count_send(void)
{
    send_count_t *c = my_send_count;
    if (HEARTH_UNLIKELY(c == NULL)) {
        c = my_send_count = hearth__calloc(1, sizeof(*c));
        c->next = atomic_load(&send_counts);
        while (!atomic_compare_exchange_weak(&send_counts, &c->next, c))
            ;
    }
    /* Only this thread writes it: a plain increment, published relaxed. */
    atomic_store_explicit(&c->sent, atomic_load_explicit(&c->sent, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

uint64_t hearth__sends_total(void)
{
    uint64_t n = 0;
    for (send_count_t *c = atomic_load(&send_counts); c; c = c->next)
        n += atomic_load_explicit(&c->sent, memory_order_relaxed);
    return n;
}

int hearth_send(hearth_pid_t to, hearth_msg_t *m)
{
    hearth__proc_t *p;
    guard_t g = guard_enter();
    hearth__proc_t *self = current ? hearth__current() : NULL;

    count_send();
    if (self == NULL && hearth__sched_self() == NULL)
        self = hearth__current_or_attach(); /* an OS thread's sends come from its process */
    if (self && self->cur_msg == m)
        self->cur_msg = NULL; /* sending the message being handled moves it */
    if (self)
        m->from = self->pid; /* a forwarded message is from its forwarder now */
    p = hearth__proc_lookup(to);
    if (HEARTH_UNLIKELY(p == NULL || atomic_load_explicit(&p->life, memory_order_relaxed) !=
                                         HEARTH__RUNNING)) {
        guard_exit(g);
        atomic_fetch_add_explicit(&hearth__counters.dropped, 1, memory_order_relaxed);
        hearth_msg_free(m);
        return HEARTH_ESRCH;
    }
    if (HEARTH_UNLIKELY(atomic_load_explicit(&p->fault_flags, memory_order_relaxed) &
                        HEARTH__FAULT_MAILBOX) &&
        !(m->flags_ & HEARTH__MSG_FAULTED)) {
        if (hearth__fault_on_send(p, m) != 0) {
            guard_exit(g);
            return 0; /* dropped or delayed, as a lossy link would */
        }
    }
    hearth__proc_deliver(p, m);
    guard_exit(g);
    return 0;
}

void hearth__send_system(hearth_pid_t to, hearth_msg_t *m)
{
    guard_t g = guard_enter();
    hearth__proc_t *p = hearth__proc_lookup(to);
    if (p && atomic_load_explicit(&p->life, memory_order_relaxed) == HEARTH__RUNNING)
        hearth__proc_deliver(p, m);
    else
        hearth_msg_free(m);
    guard_exit(g);
}

size_t hearth_send_shared(const hearth_pid_t *to, size_t n, uint32_t tag, hearth_payload_t *p)
{
    size_t i, delivered = 0;
    for (i = 0; i < n; i++)
        delivered += hearth_send(to[i], hearth_msg_shared(tag, p)) == 0;
    return delivered;
}

/* ---- signals -------------------------------------------------------------------- */

static void send_down(hearth_pid_t to, hearth_pid_t dead, uint64_t ref, hearth_reason_t reason)
{
    hearth_msg_t *m = hearth_msg_int(HEARTH_MSG_DOWN, reason);
    m->from = dead;
    m->ref = ref;
    hearth__send_system(to, m);
}

/* Answers a signal that reached a process that no longer exists. */
static void answer_for_dead(hearth_pid_t dead, hearth_msg_t *sig)
{
    if (sig->tag == HEARTH__SIG_LINK)
        hearth__signal_send(sig->from, HEARTH__SIG_LINK_EXIT, dead, 0, HEARTH_NOPROC);
    else if (sig->tag == HEARTH__SIG_MONITOR)
        send_down(sig->from, dead, sig->ref, HEARTH_NOPROC);
}

void hearth__signal_send(hearth_pid_t to, int sig, hearth_pid_t from, uint64_t ref,
                         int64_t value)
{
    guard_t g = guard_enter();
    hearth__proc_t *p = hearth__proc_lookup(to);
    hearth_msg_t *m = hearth__signal_new(sig, from, ref, value);

    if (p)
        hearth__proc_deliver(p, m); /* even if exiting: its teardown answers for it */
    else {
        answer_for_dead(to, m);
        hearth_msg_free(m);
    }
    guard_exit(g);
}

static bool pid_list_remove(hearth_pid_t *v, size_t *n, hearth_pid_t pid)
{
    size_t i;
    for (i = 0; i < *n; i++) {
        if (v[i] == pid) {
            v[i] = v[--*n];
            return true;
        }
    }
    return false;
}

static void pid_list_add(hearth_pid_t **v, size_t *n, size_t *cap, hearth_pid_t pid)
{
    size_t i;
    for (i = 0; i < *n; i++)
        if ((*v)[i] == pid)
            return;
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 1; /* most processes link or monitor one or two */
        *v = hearth__realloc(*v, *cap * sizeof(**v));
    }
    (*v)[(*n)++] = pid;
}

static void mon_list_add(struct hearth__mon **v, size_t *n, size_t *cap, uint64_t ref,
                         hearth_pid_t pid)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 1; /* most processes link or monitor one or two */
        *v = hearth__realloc(*v, *cap * sizeof(**v));
    }
    (*v)[*n].ref = ref;
    (*v)[*n].pid = pid;
    (*n)++;
}

static bool mon_list_remove(struct hearth__mon *v, size_t *n, uint64_t ref, hearth_pid_t *pid)
{
    size_t i;
    for (i = 0; i < *n; i++) {
        if (v[i].ref == ref) {
            if (pid)
                *pid = v[i].pid;
            v[i] = v[--*n];
            return true;
        }
    }
    return false;
}

/* An exit signal that is trapped becomes an ordinary message in the inbox. */
static void trap(hearth__proc_t *p, hearth_msg_t *sig)
{
    sig->flags_ &= ~HEARTH__MSG_SIGNAL;
    sig->tag = HEARTH_MSG_EXIT;
    hearth__fifo_push(&p->inbox, sig);
}

/* Acts on one signal taken out of p's queue. Returns false if it kills p. Takes sig. */
static bool handle_signal(hearth__proc_t *p, hearth_msg_t *sig)
{
    hearth__proc_ext_t *x;

    switch (sig->tag) {
    case HEARTH__SIG_EXIT:
        if (sig->value == HEARTH_KILL) {
            p->exit_reason = HEARTH_KILLED;
            break;
        }
        if (p->trap_exit) {
            trap(p, sig);
            return true;
        }
        if (sig->value == HEARTH_NORMAL && sig->from != p->pid) {
            hearth_msg_free(sig);
            return true;
        }
        p->exit_reason = sig->value;
        break;
    case HEARTH__SIG_LINK_EXIT:
        if (!p->ext || !pid_list_remove(p->ext->links, &p->ext->nlinks, sig->from)) {
            hearth_msg_free(sig); /* unlinked meanwhile */
            return true;
        }
        if (p->trap_exit) {
            trap(p, sig);
            return true;
        }
        if (sig->value == HEARTH_NORMAL) {
            hearth_msg_free(sig);
            return true;
        }
        p->exit_reason = sig->value;
        break;
    case HEARTH__SIG_LINK:
        x = hearth__proc_ext(p);
        pid_list_add(&x->links, &x->nlinks, &x->caplinks, sig->from);
        hearth_msg_free(sig);
        return true;
    case HEARTH__SIG_UNLINK:
        if (p->ext)
            pid_list_remove(p->ext->links, &p->ext->nlinks, sig->from);
        hearth_msg_free(sig);
        return true;
    case HEARTH__SIG_MONITOR:
        x = hearth__proc_ext(p);
        mon_list_add(&x->watchers, &x->nwatchers, &x->capwatchers, sig->ref, sig->from);
        hearth_msg_free(sig);
        return true;
    case HEARTH__SIG_DEMONITOR:
        if (p->ext)
            mon_list_remove(p->ext->watchers, &p->ext->nwatchers, sig->ref, NULL);
        hearth_msg_free(sig);
        return true;
    default:
        hearth_msg_free(sig);
        return true;
    }
    hearth_msg_free(sig);
    return false;
}

bool hearth__proc_drain(hearth__proc_t *p)
{
    hearth_msg_t *m;
    uint32_t n = 0;
    bool alive = true;

    while ((m = hearth__mpsc_pop(&p->mq)) != NULL) {
        n++;
        if (m->flags_ & HEARTH__MSG_SIGNAL) {
            if (!handle_signal(p, m)) {
                alive = false;
                break;
            }
        } else {
            if (m->tag == HEARTH_MSG_DOWN)
                hearth__monitor_forget(p, m->ref); /* the target is gone: nothing to undo */
            hearth__fifo_push(&p->inbox, m);
        }
    }
    if (n)
        atomic_fetch_sub_explicit(&p->mq_len, n, memory_order_relaxed);
    return alive;
}

/* ---- spawn ---------------------------------------------------------------------- */

static void link_both(hearth__proc_t *parent, hearth__proc_t *child)
{
    hearth__proc_ext_t *x = hearth__proc_ext(child);
    pid_list_add(&x->links, &x->nlinks, &x->caplinks, parent->pid);
    x = hearth__proc_ext(parent);
    pid_list_add(&x->links, &x->nlinks, &x->caplinks, child->pid);
}

/* Processes spawned by OS threads rather than by processes: the roots of the process
 * trees, which hearth_stop shuts down one by one in reverse order. */
static pthread_mutex_t roots_lock = PTHREAD_MUTEX_INITIALIZER;
static hearth_pid_t *roots;
static size_t nroots, caproots;

static void root_add(hearth_pid_t pid)
{
    pthread_mutex_lock(&roots_lock);
    if (nroots == caproots) {
        size_t i, live = 0;
        /* Drop the dead before growing, so a program that spawns many short-lived
         * roots does not grow the list forever. */
        for (i = 0; i < nroots; i++)
            if (hearth_is_alive(roots[i]))
                roots[live++] = roots[i];
        nroots = live;
        if (nroots * 2 >= caproots) {
            caproots = caproots ? caproots * 2 : 16;
            roots = hearth__realloc(roots, caproots * sizeof(*roots));
        }
    }
    roots[nroots++] = pid;
    pthread_mutex_unlock(&roots_lock);
}

size_t hearth__proc_roots(hearth_pid_t **out)
{
    pthread_mutex_lock(&roots_lock);
    *out = roots;
    size_t n = nroots;
    roots = NULL;
    nroots = caproots = 0;
    pthread_mutex_unlock(&roots_lock);
    return n;
}

void hearth__proc_start(hearth__proc_t *p, unsigned flags)
{
    hearth__proc_t *spawner = hearth__current();

    if (spawner == NULL || spawner->kind == HEARTH_KIND_THREAD)
        root_add(p->pid);
    if (flags & HEARTH_SPAWN_TRAP_EXIT)
        p->trap_exit = 1;
    if (flags & HEARTH_SPAWN_LINK) {
        hearth__proc_t *parent = hearth__current_or_attach();
        if (parent)
            link_both(parent, p);
    }
    if (p->kind == HEARTH_KIND_GREEN) {
        hearth__sched_enqueue(p); /* its first run enters the function */
        return;
    }
    /* An event process runs only when it has mail; its init may have sent itself some. */
    atomic_store_explicit(&p->scheduled, 0, memory_order_seq_cst);
    if (!hearth__mpsc_quiet(&p->mq)) { /* nothing was popped yet: head alone tells */
        int expected = 0;
        if (atomic_compare_exchange_strong(&p->scheduled, &expected, 1))
            hearth__sched_enqueue(p);
    }
}

int hearth_spawn(const hearth_actor_t *actor, void *arg, unsigned flags, hearth_pid_t *out)
{
    hearth__proc_t *p, *prev;
    int err;

    if (!hearth__running())
        return HEARTH_ESHUTDOWN;
    if (actor == NULL || actor->handle == NULL)
        return HEARTH_EINVAL;
    p = hearth__proc_alloc(HEARTH_KIND_EVENT);
    if (p == NULL)
        return HEARTH_ENOMEM;
    p->actor = actor;
    p->state = arg;
    if (actor->init) {
        prev = hearth__current();
        hearth__set_current(p);
        err = actor->init(&p->state, arg);
        hearth__set_current(prev);
        if (err) {
            hearth__proc_abort(p);
            return err < 0 ? err : HEARTH_EINVAL;
        }
    }
    if (out)
        *out = p->pid;
    hearth__proc_start(p, flags);
    return 0;
}

/* ---- exit ------------------------------------------------------------------------ */

static void teardown(hearth__proc_t *p, hearth_reason_t reason, bool run_terminate)
{
    hearth__proc_ext_t *x = p->ext;
    hearth_msg_t *m;
    size_t i;

    /* Unpublish first: from here a send or lookup finds nothing, and a sender that
     * already holds p pushes into a queue that the final free drains. */
    atomic_store_explicit(&p->life, HEARTH__EXITING, memory_order_seq_cst);
    atomic_store_explicit(&slot_at((uint32_t)p->pid)->proc, NULL, memory_order_release);
    hearth__registry_drop(p);

    if (run_terminate && p->kind == HEARTH_KIND_EVENT && p->actor->terminate) {
        hearth__proc_t *prev = hearth__current();
        hearth__set_current(p);
        p->actor->terminate(p->state, reason);
        hearth__set_current(prev);
    }
    if (x && x->nsocks)
        hearth__io_close_owned(p);
    if (x) {
        for (i = 0; i < x->nlinks; i++)
            hearth__signal_send(x->links[i], HEARTH__SIG_LINK_EXIT, p->pid, 0, reason);
        for (i = 0; i < x->nwatchers; i++)
            send_down(x->watchers[i].pid, p->pid, x->watchers[i].ref, reason);
        for (i = 0; i < x->nwatching; i++)
            hearth__signal_send(x->watching[i].pid, HEARTH__SIG_DEMONITOR, p->pid,
                                x->watching[i].ref, 0);
    }
    /* What came in but was never handled: answer its signals for the dead. */
    while ((m = hearth__mpsc_pop(&p->mq)) != NULL) {
        if (m->flags_ & HEARTH__MSG_SIGNAL)
            answer_for_dead(p->pid, m);
        hearth_msg_free(m);
    }
    while ((m = hearth__fifo_pop(&p->inbox)) != NULL)
        hearth_msg_free(m);
    if (p->kind == HEARTH_KIND_GREEN && p->green)
        hearth__green_destroy(p);
    if (x) {
        hearth__free(x->links);
        hearth__free(x->watchers);
        hearth__free(x->watching);
        hearth__free(x->socks);
        hearth__free(x);
        p->ext = NULL;
    }
    p->exit_reason = reason;
    atomic_fetch_add_explicit(&hearth__counters.exited, 1, memory_order_relaxed);
    atomic_fetch_sub_explicit(&hearth__counters.live, 1, memory_order_relaxed);
    atomic_store_explicit(&p->life, HEARTH__DEAD, memory_order_release);
    hearth__epoch_defer_proc(hearth__epoch_self(), p);
}

void hearth__proc_exit(hearth__proc_t *p, hearth_reason_t reason)
{
    teardown(p, reason, true);
}

void hearth__proc_abort(hearth__proc_t *p)
{
    teardown(p, HEARTH_NOPROC, false);
}

void hearth__proc_free(hearth__proc_t *p)
{
    hearth_msg_t *m;

    /* Senders that found p before it was unpublished have all left their sections:
     * whatever they pushed is here now. */
    while ((m = hearth__mpsc_pop(&p->mq)) != NULL) {
        if (m->flags_ & HEARTH__MSG_SIGNAL)
            answer_for_dead(p->pid, m);
        hearth_msg_free(m);
    }
    hearth__free(p->waiter);
    atomic_fetch_sub_explicit(&hearth__counters.proc_bytes, sizeof(*p), memory_order_relaxed);
    slot_release((uint32_t)p->pid);
    hearth__free(p);
}

/* ---- running an event process ---------------------------------------------------- */

static hearth_reason_t reason_of(hearth__proc_t *p, int rc)
{
    if (p->exit_requested)
        return p->exit_reason;
    if (rc == HEARTH_STOP)
        return HEARTH_NORMAL;
    if (rc < 0)
        return rc;
    return HEARTH_CRASH;
}

int hearth__proc_run_event(hearth__proc_t *p, unsigned budget)
{
    unsigned n;
    int rc;

    hearth__set_current(p);
    for (n = 0; n < budget; n++) {
        hearth_msg_t *m = hearth__fifo_pop(&p->inbox);
        if (m == NULL) {
            if (!hearth__proc_drain(p))
                goto killed;
            m = hearth__fifo_pop(&p->inbox);
            if (m == NULL)
                break;
        }
        if (HEARTH_UNLIKELY(atomic_load_explicit(&p->fault_flags, memory_order_relaxed) &
                            HEARTH__FAULT_CRASH_NEXT)) {
            atomic_fetch_and(&p->fault_flags, ~HEARTH__FAULT_CRASH_NEXT);
            hearth_msg_free(m);
            p->exit_reason = HEARTH_INJECTED;
            goto killed;
        }
        p->cur_msg = m;
        rc = p->actor->handle(p->state, m);
        p->handled++;
        hearth_msg_free(p->cur_msg);
        p->cur_msg = NULL;
        if (HEARTH_UNLIKELY(rc != 0 || p->exit_requested)) {
            hearth__proc_exit(p, reason_of(p, rc));
            hearth__set_current(NULL);
            return HEARTH__TURN_EXITED;
        }
    }
    hearth__set_current(NULL);
    return p->inbox.first ? HEARTH__TURN_YIELD : HEARTH__TURN_IDLE;

killed:
    hearth__proc_exit(p, p->exit_reason);
    hearth__set_current(NULL);
    return HEARTH__TURN_EXITED;
}

/* ---- the public signal API ---------------------------------------------------------- */

void hearth_exit(hearth_reason_t reason)
{
    hearth__proc_t *p = hearth__current_or_attach();
    if (p == NULL)
        return;
    p->exit_reason = reason;
    p->exit_requested = 1;
    if (p->kind == HEARTH_KIND_GREEN)
        hearth__green_exit(p);
    if (p->kind == HEARTH_KIND_THREAD) {
        /* An OS thread cannot be unwound: its process dies and the thread gets a
         * fresh one if it uses the runtime again. */
        hearth__set_current(NULL);
        hearth__proc_exit(p, reason);
    }
}

int hearth_exit_signal(hearth_pid_t pid, hearth_reason_t reason)
{
    hearth__proc_t *self = hearth__current_or_attach();
    if (!hearth_is_alive(pid))
        return HEARTH_ESRCH;
    hearth__signal_send(pid, HEARTH__SIG_EXIT, self ? self->pid : HEARTH_PID_NONE, 0, reason);
    return 0;
}

int hearth_link(hearth_pid_t pid)
{
    hearth__proc_t *self = hearth__current_or_attach();
    hearth__proc_ext_t *x;

    if (self == NULL)
        return HEARTH_ESHUTDOWN;
    if (pid == self->pid)
        return 0;
    if (!hearth_is_alive(pid))
        return HEARTH_ESRCH;
    x = hearth__proc_ext(self);
    pid_list_add(&x->links, &x->nlinks, &x->caplinks, pid);
    hearth__signal_send(pid, HEARTH__SIG_LINK, self->pid, 0, 0);
    return 0;
}

int hearth_unlink(hearth_pid_t pid)
{
    hearth__proc_t *self = hearth__current_or_attach();
    if (self == NULL)
        return HEARTH_ESHUTDOWN;
    if (self->ext && pid_list_remove(self->ext->links, &self->ext->nlinks, pid))
        hearth__signal_send(pid, HEARTH__SIG_UNLINK, self->pid, 0, 0);
    return 0;
}

int hearth_monitor(hearth_pid_t pid, uint64_t *ref)
{
    hearth__proc_t *self = hearth__current_or_attach();
    hearth__proc_ext_t *x;
    uint64_t r;

    if (self == NULL)
        return HEARTH_ESHUTDOWN;
    r = hearth_make_ref();
    if (ref)
        *ref = r;
    x = hearth__proc_ext(self);
    mon_list_add(&x->watching, &x->nwatching, &x->capwatching, r, pid);
    hearth__signal_send(pid, HEARTH__SIG_MONITOR, self->pid, r, 0);
    return 0;
}

static bool is_down_for(const hearth_msg_t *m, void *arg)
{
    return m->tag == HEARTH_MSG_DOWN && m->ref == *(uint64_t *)arg;
}

int hearth_demonitor(uint64_t ref, bool flush)
{
    hearth__proc_t *self = hearth__current_or_attach();
    hearth_pid_t pid;

    if (self == NULL)
        return HEARTH_ESHUTDOWN;
    if (!self->ext || !mon_list_remove(self->ext->watching, &self->ext->nwatching, ref, &pid))
        return HEARTH_ENOENT;
    hearth__signal_send(pid, HEARTH__SIG_DEMONITOR, self->pid, ref, 0);
    if (flush) {
        hearth_msg_t *m, *prev = NULL;
        if (!hearth__proc_drain(self)) {
            self->exit_requested = 1; /* killed by a signal on the way: exit soon */
        }
        for (m = self->inbox.first; m; prev = m, m = atomic_load(&m->next_)) {
            if (is_down_for(m, &ref)) {
                hearth__fifo_remove(&self->inbox, prev, m);
                hearth_msg_free(m);
                break;
            }
        }
    }
    return 0;
}

void hearth__monitor_forget(hearth__proc_t *self, uint64_t ref)
{
    if (self->ext)
        mon_list_remove(self->ext->watching, &self->ext->nwatching, ref, NULL);
}

bool hearth_trap_exit(bool on)
{
    hearth__proc_t *self = hearth__current_or_attach();
    bool old;
    if (self == NULL)
        return false;
    old = self->trap_exit;
    self->trap_exit = on;
    return old;
}

static _Atomic uint64_t ref_next = 1;
static __thread uint64_t ref_block_next, ref_block_end;

uint64_t hearth_make_ref(void)
{
    /* Refs come in per-thread blocks so monitors and calls do not all bounce one
     * shared cache line. */
    if (ref_block_next == ref_block_end) {
        ref_block_next = atomic_fetch_add_explicit(&ref_next, 1024, memory_order_relaxed);
        ref_block_end = ref_block_next + 1024;
    }
    return ref_block_next++;
}

size_t hearth__proc_foreach(int (*fn)(hearth__proc_t *p, void *arg), void *arg)
{
    guard_t g = guard_enter();
    uint32_t i, n = atomic_load_explicit(&next_unused, memory_order_acquire);
    size_t visited = 0;

    for (i = 0; i < n; i++) {
        slot_t *s = slot_at(i);
        hearth__proc_t *p = s ? atomic_load_explicit(&s->proc, memory_order_acquire) : NULL;
        if (p == NULL || atomic_load_explicit(&p->life, memory_order_relaxed) != HEARTH__RUNNING)
            continue;
        visited++;
        if (fn(p, arg))
            break;
    }
    guard_exit(g);
    return visited;
}
