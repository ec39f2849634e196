/* Private parts of apps/hub: the hub process's state, the request and reply wire
 * format, the directory's internal protocol, and the helpers the op files share.
 *
 * How the files fit:
 *   sup.c        the hub tree (supervisors), hub_guild_pid/hub_private_pid,
 *                hub_request, results, event names
 *   hub.c        the hub process: a green thread that loads its guild (or private
 *                channel), then handles requests, subscriptions, presence and DOWNs
 *                one at a time, and stops when idle
 *   fanout.c     encoding an event once per wire form and sending it to the
 *                subscribers allowed to see it; GUILD_CREATE snapshots
 *   presence.c   presences in a guild hub
 *   members.c    REQUEST_GUILD_MEMBERS answers (GUILD_MEMBERS_CHUNK)
 *   ops_util.c   results, Discord errors, form errors, argument parsing
 *   perms.c      the guild's permission cache (apps/perm): loading it, feeding it,
 *                the access checks every op starts with
 *   audit.c      audit log entries (the store's) and their dispatch
 *   ops_message.c  messages, mentions, reactions, typing
 *   ops_guild.c  the op dispatcher, access checks, the guild, invites
 *   ops_channel.c  channels and their permission overwrites
 *   ops_member.c members: join, leave and kick, modify (timeouts), their roles, bans
 *   ops_role.c   roles: create, modify, delete, positions
 *   ops_automod.c  auto-moderation: the rules' ops, checking messages, the actions
 *   directory.c  the session directory (a server process)
 *   etf.c        ETF <-> jansson (also used by apps/gateway)
 *   u64map.c     the small hash map the others index with */
#ifndef HEARTH_APPS_HUB_INTERNAL_H
#define HEARTH_APPS_HUB_INTERNAL_H

#include "hub.h"
#include "u64map.h"

#include "automod/automod.h"
#include "perm/perm.h"
#include "store/store.h"

#include "hearth/server.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- configuration --------------------------------------------------------------------------- */

#define HUB_DEFAULT_IDLE_MS 300000
#define HUB_DEFAULT_CALL_TIMEOUT_MS 10000
#define HUB_STACK_SIZE ((size_t)256 << 10) /* only touched pages become resident */

/* The tree's settings, set once by hub_sup_child_start before any hub runs. */
extern hub_config_t hub__config;

/* ---- wire format: requests and replies ------------------------------------------------------- */

/* hub_request -> hub (a hearth_call): a hub_req_t, then the args as JSON text. */
#define HUB_TAG_REQUEST (HUB_TAG_BASE + 0x10)
/* hub -> caller (the reply): a hub_reply_t, then the body as JSON text (if any). */
#define HUB_TAG_REPLY (HUB_TAG_BASE + 0x11)

typedef struct hub_req {
    uint32_t op;
    uint64_t actor;
} hub_req_t;

typedef struct hub_reply {
    int32_t status; /* 0: the hub is stopping, ask again (a new hub) */
    int32_t code;
    char message[128];
} hub_reply_t;

/* ---- wire format: the directory's own messages ----------------------------------------------- */

/* A private hub asks which sessions its recipients have (a call; bytes: the user ids)
 * and is told of every later one (HUB_TAG_DIR_UP); unwatch when it stops. */
#define HUB_TAG_DIR_WATCH (HUB_TAG_BASE + 0x22)
#define HUB_TAG_DIR_UNWATCH (HUB_TAG_BASE + 0x23)
#define HUB_TAG_DIR_UP (HUB_TAG_BASE + 0x24) /* bytes: one hub_dir_sess_t */
/* A hub asks the directory to forward a message to every session of a user (cast):
 * bytes = hub_dir_notify_t, then the message's bytes. */
#define HUB_TAG_DIR_NOTIFY (HUB_TAG_BASE + 0x25)
#define HUB_TAG_DIR_DRAIN (HUB_TAG_BASE + 0x26)
#define HUB_TAG_DIR_COUNT (HUB_TAG_BASE + 0x27) /* a call; bytes: the user id */

/* One session as the directory reports it. */
typedef struct hub_dir_sess {
    hearth_pid_t pid;
    uint64_t user_id;
    uint64_t intents;
    uint32_t form;
    uint32_t shard_id;
} hub_dir_sess_t;

typedef struct hub_dir_notify {
    uint64_t user_id;
    uint32_t tag; /* the tag the sessions get */
} hub_dir_notify_t;

/* The directory's server callbacks (directory.c). */
extern const hearth_server_cbs_t hub__directory_cbs;

/* ---- the hub process ------------------------------------------------------------------------- */

enum { HUB_KIND_GUILD = 1, HUB_KIND_PRIVATE = 2 };

/* What hub_child_start hands the new hub (malloc'd; the hub frees it). */
typedef struct hub_start {
    int kind;
    uint64_t id;
} hub_start_t;

