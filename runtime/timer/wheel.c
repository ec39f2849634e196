/* A hierarchical timing wheel: 4 levels of 256 slots at 1 ms resolution (2^32 ms,
 * about 49 days, before the overflow list), cascading, with intrusive doubly-linked
 * timer nodes so that start and cancel are O(1).
 *
 * Placement. cur is the next millisecond the wheel has not processed; every pending
 * timer has due >= cur, except those on the late list (started with a due time the
 * wheel had already passed: they fire on the next run). A timer sits on the level of
 * the highest byte in which due and cur differ, in the slot named by due's byte on
 * that level: level 0 holds timers due within cur's 256 ms block, level 1 those in a
 * later 256 ms block of cur's 64 s block, and so on; due and cur differing above bit
 * 32 means the overflow list. When cur enters a new block of level k, the slot of
 * level k for that block is cascaded: its timers are placed again, lower down.
 * Placing by the differing byte (not by the distance due - cur) is what keeps equal
 * due times in start order: two timers due the same millisecond always sit on the
 * same list, the earlier one first, whatever cur was when each started.
 *
 * Every occupied slot of level >= 1 is ahead of cur's byte on that level, and the
 * lowest occupied level holds the earliest timers. So a bitmap per level (256 bits)
 * gives the next due time (level 0) or the next boundary where something cascades
 * (higher levels) with a few word scans: next is cheap, and run jumps straight from
 * event to event instead of stepping through idle milliseconds.
 *
 * Nodes live in chunks of 4,096 that never move; a ref is wheel id + node index +
 * the node's generation, bumped at each reuse, so cancel can check a ref against a
 * node that has since fired and been reused. Wheels are found from refs through a
 * small global table of ids.
 *
 * Locking: one mutex per wheel guards everything in it. run moves due nodes to a
 * private list marked FIRING under the lock, calls the fire callbacks without it
 * (they send messages, which may start timers on this wheel), then frees the nodes
 * under the lock again. A cancel meanwhile sees FIRING and answers HEARTH_ENOENT. */
#include "internal.h"
#include "timer/wheel.h"

#include <string.h>

#define LEVELS 4
#define SLOT_BITS 8
#define SLOTS (1u << SLOT_BITS)
#define SLOT_MASK (SLOTS - 1)
#define WORDS (SLOTS / 64)

#define CHUNK_SHIFT 12
#define CHUNK_NODES (1u << CHUNK_SHIFT)
#define MAX_CHUNKS (HEARTH__WHEEL_MAX_TIMERS / CHUNK_NODES)

/* ref = serial(6) | wheel id(10) | node index(24) | generation(24); the generation is
 * never 0, so neither is a ref. The serial tells apart wheels that reused an id (a
 * ref kept across hearth_stop and hearth_start). */
#define REF_GEN_BITS 24
#define REF_INDEX_BITS 24
#define REF_ID_BITS 10
#define REF_SERIAL_BITS 6
#define GEN_MASK ((1u << REF_GEN_BITS) - 1)
#define INDEX_MASK ((1u << REF_INDEX_BITS) - 1)
#define MAX_WHEELS (1u << REF_ID_BITS)
#define SERIAL_MASK ((1u << REF_SERIAL_BITS) - 1)

enum { NODE_FREE = 0, NODE_PENDING, NODE_FIRING };

typedef struct link {
    struct link *next, *prev;
} link_t;

/* 48 bytes. link comes first: a link pointer converts to its node. */
typedef struct node {
    link_t link;     /* on a slot, the late or overflow list, a firing list; or free */
    uint64_t due;    /* absolute ms */
    void *ptr;       /* the caller's (a message) */
    uint64_t target; /* the caller's (a pid) */
    uint32_t index;  /* in the wheel's chunks: what refs name */
    uint32_t tag;    /* generation << 8 | NODE_* state */
} node_t;

