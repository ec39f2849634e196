/* Epoch-based reclamation of process structs.
 *
 * A sender looks a pid up in the process table and pushes onto that process's queue
 * without locks, so the process may exit meanwhile. Its struct must outlive every such
 * sender: teardown unpublishes it (table slot cleared, state EXITING) and defers the
 * free here; it is freed once the global epoch has moved two steps past the epoch of
 * the deferral, which cannot happen while any thread that might have read the old
 * pointer is still inside the section it read it in.
 *
 * Scheduler threads stay inside a section while they run processes and announce the
 * current epoch between turns (quiesce); they leave it before sleeping. Attached
 * threads enter and leave around each operation. Written with C11 atomics (not
 * ck_epoch, whose compiled parts ThreadSanitizer cannot see into). */
#include "internal.h"

#define MAX_RECS 1024

struct hearth__epoch_rec {
    /* (epoch << 1) | active. Written by the owning thread, read by reclaimers. */
    _Atomic uint64_t state;
    _Atomic int in_use;
    /* Owner only: processes deferred at limbo_epoch[i], linked by epoch_next. */
    hearth__proc_t *limbo[3];
    uint64_t limbo_epoch[3];
} __attribute__((aligned(HEARTH_CACHELINE)));

static struct hearth__epoch_rec recs[MAX_RECS];
static _Atomic int nrecs;                  /* high-water mark of recs in use */
static _Atomic uint64_t global_epoch = 1;
static __thread hearth__epoch_rec_t *self_rec;
__thread bool hearth__epoch_inside;
static pthread_key_t rec_key;
static pthread_once_t rec_once = PTHREAD_ONCE_INIT;

/* A thread that leaves gives its record back; deferred processes stay in it and are
 * freed by the next thread that takes the record, or at runtime stop. */
static void rec_thread_exit_cb(void *arg)
{
    hearth__epoch_rec_t *r = arg;
    atomic_store_explicit(&r->state, 0, memory_order_release);
    atomic_store_explicit(&r->in_use, 0, memory_order_release);
    self_rec = NULL;
}

static void rec_key_init(void)
{
    pthread_key_create(&rec_key, rec_thread_exit_cb);
}

hearth__epoch_rec_t *hearth__epoch_self(void)
{
    hearth__epoch_rec_t *r = self_rec;
    int i, n;

    if (HEARTH_LIKELY(r != NULL))
        return r;
    pthread_once(&rec_once, rec_key_init);
    for (i = 0; i < MAX_RECS; i++) {
        int expected = 0;
        if (atomic_compare_exchange_strong(&recs[i].in_use, &expected, 1))
            break;
    }
    HEARTH_ASSERT(i < MAX_RECS);
    r = &recs[i];
    n = atomic_load(&nrecs);
    while (n < i + 1 && !atomic_compare_exchange_weak(&nrecs, &n, i + 1))
        ;
    self_rec = r;
    pthread_setspecific(rec_key, r);
    return r;
}

void hearth__epoch_enter(hearth__epoch_rec_t *r)
{
    uint64_t e = atomic_load(&global_epoch);
    for (;;) {
        /* seq_cst store then load: a reclaimer either sees us active at e, or we see
         * the epoch it advanced to (and every unpublish that preceded it). */
        atomic_store(&r->state, (e << 1) | 1);
        uint64_t again = atomic_load(&global_epoch);
        if (again == e) {
            hearth__epoch_inside = true;
            return;
        }
        e = again;
    }
}

void hearth__epoch_quiesce(hearth__epoch_rec_t *r)
{
    hearth__epoch_enter(r);
}

void hearth__epoch_exit(hearth__epoch_rec_t *r)
{
    /* Release: our reads of shared structs happen before a reclaimer frees them. */
    atomic_store_explicit(&r->state, 0, memory_order_release);
    hearth__epoch_inside = false;
}

static void free_list(hearth__proc_t *p)
{
    while (p) {
        hearth__proc_t *next = p->epoch_next;
        hearth__proc_free(p);
        p = next;
    }
}

static void try_advance(void)
{
    uint64_t e = atomic_load(&global_epoch);
    int i, n = atomic_load(&nrecs);

    for (i = 0; i < n; i++) {
        uint64_t s = atomic_load(&recs[i].state);
        if ((s & 1) && (s >> 1) != e)
            return; /* someone still reads in an older epoch */
    }
    atomic_compare_exchange_strong(&global_epoch, &e, e + 1);
}

static void free_old(hearth__epoch_rec_t *r, uint64_t now)
{
    int i;
    for (i = 0; i < 3; i++) {
        if (r->limbo[i] && r->limbo_epoch[i] + 2 <= now) {
            hearth__proc_t *list = r->limbo[i];
            r->limbo[i] = NULL;
            free_list(list);
        }
    }
}

void hearth__epoch_defer_proc(hearth__epoch_rec_t *r, hearth__proc_t *p)
{
    uint64_t e = atomic_load(&global_epoch);
    int b = (int)(e % 3);

    if (r->limbo[b] && r->limbo_epoch[b] != e) {
        /* That bucket holds an epoch at least three behind: safe to free now. */
        hearth__proc_t *list = r->limbo[b];
        r->limbo[b] = NULL;
        free_list(list);
    }
    r->limbo_epoch[b] = e;
    p->epoch_next = r->limbo[b];
    r->limbo[b] = p;
}

bool hearth__epoch_pending(hearth__epoch_rec_t *r)
{
    return r->limbo[0] || r->limbo[1] || r->limbo[2];
}

void hearth__epoch_reclaim(hearth__epoch_rec_t *r)
{
    int i;

    /* Up to three steps at once: when every other thread is idle or current, what was
     * deferred just now can go now, instead of waiting for two more calls. */
    for (i = 0; i < 3 && hearth__epoch_pending(r); i++) {
        if (hearth__epoch_inside)
            hearth__epoch_enter(r); /* re-announce: we hold nothing older */
        try_advance();
        free_old(r, atomic_load(&global_epoch));
    }
}

void hearth__epoch_drain_all(void)
{
    int i, j, n = atomic_load(&nrecs);
    for (i = 0; i < n; i++) {
        for (j = 0; j < 3; j++) {
            hearth__proc_t *list = recs[i].limbo[j];
            recs[i].limbo[j] = NULL;
            free_list(list);
        }
    }
}
