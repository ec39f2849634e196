/* The store's moderation records: guild bans, the audit log, and the system message an
 * auto-moderation alert posts. The guild's hub decides (permissions, hierarchy) and
 * writes through these; the REST API reads bans and the audit log straight from here
 * once the hub said the caller may (HUB_OP_CHECK_ACCESS with "need").
 *
 * Conventions as in store.h: 0 (or STORE_UNCHANGED) or a negative STORE_E* code;
 * *out is a new reference the caller owns (out may be NULL); inputs are borrowed.
 *
 * A ban is {"reason": text or null, "user": the user object}. An audit log entry is
 * Discord's: {"id", "user_id", "target_id", "action_type", "changes" (when any),
 * "options" (when any), "reason" (when any)}; ids are strings, user_id and target_id
 * null when none. */
#ifndef HEARTH_STORE_MODERATION_H
#define HEARTH_STORE_MODERATION_H

#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- bans ------------------------------------------------------------------------------------ */

#define STORE_BAN_DELETE_MAX 604800 /* delete_message_seconds: at most 7 days */
#define STORE_REASON_MAX 512        /* characters of a ban's or an audit entry's reason */

typedef struct store_ban_new {
    uint64_t guild_id;
    uint64_t user_id;
    uint64_t moderator_id;          /* who banned (0: unknown) */
    const char *reason;             /* or NULL; at most STORE_REASON_MAX characters */
    int64_t delete_message_seconds; /* 0..STORE_BAN_DELETE_MAX: the user's messages this
                                       recent, in every channel of the guild, go too */
    int64_t now_ms;                 /* the ban's time, Unix ms (0: the clock's) */
} store_ban_new_t;

/* Bans b->user_id from b->guild_id in one transaction: records the ban, ends the
 * membership if there is one, and deletes the user's messages in the guild's channels
 * sent within the last delete_message_seconds (with their reactions). Returns 0 (banned
 * now) or STORE_UNCHANGED (banned already: the first ban's reason stays, the messages
 * still go), with *out = {"member_removed": bool, "deleted": {"<channel id>": ["<message
 * id>", ...], ...}} (channels with no deleted message are left out; ids ascending);
 * STORE_ENOTFOUND (no such guild or user), STORE_EPERM (the guild's owner), STORE_EINVAL
 * (a reason too long or not UTF-8, delete_message_seconds out of range). */
int store_ban_add(store_t *s, const store_ban_new_t *b, json_t **out);

/* Lifts a ban: 0, or STORE_ENOTFOUND (user_id is not banned there). */
int store_ban_remove(store_t *s, uint64_t guild_id, uint64_t user_id);

/* Whether user_id is banned from guild_id: 0 yes, STORE_ENOTFOUND no. */
int store_ban_check(store_t *s, uint64_t guild_id, uint64_t user_id);

/* The ban of user_id: 0, or STORE_ENOTFOUND. */
int store_ban_get(store_t *s, uint64_t guild_id, uint64_t user_id, json_t **out);

/* The guild's bans by user id, as GET /guilds/{id}/bans pages them: those with a user
 * id below pg->before (the highest ones, still listed in ascending order), or above
 * pg->after, or from the lowest; limit 1..1000 (0: 1000). Returns 0 and an array,
 * STORE_ENOTFOUND (no such guild), STORE_EINVAL (limit). */
int store_ban_list(store_t *s, uint64_t guild_id, const store_page_t *pg, json_t **out);

/* ---- the audit log --------------------------------------------------------------------------- */