struct hearth__wheel {
    pthread_mutex_t lock;
    uint64_t cur;   /* next ms not processed yet */
    uint64_t armed; /* when the owner plans to wake next (UINT64_MAX: never) */
    size_t pending;
    link_t slots[LEVELS][SLOTS];
    uint64_t bits[LEVELS][WORDS]; /* occupied slots */
    link_t overflow;              /* due and cur differ above bit 32 */
    uint64_t overflow_min;        /* <= every due on overflow (not raised by cancel) */
    link_t late;                  /* due < cur: fire on the next run; sorted by due */
    link_t free;                  /* released nodes, reused LIFO so they stay warm */
    uint32_t fresh;               /* nodes ever handed out: the next index never used */
    uint32_t id, serial;
    node_t *chunks[MAX_CHUNKS];
};

static hearth__wheel_t *_Atomic wheels[MAX_WHEELS];
static _Atomic uint32_t serial_next;

/* ---- lists ---------------------------------------------------------------------- */

static void list_init(link_t *l)
{
    l->next = l->prev = l;
}

static bool list_empty(const link_t *l)
{
    return l->next == l;
}

static void list_append(link_t *l, link_t *n)
{
    n->prev = l->prev;
    n->next = l;
    l->prev->next = n;
    l->prev = n;
}

static void list_insert_after(link_t *pos, link_t *n)
{
    n->prev = pos;
    n->next = pos->next;
    pos->next->prev = n;
    pos->next = n;
}

/* Moves all of src to the end of dst, in order; src is left empty. */
static void list_splice(link_t *dst, link_t *src)
{
    if (list_empty(src))
        return;
    src->next->prev = dst->prev;
    dst->prev->next = src->next;
    src->prev->next = dst;
    dst->prev = src->prev;
    list_init(src);
}

static node_t *node_of(link_t *l)
{
    return (node_t *)l;
}

/* ---- bitmaps -------------------------------------------------------------------- */

static void bit_set(uint64_t *b, unsigned i)
{
    b[i / 64] |= 1ull << (i % 64);
}

static void bit_clear(uint64_t *b, unsigned i)
{
    b[i / 64] &= ~(1ull << (i % 64));
}

static int bit_first(const uint64_t *b)
{
    for (unsigned i = 0; i < WORDS; i++)
        if (b[i])
            return (int)(i * 64 + (unsigned)__builtin_ctzll(b[i]));
    return -1;
}

/* ---- placement ------------------------------------------------------------------ */

/* The highest byte in which x is nonzero (x >= 256). */
static unsigned high_byte(uint64_t x)
{
    return (unsigned)(63 - __builtin_clzll(x)) / SLOT_BITS;
}

/* Puts pending node n on the list its due time and w->cur call for. */
static void place(hearth__wheel_t *w, node_t *n)
{
    uint64_t x;
    unsigned level, slot;
    link_t *pos;

    if (n->due < w->cur) {
        /* Late timers fire oldest due first. New ones are nearly always the latest
         * (due = the starter's now), so the walk from the tail stops at once. */
        for (pos = w->late.prev; pos != &w->late; pos = pos->prev)
            if (node_of(pos)->due <= n->due)
                break;
        list_insert_after(pos, &n->link);
        return;
    }
    x = n->due ^ w->cur;
    level = x < SLOTS ? 0 : high_byte(x);
    if (level >= LEVELS) {
        list_append(&w->overflow, &n->link);
        if (n->due < w->overflow_min)
            w->overflow_min = n->due;
        return;
    }
    slot = (unsigned)(n->due >> (level * SLOT_BITS)) & SLOT_MASK;
    list_append(&w->slots[level][slot], &n->link);
    bit_set(w->bits[level], slot);
}

/* Unlinks pending node n from whatever list holds it, keeping the bitmaps right. */
static void unplace(hearth__wheel_t *w, node_t *n)
{
    link_t *prev = n->link.prev, *next = n->link.next;
    uintptr_t first = (uintptr_t)&w->slots[0][0];
    uintptr_t at = (uintptr_t)prev;
    size_t i;

    prev->next = next;
    next->prev = prev;
    /* prev == next: n was alone, and prev is the list head. If that head is a slot,
     * the slot is now empty. */
    if (prev == next && at >= first && at < first + sizeof(w->slots)) {
        i = (at - first) / sizeof(link_t);
        bit_clear(w->bits[i / SLOTS], (unsigned)(i % SLOTS));
    }
}

