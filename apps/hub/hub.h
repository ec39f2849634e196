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
 *   - checks permissions from its cached state: Discord's model (apps/perm: roles,
 *     channel overwrites, owner and ADMINISTRATOR, timeouts, the role hierarchy) in a
 *     perm_cache_t it keeps current with every role, channel, member and owner change;
 *   - runs the guild's auto-moderation rules (apps/automod) on every message;
 *   - records moderation in the audit log (apps/store/moderation.h);
 *   - encodes each event once per wire form (JSON or ETF, with or without message
 *     content) into an immutable shared payload (hearth_payload_t) and sends that same
 *     buffer to every subscribed session allowed to see it (intents; for a channel's
 *     events, VIEW_CHANNEL there), never re-encoding per receiver.
 *
 * Permissions. Each op below names what the actor needs. Not a member of the guild, or
 * a channel the actor cannot see (no VIEW_CHANNEL): 403 with 50001 "Missing Access".
 * Seeing it but lacking a permission, or acting on a role or member at or above the
 * actor's highest role (the owner is above all; nobody acts on the owner): 403 with
 * 50013 "Missing Permissions". A timed-out member (communication_disabled_until in the
 * future) keeps only VIEW_CHANNEL and READ_MESSAGE_HISTORY until it ends, as on
 * Discord, so it cannot send, react or type (50013). GUILD_CREATE snapshots list every
 * channel with its overwrites, as Discord's do (clients compute what they show); the
 * events of a channel (messages, reactions, typing) and its history reach only those
 * who may view it.
 *
 * Audit log reasons: ops that write the audit log take "reason" in args (the
 * X-Audit-Log-Reason header, URL-decoded; at most 512 characters, longer ones are cut).
 * Each entry is also sent as GUILD_AUDIT_LOG_ENTRY_CREATE to the sessions with the
 * GUILD_MODERATION intent whose user has VIEW_AUDIT_LOG.
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
    /* Access: args {"channel_id"} (optional: guild-level when absent), and optionally
     *   "history": true   the actor must also have READ_MESSAGE_HISTORY there (message
     *                     history reads: GET messages, GET a message; Discord answers a
     *                     list without it with an empty array, a single message with
     *                     403/50013);
     *   "need": "<bits>"  the actor must also have these permission bits (a decimal
     *                     string, or an integer), in the channel or at guild level:
     *                     for REST reads of moderation data, e.g. BAN_MEMBERS (1 << 2)
     *                     for GET bans, VIEW_AUDIT_LOG (1 << 7) for GET audit-logs,
     *                     MANAGE_GUILD (1 << 5) for GET invites of the guild;
     *   "permissions": true  answer 200 with {"permissions": "<bits>"}: the actor's
     *                     computed permissions in the channel (or the guild).
     * Succeeds with 204 (no body) if the actor may see it; else 404/10003/10004,
     * 403/50001 (not a member, or no VIEW_CHANNEL), 403/50013 (history or need).
     * Private channels: their recipients may see them and have every permission. */
    HUB_OP_CHECK_ACCESS = 1,
    /* Messages. args: the Discord request body plus "channel_id" (and "message_id"
     * for edit/delete). Results: the message object (create, edit), nothing (204).
     * Create needs VIEW_CHANNEL and SEND_MESSAGES (which a timed-out member lacks:
     * 50013); a reply also READ_MESSAGE_HISTORY (403/160002); without MENTION_EVERYONE
     * "@everyone"/"@here" do not ping (mention_everyone false) and roles that are not
     * mentionable are not mentioned; without SEND_TTS_MESSAGES tts is false. The
     * guild's auto-moderation rules run on create and on a content edit (members with
     * MANAGE_GUILD or ADMINISTRATOR are exempt): a BLOCK_MESSAGE action answers 400
     * with code 200000 "Message was blocked by automatic moderation" and nothing is
     * stored; alerts and timeouts are carried out either way (see the AUTOMOD ops).
     * Edit: the author only (50005). Delete: the author, or MANAGE_MESSAGES. Bulk
     * delete: MANAGE_MESSAGES. */
    HUB_OP_MESSAGE_CREATE,
    HUB_OP_MESSAGE_EDIT,
    HUB_OP_MESSAGE_DELETE,
    HUB_OP_MESSAGE_BULK_DELETE, /* {"channel_id", "messages": [ids]} */
    /* Reactions: {"channel_id", "message_id", "emoji" (as in the URL, decoded: "👍" or
     * "name:id"), "user_id" (for others' reactions)}. Add needs READ_MESSAGE_HISTORY,
     * and ADD_REACTIONS unless that emoji is on the message already (a timed-out member
     * cannot react at all); removing others' reactions (REMOVE_USER of another user,
     * REMOVE_ALL, REMOVE_EMOJI) needs MANAGE_MESSAGES. */
    HUB_OP_REACTION_ADD,
    HUB_OP_REACTION_REMOVE_OWN,
    HUB_OP_REACTION_REMOVE_USER,
    HUB_OP_REACTION_REMOVE_ALL,
    HUB_OP_REACTION_REMOVE_EMOJI,
    HUB_OP_TYPING, /* {"channel_id"}: SEND_MESSAGES */
    /* Channels: create {"name", "type", ..., "permission_overwrites"} in the guild;
     * modify/delete {"channel_id", ...}. All need MANAGE_CHANNELS (modify and delete:
     * in that channel); overwrites given on create or modify also need MANAGE_ROLES,
     * and may allow or deny only bits the actor has (any, for an administrator).
     * Audited (CHANNEL_CREATE/UPDATE/DELETE, with "reason"). */
    HUB_OP_CHANNEL_CREATE,
    HUB_OP_CHANNEL_MODIFY,
    HUB_OP_CHANNEL_DELETE,
    /* The guild: modify (body; MANAGE_GUILD, and "owner_id" only by the owner; audited
     * GUILD_UPDATE), delete (owner only). */
    HUB_OP_GUILD_MODIFY,
    HUB_OP_GUILD_DELETE,
    /* Members: add {"user_id"} (invite accept, bot authorize: the actor is the one
     * joining, or one with MANAGE_GUILD adding a bot), remove {"user_id", "reason"}
     * (leave when it is the actor, else a kick: KICK_MEMBERS and the hierarchy, audited
     * MEMBER_KICK), modify {"user_id", "nick", "roles", "mute", "deaf",
     * "communication_disabled_until", "reason"}.
     * Add with {"user_id", "code"} accepts invite "code" for user_id (the use is
     * counted and the member added atomically; 404/10006 if unknown or expired) and
     * answers 200 with the invite; without "code" it answers 201 with the member, or
     * 204 if user_id was a member already. A banned user is refused either way: 403
     * with 40007 "The user is banned from this guild.". The user's live sessions that
     * are not in the guild yet start receiving it (GUILD_CREATE): so after creating a
     * guild in the store, REST calls MEMBER_ADD for its owner (actor = owner).
     * A bot added by another with "permissions" (a decimal string or integer; the
     * OAuth2 authorize's) gets its managed role with them, as on Discord: named after
     * it, "managed": true, "tags": {"bot_id"}, in the same transaction, announced by
     * GUILD_ROLE_CREATE before GUILD_MEMBER_ADD; they must be the actor's own
     * (403/50013). The role goes with the bot's membership (leave, kick, ban:
     * GUILD_ROLE_DELETE after GUILD_MEMBER_REMOVE).
     * Modify: nick needs CHANGE_NICKNAME for oneself, MANAGE_NICKNAMES for others;
     * roles MANAGE_ROLES, and every role given or taken below the actor's highest and
     * not managed (403/50013);
     * mute MUTE_MEMBERS, deaf DEAFEN_MEMBERS; communication_disabled_until (an ISO 8601
     * time at most 28 days ahead, or null to lift it) MODERATE_MEMBERS, and never on an
     * administrator. Changing another member needs the hierarchy (above it). Answers
     * 200 with the member; GUILD_MEMBER_UPDATE; audited MEMBER_UPDATE (nick, mute, deaf,
     * timeout) and MEMBER_ROLE_UPDATE (roles, as $add/$remove). */
    HUB_OP_MEMBER_ADD,
    HUB_OP_MEMBER_REMOVE,
    HUB_OP_MEMBER_MODIFY,
    /* Invites: create {"channel_id", "max_age", "max_uses", ...} -> invite
     * (CREATE_INSTANT_INVITE there); delete {"code"} -> invite (its inviter, or
     * MANAGE_CHANNELS in its channel, or MANAGE_GUILD). INVITE_CREATE/DELETE reach the
     * sessions with MANAGE_CHANNELS in the channel, as on Discord. */
    HUB_OP_INVITE_CREATE,
    HUB_OP_INVITE_DELETE,
    /* Roles: all need MANAGE_ROLES, and a role the actor changes, deletes or moves must
     * be below its highest role (the owner may do anything); permissions given to a role
     * must be ones the actor has (any, for an administrator). Each answers as Discord's
     * endpoint does and sends GUILD_ROLE_CREATE/UPDATE/DELETE ({"guild_id", "role"} or
     * {"guild_id", "role_id"}), one GUILD_ROLE_UPDATE per role whose position moved.
     *   create {"name", "permissions", "color", "hoist", "mentionable", "icon",
     *          "unicode_emoji", "reason"} -> 200 role (at position 1); ROLE_CREATE
     *   modify {"role_id", the same fields, "position", "reason"} -> 200 role;
     *          404/10011 unknown; ROLE_UPDATE
     *   delete {"role_id", "reason"} -> 204; @everyone or a managed role: 400/50028;
     *          ROLE_DELETE
     *   positions {"positions": [{"id", "position"}, ...]} -> 200 every role */
    HUB_OP_ROLE_CREATE,
    HUB_OP_ROLE_MODIFY,
    HUB_OP_ROLE_DELETE,
    HUB_OP_ROLE_POSITIONS,
    /* ---- added with the permissions and moderation issue -------------------------- */
    /* A member's role: {"user_id", "role_id", "reason"} (PUT and DELETE
     * /guilds/{id}/members/{user}/roles/{role}). MANAGE_ROLES, the role below the
     * actor's highest and not managed (403/50013), and the hierarchy over the member
     * unless it is the actor.
     * 204; GUILD_MEMBER_UPDATE when it changed; audited MEMBER_ROLE_UPDATE. 404/10007
     * unknown member, 404/10011 unknown role (or @everyone). */
    HUB_OP_MEMBER_ROLE_ADD,
    HUB_OP_MEMBER_ROLE_REMOVE,
    /* A channel's permission overwrite (PUT and DELETE
     * /channels/{id}/permissions/{overwrite}): {"channel_id", "overwrite_id", "type" (0
     * role, 1 member), "allow", "deny" (decimal strings; absent: 0), "reason"}; delete
     * takes {"channel_id", "overwrite_id", "reason"}. MANAGE_ROLES in the channel, and
     * only bits the actor has there may be allowed or denied (any, for an
     * administrator). 204; CHANNEL_UPDATE; audited CHANNEL_OVERWRITE_CREATE/UPDATE/
     * DELETE. A role overwrite names a role of the guild (else 404/10011), a member one
     * a member (404/10007); bad fields: 400/50035. */
    HUB_OP_OVERWRITE_PUT,
    HUB_OP_OVERWRITE_DELETE,
    /* Bans (PUT and DELETE /guilds/{id}/bans/{user}): add {"user_id",
     * "delete_message_seconds" (0..604800; or the older "delete_message_days" 0..7),
     * "reason"}, remove {"user_id", "reason"}. BAN_MEMBERS, and over a member the
     * hierarchy (nobody bans the owner or oneself). Add answers 204 (also when banned
     * already); it ends the membership (GUILD_MEMBER_REMOVE, the user's sessions get
     * GUILD_DELETE), deletes the user's recent messages (MESSAGE_DELETE_BULK per
     * channel), sends GUILD_BAN_ADD ({"guild_id", "user"}, intent GUILD_MODERATION) and
     * is audited MEMBER_BAN_ADD. Remove answers 204, or 404/10026 "Unknown Ban";
     * GUILD_BAN_REMOVE; audited MEMBER_BAN_REMOVE. A banned user's MEMBER_ADD fails
     * (40007). Listing and reading bans: store_ban_list/store_ban_get
     * (apps/store/moderation.h) after CHECK_ACCESS with "need" BAN_MEMBERS. */
    HUB_OP_BAN_ADD,
    HUB_OP_BAN_REMOVE,
    /* Auto-moderation rules (/guilds/{id}/auto-moderation/rules): all need
     * MANAGE_GUILD; a rule with a TIMEOUT action also needs MODERATE_MEMBERS.
     *   list {} -> 200 array of rules
     *   get {"rule_id"} -> 200 rule
     *   create {the rule's fields, "reason"} -> 200 rule (creator = actor)
     *   modify {"rule_id", the fields to change, "reason"} -> 200 rule
     *   delete {"rule_id", "reason"} -> 204
     * Bodies are validated by apps/automod (400/50035 with its field errors, also for
     * a guild at its limit of rules of a trigger type); an unknown rule answers 404
     * with code 0 "404: Not Found". Writes send AUTO_MODERATION_RULE_CREATE/UPDATE/
     * DELETE (the rule) to the sessions with the AUTO_MODERATION_CONFIGURATION intent
     * whose user has MANAGE_GUILD, and are audited AUTO_MODERATION_RULE_*.
     * When a rule fires on a message: BLOCK_MESSAGE -> the message op answers 400/200000
     * (audited AUTO_MODERATION_BLOCK_MESSAGE); SEND_ALERT_MESSAGE -> a type 24 message
     * in the action's channel authored by the flagged user (audited
     * AUTO_MODERATION_FLAG_TO_CHANNEL); TIMEOUT -> the author's
     * communication_disabled_until is set (GUILD_MEMBER_UPDATE; audited
     * AUTO_MODERATION_USER_COMMUNICATION_DISABLED); and per action an
     * AUTO_MODERATION_ACTION_EXECUTION to the sessions with the AUTO_MODERATION_EXECUTION
     * intent whose user has MANAGE_GUILD (content empty without MESSAGE_CONTENT). */
    HUB_OP_AUTOMOD_LIST,
    HUB_OP_AUTOMOD_GET,
    HUB_OP_AUTOMOD_CREATE,
    HUB_OP_AUTOMOD_MODIFY,
    HUB_OP_AUTOMOD_DELETE,
} hub_op_t;

