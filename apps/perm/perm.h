/* Permissions: Discord's permission bitfield and how a member's permissions in a guild
 * and in a channel are computed, as pure functions over a small C model, plus a per-guild
 * cache the guild's hub process holds.
 *
 * The parts:
 *   - the flags (PERM_*, Discord's bit values) and their names (perm_names), the
 *     decimal-string form the API sends them in (perm_parse, perm_format);
 *   - the model (perm_guild_t, perm_member_t, perm_channel_t) and the computation in
 *     Discord's documented order (perm_base, perm_channel): base permissions from
 *     @everyone and the member's roles, owner and ADMINISTRATOR bypass, then the
 *     channel's @everyone overwrite, its role overwrites (every deny, then every allow,
 *     combined), its member overwrite; then the implicit rules and timeouts;
 *   - the role hierarchy (perm_highest_role, perm_can_manage_member, ...);
 *   - builders of the model from the store's Discord-shaped JSON (perm/json.c);
 *   - perm_cache_t (perm/cache.c): one guild's model plus a member x channel cache of
 *     results, kept correct by the hub feeding it every change.
 *
 * Categories. Discord computes a channel from its own overwrites only; a channel is
 * "synced" with its category when it has the category's overwrites copied in, and the
 * store keeps no synced flag. So: a channel that has overwrites of its own uses them;
 * a channel with none (an absent or empty permission_overwrites) that sits in a
 * category uses the category's, live, as if synced. Creating a channel in a category
 * without overwrites thus behaves as on Discord (which copies the category's), and it
 * keeps following the category until it gets overwrites of its own.
 *
 * Nothing here allocates except the JSON builders and the cache, and nothing is
 * thread-safe: one process owns each model or cache. */
#ifndef HEARTH_APPS_PERM_H
#define HEARTH_APPS_PERM_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PERM_API_VERSION 1

/* ---- the flags --------------------------------------------------------------------------- */

/* Every flag Discord defines, with its bit value (developer docs, Permissions,
 * "Bitwise Permission Flags"). Bit 47 is not assigned. */
#define PERM_CREATE_INSTANT_INVITE (UINT64_C(1) << 0)
#define PERM_KICK_MEMBERS (UINT64_C(1) << 1)
#define PERM_BAN_MEMBERS (UINT64_C(1) << 2)
#define PERM_ADMINISTRATOR (UINT64_C(1) << 3)
#define PERM_MANAGE_CHANNELS (UINT64_C(1) << 4)
#define PERM_MANAGE_GUILD (UINT64_C(1) << 5)
#define PERM_ADD_REACTIONS (UINT64_C(1) << 6)
#define PERM_VIEW_AUDIT_LOG (UINT64_C(1) << 7)
#define PERM_PRIORITY_SPEAKER (UINT64_C(1) << 8)
#define PERM_STREAM (UINT64_C(1) << 9)
#define PERM_VIEW_CHANNEL (UINT64_C(1) << 10)
#define PERM_SEND_MESSAGES (UINT64_C(1) << 11)
#define PERM_SEND_TTS_MESSAGES (UINT64_C(1) << 12)
#define PERM_MANAGE_MESSAGES (UINT64_C(1) << 13)
#define PERM_EMBED_LINKS (UINT64_C(1) << 14)
#define PERM_ATTACH_FILES (UINT64_C(1) << 15)
#define PERM_READ_MESSAGE_HISTORY (UINT64_C(1) << 16)
#define PERM_MENTION_EVERYONE (UINT64_C(1) << 17)
#define PERM_USE_EXTERNAL_EMOJIS (UINT64_C(1) << 18)
#define PERM_VIEW_GUILD_INSIGHTS (UINT64_C(1) << 19)
#define PERM_CONNECT (UINT64_C(1) << 20)
#define PERM_SPEAK (UINT64_C(1) << 21)
#define PERM_MUTE_MEMBERS (UINT64_C(1) << 22)
#define PERM_DEAFEN_MEMBERS (UINT64_C(1) << 23)
#define PERM_MOVE_MEMBERS (UINT64_C(1) << 24)
#define PERM_USE_VAD (UINT64_C(1) << 25)
#define PERM_CHANGE_NICKNAME (UINT64_C(1) << 26)
#define PERM_MANAGE_NICKNAMES (UINT64_C(1) << 27)
#define PERM_MANAGE_ROLES (UINT64_C(1) << 28)
#define PERM_MANAGE_WEBHOOKS (UINT64_C(1) << 29)
#define PERM_MANAGE_GUILD_EXPRESSIONS (UINT64_C(1) << 30) /* was MANAGE_EMOJIS_AND_STICKERS */
#define PERM_USE_APPLICATION_COMMANDS (UINT64_C(1) << 31)
#define PERM_REQUEST_TO_SPEAK (UINT64_C(1) << 32)
#define PERM_MANAGE_EVENTS (UINT64_C(1) << 33)
#define PERM_MANAGE_THREADS (UINT64_C(1) << 34)
#define PERM_CREATE_PUBLIC_THREADS (UINT64_C(1) << 35)
#define PERM_CREATE_PRIVATE_THREADS (UINT64_C(1) << 36)
#define PERM_USE_EXTERNAL_STICKERS (UINT64_C(1) << 37)
#define PERM_SEND_MESSAGES_IN_THREADS (UINT64_C(1) << 38)
#define PERM_USE_EMBEDDED_ACTIVITIES (UINT64_C(1) << 39)
#define PERM_MODERATE_MEMBERS (UINT64_C(1) << 40)
#define PERM_VIEW_CREATOR_MONETIZATION_ANALYTICS (UINT64_C(1) << 41)
#define PERM_USE_SOUNDBOARD (UINT64_C(1) << 42)
#define PERM_CREATE_GUILD_EXPRESSIONS (UINT64_C(1) << 43)
#define PERM_CREATE_EVENTS (UINT64_C(1) << 44)
#define PERM_USE_EXTERNAL_SOUNDS (UINT64_C(1) << 45)
#define PERM_SEND_VOICE_MESSAGES (UINT64_C(1) << 46)
#define PERM_SET_VOICE_CHANNEL_STATUS (UINT64_C(1) << 48)
#define PERM_SEND_POLLS (UINT64_C(1) << 49)
#define PERM_USE_EXTERNAL_APPS (UINT64_C(1) << 50)
#define PERM_PIN_MESSAGES (UINT64_C(1) << 51)
#define PERM_BYPASS_SLOWMODE (UINT64_C(1) << 52)

