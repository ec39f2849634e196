/* Rate limiter tests (apps/ratelimit), all on a simulated clock: headers count down and
 * reset, the 429 and its retry_after, majors, shared buckets, the global and per-IP
 * limits, bounded memory under a million keys, the gateway's send window and identify
 * limits, the limiter process; and simulated clients sending bursts through it: one
 * that behaves as @discordjs/rest v2 does (its SequentialHandler's reading of the
 * headers, rebuilt here step by step) gets 50 messages through in order without a
 * single 429, and a blunt one that only obeys 429s gets them through in order too. */
#include "task.h"

#include "hearth/supervisor.h"
#include "ratelimit/ratelimit.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>

#define T0 1700000000000LL /* simulated Unix ms */
#define MSGS "/channels/{channel_id}/messages"

/* ---- helpers ------------------------------------------------------------------------------ */

/* The headers of one response, as rl_headers gives them. */
typedef struct hdrs {
    size_t n;
    char name[10][32];
    char value[10][32];
} hdrs_t;

static void hdr_cb(void *arg, const char *name, const char *value)
{
    hdrs_t *h = arg;

    ASSERT_LT(h->n, 10);
    snprintf(h->name[h->n], sizeof(h->name[0]), "%s", name);
    snprintf(h->value[h->n], sizeof(h->value[0]), "%s", value);
    h->n++;
}

static void hdrs_of(const rl_result_t *r, hdrs_t *h)
{
    memset(h, 0, sizeof(*h));
    rl_headers(r, hdr_cb, h);
}

static const char *hdr(const hdrs_t *h, const char *name)
{
    size_t i;

    for (i = 0; i < h->n; i++)
        if (strcasecmp(h->name[i], name) == 0)
            return h->value[i];
    return NULL;
}

static bool post_msg(rl_t *rl, uint64_t user, uint64_t channel, int64_t now, rl_result_t *r)
{
    rl_request_t q = {"POST", MSGS, user, "127.0.0.1", channel};

    return rl_check(rl, &q, now, r);
}

/* ---- headers, 429s, buckets --------------------------------------------------------------- */

