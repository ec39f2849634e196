/* The id -> pointer map of the social process (internal.h): open addressing with linear
 * probing over a power-of-two table, grown at 3/4 full and dropped when emptied, keys
 * scrambled first (pids and snowflakes keep their entropy in different bits), and
 * deletion by moving later entries of the run back, so no tombstones pile up in a map
 * whose keys come and go all day (sessions). One process owns each map. */
#include "internal.h"

#include <stdlib.h>

static size_t home(uint64_t k, size_t cap)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return (size_t)k & (cap - 1);
}

void sx_map_free(sx_map_t *m)
{
    free(m->keys);
    free(m->vals);
    m->keys = NULL;
    m->vals = NULL;
    m->cap = m->n = 0;
}

static void grow(sx_map_t *m)
{
    uint64_t *ok = m->keys;
    void **ov = m->vals;
    size_t ocap = m->cap, i, j;

    m->cap = ocap ? ocap * 2 : 16;
    m->keys = calloc(m->cap, sizeof(*m->keys));
    m->vals = calloc(m->cap, sizeof(*m->vals));
    if (m->keys == NULL || m->vals == NULL)
        abort();
    for (i = 0; i < ocap; i++) {
        if (ok[i] == 0)
            continue;
        for (j = home(ok[i], m->cap); m->keys[j] != 0; j = (j + 1) & (m->cap - 1))
            ;
        m->keys[j] = ok[i];
        m->vals[j] = ov[i];
    }
    free(ok);
    free(ov);
}

/* The slot of key, or of the empty slot that ends its run. cap > 0. */
static size_t probe(const sx_map_t *m, uint64_t key)
{
    size_t j = home(key, m->cap);

    while (m->keys[j] != 0 && m->keys[j] != key)
        j = (j + 1) & (m->cap - 1);
    return j;
}

void sx_map_put(sx_map_t *m, uint64_t key, void *val)
{
    size_t j;

    if ((m->n + 1) * 4 > m->cap * 3)
        grow(m);
    j = probe(m, key);
    if (m->keys[j] == 0) {
        m->keys[j] = key;
        m->n++;
    }
    m->vals[j] = val;
}

void *sx_map_get(const sx_map_t *m, uint64_t key)
{
    size_t j;

    if (m->cap == 0 || key == 0)
        return NULL;
    j = probe(m, key);
    return m->keys[j] == key ? m->vals[j] : NULL;
}

void *sx_map_del(sx_map_t *m, uint64_t key)
{
    size_t hole, j, h, mask;
    void *val;

    if (m->cap == 0 || key == 0)
        return NULL;
    hole = probe(m, key);
    if (m->keys[hole] != key)
        return NULL;
    val = m->vals[hole];
    mask = m->cap - 1;
    /* An entry after the hole may move into it unless its home lies cyclically in
     * (hole, j]: then a lookup starting there would no longer reach it. */
    for (j = (hole + 1) & mask; m->keys[j] != 0; j = (j + 1) & mask) {
        h = home(m->keys[j], m->cap);
        if (((j - h) & mask) >= ((j - hole) & mask)) {
            m->keys[hole] = m->keys[j];
            m->vals[hole] = m->vals[j];
            hole = j;
        }
    }
    m->keys[hole] = 0;
    m->vals[hole] = NULL;
    if (--m->n == 0)
        sx_map_free(m);
    return val;
}

bool sx_map_next(const sx_map_t *m, size_t *i, uint64_t *key, void **val)
{
    size_t j;

    while (*i < m->cap) {
        j = (*i)++;
        if (m->keys[j] == 0)
            continue;
        if (key != NULL)
            *key = m->keys[j];
        if (val != NULL)
            *val = m->vals[j];
        return true;
    }
    return false;
}
