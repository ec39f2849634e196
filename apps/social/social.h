/* Friends and blocks, live: the social process, which sends RELATIONSHIP_ADD/REMOVE to
 * the sessions of both users a relationship change touches, and each user's presence to
 * their friends' sessions (PRESENCE_UPDATE without guild_id, as Discord sends a friend's
 * presence), whether or not they share a guild.
 *
 * One server process, registered as SOCIAL_NAME, started by the server's top supervisor
 * (social_child_start). It knows the gateway sessions of people (not bots) that joined
 * it, each user's effective presence, and the friend ids of each user online (loaded from
 * the store, kept current by the change notices REST sends). The relationships
 * themselves live in the store (store/social.h); REST writes them and then tells this
 * process (social_relationship_changed).
 *
 * Presence storms. A user's presence change is encoded once per wire form and queued,
 * as a reference to that shared payload, on each receiving session; the queues are
 * flushed every flush_ms: a session with one event gets one HUB_TAG_EVENT, a session
 * with several gets one SOCIAL_TAG_BATCH message carrying them all (a later update of
 * the same user replaces an earlier one still queued). So a user with 2,000 friends
 * going online costs one message per friend session, and 2,000 friends coming online
 * at once cost each of their common friend's sessions one message per flush. Each
 * user's presence reaches friends at most presence_rate times per presence_window_ms;
 * changes beyond that are held, and only the latest goes when the window allows.
 * Invisible is shown as offline.
 *
 * What the gateway does (session side):
 *   - the identify helper (a green thread), for a person's session, before READY:
 *       social_ready(session, user_id, &relationships, &presences)
 *     for READY's "relationships" and "presences" (the online friends' presences); from
 *     then on events for that session are held until it joins;
 *   - the session, once READY is sent, and on each PRESENCE_UPDATE (op 3):
 *       social_session_presence(user_id, form, status, activities)
 *     (the first call joins: the held events follow at once);
 *   - a session that resets to unidentified: social_session_leave(); a session that
 *     ends needs nothing (the process monitors its sessions: the user's last session
 *     going shows the user offline to friends);
 *   - in its handler: SOCIAL_TAG_BATCH -> social_batch_next for each event, dispatched
 *     as a HUB_TAG_EVENT is; event names of SOCIAL_EV_* values from social_event_name.
 *
 * Ordering: each session gets the events of relationship changes in the order the
 * process receives the notices, so whoever writes relationships sends the notices in
 * commit order (REST does: apps/api/relationships.c), and a presence that two new
 * friends are shown comes after their RELATIONSHIP_ADD. */
#ifndef HEARTH_APPS_SOCIAL_H
#define HEARTH_APPS_SOCIAL_H

#include "hearth/hearth.h"
#include "store/social.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SOCIAL_API_VERSION 1

/* Message tags SOCIAL_TAG_BASE .. +0xFF are the social process's ("SO"). */
#define SOCIAL_TAG_BASE 0x534F0000u

#define SOCIAL_NAME "social"

/* ---- what sessions receive -------------------------------------------------------------- */

/* Events beyond hub_event_t, in a HUB_TAG_EVENT's value (or a batch's entries). Their
 * "d" is Discord's: RELATIONSHIP_ADD a relationship object (store/social.h) plus
 * "should_notify" (true for an incoming request); RELATIONSHIP_REMOVE {"id", "type" (the
 * type removed), "nickname": null}. Friends' presences come as HUB_EV_PRESENCE_UPDATE:
 * {"user": {"id"}, "status", "activities", "client_status", "last_modified"}. */
#define SOCIAL_EV_RELATIONSHIP_ADD 0x5301
#define SOCIAL_EV_RELATIONSHIP_REMOVE 0x5302

/* The dispatch name of a SOCIAL_EV_* value ("RELATIONSHIP_ADD"), or NULL for any other
 * value (a hub_event_t: hub_event_name has it). */
const char *social_event_name(int64_t ev);

/* Several events for one session in one message: a shared payload of entries, each an
 * event number and an encoded "d" in the session's form. */
#define SOCIAL_TAG_BATCH (SOCIAL_TAG_BASE + 1)