TEST_IMPL(ratelimit_headers_countdown)
{
    char want[32], body[128];
    rl_result_t r;
    hdrs_t h;
    json_t *j;
    rl_t *rl;
    int i;

    rl = rl_new(&(rl_config_t){.seed = 1});
    ASSERT_STR_EQ(rl_major_param(MSGS), "channel_id");
    ASSERT_STR_EQ(rl_major_param("/guilds/{guild_id}"), "guild_id");
    ASSERT_NULL(rl_major_param("/guilds"));
    ASSERT_NULL(rl_major_param("/users/@me"));
    ASSERT_NULL(rl_major_param("/channelsx/{channel_id}"));

    /* 5 per 5 s: remaining counts 4..0, reset stays where the first request put it. */
    for (i = 0; i < 5; i++) {
        ASSERT(post_msg(rl, 42, 100, T0 + i * 100, &r));
        ASSERT(r.has_bucket);
        ASSERT_EQ(r.limit, 5);
        ASSERT_EQ(r.remaining, 4 - i);
        ASSERT_EQ(r.reset_ms, T0 + 5000);
        ASSERT_EQ(r.reset_after_ms, 5000 - i * 100);
        hdrs_of(&r, &h);
        ASSERT_EQ(h.n, 5);
        ASSERT_STR_EQ(hdr(&h, "X-RateLimit-Limit"), "5");
        snprintf(want, sizeof(want), "%d", 4 - i);
        ASSERT_STR_EQ(hdr(&h, "X-RateLimit-Remaining"), want);
        ASSERT_STR_EQ(hdr(&h, "X-RateLimit-Reset"), "1700000005.000");
        snprintf(want, sizeof(want), "%d.%03d", (5000 - i * 100) / 1000, (5000 - i * 100) % 1000);
        ASSERT_STR_EQ(hdr(&h, "X-RateLimit-Reset-After"), want);
        ASSERT_EQ(strlen(hdr(&h, "X-RateLimit-Bucket")), 16);
        ASSERT_NULL(hdr(&h, "Retry-After"));
        ASSERT_NULL(hdr(&h, "X-RateLimit-Scope"));
    }

    /* The sixth: 429, scope user, retry_after to the reset with decimals. */
    ASSERT(!post_msg(rl, 42, 100, T0 + 1234, &r));
    ASSERT(!r.allowed);
    ASSERT(!r.global);
    ASSERT_EQ(r.scope, RL_SCOPE_USER);
    ASSERT_EQ(r.remaining, 0);
    ASSERT_EQ(r.retry_after_ms, 3766);
    hdrs_of(&r, &h);
    ASSERT_STR_EQ(hdr(&h, "X-RateLimit-Remaining"), "0");
    ASSERT_STR_EQ(hdr(&h, "X-RateLimit-Reset-After"), "3.766");
    ASSERT_STR_EQ(hdr(&h, "Retry-After"), "4"); /* whole seconds, rounded up */
    ASSERT_STR_EQ(hdr(&h, "X-RateLimit-Scope"), "user");
    ASSERT_NULL(hdr(&h, "X-RateLimit-Global"));
    ASSERT_EQ(rl_body_429(&r, body, sizeof(body)), strlen(body));
    ASSERT_STR_EQ(body, "{\"message\": \"You are being rate limited.\", \"retry_after\": 3.766, "
                        "\"global\": false}");
    j = json_loads(body, 0, NULL);
    ASSERT_NOT_NULL(j);
    ASSERT(fabs(json_real_value(json_object_get(j, "retry_after")) - 3.766) < 1e-9);
    ASSERT(json_is_false(json_object_get(j, "global")));
    json_decref(j);
    /* Refusals count for nothing: still refused until the reset, with less to wait. */
    ASSERT(!post_msg(rl, 42, 100, T0 + 4999, &r));
    ASSERT_EQ(r.retry_after_ms, 1);
    hdrs_of(&r, &h);
    ASSERT_STR_EQ(hdr(&h, "Retry-After"), "1");
    ASSERT_STR_EQ(hdr(&h, "X-RateLimit-Reset-After"), "0.001");

    /* At the reset: a new window, opened by this request. */
    ASSERT(post_msg(rl, 42, 100, T0 + 5000, &r));
    ASSERT_EQ(r.remaining, 4);
    ASSERT_EQ(r.reset_ms, T0 + 10000);
    /* A window opens at the first request after the last one closed, not on a grid. */
    ASSERT(post_msg(rl, 42, 100, T0 + 17777, &r));
    ASSERT_EQ(r.remaining, 4);
    ASSERT_EQ(r.reset_ms, T0 + 22777);
    rl_free(rl);
    return 0;
}

