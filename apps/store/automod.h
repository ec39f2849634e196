/* The store's auto-moderation rules: Discord's rule objects per guild, as the guild's
 * hub validated them (apps/automod: automod_rule_validate) before writing and
 * compiles them (automod_rules_load) after reading. The store checks only the form of
 * what it keeps: the rules themselves are apps/automod's to judge.
 *
 * Conventions as in store.h: 0 or a negative STORE_E* code; *out is a new reference
 * the caller owns (out may be NULL); inputs are borrowed. A rule comes back as
 * {"id", "guild_id", "name", "creator_id", "event_type", "trigger_type",
 * "trigger_metadata", "actions", "enabled", "exempt_roles", "exempt_channels"}. */
#ifndef HEARTH_STORE_AUTOMOD_H
#define HEARTH_STORE_AUTOMOD_H

#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Creates a rule of guild_id made by creator_id, with a new snowflake id. rule: a
 * normalized rule (name, event_type, trigger_type, trigger_metadata, actions, and
 * optionally enabled (default false), exempt_roles, exempt_channels); its id,
 * guild_id and creator_id, if any, are ignored. Per-guild limits are the caller's
 * (automod_rule_admit). Returns 0 and the stored rule, STORE_ENOTFOUND (no such
 * guild) or STORE_EINVAL (a field missing or of the wrong type). */
int store_automod_rule_create(store_t *s, uint64_t guild_id, uint64_t creator_id,
                              const json_t *rule, json_t **out);

/* The rule rule_id of guild_id: 0, or STORE_ENOTFOUND (no such rule in that guild). */
int store_automod_rule_get(store_t *s, uint64_t guild_id, uint64_t rule_id, json_t **out);

/* The rules of guild_id, by id (an array, maybe empty): 0, or STORE_ENOTFOUND (no such
 * guild). */
int store_automod_rule_list(store_t *s, uint64_t guild_id, json_t **out);

/* Replaces the fields of rule_id with rule's (as for create: a whole normalized rule,
 * such as automod_rule_validate makes of the old rule and a PATCH body); id,
 * guild_id, creator_id and trigger_type stay. Returns 0 and the stored rule,
 * STORE_ENOTFOUND or STORE_EINVAL. */
int store_automod_rule_update(store_t *s, uint64_t guild_id, uint64_t rule_id, const json_t *rule,
                              json_t **out);

/* Deletes the rule; 0 and the rule as it was (for AUTO_MODERATION_RULE_DELETE), or
 * STORE_ENOTFOUND. */
int store_automod_rule_delete(store_t *s, uint64_t guild_id, uint64_t rule_id, json_t **out);

#ifdef __cplusplus
}
#endif
#endif /* HEARTH_STORE_AUTOMOD_H */
