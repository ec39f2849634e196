/* The rate limiter of ratelimit.h: routes, buckets, checks, headers, gateway limits.
 *
 * Routes live in an array (index = route id) with a hash index by "METHOD pattern";
 * routes that name the same bucket share a group id, and buckets are keyed by group, so
 * they share buckets. Route 0 is the global limit's pseudo-route; the identify and
 * session-start limits are two more internal routes.
 *
 * Buckets live in a slab (an array grown by doubling, with a free list), indexed by an
 * open-addressing table of slab indexes (linear probing, backward-shift deletion, each
 * bucket keeping its key's hash so probing and moving never rehash), and linked in one
 * LRU list: each use moves a bucket to the tail; each check first drops up to
 * RL_EXPIRE_PER_CHECK buckets from the head whose window has closed. */
#include "ratelimit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NIL UINT32_MAX
#define DAY_MS 86400000

/* Identity kinds, the key's low bits beside the group. */
#define WHO_USER 0u
#define WHO_IP 1u
#define WHO_SHARED 2u

typedef struct route {
    char *method;
    char *pattern;
    char *bucket_name;
    uint32_t limit;
    uint32_t period_ms;
    unsigned flags;
    uint32_t group; /* the id of the first route naming the same bucket */
    uint64_t hash;  /* of "METHOD pattern", for the route index */
    char bucket[RL_BUCKET_SIZE];
} route_t;

typedef struct bucket {
    uint64_t who;
    uint64_t major;
    uint64_t hash;
    uint32_t kgroup; /* group << 2 | WHO_* */
    uint32_t count;  /* requests in the open window */
    int64_t reset_at;
    uint32_t prev, next; /* LRU links (slab indexes); next also links the free list */
} bucket_t;

struct rl {
    rl_config_t cfg;
    uint64_t seed;

    route_t *routes;
    size_t nroutes, routes_cap;
    uint32_t *route_slots; /* route id + 1; 0 empty */
    size_t route_slots_cap;
    uint32_t identify_route, session_route;

    bucket_t *slab;
    size_t slab_cap;
    uint32_t free_head;
    uint32_t *slots;  /* slab index + 1; 0 empty */
    size_t slots_cap; /* a power of two */
    size_t nbuckets;
    uint32_t lru_head, lru_tail;

    uint64_t checks, refused, expired, evicted_live;
};

static void *xrealloc(void *p, size_t size)
{
    p = realloc(p, size ? size : 1);
    if (p == NULL)
        abort();
    return p;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;

    return memcpy(xrealloc(NULL, n), s, n);
}

/* ---- hashing ------------------------------------------------------------------------------ */

/* splitmix64's finalizer: a bijection that spreads every input bit. */
static uint64_t mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/* FNV-1a over s (and a second string after a space), finalized. Stable: bucket ids
 * must not change between runs. */
static uint64_t str_hash(const char *a, const char *b)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (; *a != '\0'; a++)
        h = (h ^ (unsigned char)*a) * 0x100000001b3ULL;
    if (b != NULL) {
        h = (h ^ ' ') * 0x100000001b3ULL;
        for (; *b != '\0'; b++)
            h = (h ^ (unsigned char)*b) * 0x100000001b3ULL;
    }
    return mix(h);
}

static uint64_t key_hash(const rl_t *rl, uint64_t who, uint64_t major, uint32_t kgroup)
{
    return mix(mix(mix(rl->seed ^ who) ^ major) ^ kgroup);
}

/* ---- routes ------------------------------------------------------------------------------- */

static route_t *route_find(rl_t *rl, const char *method, const char *pattern, uint64_t h)
{
    size_t j, mask = rl->route_slots_cap - 1;
    route_t *r;

    for (j = (size_t)h & mask; rl->route_slots[j] != 0; j = (j + 1) & mask) {
        r = &rl->routes[rl->route_slots[j] - 1];
        if (r->hash == h && strcmp(r->method, method) == 0 && strcmp(r->pattern, pattern) == 0)
            return r;
    }
    return NULL;
}

