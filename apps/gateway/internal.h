/* Private parts of apps/gateway: the session's state and the helpers its files share.
 *
 * How the files fit:
 *   gateway.c   the ws_handler_t: open, frames in (the ops), info (hub events, timers,
 *               the identify helper's answer), closed, adopt (RESUME), terminate
 *   identify.c  the identify helper (a short-lived green thread that does the blocking
 *               work: token, user, guilds, hubs) and READY
 *   send.c      writing: payload framing (JSON, ETF), zlib-stream, the resume buffer
 *
 * Memory: an idle identified session holds gw_t, its guild list and, only while it
 * has unacknowledged dispatches, the resume ring (pointers to the hubs' shared event
 * messages). Everything else (decoding, framing, compression output) uses per-thread
 * scratch space. */
#ifndef HEARTH_APPS_GATEWAY_INTERNAL_H
#define HEARTH_APPS_GATEWAY_INTERNAL_H

#include "gateway.h"

#include "hub/hub.h"
#include "ratelimit/ratelimit.h"

#include "hearth/server.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <zlib.h>

extern gateway_config_t gw__config;
/* Initializes once with defaults if gateway_init was not called. */
void gw__ensure_init(void);

/* Tags. */
#define GW_TAG_TIMER (GW_TAG_BASE + 1)      /* value = timer generation */
#define GW_TAG_IDENTIFIED (GW_TAG_BASE + 2) /* the helper's answer: gw_ident_res_t ... */
#define GW_TAG_HUBPID (GW_TAG_BASE + 3)     /* a hub found again: gw_hubpid_t */

/* Gateway opcodes. */
enum {
    GW_OP_DISPATCH = 0,
    GW_OP_HEARTBEAT = 1,
    GW_OP_IDENTIFY = 2,
    GW_OP_PRESENCE_UPDATE = 3,
    GW_OP_VOICE_STATE_UPDATE = 4,
    GW_OP_RESUME = 6,
    GW_OP_RECONNECT = 7,
    GW_OP_REQUEST_GUILD_MEMBERS = 8,
    GW_OP_INVALID_SESSION = 9,
    GW_OP_HELLO = 10,
    GW_OP_HEARTBEAT_ACK = 11,
};

/* Session states. */
enum { GW_HELLO = 0, GW_IDENTIFYING, GW_READY };

/* Flags. */
#define GW_F_BOT 0x01u
#define GW_F_PROBED 0x02u   /* a server HEARTBEAT was sent for the current gap */
#define GW_F_END 0x04u      /* end the session when the connection closes */
#define GW_F_WE_CLOSE 0x08u /* we started the close */
#define GW_F_DETACHED 0x10u /* no socket: waiting for a RESUME */
#define GW_F_LENIENT 0x20u  /* the last heartbeat answered a probe */

/* One guild the session is in. */
typedef struct gw_sub {
    uint64_t guild_id;
    hearth_pid_t hub; /* HEARTH_PID_NONE while being found again */
    uint64_t mon;
} gw_sub_t;

/* Until READY: what open and IDENTIFY learned that READY needs. */
typedef struct gw_pending {
    char url[280];    /* resume_gateway_url */
    char *activities; /* IDENTIFY's presence activities (JSON), or NULL */
} gw_pending_t;

/* A session. Kept small: see the file comment. */
typedef struct gw {
    uint64_t user_id;
    uint64_t intents;   /* effective */
    uint64_t token_tag; /* keyed hash of the token, to check a RESUME's */
    uint64_t sid[2];    /* session id, 128 random bits */
    uint64_t last_hb;   /* hearth_now_ms of the last heartbeat (or HELLO, a resume) */
    uint64_t detached_at;
    uint64_t timer;    /* the pending timer's ref, 0 if none */
    rl_window_t sends; /* the client's frames in the current 60 s window (gateway.c) */
    uint32_t seq;      /* the last sequence number sent */
    uint32_t floor;    /* a RESUME may start from seq >= floor */
    uint16_t tgen;     /* timer generation: stale timer messages are ignored */
    uint16_t shard_id, shard_count;
    uint16_t large_threshold;
    uint16_t nsubs, capsubs;
    uint8_t state;
    uint8_t form; /* HUB_FORM_JSON or HUB_FORM_ETF */
    uint8_t flags;
    char status[10]; /* presence status for new subscriptions */
    gw_sub_t *subs;
    z_stream *z; /* zlib-stream, or NULL */
    gw_pending_t *pending;
    /* The resume ring: kept event messages (ref = their seq, value = the event), oldest
     * first; NULL while empty. */
    hearth_msg_t **ring;
    uint32_t rhead, rn, rcap;
} gw_t;

