/* Private to runtime/green/: the green thread record and the stack pool.
 *
 * A green thread's record lives at the top of its own stack, so a green process
 * costs no allocation beyond its stack, and a pooled stack keeps its record (the
 * free-list link is in it). One stack, lowest address first:
 *
 *   lo                  lo + page                                 lo + total
 *   | guard (or slack)  | canary ... stack, grows down ... | hearth__green_t |
 *
 * The lowest page is PROT_NONE while the guard budget lasts (see stack.c); past
 * it, the page stays writable as slack, so a small overflow stays inside our own
 * carving and is caught by the canary when the thread next switches out. */
#ifndef HEARTH_RUNTIME_GREEN_GREEN_H
#define HEARTH_RUNTIME_GREEN_GREEN_H

#include "../internal.h"

#include <stddef.h>
#include <stdint.h>

#define HEARTH__GREEN_GUARDED 0x1u   /* the lowest page is PROT_NONE */
#define HEARTH__GREEN_DEDICATED 0x2u /* a mapping of its own: unmapped on release */

struct hearth__green {
    void *sp;              /* the saved context while switched out (ctx.h) */
    hearth__proc_t *proc;  /* owner while in use */
    void (*fn)(void *arg); /* what the thread runs */
    void *arg;
    char *lo;              /* lowest address of the carving: the guard page */
    size_t total;          /* bytes in the carving, guard page and record included */
    hearth__green_t *next; /* free-list link while pooled */
    uint32_t flags;        /* HEARTH__GREEN_* */
#if HEARTH_ASAN
    void *asan_fake;       /* ASan's fake stack frames while switched out */
#endif
#if HEARTH_TSAN
    void *tsan_fiber;      /* TSan's fiber for this thread of control */
#endif
};

/* The record sits this many bytes below the carving's end (a cache line multiple,
 * so the stack top below it is 16-aligned). */
#define HEARTH__GREEN_RECORD ((sizeof(hearth__green_t) + 63) & ~(size_t)63)

/* The page size (read once). */
size_t hearth__green_page(void);

/* Lowest usable stack address (where the canary sits) and usable byte count. */
static inline char *hearth__green_stack_lo(const hearth__green_t *g)
{
    return g->lo + hearth__green_page();
}

static inline size_t hearth__green_stack_len(const hearth__green_t *g)
{
    return g->total - hearth__green_page() - HEARTH__GREEN_RECORD;
}

/* The canary: a word at the stack's lowest usable address, salted with the record's
 * address so a stale value from a previous owner of the slot cannot pass. */
static inline uint64_t hearth__green_canary_value(const hearth__green_t *g)
{
    return UINT64_C(0x5AFE57AC4B1D5EED) ^ (uint64_t)(uintptr_t)g;
}

static inline void hearth__green_canary_set(hearth__green_t *g)
{
    *(volatile uint64_t *)hearth__green_stack_lo(g) = hearth__green_canary_value(g);
}

static inline bool hearth__green_canary_ok(const hearth__green_t *g)
{
    return *(volatile uint64_t *)hearth__green_stack_lo(g) == hearth__green_canary_value(g);
}

/* Takes a stack with at least `size` usable bytes (rounded up to whole pages, the
 * record included) from the pool, or carves a new one. Returns its record with lo,
 * total and flags set, the rest zero; or NULL if the address space or the size is
 * exhausted. Any thread. */
hearth__green_t *hearth__stack_get(size_t size);
/* Gives a stack back to the pool (LIFO, so the next spawn gets warm pages), or
 * unmaps it if it was dedicated. Any thread; g must not be running. */
void hearth__stack_put(hearth__green_t *g);
/* Turns this thread's private stack cache on (scheduler threads, at start) or off,
 * moving what it holds to the shared pool (at their end). Other threads that free
 * a stack (hearth_stop's, say) use the shared pool directly, so no stack is
 * stranded in the cache of a thread that goes away. */
void hearth__stack_thread_cache(bool on);

#endif /* HEARTH_RUNTIME_GREEN_GREEN_H */