/* Every flag above: what the owner and ADMINISTRATOR get. */
#define PERM_ALL (((UINT64_C(1) << 53) - 1) & ~(UINT64_C(1) << 47))

/* What a timed-out member keeps (Discord: "Permissions for Timed Out Members"). */
#define PERM_TIMEOUT_KEEP (PERM_VIEW_CHANNEL | PERM_READ_MESSAGE_HISTORY)

/* What a missing SEND_MESSAGES takes away (Discord: "Implicit Permissions"). */
#define PERM_SEND_IMPLIED                                                                          \
    (PERM_MENTION_EVERYONE | PERM_SEND_TTS_MESSAGES | PERM_ATTACH_FILES | PERM_EMBED_LINKS)

/* What a missing CONNECT takes away in a voice channel: the voice permissions and, as
 * Discord's docs name it, MANAGE_CHANNELS. The text-in-voice permissions stay. */
#define PERM_CONNECT_IMPLIED                                                                       \
    (PERM_MANAGE_CHANNELS | PERM_PRIORITY_SPEAKER | PERM_STREAM | PERM_SPEAK | PERM_MUTE_MEMBERS | \
     PERM_DEAFEN_MEMBERS | PERM_MOVE_MEMBERS | PERM_USE_VAD | PERM_REQUEST_TO_SPEAK |              \
     PERM_USE_EMBEDDED_ACTIVITIES | PERM_USE_SOUNDBOARD | PERM_USE_EXTERNAL_SOUNDS |               \
     PERM_SET_VOICE_CHANNEL_STATUS)

/* A flag and its Discord name ("VIEW_CHANNEL"). */
typedef struct perm_name {
    const char *name;
    uint64_t bit;
} perm_name_t;

/* Every flag, by bit; perm_names_count entries. MANAGE_EMOJIS_AND_STICKERS is not
 * among them but perm_bit_of accepts it. */
extern const perm_name_t perm_names[];
extern const size_t perm_names_count;

/* The name of one flag ("VIEW_CHANNEL"), or NULL if bit is not exactly one known flag. */
const char *perm_name_of(uint64_t bit);

/* The flag called name (exact, upper case). Returns 0 and it in *bit, or -1. */
int perm_bit_of(const char *name, uint64_t *bit);

/* ---- the decimal-string form ------------------------------------------------------------- */

/* Room for any uint64_t in decimal with its NUL. */
#define PERM_STR_SIZE 21