static void route_index(rl_t *rl, uint32_t id)
{
    size_t j, mask, i;

    if ((rl->nroutes + 1) * 2 > rl->route_slots_cap) {
        rl->route_slots_cap = rl->route_slots_cap ? rl->route_slots_cap * 2 : 64;
        free(rl->route_slots);
        rl->route_slots = calloc(rl->route_slots_cap, sizeof(*rl->route_slots));
        if (rl->route_slots == NULL)
            abort();
        for (i = 0; i < rl->nroutes; i++)
            if (i != id)
                route_index(rl, (uint32_t)i);
    }
    mask = rl->route_slots_cap - 1;
    for (j = (size_t)rl->routes[id].hash & mask; rl->route_slots[j] != 0; j = (j + 1) & mask)
        ;
    rl->route_slots[j] = id + 1;
}

/* Adds a route (strings copied); returns its id. */
static uint32_t route_add(rl_t *rl, const rl_route_def_t *d)
{
    route_t *r;
    uint32_t id = (uint32_t)rl->nroutes;
    size_t i;

    if (rl->nroutes == rl->routes_cap) {
        rl->routes_cap = rl->routes_cap ? rl->routes_cap * 2 : 32;
        rl->routes = xrealloc(rl->routes, rl->routes_cap * sizeof(*rl->routes));
    }
    r = &rl->routes[id];
    memset(r, 0, sizeof(*r));
    r->method = xstrdup(d->method);
    r->pattern = xstrdup(d->pattern);
    r->hash = str_hash(d->method, d->pattern);
    rl->nroutes++;
    route_index(rl, id);
    /* The bucket's name: its own, or "METHOD pattern". Its id is the name's hash. */
    if (d->bucket != NULL) {
        r->bucket_name = xstrdup(d->bucket);
    } else {
        r->bucket_name = xrealloc(NULL, strlen(d->method) + strlen(d->pattern) + 2);
        sprintf(r->bucket_name, "%s %s", d->method, d->pattern);
    }
    snprintf(r->bucket, sizeof(r->bucket), "%016llx",
             (unsigned long long)str_hash(r->bucket_name, NULL));
    r->group = id;
    for (i = 0; i < id; i++) {
        if (strcmp(rl->routes[i].bucket_name, r->bucket_name) == 0) {
            r->group = rl->routes[i].group;
            break;
        }
    }
    r->limit = d->limit;
    r->period_ms = d->period_ms;
    r->flags = d->flags;
    return id;
}

int rl_route_set(rl_t *rl, const rl_route_def_t *d)
{
    route_t *r;

    if (d == NULL || d->method == NULL || d->pattern == NULL || d->method[0] == '\0' ||
        d->pattern[0] == '\0' || d->limit == 0 || d->period_ms == 0)
        return -1;
    r = route_find(rl, d->method, d->pattern, str_hash(d->method, d->pattern));
    if (r == NULL) {
        route_add(rl, d);
        return 0;
    }
    /* The bucket name stays: buckets already keyed by its group keep meaning the same. */
    r->limit = d->limit;
    r->period_ms = d->period_ms;
    r->flags = d->flags;
    return 0;
}

const char *rl_major_param(const char *pattern)
{
    static const struct {
        const char *prefix;
        const char *name;
    } majors[] = {
        {"/channels/{channel_id}", "channel_id"},
        {"/guilds/{guild_id}", "guild_id"},
        {"/webhooks/{webhook_id}", "webhook_id"},
    };
    size_t i, n;

    if (pattern == NULL)
        return NULL;
    for (i = 0; i < sizeof(majors) / sizeof(majors[0]); i++) {
        n = strlen(majors[i].prefix);
        if (strncmp(pattern, majors[i].prefix, n) == 0 && (pattern[n] == '\0' || pattern[n] == '/'))
            return majors[i].name;
    }
    return NULL;
}

/* ---- the limiter -------------------------------------------------------------------------- */

