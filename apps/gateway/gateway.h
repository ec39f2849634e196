/* The Discord-compatible WebSocket gateway: one session per connection, hosted by the
 * HTTP edge's connection process (apps/http: a ws_handler_t).
 *
 * The server routes the gateway's paths to it and starts the hub tree before
 * listening:
 *
 *     gateway_init(NULL);                                   (optional: defaults)
 *     http_router_ws(router, "/", &gateway_ws_handler, NULL);
 *     http_router_ws(router, "/gateway", &gateway_ws_handler, NULL);
 *     ... hub_sup_child_start (apps/hub/hub.h) as a child of the top supervisor ...
 *     on SIGTERM: gateway_drain();  then stop the tree
 *
 * Protocol (Discord API v10): query v=10 (missing means 10; anything else closes with
 * 4012), encoding=json|etf (else 4002), compress=zlib-stream (one deflate stream per
 * connection, every message flushed with Z_SYNC_FLUSH and sent as a binary frame;
 * other values are ignored: plain frames). HELLO on open; IDENTIFY -> READY, then one
 * GUILD_CREATE per guild from the hubs' snapshots; HEARTBEAT -> HEARTBEAT_ACK; RESUME
 * -> the missed dispatches, then RESUMED; PRESENCE_UPDATE (op 3) to every hub the
 * session is in; REQUEST_GUILD_MEMBERS (op 8) -> GUILD_MEMBERS_CHUNK from the guild's
 * hub; VOICE_STATE_UPDATE (op 4) is accepted and ignored (no voice yet). Close codes
 * are Discord's 4000-4014.
 *
 * Limits: a connection may send 120 frames (heartbeats included) per 60 s; the next
 * one closes it with 4008 (the session stays resumable). A bot's IDENTIFY goes through
 * the identify limiter (apps/ratelimit's process, RL_SERVER_NAME, when it runs:
 * max_concurrency buckets of one identify per 5 s, and the daily session starts);
 * refused, it gets INVALID_SESSION (d false) and may identify again on the same
 * connection.
 *
 * Choices where Discord leaves room (see gateway.c's comment for the rest):
 *   - Missed heartbeats: a server HEARTBEAT (op 1, the request Discord's clients
 *     answer at once) is sent when none came for 1.25 intervals, and the connection is
 *     closed with 4009 after 1.5 intervals of silence, or one interval after a
 *     heartbeat that only answered such a request (a client that never heartbeats on
 *     its own is as good as silent). Clients treat 4009 as "reconnect"; the session
 *     stays resumable for the resume window anyway, since it is the connection that
 *     failed. No IDENTIFY within 1.5 intervals of HELLO also closes with 4009.
 *   - RESUME finds its session by session_id and the token's keyed hash together
 *     (the registered name is "session:<session_id>.<tag>"): another token gets
 *     INVALID_SESSION, and its socket never reaches the session.
 *   - Privileged intents (GUILD_PRESENCES, GUILD_MEMBERS, MESSAGE_CONTENT) for bots:
 *     allowed if the application has the matching flag (full or _LIMITED), or, under
 *     the default policy, while the bot is in fewer than 100 guilds (Discord lets such
 *     unverified bots switch them on freely; its portal toggle is not modeled here).
 *     GW_PRIVILEGED_FLAGS_ONLY requires the flags. Else 4014. User accounts are not
 *     gated: their sessions get every intent (all of them when IDENTIFY has none).
 *   - Bots must send intents (4013 otherwise); bits beyond the known ones: 4013.
 *   - Sharding: shard [id, count] with 0 <= id < count (else 4010); a session gets the
 *     guilds with (guild_id >> 22) % count == id, and private channels on shard 0 only;
 *     a bot in more than 2500 guilds without shards: 4011.
 *   - ETF: snowflakes travel as strings (Discord: "64-bit integers or strings").
 *   - The resume window after a connection drops: 60 s; a client closing with 1000 or
 *     1001 ends its session at once, as on Discord. */
#ifndef HEARTH_APPS_GATEWAY_H
#define HEARTH_APPS_GATEWAY_H

#include "http/http.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GATEWAY_API_VERSION 1

/* Message tags GW_TAG_BASE .. +0xFF are the gateway's own ("GW"). */
#define GW_TAG_BASE 0x47570000u

enum gw_privileged_policy {
    GW_PRIVILEGED_SMALL_BOTS = 0, /* flags, or fewer than 100 guilds (the default) */
    GW_PRIVILEGED_FLAGS_ONLY = 1, /* the application's flags only */
};

/* Settings; zero fields take the defaults. */
typedef struct gateway_config {
    uint32_t heartbeat_interval_ms; /* HELLO's heartbeat_interval: 41250 */
    uint32_t resume_window_ms;      /* a dropped session waits this long: 60000 */
    uint32_t resume_max_events;     /* dispatches kept for a resume: 4096 */
    int privileged_policy;          /* enum gw_privileged_policy */
    int zlib_level;                 /* 1..9: 5 */
    int zlib_window_bits;           /* 9..15: 12 (memory per compressed connection) */
    int zlib_mem_level;             /* 1..9: 4 */
} gateway_config_t;

/* Sets the configuration (copied) and the process-wide secrets (the key that tags
 * tokens for RESUME checks). Call before the listener starts, or not at all: the first
 * connection initializes with the defaults. Returns 0 (-1 if libsodium cannot start). */
int gateway_init(const gateway_config_t *cfg);

/* The handler to route the gateway's paths to (udata unused). */
extern const ws_handler_t gateway_ws_handler;

/* Draining (SIGTERM): every identified session is sent RECONNECT (op 7) and its
 * connection closed (1012), so clients resume elsewhere or after the restart. Callable
 * from any thread. Returns 0 or HEARTH_ENOENT (no hub tree). */
int gateway_drain(void);

#ifdef __cplusplus
}
#endif
#endif /* HEARTH_APPS_GATEWAY_H */
