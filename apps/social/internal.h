/* Private parts of apps/social: the process's state, its messages, and the helpers its
 * files share.
 *
 * How the files fit:
 *   social.c     the server process: sessions joining and leaving, relationship change
 *                notices, friend lists (loaded from the store by jobs), the calls
 *   presence.c   each user's effective presence, the per-user rate, fan-out to friends'
 *                session queues, and the flush that turns queues into messages
 *   api.c        the functions other apps call (social.h), batches, event names
 *   idmap.c      the id -> pointer hash map the others index with
 *
 * Memory: a user is kept while it has a session (joined or held), a presence change on
 * its way out, or a friend list being loaded; a session holds only its queue between
 * flushes. */
#ifndef HEARTH_APPS_SOCIAL_INTERNAL_H
#define HEARTH_APPS_SOCIAL_INTERNAL_H

#include "social.h"

#include "hub/hub.h"
#include "store/social.h"

#include "hearth/server.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- idmap.c: uint64_t keys (never 0) -> pointers -------------------------------------------- */

typedef struct sx_map {
    uint64_t *keys; /* 0: an empty slot */
    void **vals;
    size_t cap; /* a power of two, or 0 */
    size_t n;
} sx_map_t;

/* Zero-initialize; sx_map_free drops the table (the map may be used again). */
void sx_map_free(sx_map_t *m);
/* Sets key to val (replacing). Aborts on OOM. */
void sx_map_put(sx_map_t *m, uint64_t key, void *val);
/* The value of key, or NULL. */
void *sx_map_get(const sx_map_t *m, uint64_t key);
/* Removes key; returns its value, or NULL if it was not there. */
void *sx_map_del(sx_map_t *m, uint64_t key);
/* for (i = 0; sx_map_next(m, &i, &k, &v);) visits each entry; no changes meanwhile. */
bool sx_map_next(const sx_map_t *m, size_t *i, uint64_t *key, void **val);

/* ---- messages to the process ----------------------------------------------------------------- */

#define SX_TAG_PREPARE (SOCIAL_TAG_BASE + 0x10)   /* call: sx_prepare_t */
#define SX_TAG_PRESENCES (SOCIAL_TAG_BASE + 0x11) /* call: user ids; reply: JSON array */
#define SX_TAG_STATS (SOCIAL_TAG_BASE + 0x12)     /* call; reply: social_stats_t */
#define SX_TAG_SESSION (SOCIAL_TAG_BASE + 0x20)   /* cast: sx_session_t, then activities */
#define SX_TAG_LEAVE (SOCIAL_TAG_BASE + 0x21)     /* cast from the session */
#define SX_TAG_CHANGE (SOCIAL_TAG_BASE + 0x22)    /* cast: sx_change_t, then JSON */
#define SX_TAG_FLUSH (SOCIAL_TAG_BASE + 0x30)     /* the flush timer */
#define SX_TAG_RATE (SOCIAL_TAG_BASE + 0x31)      /* a user's rate window: value = user id */

typedef struct sx_prepare {
    uint64_t user_id;
    hearth_pid_t session;
} sx_prepare_t;

typedef struct sx_session {
    uint64_t user_id;
    uint32_t form;
    char status[16];
} sx_session_t;

/* Then the JSON text of {"user": user's object or null, "other": other's or null}. */
typedef struct sx_change {
    uint64_t user, other;
    store_rel_change_t ch;
} sx_change_t;

/* ---- state ----------------------------------------------------------------------------------- */

enum { SX_OFFLINE = 0, SX_ONLINE = 1, SX_IDLE = 2, SX_DND = 3 };

/* One event waiting for a session's flush. A joined session's entries hold the encoded
 * payload; a held session (not joined yet: its form is unknown) holds the document. */
typedef struct sx_item {
    hearth_payload_t *p; /* a reference, or NULL */
    json_t *doc;         /* a reference, or NULL */
    uint64_t key;        /* a presence: the user it is about (a newer one replaces it); 0 */
    int32_t ev;          /* hub_event_t or SOCIAL_EV_* */
} sx_item_t;

struct sx_user;

