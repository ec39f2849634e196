/* The evaluator: a guild's rules, compiled, and the check of one message against
 * them.
 *
 * Each rule is kept as its normalized JSON (what the REST routes return) and as a
 * compiled form: keyword sets for keyword_filter, the presets and allow_list, POSIX
 * regexes, and the thresholds. A message is prepared once (folded code points, see
 * text.c) when some keyword rule needs it, recorded once in its author's history
 * (authors.c) when some SPAM or mention-raid rule applies to it, then each enabled
 * rule that does not exempt it is checked, in order of rule id.
 *
 * allow_list: a keyword or regex match is ignored when an allow_list match (extended
 * to whole words at its wildcards) covers it, so with "*cat*" blocked and "category"
 * allowed, "category" passes and "category cat" does not. Coverage is computed once
 * per message as, for each code point p, the furthest end of an allowed match that
 * starts at or before p (a prefix maximum): a match [from, to) is allowed when that
 * reaches to. Linear in the content, whatever the lists. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A regex's matches covered by allow_list are skipped; after this many the pattern
 * gives up on the message (each try is a regexec over the rest of the content). */
#define RX_TRIES_MAX 64

struct automod {
    am_rule_t *rules[AUTOMOD_RULES_MAX]; /* by id */
    size_t nrules;
    am_authors_t authors;
    int64_t idle_ms; /* the longest window a history rule looks at */
    /* Scratch, reused from message to message (the evaluator has one owner). */
    am_text_t text;
    uint32_t *cover;
    size_t cover_cap;
    char *scan;
    size_t scan_cap;
};

/* ---- compiling rules ---------------------------------------------------------------------------
 */

static void free_rule(am_rule_t *r)
{
    size_t i;

    if (r == NULL)
        return;
    am_kwset_free(&r->keywords);
    am_kwset_free(&r->allow);
    for (i = 0; i < r->nrx; i++) {
        regfree(&r->rx[i]);
        free(r->rx_src[i]);
    }
    free(r->rx);
    free(r->rx_src);
    free(r->exempt_roles);
    free(r->exempt_channels);
    json_decref(r->json);
    free(r);
}

/* The ids of an array of id strings, into a new array (*n of them). */
static uint64_t *ids_of(const json_t *a, size_t *n)
{
    uint64_t *ids;
    size_t i;

    *n = 0;
    if (json_array_size(a) == 0)
        return NULL;
    ids = malloc(json_array_size(a) * sizeof(*ids));
    if (ids == NULL)
        abort();
    for (i = 0; i < json_array_size(a); i++)
        if (am_id_value(json_array_get(a, i), &ids[*n]) == 0)
            (*n)++;
    return ids;
}

/* The strings of an array, borrowed, into a new array of pointers. */
static const char **strs_of(const json_t *a, size_t *n)
{
    const char **s;
    size_t i;

    *n = json_array_size(a);
    s = malloc((*n + 1) * sizeof(*s));
    if (s == NULL)
        abort();
    for (i = 0; i < *n; i++)
        s[i] = json_string_value(json_array_get(a, i));
    return s;
}

static int64_t meta_int(const json_t *meta, const char *key)
{
    return (int64_t)json_integer_value(json_object_get(meta, key));
}

