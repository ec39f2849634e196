/* The green thread stack pool.
 *
 * Stacks are carved from large regions of address space reserved with
 * MAP_NORESERVE: reserving costs nothing, and only the pages a thread touches
 * become resident (a fresh page costs a few microseconds to fault in, so reuse
 * matters more than anything else here). A freed stack goes on a LIFO list, first
 * the freeing thread's small cache (no lock: a scheduler that spawns and reaps
 * green threads keeps reusing the same warm stacks), then a shared list per size
 * under a mutex. Stacks are never given back to the regions; past WARM_MAX pooled
 * stacks of one size, the body of each newly pooled one is handed back to the
 * kernel (MADV_DONTNEED) so a burst of green threads does not pin its memory.
 *
 * Guard pages: each guarded stack splits its region into two more mappings, and
 * the kernel caps mappings per process (vm.max_map_count, 65,530 here). Guards are
 * therefore granted while the budget lasts (a quarter of the cap: two mappings per
 * stack, half the cap left to the rest of the program) and the later stacks rely
 * on the canary alone. A pooled stack keeps its guard, so the budget is spent once
 * per carving, not per spawn. */
#include "green.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define REGION_BYTES ((size_t)4 << 30)    /* address space reserved at a time */
#define DEDICATED_MIN (REGION_BYTES / 64) /* stacks this big get a mapping of their own */
#define STACK_MAX ((size_t)1 << 30)       /* larger requests fail */
#define CACHE_MAX 64                      /* stacks a thread keeps without locking */
#define WARM_MAX 1024                     /* pooled stacks per size kept resident */

/* Pooled stacks of one carving size. */
typedef struct stack_class {
    size_t total;
    hearth__green_t *head;
    size_t count;
    struct stack_class *next;
} stack_class_t;

/* The shared pool. Everything but `guarded` is under lock. The pool outlives
 * hearth_stop (a later hearth_start reuses it), so it uses plain calloc. */
static struct {
    pthread_mutex_t lock;
    char *cur, *end;        /* the unused rest of the current region */
    stack_class_t *classes; /* a handful: one per distinct stack size in use */
    _Atomic size_t guarded; /* carvings holding a guard page; only grows */
    size_t guard_budget;
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* This thread's cache: stacks of one carving size (the first it frees; normally
 * the default size). Owner thread only; on only for scheduler threads. */
static _Thread_local struct {
    hearth__green_t *head;
    size_t n;
    size_t total;
    bool on;
} cache;

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static size_t page_size;

static void pool_init(void)
{
    long max_maps = 65530;
    FILE *f;
    long v;

    page_size = (size_t)sysconf(_SC_PAGESIZE);
    f = fopen("/proc/sys/vm/max_map_count", "r");
    if (f != NULL) {
        if (fscanf(f, "%ld", &v) == 1 && v > 0)
            max_maps = v;
        fclose(f);
    }
    pool.guard_budget = (size_t)max_maps / 4;
}

/* Returns the system page size. Any thread. */
size_t hearth__green_page(void)
{
    pthread_once(&init_once, pool_init);
    return page_size;
}

/* The record of a carving at lo, reset to zero but for its geometry. */
static hearth__green_t *record_init(char *lo, size_t total, uint32_t flags)
{
    hearth__green_t *g = (hearth__green_t *)(lo + total - HEARTH__GREEN_RECORD);

    memset(g, 0, sizeof(*g));
    g->lo = lo;
    g->total = total;
    g->flags = flags;
    return g;
}

static hearth__green_t *record_reuse(hearth__green_t *g)
{
    return record_init(g->lo, g->total, g->flags);
}

/* The class for total, created if asked. Under pool.lock. */
static stack_class_t *class_find(size_t total, bool create)
{
    stack_class_t *c;

    for (c = pool.classes; c != NULL; c = c->next)
        if (c->total == total)
            return c;
    if (!create)
        return NULL;
    c = calloc(1, sizeof(*c));
    HEARTH_ASSERT(c != NULL);
    c->total = total;
    c->next = pool.classes;
    pool.classes = c;
    return c;
}

static char *map_noreserve(size_t len)
{
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

    if (m == MAP_FAILED)
        return NULL;
    /* Transparent huge pages would back a 2 MiB run of small stacks at once. */
    (void)madvise(m, len, MADV_NOHUGEPAGE);
    return m;
}

/* Carves total bytes from the current region, reserving a new one when it runs
 * out (the old region's tail is left unused: address space only). Under lock. */
