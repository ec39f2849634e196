/* Helpers for the hub and gateway tests (test/test-hub*.c, test/test-gateway*.c):
 *
 *   - a test environment: the runtime, a store on a temporary directory, the hub tree
 *     and an HTTP listener on 127.0.0.1 with only the gateway's routes ("/" and
 *     "/gateway"), plus a store connection of the test thread's own for fixtures;
 *   - a minimal blocking WebSocket client (the test thread is its only user): the
 *     upgrade, masked frames out, frames in with a timeout, and the gateway's wire
 *     forms decoded into jansson (JSON text, ETF, zlib-stream);
 *   - fixtures: users with tokens, a bot of an application, a guild.
 * Defined in test/test-gateway-client.c. */
#ifndef HEARTH_TEST_GATEWAY_H
#define HEARTH_TEST_GATEWAY_H

#include "task.h"
#include "test-store.h"

#include "gateway/gateway.h"
#include "http/http.h"
#include "hub/hub.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <zlib.h>

/* ---- the environment ------------------------------------------------------------------------- */

typedef struct gwt_env {
    char dir[64];
    store_t *db; /* the test thread's own connection */
    http_router_t *router;
    http_server_t srv;
    hearth_pid_t hubs;
    int port;
} gwt_env_t;

/* Starts everything. cfg and hcfg may be NULL (defaults). */
void gwt_start(gwt_env_t *e, const gateway_config_t *cfg, const hub_config_t *hcfg);
/* Stops the runtime and removes the directory. */
void gwt_stop(gwt_env_t *e);

/* ---- fixtures
 * ------------------------------------------------------------------------------------ */

/* A user with a token (token: STORE_TOKEN_SIZE bytes); returns its id. */
uint64_t gwt_user(gwt_env_t *e, const char *name, char *token);
/* An application owned by owner with a bot; the bot's token; returns the bot's id. */
uint64_t gwt_bot(gwt_env_t *e, uint64_t owner, const char *name, char *token);

/* ---- the client
 * ------------------------------------------------------------------------------------ */

typedef struct gwc {
    int fd;
    unsigned char *buf; /* bytes read and not yet taken */
    size_t len, cap;
    bool etf;  /* encoding=etf */
    bool zlib; /* compress=zlib-stream */
    z_stream inf;
    int close_code; /* the server's close code once closed (0: open) */
    int last_opcode;
    uint32_t seq; /* the last "s" seen */
} gwc_t;

/* Connects to 127.0.0.1:port and upgrades GET target ("/?v=10&encoding=json"). The
 * encoding and compression are read from target. Asserts on failure. */
void gwc_connect(gwc_t *c, int port, const char *target);
/* Sends a text (or, in ETF mode, the ETF encoding as binary) payload built from v
 * (taken). */
void gwc_send(gwc_t *c, json_t *v);
/* Sends raw bytes as one frame of opcode (1 text, 2 binary, 8 close). */
void gwc_send_frame(gwc_t *c, int opcode, const void *data, size_t len);
/* The next payload, decoded (the caller's reference), or NULL after timeout_ms or when
 * the server closed (c->close_code then says how). Tracks c->seq. */
json_t *gwc_recv(gwc_t *c, int timeout_ms);
/* The next payload whose "t" is t (others skipped), or NULL. */
json_t *gwc_wait(gwc_t *c, const char *t, int timeout_ms);
/* Waits for the close frame and returns its code (0 if none came in time). */
int gwc_wait_close(gwc_t *c, int timeout_ms);
/* Drops the TCP connection without a close frame. */
void gwc_drop(gwc_t *c);
/* Sends a close frame with code, then drops. */
void gwc_close(gwc_t *c, int code);

/* HELLO, then IDENTIFY with token and intents (intents < 0: none sent); returns READY
 * (the caller's), after asserting HELLO. */
json_t *gwc_identify(gwc_t *c, const char *token, int64_t intents);

/* Reads fields. */
const char *gwj_s(const json_t *o, const char *path); /* "d.user.id" */
long long gwj_i(const json_t *o, const char *path);
json_t *gwj(const json_t *o, const char *path); /* borrowed */

/* A hub_request from the test thread, asserting the status; returns the body (the
 * caller's) or NULL. */
json_t *gwt_req(hub_scope_t scope, uint64_t id, hub_op_t op, uint64_t actor, json_t *args,
                int status);
/* Same, returning the whole result (clear it). */
void gwt_req_full(hub_scope_t scope, uint64_t id, hub_op_t op, uint64_t actor, json_t *args,
                  hub_result_t *r);

/* The id of a process registered under name, waiting up to ms for it. */
hearth_pid_t gwt_whereis(const char *name, int ms);

#endif /* HEARTH_TEST_GATEWAY_H */
