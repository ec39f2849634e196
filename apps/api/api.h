/* The REST API: Discord API v10's HTTP routes on the HTTP edge (apps/http).
 *
 * api_routes_add mounts every route twice, under /api/v10 and under /api, on a router
 * the server builds before its listener starts. Each route's handler runs in the
 * HTTP layer's request process (a green thread): it authenticates the caller, checks
 * the body, and then
 *   - for writes to a guild or a private channel, asks the owning hub process
 *     (apps/hub/hub.h: hub_request), which serializes the write, waits for the durable
 *     commit and fans the event out, so a 200 means durable;
 *   - for reads, asks the hub whether the caller may see the thing
 *     (HUB_OP_CHECK_ACCESS) and then reads the store (apps/store/store.h) directly;
 *   - for what no hub owns (accounts, applications, new guilds), calls the store.
 * Answers are Discord-shaped: JSON bodies, 204 for empty successes, errors as
 * {"code", "message", "errors"} with Discord's codes and statuses.
 *
 * The store must be initialized (store_init) before the first request, and the hub
 * supervisor running for the routes that reach hubs. */
#ifndef HEARTH_APPS_API_H
#define HEARTH_APPS_API_H

#include "http/http.h"

#ifdef __cplusplus
extern "C" {
#endif

#define API_VERSION 1

/* Adds every REST route to r, under "/api/v10" and "/api". Call before the listener
 * starts. Returns 0, or HEARTH_EINVAL if a route was refused (a bug: the patterns are
 * constants). */
int api_routes_add(http_router_t *r);

/* An access log: called after each REST request with its method, target, the status
 * answered and how long it took. */
typedef void (*api_log_fn)(const http_request_t *req, int status, uint64_t ms);

/* Sets the access log (NULL: none, the default). Call before the listener starts. */
void api_log_set(api_log_fn fn);

/* How many REST requests are being handled right now (a draining server waits for
 * them to finish). */
size_t api_requests_active(void);

#ifdef __cplusplus
}
#endif
#endif /* HEARTH_APPS_API_H */