static char *region_carve(size_t total)
{
    size_t len;
    char *r;

    if ((size_t)(pool.end - pool.cur) < total) {
        /* Under strict overcommit a 4 GiB reservation may be refused: try smaller. */
        for (len = REGION_BYTES; len >= total; len /= 4) {
            r = map_noreserve(len);
            if (r != NULL)
                break;
        }
        if (len < total)
            return NULL;
        pool.cur = r;
        pool.end = r + len;
    }
    r = pool.cur;
    pool.cur += total;
    return r;
}

/* Takes a stack of at least size usable bytes, record included. See green.h. */
hearth__green_t *hearth__stack_get(size_t size)
{
    size_t page = hearth__green_page();
    hearth__green_t *g = NULL;
    stack_class_t *c;
    size_t total;
    uint32_t flags = 0;
    char *lo;

    if (size > STACK_MAX)
        return NULL;
    if (size < HEARTH__GREEN_RECORD + page)
        size = HEARTH__GREEN_RECORD + page;
    total = page + ((size + page - 1) & ~(page - 1));

    if (total >= DEDICATED_MIN) {
        lo = map_noreserve(total);
        if (lo == NULL)
            return NULL;
        if (mprotect(lo, page, PROT_NONE) == 0)
            flags |= HEARTH__GREEN_GUARDED; /* one mapping of its own: no budget */
        return record_init(lo, total, flags | HEARTH__GREEN_DEDICATED);
    }

    if (cache.head != NULL && cache.total == total) {
        g = cache.head;
        cache.head = g->next;
        cache.n--;
        return record_reuse(g);
    }

    pthread_mutex_lock(&pool.lock);
    c = class_find(total, false);
    if (c != NULL && c->head != NULL) {
        g = c->head;
        c->head = g->next;
        c->count--;
    }
    lo = g == NULL ? region_carve(total) : NULL;
    pthread_mutex_unlock(&pool.lock);
    if (g != NULL)
        return record_reuse(g);
    if (lo == NULL)
        return NULL;

    /* Relaxed: the counter only bounds how many guards exist; a race past the
     * budget by a stack or two is harmless, the cap has slack. */
    if (atomic_fetch_add_explicit(&pool.guarded, 1, memory_order_relaxed) < pool.guard_budget &&
        mprotect(lo, page, PROT_NONE) == 0)
        flags |= HEARTH__GREEN_GUARDED;
    else
        atomic_fetch_sub_explicit(&pool.guarded, 1, memory_order_relaxed);
    return record_init(lo, total, flags);
}

/* Gives a stack back. See green.h. */
void hearth__stack_put(hearth__green_t *g)
{
    size_t page = hearth__green_page();
    stack_class_t *c;
    bool trim;

    if (g->flags & HEARTH__GREEN_DEDICATED) {
        HEARTH_ASSERT(munmap(g->lo, g->total) == 0);
        return;
    }

    if (cache.n == 0)
        cache.total = g->total; /* an empty cache follows the sizes being freed */
    if (cache.on && cache.total == g->total && cache.n < CACHE_MAX) {
        g->next = cache.head;
        cache.head = g;
        cache.n++;
        return;
    }

    pthread_mutex_lock(&pool.lock);
    c = class_find(g->total, true);
    trim = c->count >= WARM_MAX;
    if (!trim) {
        g->next = c->head;
        c->head = g;
        c->count++;
    }
    pthread_mutex_unlock(&pool.lock);
    if (!trim)
        return;

    /* Too many pooled already: drop the body's pages (the guard page keeps its
     * protection; the record's page stays, it is the free-list node). */
    if (g->total > 2 * page)
        (void)madvise(g->lo + page, g->total - 2 * page, MADV_DONTNEED);
    pthread_mutex_lock(&pool.lock);
    g->next = c->head;
    c->head = g;
    c->count++;
    pthread_mutex_unlock(&pool.lock);
}

/* Turns this thread's cache on or off. See green.h. */
void hearth__stack_thread_cache(bool on)
{
    hearth__green_t *g, *next;
    stack_class_t *c;

    cache.on = on;
    if (on || cache.n == 0)
        return;
    pthread_mutex_lock(&pool.lock);
    c = class_find(cache.total, true);
    for (g = cache.head; g != NULL; g = next) {
        next = g->next;
        g->next = c->head;
        c->head = g;
        c->count++;
    }
    pthread_mutex_unlock(&pool.lock);
    cache.head = NULL;
    cache.n = 0;
}