/* The next event of batch m (borrowed) from *pos (start at 0): a new HUB_TAG_EVENT
 * message (value = the event, data/len = its "d", pointing into the batch's shared
 * payload, which it references: no copy), the caller's; NULL after the last one. */
hearth_msg_t *social_batch_next(const hearth_msg_t *m, size_t *pos);

/* ---- the process -------------------------------------------------------------------------- */

/* Settings; zero fields take the defaults. */
typedef struct social_config {
    int64_t flush_ms;           /* events queued for a session wait at most this long: 50 */
    uint32_t presence_rate;     /* presence changes a user's friends see per window: 5 (1..16) */
    int64_t presence_window_ms; /* the window: 20000 */
    uint32_t held_max;          /* events kept for a session that has not joined yet: 4096 */
} social_config_t;

/* A hearth_child_start_fn for the server's top supervisor: starts the social process
 * (a server registered as SOCIAL_NAME), linked to the caller. arg: a social_config_t
 * (copied) or NULL. Returns 0 and the pid in *out, or HEARTH_EEXIST (one runs already)
 * or another code from hearth_server_start. */
int social_child_start(void *arg, hearth_pid_t *out);

/* ---- the gateway's calls -------------------------------------------------------------------- */

/* For a person's session that is about to be READY (the identify helper: a green or
 * attached thread): registers session with the social process, so that events for its
 * user are held for it from now on, then reads the user's relationships from the store
 * and asks the process for the presences of the friends who are online. *relationships
 * and *presences always get new arrays (empty ones on an error), the caller's. Returns 0,
 * a STORE_E* code (the store failed: no relationships), or HEARTH_ENOENT (no social
 * process: relationships but no presences). */
int social_ready(hearth_pid_t session, uint64_t user_id, json_t **relationships,
                 json_t **presences);

/* From a person's session process (the caller is the session): its presence, once READY
 * is sent (the first call joins the session: the events held for it are sent), and on
 * every PRESENCE_UPDATE (op 3). form: HUB_FORM_JSON or HUB_FORM_ETF; status "online",
 * "idle", "dnd", "invisible" or "offline" (NULL: online; invisible and offline show the
 * user offline); activities an array (NULL: none), borrowed. The user's presence is the
 * one its newest-speaking live session gave. Returns 0 or HEARTH_ENOENT (no social
 * process). A cast: it never blocks. */
int social_session_presence(uint64_t user_id, unsigned form, const char *status,
                            const json_t *activities);

/* From a session process: it no longer speaks for its user (it reset to unidentified).
 * Sessions that end need not call it. Returns 0 or HEARTH_ENOENT. */
int social_session_leave(void);

/* ---- REST's calls ---------------------------------------------------------------------------- */

/* After a relationship change committed (store/social.h): user acted on other, ch is
 * what changed; user_rel and other_rel are each side's relationship object after the
 * change (borrowed; NULL where that side has no row). The process sends each side whose
 * row changed RELATIONSHIP_ADD (its new object) or RELATIONSHIP_REMOVE (the type it
 * lost), keeps its friend lists current, and shows new friends each other's presence.
 * Send notices in the order the changes committed. Any process or thread (REST sends it
 * from its store job). Returns 0 or HEARTH_ENOENT (no social process: no events). */
int social_relationship_changed(uint64_t user, uint64_t other, const store_rel_change_t *ch,
                                const json_t *user_rel, const json_t *other_rel);

/* ---- for tests and tools -------------------------------------------------------------------- */

typedef struct social_stats {
    uint64_t users;          /* users with a session (or a presence on its way out) */
    uint64_t sessions;       /* sessions, joined or held */
    uint64_t messages;       /* messages sent to sessions: events and batches */
    uint64_t batches;        /* of which batches */
    uint64_t events;         /* events sent (a batch counts each of its events) */
    uint64_t presences;      /* presence changes sent to friends (each once, however many) */
    uint64_t presences_held; /* presence changes the rate limit held back (and maybe merged) */
} social_stats_t;

/* The process's counters (a call: green and attached threads). 0 or a negative code. */
int social_stats(social_stats_t *out);

#ifdef __cplusplus
}
#endif
#endif /* HEARTH_APPS_SOCIAL_H */
