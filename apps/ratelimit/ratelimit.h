/* Rate limits as Discord applies them: per-route buckets, a global limit per token,
 * per-IP limits for unauthenticated routes, the gateway's send limit and identify
 * limits; everything the X-RateLimit-* headers and a 429 need.
 *
 * The model (developer docs, "Rate Limits"):
 *   - a route (method + template, e.g. POST /channels/{channel_id}/messages) has a limit
 *     of N requests per period; its buckets are keyed by who asks (the user or bot; the
 *     client's IP when unauthenticated, or always for RL_F_IP routes such as login) and
 *     the route's major parameter (the channel, guild or webhook id in the path), so
 *     two channels never share a bucket. Routes may share buckets by naming the same
 *     bucket; X-RateLimit-Bucket is a stable hash of that name (never of the ids);
 *   - a bucket is a fixed window that opens at the first request after the previous one
 *     closed: limit, remaining, and reset (when the window closes) are what the headers
 *     say, so a client that waits for reset (discord.js does) is never refused;
 *   - on top, a global limit per identity: 50 requests per second by default;
 *   - a refused request counts against nothing; its 429 says retry_after (seconds, with
 *     decimals), global (true only for the global limit) and the scope: "user" (this
 *     caller's bucket), "global", or "shared" (an RL_F_SHARED route: one bucket per
 *     resource for everybody).
 *
 * Ownership and cost. An rl_t has no locks: one process owns it. The server holds one in
 * a single limiter process (rl_server_child_start below; REST request processes ask it
 * with rl_call_check), so every request of a token meets the same buckets whichever
 * scheduler runs it. A check is O(1): two hash lookups (route and global bucket), an
 * LRU move, and at most RL_EXPIRE_PER_CHECK idle buckets dropped. Memory is bounded: a
 * bucket whose window has closed holds nothing a fresh one would not, so it is dropped
 * once it is the least recently used; the table then holds at most the keys used within
 * the longest period (plus that slack), and never more than max_buckets (past that the
 * least recently used bucket is dropped even if live, which can only let its owner
 * through early: counted in rl_stats_t.evicted_live).
 *
 * Time is the caller's: every call takes now as Unix milliseconds (X-RateLimit-Reset is
 * an epoch time), so tests drive a simulated clock. A clock that steps back closes the
 * windows it jumps out of.
 *
 * The gateway's limits are separate small pieces: rl_window_t (a session's 120 sends per
 * 60 s, held in the session's own state) and rl_identify (identify concurrency and the
 * daily session starts, in an rl_t). */
#ifndef HEARTH_APPS_RATELIMIT_H
#define HEARTH_APPS_RATELIMIT_H

#include "hearth/hearth.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RL_API_VERSION 1

/* ---- routes ------------------------------------------------------------------------------ */

/* Route flags. */
#define RL_F_IP 0x1u        /* keyed by the client's IP even when authenticated */
#define RL_F_SHARED 0x2u    /* one bucket per major parameter for everybody: scope "shared" */
#define RL_F_NO_GLOBAL 0x4u /* not counted against the global limit */

/* A route's limit. Patterns are the API's route templates ("/channels/{channel_id}/
 * messages", the same text as in apps/api's route tables, without the /api prefix).
 * The major parameter is found from the pattern: the {param} right after a leading
 * /channels, /guilds or /webhooks. */
typedef struct rl_route_def {
    const char *method; /* "GET", "POST", ... */
    const char *pattern;
    const char *bucket; /* routes naming the same bucket share it; NULL: "METHOD pattern" */
    uint32_t limit;     /* requests per period */
    uint32_t period_ms;
    unsigned flags; /* RL_F_* */
} rl_route_def_t;

/* The defaults, in one table (ratelimit/routes.c): Discord's figures where it documents
 * or is known to use them (5 messages per 5 s per channel, 1 reaction per 0.25 s), a
 * per-IP 5 per minute for login and register, generous elsewhere. */
extern const rl_route_def_t rl_default_routes[];
extern const size_t rl_default_routes_count;

/* Routes not in the table get their own buckets with the config's default limit. */

/* ---- the limiter ------------------------------------------------------------------------- */

typedef struct rl rl_t;