TEST_IMPL(ratelimit_buckets)
{
    rl_result_t r, r2;
    char b1[RL_BUCKET_SIZE];
    rl_t *rl, *rl2;
    int i;

    rl = rl_new(&(rl_config_t){.seed = 2});
    /* Channel 100 exhausted... */
    for (i = 0; i < 5; i++)
        ASSERT(post_msg(rl, 42, 100, T0, &r));
    ASSERT(!post_msg(rl, 42, 100, T0, &r));
    memcpy(b1, r.bucket, sizeof(b1));
    /* ...channel 101 is a bucket of its own, with the same bucket id (the major is not
     * part of it), and so is another user in channel 100. */
    ASSERT(post_msg(rl, 42, 101, T0, &r));
    ASSERT_EQ(r.remaining, 4);
    ASSERT_STR_EQ(r.bucket, b1);
    ASSERT(post_msg(rl, 43, 100, T0, &r));
    ASSERT_EQ(r.remaining, 4);
    /* Another route: another bucket and id. */
    ASSERT(rl_check(rl, &(rl_request_t){"GET", MSGS, 42, NULL, 100}, T0, &r));
    ASSERT(strcmp(r.bucket, b1) != 0);
    ASSERT_EQ(r.limit, 50); /* not in the table: the default */

    /* The bucket id is stable: across limiters (and runs: it is the route's hash). */
    rl2 = rl_new(&(rl_config_t){.seed = 99});
    ASSERT(post_msg(rl2, 1, 1, T0, &r2));
    ASSERT_STR_EQ(r2.bucket, b1);
    rl_free(rl2);

    /* Reaction routes share one bucket: 1 per 250 ms, whichever of them. */
    ASSERT(rl_check(
        rl, &(rl_request_t){"PUT", MSGS "/{message_id}/reactions/{emoji}/@me", 42, NULL, 100}, T0,
        &r));
    ASSERT_EQ(r.limit, 1);
    memcpy(b1, r.bucket, sizeof(b1));
    ASSERT(!rl_check(
        rl, &(rl_request_t){"DELETE", MSGS "/{message_id}/reactions/{emoji}/@me", 42, NULL, 100},
        T0 + 100, &r));
    ASSERT_STR_EQ(r.bucket, b1);
    ASSERT_EQ(r.retry_after_ms, 150);
    ASSERT(rl_check(
        rl, &(rl_request_t){"DELETE", MSGS "/{message_id}/reactions/{emoji}/@me", 42, NULL, 100},
        T0 + 250, &r));

    /* A route's limit can be set; routes can be added. */
    ASSERT_EQ(rl_route_set(rl, &(rl_route_def_t){"GET", "/x", NULL, 0, 1000, 0}), -1);
    ASSERT_EQ(rl_route_set(rl, &(rl_route_def_t){"", "/x", NULL, 1, 1000, 0}), -1);
    ASSERT_OK(rl_route_set(rl, &(rl_route_def_t){"GET", "/x", NULL, 2, 1000, 0}));
    ASSERT(rl_check(rl, &(rl_request_t){"GET", "/x", 42, NULL, 0}, T0, &r));
    ASSERT(rl_check(rl, &(rl_request_t){"GET", "/x", 42, NULL, 0}, T0, &r));
    ASSERT(!rl_check(rl, &(rl_request_t){"GET", "/x", 42, NULL, 0}, T0, &r));
    rl_free(rl);
    return 0;
}

TEST_IMPL(ratelimit_shared_scope)
{
    char body[128];
    rl_result_t r;
    hdrs_t h;
    rl_t *rl;

    rl = rl_new(&(rl_config_t){.seed = 3});
    ASSERT_OK(rl_route_set(
        rl, &(rl_route_def_t){"POST", "/channels/{channel_id}/pins", NULL, 2, 10000, RL_F_SHARED}));
    /* Two users share the channel's bucket; another channel is separate. */
    ASSERT(
        rl_check(rl, &(rl_request_t){"POST", "/channels/{channel_id}/pins", 1, NULL, 7}, T0, &r));
    ASSERT(
        rl_check(rl, &(rl_request_t){"POST", "/channels/{channel_id}/pins", 2, NULL, 7}, T0, &r));
    ASSERT(
        !rl_check(rl, &(rl_request_t){"POST", "/channels/{channel_id}/pins", 3, NULL, 7}, T0, &r));
    ASSERT_EQ(r.scope, RL_SCOPE_SHARED);
    hdrs_of(&r, &h);
    ASSERT_STR_EQ(hdr(&h, "X-RateLimit-Scope"), "shared");
    rl_body_429(&r, body, sizeof(body));
    ASSERT_NOT_NULL(strstr(body, "The resource is being rate limited."));
    ASSERT(
        rl_check(rl, &(rl_request_t){"POST", "/channels/{channel_id}/pins", 3, NULL, 8}, T0, &r));
    rl_free(rl);
    return 0;
}