typedef struct sx_sess {
    hearth_pid_t pid;
    uint64_t mon;
    struct sx_user *user;
    uint64_t spoke; /* the process's counter when it last gave its presence */
    json_t *acts;   /* its activities (a non-empty array), or NULL */
    uint8_t form;   /* HUB_FORM_JSON or HUB_FORM_ETF; 0 while held */
    uint8_t status; /* SX_* */
    bool joined;    /* READY sent: events go out; else they are held */
    bool dirty;     /* on the flush list */
    sx_item_t *q;
    uint32_t nq, capq;
} sx_sess_t;

enum { SX_FRIENDS_NONE = 0, SX_FRIENDS_LOADING, SX_FRIENDS_READY };

#define SX_RATE_MAX 16 /* the most presence_rate may be (the ring is per user online) */

typedef struct sx_user {
    uint64_t id;
    sx_sess_t **s; /* its sessions, joined or held */
    uint32_t ns, caps;
    /* The presence friends were last shown, and the rate window's recent sends. */
    uint8_t shown;
    json_t *shown_acts;        /* a non-empty array, or NULL */
    int64_t shown_ms;          /* when it was shown (last_modified) */
    bool held;                 /* a change waits for the window (timer armed) */
    uint64_t timer;            /* the window timer's ref, 0 if none */
    int64_t sent[SX_RATE_MAX]; /* a ring of the last sends' times */
    uint32_t nsent, sent_head;
    /* Friends (sorted ids), while the user is around. */
    uint64_t *friends;
    uint32_t nfriends, capfriends;
    uint8_t fstate; /* SX_FRIENDS_* */
    bool fdirty;    /* a change came during the load: load again */
} sx_user_t;

/* A friend list load (a store job): shared by the job and the process, freed by the
 * last of them, so either may go first (the process at shutdown, the job on a stalled
 * pool). */
typedef struct sx_load {
    atomic_int refs;
    atomic_bool ran; /* the job ran (the pool skips it when it has no store connection) */
    uint64_t user_id;
    uint64_t *ids;
    size_t n;
    int rc;
} sx_load_t;

typedef struct sx {
    social_config_t cfg;
    sx_map_t users;      /* user id -> sx_user_t */
    sx_map_t sessions;   /* session pid -> sx_sess_t */
    sx_map_t loads;      /* work ref -> sx_load_t */
    hearth_pid_t *dirty; /* sessions with a queue, for the next flush */
    size_t ndirty, capdirty;
    bool flush_armed;
    uint64_t clock; /* counts presence statements: the newest session speaks */
    social_stats_t stats;
} sx_t;

/* The process's settings, set by social_child_start before it runs. */
extern social_config_t sx__config;

/* ---- social.c -------------------------------------------------------------------------------- */

extern const hearth_server_cbs_t sx__cbs;

sx_user_t *sx__user(sx_t *x, uint64_t id, bool create);
/* Frees u if nothing keeps it any more (see the file comment). */
void sx__user_maybe_free(sx_t *x, sx_user_t *u);
/* Whether a is among u's friends (its list must be loaded). */
bool sx__is_friend(const sx_user_t *u, uint64_t a);

/* ---- presence.c ------------------------------------------------------------------------------ */

/* The status code of a status name (invisible and unknown names: offline). */
int sx__status_code(const char *status);
/* u's presence as friends see it: a PRESENCE_UPDATE "d" without guild_id. */
json_t *sx__presence_doc(const sx_user_t *u);
/* Recomputes u's effective presence from its joined sessions and, if it differs from
 * what friends were shown, shows it (now, or when the rate window allows). */
void sx__presence_changed(sx_t *x, sx_user_t *u);
/* The rate window timer of u fired. */
void sx__presence_window(sx_t *x, sx_user_t *u);

/* Queues event ev (doc borrowed; enc, if not NULL, caches its encodings per form) for
 * session s; key: the user a presence is about (0: not a presence). */
typedef struct sx_enc {
    json_t *doc;
    hearth_payload_t *p[2]; /* per form, made on first use */
} sx_enc_t;
void sx__queue(sx_t *x, sx_sess_t *s, int32_t ev, uint64_t key, sx_enc_t *enc);
/* Drops an encoding's payloads (not its doc). */
void sx__enc_clear(sx_enc_t *enc);
/* Sends s's queue now (a joined session). */
void sx__flush_session(sx_t *x, sx_sess_t *s);
/* The flush timer: every dirty session's queue goes. */
void sx__flush_all(sx_t *x);
/* Drops s's queue. */
void sx__queue_free(sx_sess_t *s);

#endif /* HEARTH_APPS_SOCIAL_INTERNAL_H */