/* Compiles a normalized rule (taken: the rule owns it). */
static am_rule_t *compile_rule(json_t *rule)
{
    const json_t *meta, *a, *act, *am;
    const char *const *preset;
    const char **words;
    const char *why;
    am_rule_t *r;
    size_t i, j, n;

    r = calloc(1, sizeof(*r));
    if (r == NULL)
        abort();
    r->json = rule;
    am_id_value(json_object_get(rule, "id"), &r->id);
    r->trigger_type = (int)json_integer_value(json_object_get(rule, "trigger_type"));
    r->enabled = json_is_true(json_object_get(rule, "enabled"));
    r->name = json_string_value(json_object_get(rule, "name"));
    r->exempt_roles = ids_of(json_object_get(rule, "exempt_roles"), &r->nexempt_roles);
    r->exempt_channels = ids_of(json_object_get(rule, "exempt_channels"), &r->nexempt_channels);
    meta = json_object_get(rule, "trigger_metadata");
    switch (r->trigger_type) {
    case AUTOMOD_TRIGGER_KEYWORD:
        words = strs_of(json_object_get(meta, "keyword_filter"), &n);
        am_kwset_build(&r->keywords, words, n);
        free(words);
        a = json_object_get(meta, "regex_patterns");
        r->rx = calloc(json_array_size(a) + 1, sizeof(*r->rx));
        r->rx_src = calloc(json_array_size(a) + 1, sizeof(*r->rx_src));
        if (r->rx == NULL || r->rx_src == NULL)
            abort();
        for (i = 0; i < json_array_size(a); i++) {
            if (am_regex_compile(&r->rx[r->nrx], json_string_value(json_array_get(a, i)), &why))
                continue; /* validated already; cannot happen */
            r->rx_src[r->nrx] = strdup(json_string_value(json_array_get(a, i)));
            if (r->rx_src[r->nrx] == NULL)
                abort();
            r->nrx++;
        }
        break;
    case AUTOMOD_TRIGGER_KEYWORD_PRESET:
        /* The presets' words, together, as one keyword set. */
        a = json_object_get(meta, "presets");
        n = 0;
        for (i = 0; i < json_array_size(a); i++)
            for (preset = am_preset_words((int)json_integer_value(json_array_get(a, i)));
                 preset != NULL && *preset != NULL; preset++)
                n++;
        words = malloc((n + 1) * sizeof(*words));
        if (words == NULL)
            abort();
        n = 0;
        for (i = 0; i < json_array_size(a); i++)
            for (preset = am_preset_words((int)json_integer_value(json_array_get(a, i)));
                 preset != NULL && *preset != NULL; preset++)
                words[n++] = *preset;
        am_kwset_build(&r->keywords, words, n);
        free(words);
        break;
    case AUTOMOD_TRIGGER_MENTION_SPAM:
        r->mention_limit = meta_int(meta, "mention_total_limit");
        r->raid = json_is_true(json_object_get(meta, "mention_raid_protection_enabled"));
        break;
    case AUTOMOD_TRIGGER_SPAM:
        r->dup_limit = meta_int(meta, "duplicate_limit");
        r->dup_window_ms = meta_int(meta, "duplicate_window_seconds") * 1000;
        r->burst_limit = meta_int(meta, "burst_limit");
        r->burst_window_ms = meta_int(meta, "burst_window_seconds") * 1000;
        r->link_limit = meta_int(meta, "link_limit");
        break;
    }
    a = json_object_get(meta, "allow_list");
    if (json_array_size(a) > 0) {
        words = strs_of(a, &n);
        am_kwset_build(&r->allow, words, n);
        free(words);
    }
    json_array_foreach(json_object_get(rule, "actions"), j, act)
    {
        automod_action_t *x = &r->actions[r->nactions];

        if (r->nactions == AUTOMOD_ACTIONS_MAX)
            break;
        am = json_object_get(act, "metadata");
        x->type = (int)json_integer_value(json_object_get(act, "type"));
        am_id_value(json_object_get(am, "channel_id"), &x->channel_id);
        x->duration_seconds = meta_int(am, "duration_seconds");
        x->custom_message = json_string_value(json_object_get(am, "custom_message"));
        x->json = (json_t *)act;
        r->nactions++;
    }
    return r;
}

/* Whether r keeps per-author history, and the longest window it looks at. */
static int64_t history_window(const am_rule_t *r)
{
    int64_t w = 0;

    if (r->trigger_type == AUTOMOD_TRIGGER_SPAM) {
        if (r->dup_limit > 0)
            w = r->dup_window_ms;
        if (r->burst_limit > 0 && r->burst_window_ms > w)
            w = r->burst_window_ms;
    } else if (r->trigger_type == AUTOMOD_TRIGGER_MENTION_SPAM && r->raid) {
        w = AUTOMOD_RAID_WINDOW_MS;
    }
    return w;
}

static void rules_changed(automod_t *am)
{
    int64_t w;
    size_t i;

    am->idle_ms = 0;
    for (i = 0; i < am->nrules; i++)
        if ((w = history_window(am->rules[i])) > am->idle_ms)
            am->idle_ms = w;
    if (am->idle_ms == 0)
        am_authors_clear(&am->authors); /* no rule looks back: keep nothing */
}

static size_t type_max(int trigger_type)
{
    return trigger_type == AUTOMOD_TRIGGER_KEYWORD ? AUTOMOD_RULES_KEYWORD_MAX : 1;
}

static size_t find_rule(const automod_t *am, uint64_t id)
{
    size_t i;

    for (i = 0; i < am->nrules; i++)
        if (am->rules[i]->id == id)
            return i;
    return SIZE_MAX;
}

/* ---- the evaluator -----------------------------------------------------------------------------
 */

