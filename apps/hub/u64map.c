/* The u64 -> u64 hash map of u64map.h: linear probing over a power-of-two table,
 * keys mixed by a 64-bit finalizer (pids and snowflakes have their entropy in
 * different bits), deletion by backward shift so lookups never meet tombstones. */
#include "u64map.h"

#include <stdlib.h>

static size_t slot_of(uint64_t k, size_t cap)
{
    /* splitmix64's finalizer */
    k ^= k >> 30;
    k *= 0xbf58476d1ce4e5b9ULL;
    k ^= k >> 27;
    k *= 0x94d049bb133111ebULL;
    k ^= k >> 31;
    return (size_t)k & (cap - 1);
}

void u64map_free(u64map_t *m)
{
    free(m->keys);
    free(m->vals);
    m->keys = m->vals = NULL;
    m->cap = m->n = 0;
}

static void rehash(u64map_t *m, size_t cap)
{
    uint64_t *ok = m->keys, *ov = m->vals;
    size_t ocap = m->cap, i, j;

    m->keys = calloc(cap, sizeof(uint64_t));
    m->vals = malloc(cap * sizeof(uint64_t));
    if (m->keys == NULL || m->vals == NULL)
        abort();
    m->cap = cap;
    for (i = 0; i < ocap; i++) {
        if (ok[i] == 0)
            continue;
        j = slot_of(ok[i], cap);
        while (m->keys[j] != 0)
            j = (j + 1) & (cap - 1);
        m->keys[j] = ok[i];
        m->vals[j] = ov[i];
    }
    free(ok);
    free(ov);
}

void u64map_put(u64map_t *m, uint64_t key, uint64_t val)
{
    size_t j;

    if ((m->n + 1) * 4 > m->cap * 3)
        rehash(m, m->cap ? m->cap * 2 : 8);
    j = slot_of(key, m->cap);
    while (m->keys[j] != 0 && m->keys[j] != key)
        j = (j + 1) & (m->cap - 1);
    if (m->keys[j] == 0) {
        m->keys[j] = key;
        m->n++;
    }
    m->vals[j] = val;
}

static bool find(const u64map_t *m, uint64_t key, size_t *at)
{
    size_t j;

    if (m->cap == 0 || key == 0)
        return false;
    j = slot_of(key, m->cap);
    while (m->keys[j] != 0) {
        if (m->keys[j] == key) {
            *at = j;
            return true;
        }
        j = (j + 1) & (m->cap - 1);
    }
    return false;
}

bool u64map_get(const u64map_t *m, uint64_t key, uint64_t *val)
{
    size_t j;

    if (!find(m, key, &j))
        return false;
    if (val != NULL)
        *val = m->vals[j];
    return true;
}

bool u64map_del(u64map_t *m, uint64_t key, uint64_t *val)
{
    size_t i, j, home, mask;

    if (!find(m, key, &i))
        return false;
    if (val != NULL)
        *val = m->vals[i];
    mask = m->cap - 1;
    /* Backward shift: move later entries of the probe run into the hole when their
     * home slot does not lie (cyclically) between the hole and them. */
    j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (m->keys[j] == 0)
            break;
        home = slot_of(m->keys[j], m->cap);
        if (((j - home) & mask) >= ((j - i) & mask)) {
            m->keys[i] = m->keys[j];
            m->vals[i] = m->vals[j];
            i = j;
        }
    }
    m->keys[i] = 0;
    if (--m->n == 0)
        u64map_free(m);
    return true;
}

bool u64map_next(const u64map_t *m, size_t *i, uint64_t *key, uint64_t *val)
{
    while (*i < m->cap) {
        size_t j = (*i)++;
        if (m->keys[j] != 0) {
            if (key != NULL)
                *key = m->keys[j];
            if (val != NULL)
                *val = m->vals[j];
            return true;
        }
    }
    return false;
}