/* ---- identify.c ------------------------------------------------------------------------------ */

/* The helper's answer: this, nguilds gw_guild_t, then the JSON text of
 * {"user", "application" (bots), "private_channels"}. */
typedef struct gw_ident_res {
    int32_t close_code; /* 0, or the close code to fail IDENTIFY with */
    uint32_t nguilds;
    uint64_t user_id;
    uint64_t intents; /* effective */
    uint32_t bot;
    uint32_t invalid_session; /* refused by the identify limiter: INVALID_SESSION */
} gw_ident_res_t;

typedef struct gw_guild {
    uint64_t guild_id;
    hearth_pid_t hub; /* HEARTH_PID_NONE: could not be reached */
} gw_guild_t;

typedef struct gw_hubpid {
    uint64_t guild_id;
    hearth_pid_t hub;
} gw_hubpid_t;

/* Starts the identify helper for IDENTIFY's d (validated: token is a string). Returns 0
 * or a negative code. */
int gw__identify_start(gw_t *s, const char *token, bool has_intents, uint64_t intents);
/* Handles the helper's answer: READY, directory, subscriptions. */
int gw__identified(ws_conn_t *c, gw_t *s, hearth_msg_t *m);
/* Finds guild_id's hub again (after its DOWN): GW_TAG_HUBPID comes back. */
void gw__refind_hub(uint64_t guild_id);
/* Subscribes to sub's hub (monitor, then HUB_TAG_SUBSCRIBE). */
void gw__subscribe(gw_t *s, gw_sub_t *sub);
/* The keyed hash of a token (after "Bot "). */
uint64_t gw__token_tag(const char *token);
/* A session's registered name: "session:<session_id>.<token tag, 16 hex digits>", so
 * a RESUME finds the session only with the token that identified it (another token
 * finds nothing: INVALID_SESSION, and the socket never reaches the session). out: 64
 * bytes. */
void gw__session_name(char *out, const char *sid, uint64_t token_tag);

/* ---- send.c
 * ------------------------------------------------------------------------------------------ */

/* Sends {"op": op, "d": d, "s": null, "t": null} (d taken; NULL: null). */
int gw__send_op(ws_conn_t *c, gw_t *s, int op, json_t *d);
/* Sends a dispatch: t, seq, and the encoded d bytes (in the session's form). */
int gw__send_dispatch(ws_conn_t *c, gw_t *s, const char *t, uint32_t seq, const void *d,
                      size_t dlen);
/* Sends a dispatch whose d is a document (encoded here). Takes d. */
int gw__send_dispatch_doc(ws_conn_t *c, gw_t *s, const char *t, uint32_t seq, json_t *d);
/* A dispatch for the resume ring and the socket: takes m (an event message: data/len
 * are d's bytes, value = its hub_event_t): numbers it, keeps it, sends it if the
 * socket is open. */
void gw__dispatch_msg(ws_conn_t *c, gw_t *s, hearth_msg_t *m);
/* A locally made dispatch of event ev (d taken) through the same path. */
void gw__dispatch_local(ws_conn_t *c, gw_t *s, hub_event_t ev, json_t *d);
/* Drops the ring's entries up to seq (acknowledged or replayed). */
void gw__ring_prune(gw_t *s, uint32_t upto);
/* Sends every kept dispatch after seq. */
void gw__ring_replay(ws_conn_t *c, gw_t *s, uint32_t after);
void gw__ring_free(gw_t *s);
/* zlib-stream: a new deflate stream, or NULL if it cannot be made. */
z_stream *gw__z_new(void);
void gw__z_free(z_stream *z);
/* Closes with code and Discord's reason text; end: the session ends with it. */
void gw__close(ws_conn_t *c, gw_t *s, int code, bool end);

/* A snowflake as a JSON string. */
json_t *gw__id_json(uint64_t id);

/* Decodes a client payload in the session's form: a new object, or NULL. */
json_t *gw__decode(gw_t *s, int opcode, const void *data, size_t len);

#endif /* HEARTH_APPS_GATEWAY_INTERNAL_H */
