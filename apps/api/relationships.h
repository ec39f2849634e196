/* The REST side of friends and blocks (relationships.c): the /users/@me/relationships
 * routes, and the checks other routes make so that a blocked user cannot reach the
 * blocker (Discord's 403 50007 "Cannot send messages to this user"). */
#ifndef HEARTH_APPS_API_RELATIONSHIPS_H
#define HEARTH_APPS_API_RELATIONSHIPS_H

#include "internal.h"

/* GET, POST /users/@me/relationships; PUT, DELETE /users/@me/relationships/{user_id}. */
extern const api_route_t api_relationship_routes[];

/* For POST /users/@me/channels opening a DM with recipient_id: true if it may, else false
 * after answering 403/50007 (recipient_id has blocked the caller). */
bool api_relationship_dm_allowed(api_ctx_t *c, uint64_t recipient_id);

/* For a message sent to channel_id: true if it may go, else false after answering
 * 403/50007 (channel_id is a DM and one of its two people has blocked the other). Any
 * channel may be asked: a guild channel answers true after one indexed read. */
bool api_relationship_send_allowed(api_ctx_t *c, uint64_t channel_id);

#endif /* HEARTH_APPS_API_RELATIONSHIPS_H */
