/* Mounting the REST routes, and the dispatcher every one of them goes through.
 *
 * The resource files describe their routes in tables (api_route_t: method, pattern,
 * handler, flags). api_routes_add registers each under both prefixes with the one
 * dispatcher as the HTTP handler and the table entry as its udata, so what every
 * route has in common (authentication first, as Discord answers 401 before looking
 * at the body; then the body; the context the handler gets) lives in one place. */
#include "internal.h"

#include <stdio.h>

static const char *const prefixes[] = {"/api/v10", "/api"};

static const api_route_t *const tables[] = {
    api_auth_routes,  api_user_routes,    api_app_routes,     api_gateway_routes,
    api_guild_routes, api_channel_routes, api_message_routes, api_reaction_routes,
    api_invite_routes,
};

/* The HTTP handler of every route: udata is the route's table entry. */
static void dispatch(const http_request_t *req, http_response_t *res, void *udata)
{
    const api_route_t *rt = udata;
    api_ctx_t c = {.req = req, .res = res};
    int found;

    if (rt->flags & (API_AUTH | API_AUTH_OPT)) {
        found = api_auth(&c);
        if (found < 0 || (found == 0 && (rt->flags & API_AUTH))) {
            api_unauthorized(&c);
            return;
        }
    }
    if ((rt->flags & API_BODY) && api_body_parse(&c) < 0)
        return;
    rt->fn(&c);
    json_decref(c.body);
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
