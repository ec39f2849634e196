/* Mounting the REST routes, and the dispatcher every one of them goes through.
 *
 * The resource files describe their routes in tables (api_route_t: method, pattern,
 * handler, flags). api_routes_add registers each under both prefixes with the one
 * dispatcher as the HTTP handler and the table entry as its udata, so what every
 * route has in common (authentication first, as Discord answers 401 before looking
 * at the body; then the rate limits; then the body; the context the handler gets)
 * lives in one place.
 *
 * Rate limits: every authenticated request, and every request of a route that needs no
 * token, is checked with the node's limiter process (apps/ratelimit: rl_call_check)
 * under its route template and major parameter (the channel, guild or webhook id), so
 * buckets are per caller (or per client for login and register), per route, per
 * channel or guild. The answer's X-RateLimit-Limit, -Remaining, -Reset, -Reset-After
 * and -Bucket headers go on the response whatever the handler answers; a refusal is
 * Discord's 429 with Retry-After, X-RateLimit-Scope (and X-RateLimit-Global) and the
 * body {"message", "retry_after", "global"}, and the handler does not run. Without a
 * limiter process (hearth-server --rate-limit-multiplier 0, or a test node that
 * starts none) every request passes and gets no rate limit headers. A 401 counts
 * against nothing, as the caller is not known. */
#include "internal.h"
#include "relationships.h"

#include "ratelimit/ratelimit.h"

#include <stdatomic.h>
#include <stdio.h>

static const char *const prefixes[] = {"/api/v10", "/api"};

static const api_route_t *const tables[] = {
    api_auth_routes,    api_user_routes,         api_app_routes,     api_gateway_routes,
    api_guild_routes,   api_channel_routes,      api_message_routes, api_reaction_routes,
    api_invite_routes,  api_role_routes,         api_ban_routes,     api_audit_routes,
    api_automod_routes, api_relationship_routes,
};

/* Set once before the listener starts and only read afterwards, by request processes
 * on threads that already run: hearth_start's thread creation and the listener's
 * spawn order the write before every read. */
static api_log_fn access_log;

/* Requests in their handler. Relaxed: it is a gauge read by a draining server that
 * polls until it reaches 0, nothing is published through it. */
static atomic_size_t active;

size_t api_requests_active(void)
{
    return atomic_load_explicit(&active, memory_order_relaxed);
}

void api_log_set(api_log_fn fn)
{
    access_log = fn;
}

static void header_cb(void *arg, const char *name, const char *value)
{
    http_response_header(arg, name, value);
}

/* Checks rt's rate limits for c's caller. Returns true if the request may go on, with
 * the limiter's headers on the response; else false after answering 429. */
static bool rate_check(const api_route_t *rt, api_ctx_t *c)
{
    const char *major = rl_major_param(rt->pattern), *v;
    rl_request_t q = {.method = rt->method, .pattern = rt->pattern, .user_id = c->user_id,
                      .ip = c->req->peer[0] ? c->req->peer : NULL};
    char body[128];
    rl_result_t res;
    size_t n;

    /* A malformed id counts under no major parameter; the handler then answers 400. */
    if (major != NULL &&
        ((v = http_request_param(c->req, major)) == NULL || snowflake_parse(v, &q.major) != 0))
        q.major = 0;
    rl_call_check(&q, &res);
    rl_headers(&res, header_cb, c->res);
    if (res.allowed)
        return true;
    n = rl_body_429(&res, body, sizeof(body));
    c->status = 429;
    http_response_status(c->res, 429);
    http_response_body(c->res, "application/json", body, n < sizeof(body) ? n : sizeof(body) - 1);
    return false;
}

/* Runs the route: authentication first (Discord answers 401 before it looks at the
 * body), then the rate limits, then the body, then the handler. */
static void run(const api_route_t *rt, api_ctx_t *c)
{
    int found;

    if (rt->flags & (API_AUTH | API_AUTH_OPT)) {
        found = api_auth(c);
        if (found < 0 || (found == 0 && (rt->flags & API_AUTH))) {
            api_unauthorized(c);
            return;
        }
    }
    if (!rate_check(rt, c))
        return;
    if ((rt->flags & API_BODY) && api_body_parse(c) < 0)
        return;
    if ((rt->flags & API_BODY_LIST) && api_body_parse_list(c) < 0)
        return;
    rt->fn(c);
}

/* The HTTP handler of every route: udata is the route's table entry. */
static void dispatch(const http_request_t *req, http_response_t *res, void *udata)
{
    api_ctx_t c = {.req = req, .res = res};
    uint64_t t0 = access_log != NULL ? hearth_now_ms() : 0;

    atomic_fetch_add_explicit(&active, 1, memory_order_relaxed);
    run(udata, &c);
    json_decref(c.body);
    atomic_fetch_sub_explicit(&active, 1, memory_order_relaxed);
    if (access_log != NULL)
        access_log(req, c.status ? c.status : 200, hearth_now_ms() - t0);
}

int api_routes_add(http_router_t *r)
{
    const api_route_t *rt;
    char pattern[256];
    size_t p, t;
    int err;

    for (p = 0; p < sizeof(prefixes) / sizeof(prefixes[0]); p++) {
        for (t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
            for (rt = tables[t]; rt->fn != NULL; rt++) {
                snprintf(pattern, sizeof(pattern), "%s%s", prefixes[p], rt->pattern);
                err = http_router_add(r, rt->method, pattern, dispatch, (void *)rt);
                if (err)
                    return err;
            }
        }
    }
    return 0;
}