/* Discord's audit log action types that Hearth records. */
enum {
    STORE_AUDIT_GUILD_UPDATE = 1,
    STORE_AUDIT_CHANNEL_CREATE = 10,
    STORE_AUDIT_CHANNEL_UPDATE = 11,
    STORE_AUDIT_CHANNEL_DELETE = 12,
    STORE_AUDIT_CHANNEL_OVERWRITE_CREATE = 13,
    STORE_AUDIT_CHANNEL_OVERWRITE_UPDATE = 14,
    STORE_AUDIT_CHANNEL_OVERWRITE_DELETE = 15,
    STORE_AUDIT_MEMBER_KICK = 20,
    STORE_AUDIT_MEMBER_BAN_ADD = 22,
    STORE_AUDIT_MEMBER_BAN_REMOVE = 23,
    STORE_AUDIT_MEMBER_UPDATE = 24,
    STORE_AUDIT_MEMBER_ROLE_UPDATE = 25,
    STORE_AUDIT_BOT_ADD = 28,
    STORE_AUDIT_ROLE_CREATE = 30,
    STORE_AUDIT_ROLE_UPDATE = 31,
    STORE_AUDIT_ROLE_DELETE = 32,
    STORE_AUDIT_MESSAGE_DELETE = 72,
    STORE_AUDIT_MESSAGE_BULK_DELETE = 73,
    STORE_AUDIT_AUTOMOD_RULE_CREATE = 140,
    STORE_AUDIT_AUTOMOD_RULE_UPDATE = 141,
    STORE_AUDIT_AUTOMOD_RULE_DELETE = 142,
    STORE_AUDIT_AUTOMOD_BLOCK_MESSAGE = 143,
    STORE_AUDIT_AUTOMOD_FLAG_TO_CHANNEL = 144,
    STORE_AUDIT_AUTOMOD_USER_COMMUNICATION_DISABLED = 145,
};

#define STORE_AUDIT_KEEP_MS (45LL * 24 * 3600 * 1000) /* entries live 45 days, as on Discord */

typedef struct store_audit_new {
    uint64_t guild_id;
    uint64_t user_id;      /* who acted; 0: nobody (null) */
    uint64_t target_id;    /* what it acted on; 0: nothing (null) */
    int action_type;       /* 1..255 */
    const json_t *changes; /* an array of {"key", "old_value", "new_value"}, or NULL */
    const json_t *options; /* an object, or NULL */
    const char *reason;    /* or NULL; at most STORE_REASON_MAX characters */
} store_audit_new_t;

/* Records an entry with a new snowflake id (and drops the guild's entries older than
 * STORE_AUDIT_KEEP_MS). Returns 0 and the entry, STORE_ENOTFOUND (no such guild),
 * STORE_EINVAL (action_type out of range, changes not an array, options not an object,
 * reason too long or not UTF-8). */
int store_audit_add(store_t *s, const store_audit_new_t *e, json_t **out);

/* Filters of GET /guilds/{id}/audit-logs; zero fields filter nothing. */
typedef struct store_audit_query {
    uint64_t user_id; /* entries made by this user */
    int action_type;  /* of this type */
    uint64_t before;  /* with ids below it (the newest of them) */
    uint64_t after;   /* with ids above it (the oldest of them); ignored with before */
    int limit;        /* 1..100 (0: 50) */
} store_audit_query_t;

/* The guild's audit log as GET /guilds/{id}/audit-logs answers it: {"audit_log_entries":
 * the entries, newest first, "users": the users they name (as user_id or as a member
 * target), and "application_commands", "auto_moderation_rules",
 * "guild_scheduled_events", "integrations", "threads", "webhooks" (empty)}. Returns 0,
 * STORE_ENOTFOUND (no such guild), STORE_EINVAL (limit). */
int store_audit_list(store_t *s, uint64_t guild_id, const store_audit_query_t *q, json_t **out);

/* ---- auto-moderation alerts ------------------------------------------------------------------ */

/* Posts the system message a SEND_ALERT_MESSAGE action makes: store_message_create(m),
 * then its type set to 24 (AUTO_MODERATION_ACTION), in one transaction. Returns 0 and
 * the message object (type 24), or store_message_create's errors. */
int store_automod_alert_create(store_t *s, const store_message_new_t *m, json_t **out);

#ifdef __cplusplus
}
#endif
#endif /* HEARTH_STORE_MODERATION_H */