/* Moves cur to new_cur, cascading the one slot (or the overflow list) whose block
 * new_cur enters. Callers guarantee that nothing is due before new_cur and that no
 * occupied slot's boundary lies strictly between the two, so no other slot needs
 * attention (see next_boundary). */
static void advance(hearth__wheel_t *w, uint64_t new_cur)
{
    uint64_t x = w->cur ^ new_cur;
    unsigned level, slot;
    link_t moving, *l;

    w->cur = new_cur;
    if (x < SLOTS)
        return;
    level = high_byte(x);
    list_init(&moving);
    if (level >= LEVELS) {
        list_splice(&moving, &w->overflow);
        w->overflow_min = UINT64_MAX;
    } else {
        slot = (unsigned)(new_cur >> (level * SLOT_BITS)) & SLOT_MASK;
        list_splice(&moving, &w->slots[level][slot]);
        bit_clear(w->bits[level], slot);
    }
    /* Re-placing in list order keeps equal due times in start order. */
    while (!list_empty(&moving)) {
        l = moving.next;
        l->prev->next = l->next;
        l->next->prev = l->prev;
        place(w, node_of(l));
    }
}

/* The next time something happens on levels >= 1 or the overflow list: the start
 * of the block of the first occupied slot on the lowest occupied level, or for the
 * overflow list the start of the 2^32 ms block of its earliest timer (so a timer a
 * year ahead cascades once, not once every 49 days). UINT64_MAX if all are empty. */
static uint64_t next_boundary(const hearth__wheel_t *w)
{
    uint64_t next, earliest;
    unsigned shift;
    int slot;

    for (unsigned level = 1; level < LEVELS; level++) {
        slot = bit_first(w->bits[level]);
        if (slot < 0)
            continue;
        shift = level * SLOT_BITS;
        return (w->cur >> (shift + SLOT_BITS) << (shift + SLOT_BITS)) | ((uint64_t)slot << shift);
    }
    if (!list_empty(&w->overflow)) {
        shift = LEVELS * SLOT_BITS;
        next = ((w->cur >> shift) + 1) << shift;
        earliest = w->overflow_min >> shift << shift;
        return earliest > next ? earliest : next;
    }
    return UINT64_MAX;
}

/* The earliest time a pending timer may be due (exact for late and level-0 timers,
 * a lower bound otherwise), or UINT64_MAX. */
static uint64_t next_event(const hearth__wheel_t *w)
{
    int slot;

    if (!list_empty(&w->late))
        return 0;
    slot = bit_first(w->bits[0]);
    if (slot >= 0)
        return (w->cur & ~(uint64_t)SLOT_MASK) | (uint64_t)slot;
    return next_boundary(w);
}

/* ---- nodes ---------------------------------------------------------------------- */

static node_t *node_at(hearth__wheel_t *w, uint32_t index)
{
    return &w->chunks[index >> CHUNK_SHIFT][index & (CHUNK_NODES - 1)];
}

static uint32_t tag_gen(uint32_t tag)
{
    return tag >> 8;
}

static node_t *node_alloc(hearth__wheel_t *w)
{
    node_t *n;
    uint32_t index;

    if (!list_empty(&w->free)) {
        n = node_of(w->free.next);
        w->free.next = n->link.next;
        n->link.next->prev = &w->free;
        return n;
    }
    if (w->fresh == HEARTH__WHEEL_MAX_TIMERS)
        return NULL;
    index = w->fresh++;
    if ((index & (CHUNK_NODES - 1)) == 0) /* not zeroed: nodes are set up here */
        w->chunks[index >> CHUNK_SHIFT] = hearth__malloc(CHUNK_NODES * sizeof(node_t));
    n = node_at(w, index);
    n->index = index;
    n->tag = 1u << 8; /* generation 1: refs are never 0 */
    return n;
}

