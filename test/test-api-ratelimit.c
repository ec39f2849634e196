/* REST API tests, part five: rate limits over real sockets, with the node's limiter
 * process running (as hearth-server runs it) at Discord's limits: the X-RateLimit-*
 * headers on every response, a flood answered 429 with Discord's body and headers
 * while another user's requests stay fast, per-channel buckets, the global limit per
 * token, the per-client limit of login, and hearth-server's --rate-limit-multiplier
 * (Discord's limits, scaled, or none). */
#include "test-api.h"

#include "hearth/supervisor.h"
#include "ratelimit/ratelimit.h"

#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define API "/api/v10"

static char *fmt_path(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static char *fmt_path(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return buf;
}

#define P(...) fmt_path(path, sizeof(path), __VA_ARGS__)
#define ID(x) ((unsigned long long)(x))

static uint64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The limiter's settings: Discord's defaults. Read at each (re)start: static. */
static rl_config_t limits;

/* Starts the limiter process under a supervisor of its own, as hearth-server does,
 * linked to the test's thread so that the runtime's stop takes it down with it. */
static void limiter_start(void)
{
    hearth_child_spec_t spec = {.id = "ratelimit", .start = rl_server_child_start, .arg = &limits};
    hearth_pid_t sup;

    ASSERT_OK(hearth_supervisor_start(NULL, &spec, 1, HEARTH_SPAWN_LINK, &sup));
    ASSERT_NE(HEARTH_PID_NONE, hearth_whereis(RL_SERVER_NAME));
}

/* Header name of res as a number (asserting it is there). */
static double hnum(const ta_res_t *res, const char *name)
{
    char v[64];

    if (!ta_header(res, name, v, sizeof(v))) {
        fprintf(stderr, "no %s header in:\n%s\n", name, res->head);
        ASSERT(0);
    }
    return strtod(v, NULL);
}

static bool has_header(const ta_res_t *res, const char *name)
{
    char v[64];

    return ta_header(res, name, v, sizeof(v));
}

/* ---- a flood, per channel, and everybody else --------------------------------------------- */

TEST_IMPL(api_ratelimit_flood)
{
    uint64_t guild, general, other_ch, t0, dt;
    char path[128], bucket[32], b2[32];
    ta_user_t alice, bob;
    ta_res_t r = {0};
    double retry;
    int i;

    ta_node_t n;
    ta_start(&n);
    /* Users first: registering is limited per client (5 a minute), and these two are
     * not what is tested here. */
    ta_user(n.port, "alice", &alice);
    ta_user(n.port, "bob", &bob);
    limiter_start();
    guild = ta_guild(n.port, &alice, "Flood", &general);
    ta_join(n.port, &alice, &bob, general);
    ASSERT_EQ(201, ta_req(n.port, &r, "POST", P(API "/guilds/%llu/channels", ID(guild)),
                          alice.token, "{\"name\": \"other\"}"));
    other_ch = jid(r.json, "id");

    /* Five messages per 5 s per channel: the headers count down in one bucket. */
    for (i = 0; i < 5; i++) {
        ASSERT_EQ(200, ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages", ID(general)),
                              alice.token, "{\"content\": \"flood %d\"}", i));
        ASSERT_EQ(5, hnum(&r, "X-RateLimit-Limit"));
        ASSERT_EQ(4 - i, hnum(&r, "X-RateLimit-Remaining"));
        ASSERT(hnum(&r, "X-RateLimit-Reset-After") > 0 &&
               hnum(&r, "X-RateLimit-Reset-After") <= 5.0);
        /* Reset is the epoch time the window closes. */
        ASSERT(hnum(&r, "X-RateLimit-Reset") > (double)time(NULL) - 1);
        ASSERT(ta_header(&r, "X-RateLimit-Bucket", i == 0 ? bucket : b2, sizeof(bucket)));
        if (i > 0)
            ASSERT_STR_EQ(bucket, b2);
        ASSERT(!has_header(&r, "Retry-After"));
    }
    /* The sixth: 429 with Discord's body and headers; nothing posted. */
    ASSERT_EQ(429, ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages", ID(general)),
                          alice.token, "{\"content\": \"one too many\"}"));
    ASSERT_STR_EQ("application/json", r.ctype);
    ASSERT_STR_EQ("You are being rate limited.", js(r.json, "message"));
    ASSERT(json_is_false(json_object_get(r.json, "global")));
    retry = json_number_value(json_object_get(r.json, "retry_after"));
    ASSERT(retry > 0 && retry <= 5.0);
    ASSERT(hnum(&r, "Retry-After") >= 1 && hnum(&r, "Retry-After") <= 5);
    ASSERT(hnum(&r, "Retry-After") >= retry);
    ASSERT_EQ(5, hnum(&r, "X-RateLimit-Limit"));
    ASSERT_EQ(0, hnum(&r, "X-RateLimit-Remaining"));
    ASSERT(ta_header(&r, "X-RateLimit-Bucket", b2, sizeof(b2)));
    ASSERT_STR_EQ(bucket, b2);
    ASSERT(ta_header(&r, "X-RateLimit-Scope", b2, sizeof(b2)));
    ASSERT_STR_EQ("user", b2);
    ASSERT(!has_header(&r, "X-RateLimit-Global"));

    /* Meanwhile bob is not slowed: his own bucket in that channel, answered at once. */
    t0 = mono_ms();
    ASSERT_EQ(200, ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages", ID(general)),
                          bob.token, "{\"content\": \"I am fine\"}"));
    ASSERT_EQ(4, hnum(&r, "X-RateLimit-Remaining"));
    ASSERT_EQ(200, ta_req(n.port, &r, "GET", API "/users/@me", bob.token, NULL));
    dt = mono_ms() - t0;
    ASSERT_LT(dt, 1000);
    /* Alice in another channel: another bucket (the major parameter). */
    ASSERT_EQ(200, ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages", ID(other_ch)),
                          alice.token, "{\"content\": \"elsewhere\"}"));
    ASSERT_EQ(4, hnum(&r, "X-RateLimit-Remaining"));
    /* Errors carry the headers too; a bad token is not counted and gets none. */
    ASSERT_EQ(404, ta_req(n.port, &r, "GET", API "/channels/123456789", bob.token, NULL));
    ASSERT(has_header(&r, "X-RateLimit-Limit"));
    ASSERT_EQ(401, ta_req(n.port, &r, "GET", API "/users/@me", "not-a-token", NULL));
    ASSERT(!has_header(&r, "X-RateLimit-Limit"));

    /* Waiting retry_after is enough, as discord.js does it. */
    ASSERT_EQ(429, ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages", ID(general)),
                          alice.token, "{\"content\": \"still?\"}"));
    retry = json_number_value(json_object_get(r.json, "retry_after"));
    usleep((useconds_t)(retry * 1e6) + 20000);
    ASSERT_EQ(200, ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages", ID(general)),
                          alice.token, "{\"content\": \"after waiting\"}"));
    ASSERT_EQ(4, hnum(&r, "X-RateLimit-Remaining"));

    /* Only what was allowed was posted: 5 + the last one of alice, 1 of bob. */
    ASSERT_EQ(200, ta_req(n.port, &r, "GET", P(API "/channels/%llu/messages", ID(general)),
                          bob.token, NULL));
    ASSERT_EQ(7, json_array_size(r.json));
    ta_res_free(&r);
    ta_stop(&n);
    return 0;
}

