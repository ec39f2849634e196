/* bench/gateway/hist.c: log-linear latency histograms in nanoseconds. Values below
 * HIST_EXACT have a bucket each; above, every power of two is cut into HIST_SUB
 * buckets, so a quantile is off by at most 1/64 (1.6%). Workers fill one each and
 * send it to the parent, which adds them up bucket by bucket. */
#include "bench.h"

#include <string.h>

static unsigned bucket(uint64_t v)
{
    unsigned e;

    if (v < HIST_EXACT)
        return (unsigned)v;
    e = 63u - (unsigned)__builtin_clzll(v); /* 7 and up */
    if (e > 40)
        return HIST_BUCKETS - 1;
    return HIST_EXACT + (e - 7) * HIST_SUB + (unsigned)((v >> (e - 6)) - HIST_SUB);
}

/* The largest value that falls into bucket i. */
static uint64_t bucket_top(unsigned i)
{
    unsigned e, sub;

    if (i < HIST_EXACT)
        return i;
    e = 7 + (i - HIST_EXACT) / HIST_SUB;
    sub = (i - HIST_EXACT) % HIST_SUB;
    return (((uint64_t)HIST_SUB + sub + 1) << (e - 6)) - 1;
}

void hist_init(hist_t *h)
{
    memset(h, 0, sizeof(*h));
    h->min = UINT64_MAX;
}

void hist_add(hist_t *h, uint64_t ns)
{
    h->b[bucket(ns)]++;
    h->count++;
    h->sum += ns;
    if (ns > h->max)
        h->max = ns;
    if (ns < h->min)
        h->min = ns;
}

void hist_merge(hist_t *into, const hist_t *from)
{
    for (unsigned i = 0; i < HIST_BUCKETS; i++)
        into->b[i] += from->b[i];
    into->count += from->count;
    into->sum += from->sum;
    if (from->max > into->max)
        into->max = from->max;
    if (from->min < into->min)
        into->min = from->min;
}

uint64_t hist_quantile(const hist_t *h, double q)
{
    uint64_t rank, seen = 0;

    if (h->count == 0)
        return 0;
    rank = (uint64_t)(q * (double)h->count);
    if (rank >= h->count)
        rank = h->count - 1;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += h->b[i];
        if (seen > rank) {
            uint64_t top = bucket_top(i);
            return top < h->max ? top : h->max;
        }
    }
    return h->max;
}
