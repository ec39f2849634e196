/* The storage interface of the chat server: users, tokens, applications, guilds,
 * members, roles, channels, messages, reactions, invites and presence.
 *
 * Backend-neutral: nothing here names the database. The one backend today is SQLite
 * (apps/store/sqlite/: one WAL database file in the data directory, migrations from
 * priv/migrations/); PostgreSQL comes later behind the same functions. Every line of
 * SQL lives under apps/store/.
 *
 * Threads. Store functions are synchronous and may wait for the disk, so they never
 * run on a scheduler thread. A process runs them as a job on the runtime's
 * blocking-work pool (libuv's threadpool):
 *
 *     static int64_t load_cb(store_t *s, void *arg)
 *     {
 *         struct load *l = arg;
 *         return store_guild_get(s, l->guild_id, &l->guild);
 *     }
 *     ...
 *     err = store_call(load_cb, &l);          (green thread or attached thread)
 *     err = store_submit(load_cb, l, &ref);   (event process: WORK_DONE comes later)
 *
 * A job gets the connection of the worker thread it runs on (store_thread()), so
 * connections are never shared between threads. Tests and tools may also open a
 * connection of their own with store_open() and call store functions directly.
 *
 * Results. Functions return 0 (or STORE_UNCHANGED: success, but nothing changed, so
 * there is no event to send) or a negative STORE_E* code. Documents come back as
 * jansson objects shaped like Discord API v10 objects (ids as decimal strings,
 * timestamps ISO 8601 with +00:00): *out is a new reference the caller owns and
 * must json_decref; out may be NULL when the caller does not want it. On error *out
 * is left alone. Inputs (json_t *params, strings, arrays) are only borrowed.
 *
 * Durability. A write function that returned success has committed: the commit is
 * in the write-ahead log, so it survives a kill -9 of the server (not necessarily a
 * power cut: see apps/store/sqlite/db.c). */
#ifndef HEARTH_STORE_STORE_H
#define HEARTH_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "snowflake.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors ---------------------------------------------------------------------------------- */

/* Negative errno values, like the runtime's HEARTH_E* codes, so one strerror table
 * serves both and a job's result passes through HEARTH_MSG_WORK_DONE unchanged. */
enum {
    STORE_UNCHANGED = 1,  /* success, but nothing was changed (already there) */
    STORE_EPERM = -1,     /* not allowed (the owner leaving their guild, ...) */
    STORE_ENOTFOUND = -2, /* no such user, guild, channel, message, invite, ... */
    STORE_EIO = -5,       /* the database failed (see store_errmsg) */
    STORE_EAUTH = -13,    /* wrong login or password, unknown token */
    STORE_EBUSY = -16,    /* the database stayed locked past the busy timeout */
    STORE_EEXIST = -17,   /* already exists (email or username taken, ...) */
    STORE_EINVAL = -22,   /* invalid argument (too long, wrong type, bad limit, ...) */
    STORE_ELIMIT = -28,   /* a limit is reached (group DM recipients, ...) */
    STORE_EEXPIRED = -62, /* the invite expired or is used up */
};

/* A static description of a STORE_* code ("not found", ...). Never NULL. */
const char *store_strerror(int err);

/* ---- setup and connections ------------------------------------------------------------------- */

typedef struct store store_t;

/* Sets the data directory every thread's connection opens (it is created if
 * missing), creates the database if needed and applies pending migrations, in
 * order, each in its own transaction. Call once at server start, before any job.
 * Migrations are read from $HEARTH_PRIV_DIR/migrations, else from priv/migrations
 * found next to the executable or up to three directories above it, else from
 * ./priv/migrations. Returns 0, STORE_EINVAL (data_dir NULL or too long), or
 * STORE_EIO (the directory, the database or a migration failed: the message went
 * to stderr). Calling it again (tests) switches to the new directory: connections
 * to the old one are closed as their threads next ask for theirs. */
int store_init(const char *data_dir);

/* Closes the connections store_thread() opened, once no job is running (call after
 * hearth_stop). The test thread's own connection is closed too. */
void store_fini(void);

/* The calling thread's connection to the store_init database, opened on first use.
 * NULL if store_init was not called or the open failed (reported on stderr). The
 * connection belongs to the thread: never pass it to another. */
store_t *store_thread(void);

