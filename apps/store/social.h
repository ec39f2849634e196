/* The store's social graph: friends, friend requests and blocks (Discord's
 * relationships), for the REST routes under /users/@me/relationships (apps/api), the
 * checks that keep a blocked user from reaching the blocker, and the social process
 * (apps/social) that sends friends each other's presence.
 *
 * Conventions as in store.h: 0 (or STORE_UNCHANGED) or a negative STORE_E* code;
 * *out is a new reference the caller owns (out may be NULL); inputs are borrowed.
 *
 * Each user has at most one row about each other user, of one type (STORE_REL_*):
 *
 *   friends           A: FRIEND    B: FRIEND
 *   A asked B         A: OUTGOING  B: INCOMING
 *   A blocked B       A: BLOCKED   B: none (or BLOCKED, if B blocked A too)
 *
 * The state machine (user acting on other):
 *   request  none           -> user OUTGOING, other INCOMING
 *            INCOMING       -> both FRIEND (accepting other's request)
 *            OUTGOING, FRIEND -> unchanged
 *            a block either way -> refused
 *   block    anything       -> user BLOCKED; other's row about user goes unless it
 *                              is a block of its own (a friendship or a request ends)
 *   remove   FRIEND, OUTGOING, INCOMING -> both rows go (unfriend, cancel, decline)
 *            BLOCKED        -> user's row goes (unblock); other's own block stays
 *
 * A relationship object is Discord's: {"id": other's id, "type", "nickname": null,
 * "user": other's user object, "since": ISO 8601}. */
#ifndef HEARTH_STORE_SOCIAL_H
#define HEARTH_STORE_SOCIAL_H

#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Discord's relationship types. */
enum {
    STORE_REL_NONE = 0, /* no row */
    STORE_REL_FRIEND = 1,
    STORE_REL_BLOCKED = 2,
    STORE_REL_INCOMING = 3,
    STORE_REL_OUTGOING = 4,
};

/* Friends a user may have, as on Discord (30002 "Maximum number of friends reached"). */
#define STORE_FRIENDS_MAX 1000

/* What a change did, for the events to send: each side's row type about the other
 * before and after (STORE_REL_NONE: no row). */
typedef struct store_rel_change {
    int user_was, user_now;   /* user's row about other */
    int other_was, other_now; /* other's row about user */
} store_rel_change_t;

/* user sends other a friend request, or accepts other's (see the state machine above).
 * Returns 0 (changed) or STORE_UNCHANGED (friends already, or the request is pending
 * already), with *ch filled (ch may be NULL); or STORE_ENOTFOUND (no such user),
 * STORE_EINVAL (other is user, or either is a bot: bots have no friends), STORE_EPERM
 * (a block either way), STORE_ELIMIT (user already has STORE_FRIENDS_MAX friends, or
 * other has on an accept). now_ms: the row's since (0: the clock's). */
int store_relationship_request(store_t *s, uint64_t user, uint64_t other, int64_t now_ms,
                               store_rel_change_t *ch);

/* user blocks other. Returns 0 or STORE_UNCHANGED (blocked already) with *ch, or
 * STORE_ENOTFOUND (no such user), STORE_EINVAL (other is user). */
int store_relationship_block(store_t *s, uint64_t user, uint64_t other, int64_t now_ms,
                             store_rel_change_t *ch);

/* user removes its relationship with other: unfriends, cancels its request, declines
 * other's, or unblocks. Returns 0 with *ch, or STORE_UNCHANGED (user has no row about
 * other; other's own block of user is not user's to lift). */
int store_relationship_remove(store_t *s, uint64_t user, uint64_t other, store_rel_change_t *ch);

/* user's relationship object about other: 0, or STORE_ENOTFOUND (no row). */
int store_relationship_get(store_t *s, uint64_t user, uint64_t other, json_t **out);

/* Every relationship object of user (GET /users/@me/relationships, READY), by other's
 * id. Returns 0 and an array (maybe empty). */
int store_relationship_list(store_t *s, uint64_t user, json_t **out);

/* The type of user's row about other in *type (STORE_REL_NONE when there is none):
 * whether other blocked user is store_relationship_type(s, other, user, &t) with t ==
 * STORE_REL_BLOCKED. Returns 0 or STORE_E*. */
int store_relationship_type(store_t *s, uint64_t user, uint64_t other, int *type);

/* The ids of user's friends, ascending: *ids is a new malloc'd array (NULL when there are
 * none) of *n ids; the caller frees it. Returns 0 or STORE_E*. */
int store_friend_ids(store_t *s, uint64_t user, uint64_t **ids, size_t *n);

/* Whether channel_id is a DM whose two recipients are kept apart by a block (either
 * one's): 0 and the blocker in *blocker (may be NULL; the lower id when both blocked),
 * or STORE_ENOTFOUND (no such DM, or no block). The check a message send to a DM makes:
 * one indexed read. */
int store_dm_blocked(store_t *s, uint64_t channel_id, uint64_t *blocker);

/* The person (not a bot) named username, case-insensitively, as POST
 * /users/@me/relationships finds a friend: 0 and the id, or STORE_ENOTFOUND. */
int store_user_find(store_t *s, const char *username, uint64_t *id);

/* Makes user friends with each of the n users in ids at once, in one transaction, with
 * no requests and no limit (imports, load tests): rows either way are replaced. Returns
 * 0, STORE_ENOTFOUND (a user; nothing is written), STORE_EINVAL (user among ids). */
int store_friends_bulk(store_t *s, uint64_t user, const uint64_t *ids, size_t n, int64_t now_ms);

#ifdef __cplusplus
}
#endif
#endif /* HEARTH_STORE_SOCIAL_H */