rl_t *rl_new(const rl_config_t *cfg)
{
    rl_t *rl = xrealloc(NULL, sizeof(*rl));
    struct timespec ts;
    size_t i;

    memset(rl, 0, sizeof(*rl));
    if (cfg != NULL)
        rl->cfg = *cfg;
#define DEF(f, v)                                                                                  \
    if (rl->cfg.f == 0)                                                                            \
    rl->cfg.f = (v)
    DEF(global_limit, 50);
    DEF(global_period_ms, 1000);
    DEF(default_limit, 50);
    DEF(default_period_ms, 1000);
    DEF(multiplier, 1);
    DEF(max_buckets, (size_t)1 << 20);
    DEF(identify_concurrency, 1);
    DEF(identify_period_ms, 5000);
    DEF(session_starts, 1000);
#undef DEF
    /* At least a few buckets, so that a check's two buckets never evict each other. */
    if (rl->cfg.max_buckets < 16)
        rl->cfg.max_buckets = 16;
    if (rl->cfg.max_buckets > NIL - 1)
        rl->cfg.max_buckets = NIL - 1;
    rl->seed = rl->cfg.seed;
    if (rl->seed == 0) {
        clock_gettime(CLOCK_REALTIME, &ts);
        rl->seed = mix((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uintptr_t)rl);
    }
    rl->free_head = rl->lru_head = rl->lru_tail = NIL;

    /* Route 0: the global limit; then the gateway's two; then the table. */
    route_add(rl, &(rl_route_def_t){"*", "global", NULL, rl->cfg.global_limit,
                                    rl->cfg.global_period_ms, RL_F_NO_GLOBAL});
    rl->identify_route =
        route_add(rl, &(rl_route_def_t){"GATEWAY", "identify", NULL, 1, rl->cfg.identify_period_ms,
                                        RL_F_NO_GLOBAL});
    rl->session_route =
        route_add(rl, &(rl_route_def_t){"GATEWAY", "session_start", NULL, rl->cfg.session_starts,
                                        DAY_MS, RL_F_NO_GLOBAL});
    for (i = 0; i < rl_default_routes_count; i++)
        rl_route_set(rl, &rl_default_routes[i]);
    return rl;
}

void rl_free(rl_t *rl)
{
    size_t i;

    if (rl == NULL)
        return;
    for (i = 0; i < rl->nroutes; i++) {
        free(rl->routes[i].method);
        free(rl->routes[i].pattern);
        free(rl->routes[i].bucket_name);
    }
    free(rl->routes);
    free(rl->route_slots);
    free(rl->slab);
    free(rl->slots);
    free(rl);
}

/* ---- buckets ------------------------------------------------------------------------------ */

static void lru_unlink(rl_t *rl, uint32_t i)
{
    bucket_t *b = &rl->slab[i];

    if (b->prev != NIL)
        rl->slab[b->prev].next = b->next;
    else
        rl->lru_head = b->next;
    if (b->next != NIL)
        rl->slab[b->next].prev = b->prev;
    else
        rl->lru_tail = b->prev;
}

static void lru_push(rl_t *rl, uint32_t i)
{
    bucket_t *b = &rl->slab[i];

    b->prev = rl->lru_tail;
    b->next = NIL;
    if (rl->lru_tail != NIL)
        rl->slab[rl->lru_tail].next = i;
    else
        rl->lru_head = i;
    rl->lru_tail = i;
}

/* The table slot holding bucket i. */
static size_t slot_of(const rl_t *rl, uint32_t i)
{
    size_t mask = rl->slots_cap - 1, j;

    for (j = (size_t)rl->slab[i].hash & mask; rl->slots[j] != i + 1; j = (j + 1) & mask)
        ;
    return j;
}

/* Drops bucket i: out of the table (backward shift), the LRU list, into the free list. */
static void bucket_drop(rl_t *rl, uint32_t i)
{
    size_t mask = rl->slots_cap - 1, j, k, home;

    j = slot_of(rl, i);
    for (k = (j + 1) & mask; rl->slots[k] != 0; k = (k + 1) & mask) {
        home = (size_t)rl->slab[rl->slots[k] - 1].hash & mask;
        if (((k - home) & mask) >= ((k - j) & mask)) {
            rl->slots[j] = rl->slots[k];
            j = k;
        }
    }
    rl->slots[j] = 0;
    lru_unlink(rl, i);
    rl->slab[i].next = rl->free_head;
    rl->free_head = i;
    rl->nbuckets--;
}