TEST_IMPL(ratelimit_global)
{
    rl_result_t r;
    char body[128];
    hdrs_t h;
    rl_t *rl;
    int i;

    rl = rl_new(&(rl_config_t){.seed = 4});
    /* 50 requests in a second on 50 different channels: each bucket fresh, the 51st is
     * refused by the global limit. */
    for (i = 0; i < 50; i++)
        ASSERT(rl_check(rl, &(rl_request_t){"GET", "/channels/{channel_id}", 42, NULL, 1000 + i},
                        T0 + i * 10, &r));
    ASSERT(!rl_check(rl, &(rl_request_t){"GET", "/channels/{channel_id}", 42, NULL, 2000}, T0 + 600,
                     &r));
    ASSERT(r.global);
    ASSERT_EQ(r.scope, RL_SCOPE_GLOBAL);
    ASSERT(!r.has_bucket);
    ASSERT_EQ(r.retry_after_ms, 400);
    hdrs_of(&r, &h);
    ASSERT_NULL(hdr(&h, "X-RateLimit-Limit")); /* as Discord: no route headers */
    ASSERT_STR_EQ(hdr(&h, "X-RateLimit-Global"), "true");
    ASSERT_STR_EQ(hdr(&h, "X-RateLimit-Scope"), "global");
    ASSERT_STR_EQ(hdr(&h, "Retry-After"), "1");
    rl_body_429(&r, body, sizeof(body));
    ASSERT_STR_EQ(body, "{\"message\": \"You are being rate limited.\", \"retry_after\": 0.400, "
                        "\"global\": true}");
    /* Someone else is not affected; the refused request took nothing from its route. */
    ASSERT(rl_check(rl, &(rl_request_t){"GET", "/channels/{channel_id}", 43, NULL, 2000}, T0 + 600,
                    &r));
    ASSERT(rl_check(rl, &(rl_request_t){"GET", "/channels/{channel_id}", 42, NULL, 2000}, T0 + 1000,
                    &r));
    ASSERT_EQ(r.remaining, 49);

    /* The multiplier scales every limit. */
    rl_free(rl);
    rl = rl_new(&(rl_config_t){.seed = 4, .multiplier = 3});
    for (i = 0; i < 15; i++)
        ASSERT(post_msg(rl, 42, 100, T0, &r));
    ASSERT_EQ(r.limit, 15);
    ASSERT(!post_msg(rl, 42, 100, T0, &r));
    rl_free(rl);
    return 0;
}

TEST_IMPL(ratelimit_per_ip)
{
    rl_request_t login = {"POST", "/auth/login", 0, "10.0.0.1", 0};
    rl_result_t r;
    rl_t *rl;
    int i;

    rl = rl_new(&(rl_config_t){.seed = 5});
    /* 5 per minute per IP. */
    for (i = 0; i < 5; i++)
        ASSERT(rl_check(rl, &login, T0 + i * 1000, &r));
    ASSERT(!rl_check(rl, &login, T0 + 5000, &r));
    ASSERT_EQ(r.retry_after_ms, 55000);
    /* A token does not help: login is keyed by the IP. */
    login.user_id = 42;
    ASSERT(!rl_check(rl, &login, T0 + 5000, &r));
    /* Another IP (v6 too) has its own. */
    login.ip = "10.0.0.2";
    ASSERT(rl_check(rl, &login, T0 + 5000, &r));
    login.ip = "2001:db8::1";
    ASSERT(rl_check(rl, &login, T0 + 5000, &r));
    /* Register is separate. */
    ASSERT(
        rl_check(rl, &(rl_request_t){"POST", "/auth/register", 0, "10.0.0.1", 0}, T0 + 5000, &r));
    ASSERT(rl_check(rl, &(rl_request_t){"POST", "/auth/login", 0, "10.0.0.1", 0}, T0 + 60000, &r));

    /* Unauthenticated requests share their IP's global limit; a user has its own. */
    for (i = 0; i < 50; i++)
        ASSERT(rl_check(rl, &(rl_request_t){"GET", "/gateway", 0, "10.0.0.9", 0}, T0 + 70000, &r));
    ASSERT(!rl_check(rl, &(rl_request_t){"GET", "/gateway", 0, "10.0.0.9", 0}, T0 + 70000, &r));
    ASSERT(r.global);
    ASSERT(rl_check(rl, &(rl_request_t){"GET", "/gateway", 77, "10.0.0.9", 0}, T0 + 70000, &r));
    ASSERT(rl_check(rl, &(rl_request_t){"GET", "/gateway", 0, "10.0.0.8", 0}, T0 + 70000, &r));
    rl_free(rl);
    return 0;
}

/* ---- memory ------------------------------------------------------------------------------- */