/* Settings; zero fields take the defaults. */
typedef struct rl_config {
    uint32_t global_limit;         /* per identity per global period: 50 */
    uint32_t global_period_ms;     /* 1000 */
    uint32_t default_limit;        /* routes not in the table: 50 */
    uint32_t default_period_ms;    /* 1000 */
    uint32_t multiplier;           /* every limit times this (test rigs, trusted setups): 1 */
    size_t max_buckets;            /* hard cap on live buckets: 1 << 20 */
    uint32_t identify_concurrency; /* identify buckets per bot (max_concurrency): 1 */
    uint32_t identify_period_ms;   /* one identify per bucket per this: 5000 */
    uint32_t session_starts;       /* session starts per day (session_start_limit): 1000 */
    uint64_t seed;                 /* the key hash's seed; 0: from the clock */
} rl_config_t;

/* A new limiter with the default routes. cfg may be NULL. Aborts on OOM. */
rl_t *rl_new(const rl_config_t *cfg);

/* Frees it (NULL: nothing). */
void rl_free(rl_t *rl);

/* Adds a route or replaces a route's limit (d is copied; its strings too). Returns 0, or
 * -1 for an empty method or pattern, a limit or period of 0. Buckets that exist keep
 * their window until it closes. */
int rl_route_set(rl_t *rl, const rl_route_def_t *d);

/* The name of the major parameter of pattern ("channel_id", "guild_id", "webhook_id"),
 * or NULL if it has none: what the caller passes as rl_request_t.major. Static
 * storage: the text comes from the pattern (up to 31 bytes are compared). */
const char *rl_major_param(const char *pattern);

/* One request to check. */
typedef struct rl_request {
    const char *method;  /* "POST" */
    const char *pattern; /* the matched route's template, never the raw path */
    uint64_t user_id;    /* the authenticated user or bot; 0: none */
    const char *ip;      /* the client's address as text (any form: it is hashed) */
    uint64_t major;      /* the major parameter's id; 0: none */
} rl_request_t;

typedef enum rl_scope { RL_SCOPE_USER = 0, RL_SCOPE_GLOBAL, RL_SCOPE_SHARED } rl_scope_t;

#define RL_BUCKET_SIZE 17 /* 16 hex digits and a NUL */

/* The outcome of a check: everything the headers and the 429 need. */
typedef struct rl_result {
    bool allowed;
    bool global;                 /* refused by the global limit */
    rl_scope_t scope;            /* on a refusal: whose limit it was */
    bool has_bucket;             /* the route's headers apply (not on a global 429, as Discord) */
    uint32_t limit;              /* X-RateLimit-Limit */
    uint32_t remaining;          /* X-RateLimit-Remaining, after this request */
    int64_t reset_ms;            /* X-RateLimit-Reset, as Unix ms */
    int64_t reset_after_ms;      /* X-RateLimit-Reset-After, in ms */
    int64_t retry_after_ms;      /* on a refusal: how long until a retry can succeed */
    char bucket[RL_BUCKET_SIZE]; /* X-RateLimit-Bucket */
} rl_result_t;

/* Checks (and, if allowed, counts) req at now (Unix ms) and fills *res. Returns
 * res->allowed. A request without user_id and without ip counts against one shared
 * anonymous identity. */
bool rl_check(rl_t *rl, const rl_request_t *req, int64_t now, rl_result_t *res);

/* The response headers for res, one fn(arg, name, value) call each, in this order:
 * X-RateLimit-Limit, -Remaining, -Reset (seconds, 3 decimals), -Reset-After (seconds,
 * 3 decimals, rounded up so a client that waits it is never early) and -Bucket when
 * has_bucket; on a refusal also Retry-After (whole seconds, rounded up, as Discord
 * sends it), X-RateLimit-Scope, and X-RateLimit-Global: true for the global limit. */
typedef void (*rl_header_fn)(void *arg, const char *name, const char *value);
void rl_headers(const rl_result_t *res, rl_header_fn fn, void *arg);

/* The 429 body for a refusal: {"message": "You are being rate limited.", "retry_after":
 * 0.5, "global": false} ("The resource is being rate limited." for scope shared), into
 * buf (size bytes; 128 always suffice). Returns the length (as snprintf). */
size_t rl_body_429(const rl_result_t *res, char *buf, size_t size);