/* Opens a connection of the caller's own to the database in data_dir (created if
 * missing; migrations are applied when migrate is true). Returns NULL on error
 * (reported on stderr). Close it with store_close from the same thread. */
store_t *store_open(const char *data_dir, bool migrate);
void store_close(store_t *s);

/* The newest migration applied to s's database: 0 and its number in *version, or
 * STORE_E*. */
int store_schema_version(store_t *s, int64_t *version);

/* The last database error message of s, for logs. Never NULL. */
const char *store_errmsg(store_t *s);

/* Groups several store calls into one transaction (a write transaction taken at
 * once, so it never fails halfway for a lock). Nested calls make savepoints; store
 * functions use the same mechanism, so they may run inside. Returns 0 or a STORE_E*
 * code. */
int store_tx_begin(store_t *s);
int store_tx_commit(store_t *s);
void store_tx_rollback(store_t *s);

/* ---- running jobs from processes ------------------------------------------------------------- */

typedef int64_t (*store_job_fn)(store_t *s, void *arg);

/* Runs job(store_thread(), arg) on the blocking-work pool and waits for it: for green
 * threads and attached threads (an event process gets HEARTH_EINVAL: use
 * store_submit). Returns the job's result; STORE_EIO without running the job if the
 * worker's connection could not be opened; or a HEARTH_E* code if it could not be
 * submitted. arg stays the caller's and must stay valid until the job returns: if
 * the waiting process can be killed meanwhile, keep arg off its stack. */
int store_call(store_job_fn job, void *arg);

/* Submits job(store_thread(), arg) and returns at once: the caller (any process)
 * gets HEARTH_MSG_WORK_DONE with ref = *ref and value = the job's result. arg must
 * stay valid until then. Returns 0 or a HEARTH_E* code (then the job never runs). */
int store_submit(store_job_fn job, void *arg, uint64_t *ref);

/* ---- conventions ----------------------------------------------------------------------------- */

/* Tokens: "<base64url user id>.<base64url time>.<random>"; at most this long, NUL
 * included. Only a hash of a token is stored: a token is shown once, when made. */
#define STORE_TOKEN_SIZE 96

/* An ISO 8601 timestamp, "2015-01-01T00:00:00.000000+00:00", NUL included. */
#define STORE_TIMESTAMP_SIZE 33
/* Formats Unix milliseconds as Discord does; returns buf. */
char *store_timestamp(int64_t ms, char buf[STORE_TIMESTAMP_SIZE]);

/* Pagination by id: at most one of before, after, around (0: unused), and a limit
 * whose allowed range each function states (0: its default). */
typedef struct store_page {
    uint64_t before;
    uint64_t after;
    uint64_t around;
    int limit;
} store_page_t;

/* Permission bits the store needs (the permissions layer has the rest). ALL is every
 * bit Discord defines today, up to PIN_MESSAGES (1 << 51). */
#define STORE_PERM_ADMINISTRATOR (1ULL << 3)
#define STORE_PERM_ALL ((1ULL << 52) - 1)
/* @everyone's permissions in a new guild, close to Discord's default: create invite (0), add
 * reactions (6), stream (9), view channel (10), send messages (11), embed links (14),
 * attach files (15), read message history (16), mention everyone (17), use external
 * emojis (18), connect (20), speak (21), use voice activity (25), change nickname (26),
 * use application commands (31), request to speak (32), create public and private
 * threads (35, 36), use external stickers (37), send messages in threads (38), use
 * activities (39), use soundboard (42), use external sounds (45), send voice messages
 * (46), send polls (49), use external apps (50). */
#define STORE_PERM_EVERYONE_DEFAULT                                                                \
    ((1ULL << 0) | (1ULL << 6) | (1ULL << 9) | (1ULL << 10) | (1ULL << 11) | (1ULL << 14) |        \
     (1ULL << 15) | (1ULL << 16) | (1ULL << 17) | (1ULL << 18) | (1ULL << 20) | (1ULL << 21) |     \
     (1ULL << 25) | (1ULL << 26) | (1ULL << 31) | (1ULL << 32) | (1ULL << 35) | (1ULL << 36) |     \
     (1ULL << 37) | (1ULL << 38) | (1ULL << 39) | (1ULL << 42) | (1ULL << 45) | (1ULL << 46) |     \
     (1ULL << 49) | (1ULL << 50))

/* ---- users, login, tokens -------------------------------------------------------------------- */

