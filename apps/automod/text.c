/* Text for keyword matching: UTF-8 decoded into case-folded code points with white
 * space collapsed and invisible characters dropped, keyword sets with Discord's
 * wildcard semantics, and the built-in keyword presets.
 *
 * Discord's matching strategies, for a keyword k found in the content:
 *   "cat"    whole word: k neither starts nor ends inside a word ("cat", "cat!", not
 *            "cats" or "bobcat");
 *   "cat*"   prefix: k starts a word ("catapult", "Category");
 *   "*cat"   suffix: k ends a word ("bobcat", "wildCAT");
 *   "*cat*"  anywhere ("location", "education").
 * A word is a run of letters and digits (am_is_word); a keyword may be a phrase
 * ("the mat*" matches "the   matrix": spacing does not matter). Matching is
 * case-insensitive: ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic letters and
 * fullwidth Latin fold to lower case. Zero-width characters and soft hyphens are
 * dropped, so "c\u200bat" is still "cat". */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- code points -------------------------------------------------------------------------------
 */

/* Decodes one UTF-8 character of s[0..len): its code point and length, or U+FFFD and
 * 1 for a byte that does not start a valid, shortest-form character. */
static uint32_t utf8_next(const unsigned char *s, size_t len, size_t *used)
{
    uint32_t c;
    size_t n, i;

    c = s[0];
    *used = 1;
    if (c < 0x80)
        return c;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2, c &= 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, c &= 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, c &= 0x07;
    else
        return 0xFFFD;
    if (n > len)
        return 0xFFFD;
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0xFFFD;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
        (c >= 0xD800 && c <= 0xDFFF))
        return 0xFFFD;
    *used = n;
    return c;
}

static uint32_t fold(uint32_t c)
{
    if (c < 0x80)
        return c >= 'A' && c <= 'Z' ? c + 32 : c;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7)
        return c + 32;
    /* Latin Extended-A: upper and lower case alternate, in three runs. */
    if ((c >= 0x100 && c <= 0x137 && (c & 1) == 0) || (c >= 0x139 && c <= 0x148 && (c & 1)) ||
        (c >= 0x14A && c <= 0x177 && (c & 1) == 0) || (c >= 0x179 && c <= 0x17E && (c & 1)))
        return c + 1;
    if (c == 0x178)
        return 0xFF;
    if (c >= 0x391 && c <= 0x3AB && c != 0x3A2)
        return c + 32;
    if (c >= 0x410 && c <= 0x42F)
        return c + 32;
    if (c >= 0x400 && c <= 0x40F)
        return c + 80;
    /* Fullwidth Latin letters are a way around filters: fold them to ASCII. */
    if (c >= 0xFF21 && c <= 0xFF3A)
        return c - 0xFF21 + 'a';
    if (c >= 0xFF41 && c <= 0xFF5A)
        return c - 0xFF41 + 'a';
    if (c >= 0xFF10 && c <= 0xFF19)
        return c - 0xFF10 + '0';
    return c;
}

static bool is_space(uint32_t c)
{
    return c == ' ' || (c >= 0x09 && c <= 0x0D) || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000;
}

/* Characters that show nothing: dropped, so they cannot split a keyword. */
static bool is_invisible(uint32_t c)
{
    return c == 0xAD || (c >= 0x200B && c <= 0x200D) || c == 0x2060 || c == 0xFEFF;
}

bool am_is_word(uint32_t c)
{
    if (c < 0x80)
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (c <= 0xBF || c == 0xD7 || c == 0xF7)
        return c == 0xAA || c == 0xB5 || c == 0xBA; /* ª µ º are letters */
    if ((c >= 0x2000 && c <= 0x206F) || (c >= 0x20A0 && c <= 0x20CF) ||
        (c >= 0x2190 && c <= 0x2BFF) || (c >= 0x3000 && c <= 0x303F) ||
        (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF0F) ||
        (c >= 0xFF1A && c <= 0xFF20) || (c >= 0xFF3B && c <= 0xFF40) ||
        (c >= 0xFF5B && c <= 0xFF65) || (c >= 0x1F000 && c <= 0x1FAFF))
        return false;
    return true;
}

/* ---- prepared text -----------------------------------------------------------------------------
 */

