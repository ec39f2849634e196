/* The auto-moderation module's private header: prepared text, keyword sets, regexes,
 * the author table and compiled rules, shared by the files of apps/automod/ (prefix
 * am_). See automod.h for how the parts fit. */
#ifndef HEARTH_APPS_AUTOMOD_INTERNAL_H
#define HEARTH_APPS_AUTOMOD_INTERNAL_H

#include "automod.h"

#include <regex.h>

#define AM_NIL UINT32_MAX

/* Content beyond this many bytes is not examined (a message is at most 4000
 * characters; this bounds the work for any caller). */
#define AM_SCAN_MAX 16384

/* ---- text.c: text prepared for matching --------------------------------------------------------
 */

/* A text as folded code points: lower case, every run of white space as one U+0020,
 * invalid UTF-8 bytes as U+FFFD, with each code point's byte offset in the original
 * (off[n] is the end), so a match maps back to the original bytes. */
typedef struct am_text {
    uint32_t *cp;
    uint32_t *off;
    size_t n;
    size_t cap;
} am_text_t;

/* Prepares the first len bytes of s into t (its buffers are reused and grown). */
void am_text_prepare(am_text_t *t, const char *s, size_t len);
void am_text_free(am_text_t *t);

/* Letters and digits (and any code point outside the punctuation and space blocks):
 * what a whole-word keyword must not touch. */
bool am_is_word(uint32_t cp);

/* A keyword: folded code points and where Discord's '*' wildcards were. */
typedef struct am_kw {
    uint32_t *cp;
    size_t n;
    bool lead_wild;  /* "*cat": may start inside a word */
    bool trail_wild; /* "cat*": may end inside a word */
    char *text;      /* as configured, for matched_keyword */
} am_kw_t;

/* Keywords in a trie over their folded code points, so a scan walks from each
 * position only as far as some keyword continues: at most the longest keyword's
 * length (60) steps per position, however many keywords there are. Edges live in one
 * open-addressing table keyed by (parent node << 32 | code point). */
typedef struct am_kwset {
    am_kw_t *kw;
    size_t n;
    uint64_t *edge_key; /* 0: empty (no edge leaves the root on U+0000) */
    uint32_t *edge_child;
    size_t edge_cap; /* a power of two, or 0 */
    uint32_t nnodes;
    uint32_t *node_kw; /* per node: the first keyword ending there, or AM_NIL */
    uint32_t *kw_next; /* per keyword: the next one ending at the same node, or AM_NIL */
} am_kwset_t;

/* Builds set from n keywords (copied). Keywords empty once the wildcards and spaces
 * are trimmed are skipped. Aborts on OOM. */
void am_kwset_build(am_kwset_t *set, const char *const *words, size_t n);
void am_kwset_free(am_kwset_t *set);

/* A match: code point indexes [from, to) of the keyword itself, and of the word(s) it
 * is in when wildcards let it extend (word_from, word_to). */
typedef struct am_match {
    size_t kw;
    size_t from, to;
    size_t word_from, word_to;
} am_match_t;

/* Calls fn for every match of set in t, in order of position (then of length),
 * until fn returns true. Returns true if fn did. */
typedef bool (*am_match_fn)(void *arg, const am_match_t *m);
bool am_kwset_scan(const am_kwset_t *set, const am_text_t *t, am_match_fn fn, void *arg);

/* The built-in words of a preset (AUTOMOD_PRESET_*), NULL-terminated; NULL if none. */
const char *const *am_preset_words(int preset);

/* ---- regex.c -----------------------------------------------------------------------------------
 */

/* Compiles a Discord (Rust-flavored) pattern into rx as a POSIX extended regex,
 * case-insensitive. Returns 0, or -1 with a static reason in *why (unsupported
 * syntax, a back-reference, repetition counts too large, or regcomp's refusal). */
int am_regex_compile(regex_t *rx, const char *pattern, const char **why);

/* ---- authors.c: the spam history ---------------------------------------------------------------
 */

/* One remembered message: when (low 32 bits of its ms time: only differences within
 * an hour are asked), a hash of its normalized content (0: empty), its mentions. */
typedef struct am_seen {
    uint32_t t;
    uint32_t hash;
} am_seen_t;

typedef struct am_author {
    uint64_t id;
    int64_t last_ms;
    uint32_t prev, next; /* the recency list, by slot; AM_NIL ends it */
    uint8_t head;        /* the next ring slot to write */
    uint8_t count;       /* filled ring slots */
    am_seen_t ring[AUTOMOD_SPAM_HISTORY];
    uint8_t mentions[AUTOMOD_SPAM_HISTORY];
} am_author_t;

/* The table: authors in a slab of slots, an open-addressing index by id, a recency
 * list (most recent first) for expiry and eviction, and a free list of slots. */
typedef struct am_authors {
    am_author_t *slots;
    size_t nslots, cap_slots;
    uint32_t *index; /* slot + 1, 0 empty */
    size_t index_cap;
    size_t n;
    size_t max;
    uint32_t head, tail, free;
} am_authors_t;

void am_authors_init(am_authors_t *a, size_t max);
void am_authors_free(am_authors_t *a);
/* Forgets every author. */
void am_authors_clear(am_authors_t *a);
/* Forgets the authors not seen for idle_ms or more before now_ms. */
void am_authors_expire(am_authors_t *a, int64_t now_ms, int64_t idle_ms);
/* The author's record, made (evicting the least recently seen when full) and moved to
 * the front; last_ms set to now_ms. Never NULL (aborts on OOM). */
am_author_t *am_authors_touch(am_authors_t *a, uint64_t id, int64_t now_ms);
/* Appends a message to an author's ring. */
void am_author_record(am_author_t *au, int64_t now_ms, uint32_t hash, size_t mentions);
size_t am_authors_memory(const am_authors_t *a);

/* ---- rule.c ------------------------------------------------------------------------------------
 */

/* Adds an error at a dotted path ("trigger_metadata.keyword_filter.3"; "_errors" for
 * the body) to the 50035 errors object *errs (made if NULL). */
void am_form_error(json_t **errs, const char *path, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Parses an id from a JSON string of digits (or a non-negative integer): 0 or -1. */
int am_id_value(const json_t *v, uint64_t *out);
/* A JSON string for an id. */
json_t *am_id_json(uint64_t id);

/* ---- eval.c: compiled rules --------------------------------------------------------------------
 */

typedef struct am_rule {
    uint64_t id;
    int trigger_type;
    bool enabled;
    json_t *json; /* the normalized rule (owned) */
    const char *name;
    uint64_t *exempt_roles;
    size_t nexempt_roles;
    uint64_t *exempt_channels;
    size_t nexempt_channels;
    am_kwset_t keywords; /* keyword_filter, or the presets' words */
    am_kwset_t allow;
    regex_t *rx;
    char **rx_src;
    size_t nrx;
    int64_t mention_limit;
    bool raid;
    int64_t dup_limit, dup_window_ms;
    int64_t burst_limit, burst_window_ms;
    int64_t link_limit;
    size_t nactions;
    automod_action_t actions[AUTOMOD_ACTIONS_MAX]; /* json borrowed from json */
} am_rule_t;

#endif /* HEARTH_APPS_AUTOMOD_INTERNAL_H */