automod_t *automod_new(const automod_config_t *cfg)
{
    automod_t *am;

    am = calloc(1, sizeof(*am));
    if (am == NULL)
        abort();
    am_authors_init(&am->authors, cfg != NULL && cfg->max_authors > 0 ? cfg->max_authors : 10000);
    return am;
}

void automod_free(automod_t *am)
{
    size_t i;

    if (am == NULL)
        return;
    for (i = 0; i < am->nrules; i++)
        free_rule(am->rules[i]);
    am_authors_free(&am->authors);
    am_text_free(&am->text);
    free(am->cover);
    free(am->scan);
    free(am);
}

int automod_rule_set(automod_t *am, const json_t *rule)
{
    json_t *norm = NULL, *errs = NULL;
    am_rule_t *r;
    uint64_t id;
    size_t i;

    if (automod_rule_validate(rule, NULL, NULL, &norm, &errs) < 0) {
        json_decref(errs);
        return AUTOMOD_EINVAL;
    }
    if (am_id_value(json_object_get(norm, "id"), &id) < 0) {
        json_decref(norm);
        return AUTOMOD_EINVAL;
    }
    i = find_rule(am, id);
    if (i == SIZE_MAX &&
        (am->nrules == AUTOMOD_RULES_MAX ||
         automod_rule_count(am, (int)json_integer_value(json_object_get(norm, "trigger_type"))) >=
             type_max((int)json_integer_value(json_object_get(norm, "trigger_type"))))) {
        json_decref(norm);
        return AUTOMOD_ELIMIT;
    }
    r = compile_rule(norm);
    if (i != SIZE_MAX) {
        free_rule(am->rules[i]);
        am->rules[i] = r;
    } else {
        /* Insert keeping the order of ids. */
        for (i = am->nrules; i > 0 && am->rules[i - 1]->id > id; i--)
            am->rules[i] = am->rules[i - 1];
        am->rules[i] = r;
        am->nrules++;
    }
    rules_changed(am);
    return 0;
}

size_t automod_rules_load(automod_t *am, const json_t *rules)
{
    size_t i, n = 0;

    for (i = 0; i < am->nrules; i++)
        free_rule(am->rules[i]);
    am->nrules = 0;
    for (i = 0; i < json_array_size(rules); i++)
        n += automod_rule_set(am, json_array_get(rules, i)) == 0;
    rules_changed(am);
    return n;
}

int automod_rule_remove(automod_t *am, uint64_t rule_id)
{
    size_t i = find_rule(am, rule_id);

    if (i == SIZE_MAX)
        return AUTOMOD_ENOTFOUND;
    free_rule(am->rules[i]);
    memmove(&am->rules[i], &am->rules[i + 1], (am->nrules - i - 1) * sizeof(am->rules[0]));
    am->nrules--;
    rules_changed(am);
    return 0;
}

const json_t *automod_rule_get(const automod_t *am, uint64_t rule_id)
{
    size_t i = find_rule(am, rule_id);

    return i == SIZE_MAX ? NULL : am->rules[i]->json;
}

json_t *automod_rules_json(const automod_t *am)
{
    json_t *a;
    size_t i;

    /* Deep copies: the caller may hand them to another thread (an encoder), and jansson
     * reference counts are not atomic. */
    a = json_array();
    for (i = 0; i < am->nrules; i++)
        json_array_append_new(a, json_deep_copy(am->rules[i]->json));
    return a;
}

size_t automod_rule_count(const automod_t *am, int trigger_type)
{
    size_t i, n = 0;

    for (i = 0; i < am->nrules; i++)
        n += trigger_type == 0 || am->rules[i]->trigger_type == trigger_type;
    return n;
}

int automod_rule_admit(const automod_t *am, const json_t *rule, json_t **errors)
{
    int trigger = (int)json_integer_value(json_object_get(rule, "trigger_type"));
    json_t *errs = NULL;
    uint64_t id;

    if (am_id_value(json_object_get(rule, "id"), &id) == 0 && find_rule(am, id) != SIZE_MAX)
        return 0;
    if (automod_rule_count(am, trigger) < type_max(trigger) && am->nrules < AUTOMOD_RULES_MAX)
        return 0;
    am_form_error(&errs, "trigger_type", "AUTO_MODERATION_MAX_RULES_OF_TYPE_EXCEEDED",
                  "Maximum number of rules of this type reached (%zu).", type_max(trigger));
    *errors = errs;
    return AUTOMOD_ELIMIT;
}