typedef struct store_user_new {
    const char *username;    /* 2..32 characters, unique among people (not bots) */
    const char *global_name; /* display name, or NULL */
    const char *email;       /* unique, case-insensitive; NULL for bots */
    const char *password;    /* 8..128 bytes, hashed with Argon2id; NULL: no password */
    bool bot;
} store_user_new_t;

/* Creates a user. Returns 0 and the user (private form, see STORE_USER_PRIVATE),
 * STORE_EEXIST if the email or username is taken, STORE_EINVAL for a bad username,
 * email or password. */
int store_user_create(store_t *s, const store_user_new_t *u, json_t **out);

#define STORE_USER_PRIVATE 0x1u /* add email, verified, mfa_enabled, locale (for @me) */

/* The user object of id: id, username, discriminator "0", global_name, avatar, bot,
 * public_flags, ... Returns 0 or STORE_ENOTFOUND. */
int store_user_get(store_t *s, uint64_t id, unsigned flags, json_t **out);

/* Changes username, global_name and/or avatar (members of params; null clears
 * global_name and avatar). Returns 0 and the user (private form), STORE_ENOTFOUND,
 * STORE_EEXIST (username taken) or STORE_EINVAL. */
int store_user_modify(store_t *s, uint64_t id, const json_t *params, json_t **out);

/* Sets a new password (the old one stops working; tokens stay valid). */
int store_user_set_password(store_t *s, uint64_t id, const char *password);

/* Checks a login: login is an email or a username (not a bot's). Returns 0 and the
 * user id in *user_id, or STORE_EAUTH (unknown login or wrong password: the same
 * code, so logins cannot be probed). Slow on purpose (Argon2id). */
int store_login(store_t *s, const char *login, const char *password, uint64_t *user_id);

/* Makes a new token for user_id into token. Returns 0 or STORE_ENOTFOUND. */
int store_token_create(store_t *s, uint64_t user_id, char token[STORE_TOKEN_SIZE]);

/* Looks a token up: 0 and the user id in *user_id (and whether it is a bot in *bot;
 * either pointer may be NULL), or STORE_EAUTH. */
int store_token_lookup(store_t *s, const char *token, uint64_t *user_id, bool *bot);

/* Revokes one token (STORE_EAUTH if unknown), or all tokens of a user. */
int store_token_revoke(store_t *s, const char *token);
int store_token_revoke_user(store_t *s, uint64_t user_id);

/* ---- applications and bots ------------------------------------------------------------------- */

/* Creates an application owned by owner_id. params: name (1..128, required),
 * description. Returns 0 and the application object, STORE_ENOTFOUND (owner) or
 * STORE_EINVAL. */
int store_app_create(store_t *s, uint64_t owner_id, const json_t *params, json_t **out);
/* The application object (with "bot" when it has one). 0 or STORE_ENOTFOUND. */
int store_app_get(store_t *s, uint64_t app_id, json_t **out);
/* The applications of owner_id, oldest first. */
int store_app_list(store_t *s, uint64_t owner_id, json_t **out);
/* Creates the application's bot user (its id is the application's id, its name the
 * application's) and a token for it. Returns 0, the token and the bot user,
 * STORE_ENOTFOUND or STORE_EEXIST (it has a bot already: use reset). */
int store_app_bot_create(store_t *s, uint64_t app_id, char token[STORE_TOKEN_SIZE],
                         json_t **bot_user);
/* Revokes the bot's tokens and makes a new one. 0, STORE_ENOTFOUND (no app or no bot). */
int store_app_bot_reset_token(store_t *s, uint64_t app_id, char token[STORE_TOKEN_SIZE]);

/* ---- guilds ---------------------------------------------------------------------------------- */

/* Creates a guild owned by owner_id: params name (2..100, required), icon,
 * description. It gets the @everyone role (id = the guild's id, permissions
 * STORE_PERM_EVERYONE_DEFAULT), a text channel "general" (the system channel), and
 * the owner as its first member. Returns 0 and the guild object (with roles),
 * STORE_ENOTFOUND (owner) or STORE_EINVAL. */
int store_guild_create(store_t *s, uint64_t owner_id, const json_t *params, json_t **out);

/* The guild object: id, name, icon, owner_id, roles, emojis, features, ... 0 or
 * STORE_ENOTFOUND. */
int store_guild_get(store_t *s, uint64_t guild_id, json_t **out);