/* Returns n to the free list with a new generation, so refs to it go stale. */
static void node_release(hearth__wheel_t *w, node_t *n)
{
    uint32_t gen = (tag_gen(n->tag) + 1) & GEN_MASK;

    n->tag = (gen ? gen : 1) << 8 | NODE_FREE;
    n->ptr = NULL;
    list_insert_after(&w->free, &n->link);
}

/* ---- the interface -------------------------------------------------------------- */

hearth__wheel_t *hearth__wheel_create(uint64_t now_ms)
{
    hearth__wheel_t *w = hearth__calloc(1, sizeof(*w));
    hearth__wheel_t *expected;
    uint32_t id;

    HEARTH_ASSERT(pthread_mutex_init(&w->lock, NULL) == 0);
    w->cur = now_ms;
    w->armed = UINT64_MAX; /* the owner has not planned yet: the first start wakes it */
    w->overflow_min = UINT64_MAX;
    for (unsigned l = 0; l < LEVELS; l++)
        for (unsigned s = 0; s < SLOTS; s++)
            list_init(&w->slots[l][s]);
    list_init(&w->overflow);
    list_init(&w->late);
    list_init(&w->free);
    w->serial = atomic_fetch_add_explicit(&serial_next, 1, memory_order_relaxed) & SERIAL_MASK;
    /* Release: a canceller that finds w in the table sees it initialized. */
    for (id = 0; id < MAX_WHEELS; id++) {
        expected = NULL;
        if (atomic_compare_exchange_strong_explicit(&wheels[id], &expected, w, memory_order_release,
                                                    memory_order_relaxed))
            break;
    }
    HEARTH_ASSERT(id < MAX_WHEELS);
    w->id = id;
    return w;
}

static void free_list(link_t *l, void (*free_ptr)(void *ptr))
{
    for (link_t *i = l->next; i != l; i = i->next)
        if (free_ptr != NULL)
            free_ptr(node_of(i)->ptr);
}

void hearth__wheel_destroy(hearth__wheel_t *w, void (*free_ptr)(void *ptr))
{
    if (w == NULL)
        return;
    atomic_store_explicit(&wheels[w->id], NULL, memory_order_relaxed);
    free_list(&w->late, free_ptr);
    for (unsigned l = 0; l < LEVELS; l++)
        for (unsigned s = 0; s < SLOTS; s++)
            free_list(&w->slots[l][s], free_ptr);
    free_list(&w->overflow, free_ptr);
    for (uint32_t c = 0; c < MAX_CHUNKS && w->chunks[c] != NULL; c++)
        hearth__free(w->chunks[c]);
    pthread_mutex_destroy(&w->lock);
    hearth__free(w);
}

int hearth__wheel_start(hearth__wheel_t *w, uint64_t due_ms, uint64_t target, void *ptr,
                        uint64_t *ref, bool *wake)
{
    node_t *n;
    bool earlier;

    pthread_mutex_lock(&w->lock);
    n = node_alloc(w);
    if (n == NULL) {
        pthread_mutex_unlock(&w->lock);
        return HEARTH_ENOMEM;
    }
    n->due = due_ms;
    n->ptr = ptr;
    n->target = target;
    n->tag = (n->tag & ~0xffu) | NODE_PENDING;
    place(w, n);
    w->pending++;
    earlier = due_ms < w->armed;
    if (earlier)
        w->armed = due_ms; /* one wake-up per earlier plan, not one per start */
    if (ref != NULL)
        *ref = (uint64_t)w->serial << (REF_GEN_BITS + REF_INDEX_BITS + REF_ID_BITS) |
               (uint64_t)w->id << (REF_GEN_BITS + REF_INDEX_BITS) |
               (uint64_t)n->index << REF_GEN_BITS | tag_gen(n->tag);
    pthread_mutex_unlock(&w->lock);
    if (wake != NULL)
        *wake = earlier;
    return 0;
}

