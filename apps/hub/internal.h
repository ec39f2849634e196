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
 *   ops_message.c  messages, mentions, reactions, typing
 *   ops_guild.c  access checks, channels, the guild, members, invites
 *   directory.c  the session directory (a server process)
 *   etf.c        ETF <-> jansson (also used by apps/gateway)
 *   u64map.c     the small hash map the others index with */
#ifndef HEARTH_APPS_HUB_INTERNAL_H
#define HEARTH_APPS_HUB_INTERNAL_H

#include "hub.h"
#include "u64map.h"

#include "store/store.h"

#include "hearth/server.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- configuration ----------------------------------------------------------------------- */

#define HUB_DEFAULT_IDLE_MS 300000
#define HUB_DEFAULT_CALL_TIMEOUT_MS 10000
#define HUB_STACK_SIZE ((size_t)256 << 10) /* only touched pages become resident */

/* The tree's settings, set once by hub_sup_child_start before any hub runs. */
extern hub_config_t hub__config;

/* ---- wire format: requests and replies ---------------------------------------------------- */

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

/* ---- the hub process ------------------------------------------------------------------------ */

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
} hub_fan_t;

/* Encodes d once per wire form (and content variant) some allowed subscriber needs and
 * sends it. d is borrowed. */
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

/* ---- helpers shared by the op files (ops_util.c) ------------------------------------------ */

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

#endif /* HEARTH_APPS_HUB_INTERNAL_H */