size_t automod_authors(const automod_t *am)
{
    return am->authors.n;
}

size_t automod_memory(const automod_t *am)
{
    size_t bytes, i;

    bytes = sizeof(*am) + am_authors_memory(&am->authors) + am->text.cap * 2 * sizeof(uint32_t) +
            am->cover_cap * sizeof(uint32_t) + am->scan_cap;
    for (i = 0; i < am->nrules; i++)
        bytes += sizeof(am_rule_t) + am->rules[i]->keywords.n * (sizeof(am_kw_t) + 64) +
                 am->rules[i]->allow.n * (sizeof(am_kw_t) + 64) + am->rules[i]->nrx * 4096;
    return bytes;
}

/* ---- checking a message ------------------------------------------------------------------------
 */

/* What one message check carries between the helpers. */
typedef struct check {
    automod_t *am;
    const automod_message_t *m;
    const char *content; /* NUL-terminated, at most AM_SCAN_MAX bytes */
    size_t len;
    bool prepared;       /* am->text holds content */
    am_author_t *author; /* the author's history, when recorded */
    uint32_t hash;       /* of the normalized content; 0 when empty */
} check_t;

static void prepare(check_t *c)
{
    if (!c->prepared) {
        am_text_prepare(&c->am->text, c->content, c->len);
        c->prepared = true;
    }
}

static bool exempt(const am_rule_t *r, const automod_message_t *m)
{
    size_t i, j;

    for (i = 0; i < r->nexempt_channels; i++)
        if (r->exempt_channels[i] == m->channel_id)
            return true;
    for (i = 0; i < r->nexempt_roles; i++)
        for (j = 0; j < m->nroles; j++)
            if (r->exempt_roles[i] == m->role_ids[j])
                return true;
    return false;
}

/* FNV-1a over the folded code points, spaces at the ends left out: "Buy  NOW" and
 * "buy now " are the same message. */
static uint32_t content_hash(const am_text_t *t)
{
    size_t from = 0, to = t->n, i;
    uint32_t h = 2166136261u;

    while (from < to && t->cp[from] == ' ')
        from++;
    while (to > from && t->cp[to - 1] == ' ')
        to--;
    if (from == to)
        return 0;
    for (i = from; i < to; i++) {
        h ^= t->cp[i];
        h *= 16777619u;
    }
    return h != 0 ? h : 1;
}

