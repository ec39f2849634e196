/* Mounting the REST routes, and the dispatcher every one of them goes through.
 *
 * The resource files describe their routes in tables (api_route_t: method, pattern,
 * handler, flags). api_routes_add registers each under both prefixes with the one
 * dispatcher as the HTTP handler and the table entry as its udata, so what every
 * route has in common (authentication first, as Discord answers 401 before looking
 * at the body; then the body; the context the handler gets) lives in one place. */
#include "internal.h"

#include <stdatomic.h>
#include <stdio.h>

static const char *const prefixes[] = {"/api/v10", "/api"};

static const api_route_t *const tables[] = {
    api_auth_routes,    api_user_routes,     api_app_routes,
    api_gateway_routes, api_guild_routes,    api_channel_routes,
    api_message_routes, api_reaction_routes, api_invite_routes,
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

/* Runs the route: authentication first (Discord answers 401 before it looks at the
 * body), then the body, then the handler. */
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
    if ((rt->flags & API_BODY) && api_body_parse(c) < 0)
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