/* Parses a permission set as the API sends it: decimal digits only (1 to 64 of them,
 * leading zeros allowed), nothing else, at most UINT64_MAX. Unknown bits are kept: mask them with
 * PERM_ALL if they must go. Returns 0 and the set in *out, or -1 (empty, a sign, a
 * space, any other character, overflow); *out is untouched then. */
int perm_parse(const char *s, uint64_t *out);

/* perm_parse for a JSON value: a string as above, or a non-negative integer (requests
 * may send either). Returns 0 or -1. */
int perm_parse_json(const json_t *v, uint64_t *out);

/* Formats perms in decimal into buf; returns buf. */
char *perm_format(uint64_t perms, char buf[PERM_STR_SIZE]);

/* Writes the names of perms' flags joined by '|' ("VIEW_CHANNEL|SEND_MESSAGES"; "" for
 * none; unknown bits as "1<<47") into buf of size bytes, cut if it does not fit.
 * Returns the length the whole text needs (as snprintf). For logs and tests. */
size_t perm_format_names(uint64_t perms, char *buf, size_t size);

/* ---- the model ---------------------------------------------------------------------------- */

typedef struct perm_role {
    uint64_t id;
    int32_t position; /* @everyone is 0; equal positions are ordered by id */
    uint64_t permissions;
} perm_role_t;

#define PERM_OW_ROLE 0
#define PERM_OW_MEMBER 1

typedef struct perm_overwrite {
    uint64_t id; /* a role id (type 0: @everyone's is the guild's id) or a user id */
    int type;    /* PERM_OW_ROLE or PERM_OW_MEMBER */
    uint64_t allow;
    uint64_t deny;
} perm_overwrite_t;

/* A guild: its id (= @everyone's role id), owner and roles. roles must be sorted by id
 * (perm_roles_sort) for the lookups; @everyone among them (if it is missing, @everyone
 * has no permissions). */
typedef struct perm_guild {
    uint64_t id;
    uint64_t owner_id;
    perm_role_t *roles;
    size_t nroles;
} perm_guild_t;

/* A member: its user id, its roles (ids; @everyone need not be listed, unknown ids are
 * ignored) and when its timeout ends (communication_disabled_until as Unix ms; 0 or a
 * past time: not timed out). */
typedef struct perm_member {
    uint64_t user_id;
    uint64_t *roles;
    size_t nroles;
    int64_t timeout_until_ms;
} perm_member_t;

/* Channel types the computation distinguishes (the store's numbers). */
#define PERM_CHANNEL_TEXT 0
#define PERM_CHANNEL_VOICE 2
#define PERM_CHANNEL_CATEGORY 4
#define PERM_CHANNEL_STAGE 13

/* A guild channel: its type, overwrites and parent category (the category's model, or
 * NULL; see "Categories" above: used only when the channel has no overwrites). */
typedef struct perm_channel {
    uint64_t id;
    int type;
    perm_overwrite_t *overwrites;
    size_t noverwrites;
    const struct perm_channel *parent;
} perm_channel_t;

/* Sorts roles by id, as perm_guild_t wants them. */
void perm_roles_sort(perm_role_t *roles, size_t n);

/* The role of guild g with id, or NULL. O(log roles). */
const perm_role_t *perm_role_find(const perm_guild_t *g, uint64_t id);

/* Whether m is timed out at now_ms. */
bool perm_timed_out(const perm_member_t *m, int64_t now_ms);

/* ---- the computation ---------------------------------------------------------------------- */

/* m's guild-level permissions at now_ms: PERM_ALL for the owner; else @everyone's
 * permissions OR those of m's roles, PERM_ALL if that has ADMINISTRATOR; a timed-out
 * member (not owner, not administrator) keeps only PERM_TIMEOUT_KEEP of it. */
uint64_t perm_base(const perm_guild_t *g, const perm_member_t *m, int64_t now_ms);

/* Applies c's overwrites (or its category's, see above) for m to base, in Discord's
 * order: @everyone's deny then allow, every role overwrite of m's roles (their denies
 * OR-ed, then their allows OR-ed), m's own deny then allow. No implicit rules, no
 * timeout: the raw step, exposed for tests and tools. */
uint64_t perm_overwrites_apply(uint64_t base, const perm_guild_t *g, const perm_member_t *m,
                               const perm_channel_t *c);