/* Drops up to RL_EXPIRE_PER_CHECK least recently used buckets whose window closed. */
static void expire(rl_t *rl, int64_t now)
{
    int n;

    for (n = 0; n < RL_EXPIRE_PER_CHECK && rl->lru_head != NIL; n++) {
        if (rl->slab[rl->lru_head].reset_at > now)
            break;
        bucket_drop(rl, rl->lru_head);
        rl->expired++;
    }
}

static void slots_grow(rl_t *rl)
{
    size_t cap = rl->slots_cap ? rl->slots_cap * 2 : 64, mask = cap - 1, j;
    uint32_t i;

    free(rl->slots);
    rl->slots = calloc(cap, sizeof(*rl->slots));
    if (rl->slots == NULL)
        abort();
    rl->slots_cap = cap;
    /* Every live bucket is in the LRU list: re-index from it. */
    for (i = rl->lru_head; i != NIL; i = rl->slab[i].next) {
        for (j = (size_t)rl->slab[i].hash & mask; rl->slots[j] != 0; j = (j + 1) & mask)
            ;
        rl->slots[j] = i + 1;
    }
}

/* The bucket of (who, major, kgroup), created (window closed) if missing, moved to the
 * LRU tail. Returns its slab index: pointers into the slab do not survive a creation. */
static uint32_t bucket_get(rl_t *rl, uint64_t who, uint64_t major, uint32_t kgroup, int64_t now)
{
    uint64_t h = key_hash(rl, who, major, kgroup);
    size_t mask, j;
    bucket_t *b;
    uint32_t i;

    if (rl->slots_cap > 0) {
        mask = rl->slots_cap - 1;
        for (j = (size_t)h & mask; rl->slots[j] != 0; j = (j + 1) & mask) {
            i = rl->slots[j] - 1;
            b = &rl->slab[i];
            if (b->hash == h && b->who == who && b->major == major && b->kgroup == kgroup) {
                lru_unlink(rl, i);
                lru_push(rl, i);
                return i;
            }
        }
    }
    if (rl->nbuckets >= rl->cfg.max_buckets) {
        /* At the cap: the least recently used goes, live or not. */
        if (rl->slab[rl->lru_head].reset_at > now)
            rl->evicted_live++;
        else
            rl->expired++;
        bucket_drop(rl, rl->lru_head);
    }
    if (rl->free_head == NIL) {
        size_t cap = rl->slab_cap ? rl->slab_cap * 2 : 64, k;

        if (cap > rl->cfg.max_buckets)
            cap = rl->cfg.max_buckets;
        rl->slab = xrealloc(rl->slab, cap * sizeof(*rl->slab));
        for (k = cap; k-- > rl->slab_cap;) {
            rl->slab[k].next = rl->free_head;
            rl->free_head = (uint32_t)k;
        }
        rl->slab_cap = cap;
    }
    if ((rl->nbuckets + 1) * 2 > rl->slots_cap)
        slots_grow(rl);
    i = rl->free_head;
    b = &rl->slab[i];
    rl->free_head = b->next;
    b->who = who;
    b->major = major;
    b->hash = h;
    b->kgroup = kgroup;
    b->count = 0;
    b->reset_at = 0;
    mask = rl->slots_cap - 1;
    for (j = (size_t)h & mask; rl->slots[j] != 0; j = (j + 1) & mask)
        ;
    rl->slots[j] = i + 1;
    lru_push(rl, i);
    rl->nbuckets++;
    return i;
}

/* Opens a new window if b's has closed (or lies further ahead than a period: the clock
 * stepped back). */
static void window_roll(bucket_t *b, uint32_t period_ms, int64_t now)
{
    if (now >= b->reset_at || b->reset_at - now > (int64_t)period_ms) {
        b->count = 0;
        b->reset_at = now + period_ms;
    }
}

/* ---- checks ------------------------------------------------------------------------------- */

