/* Auto-moderation: Discord's AutoMod rules (keyword filters, keyword presets, mention
 * spam, spam) checked against every message a guild's hub accepts, as a pure module:
 * no processes, no I/O, no locks, no clock (the caller passes the time).
 *
 * The parts:
 *
 *   rule.c     rules as Discord's JSON: validation of REST bodies with 50035-style
 *              field errors, normalization (every field present, ids as strings)
 *   eval.c     the evaluator: one per guild, held by the guild's hub process. It keeps
 *              the guild's rules compiled and returns, for a message, the rules that
 *              fired with their actions, matched keyword and matched content
 *   text.c     case folding, word boundaries, keyword sets with Discord's wildcards,
 *              the built-in keyword presets
 *   regex.c    regex_patterns on POSIX <regex.h>, translated and bounded
 *   authors.c  per-author history for the spam heuristics: bounded in count, idle
 *              authors forgotten
 *   event.c    the AUTO_MODERATION_ACTION_EXECUTION dispatch and the alert message
 *
 * How a hub uses it:
 *
 *   load:     am = automod_new(NULL); automod_rules_load(am, rules from
 *             store_automod_rule_list) (no rules: the default, nothing is checked);
 *   REST:     create/modify: automod_rule_validate(body, old or NULL, refs, &rule,
 *             &errors) (400/50035 with errors on failure), then automod_rule_admit
 *             (the per-guild limit of the trigger type), then the store write
 *             (store_automod_rule_create/_update, apps/store/automod.h), then
 *             automod_rule_set(am, stored rule) and AUTO_MODERATION_RULE_CREATE/UPDATE;
 *             delete: store, automod_rule_remove, AUTO_MODERATION_RULE_DELETE;
 *   message:  before a MESSAGE_CREATE (and a content edit, with m.edit) is written,
 *             automod_eval, unless the author has MANAGE_GUILD or ADMINISTRATOR
 *             (Discord exempts them from every rule). verdict.block: do not write it,
 *             answer 400 with code 200000 ("Message was blocked by automatic
 *             moderation"). For each hit and each of its
 *             actions: SEND_ALERT_MESSAGE posts automod_alert_message_json into the
 *             action's channel; TIMEOUT sets the member's communication_disabled_until
 *             (now + duration_seconds); and every action dispatches
 *             automod_event_json to the members with MANAGE_GUILD (intent
 *             AUTO_MODERATION_EXECUTION, 1 << 21), built without content for sessions
 *             lacking MESSAGE_CONTENT.
 *
 * Hearth's extensions to Discord's model, kept in Discord's shapes:
 *   - SPAM rules (trigger_type 3) are a chat server's heuristics, configured by extra
 *     trigger_metadata fields (AUTOMOD_SPAM_* below): the same content repeated by one
 *     author within a window, bursts of messages, many links in one message. Discord's
 *     SPAM rule has no metadata; clients ignore the extra fields.
 *   - TIMEOUT is allowed on SPAM rules too (Discord: KEYWORD and MENTION_SPAM only), so
 *     a repeat spammer can be timed out.
 *   - mention_raid_protection_enabled: the unique mentions of one author summed over
 *     AUTOMOD_RAID_WINDOW_MS above twice mention_total_limit also fire the rule.
 *   - regex_patterns are POSIX extended regular expressions (glibc), matched case-
 *     insensitively, with Rust-isms translated (\d, (?:...), (?i)); back-references are
 *     refused and repetition counts bounded, so matching stays polynomial.
 *   - The keyword presets are small built-in lists (a few dozen words in all), a
 *     stand-in for Discord's curated ones.
 *
 * Threads: an evaluator belongs to one process; nothing here is thread-safe, and
 * verdicts hold jansson references that only that process may drop. */
#ifndef HEARTH_APPS_AUTOMOD_H
#define HEARTH_APPS_AUTOMOD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AUTOMOD_API_VERSION 1

/* Errors: negative errno values, as the store's and the runtime's. */
enum {
    AUTOMOD_ENOTFOUND = -2, /* no rule with that id */
    AUTOMOD_EINVAL = -22,   /* the rule does not validate (see the errors object) */
    AUTOMOD_ELIMIT = -28,   /* the guild has the most rules of that trigger type */
};

