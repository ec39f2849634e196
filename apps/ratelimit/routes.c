/* The default per-route limits, in one table. Discord does not publish most of its
 * limits (clients must read the headers), so: its known figures for messages and
 * reactions, Discord's order of magnitude for edits and deletes, per-IP limits for the
 * unauthenticated account routes, and the config's default (50 per second, the global
 * rate) for every route not listed. Patterns are apps/api's route templates. */
#include "ratelimit.h"

#define MSG "/channels/{channel_id}/messages/{message_id}"

const rl_route_def_t rl_default_routes[] = {
    /* Accounts: per IP, logged in or not, so guessing passwords stays slow. */
    {"POST", "/auth/login", NULL, 5, 60000, RL_F_IP},
    {"POST", "/auth/register", NULL, 5, 60000, RL_F_IP},

    /* Messages: 5 per 5 s per channel, as Discord. */
    {"POST", "/channels/{channel_id}/messages", NULL, 5, 5000, 0},
    {"PATCH", MSG, NULL, 5, 5000, 0},
    {"DELETE", MSG, NULL, 5, 1000, 0},
    {"POST", "/channels/{channel_id}/messages/bulk-delete", NULL, 1, 1000, 0},
    {"POST", "/channels/{channel_id}/typing", NULL, 5, 5000, 0},

    /* Reactions: one bucket for every change, 1 per 250 ms per channel, as Discord. */
    {"PUT", MSG "/reactions/{emoji}/@me", "reactions", 1, 250, 0},
    {"DELETE", MSG "/reactions/{emoji}/@me", "reactions", 1, 250, 0},
    {"DELETE", MSG "/reactions/{emoji}/{user_id}", "reactions", 1, 250, 0},
    {"DELETE", MSG "/reactions/{emoji}", "reactions", 1, 250, 0},
    {"DELETE", MSG "/reactions", "reactions", 1, 250, 0},

    /* Channels, guilds, members, invites: changes are slower than reads. */
    {"PATCH", "/channels/{channel_id}", NULL, 10, 10000, 0},
    {"DELETE", "/channels/{channel_id}", NULL, 5, 5000, 0},
    {"POST", "/guilds/{guild_id}/channels", NULL, 10, 10000, 0},
    {"POST", "/guilds", NULL, 10, 10000, 0},
    {"PATCH", "/guilds/{guild_id}", NULL, 10, 10000, 0},
    {"PATCH", "/guilds/{guild_id}/members/{user_id}", NULL, 10, 10000, 0},
    {"DELETE", "/guilds/{guild_id}/members/{user_id}", NULL, 5, 1000, 0},
    {"POST", "/channels/{channel_id}/invites", NULL, 5, 5000, 0},
    {"POST", "/invites/{code}", NULL, 5, 5000, 0},
    {"POST", "/users/@me/channels", NULL, 10, 10000, 0},
};
const size_t rl_default_routes_count = sizeof(rl_default_routes) / sizeof(rl_default_routes[0]);