TEST_IMPL(ratelimit_bounded)
{
    size_t i, n = test_scaled(1000000), peak = 0;
    rl_stats_t st;
    rl_result_t r;
    int64_t now = T0;
    rl_t *rl;

    /* A million distinct users, one message each, one per simulated millisecond: a
     * route bucket (5 s) and a global one (1 s) each. Live buckets stay near what the
     * last 5 s made (5000 route + 1000 global), never the million. */
    rl = rl_new(&(rl_config_t){.seed = 6});
    for (i = 0; i < n; i++, now++) {
        ASSERT(post_msg(rl, 1000000 + i, 1 + i % 1000, now, &r));
        if (i % 1000 == 0) {
            rl_stats(rl, &st);
            if (st.buckets > peak)
                peak = st.buckets;
        }
    }
    rl_stats(rl, &st);
    ASSERT_LE(peak, 12000);
    ASSERT_EQ(st.evicted_live, 0);
    ASSERT_EQ(st.checks, n);
    ASSERT_GE(st.expired + st.buckets, 2 * n);
    /* Idle time, then a few requests: the old buckets drain, RL_EXPIRE_PER_CHECK a check. */
    now += 10000;
    for (i = 0; i < 2000; i++)
        post_msg(rl, 7, 7, now, &r);
    rl_stats(rl, &st);
    ASSERT_LE(st.buckets, 2);
    rl_free(rl);

    /* A flood of distinct keys within one window, past the cap: the cap holds. */
    rl = rl_new(&(rl_config_t){.seed = 7, .max_buckets = 1000});
    for (i = 0; i < 100000; i++)
        ASSERT(post_msg(rl, 5000000 + i, 1, T0, &r));
    rl_stats(rl, &st);
    ASSERT_LE(st.buckets, 1000);
    ASSERT_GT(st.evicted_live, 0);
    /* A key that is in use stays: the LRU victims are the idle ones. */
    for (i = 0; i < 5; i++)
        ASSERT(post_msg(rl, 1, 1, T0, &r));
    for (i = 0; i < 400; i++) {
        ASSERT(!post_msg(rl, 1, 1, T0, &r)); /* touched each round: never the LRU head */
        post_msg(rl, 6000000 + i, 1, T0, &r);
    }
    rl_free(rl);
    return 0;
}

TEST_IMPL(ratelimit_clock_step_back)
{
    rl_result_t r;
    rl_t *rl;
    int i;

    rl = rl_new(&(rl_config_t){.seed = 8});
    for (i = 0; i < 5; i++)
        ASSERT(post_msg(rl, 42, 100, T0, &r));
    ASSERT(!post_msg(rl, 42, 100, T0 + 10, &r));
    /* The clock jumps back an hour: the window it jumped out of closes (headers never
     * promise a reset more than a period away). */
    ASSERT(post_msg(rl, 42, 100, T0 - 3600000, &r));
    ASSERT_EQ(r.reset_after_ms, 5000);
    rl_free(rl);
    return 0;
}

/* ---- the gateway -------------------------------------------------------------------------- */