/* Everything a guild process starts from: the guild object plus "channels",
 * "members" (every member, with user) and "member_count". */
int store_guild_load(store_t *s, uint64_t guild_id, json_t **out);

/* Changes name, icon, banner, splash, description, owner_id (must be a member),
 * system_channel_id, afk_channel_id (a channel of the guild, or null), afk_timeout,
 * verification_level, default_message_notifications, explicit_content_filter,
 * preferred_locale. Returns 0 and the guild, STORE_ENOTFOUND or STORE_EINVAL. */
int store_guild_modify(store_t *s, uint64_t guild_id, const json_t *params, json_t **out);

/* Deletes the guild with its roles, members, channels, messages, reactions and
 * invites. 0 or STORE_ENOTFOUND. */
int store_guild_delete(store_t *s, uint64_t guild_id);

/* The guilds user_id is a member of, as partial guilds (id, name, icon, owner,
 * permissions, features), by id: pg before/after, limit 1..200 (default 200). */
int store_user_guilds(store_t *s, uint64_t user_id, const store_page_t *pg, json_t **out);

/* Every guild (admin), by id: after, limit 1..1000 (default 100); each a guild
 * object without roles plus member_count. */
int store_guild_list(store_t *s, const store_page_t *pg, json_t **out);

/* ---- members --------------------------------------------------------------------------------- */

/* Adds user_id to the guild. Returns 0 and the member (user, nick, roles, joined_at,
 * ...), STORE_UNCHANGED and the member if already one, STORE_ENOTFOUND (guild or
 * user). */
int store_member_add(store_t *s, uint64_t guild_id, uint64_t user_id, json_t **out);
/* Removes a member (leave or kick) and, for a bot, its managed role. 0,
 * STORE_ENOTFOUND, STORE_EPERM (the owner). */
int store_member_remove(store_t *s, uint64_t guild_id, uint64_t user_id);
/* 0 and the member, or STORE_ENOTFOUND. */
int store_member_get(store_t *s, uint64_t guild_id, uint64_t user_id, json_t **out);
/* Members by user id: pg after, limit 1..1000 (default 1). */
int store_member_list(store_t *s, uint64_t guild_id, const store_page_t *pg, json_t **out);
/* Changes nick (null clears), roles (an array of role ids of the guild, @everyone
 * excluded; replaces the list), mute, deaf, communication_disabled_until (ISO 8601 or
 * null). Returns 0 and the member, STORE_ENOTFOUND (member or role), STORE_EINVAL. */
int store_member_modify(store_t *s, uint64_t guild_id, uint64_t user_id, const json_t *params,
                        json_t **out);
/* Gives or takes one role. 0, STORE_UNCHANGED, STORE_ENOTFOUND, STORE_EINVAL (@everyone). */
int store_member_role_add(store_t *s, uint64_t guild_id, uint64_t user_id, uint64_t role_id);
int store_member_role_remove(store_t *s, uint64_t guild_id, uint64_t user_id, uint64_t role_id);
/* Whether user_id is a member: 0 yes, STORE_ENOTFOUND no. */
int store_member_check(store_t *s, uint64_t guild_id, uint64_t user_id);

/* ---- roles ----------------------------------------------------------------------------------- */

/* Creates a role: params name (default "new role", at most 100), permissions (decimal
 * string), color, hoist, mentionable, icon, unicode_emoji. It goes to position 1 (just
 * above @everyone); the others move up. Returns 0 and the role, STORE_ENOTFOUND,
 * STORE_EINVAL, STORE_ELIMIT (250 roles). */
int store_role_create(store_t *s, uint64_t guild_id, const json_t *params, json_t **out);
/* Creates bot_id's managed role, as Discord does when a bot is authorized with
 * permissions: named after the bot, with perms, managed, tags.bot_id, at position 1,
 * and gives it to the bot (which must be a member). It goes when the bot's membership
 * does (store_member_remove). Returns 0 and the role, STORE_ENOTFOUND (guild or
 * member), STORE_EEXIST (the bot has one already), STORE_ELIMIT (250 roles). */
int store_role_create_managed(store_t *s, uint64_t guild_id, uint64_t bot_id, uint64_t perms,
                              json_t **out);
/* Changes the same fields (and position). 0 and the role, STORE_ENOTFOUND, STORE_EINVAL. */
int store_role_modify(store_t *s, uint64_t guild_id, uint64_t role_id, const json_t *params,
                      json_t **out);