/* One subscribed session. */
typedef struct hub_sub {
    hearth_pid_t pid;
    uint64_t user_id;
    uint64_t intents;
    uint64_t mon; /* the hub's monitor of the session */
    uint8_t form; /* 0: JSON, 1: ETF (HUB_FORM_* - 1) */
} hub_sub_t;

typedef struct hub {
    int kind;
    uint64_t id;           /* guild id, or private channel id */
    bool gone;             /* deleted: refuse everything, then stop */
    bool stop;             /* leave the loop after this message */
    int64_t last_activity; /* hearth_now_ms of the last request or subscription */

    /* A guild hub's state, as the store loaded it and the ops keep it. */
    json_t *guild;      /* the guild object (roles included), without channels/members */
    json_t *channels;   /* object: channel id -> channel */
    json_t *members;    /* object: user id -> member (with user) */
    u64map_t presences; /* user id -> presence (online users only): see presence.c */
    uint64_t owner_id;
    perm_cache_t *perms; /* the permission model of roles, channels, members: perms.c */
    automod_t *am;       /* the guild's auto-moderation rules: ops_automod.c */

    /* A private hub's state. */
    json_t *channel; /* the channel object with every recipient */
    uint64_t *recipients;
    size_t nrecipients;

    /* Subscribers: guild hubs by subscription, private hubs from the directory. */
    hub_sub_t *subs;
    size_t nsubs, capsubs;
    u64map_t sub_index; /* pid -> index in subs */
    u64map_t user_subs; /* user id -> how many of subs are that user's */

    /* Encoded GUILD_CREATE snapshots: [form][large], NULL until asked for. */
    hearth_payload_t *snap[2][2];
} hub_t;

/* hub.c */
/* Adds a subscriber (monitoring it) unless it is there; returns its index. */
size_t hub__sub_add(hub_t *h, hearth_pid_t pid, uint64_t user_id, uint64_t intents, unsigned form);
/* Removes the subscriber at index i (demonitoring it). Returns the user's remaining
 * subscription count in this hub. */
size_t hub__sub_remove(hub_t *h, size_t i);
/* Index of pid's subscription, or (size_t)-1. */
size_t hub__sub_find(const hub_t *h, hearth_pid_t pid);
/* Removes every subscription of user_id (after sending them GUILD_DELETE when
 * guild_delete). */
void hub__unsubscribe_user(hub_t *h, uint64_t user_id, bool guild_delete);
/* Drops the cached snapshots: all of them, or (members_only) those that list members
 * and presences. */
void hub__snap_invalidate(hub_t *h, bool members_only);

/* fanout.c */
typedef struct hub_fan {
    hub_event_t ev;
    uint64_t need;          /* intent bits, any of which lets a session see it */
    bool message;           /* MESSAGE_CREATE/UPDATE: strip content without the intent */
    const uint64_t *exempt; /* users that see content anyway (author, mentioned), sorted */
    size_t nexempt;
    uint64_t only_user; /* nonzero: only this user's sessions */
    uint64_t skip_user; /* nonzero: not this user's sessions */
    /* Permissions (guild hubs): */
    uint64_t channel_id; /* nonzero: only users who may view this channel... */
    uint64_t chan_perm;  /* ...and have these bits in it */
    uint64_t guild_perm; /* nonzero: only users with these guild-level bits */
    /* More intents: */
    uint64_t need_all; /* bits a session must all have */
    uint64_t lack;     /* bits a session must not have */
} hub_fan_t;

/* Encodes d once per wire form (and content variant) some allowed subscriber needs and
 * sends it. d is borrowed. A permission filter costs a cache lookup per subscriber
 * (perm_cache_t: a few hash probes); the encoding stays once per form. */
void hub__fanout(hub_t *h, const hub_fan_t *f, json_t *d);
/* Sends one event to one session (an encoding of its own: rare events only). */
void hub__send_one(hub_t *h, hearth_pid_t pid, unsigned form, hub_event_t ev, json_t *d);
/* Answers a subscription with the snapshot (value 1), or refuses it (value 0). */
void hub__send_snapshot(hub_t *h, hearth_pid_t pid, unsigned form, uint64_t ref,
                        uint32_t large_threshold, uint64_t user_id);
void hub__send_refusal(hearth_pid_t pid, uint64_t ref);
/* A new shared payload holding d encoded in form (0 JSON, 1 ETF). */
hearth_payload_t *hub__encode(json_t *d, unsigned form);

/* presence.c */
/* Sets user_id's presence (status "online", "idle", "dnd", "invisible", "offline";
 * activities borrowed, may be NULL) and fans PRESENCE_UPDATE out if it changed. */