/* Links in the raw content: each "http://", "https://", and "www." starting a word. */
static size_t count_links(const char *s, size_t len)
{
    size_t i, n = 0;

    for (i = 0; i < len; i++) {
        if ((s[i] | 0x20) == 'h' &&
            (strncasecmp(s + i, "http://", 7) == 0 || strncasecmp(s + i, "https://", 8) == 0)) {
            n++;
            i += 6;
        } else if ((s[i] | 0x20) == 'w' && strncasecmp(s + i, "www.", 4) == 0 &&
                   (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\n' || s[i - 1] == '(' ||
                    s[i - 1] == '<' || s[i - 1] == '\t')) {
            n++;
            i += 3;
        }
    }
    return n;
}

/* Fills am->cover for rule r's allow_list over the prepared text (see the top). */
typedef struct cover_ctx {
    uint32_t *cover;
} cover_ctx_t;

static bool cover_cb(void *arg, const am_match_t *m)
{
    cover_ctx_t *c = arg;

    if (c->cover[m->word_from] < m->word_to)
        c->cover[m->word_from] = (uint32_t)m->word_to;
    return false;
}

static void build_cover(check_t *c, const am_rule_t *r)
{
    automod_t *am = c->am;
    cover_ctx_t ctx;
    size_t i, n = am->text.n;

    if (am->cover_cap < n + 1) {
        free(am->cover);
        am->cover_cap = n + 1;
        am->cover = malloc(am->cover_cap * sizeof(*am->cover));
        if (am->cover == NULL)
            abort();
    }
    memset(am->cover, 0, (n + 1) * sizeof(*am->cover));
    ctx.cover = am->cover;
    am_kwset_scan(&r->allow, &am->text, cover_cb, &ctx);
    for (i = 1; i <= n; i++)
        if (am->cover[i] < am->cover[i - 1])
            am->cover[i] = am->cover[i - 1];
}

static bool allowed(const check_t *c, const am_rule_t *r, size_t from, size_t to)
{
    return r->allow.n > 0 && c->am->cover[from] >= to;
}

/* The first match of a keyword set that allow_list does not cover. */
typedef struct kw_ctx {
    const check_t *c;
    const am_rule_t *r;
    am_match_t found;
    bool have;
} kw_ctx_t;

static bool kw_cb(void *arg, const am_match_t *m)
{
    kw_ctx_t *k = arg;

    if (allowed(k->c, k->r, m->from, m->to))
        return false;
    k->found = *m;
    k->have = true;
    return true;
}

/* The first code point starting at or after byte offset off. */
static size_t cp_at(const am_text_t *t, size_t off)
{
    size_t lo = 0, hi = t->n;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;

        if (t->off[mid] < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* A regex match of r not covered by allow_list: 0 and its byte span, or -1. */
static int regex_find(const check_t *c, const am_rule_t *r, size_t i, size_t *so, size_t *eo)
{
    regmatch_t pm;
    size_t pos = 0, tries;

    for (tries = 0; tries < RX_TRIES_MAX && pos <= c->len; tries++) {
        if (regexec(&r->rx[i], c->content + pos, 1, &pm, pos > 0 ? REG_NOTBOL : 0) != 0)
            return -1;
        *so = pos + (size_t)pm.rm_so;
        *eo = pos + (size_t)pm.rm_eo;
        /* An empty match shows nothing to a moderator: look further. */
        if (*eo > *so && !allowed(c, r, cp_at(&c->am->text, *so), cp_at(&c->am->text, *eo)))
            return 0;
        pos = *eo > *so ? *eo : *so + 1;
    }
    return -1;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);

    if (d == NULL)
        abort();
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static automod_hit_t *add_hit(automod_verdict_t *v, const am_rule_t *r, const char *reason)
{
    automod_hit_t *h = &v->hits[v->nhits++];
    size_t i;

    h->rule_id = r->id;
    h->trigger_type = r->trigger_type;
    h->rule_name = strdup(r->name != NULL ? r->name : "");
    if (h->rule_name == NULL)
        abort();
    h->reason = reason;
    for (i = 0; i < r->nactions; i++) {
        h->actions[i] = r->actions[i];
        json_incref(h->actions[i].json); /* keeps custom_message alive with it */
    }
    h->nactions = r->nactions;
    return h;
}

/* Keyword rules and presets: the keywords, then the regexes. */
static void check_keywords(check_t *c, const am_rule_t *r, automod_verdict_t *v)
{
    const am_text_t *t = &c->am->text;
    automod_hit_t *h;
    kw_ctx_t k = {.c = c, .r = r};
    size_t i, so, eo;

    if (r->keywords.n == 0 && r->nrx == 0)
        return;
    prepare(c);
    if (r->allow.n > 0)
        build_cover(c, r);
    if (am_kwset_scan(&r->keywords, t, kw_cb, &k)) {
        h = add_hit(v, r, r->trigger_type == AUTOMOD_TRIGGER_KEYWORD ? "keyword" : "preset");
        h->matched_keyword = strdup(r->keywords.kw[k.found.kw].text);
        if (h->matched_keyword == NULL)
            abort();
        h->matched_content = dup_n(c->content + t->off[k.found.word_from],
                                   t->off[k.found.word_to] - t->off[k.found.word_from]);
        return;
    }
    for (i = 0; i < r->nrx; i++) {
        if (regex_find(c, r, i, &so, &eo) == 0) {
            h = add_hit(v, r, "regex");
            h->matched_keyword = strdup(r->rx_src[i]);
            if (h->matched_keyword == NULL)
                abort();
            h->matched_content = dup_n(c->content + so, eo - so);
            return;
        }
    }
}

static void check_mentions(check_t *c, const am_rule_t *r, automod_verdict_t *v)
{
    const am_author_t *au = c->author;
    uint32_t now = (uint32_t)c->m->now_ms;
    size_t i, sum = 0;

    if (c->m->mention_count > (size_t)r->mention_limit) {
        add_hit(v, r, "mention_spam");
        return;
    }
    if (!r->raid || au == NULL || c->m->mention_count == 0)
        return;
    for (i = 0; i < au->count; i++)
        if ((uint32_t)(now - au->ring[i].t) < AUTOMOD_RAID_WINDOW_MS)
            sum += au->mentions[i];
    if (sum > 2 * (size_t)r->mention_limit)
        add_hit(v, r, "mention_raid");
}

static void check_spam(check_t *c, const am_rule_t *r, automod_verdict_t *v)
{
    const am_author_t *au = c->author;
    uint32_t now = (uint32_t)c->m->now_ms, age;
    int64_t dups = 0, recent = 0;
    size_t i;

    if (r->link_limit > 0 && count_links(c->content, c->len) > (size_t)r->link_limit) {
        add_hit(v, r, "links");
        return;
    }
    if (au == NULL) /* an edit, or exempt from every history rule */
        return;
    for (i = 0; i < au->count; i++) {
        age = now - au->ring[i].t;
        if (c->hash != 0 && au->ring[i].hash == c->hash && age < (uint32_t)r->dup_window_ms)
            dups++;
        if (age < (uint32_t)r->burst_window_ms)
            recent++;
    }
    if (r->dup_limit > 0 && dups >= r->dup_limit)
        add_hit(v, r, "duplicate");
    else if (r->burst_limit > 0 && recent > r->burst_limit)
        add_hit(v, r, "burst");
}

/* Records the message in its author's history when a rule that looks back applies. */
static void record(check_t *c)
{
    automod_t *am = c->am;
    const am_rule_t *r;
    bool need = false;
    size_t i;

    if (c->m->edit || am->idle_ms == 0)
        return;
    for (i = 0; i < am->nrules && !need; i++) {
        r = am->rules[i];
        need = r->enabled && history_window(r) > 0 && !exempt(r, c->m);
    }
    am_authors_expire(&am->authors, c->m->now_ms, am->idle_ms);
    if (!need)
        return;
    prepare(c);
    c->hash = content_hash(&am->text);
    c->author = am_authors_touch(&am->authors, c->m->author_id, c->m->now_ms);
    am_author_record(c->author, c->m->now_ms, c->hash, c->m->mention_count);
}

size_t automod_eval(automod_t *am, const automod_message_t *m, automod_verdict_t *out)
{
    check_t c = {.am = am, .m = m};
    const am_rule_t *r;
    automod_hit_t *h;
    size_t i, j;

    memset(out, 0, sizeof(*out));
    if (am->nrules == 0)
        return 0; /* the default: AutoMod is off */
    c.content = m->content != NULL ? m->content : "";
    c.len = strnlen(c.content, AM_SCAN_MAX + 1);
    if (c.len > AM_SCAN_MAX) {
        /* regexec needs a terminated string: examine a copy of the first part. */
        c.len = AM_SCAN_MAX;
        while (c.len > 0 && ((unsigned char)c.content[c.len] & 0xC0) == 0x80)
            c.len--;
        if (am->scan_cap < c.len + 1) {
            free(am->scan);
            am->scan_cap = AM_SCAN_MAX + 1;
            am->scan = malloc(am->scan_cap);
            if (am->scan == NULL)
                abort();
        }
        memcpy(am->scan, c.content, c.len);
        am->scan[c.len] = '\0';
        c.content = am->scan;
    }
    record(&c);
    for (i = 0; i < am->nrules; i++) {
        r = am->rules[i];
        if (!r->enabled || exempt(r, m))
            continue;
        switch (r->trigger_type) {
        case AUTOMOD_TRIGGER_KEYWORD:
        case AUTOMOD_TRIGGER_KEYWORD_PRESET:
            check_keywords(&c, r, out);
            break;
        case AUTOMOD_TRIGGER_MENTION_SPAM:
            check_mentions(&c, r, out);
            break;
        case AUTOMOD_TRIGGER_SPAM:
            check_spam(&c, r, out);
            break;
        }
    }
    for (i = 0; i < out->nhits; i++) {
        h = &out->hits[i];
        for (j = 0; j < h->nactions; j++) {
            if (h->actions[j].type == AUTOMOD_ACTION_BLOCK_MESSAGE) {
                if (!out->block)
                    out->block_message = h->actions[j].custom_message;
                out->block = true;
            } else if (h->actions[j].type == AUTOMOD_ACTION_TIMEOUT &&
                       h->actions[j].duration_seconds > out->timeout_seconds) {
                out->timeout_seconds = h->actions[j].duration_seconds;
            }
        }
    }
    return out->nhits;
}

void automod_verdict_clear(automod_verdict_t *v)
{
    automod_hit_t *h;
    size_t i, j;

    for (i = 0; i < v->nhits; i++) {
        h = &v->hits[i];
        free(h->rule_name);
        free(h->matched_keyword);
        free(h->matched_content);
        for (j = 0; j < h->nactions; j++)
            json_decref(h->actions[j].json);
    }
    memset(v, 0, sizeof(*v));
}