/* Sets positions from an array of {"id", "position"}; returns every role, by position. */
int store_role_positions(store_t *s, uint64_t guild_id, const json_t *list, json_t **out);
/* Deletes a role (and takes it from every member). 0, STORE_ENOTFOUND, STORE_EINVAL
 * (@everyone). */
int store_role_delete(store_t *s, uint64_t guild_id, uint64_t role_id);
/* The guild's roles by position, then id. 0 or STORE_ENOTFOUND (guild). */
int store_role_list(store_t *s, uint64_t guild_id, json_t **out);
int store_role_get(store_t *s, uint64_t guild_id, uint64_t role_id, json_t **out);

/* ---- channels -------------------------------------------------------------------------------- */

#define STORE_CHANNEL_TEXT 0
#define STORE_CHANNEL_DM 1
#define STORE_CHANNEL_VOICE 2
#define STORE_CHANNEL_GROUP_DM 3
#define STORE_CHANNEL_CATEGORY 4
#define STORE_GROUP_DM_MAX 10 /* people in a group DM, owner included */

/* Creates a channel in a guild: params name (1..100, required), type (0 text, 2 voice,
 * 4 category; default 0), topic (at most 1024), position, parent_id (a category of
 * the guild), nsfw, bitrate, user_limit, rate_limit_per_user, permission_overwrites
 * (an array of {id, type, allow, deny}, stored as given). Returns 0 and the channel,
 * STORE_ENOTFOUND (guild or parent), STORE_EINVAL. */
int store_channel_create(store_t *s, uint64_t guild_id, const json_t *params, json_t **out);

/* The channel object (any type). For DMs, recipients leaves out viewer (0: keep all).
 * 0 or STORE_ENOTFOUND. */
int store_channel_get(store_t *s, uint64_t channel_id, uint64_t viewer, json_t **out);

/* Changes the fields of store_channel_create but type (fixed once made), or name and
 * icon of a group DM. Returns 0 and the channel, STORE_ENOTFOUND, STORE_EINVAL. */
int store_channel_modify(store_t *s, uint64_t channel_id, const json_t *params, json_t **out);

/* Deletes a channel with its messages and invites (a category's children move to
 * no parent). Returns 0 and the deleted channel, STORE_ENOTFOUND. */
int store_channel_delete(store_t *s, uint64_t channel_id, json_t **out);

/* The guild's channels by position, then id. 0 or STORE_ENOTFOUND (guild). */
int store_channel_list(store_t *s, uint64_t guild_id, json_t **out);

/* Sets positions (and parent_id when given) from an array of {"id", "position",
 * "parent_id"}. Returns 0 and the guild's channels. */
int store_channel_positions(store_t *s, uint64_t guild_id, const json_t *list, json_t **out);

/* Finds or creates the DM channel between a and b (a == b: a note-to-self DM).
 * Returns 0 (created) or STORE_UNCHANGED (found) and the channel as a sees it,
 * STORE_ENOTFOUND (a user). */
int store_dm_open(store_t *s, uint64_t a, uint64_t b, json_t **out);

/* Creates a group DM owned by owner with the other recipients (owner is added; at
 * most STORE_GROUP_DM_MAX in all); name may be NULL. Returns 0 and the channel,
 * STORE_ENOTFOUND (a user), STORE_ELIMIT. */
int store_group_dm_create(store_t *s, uint64_t owner, const uint64_t *recipients, size_t n,
                          const char *name, json_t **out);
/* Adds or removes a group DM recipient. 0, STORE_UNCHANGED, STORE_ENOTFOUND, STORE_ELIMIT. */
int store_group_dm_add(store_t *s, uint64_t channel_id, uint64_t user_id);
int store_group_dm_remove(store_t *s, uint64_t channel_id, uint64_t user_id);

/* The DM and group DM channels user_id is in, newest activity first. */
int store_user_dms(store_t *s, uint64_t user_id, json_t **out);

/* Whether user_id can reach channel_id's conversation: a recipient of a DM, or a
 * member of the channel's guild. Returns 0 and the guild id (0 for DMs) in *guild_id
 * (may be NULL), STORE_ENOTFOUND (no channel), STORE_EPERM (not in it). */
int store_channel_access(store_t *s, uint64_t channel_id, uint64_t user_id, uint64_t *guild_id);