void hub__presence_set(hub_t *h, uint64_t user_id, const char *status, json_t *activities);
/* The user's last subscription ended, or it left: offline. */
void hub__presence_gone(hub_t *h, uint64_t user_id);
/* The "presences" array of a snapshot (new reference). */
json_t *hub__presence_list(hub_t *h);
/* Frees every presence (the hub is ending). */
void hub__presence_free(hub_t *h);
/* user_id's PRESENCE_UPDATE "d" (new reference), or NULL if offline. */
json_t *hub__presence_of(hub_t *h, uint64_t user_id);

/* members.c: a session's REQUEST_GUILD_MEMBERS (HUB_TAG_MEMBERS). */
void hub__members_request(hub_t *h, hearth_msg_t *m);

/* ops_*.c: each fills res (zeroed on entry) for one request. */
void hub__op(hub_t *h, hub_op_t op, uint64_t actor, json_t *args, hub_result_t *res);

/* ---- helpers shared by the op files (ops_util.c) --------------------------------------------- */

/* Results. */
void hub__ok(hub_result_t *r, int status, json_t *body); /* takes body (may be NULL) */
void hub__err(hub_result_t *r, int status, int code, const char *message);
/* Discord's text for code, as the error's message. */
void hub__errc(hub_result_t *r, int status, int code);
/* A store error as a result: STORE_ENOTFOUND -> 404 with unknown_code, STORE_EINVAL ->
 * 400/50035, STORE_EPERM -> 403/50013, STORE_ELIMIT -> 400/30010, else 500. */
void hub__store_err(hub_result_t *r, int rc, int unknown_code);
const char *hub__code_text(int code);

/* Form errors (50035): adds {"code", "message"} under path ("content",
 * "message_reference.message_id") in *errs (created on first use). */
void hub__form_error(json_t **errs, const char *path, const char *code, const char *message);
/* Ends with 400/50035 and errs as the body (taken). */
void hub__form_fail(hub_result_t *r, json_t *errs);

/* Arguments. An id member: 1 and *out if present and valid (a snowflake string or a
 * positive integer), 0 if absent or null, -1 if malformed. */
int hub__arg_id(const json_t *args, const char *key, uint64_t *out);
/* A value's id (string or integer), or 0. */
uint64_t hub__json_id(const json_t *v);
json_t *hub__id_json(uint64_t id);
/* A key for the json objects indexed by id. buf: at least 21 bytes. */
const char *hub__key(uint64_t id, char *buf);

/* Guild state queries. */
bool hub__is_member(const hub_t *h, uint64_t user_id);
json_t *hub__channel(const hub_t *h, uint64_t channel_id); /* borrowed, or NULL */
bool hub__is_recipient(const hub_t *h, uint64_t user_id);

/* A store job: generic inputs and outputs, heap-allocated so that a hub killed while
 * waiting leaves the worker nothing dangling (only a leak). */
typedef struct hub_job {
    uint64_t a, b, c, d;
    const char *str;
    const json_t *params;
    size_t n;
    int64_t i;
    json_t *out, *out2;
} hub_job_t;
hub_job_t *hub__job_new(void);
/* Frees j and its outputs. */
void hub__job_free(hub_job_t *j);
/* store_call(fn, j), mapping a failed submission to STORE_EIO. */
int hub__job_run(store_job_fn fn, hub_job_t *j);

/* The member object as events carry it inside messages (no user). */
json_t *hub__member_partial(const hub_t *h, uint64_t user_id);
/* The cached member object of user_id (borrowed), or NULL. */
json_t *hub__member(const hub_t *h, uint64_t user_id);
/* Fans a guild-level event out to the sessions with one of the need intents (0: all)
 * and, when perm is not 0, whose user has the guild-level permission bits perm. */
void hub__fan_guild(hub_t *h, hub_event_t ev, uint64_t need, uint64_t perm, json_t *d);
/* GUILD_MEMBER_* "d": a copy of member with guild_id (new reference). */
json_t *hub__member_event(hub_t *h, const json_t *member);

/* ---- permissions (perms.c) ------------------------------------------------------------------- */

/* The wall clock in Unix ms: timeouts are wall-clock times (ISO 8601 in the store). */
int64_t hub__now_ms(void);

/* Builds h->perms from what store_guild_load returned (roles, channels, members). A
 * channel whose overwrites do not parse is kept hidden from all but the owner and
 * administrators (an @everyone overwrite denying VIEW_CHANNEL) rather than shown to
 * all. */
void hub__perms_load(hub_t *h, const json_t *guild);

/* user_id's permissions in channel_id (0: at guild level) now; 0 for a non-member. A
 * private hub's recipients have every permission in their channel. */
uint64_t hub__perms(hub_t *h, uint64_t user_id, uint64_t channel_id);