/* m's permissions in channel c of guild g at now_ms: PERM_ALL for the owner and for an
 * administrator; else the base permissions (without the timeout cut) with c's
 * overwrites applied, then
 *   - no VIEW_CHANNEL: nothing at all (0);
 *   - no SEND_MESSAGES: no PERM_SEND_IMPLIED;
 *   - a voice or stage channel without CONNECT: no PERM_CONNECT_IMPLIED;
 *   - timed out: only what PERM_TIMEOUT_KEEP keeps of the result. */
uint64_t perm_channel(const perm_guild_t *g, const perm_member_t *m, const perm_channel_t *c,
                      int64_t now_ms);

/* ---- the hierarchy ------------------------------------------------------------------------ */

/* Whether role a is above role b: a higher position, or the same position and a lower id
 * (Discord sorts equal positions by id, the older role first). */
bool perm_role_above(const perm_role_t *a, const perm_role_t *b);

/* m's highest role: the one above all its others; @everyone's (position 0, id g->id)
 * if it has none. Stores it in *out (a copy, so a missing @everyone still gives
 * position 0 and no permissions). */
void perm_highest_role(const perm_guild_t *g, const perm_member_t *m, perm_role_t *out);

/* The position of m's highest role (0 for @everyone alone). */
int32_t perm_highest_position(const perm_guild_t *g, const perm_member_t *m);

/* Whether actor may act on target (kick, ban, time out, change nick or roles) as far as
 * the hierarchy goes: the owner may act on anyone but itself; nobody acts on the owner;
 * otherwise actor's highest role must be above target's (perm_role_above), so never on
 * someone at or above it, and never on oneself. The permission itself (KICK_MEMBERS,
 * ...) is the caller's to check. */
bool perm_can_manage_member(const perm_guild_t *g, const perm_member_t *actor,
                            const perm_member_t *target);

/* Whether actor may edit, delete, move, give or take role (as far as the hierarchy
 * goes): the owner may; else actor's highest role must be above role. */
bool perm_can_manage_role(const perm_guild_t *g, const perm_member_t *actor,
                          const perm_role_t *role);

/* Whether an actor with guild-level permissions actor_perms (perm_base) may give a
 * role or an overwrite the bits in perms: administrators may give anything, others
 * only bits they have. */
bool perm_can_grant(uint64_t actor_perms, uint64_t perms);

/* ---- building the model from the store's JSON (perm/json.c) ------------------------------- */

/* Each builder reads a Discord-shaped object as the store returns it (ids as decimal
 * strings; integers accepted too), fills *out with arrays it allocates (aborts on
 * OOM), and returns 0; or -1 if a field it needs is missing or malformed, and then
 * *out holds nothing to free. Free what a builder made with the matching _clear. */

/* An id: a decimal snowflake string or a positive integer. */
int perm_id_from_json(const json_t *v, uint64_t *out);

/* From a role object with "id", "position" (absent: 0) and "permissions". Allocates
 * nothing. */
int perm_role_from_json(const json_t *role, perm_role_t *out);

/* From a guild object with "id", "owner_id" and "roles" (each with "id", "position",
 * "permissions"): the roles come sorted. */
int perm_guild_from_json(const json_t *guild, perm_guild_t *out);
void perm_guild_clear(perm_guild_t *g);

/* From a member object with "user" ({"id"}) or "user_id", "roles" (ids) and
 * "communication_disabled_until" (ISO 8601, null or absent). */
int perm_member_from_json(const json_t *member, perm_member_t *out);
void perm_member_clear(perm_member_t *m);

/* From a channel object with "id", "type" and "permission_overwrites" (absent or null:
 * none; each {"id", "type" 0/1 (or "role"/"member"), "allow", "deny"}). parent is set
 * to NULL: the caller links the category. */
int perm_channel_from_json(const json_t *channel, perm_channel_t *out);
void perm_channel_clear(perm_channel_t *c);

/* Parses an ISO 8601 timestamp as the store writes it ("2024-01-02T03:04:05.678000+00:00",
 * also "Z" or another offset, with or without fractions). Returns 0 and Unix ms, or -1. */
int perm_iso_ms(const char *s, int64_t *ms);

/* ---- the per-guild cache (perm/cache.c) ---------------------------------------------------- */