/* ---- Discord's constants ----------------------------------------------------------------------
 */

enum { AUTOMOD_EVENT_MESSAGE_SEND = 1 };

enum {
    AUTOMOD_TRIGGER_KEYWORD = 1,
    AUTOMOD_TRIGGER_SPAM = 3,
    AUTOMOD_TRIGGER_KEYWORD_PRESET = 4,
    AUTOMOD_TRIGGER_MENTION_SPAM = 5,
};

enum {
    AUTOMOD_PRESET_PROFANITY = 1,
    AUTOMOD_PRESET_SEXUAL_CONTENT = 2,
    AUTOMOD_PRESET_SLURS = 3,
};

enum {
    AUTOMOD_ACTION_BLOCK_MESSAGE = 1,
    AUTOMOD_ACTION_SEND_ALERT_MESSAGE = 2,
    AUTOMOD_ACTION_TIMEOUT = 3,
};

/* Discord's limits. */
#define AUTOMOD_NAME_MAX 100          /* characters */
#define AUTOMOD_KEYWORDS_MAX 1000     /* keyword_filter entries */
#define AUTOMOD_KEYWORD_LEN_MAX 60    /* characters per keyword or allow_list entry */
#define AUTOMOD_REGEX_MAX 10          /* regex_patterns entries */
#define AUTOMOD_REGEX_LEN_MAX 260     /* characters per pattern */
#define AUTOMOD_ALLOW_MAX 100         /* allow_list entries of a KEYWORD rule */
#define AUTOMOD_ALLOW_PRESET_MAX 1000 /* allow_list entries of a KEYWORD_PRESET rule */
#define AUTOMOD_MENTION_LIMIT_MAX 50  /* mention_total_limit */
#define AUTOMOD_EXEMPT_ROLES_MAX 20
#define AUTOMOD_EXEMPT_CHANNELS_MAX 50
#define AUTOMOD_CUSTOM_MESSAGE_MAX 150 /* characters */
#define AUTOMOD_TIMEOUT_MAX 2419200    /* duration_seconds: 4 weeks */
#define AUTOMOD_ACTIONS_MAX 3          /* one of each action type */
#define AUTOMOD_RULES_KEYWORD_MAX 6    /* per guild; 1 of each other trigger type */
#define AUTOMOD_RULES_MAX 9            /* 6 + 1 + 1 + 1 */
#define AUTOMOD_RAID_WINDOW_MS 60000   /* mention raid protection's window */

/* The SPAM rule's trigger_metadata fields (Hearth's), their defaults and ranges. A
 * limit of 0 turns that heuristic off.
 *   duplicate_limit            the Nth message of one author with the same content
 *                              (case and spacing aside) within the window fires: 0, 2..30
 *   duplicate_window_seconds   1..3600
 *   burst_limit                more than this many messages of one author within the
 *                              window fire: 0, 1..30
 *   burst_window_seconds       1..3600
 *   link_limit                 more than this many links (http://, https://, www.) in
 *                              one message fire: 0..50 */
#define AUTOMOD_SPAM_DUPLICATE_LIMIT 3
#define AUTOMOD_SPAM_DUPLICATE_WINDOW 60
#define AUTOMOD_SPAM_BURST_LIMIT 10
#define AUTOMOD_SPAM_BURST_WINDOW 10
#define AUTOMOD_SPAM_LINK_LIMIT 5
#define AUTOMOD_SPAM_HISTORY 32 /* messages remembered per author: bounds the limits */

/* ---- rules as JSON ----------------------------------------------------------------------------
 */

/* What the guild has, for validating ids in a rule (the hub answers from its state).
 * Either callback may be NULL: those ids are then only checked for form. */
typedef struct automod_refs {
    bool (*channel_exists)(void *arg, uint64_t channel_id); /* exempt_channels, alert channel */
    bool (*role_exists)(void *arg, uint64_t role_id);       /* exempt_roles */
    void *arg;
} automod_refs_t;