/* ---- the global limit per token, login per client ------------------------------------------ */

TEST_IMPL(api_ratelimit_global)
{
    ta_user_t carol, dave;
    ta_res_t r = {0};
    char v[32];
    int i, ok = 0, global = 0;
    uint64_t t0;

    ta_node_t n;
    ta_start(&n);
    ta_user(n.port, "carol", &carol);
    ta_user(n.port, "dave", &dave);
    limiter_start();

    /* 50 requests per second per token whatever the routes: carol's 51st within the
     * second is refused by the global limit. Retried until one burst fits in one
     * window (a slow machine may straddle two). */
    for (int attempt = 0; attempt < 5 && global == 0; attempt++) {
        ok = 0;
        t0 = mono_ms();
        for (i = 0; i < 60 && global == 0; i++) {
            int st = ta_req(n.port, &r, "GET", i % 2 ? API "/users/@me" : API "/users/@me/guilds",
                            carol.token, NULL);

            if (st == 200)
                ok++;
            else if (st == 429)
                global++;
            else
                ASSERT(0);
        }
        if (global == 0 || mono_ms() - t0 > 900) {
            global = 0;
            usleep(1100 * 1000);
        }
    }
    ASSERT_EQ(1, global);
    ASSERT_EQ(50, ok);
    ASSERT(jb(r.json, "global"));
    ASSERT(json_number_value(json_object_get(r.json, "retry_after")) <= 1.0);
    ASSERT(ta_header(&r, "X-RateLimit-Global", v, sizeof(v)));
    ASSERT_STR_EQ("true", v);
    ASSERT(ta_header(&r, "X-RateLimit-Scope", v, sizeof(v)));
    ASSERT_STR_EQ("global", v);
    ASSERT(has_header(&r, "Retry-After"));
    /* Dave is another token: not limited. */
    ASSERT_EQ(200, ta_req(n.port, &r, "GET", API "/users/@me", dave.token, NULL));

    /* Login: 5 a minute per client, wrong passwords included. */
    for (i = 0; i < 5; i++) {
        ASSERT_EQ(400, ta_req(n.port, &r, "POST", API "/auth/login", NULL,
                              "{\"login\": \"carol\", \"password\": \"wrong horse battery\"}"));
        ASSERT_EQ(5, hnum(&r, "X-RateLimit-Limit"));
    }
    ASSERT_EQ(429, ta_req(n.port, &r, "POST", API "/auth/login", NULL,
                          "{\"login\": \"carol\", \"password\": \"correct horse battery\"}"));
    ASSERT(json_is_false(json_object_get(r.json, "global")));
    ASSERT(hnum(&r, "Retry-After") > 50);
    /* Per client: another address still gets its own five (a wrong password: 400). */
    ta_source_addr = "127.0.0.2";
    ASSERT_EQ(400, ta_req(n.port, &r, "POST", API "/auth/login", NULL,
                          "{\"login\": \"carol\", \"password\": \"wrong horse battery\"}"));
    ASSERT_EQ(4, hnum(&r, "X-RateLimit-Remaining"));
    ta_source_addr = NULL;
    ta_res_free(&r);
    ta_stop(&n);
    return 0;
}