TEST_IMPL(ratelimit_gateway)
{
    rl_session_limit_t sl;
    rl_window_t w = {0};
    int64_t ra = 0;
    rl_t *rl;
    int i;

    /* 120 per 60 s from the connection's start; the 121st is one too many. */
    rl_window_start(&w, T0);
    for (i = 0; i < RL_GATEWAY_SEND_LIMIT; i++)
        ASSERT(rl_window_hit(&w, RL_GATEWAY_SEND_LIMIT, RL_GATEWAY_SEND_PERIOD_MS, T0 + i * 100));
    ASSERT(!rl_window_hit(&w, RL_GATEWAY_SEND_LIMIT, RL_GATEWAY_SEND_PERIOD_MS, T0 + 59999));
    ASSERT(rl_window_hit(&w, RL_GATEWAY_SEND_LIMIT, RL_GATEWAY_SEND_PERIOD_MS, T0 + 60000));
    /* A zeroed window opens at the first event. */
    memset(&w, 0, sizeof(w));
    ASSERT(rl_window_hit(&w, 2, 1000, T0));
    ASSERT(rl_window_hit(&w, 2, 1000, T0 + 999));
    ASSERT(!rl_window_hit(&w, 2, 1000, T0 + 999));
    ASSERT(rl_window_hit(&w, 2, 1000, T0 + 1000));

    /* Identify: one per 5 s per concurrency bucket (shard % 2 here), 3 sessions a day. */
    rl = rl_new(&(rl_config_t){.seed = 9, .identify_concurrency = 2, .session_starts = 3});
    rl_session_limit(rl, 42, T0, &sl);
    ASSERT_EQ(sl.total, 3);
    ASSERT_EQ(sl.remaining, 3);
    ASSERT_EQ(sl.reset_after_ms, 86400000);
    ASSERT_EQ(sl.max_concurrency, 2);
    ASSERT(rl_identify(rl, 42, 0, T0, &ra));
    ASSERT(rl_identify(rl, 42, 1, T0, &ra));
    ASSERT(!rl_identify(rl, 42, 2, T0 + 1000, &ra)); /* bucket 0 again */
    ASSERT_EQ(ra, 4000);
    ASSERT(rl_identify(rl, 43, 0, T0 + 1000, &ra)); /* another bot */
    rl_session_limit(rl, 42, T0 + 1000, &sl);
    ASSERT_EQ(sl.remaining, 1);
    ASSERT_EQ(sl.reset_after_ms, 86400000 - 1000);
    ASSERT(rl_identify(rl, 42, 2, T0 + 5000, &ra));
    /* Three session starts used: refused until the day is over. */
    ASSERT(!rl_identify(rl, 42, 1, T0 + 20000, &ra));
    ASSERT_EQ(ra, 86400000 - 20000);
    rl_session_limit(rl, 42, T0 + 20000, &sl);
    ASSERT_EQ(sl.remaining, 0);
    ASSERT(rl_identify(rl, 42, 1, T0 + 86400000, NULL));
    rl_free(rl);
    return 0;
}

/* ---- simulated clients -------------------------------------------------------------------- */

#define OFFSET 50 /* @discordjs/rest's default offset (ms) */
#define INF 1e18

/* The client's REST manager: its own global counter. */
typedef struct sim_client {
    int64_t global_reset; /* -1: none yet */
    int64_t global_remaining;
    int n429;
} sim_client_t;

enum { READY, ARRIVE, RESPONSE };

/* One SequentialHandler: the queue of one channel's messages, sent one at a time. */
typedef struct sim_handler {
    uint64_t channel;
    int next, count; /* the next message to send; how many */
    double limit;    /* what the headers said */
    double remaining;
    int64_t reset;
    int phase;
    int64_t t;       /* when its next event happens */
    rl_result_t res; /* the server's answer in flight */
    bool allowed;
} sim_handler_t;

/* The server's record: which messages were accepted, in order, per channel. */
typedef struct sim_log {
    int *seq;
    size_t n;
} sim_log_t;

static uint64_t sim_rng;

static int64_t latency(void)
{
    sim_rng ^= sim_rng >> 12;
    sim_rng ^= sim_rng << 25;
    sim_rng ^= sim_rng >> 27;
    return 1 + (int64_t)((sim_rng * 0x2545F4914F6CDD1DULL) % 30);
}

static double num(const hdrs_t *h, const char *name, double dflt)
{
    const char *v = hdr(h, name);

    return v != NULL ? strtod(v, NULL) : dflt;
}

/* One event of handler s, as @discordjs/rest 2.x's SequentialHandler.runRequest does
 * it: wait while limited (the global counter, or remaining 0 before reset: sleep until
 * reset + offset), count the request in the client's own global limit, send; on the
 * response read X-RateLimit-Limit/-Remaining/-Reset-After/-Bucket and Retry-After;
 * a 429 with X-RateLimit-Global blocks everything until retry_after; another 429 while
 * the bucket does not look limited is a sublimit: sleep retry_after; then the same
 * request again. */