/* A request's outcome, shaped for an HTTP response: status 200 (or 201: a channel
 * created, a member newly added) with body (a JSON value the caller owns), 204 without,
 * or an error with Discord's code and message; for 50035 (Invalid Form Body) body is
 * the "errors" object itself (the value of Discord's "errors" key: {"content":
 * {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": ...}]}}). 400 with code 0
 * for an op a hub does not know; a guild op on a private channel: 400/50024. */
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

/* Frees r->body and zeroes r. */
void hub_result_clear(hub_result_t *r);

/* ---- the hub tree --------------------------------------------------------------------- */

/* Settings of the hub tree; zero fields take the defaults. */
typedef struct hub_config {
    int64_t idle_ms;         /* a guild hub without subscribers (or a private hub without
                                requests) stops after this long: 300000 */
    int64_t call_timeout_ms; /* hub_request's default wait: 10000 */
} hub_config_t;

/* Names registered by the tree. */
#define HUB_SUP_NAME "hub:sup"             /* the tree's top supervisor */
#define HUB_HUBS_NAME "hub:hubs"           /* simple_one_for_one over the hub processes */
#define HUB_DIRECTORY_NAME "hub:directory" /* the session directory */

/* A hearth_child_start_fn for the server's top supervisor: starts the hub tree, a
 * rest_for_one supervisor (HUB_SUP_NAME) over the session directory and the hubs'
 * simple_one_for_one supervisor, linked to the caller. arg: a hub_config_t (copied)
 * or NULL. Returns 0 and the supervisor's pid in *out, or the failing child's code
 * (HEARTH_EEXIST if a tree is running already). Green threads and attached threads
 * only (it waits for the children to start). */