/* The check every op starts with: actor is a member (recipient) and, with channel_id,
 * can view that channel (else 403/50001); and has every bit of need there (channel_id
 * 0: at guild level; else 403/50013). Returns true, or false with res filled. */
bool hub__check(hub_t *h, uint64_t actor, uint64_t channel_id, uint64_t need, hub_result_t *res);

/* The hierarchy: whether actor may act on member target / on role role_id (the owner
 * on anyone but itself; else its highest role above theirs). */
bool hub__above_member(hub_t *h, uint64_t actor, uint64_t target);
bool hub__above_role(hub_t *h, uint64_t actor, uint64_t role_id);

/* Feeding the cache with a change (objects as the store returns them). */
void hub__perm_member(hub_t *h, const json_t *member);
void hub__perm_channel(hub_t *h, const json_t *channel);

/* ---- the audit log (audit.c) ----------------------------------------------------------------- */

/* Appends {"key", "old_value", "new_value"} to *changes (an array made on first use);
 * old or new may be NULL (left out, as Discord does for a value that was not there). */
void hub__change(json_t **changes, const char *key, json_t *old_value, json_t *new_value);
/* The changes of the keys of args (but "reason" and the ids that name what a request
 * is about: channel_id, user_id, ...) whose values differ between before and after,
 * into *changes. */
void hub__diff(json_t **changes, const json_t *args, const json_t *before, const json_t *after);
/* args' "reason" (X-Audit-Log-Reason) cut to STORE_REASON_MAX characters at a
 * character boundary, in buf (size: 4 * STORE_REASON_MAX + 1 holds any); NULL if none. */
const char *hub__reason(const json_t *args, char *buf, size_t size);
/* Records an entry: actor did action_type to target (0: none) with changes and options
 * (both taken, may be NULL), and args' "reason"; then sends it as
 * GUILD_AUDIT_LOG_ENTRY_CREATE. A failure to record is not the op's: the op's own write
 * is committed by then, so it is dropped (the entry is a record, not the action). */
void hub__audit(hub_t *h, uint64_t actor, int action_type, uint64_t target, json_t *changes,
                json_t *options, const json_t *args);

/* ---- ops in other files ---------------------------------------------------------------------- */

/* ops_role.c: makes roles (the store's role list after a write; taken, may be NULL)
 * the hub's: the permission cache, the members, the snapshots, then one
 * GUILD_ROLE_DELETE/CREATE/UPDATE per role gone, new or changed. */
void hub__roles_replace(hub_t *h, json_t *roles);
/* Each returns false if op is not one of its ops. */
bool hub__op_message(hub_t *h, hub_op_t op, uint64_t actor, json_t *args, hub_result_t *res);
bool hub__op_channel(hub_t *h, hub_op_t op, uint64_t actor, json_t *args, hub_result_t *res);
bool hub__op_member(hub_t *h, hub_op_t op, uint64_t actor, json_t *args, hub_result_t *res);
bool hub__op_role(hub_t *h, hub_op_t op, uint64_t actor, json_t *args, hub_result_t *res);
bool hub__op_automod(hub_t *h, hub_op_t op, uint64_t actor, json_t *args, hub_result_t *res);

/* MESSAGE_CREATE/UPDATE of msg (ops_message.c): with guild_id and the author's member,
 * to those who may view its channel, with content for the author and the mentioned. */
void hub__fan_message(hub_t *h, hub_event_t ev, json_t *msg, uint64_t author);

/* Member changes others make happen (ops_member.c): writes params (store_member_modify
 * fields) for user_id, caches the member, sends GUILD_MEMBER_UPDATE. Returns 0 and the
 * member (borrowed from the cache) in *out (may be NULL), or a STORE_E* code. */
int hub__member_write(hub_t *h, uint64_t user_id, const json_t *params, json_t **out);

/* Auto-moderation of a message (ops_automod.c). The hub loads its rules at start
 * (hub__automod_load). hub__automod_check runs the rules on a message about to be
 * written (author, channel, content, the mentions it has, edit or create), filling *v
 * and *m. When a rule blocks it, the actions are carried out at once and it returns
 * false with res holding 400/200000: the message must not be written. Else it returns
 * true, and once the message is written the op calls hub__automod_after(h, v, m, its
 * id), which carries out the actions (alerts, timeouts, events, audit entries) and
 * clears *v; with no hit that costs nothing. content must outlive both calls. */
void hub__automod_load(hub_t *h);
bool hub__automod_check(hub_t *h, uint64_t author, uint64_t channel_id, const char *content,
                        size_t mention_count, bool edit, automod_verdict_t *v, automod_message_t *m,
                        hub_result_t *res);
void hub__automod_after(hub_t *h, automod_verdict_t *v, const automod_message_t *m,
                        uint64_t message_id);

#endif /* HEARTH_APPS_HUB_INTERNAL_H */