static void sim_step(rl_t *rl, sim_client_t *c, sim_handler_t *s, sim_log_t *logs)
{
    double retry_after;
    hdrs_t h;

    switch (s->phase) {
    case READY:
        if (c->global_remaining <= 0 && s->t < c->global_reset) {
            s->t = c->global_reset + OFFSET;
            return;
        }
        if (s->remaining <= 0 && s->t < s->reset) {
            s->t = s->reset + OFFSET; /* getTimeToReset: reset + offset - now */
            return;
        }
        if (c->global_reset < 0 || c->global_reset < s->t) {
            c->global_reset = s->t + 1000;
            c->global_remaining = 50;
        }
        c->global_remaining--;
        s->phase = ARRIVE;
        s->t += latency();
        return;
    case ARRIVE:
        s->allowed = post_msg(rl, 42, s->channel, s->t, &s->res);
        if (s->allowed) {
            sim_log_t *l = &logs[s->channel];

            l->seq[l->n++] = s->next;
        }
        s->phase = RESPONSE;
        s->t += latency();
        return;
    default:
        hdrs_of(&s->res, &h);
        s->limit = num(&h, "X-RateLimit-Limit", INF);
        s->remaining = num(&h, "X-RateLimit-Remaining", 1);
        s->reset = hdr(&h, "X-RateLimit-Reset-After") != NULL
                       ? s->t + (int64_t)(num(&h, "X-RateLimit-Reset-After", 0) * 1000) + OFFSET
                       : s->t;
        retry_after = hdr(&h, "Retry-After") ? num(&h, "Retry-After", 0) * 1000 + OFFSET : 0;
        s->phase = READY;
        if (s->allowed) {
            s->next++;
            return;
        }
        c->n429++;
        if (retry_after > 0) {
            if (hdr(&h, "X-RateLimit-Global") != NULL) {
                c->global_remaining = 0;
                c->global_reset = s->t + (int64_t)retry_after;
            } else if (!(s->remaining <= 0 && s->t < s->reset)) {
                s->t += (int64_t)retry_after; /* a sublimit */
            }
        }
        return;
    }
}

/* Runs handlers for nch channels of per messages each, all queued at T0, to the end.
 * Returns the simulated time it took. */
static int64_t sim_run(rl_t *rl, size_t nch, int per, sim_client_t *c, sim_log_t *logs)
{
    sim_handler_t *hs = calloc(nch, sizeof(*hs)), *s;
    int64_t end = T0;
    size_t i, done;

    c->global_reset = -1;
    c->global_remaining = 50;
    c->n429 = 0;
    for (i = 0; i < nch; i++) {
        hs[i] = (sim_handler_t){.channel = i,
                                .count = per,
                                .limit = INF,
                                .remaining = 1,
                                .reset = -1,
                                .phase = READY,
                                .t = T0};
        logs[i].seq = calloc((size_t)per, sizeof(int));
        logs[i].n = 0;
    }
    for (;;) {
        /* The earliest event next, so the server sees arrivals in time order. */
        s = NULL;
        for (i = done = 0; i < nch; i++) {
            if (hs[i].next == hs[i].count) {
                done++;
                continue;
            }
            if (s == NULL || hs[i].t < s->t)
                s = &hs[i];
        }
        if (done == nch)
            break;
        sim_step(rl, c, s, logs);
        if (s->t > end)
            end = s->t;
    }
    free(hs);
    return end - T0;
}

static void sim_check_logs(sim_log_t *logs, size_t nch, int per)
{
    size_t i;
    int k;

    for (i = 0; i < nch; i++) {
        ASSERT_EQ(logs[i].n, per);
        for (k = 0; k < per; k++)
            ASSERT_EQ(logs[i].seq[k], k); /* every message, once, in order */
        free(logs[i].seq);
    }
}

TEST_IMPL(ratelimit_discordjs_burst)
{
    sim_log_t logs[60];
    sim_client_t c;
    int64_t took;
    rl_t *rl;

    sim_rng = test_seed() | 1;

    /* 50 messages "at once" into one channel: all through, in order, no 429, in ten
     * windows of 5 s. */
    rl = rl_new(&(rl_config_t){.seed = 10});
    took = sim_run(rl, 1, 50, &c, logs);
    sim_check_logs(logs, 1, 50);
    ASSERT_EQ(c.n429, 0);
    ASSERT_GE(took, 45000);
    ASSERT_LE(took, 47000);
    rl_free(rl);

    /* Three channels at once: independent buckets, so no slower than one. */
    rl = rl_new(&(rl_config_t){.seed = 11});
    took = sim_run(rl, 3, 50, &c, logs);
    sim_check_logs(logs, 3, 50);
    ASSERT_EQ(c.n429, 0);
    ASSERT_LE(took, 47000);
    rl_free(rl);

    /* 60 channels x 5 messages: the global limit (50/s) is what binds; the client's own
     * global counter and the server's may disagree by a request or two at a window's
     * edge, and a global 429 is then waited out. Everything still arrives in order. */
    rl = rl_new(&(rl_config_t){.seed = 12});
    took = sim_run(rl, 60, 5, &c, logs);
    sim_check_logs(logs, 60, 5);
    ASSERT_LE(c.n429, 10);
    ASSERT_GE(took, 5000);
    ASSERT_LE(took, 12000);
    rl_free(rl);
    return 0;
}