int hub_sup_child_start(void *arg, hearth_pid_t *out);

/* ---- the session directory -------------------------------------------------------------- */

/* The directory (HUB_DIRECTORY_NAME, a server process) knows the identified gateway
 * sessions of each user, so a hub can reach the sessions of a user that is not
 * subscribed to it yet: a new member's sessions start receiving the guild, a private
 * channel's messages reach every session of its recipients. It monitors each session
 * and records the user's last-seen time (store_presence_set, "offline") when the last
 * one ends. */

/* A session joins once identified (cast to the directory; from = the session): */
#define HUB_TAG_DIR_JOIN (HUB_TAG_BASE + 0x20)  /* bytes: hub_dir_join_t */
#define HUB_TAG_DIR_LEAVE (HUB_TAG_BASE + 0x21) /* no bytes: from leaves */

typedef struct hub_dir_join {
    uint64_t user_id;
    uint64_t intents;               /* the session's effective intents */
    unsigned form;                  /* HUB_FORM_JSON or HUB_FORM_ETF */
    uint32_t shard_id, shard_count; /* private channels reach shard 0 only */
} hub_dir_join_t;

/* What the directory sends sessions (their handlers see these in info):
 * HUB_TAG_JOINED: the session's user became a member of a guild: bytes = hub_joined_t;
 *   the session subscribes to that hub (and gets its snapshot as GUILD_CREATE).
 * HUB_TAG_DRAIN: the server is draining (hub_sessions_drain): send RECONNECT, close. */
