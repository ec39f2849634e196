/* Snowflake id generator (see snowflake.h for the bit layout).
 *
 * The generator's whole state is the last id made, in one atomic 64-bit word. A new
 * id is the current time with this process's worker/process bits and sequence 0,
 * or, when the clock has not moved past the last id's millisecond (same millisecond,
 * or the clock went back), the last id plus one. When the 12-bit sequence is used
 * up the next id borrows the following millisecond instead of carrying into the
 * worker bits; the clock catches up within a millisecond. Either way the new id is
 * greater than the last, so ids are strictly monotonic without a lock. */
#include "snowflake.h"

#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#define SEQ_BITS 12
#define SEQ_MASK ((1u << SEQ_BITS) - 1)
#define TIME_SHIFT 22

/* The last id made. Any thread; the CAS below orders nothing else, so relaxed is
 * enough: ids carry no other data. */
static _Atomic uint64_t last_id;
/* Worker and process bits, already shifted into place. */
static _Atomic uint64_t node_bits;

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t snowflake_next(void)
{
    uint64_t last, next, node, t;
    int64_t ms;

    node = atomic_load_explicit(&node_bits, memory_order_relaxed);
    ms = now_ms() - SNOWFLAKE_EPOCH_MS;
    t = ms > 0 ? (uint64_t)ms : 0;
    last = atomic_load_explicit(&last_id, memory_order_relaxed);
    do {
        if (t > last >> TIME_SHIFT)
            next = t << TIME_SHIFT | node;
        else if ((last & SEQ_MASK) < SEQ_MASK)
            next = last + 1;
        else /* sequence used up: borrow the next millisecond */
            next = ((last >> TIME_SHIFT) + 1) << TIME_SHIFT | node;
    } while (!atomic_compare_exchange_weak_explicit(&last_id, &last, next, memory_order_relaxed,
                                                    memory_order_relaxed));
    return next;
}

void snowflake_set_ids(unsigned worker, unsigned process)
{
    atomic_store_explicit(&node_bits,
                          (uint64_t)(worker & 31) << 17 | (uint64_t)(process & 31) << 12,
                          memory_order_relaxed);
}

int64_t snowflake_ms(uint64_t id)
{
    return (int64_t)(id >> TIME_SHIFT) + SNOWFLAKE_EPOCH_MS;
}

uint64_t snowflake_from_ms(int64_t ms)
{
    if (ms <= SNOWFLAKE_EPOCH_MS)
        return 0;
    return (uint64_t)(ms - SNOWFLAKE_EPOCH_MS) << TIME_SHIFT;
}

char *snowflake_str(uint64_t id, char buf[21])
{
    snprintf(buf, 21, "%llu", (unsigned long long)id);
    return buf;
}

int snowflake_parse(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    size_t n = 0;

    if (s == NULL || *s == '\0')
        return -1;
    for (; s[n] != '\0'; n++) {
        unsigned d = (unsigned)(s[n] - '0');

        if (d > 9 || n >= 20)
            return -1;
        if (v > (UINT64_MAX - d) / 10)
            return -1; /* overflow */
        v = v * 10 + d;
    }
    if (v == 0)
        return -1;
    *out = v;
    return 0;
}