/* ---- messages -------------------------------------------------------------------------------- */

#define STORE_CONTENT_MAX 2000 /* characters (code points) */

typedef struct store_message_new {
    uint64_t id; /* 0: a new snowflake */
    uint64_t channel_id;
    uint64_t author_id;
    const char *content; /* UTF-8, at most STORE_CONTENT_MAX characters; NULL = "" */
    const char *nonce;   /* or NULL; at most 25 bytes */
    bool enforce_nonce;  /* dedupe: same author, channel and nonce within minutes */
    bool tts;
    uint32_t flags;
    uint64_t reply_to;        /* message_reference.message_id, or 0 */
    bool reply_optional;      /* false: an unknown reply_to fails (fail_if_not_exists) */
    const uint64_t *mentions; /* user ids the caller parsed out of content */
    size_t nmentions;
    const uint64_t *mention_roles;
    size_t nmention_roles;
    bool mention_everyone;
    const json_t *embeds;     /* an array stored as given, or NULL */
    const json_t *components; /* an array stored as given, or NULL */
} store_message_new_t;

/* Creates a message and sets the channel's last_message_id. With a nonce and
 * enforce_nonce, a message the same author sent to the same channel with the same
 * nonce in the last STORE_NONCE_WINDOW_MS is returned instead, with STORE_UNCHANGED.
 * Returns 0 and the message object (author, timestamp, mentions as user objects,
 * message_reference and referenced_message for replies: type 19), STORE_UNCHANGED,
 * STORE_ENOTFOUND (channel, author, or the message replied to), STORE_EINVAL
 * (content too long or not UTF-8, nonce too long). */
int store_message_create(store_t *s, const store_message_new_t *m, json_t **out);
#define STORE_NONCE_WINDOW_MS (10 * 60 * 1000)

/* The message, with reactions whose "me" is relative to viewer. 0 or STORE_ENOTFOUND. */
int store_message_get(store_t *s, uint64_t channel_id, uint64_t message_id, uint64_t viewer,
                      json_t **out);

/* Messages of a channel, newest first, limit 1..100 (default 50): the latest ones; or
 * those just before pg->before; or those just after pg->after; or those around
 * pg->around (it included, limit/2 newer ones and the rest older or equal). Returns
 * 0 and an array (maybe empty), STORE_ENOTFOUND (channel), STORE_EINVAL (limit). */
int store_message_list(store_t *s, uint64_t channel_id, const store_page_t *pg, uint64_t viewer,
                       json_t **out);

typedef struct store_message_edit {
    const char *content;      /* NULL: unchanged */
    const json_t *embeds;     /* NULL: unchanged */
    const json_t *components; /* NULL: unchanged */
    int64_t flags;            /* -1: unchanged */
    const uint64_t *mentions; /* with set_mentions: the new lists */
    size_t nmentions;
    const uint64_t *mention_roles;
    size_t nmention_roles;
    bool mention_everyone;
    bool set_mentions;
} store_message_edit_t;

/* Edits a message and sets edited_timestamp. Returns 0 and the message,
 * STORE_ENOTFOUND, STORE_EINVAL. */
int store_message_edit(store_t *s, uint64_t channel_id, uint64_t message_id,
                       const store_message_edit_t *e, uint64_t viewer, json_t **out);

/* Deletes a message (and its reactions). 0 or STORE_ENOTFOUND. */
int store_message_delete(store_t *s, uint64_t channel_id, uint64_t message_id);

/* Deletes up to 100 messages of the channel in one transaction; ids not in it are
 * skipped. Returns 0 and how many went in *deleted (may be NULL), STORE_EINVAL (n 0
 * or above 100). */
int store_message_bulk_delete(store_t *s, uint64_t channel_id, const uint64_t *ids, size_t n,
                              size_t *deleted);

/* Who wrote a message: 0 and the author in *author_id, or STORE_ENOTFOUND. */
int store_message_author(store_t *s, uint64_t channel_id, uint64_t message_id, uint64_t *author_id);

/* ---- reactions ------------------------------------------------------------------------------- */

/* An emoji as a reaction: unicode (id 0, name the emoji itself) or custom (id, with
 * name). Identity is the id for custom emoji and the name for unicode ones. */
typedef struct store_emoji {
    uint64_t id;
    const char *name;
    bool animated;
} store_emoji_t;