#define HUB_TAG_JOINED (HUB_TAG_BASE + 6)
#define HUB_TAG_DRAIN (HUB_TAG_BASE + 7)

typedef struct hub_joined {
    uint64_t guild_id;
    hearth_pid_t hub;
} hub_joined_t;

/* Asks the directory to send HUB_TAG_DRAIN to every joined session (SIGTERM). Callable
 * from any thread. Returns 0 or HEARTH_ENOENT (no directory running). */
int hub_sessions_drain(void);

/* How many sessions of user_id the directory knows (0 if none), or a negative code.
 * Green threads and attached threads; for tests and tools. */
int hub_sessions_count(uint64_t user_id);

/* ---- sessions (gateway connection processes) ------------------------------------------ */

/* Gateway intents (Discord's bits) the hubs filter by. MESSAGE_CONTENT is privileged:
 * sessions without it get "content": "" and empty embeds, attachments and components
 * in MESSAGE_CREATE/UPDATE, except for messages that mention them, that they wrote, or
 * in private channels, as on Discord. */
#define HUB_INTENT_GUILDS (1ULL << 0)
#define HUB_INTENT_GUILD_MEMBERS (1ULL << 1)
#define HUB_INTENT_GUILD_MODERATION (1ULL << 2) /* bans, audit log entries */
#define HUB_INTENT_GUILD_INVITES (1ULL << 6)
#define HUB_INTENT_GUILD_PRESENCES (1ULL << 8)
#define HUB_INTENT_GUILD_MESSAGES (1ULL << 9)
#define HUB_INTENT_GUILD_MESSAGE_REACTIONS (1ULL << 10)
#define HUB_INTENT_GUILD_MESSAGE_TYPING (1ULL << 11)
#define HUB_INTENT_DIRECT_MESSAGES (1ULL << 12)
#define HUB_INTENT_DIRECT_MESSAGE_REACTIONS (1ULL << 13)
#define HUB_INTENT_DIRECT_MESSAGE_TYPING (1ULL << 14)
#define HUB_INTENT_MESSAGE_CONTENT (1ULL << 15)
#define HUB_INTENT_AUTO_MODERATION_CONFIGURATION (1ULL << 20)
#define HUB_INTENT_AUTO_MODERATION_EXECUTION (1ULL << 21)

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
/* Added: a session's REQUEST_GUILD_MEMBERS (op 8) for a guild hub it is subscribed to:
 * bytes = the op's "d" as JSON text (query, limit, user_ids, presences, nonce). The hub
 * answers that session alone with GUILD_MEMBERS_CHUNK events (HUB_TAG_EVENT, up to
 * 1000 members each, chunk_index/chunk_count, not_found for unknown user_ids, the
 * nonce echoed). An empty query with limit 0 (everyone) needs GUILD_MEMBERS, as on
 * Discord; without it the request is answered with an empty chunk. */
