/* The spam heuristics' memory: for each recent author, a ring of their last
 * AUTOMOD_SPAM_HISTORY messages (time, content hash, mentions).
 *
 * Bounded two ways. Authors idle longer than the longest window any rule looks at are
 * forgotten (they have nothing left that counts); and there are never more than max
 * authors: a new one beyond that pushes out the least recently seen. So a flood of
 * distinct authors (a raid of fresh accounts) costs at most max records, and the
 * table shrinks to nothing once a guild goes quiet.
 *
 * Records live in one slab indexed by slot; an open-addressing index (linear probing,
 * backward-shift deletion) finds a slot by author id; a doubly linked recency list
 * through the slots, most recent first, gives both expiry (pop from the tail while it
 * is idle) and eviction (the tail) in O(1). */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

void am_authors_init(am_authors_t *a, size_t max)
{
    memset(a, 0, sizeof(*a));
    a->max = max;
    a->head = a->tail = a->free = AM_NIL;
}

void am_authors_free(am_authors_t *a)
{
    free(a->slots);
    free(a->index);
    am_authors_init(a, a->max);
}

void am_authors_clear(am_authors_t *a)
{
    am_authors_free(a);
}

static size_t slot_hash(uint64_t id, size_t cap)
{
    return (size_t)((id * 0x9E3779B97F4A7C15ull) >> 29) & (cap - 1);
}

/* The index position holding id, or the empty position where it would go. */
static size_t index_find(const am_authors_t *a, uint64_t id)
{
    size_t i = slot_hash(id, a->index_cap);

    while (a->index[i] != 0 && a->slots[a->index[i] - 1].id != id)
        i = (i + 1) & (a->index_cap - 1);
    return i;
}

/* Keeps the index at most half full, so probes stay short. */
static void index_grow(am_authors_t *a)
{
    uint32_t *old = a->index;
    size_t old_cap = a->index_cap, i;

    if (a->index_cap != 0 && (a->n + 1) * 2 <= a->index_cap)
        return;
    a->index_cap = a->index_cap == 0 ? 16 : a->index_cap * 2;
    a->index = calloc(a->index_cap, sizeof(*a->index));
    if (a->index == NULL)
        abort();
    for (i = 0; i < old_cap; i++)
        if (old[i] != 0)
            a->index[index_find(a, a->slots[old[i] - 1].id)] = old[i];
    free(old);
}

static void index_delete(am_authors_t *a, size_t i)
{
    size_t mask = a->index_cap - 1, j = i, k;

    /* Backward shift: move later entries of the probe run into the hole when their
     * home position is not between the hole and them. */
    for (;;) {
        j = (j + 1) & mask;
        if (a->index[j] == 0)
            break;
        k = slot_hash(a->slots[a->index[j] - 1].id, a->index_cap);
        if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
            a->index[i] = a->index[j];
            i = j;
        }
    }
    a->index[i] = 0;
}

static void lru_unlink(am_authors_t *a, uint32_t s)
{
    am_author_t *au = &a->slots[s];

    if (au->prev != AM_NIL)
        a->slots[au->prev].next = au->next;
    else
        a->head = au->next;
    if (au->next != AM_NIL)
        a->slots[au->next].prev = au->prev;
    else
        a->tail = au->prev;
}

static void lru_push(am_authors_t *a, uint32_t s)
{
    am_author_t *au = &a->slots[s];

    au->prev = AM_NIL;
    au->next = a->head;
    if (a->head != AM_NIL)
        a->slots[a->head].prev = s;
    a->head = s;
    if (a->tail == AM_NIL)
        a->tail = s;
}

static void remove_slot(am_authors_t *a, uint32_t s)
{
    index_delete(a, index_find(a, a->slots[s].id));
    lru_unlink(a, s);
    a->slots[s].next = a->free;
    a->free = s;
    a->n--;
}

void am_authors_expire(am_authors_t *a, int64_t now_ms, int64_t idle_ms)
{
    while (a->tail != AM_NIL && now_ms - a->slots[a->tail].last_ms >= idle_ms)
        remove_slot(a, a->tail);
    if (a->n == 0 && a->slots != NULL)
        am_authors_free(a); /* a quiet guild holds nothing */
}

am_author_t *am_authors_touch(am_authors_t *a, uint64_t id, int64_t now_ms)
{
    am_author_t *au;
    uint32_t s;
    size_t i;

    if (a->index_cap != 0) {
        i = index_find(a, id);
        if (a->index[i] != 0) {
            s = a->index[i] - 1;
            lru_unlink(a, s);
            lru_push(a, s);
            a->slots[s].last_ms = now_ms;
            return &a->slots[s];
        }
    }
    if (a->n >= a->max && a->tail != AM_NIL)
        remove_slot(a, a->tail);
    if (a->free != AM_NIL) {
        s = a->free;
        a->free = a->slots[s].next;
    } else {
        if (a->nslots == a->cap_slots) {
            a->cap_slots = a->cap_slots == 0 ? 8 : a->cap_slots * 2;
            if (a->cap_slots > a->max)
                a->cap_slots = a->max;
            a->slots = realloc(a->slots, a->cap_slots * sizeof(*a->slots));
            if (a->slots == NULL)
                abort();
        }
        s = (uint32_t)a->nslots++;
    }
    au = &a->slots[s];
    memset(au, 0, sizeof(*au));
    au->id = id;
    au->last_ms = now_ms;
    index_grow(a);
    a->index[index_find(a, id)] = s + 1;
    lru_push(a, s);
    a->n++;
    return au;
}

void am_author_record(am_author_t *au, int64_t now_ms, uint32_t hash, size_t mentions)
{
    au->ring[au->head].t = (uint32_t)now_ms;
    au->ring[au->head].hash = hash;
    au->mentions[au->head] = mentions > 255 ? 255 : (uint8_t)mentions;
    au->head = (uint8_t)((au->head + 1) % AUTOMOD_SPAM_HISTORY);
    if (au->count < AUTOMOD_SPAM_HISTORY)
        au->count++;
}

size_t am_authors_memory(const am_authors_t *a)
{
    return a->cap_slots * sizeof(am_author_t) + a->index_cap * sizeof(uint32_t);
}