int hearth__wheel_cancel(uint64_t ref, void **ptr)
{
    uint32_t gen = ref & GEN_MASK;
    uint32_t index = (ref >> REF_GEN_BITS) & INDEX_MASK;
    uint32_t id = (ref >> (REF_GEN_BITS + REF_INDEX_BITS)) & (MAX_WHEELS - 1);
    uint32_t serial = (uint32_t)(ref >> (REF_GEN_BITS + REF_INDEX_BITS + REF_ID_BITS));
    hearth__wheel_t *w;
    node_t *n;
    int err = HEARTH_ENOENT;

    /* Acquire pairs with create's release. The caller guarantees w is not being
     * destroyed (refs do not outlive hearth_stop). */
    w = atomic_load_explicit(&wheels[id], memory_order_acquire);
    if (w == NULL || w->serial != serial || gen == 0)
        return HEARTH_ENOENT;
    pthread_mutex_lock(&w->lock);
    if (index < w->fresh) {
        n = node_at(w, index);
        if (n->tag == (gen << 8 | NODE_PENDING)) {
            unplace(w, n);
            w->pending--;
            *ptr = n->ptr;
            node_release(w, n);
            err = 0;
        }
    }
    pthread_mutex_unlock(&w->lock);
    return err;
}

/* Moves every node of l to the firing list, marking each FIRING. */
static size_t take(hearth__wheel_t *w, link_t *firing, link_t *l)
{
    size_t n = 0;

    for (link_t *i = l->next; i != l; i = i->next, n++)
        node_of(i)->tag = (node_of(i)->tag & ~0xffu) | NODE_FIRING;
    list_splice(firing, l);
    w->pending -= n;
    return n;
}

size_t hearth__wheel_run(hearth__wheel_t *w, uint64_t now_ms, hearth__wheel_fire_fn fire, void *arg)
{
    link_t firing, *i, *next;
    uint64_t t;
    size_t fired;
    int slot;

    list_init(&firing);
    pthread_mutex_lock(&w->lock);
    fired = take(w, &firing, &w->late);
    while (w->cur <= now_ms) {
        slot = bit_first(w->bits[0]);
        if (slot >= 0) {
            t = (w->cur & ~(uint64_t)SLOT_MASK) | (uint64_t)slot;
            if (t <= now_ms) {
                fired += take(w, &firing, &w->slots[0][slot]);
                bit_clear(w->bits[0], (unsigned)slot);
                advance(w, t + 1);
                continue;
            }
        }
        t = next_boundary(w);
        if (t > now_ms) {
            advance(w, now_ms + 1);
            break;
        }
        advance(w, t);
    }
    w->armed = next_event(w);
    pthread_mutex_unlock(&w->lock);

    if (fired == 0)
        return 0;
    /* Unlocked: the nodes are FIRING, so nothing else touches them, and the chunks
     * they live in never move. */
    for (i = firing.next; i != &firing; i = i->next)
        fire(node_of(i)->target, node_of(i)->ptr, arg);

    pthread_mutex_lock(&w->lock);
    for (i = firing.next; i != &firing; i = next) {
        next = i->next;
        node_release(w, node_of(i));
    }
    pthread_mutex_unlock(&w->lock);
    return fired;
}

int64_t hearth__wheel_next(hearth__wheel_t *w, uint64_t now_ms)
{
    uint64_t t;

    pthread_mutex_lock(&w->lock);
    t = w->armed = next_event(w);
    pthread_mutex_unlock(&w->lock);
    if (t == UINT64_MAX)
        return -1;
    if (t <= now_ms)
        return 0;
    return t - now_ms > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)(t - now_ms);
}

size_t hearth__wheel_pending(hearth__wheel_t *w)
{
    size_t n;

    pthread_mutex_lock(&w->lock);
    n = w->pending;
    pthread_mutex_unlock(&w->lock);
    return n;
}

size_t hearth__wheel_bytes(hearth__wheel_t *w)
{
    size_t chunks;

    pthread_mutex_lock(&w->lock);
    chunks = (w->fresh + CHUNK_NODES - 1) / CHUNK_NODES;
    pthread_mutex_unlock(&w->lock);
    return sizeof(*w) + chunks * CHUNK_NODES * sizeof(node_t);
}