#define HUB_TAG_MEMBERS (HUB_TAG_BASE + 8)

typedef struct hub_subscribe {
    uint64_t user_id;
    uint64_t intents; /* Discord gateway intents bitfield (the session's effective
                         intents: a user account's session has them all) */
    unsigned form;    /* HUB_FORM_JSON or HUB_FORM_ETF */
    uint64_t ref;     /* echoed in the snapshot's ref */
    /* Added: zero means the default. */
    uint32_t large_threshold; /* 50..250 (IDENTIFY's large_threshold): a guild with more
                                 members is "large": its snapshot lists no members and
                                 no presences; 0: 50 */
    char status[16];          /* the session's presence: "online", "idle", "dnd", "invisible";
                                 "": online */
} hub_subscribe_t;

/* The snapshot answer (HUB_TAG_SNAPSHOT): ref = the subscribe's ref, the shared "d"
 * bytes, and value = when the subscriber's user joined the guild, in Unix milliseconds
 * (at least 1; 1 for a private hub): GUILD_CREATE's "joined_at" is the receiving user's,
 * so the session adds it to the shared "d". Or value = 0 and no bytes when the hub
 * refused (the user is not a member, the guild is gone): the session forgets that
 * guild. A hub also sends a
 * session GUILD_DELETE ({"id"}, as an event) when its user leaves or is removed, or
 * the guild is deleted, and then forgets the session. */

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
    HUB_EV_GUILD_MEMBERS_CHUNK, /* added: the answer to a HUB_TAG_MEMBERS request */
    /* Added with the permissions and moderation issue. */
    HUB_EV_GUILD_BAN_ADD,
    HUB_EV_GUILD_BAN_REMOVE,
    HUB_EV_GUILD_AUDIT_LOG_ENTRY_CREATE,
    HUB_EV_AUTO_MODERATION_RULE_CREATE,
    HUB_EV_AUTO_MODERATION_RULE_UPDATE,
    HUB_EV_AUTO_MODERATION_RULE_DELETE,
    HUB_EV_AUTO_MODERATION_ACTION_EXECUTION,
} hub_event_t;

/* "MESSAGE_CREATE", ... ("UNKNOWN" for a value outside hub_event_t). */
const char *hub_event_name(hub_event_t ev);

/* Encodes d as hubs encode an event's "d" for form (HUB_FORM_JSON: compact JSON text;
 * HUB_FORM_ETF: an ETF term without the version byte): a new shared payload, the
 * caller's reference. For sessions that make a dispatch of their own. */
hearth_payload_t *hub_encode(const json_t *d, unsigned form);

typedef struct hub_presence {
    uint64_t user_id;
    char status[16]; /* "online", "idle", "dnd", "offline" (invisible is sent as offline) */
} hub_presence_t;
/* The activities JSON after a hub_presence_t is an array (or nothing: none). A user's
 * presence in a hub is the last one any of its sessions sent; it goes "offline" when
 * the user's last subscribed session ends. PRESENCE_UPDATE reaches the subscribers with
 * GUILD_PRESENCES, the user's own sessions excepted, and only when something changed. */

#ifdef __cplusplus
}
#endif
#endif /* HEARTH_APPS_HUB_H */
