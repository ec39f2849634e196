/* Hubs: the processes that own a guild's (or a private channel's) live state and the
 * sessions subscribed to it. The contract between the REST API (apps/api), the gateway
 * (apps/gateway) and the hubs (apps/hub).
 *
 * One hub process per active guild ("guild:<id>" in the registry) and one per active DM
 * or group DM channel ("dm:<channel_id>"), started on demand by hub_pid under the hub
 * supervisor, loaded from the store, stopped when idle. A hub:
 *   - serializes every write to its guild: it assigns the ids (through the store), waits
 *     for the durable commit, then fans the event out, so every session receives a
 *     channel's events in the order of their ids, and a REST 200 means durable;
 *   - checks access from its cached state (membership now; the full permission model
 *     with roles and overwrites comes with issue 4, in the same place);
 *   - encodes each event once per wire form (JSON or ETF, with or without message
 *     content) into an immutable shared payload (hearth_payload_t) and sends that same
 *     buffer to every subscribed session allowed to see it (intents), never re-encoding
 *     per receiver.
 *
 * Writes from REST: a request process (a green thread) calls hub_request(), which is a
 * hearth_call to the hub. Reads (message history, member lists, ...) go straight to the
 * store from the request process after hub_request(HUB_OP_CHECK_ACCESS).
 *
 * Sessions (gateway connection processes, event processes) subscribe with
 * HUB_TAG_SUBSCRIBE messages and receive events as HUB_TAG_EVENT messages. */
#ifndef HEARTH_APPS_HUB_H
#define HEARTH_APPS_HUB_H

#include "hearth/hearth.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Message tags HUB_TAG_BASE .. +0xFF are the hubs' ("HB"). */
#define HUB_TAG_BASE 0x48420000u

/* ---- requests (from green threads: REST request processes, admin tools) -------------- */

typedef enum hub_op {
    /* Access: args {"channel_id"} (optional: guild-level when absent). Succeeds (empty
     * body) if the actor may see it; else 403/50001 or 404/10003/10004. */
    HUB_OP_CHECK_ACCESS = 1,
    /* Messages. args: the Discord request body plus "channel_id" (and "message_id"
     * for edit/delete). Results: the message object (create, edit), nothing (204). */
    HUB_OP_MESSAGE_CREATE,
    HUB_OP_MESSAGE_EDIT,
    HUB_OP_MESSAGE_DELETE,
    HUB_OP_MESSAGE_BULK_DELETE, /* {"channel_id", "messages": [ids]} */
    /* Reactions: {"channel_id", "message_id", "emoji" (as in the URL, decoded: "👍" or
     * "name:id"), "user_id" (for others' reactions)}. */
    HUB_OP_REACTION_ADD,
    HUB_OP_REACTION_REMOVE_OWN,
    HUB_OP_REACTION_REMOVE_USER,
    HUB_OP_REACTION_REMOVE_ALL,
    HUB_OP_REACTION_REMOVE_EMOJI,
    HUB_OP_TYPING, /* {"channel_id"} */
    /* Channels: create {"name", "type", ...} in the guild; modify/delete {"channel_id",
     * ...}. */
    HUB_OP_CHANNEL_CREATE,
    HUB_OP_CHANNEL_MODIFY,
    HUB_OP_CHANNEL_DELETE,
    /* The guild: modify (body), delete (owner only). */
    HUB_OP_GUILD_MODIFY,
    HUB_OP_GUILD_DELETE,
    /* Members: add {"user_id"} (invite accept, bot authorize: the actor is the one
     * joining or the manager adding a bot), remove {"user_id"} (leave when it is the
     * actor, else kick), modify {"user_id", "nick", "roles", ...}. */
    HUB_OP_MEMBER_ADD,
    HUB_OP_MEMBER_REMOVE,
    HUB_OP_MEMBER_MODIFY,
    /* Invites: create {"channel_id", "max_age", "max_uses", ...} -> invite; delete
     * {"code"} -> invite. */
    HUB_OP_INVITE_CREATE,
    HUB_OP_INVITE_DELETE,
    /* Roles (the permissions issue fills these in): create, modify {"role_id"},
     * delete {"role_id"}, positions {"positions": [...]}. */
    HUB_OP_ROLE_CREATE,
    HUB_OP_ROLE_MODIFY,
    HUB_OP_ROLE_DELETE,
    HUB_OP_ROLE_POSITIONS,
} hub_op_t;

/* A request's outcome, shaped for an HTTP response: status 200 with body (a JSON value
 * the caller owns), 204 without, or an error with Discord's code and message (and,
 * for 50035, the "errors" object in body). */
typedef struct hub_result {
    int status;
    int code;          /* Discord JSON error code, 0 on success */
    char message[128]; /* Discord's text: "Unknown Channel", "Missing Access", ... */
    json_t *body;      /* owned by the caller: json_decref it (NULL if none) */
} hub_result_t;