/* Validates a rule. For a create, params is the request body and old is NULL: name,
 * event_type, trigger_type and actions are required. For a modify, old is the rule as
 * it is and params the PATCH body: every field is optional, trigger_type cannot change
 * (it is ignored), and a trigger_metadata given replaces the old one as a whole.
 * refs may be NULL.
 * Returns 0 and in *rule a new normalized rule object (name, event_type, trigger_type,
 * trigger_metadata with exactly the fields of its type, actions each with a metadata
 * object, enabled (default false), exempt_roles, exempt_channels, and id, guild_id and
 * creator_id when old or params had them); or AUTOMOD_EINVAL and in *errors a new
 * object: the value of a 50035 response's "errors" key ({"name": {"_errors": [{"code":
 * "BASE_TYPE_REQUIRED", "message": "This field is required"}]}, ...}). The caller owns
 * what it gets; params and old are only read. */
int automod_rule_validate(const json_t *params, const json_t *old, const automod_refs_t *refs,
                          json_t **rule, json_t **errors);

/* ---- the evaluator ----------------------------------------------------------------------------
 */

typedef struct automod automod_t;

/* Settings; zero fields take the defaults. */
typedef struct automod_config {
    /* The per-author history of the spam heuristics is kept for at most this many
     * authors (default 10000; about 300 bytes each). Beyond it the least recently seen
     * author is forgotten, so a flood of distinct authors costs bounded memory. Authors
     * idle longer than the longest window in use are forgotten anyway. */
    size_t max_authors;
} automod_config_t;

/* A new evaluator with no rules (cfg may be NULL). Aborts on OOM. Free with
 * automod_free (NULL allowed). */
automod_t *automod_new(const automod_config_t *cfg);
void automod_free(automod_t *am);

/* Adds rule, or replaces the rule with its id (the per-author spam history stays).
 * rule must have an id; it is validated and normalized again (a stored rule
 * from an older version still loads) and the evaluator keeps its own copy.
 * Returns 0; AUTOMOD_EINVAL (no id, or it does not validate); AUTOMOD_ELIMIT (a new
 * rule beyond its trigger type's per-guild limit). */
int automod_rule_set(automod_t *am, const json_t *rule);

/* Replaces every rule with those of the array rules (as the store lists them). Rules
 * that fail automod_rule_set are skipped. Returns how many were loaded. */
size_t automod_rules_load(automod_t *am, const json_t *rules);

/* Removes a rule: 0 or AUTOMOD_ENOTFOUND. */
int automod_rule_remove(automod_t *am, uint64_t rule_id);

/* The rule (borrowed: valid until the rules change), or NULL. */
const json_t *automod_rule_get(const automod_t *am, uint64_t rule_id);

/* Every rule, by id: a new array the caller owns. */
json_t *automod_rules_json(const automod_t *am);

/* How many rules of trigger_type the guild has (0: all rules). */
size_t automod_rule_count(const automod_t *am, int trigger_type);

/* Whether rule (validated, with or without an id) may be added: a new rule must not
 * exceed its trigger type's per-guild limit (a rule replacing one with its id always
 * may). Returns 0, or AUTOMOD_ELIMIT and in *errors a new 50035 errors object
 * (trigger_type: AUTO_MODERATION_MAX_RULES_OF_TYPE_EXCEEDED). */
int automod_rule_admit(const automod_t *am, const json_t *rule, json_t **errors);

/* A message to check. Borrowed for the call. */
typedef struct automod_message {
    uint64_t author_id;
    const uint64_t *role_ids; /* the author's roles */
    size_t nroles;
    uint64_t channel_id;
    const char *content;  /* UTF-8, NUL-terminated; NULL as "" */
    size_t mention_count; /* unique user and role mentions (not @everyone) */
    int64_t now_ms;       /* the time (Unix ms; only differences matter) */
    bool edit;            /* an edit: checked, but not counted by the spam history */
} automod_message_t;

/* One action to execute. */
typedef struct automod_action {
    int type;                   /* AUTOMOD_ACTION_* */
    uint64_t channel_id;        /* SEND_ALERT_MESSAGE: where */
    int64_t duration_seconds;   /* TIMEOUT */
    const char *custom_message; /* BLOCK_MESSAGE: the explanation, or NULL (in json) */
    json_t *json;               /* the action object, {"type", "metadata"}: a reference */
} automod_action_t;