/* ---- the gateway ------------------------------------------------------------------------- */

/* A fixed window for one session's sends, kept in the session's own state (zeroed: no
 * window yet). Discord allows 120 gateway sends per 60 s per connection and closes with
 * 4008 beyond. discord.js counts its own window from the socket's open, sends at most
 * 114 in it and does not count heartbeats, identify and resume; so count every frame
 * but heartbeats, and start the window when the connection opens (rl_window_start),
 * which is never later than the client's. */
typedef struct rl_window {
    uint32_t count;
    int64_t reset_at; /* Unix ms; 0: none yet */
} rl_window_t;

#define RL_GATEWAY_SEND_LIMIT 120
#define RL_GATEWAY_SEND_PERIOD_MS 60000

/* Opens a window at now (a connection opening). */
void rl_window_start(rl_window_t *w, int64_t now);

/* Counts one event in w, a fixed window of limit per period_ms that opens at the first
 * event after the previous one closed. Returns true if it fits; false if it is one
 * too many (not counted): the caller closes the session (4008 for the gateway). */
bool rl_window_hit(rl_window_t *w, uint32_t limit, int64_t period_ms, int64_t now);

/* Identify limits of user_id (a bot) opening shard shard_id: at most one identify per
 * identify_period_ms per concurrency bucket (shard_id % identify_concurrency), and
 * session_starts per 24 hours. Returns true and counts the identify; or false with
 * *retry_after_ms (may be NULL) set: the gateway then answers INVALID_SESSION (op 9)
 * and the client identifies again later. */
bool rl_identify(rl_t *rl, uint64_t user_id, uint32_t shard_id, int64_t now,
                 int64_t *retry_after_ms);

/* The session_start_limit object of GET /gateway/bot for user_id, without counting
 * anything: total, remaining, reset_after (ms), max_concurrency. */
typedef struct rl_session_limit {
    uint32_t total;
    uint32_t remaining;
    int64_t reset_after_ms;
    uint32_t max_concurrency;
} rl_session_limit_t;
void rl_session_limit(rl_t *rl, uint64_t user_id, int64_t now, rl_session_limit_t *out);

/* ---- stats ------------------------------------------------------------------------------- */

typedef struct rl_stats {
    size_t buckets; /* live buckets now */
    size_t routes;
    uint64_t checks;
    uint64_t refused;
    uint64_t expired;      /* idle buckets dropped */
    uint64_t evicted_live; /* dropped at the max_buckets cap while their window was open */
} rl_stats_t;
void rl_stats(const rl_t *rl, rl_stats_t *out);

/* How many idle buckets a check drops at most (keeps each check O(1)). */
#define RL_EXPIRE_PER_CHECK 8

/* ---- the limiter process (ratelimit/server.c) -------------------------------------------- */

#define RL_SERVER_NAME "ratelimit"

/* A hearth_child_start_fn for the server's supervisor: starts the limiter process
 * (registered as RL_SERVER_NAME) owning one rl_t made from arg (an rl_config_t, read
 * at each start, so it must outlive the supervisor; NULL: defaults), linked to the
 * caller. Returns 0 and its pid, HEARTH_EEXIST if one runs already, or
 * hearth_server_start's errors. A restarted limiter starts with empty buckets. */
int rl_server_child_start(void *arg, hearth_pid_t *out);

/* Checks req with the limiter process, on its clock (CLOCK_REALTIME). Fills *res and
 * returns res->allowed. If no limiter runs (or it does not answer within 1 s) the
 * request is allowed with no bucket headers (has_bucket false): a limiter that is down
 * must not take the API with it. Green threads and attached threads only. Strings in
 * req longer than 127 bytes (method 15) are cut. */
bool rl_call_check(const rl_request_t *req, rl_result_t *res);

/* rl_identify and rl_session_limit through the limiter process (allowed, and the
 * defaults, if none runs). Green threads and attached threads only. */
bool rl_call_identify(uint64_t user_id, uint32_t shard_id, int64_t *retry_after_ms);
void rl_call_session_limit(uint64_t user_id, rl_session_limit_t *out);

#ifdef __cplusplus
}
#endif
#endif /* HEARTH_APPS_RATELIMIT_H */