void am_text_prepare(am_text_t *t, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i, used;
    uint32_t c;

    /* At most one code point per byte, plus the end offset. */
    if (t->cap < len + 1) {
        t->cap = len + 1 < 64 ? 64 : len + 1;
        free(t->cp);
        free(t->off);
        t->cp = malloc(t->cap * sizeof(*t->cp));
        t->off = malloc(t->cap * sizeof(*t->off));
        if (t->cp == NULL || t->off == NULL)
            abort();
    }
    t->n = 0;
    for (i = 0; i < len; i += used) {
        c = utf8_next(p + i, len - i, &used);
        if (is_invisible(c))
            continue;
        if (is_space(c)) {
            if (t->n > 0 && t->cp[t->n - 1] == ' ')
                continue;
            c = ' ';
        }
        t->cp[t->n] = fold(c);
        t->off[t->n] = (uint32_t)i;
        t->n++;
    }
    t->off[t->n] = (uint32_t)len;
}

void am_text_free(am_text_t *t)
{
    free(t->cp);
    free(t->off);
    memset(t, 0, sizeof(*t));
}

/* ---- keyword sets ------------------------------------------------------------------------------
 */

static size_t edge_hash(uint64_t key, size_t cap)
{
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1);
}

/* The child of node on cp, or AM_NIL. */
static uint32_t edge_get(const am_kwset_t *set, uint32_t node, uint32_t cp)
{
    uint64_t key = ((uint64_t)node << 32) | cp;
    size_t i = edge_hash(key, set->edge_cap);

    while (set->edge_key[i] != 0) {
        if (set->edge_key[i] == key)
            return set->edge_child[i];
        i = (i + 1) & (set->edge_cap - 1);
    }
    return AM_NIL;
}

/* The child of node on cp, made if missing. The table was sized for every edge. */
static uint32_t edge_add(am_kwset_t *set, uint32_t node, uint32_t cp)
{
    uint64_t key = ((uint64_t)node << 32) | cp;
    size_t i = edge_hash(key, set->edge_cap);

    while (set->edge_key[i] != 0) {
        if (set->edge_key[i] == key)
            return set->edge_child[i];
        i = (i + 1) & (set->edge_cap - 1);
    }
    set->edge_key[i] = key;
    set->edge_child[i] = set->nnodes;
    set->node_kw[set->nnodes] = AM_NIL;
    return set->nnodes++;
}

void am_kwset_build(am_kwset_t *set, const char *const *words, size_t n)
{
    am_text_t t = {0};
    const char *w, *end;
    size_t i, j, len, total = 0;
    uint32_t node;
    am_kw_t *k;

    memset(set, 0, sizeof(*set));
    if (n == 0)
        return;
    set->kw = calloc(n, sizeof(*set->kw));
    if (set->kw == NULL)
        abort();
    for (i = 0; i < n; i++) {
        k = &set->kw[set->n];
        w = words[i];
        end = w + strlen(w);
        while (w < end && (*w == '*' || *w == ' ' || *w == '\t'))
            k->lead_wild |= *w++ == '*';
        while (end > w && (end[-1] == '*' || end[-1] == ' ' || end[-1] == '\t'))
            k->trail_wild |= *--end == '*';
        len = (size_t)(end - w);
        am_text_prepare(&t, w, len);
        while (t.n > 0 && t.cp[t.n - 1] == ' ')
            t.n--;
        if (t.n == 0 || t.cp[0] == ' ') {
            k->lead_wild = k->trail_wild = false;
            continue;
        }
        k->n = t.n;
        k->cp = malloc(t.n * sizeof(*k->cp));
        k->text = strdup(words[i]);
        if (k->cp == NULL || k->text == NULL)
            abort();
        memcpy(k->cp, t.cp, t.n * sizeof(*k->cp));
        total += t.n;
        set->n++;
    }
    am_text_free(&t);
    if (set->n == 0)
        return;
    /* At most one node per keyword character, plus the root; the edge table at most
     * half full. */
    for (set->edge_cap = 16; set->edge_cap < 2 * total; set->edge_cap *= 2)
        ;
    set->edge_key = calloc(set->edge_cap, sizeof(*set->edge_key));
    set->edge_child = malloc(set->edge_cap * sizeof(*set->edge_child));
    set->node_kw = malloc((total + 1) * sizeof(*set->node_kw));
    set->kw_next = malloc(set->n * sizeof(*set->kw_next));
    if (set->edge_key == NULL || set->edge_child == NULL || set->node_kw == NULL ||
        set->kw_next == NULL)
        abort();
    set->nnodes = 1;
    set->node_kw[0] = AM_NIL;
    /* Inserted last to first, so each node's list is in the order of the keywords. */
    for (i = set->n; i-- > 0;) {
        k = &set->kw[i];
        node = 0;
        for (j = 0; j < k->n; j++)
            node = edge_add(set, node, k->cp[j]);
        set->kw_next[i] = set->node_kw[node];
        set->node_kw[node] = (uint32_t)i;
    }
}