static route_t *route_for(rl_t *rl, const char *method, const char *pattern)
{
    uint64_t h;
    uint32_t id;
    route_t *r;

    if (method == NULL || pattern == NULL || method[0] == '\0' || pattern[0] == '\0') {
        method = "*";
        pattern = "unknown";
    }
    h = str_hash(method, pattern);
    r = route_find(rl, method, pattern, h);
    if (r == NULL) { /* a route not in the table: its own buckets, the default limit */
        /* route_add may move rl->routes: index it only once it has returned (in one
         * expression the old array could be read first, and then freed). */
        id = route_add(rl, &(rl_route_def_t){method, pattern, NULL, rl->cfg.default_limit,
                                             rl->cfg.default_period_ms, 0});
        r = &rl->routes[id];
    }
    return r;
}

/* The identity of req: kind and 64-bit id. */
static uint32_t identity(const rl_request_t *req, unsigned flags, uint64_t *who)
{
    if (req->user_id != 0 && !(flags & RL_F_IP)) {
        *who = req->user_id;
        return WHO_USER;
    }
    *who = req->ip != NULL ? str_hash(req->ip, NULL) : 0;
    return WHO_IP;
}

bool rl_check(rl_t *rl, const rl_request_t *req, int64_t now, rl_result_t *res)
{
    uint32_t kind, gi = NIL, ri, limit, glimit;
    uint64_t who, bwho;
    bucket_t *g = NULL, *b;
    route_t *r;

    memset(res, 0, sizeof(*res));
    rl->checks++;
    expire(rl, now);
    r = route_for(rl, req->method, req->pattern);
    kind = identity(req, r->flags, &who);
    limit = r->limit * rl->cfg.multiplier;
    glimit = rl->routes[0].limit * rl->cfg.multiplier;
    memcpy(res->bucket, r->bucket, sizeof(res->bucket));
    res->limit = limit;

    /* Both buckets first (creating one may move the slab), then pointers. */
    if (!(r->flags & RL_F_NO_GLOBAL))
        gi = bucket_get(rl, who, 0, 0u << 2 | kind, now);
    bwho = (r->flags & RL_F_SHARED) ? 0 : who;
    ri = bucket_get(rl, bwho, req->major,
                    r->group << 2 | ((r->flags & RL_F_SHARED) ? WHO_SHARED : kind), now);
    b = &rl->slab[ri];
    window_roll(b, r->period_ms, now);
    if (gi != NIL) {
        g = &rl->slab[gi];
        window_roll(g, rl->routes[0].period_ms, now);
        if (g->count >= glimit) {
            res->global = true;
            res->scope = RL_SCOPE_GLOBAL;
            res->retry_after_ms = g->reset_at - now;
            rl->refused++;
            return false;
        }
    }
    res->has_bucket = true;
    res->reset_ms = b->reset_at;
    res->reset_after_ms = b->reset_at - now;
    if (b->count >= limit) {
        res->scope = (r->flags & RL_F_SHARED) ? RL_SCOPE_SHARED : RL_SCOPE_USER;
        res->retry_after_ms = b->reset_at - now;
        rl->refused++;
        return false;
    }
    b->count++;
    if (g != NULL)
        g->count++;
    res->remaining = limit - b->count;
    res->allowed = true;
    return true;
}

/* ---- headers and body --------------------------------------------------------------------- */

/* ms as seconds with three decimals. */
static void secs(char *buf, size_t size, int64_t ms)
{
    if (ms < 0)
        ms = 0;
    snprintf(buf, size, "%lld.%03lld", (long long)(ms / 1000), (long long)(ms % 1000));
}

void rl_headers(const rl_result_t *res, rl_header_fn fn, void *arg)
{
    static const char *const scopes[] = {"user", "global", "shared"};
    char v[32];

    if (res->has_bucket) {
        snprintf(v, sizeof(v), "%u", res->limit);
        fn(arg, "X-RateLimit-Limit", v);
        snprintf(v, sizeof(v), "%u", res->remaining);
        fn(arg, "X-RateLimit-Remaining", v);
        secs(v, sizeof(v), res->reset_ms);
        fn(arg, "X-RateLimit-Reset", v);
        secs(v, sizeof(v), res->reset_after_ms);
        fn(arg, "X-RateLimit-Reset-After", v);
        fn(arg, "X-RateLimit-Bucket", res->bucket);
    }
    if (!res->allowed) {
        snprintf(v, sizeof(v), "%lld", (long long)((res->retry_after_ms + 999) / 1000));
        fn(arg, "Retry-After", v);
        fn(arg, "X-RateLimit-Scope", scopes[res->scope]);
        if (res->global)
            fn(arg, "X-RateLimit-Global", "true");
    }
}