/* Parses an emoji as it appears in a URL after percent-decoding: "👍" or "name:id"
 * (also "a:name:id"). The name is copied into name_buf (name_size bytes) and e->name
 * points there. Returns 0 or STORE_EINVAL (empty, malformed, or too long). */
int store_emoji_parse(const char *text, store_emoji_t *e, char *name_buf, size_t name_size);

/* Adds user_id's reaction. 0, STORE_UNCHANGED (already there), STORE_ENOTFOUND
 * (message), STORE_EINVAL (emoji), STORE_ELIMIT (20 different emoji). */
int store_reaction_put(store_t *s, uint64_t channel_id, uint64_t message_id, uint64_t user_id,
                       const store_emoji_t *e);
/* Removes user_id's reaction (own or someone's). 0 or STORE_ENOTFOUND. */
int store_reaction_delete(store_t *s, uint64_t channel_id, uint64_t message_id, uint64_t user_id,
                          const store_emoji_t *e);
/* The users who reacted with e, by user id: pg after, limit 1..100 (default 25). */
int store_reaction_users(store_t *s, uint64_t channel_id, uint64_t message_id,
                         const store_emoji_t *e, const store_page_t *pg, json_t **out);
/* Removes every reaction of the message (e NULL), or every one with e. 0,
 * STORE_UNCHANGED (there were none), STORE_ENOTFOUND (message). */
int store_reaction_delete_all(store_t *s, uint64_t channel_id, uint64_t message_id,
                              const store_emoji_t *e);

/* ---- invites --------------------------------------------------------------------------------- */

typedef struct store_invite_new {
    uint64_t channel_id; /* a guild channel */
    uint64_t inviter_id;
    int64_t max_age;  /* seconds, 0..604800; 0: never expires */
    int64_t max_uses; /* 0..100; 0: unlimited */
    bool temporary;
} store_invite_new_t;

/* Creates an invite with a random 8-character code. Returns 0 and the invite with
 * metadata (code, guild, channel, inviter, uses, max_uses, max_age, temporary,
 * created_at, expires_at), STORE_ENOTFOUND, STORE_EINVAL. */
int store_invite_create(store_t *s, const store_invite_new_t *p, json_t **out);
/* The invite (with approximate_member_count). 0, STORE_ENOTFOUND, STORE_EEXPIRED. */
int store_invite_get(store_t *s, const char *code, json_t **out);
/* Accepts an invite for user_id: counts a use and adds the member, atomically.
 * Returns 0, or STORE_UNCHANGED when user_id was already a member (no use counted),
 * with the invite; STORE_ENOTFOUND, STORE_EEXPIRED (expired or used up). */
int store_invite_use(store_t *s, const char *code, uint64_t user_id, json_t **out);
/* Deletes an invite; returns 0 and it, or STORE_ENOTFOUND. */
int store_invite_delete(store_t *s, const char *code, json_t **out);
/* A guild's or a channel's live invites, newest first. */
int store_invite_list_guild(store_t *s, uint64_t guild_id, json_t **out);
int store_invite_list_channel(store_t *s, uint64_t channel_id, json_t **out);

/* ---- presence -------------------------------------------------------------------------------- */

/* Records user_id's status ("online", "idle", "dnd", "offline"; at most 15 bytes),
 * activities (an array, or NULL) and when it was last seen (Unix ms). */
int store_presence_set(store_t *s, uint64_t user_id, const char *status, const json_t *activities,
                       int64_t last_seen_ms);
/* {"user_id", "status", "activities", "last_seen"}; STORE_ENOTFOUND if never set. */
int store_presence_get(store_t *s, uint64_t user_id, json_t **out);

/* ---- bulk (admin) ---------------------------------------------------------------------------- */

/* Creates n users named "<prefix><i>" (i from 1), with no password, as members of
 * guild_id, each with a token, in one transaction: all or nothing. tokens (n slots)
 * gets the tokens and ids (may be NULL) the ids. Returns 0, STORE_ENOTFOUND (guild),
 * STORE_EEXIST (a name is taken), STORE_EINVAL. */
int store_bulk_members(store_t *s, uint64_t guild_id, const char *prefix, size_t n,
                       char (*tokens)[STORE_TOKEN_SIZE], uint64_t *ids);

#ifdef __cplusplus
}
#endif
#endif /* HEARTH_STORE_STORE_H */