/* Which hub: a guild id, or for a channel id, the guild it belongs to or its own
 * private-channel hub (the hub layer resolves it through the store). */
typedef enum hub_scope { HUB_GUILD = 1, HUB_CHANNEL } hub_scope_t;

/* Runs op for actor_user_id on the hub of (scope, id), starting the hub if needed, and
 * waits (at most timeout_ms; 0: 10 s) for its outcome. args is borrowed. Always fills
 * *out (a 404 with 10003/10004 if there is no such channel or guild, 503 if the hub
 * could not be reached). Green threads and attached threads only. */
void hub_request(hub_scope_t scope, uint64_t id, hub_op_t op, uint64_t actor_user_id,
                 const json_t *args, int64_t timeout_ms, hub_result_t *out);

/* The pid of guild_id's hub (or channel_id's private hub), starting it if needed.
 * Returns 0, HEARTH_ENOENT if the store has no such guild/channel, or another error. */
int hub_guild_pid(uint64_t guild_id, hearth_pid_t *out);
int hub_private_pid(uint64_t channel_id, hearth_pid_t *out);

void hub_result_clear(hub_result_t *r);

/* ---- sessions (gateway connection processes) ------------------------------------------ */

/* Wire forms a session can take an event in. A hub encodes each form at most once per
 * event, and only if some subscriber wants it. */
#define HUB_FORM_JSON 0x1u
#define HUB_FORM_ETF 0x2u

/* A session asks to receive a hub's events (message to the hub's pid; the bytes are a
 * hub_subscribe_t). The hub monitors the session, and answers with HUB_TAG_SNAPSHOT:
 * the GUILD_CREATE (or CHANNEL_CREATE for private hubs) "d" object, encoded in the
 * session's form, as a shared payload. It then sends every event the session may see
 * as HUB_TAG_EVENT. */
#define HUB_TAG_SUBSCRIBE (HUB_TAG_BASE + 1)
#define HUB_TAG_UNSUBSCRIBE (HUB_TAG_BASE + 2) /* value = 0; from = the session */
#define HUB_TAG_SNAPSHOT (HUB_TAG_BASE + 3)
/* An event for a session: data/len = the encoded "d" of a dispatch (the hub's shared
 * payload; the session adds op, s and t around it so one buffer serves every
 * session), value = the hub_event_t, ref = the hub's guild or channel id. */
#define HUB_TAG_EVENT (HUB_TAG_BASE + 4)
/* A session's presence change for the hubs it is in: bytes = a hub_presence_t
 * followed by the activities JSON; the hub fans PRESENCE_UPDATE out. */
#define HUB_TAG_PRESENCE (HUB_TAG_BASE + 5)

typedef struct hub_subscribe {
    uint64_t user_id;
    uint64_t intents;  /* Discord gateway intents bitfield */
    unsigned form;     /* HUB_FORM_JSON or HUB_FORM_ETF */
    uint64_t ref;      /* echoed in the snapshot's ref */
} hub_subscribe_t;

/* Dispatch event names, by number (hub_event_name gives "MESSAGE_CREATE", ...). */
typedef enum hub_event {
    HUB_EV_GUILD_CREATE = 1,
    HUB_EV_GUILD_UPDATE,
    HUB_EV_GUILD_DELETE,
    HUB_EV_CHANNEL_CREATE,
    HUB_EV_CHANNEL_UPDATE,
    HUB_EV_CHANNEL_DELETE,
    HUB_EV_GUILD_MEMBER_ADD,
    HUB_EV_GUILD_MEMBER_UPDATE,
    HUB_EV_GUILD_MEMBER_REMOVE,
    HUB_EV_GUILD_ROLE_CREATE,
    HUB_EV_GUILD_ROLE_UPDATE,
    HUB_EV_GUILD_ROLE_DELETE,
    HUB_EV_MESSAGE_CREATE,
    HUB_EV_MESSAGE_UPDATE,
    HUB_EV_MESSAGE_DELETE,
    HUB_EV_MESSAGE_DELETE_BULK,
    HUB_EV_MESSAGE_REACTION_ADD,
    HUB_EV_MESSAGE_REACTION_REMOVE,
    HUB_EV_MESSAGE_REACTION_REMOVE_ALL,
    HUB_EV_MESSAGE_REACTION_REMOVE_EMOJI,
    HUB_EV_TYPING_START,
    HUB_EV_PRESENCE_UPDATE,
    HUB_EV_INVITE_CREATE,
    HUB_EV_INVITE_DELETE,
} hub_event_t;

const char *hub_event_name(hub_event_t ev);

typedef struct hub_presence {
    uint64_t user_id;
    char status[16]; /* "online", "idle", "dnd", "offline" (invisible is sent as offline) */
} hub_presence_t;

#ifdef __cplusplus
}
#endif
#endif /* HEARTH_APPS_HUB_H */
