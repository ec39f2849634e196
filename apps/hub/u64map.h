/* A small open-addressing hash map from uint64_t keys (never 0) to uint64_t values
 * (pids, indexes, pointers cast to uintptr_t), for the hubs' and the directory's
 * indexes: subscriber by pid, sessions by user. Linear probing with backward-shift
 * deletion (no tombstones), grown at 3/4 full, shrunk to nothing when emptied so an
 * idle owner holds no table. Not thread-safe: one process owns each map. */
#ifndef HEARTH_APPS_HUB_U64MAP_H
#define HEARTH_APPS_HUB_U64MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct u64map {
    uint64_t *keys; /* 0: empty slot */
    uint64_t *vals;
    size_t cap; /* a power of two, or 0 */
    size_t n;
} u64map_t;

/* Zero-initialize a map; u64map_free drops its table (the map may be used again). */
void u64map_free(u64map_t *m);

/* Sets key (not 0) to val, replacing an old value. Aborts on OOM. */
void u64map_put(u64map_t *m, uint64_t key, uint64_t val);

/* True and the value in *val (may be NULL) if key is there. */
bool u64map_get(const u64map_t *m, uint64_t key, uint64_t *val);

/* Removes key; true if it was there (its value in *val, may be NULL). */
bool u64map_del(u64map_t *m, uint64_t key, uint64_t *val);

/* Iteration: for (i = 0; u64map_next(m, &i, &k, &v);) visits each entry once; the
 * map must not change meanwhile. */
bool u64map_next(const u64map_t *m, size_t *i, uint64_t *key, uint64_t *val);

#endif /* HEARTH_APPS_HUB_U64MAP_H */