void am_kwset_free(am_kwset_t *set)
{
    size_t i;

    for (i = 0; i < set->n; i++) {
        free(set->kw[i].cp);
        free(set->kw[i].text);
    }
    free(set->kw);
    free(set->edge_key);
    free(set->edge_child);
    free(set->node_kw);
    free(set->kw_next);
    memset(set, 0, sizeof(*set));
}

bool am_kwset_scan(const am_kwset_t *set, const am_text_t *t, am_match_fn fn, void *arg)
{
    const am_kw_t *k;
    uint32_t node, x;
    size_t i, j, end;
    am_match_t m;

    if (set->n == 0)
        return false;
    for (i = 0; i < t->n; i++) {
        node = 0;
        for (j = i; j < t->n; j++) {
            node = edge_get(set, node, t->cp[j]);
            if (node == AM_NIL)
                break;
            for (x = set->node_kw[node]; x != AM_NIL; x = set->kw_next[x]) {
                k = &set->kw[x];
                end = j + 1;
                if (!k->lead_wild && i > 0 && am_is_word(t->cp[i - 1]) && am_is_word(t->cp[i]))
                    continue;
                if (!k->trail_wild && end < t->n && am_is_word(t->cp[end]) &&
                    am_is_word(t->cp[end - 1]))
                    continue;
                m.kw = x;
                m.from = i;
                m.to = end;
                m.word_from = i;
                m.word_to = end;
                /* A wildcard side reports the whole word, as a moderator wants to see it. */
                if (k->lead_wild)
                    while (m.word_from > 0 && am_is_word(t->cp[m.word_from - 1]))
                        m.word_from--;
                if (k->trail_wild)
                    while (m.word_to < t->n && am_is_word(t->cp[m.word_to]))
                        m.word_to++;
                if (fn(arg, &m))
                    return true;
            }
        }
    }
    return false;
}

/* ---- presets -----------------------------------------------------------------------------------
 */

/* Small built-in lists, a stand-in for Discord's curated wordsets: common English
 * words only, written with the same wildcards as keyword_filter. Slurs are listed as
 * the filter must see them. Servers extend them with their own KEYWORD rules. */
static const char *const preset_profanity[] = {
    "fuck*",    "*fucker",  "*fucking",  "motherfuck*", "shit*", "*shit",    "bullshit*", "bitch*",
    "asshole*", "bastard*", "dickhead*", "wanker*",     "cunt*", "piss off", "twat*",     NULL,
};

static const char *const preset_sexual[] = {
    "porn*",     "*pornhub*", "hentai*",  "nudes",     "send nudes",
    "blowjob*",  "handjob*",  "dildo*",   "cumshot*",  "xxx",
    "onlyfans*", "sexting",   "camgirl*", "nsfw pics", NULL,
};

static const char *const preset_slurs[] = {
    "nigger*",  "nigga*", "faggot*", "fag",   "fags",    "retard",   "retards",
    "retarded", "kike*",  "spic",    "spics", "tranny*", "wetback*", NULL,
};

const char *const *am_preset_words(int preset)
{
    switch (preset) {
    case AUTOMOD_PRESET_PROFANITY:
        return preset_profanity;
    case AUTOMOD_PRESET_SEXUAL_CONTENT:
        return preset_sexual;
    case AUTOMOD_PRESET_SLURS:
        return preset_slurs;
    default:
        return NULL;
    }
}