/* ---- hearth-server --rate-limit-multiplier ------------------------------------------------- */

/* The X-RateLimit-Limit of a registration on a hearth-server run with multiplier (-1
 * if the answer has none). */
static int register_limit(int multiplier)
{
    char dir[64], limit[16];
    ta_res_t r = {0};
    ta_proc_t p;
    int out;

    ts_mkdir(dir);
    ASSERT_OK(ta_proc_start_limited(&p, dir, multiplier));
    ASSERT_EQ(201, ta_req(p.port, &r, "POST", API "/auth/register", NULL,
                          "{\"username\": \"limits\", \"email\": \"limits@example.test\", "
                          "\"password\": \"correct horse battery\"}"));
    out = ta_header(&r, "X-RateLimit-Limit", limit, sizeof(limit)) ? atoi(limit) : -1;
    ta_res_free(&r);
    ASSERT_EQ(0, ta_proc_stop(&p, SIGTERM));
    ts_rmdir(dir);
    return out;
}

TEST_IMPL(api_ratelimit_setting)
{
    if (ta_server_path() == NULL)
        TEST_SKIP("hearth-server is not built");
    ASSERT_EQ(5, register_limit(1));   /* Discord's: 5 registrations a minute */
    ASSERT_EQ(50, register_limit(10)); /* ten times that */
    ASSERT_EQ(-1, register_limit(0));  /* none: no limiter, no headers */
    return 0;
}

/* ---- routes the limiter learns as they come ------------------------------------------------ */

/* Every REST route reaches the limiter, most of them not in its table: each becomes a
 * route with the default limit when first seen. Past the table's first capacity that
 * used to index a moved array (a 429 with limit 0 and bucket "global" in the end-to-end
 * suite; a use after free under ASan). */
TEST_IMPL(api_ratelimit_new_routes)
{
    char pattern[64], first[RL_BUCKET_SIZE];
    rl_t *rl = rl_new(&(rl_config_t){.seed = 7});
    rl_request_t q = {.method = "GET", .user_id = 42};
    rl_result_t res;
    int i;

    for (i = 0; i < 200; i++) {
        snprintf(pattern, sizeof(pattern), "/learned/%d", i);
        q.pattern = pattern;
        ASSERT(rl_check(rl, &q, 1000000 + i * 100, &res)); /* under the global 50 per s */
        ASSERT_EQ(50, res.limit);
        ASSERT_EQ(49, res.remaining);
        ASSERT(res.has_bucket);
        if (i == 0)
            memcpy(first, res.bucket, sizeof(first));
        else
            ASSERT(strcmp(first, res.bucket) != 0);
    }
    /* Each still its own: the first one's bucket counts on. */
    q.pattern = "/learned/0";
    ASSERT(rl_check(rl, &q, 1000000 + 200 * 100, &res));
    ASSERT_STR_EQ(first, res.bucket);
    rl_free(rl);
    return 0;
}