/* A rule that fired. Strings are the verdict's (NUL-terminated, UTF-8). */
typedef struct automod_hit {
    uint64_t rule_id;
    int trigger_type;
    char *rule_name;
    char *matched_keyword; /* the keyword or regex pattern that matched; NULL for none */
    char *matched_content; /* the part of the content that matched; NULL for none */
    const char *reason;    /* static: "keyword", "regex", "preset", "mention_spam",
                              "mention_raid", "duplicate", "burst", "links" */
    size_t nactions;
    automod_action_t actions[AUTOMOD_ACTIONS_MAX];
} automod_hit_t;

/* What automod_eval found. */
typedef struct automod_verdict {
    bool block;                /* a BLOCK_MESSAGE fired: the message is not posted */
    const char *block_message; /* the first such action's custom_message, or NULL */
    int64_t timeout_seconds;   /* the longest TIMEOUT that fired, 0 if none */
    size_t nhits;              /* rules that fired, by rule id */
    automod_hit_t hits[AUTOMOD_RULES_MAX];
} automod_verdict_t;

/* Checks m against the enabled rules whose exemptions do not cover its author's roles
 * or its channel (event_type MESSAGE_SEND), and records it in the author's spam
 * history. Fills *out (cleared first: call automod_verdict_clear after use) and returns
 * out->nhits. Cost: a scan of the content per keyword rule (keywords indexed by first
 * character), the regexes, and O(AUTOMOD_SPAM_HISTORY) for the history; content beyond
 * 16 KiB is not looked at. Never fails (aborts on OOM). */
size_t automod_eval(automod_t *am, const automod_message_t *m, automod_verdict_t *out);

/* Frees what a verdict holds and zeroes it (a zeroed verdict is fine). */
void automod_verdict_clear(automod_verdict_t *v);

/* Authors whose spam history is kept, and the bytes the evaluator holds for them and
 * its rules (approximate), for tests and stats. */
size_t automod_authors(const automod_t *am);
size_t automod_memory(const automod_t *am);

/* ---- events and alerts ------------------------------------------------------------------------
 */

/* The AUTO_MODERATION_ACTION_EXECUTION dispatch's data for action number action of hit
 * (0 <= action < hit->nactions): guild_id, action, rule_id, rule_trigger_type,
 * user_id, channel_id, message_id (when not 0: a blocked message has none),
 * alert_system_message_id (when not 0), content, matched_keyword, matched_content.
 * Without with_content (a session without the MESSAGE_CONTENT intent) content and
 * matched_content are empty strings, as Discord sends them. Returns a new object. */
json_t *automod_event_json(uint64_t guild_id, const automod_hit_t *hit, size_t action,
                           const automod_message_t *m, uint64_t message_id,
                           uint64_t alert_message_id, bool with_content);

/* The alert Discord posts in a SEND_ALERT_MESSAGE channel, as the fields of a message
 * to create there, authored by the flagged user: {"type": 24 (AUTO_MODERATION_ACTION),
 * "content": "", "embeds": [{"type": "auto_moderation_message", "description": the
 * content, "fields": rule_name, channel_id, decision_id, keyword,
 * keyword_matched_content, flagged_message_id, timeout_duration, decision_reason ...}]}.
 * decision_id is a caller-made unique id (a snowflake); flagged_message_id 0 (a blocked
 * message) is left out. Returns a new object. */
json_t *automod_alert_message_json(const automod_hit_t *hit, const automod_message_t *m,
                                   uint64_t decision_id, uint64_t flagged_message_id, bool blocked);

/* A one-line plain-text summary of hit for logs and clients that show no embeds, e.g.
 * `AutoMod blocked a message from <@1> in <#2>: rule "Bad words" matched "cat*"`.
 * Writes at most size bytes (NUL included, cut at a character boundary) into buf and
 * returns buf. */
char *automod_alert_text(const automod_hit_t *hit, const automod_message_t *m, bool blocked,
                         char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif /* HEARTH_APPS_AUTOMOD_H */
