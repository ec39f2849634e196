/* GET /gateway and GET /gateway/bot: where the WebSocket gateway is.
 *
 * The URL is ws://<the Host header the client used>, so whatever address a client
 * reached the REST API by (127.0.0.1:8080, a LAN name, a port forward) also reaches
 * the gateway, which shares the port. discord.js appends "?v=10&encoding=json" and
 * connects to "/", which the server routes to the gateway as well as "/gateway".
 * There is one shard and no session start limit to speak of: the numbers are
 * Discord's defaults for a small bot. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

/* ws://<Host> into out; a Host with anything but host-name characters is replaced by
 * "localhost" (it is echoed into JSON and into clients' connections). */
static void gateway_url(const api_ctx_t *c, char *out, size_t size)
{
    const char *host = http_request_header(c->req, "Host");
    size_t n;

    if (host != NULL) {
        n = strlen(host);
        if (n == 0 || n > 255 ||
            strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]_") !=
                n)
            host = NULL;
    }
    snprintf(out, size, "ws://%s", host != NULL ? host : "localhost");
}

static void gateway_get(api_ctx_t *c)
{
    char url[300];

    gateway_url(c, url, sizeof(url));
    api_json(c, 200, json_pack("{s:s}", "url", url));
}

static void gateway_bot(api_ctx_t *c)
{
    char url[300];

    gateway_url(c, url, sizeof(url));
    api_json(c, 200,
             json_pack("{s:s, s:i, s:{s:i, s:i, s:i, s:i}}", "url", url, "shards", 1,
                       "session_start_limit", "total", 1000, "remaining", 1000, "reset_after",
                       14400000, "max_concurrency", 1));
}

const api_route_t api_gateway_routes[] = {
    {"GET", "/gateway", gateway_get, 0},
    {"GET", "/gateway/bot", gateway_bot, API_AUTH},
    {NULL, NULL, NULL, 0},
};