size_t rl_body_429(const rl_result_t *res, char *buf, size_t size)
{
    char ra[32];

    secs(ra, sizeof(ra), res->retry_after_ms);
    return (size_t)snprintf(buf, size, "{\"message\": \"%s\", \"retry_after\": %s, \"global\": %s}",
                            res->scope == RL_SCOPE_SHARED ? "The resource is being rate limited."
                                                          : "You are being rate limited.",
                            ra, res->global ? "true" : "false");
}

/* ---- the gateway -------------------------------------------------------------------------- */

void rl_window_start(rl_window_t *w, int64_t now)
{
    w->count = 0;
    w->reset_at = now + RL_GATEWAY_SEND_PERIOD_MS;
}

bool rl_window_hit(rl_window_t *w, uint32_t limit, int64_t period_ms, int64_t now)
{
    if (now >= w->reset_at || w->reset_at - now > period_ms) {
        w->count = 0;
        w->reset_at = now + period_ms;
    }
    if (w->count >= limit)
        return false;
    w->count++;
    return true;
}

bool rl_identify(rl_t *rl, uint64_t user_id, uint32_t shard_id, int64_t now,
                 int64_t *retry_after_ms)
{
    route_t *ir = &rl->routes[rl->identify_route], *sr = &rl->routes[rl->session_route];
    uint32_t ii, si;
    bucket_t *ib, *sb;

    expire(rl, now);
    si = bucket_get(rl, user_id, 0, sr->group << 2 | WHO_USER, now);
    ii = bucket_get(rl, user_id, shard_id % rl->cfg.identify_concurrency, ir->group << 2 | WHO_USER,
                    now);
    sb = &rl->slab[si];
    ib = &rl->slab[ii];
    window_roll(sb, sr->period_ms, now);
    window_roll(ib, ir->period_ms, now);
    if (sb->count >= sr->limit || ib->count >= ir->limit) {
        if (retry_after_ms != NULL)
            *retry_after_ms = sb->count >= sr->limit ? sb->reset_at - now : ib->reset_at - now;
        rl->refused++;
        return false;
    }
    sb->count++;
    ib->count++;
    return true;
}

void rl_session_limit(rl_t *rl, uint64_t user_id, int64_t now, rl_session_limit_t *out)
{
    route_t *sr = &rl->routes[rl->session_route];
    uint32_t kgroup = sr->group << 2 | WHO_USER;
    uint64_t h = key_hash(rl, user_id, 0, kgroup);
    size_t mask, j;
    bucket_t *b;

    out->total = sr->limit;
    out->remaining = sr->limit;
    out->reset_after_ms = sr->period_ms;
    out->max_concurrency = rl->cfg.identify_concurrency;
    if (rl->slots_cap == 0)
        return;
    /* A look, not a use: no bucket made, no LRU move. */
    mask = rl->slots_cap - 1;
    for (j = (size_t)h & mask; rl->slots[j] != 0; j = (j + 1) & mask) {
        b = &rl->slab[rl->slots[j] - 1];
        if (b->hash == h && b->who == user_id && b->major == 0 && b->kgroup == kgroup) {
            if (now < b->reset_at && b->reset_at - now <= (int64_t)sr->period_ms) {
                out->remaining = b->count < sr->limit ? sr->limit - b->count : 0;
                out->reset_after_ms = b->reset_at - now;
            }
            return;
        }
    }
}

void rl_stats(const rl_t *rl, rl_stats_t *out)
{
    out->buckets = rl->nbuckets;
    out->routes = rl->nroutes;
    out->checks = rl->checks;
    out->refused = rl->refused;
    out->expired = rl->expired;
    out->evicted_live = rl->evicted_live;
}