/* A blunt client: sends as soon as it can and, on a 429, waits the body's retry_after
 * (ignoring every header), then retries the same message. */
TEST_IMPL(ratelimit_blunt_client)
{
    int64_t now = T0, waited = 0;
    int next = 0, n429 = 0, log[50], nlog = 0;
    char body[128];
    rl_result_t r;
    json_t *j;
    rl_t *rl;

    rl = rl_new(&(rl_config_t){.seed = 13});
    while (next < 50) {
        if (post_msg(rl, 42, 100, now, &r)) {
            log[nlog++] = next++;
            now += 2;
            continue;
        }
        n429++;
        rl_body_429(&r, body, sizeof(body));
        j = json_loads(body, 0, NULL);
        ASSERT_NOT_NULL(j);
        /* Waiting exactly retry_after is enough: the next try succeeds. */
        waited = (int64_t)llround(json_real_value(json_object_get(j, "retry_after")) * 1000);
        json_decref(j);
        ASSERT_GT(waited, 0);
        now += waited;
        ASSERT(post_msg(rl, 42, 100, now, &r));
        log[nlog++] = next++;
        now += 2;
    }
    for (next = 0; next < 50; next++)
        ASSERT_EQ(log[next], next);
    ASSERT_EQ(n429, 9); /* one per window after the first */
    rl_free(rl);
    return 0;
}

/* ---- the limiter process ------------------------------------------------------------------ */

static rl_config_t proc_cfg = {.seed = 14};

TEST_IMPL(ratelimit_process)
{
    rl_request_t q = {"POST", MSGS, 42, "127.0.0.1", 100};
    hearth_child_spec_t spec = {
        .id = "ratelimit", .start = rl_server_child_start, .arg = &proc_cfg};
    rl_session_limit_t sl;
    hearth_pid_t sup;
    rl_result_t r;
    int64_t ra;
    int i;

    ASSERT_OK(hearth_start(NULL));
    /* No limiter yet: everything passes, without headers. */
    ASSERT(rl_call_check(&q, &r));
    ASSERT(!r.has_bucket);
    ASSERT(rl_call_identify(42, 0, &ra));
    rl_call_session_limit(42, &sl);
    ASSERT_EQ(sl.total, 1000);

    ASSERT_OK(hearth_supervisor_start(NULL, &spec, 1, HEARTH_SPAWN_LINK, &sup));
    ASSERT_NE(hearth_whereis(RL_SERVER_NAME), HEARTH_PID_NONE);
    for (i = 0; i < 5; i++) {
        ASSERT(rl_call_check(&q, &r));
        ASSERT(r.has_bucket);
        ASSERT_EQ(r.remaining, 4 - i);
    }
    ASSERT(!rl_call_check(&q, &r));
    ASSERT_GT(r.retry_after_ms, 0);
    ASSERT_LE(r.retry_after_ms, 5000);
    q.major = 101;
    ASSERT(rl_call_check(&q, &r));
    /* Long strings are cut, not trusted. */
    q.pattern = "/a-very-long-pattern-that-goes-on-and-on-and-on-and-on-and-on-and-on-and-on-and-"
                "on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on";
    ASSERT(rl_call_check(&q, &r));
    ASSERT(rl_call_identify(42, 0, &ra));
    ASSERT(!rl_call_identify(42, 0, &ra));
    ASSERT_GT(ra, 0);
    rl_call_session_limit(42, &sl);
    ASSERT_EQ(sl.remaining, 999);
    ASSERT_OK(hearth_stop());
    return 0;
}