/* One guild's model (roles, owner, channels, members) and, per member, the permissions
 * it has been asked for: its base and each channel's. The hub process that owns the
 * guild holds one, loads it, feeds it every change through the calls below (each one
 * updates the model and invalidates exactly what the change can affect), and asks it
 * in the hot path (fan-out, access checks): a hit costs three hash lookups.
 *
 * What invalidates what:
 *   - a role created, changed (permissions, position) or deleted, the owner changed:
 *     every result (a generation bump: O(1));
 *   - a channel's overwrites (or type, or parent) changed, a channel deleted: that
 *     channel's results, and those of the channels that use it as their category;
 *   - a member's roles or timeout changed, a member removed: that member's results.
 * A timed-out member's results are recomputed once its timeout ends; the caller passes
 * the time (Unix ms) to each query. Members and channels the cache does not know have
 * no permissions (0). Not thread-safe: one process owns it. */
typedef struct perm_cache perm_cache_t;

/* A new, empty cache for guild_id owned by owner_id. Aborts on OOM. */
perm_cache_t *perm_cache_new(uint64_t guild_id, uint64_t owner_id);

/* Frees the cache and everything it holds (NULL: nothing). */
void perm_cache_free(perm_cache_t *c);

/* Loads what store_guild_load returns (a guild object with "roles", "channels" and
 * "members") into a new cache. Returns it, or NULL if guild is malformed (a role,
 * channel or member that does not parse). Aborts on OOM. */
perm_cache_t *perm_cache_load(const json_t *guild);

/* Changes. The _json forms take the store's objects (see the builders above) and
 * return 0, or -1 for a malformed object (nothing changed then). */
void perm_cache_set_owner(perm_cache_t *c, uint64_t owner_id);
/* Adds or replaces a role. */
void perm_cache_set_role(perm_cache_t *c, const perm_role_t *role);
int perm_cache_set_role_json(perm_cache_t *c, const json_t *role);
/* Removes a role (members keep the id, which then counts for nothing). */
void perm_cache_remove_role(perm_cache_t *c, uint64_t role_id);
/* Adds or replaces a channel (type, overwrites copied; parent_id 0 for none). */
void perm_cache_set_channel(perm_cache_t *c, uint64_t channel_id, int type, uint64_t parent_id,
                            const perm_overwrite_t *ows, size_t nows);
int perm_cache_set_channel_json(perm_cache_t *c, const json_t *channel);
void perm_cache_remove_channel(perm_cache_t *c, uint64_t channel_id);
/* Adds or replaces a member (roles copied). */
void perm_cache_set_member(perm_cache_t *c, uint64_t user_id, const uint64_t *roles, size_t nroles,
                           int64_t timeout_until_ms);
int perm_cache_set_member_json(perm_cache_t *c, const json_t *member);
void perm_cache_remove_member(perm_cache_t *c, uint64_t user_id);

/* Queries. */
/* user_id's guild-level permissions (perm_base) at now_ms; 0 if not a member. */
uint64_t perm_cache_base(perm_cache_t *c, uint64_t user_id, int64_t now_ms);
/* user_id's permissions in channel_id (perm_channel) at now_ms; 0 if not a member or
 * no such channel. */
uint64_t perm_cache_channel(perm_cache_t *c, uint64_t user_id, uint64_t channel_id, int64_t now_ms);
/* Whether user_id has every bit of need in channel_id (channel_id 0: at guild level). */
bool perm_cache_has(perm_cache_t *c, uint64_t user_id, uint64_t channel_id, uint64_t need,
                    int64_t now_ms);
/* perm_can_manage_member and perm_can_manage_role over the cache's model; false when
 * actor or target is not a member or the role does not exist. */
bool perm_cache_can_manage_member(perm_cache_t *c, uint64_t actor_id, uint64_t target_id);
bool perm_cache_can_manage_role(perm_cache_t *c, uint64_t actor_id, uint64_t role_id);

/* The model the cache holds, read-only, valid until the next change: for the hierarchy
 * helpers and tests. perm_cache_member and perm_cache_channel_model return NULL for
 * unknown ids; a channel's parent is NULL there (the cache links it by id). */
const perm_guild_t *perm_cache_guild(const perm_cache_t *c);
const perm_member_t *perm_cache_member(const perm_cache_t *c, uint64_t user_id);
const perm_channel_t *perm_cache_channel_model(const perm_cache_t *c, uint64_t channel_id);

/* Counters, for tests and stats. */
typedef struct perm_cache_stats {
    uint64_t hits;
    uint64_t misses;
    size_t members;
    size_t channels;
    size_t entries; /* cached member x channel results, stale ones included */
} perm_cache_stats_t;
void perm_cache_stats(const perm_cache_t *c, perm_cache_stats_t *out);

#ifdef __cplusplus
}
#endif
#endif /* HEARTH_APPS_PERM_H */
