/* Auto-moderation engine tests (apps/automod): keyword wildcards and allow_list,
 * regexes, presets, mention spam, the spam heuristics (duplicates, bursts, links),
 * exemptions, the bounded author history, rule validation and JSON round trips, and
 * the execution event and alert message. Pure: no runtime, no store. */
#include "task.h"

#include "automod/automod.h"

#include <ctype.h>
#include <time.h>

/* ---- helpers --------------------------------------------------------------------------------- */

/* Parses JSON text (single quotes stand for double quotes, to keep tests readable). */
static json_t *js(const char *text)
{
    json_error_t err;
    json_t *v;
    char *buf;
    size_t i;

    buf = malloc(strlen(text) + 1);
    ASSERT_NOT_NULL(buf);
    for (i = 0; text[i] != '\0'; i++)
        buf[i] = text[i] == '\'' ? '"' : text[i];
    buf[i] = '\0';
    v = json_loads(buf, JSON_DECODE_ANY, &err);
    if (v == NULL)
        fprintf(stderr, "bad test JSON: %s: %s\n", err.text, buf);
    ASSERT_NOT_NULL(v);
    free(buf);
    return v;
}

/* Adds a rule (JSON text without id: id is given) to am. */
static void add_rule(automod_t *am, uint64_t id, const char *text)
{
    json_t *r = js(text);

    json_object_set_new(r, "id", json_integer((json_int_t)id));
    ASSERT_OK(automod_rule_set(am, r));
    json_decref(r);
}

/* A rule of one keyword list with a BLOCK_MESSAGE action, enabled. */
static automod_t *keyword_am(const char *keywords, const char *allow)
{
    char text[4096];
    automod_t *am = automod_new(NULL);

    snprintf(text, sizeof(text),
             "{'name': 'words', 'event_type': 1, 'trigger_type': 1, 'enabled': true,"
             " 'trigger_metadata': {'keyword_filter': %s, 'allow_list': %s},"
             " 'actions': [{'type': 1}]}",
             keywords, allow != NULL ? allow : "[]");
    add_rule(am, 100, text);
    return am;
}

static automod_message_t msg(uint64_t author, uint64_t channel, const char *content, int64_t now)
{
    automod_message_t m = {0};

    m.author_id = author;
    m.channel_id = channel;
    m.content = content;
    m.now_ms = now;
    return m;
}

/* Whether content fires am (as author 1 in channel 2); the matched content into
 * matched (64 bytes) when given. */
static bool fires(automod_t *am, const char *content, char *matched)
{
    automod_message_t m = msg(1, 2, content, 1000);
    automod_verdict_t v;
    bool hit;

    hit = automod_eval(am, &m, &v) > 0;
    if (matched != NULL)
        snprintf(matched, 64, "%s",
                 hit && v.hits[0].matched_content != NULL ? v.hits[0].matched_content : "");
    automod_verdict_clear(&v);
    return hit;
}

/* The "_errors"[0].code at a dotted path of an errors object, or NULL. */
static const char *err_code(const json_t *errs, const char *path)
{
    char part[64];
    const char *dot;
    size_t n;

    while (errs != NULL && *path != '\0') {
        dot = strchr(path, '.');
        n = dot != NULL ? (size_t)(dot - path) : strlen(path);
        snprintf(part, sizeof(part), "%.*s", (int)n, path);
        errs = json_object_get(errs, part);
        path = dot != NULL ? dot + 1 : path + n;
    }
    return json_string_value(
        json_object_get(json_array_get(json_object_get(errs, "_errors"), 0), "code"));
}

/* Validates text (a create body); returns the errors (the caller decrefs) or NULL
 * when it is valid. */
static json_t *invalid(const char *text)
{
    json_t *body = js(text), *rule = NULL, *errs = NULL;
    int rc;

    rc = automod_rule_validate(body, NULL, NULL, &rule, &errs);
    json_decref(body);
    if (rc == 0) {
        json_decref(rule);
        return NULL;
    }
    ASSERT_EQ(AUTOMOD_EINVAL, rc);
    ASSERT_NOT_NULL(errs);
    return errs;
}

/* ---- keywords ------------------------------------------------------------------------------- */

TEST_IMPL(automod_default_off)
{
    automod_t *am = automod_new(NULL);
    automod_message_t m = msg(1, 2, "fuck this spam spam spam http://a http://b", 0);
    automod_verdict_t v;
    int i;

    for (i = 0; i < 100; i++)
        ASSERT_EQ(0, automod_eval(am, &m, &v));
    ASSERT_EQ(0, automod_authors(am));
    ASSERT_EQ(0, automod_rule_count(am, 0));
    automod_free(am);
    return 0;
}

TEST_IMPL(automod_wildcards)
{
    char matched[64];
    automod_t *am;

    /* Prefix: the keyword starts a word. */
    am = keyword_am("['cat*']", NULL);
    ASSERT(fires(am, "what a category", matched));
    ASSERT_STR_EQ("category", matched);
    ASSERT(fires(am, "Catapult!", NULL));
    ASSERT(fires(am, "CAttLE", NULL));
    ASSERT(fires(am, "cat", NULL));
    ASSERT(!fires(am, "bobcat", NULL));
    ASSERT(!fires(am, "concatenate", NULL));
    automod_free(am);

    /* Suffix: the keyword ends a word. */
    am = keyword_am("['*cat']", NULL);
    ASSERT(fires(am, "a bobcat.", matched));
    ASSERT_STR_EQ("bobcat", matched);
    ASSERT(fires(am, "wildCAT", NULL));
    ASSERT(fires(am, "cat", NULL));
    ASSERT(!fires(am, "category", NULL));
    ASSERT(!fires(am, "bobcats", NULL));
    automod_free(am);

    /* Anywhere. */
    am = keyword_am("['*cat*']", NULL);
    ASSERT(fires(am, "my location", matched));
    ASSERT_STR_EQ("location", matched);
    ASSERT(fires(am, "EduCation", NULL));
    ASSERT(fires(am, "bobcat", NULL));
    ASSERT(fires(am, "category", NULL));
    ASSERT(!fires(am, "c a t", NULL));
    automod_free(am);

    /* Whole word only. */
    am = keyword_am("['cat']", NULL);
    ASSERT(fires(am, "cat", matched));
    ASSERT_STR_EQ("cat", matched);
    ASSERT(fires(am, "the cat sat", NULL));
    ASSERT(fires(am, "CAT!", NULL));
    ASSERT(fires(am, "(cat)", NULL));
    ASSERT(!fires(am, "cats", NULL));
    ASSERT(!fires(am, "bobcat", NULL));
    ASSERT(!fires(am, "category", NULL));
    ASSERT(!fires(am, "", NULL));
    /* Invisible characters cannot split a keyword; fullwidth letters fold. */
    ASSERT(fires(am,
                 "c\xe2\x80\x8b"
                 "at",
                 NULL));
    ASSERT(fires(am, "\xef\xbd\x83\xef\xbd\x81\xef\xbd\x94", NULL));
    automod_free(am);

    /* Phrases: spacing does not matter; the wildcard extends the last word. */
    am = keyword_am("['the mat*', 'i like c++']", NULL);
    ASSERT(fires(am, "see The   MATRIX now", matched));
    ASSERT_STR_EQ("The   MATRIX", matched);
    ASSERT(fires(am, "I like C++ a lot", matched));
    ASSERT_STR_EQ("I like C++", matched);
    ASSERT(!fires(am, "breathe matter", NULL));
    ASSERT(!fires(am, "the cat", NULL));
    automod_free(am);

    /* Case folding beyond ASCII. */
    am = keyword_am("['café', '*ПРИВЕТ*']", NULL);
    ASSERT(fires(am, "CAFÉ", NULL));
    ASSERT(fires(am, "скажи привет", NULL));
    ASSERT(!fires(am, "cafe", NULL));
    automod_free(am);
    return 0;
}

TEST_IMPL(automod_keyword_block)
{
    automod_t *am = automod_new(NULL);
    automod_message_t m = msg(7, 8, "I sell Crypto coins", 5000);
    automod_verdict_t v;

    add_rule(am, 100,
             "{'name': 'No crypto', 'event_type': 1, 'trigger_type': 1, 'enabled': true,"
             " 'trigger_metadata': {'keyword_filter': ['crypto*', 'nft']},"
             " 'actions': [{'type': 1, 'metadata': {'custom_message': 'Not here.'}},"
             "             {'type': 2, 'metadata': {'channel_id': '555'}},"
             "             {'type': 3, 'metadata': {'duration_seconds': 60}}]}");
    ASSERT_EQ(1, automod_eval(am, &m, &v));
    ASSERT(v.block);
    ASSERT_STR_EQ("Not here.", v.block_message);
    ASSERT_EQ(60, v.timeout_seconds);
    ASSERT_EQ(100, v.hits[0].rule_id);
    ASSERT_EQ(AUTOMOD_TRIGGER_KEYWORD, v.hits[0].trigger_type);
    ASSERT_STR_EQ("No crypto", v.hits[0].rule_name);
    ASSERT_STR_EQ("crypto*", v.hits[0].matched_keyword);
    ASSERT_STR_EQ("Crypto", v.hits[0].matched_content);
    ASSERT_STR_EQ("keyword", v.hits[0].reason);
    ASSERT_EQ(3, v.hits[0].nactions);
    ASSERT_EQ(AUTOMOD_ACTION_BLOCK_MESSAGE, v.hits[0].actions[0].type);
    ASSERT_EQ(AUTOMOD_ACTION_SEND_ALERT_MESSAGE, v.hits[0].actions[1].type);
    ASSERT_EQ(555, v.hits[0].actions[1].channel_id);
    ASSERT_EQ(AUTOMOD_ACTION_TIMEOUT, v.hits[0].actions[2].type);
    ASSERT_EQ(60, v.hits[0].actions[2].duration_seconds);
    /* The verdict keeps its actions even when the rule goes away. */
    ASSERT_OK(automod_rule_remove(am, 100));
    ASSERT_STR_EQ("Not here.", v.block_message);
    automod_verdict_clear(&v);
    ASSERT_EQ(0, automod_eval(am, &m, &v));
    ASSERT_EQ(AUTOMOD_ENOTFOUND, automod_rule_remove(am, 100));

    /* A rule without BLOCK_MESSAGE only flags; a disabled rule does nothing. */
    add_rule(am, 101,
             "{'name': 'flag', 'event_type': 1, 'trigger_type': 1, 'enabled': true,"
             " 'trigger_metadata': {'keyword_filter': ['coins']},"
             " 'actions': [{'type': 2, 'metadata': {'channel_id': '555'}}]}");
    add_rule(am, 102,
             "{'name': 'off', 'event_type': 1, 'trigger_type': 1,"
             " 'trigger_metadata': {'keyword_filter': ['sell']}, 'actions': [{'type': 1}]}");
    ASSERT_EQ(1, automod_eval(am, &m, &v));
    ASSERT(!v.block);
    ASSERT_NULL(v.block_message);
    ASSERT_EQ(0, v.timeout_seconds);
    ASSERT_EQ(101, v.hits[0].rule_id);
    automod_verdict_clear(&v);
    automod_free(am);
    return 0;
}

TEST_IMPL(automod_allow_list)
{
    char matched[64];
    automod_t *am;

    am = keyword_am("['*cat*']", "['category', 'concat*']");
    ASSERT(!fires(am, "category", NULL));
    ASSERT(fires(am, "Categories", NULL)); /* not the allowed word */
    ASSERT(!fires(am, "concatenate the category", NULL));
    ASSERT(fires(am, "category cat", matched));
    ASSERT_STR_EQ("cat", matched);
    ASSERT(fires(am, "bobcat category", matched));
    ASSERT_STR_EQ("bobcat", matched);
    automod_free(am);

    /* A phrase allowed around a blocked word. */
    am = keyword_am("['bomb']", "['bath bomb*']");
    ASSERT(!fires(am, "I love a bath bomb", NULL));
    ASSERT(!fires(am, "Bath  Bombs are great", NULL));
    ASSERT(fires(am, "a bomb", NULL));
    automod_free(am);

    /* allow_list covers regex matches too. */
    am = automod_new(NULL);
    add_rule(am, 1,
             "{'name': 'rx', 'event_type': 1, 'trigger_type': 1, 'enabled': true,"
             " 'trigger_metadata': {'regex_patterns': ['h[a-z]+o'], 'allow_list': ['hello']},"
             " 'actions': [{'type': 1}]}");
    ASSERT(!fires(am, "hello there", NULL));
    ASSERT(fires(am, "hello hippo", matched));
    ASSERT_STR_EQ("hippo", matched);
    automod_free(am);
    return 0;
}

TEST_IMPL(automod_regex)
{
    automod_message_t m = msg(1, 2, "call me at 555-1234 ok", 0);
    automod_verdict_t v;
    char matched[64];
    json_t *errs;
    automod_t *am;

    am = automod_new(NULL);
    add_rule(am, 1,
             "{'name': 'rx', 'event_type': 1, 'trigger_type': 1, 'enabled': true,"
             " 'trigger_metadata': {'regex_patterns': ['(?:b|c)at\\\\b', '\\\\d{3}-\\\\d{4}',"
             "   '^(?:[0-9]{1,3}\\\\.){3}[0-9]{1,3}$']},"
             " 'actions': [{'type': 1}]}");
    ASSERT_EQ(1, automod_eval(am, &m, &v));
    ASSERT_STR_EQ("\\d{3}-\\d{4}", v.hits[0].matched_keyword);
    ASSERT_STR_EQ("555-1234", v.hits[0].matched_content);
    ASSERT_STR_EQ("regex", v.hits[0].reason);
    automod_verdict_clear(&v);
    ASSERT(fires(am, "a BAT flew", matched));
    ASSERT_STR_EQ("BAT", matched);
    ASSERT(!fires(am, "batman", NULL));
    ASSERT(fires(am, "10.0.0.1", NULL));
    ASSERT(!fires(am, "ip 10.0.0.1", NULL));
    automod_free(am);

    /* Refused: back-references, huge repetitions, bad syntax, lookaround. */
    errs = invalid("{'name': 'x', 'event_type': 1, 'trigger_type': 1, 'actions': [{'type': 1}],"
                   " 'trigger_metadata': {'regex_patterns': ['ok', '(a)\\\\1', '(a{200}){200}',"
                   " '(unclosed', '(?=x)']}}");
    ASSERT_NOT_NULL(errs);
    ASSERT_NULL(err_code(errs, "trigger_metadata.regex_patterns.0"));
    ASSERT_STR_EQ("AUTO_MODERATION_INVALID_REGEX",
                  err_code(errs, "trigger_metadata.regex_patterns.1"));
    ASSERT_STR_EQ("AUTO_MODERATION_INVALID_REGEX",
                  err_code(errs, "trigger_metadata.regex_patterns.2"));
    ASSERT_STR_EQ("AUTO_MODERATION_INVALID_REGEX",
                  err_code(errs, "trigger_metadata.regex_patterns.3"));
    ASSERT_STR_EQ("AUTO_MODERATION_INVALID_REGEX",
                  err_code(errs, "trigger_metadata.regex_patterns.4"));
    json_decref(errs);
    return 0;
}

TEST_IMPL(automod_preset)
{
    char matched[64];
    automod_t *am = automod_new(NULL);

    add_rule(am, 1,
             "{'name': 'presets', 'event_type': 1, 'trigger_type': 4, 'enabled': true,"
             " 'trigger_metadata': {'presets': [1, 3], 'allow_list': ['shitake']},"
             " 'actions': [{'type': 1}, {'type': 2, 'metadata': {'channel_id': '9'}}]}");
    ASSERT(fires(am, "what the FUCK", matched));
    ASSERT_STR_EQ("FUCK", matched);
    ASSERT(fires(am, "you motherfucker", NULL));
    ASSERT(fires(am, "bullshit", NULL));
    ASSERT(!fires(am, "shitake mushrooms", NULL)); /* allowed */
    ASSERT(!fires(am, "send nudes", NULL));        /* preset 2 is not on */
    ASSERT(!fires(am, "a scunthorpe classic", NULL));
    ASSERT(!fires(am, "hello there", NULL));
    automod_free(am);

    am = automod_new(NULL);
    add_rule(am, 1,
             "{'name': 'sexual', 'event_type': 1, 'trigger_type': 4, 'enabled': true,"
             " 'trigger_metadata': {'presets': [2]}, 'actions': [{'type': 1}]}");
    ASSERT(fires(am, "send nudes", NULL));
    ASSERT(fires(am, "free PORN here", NULL));
    ASSERT(!fires(am, "fuck", NULL));
    automod_free(am);
    return 0;
}

TEST_IMPL(automod_exempt)
{
    automod_t *am = automod_new(NULL);
    uint64_t roles[] = {11, 22};
    automod_message_t m = msg(1, 2, "cat", 0);
    automod_verdict_t v;

    add_rule(am, 1,
             "{'name': 'x', 'event_type': 1, 'trigger_type': 1, 'enabled': true,"
             " 'trigger_metadata': {'keyword_filter': ['cat']}, 'actions': [{'type': 1}],"
             " 'exempt_roles': ['22', '33'], 'exempt_channels': ['3']}");
    ASSERT_EQ(1, automod_eval(am, &m, &v));
    automod_verdict_clear(&v);
    m.role_ids = roles;
    m.nroles = 1; /* role 11: not exempt */
    ASSERT_EQ(1, automod_eval(am, &m, &v));
    automod_verdict_clear(&v);
    m.nroles = 2; /* role 22: exempt */
    ASSERT_EQ(0, automod_eval(am, &m, &v));
    m.nroles = 0;
    m.channel_id = 3; /* an exempt channel */
    ASSERT_EQ(0, automod_eval(am, &m, &v));
    automod_free(am);
    return 0;
}

/* ---- mentions and spam ---------------------------------------------------------------------- */

TEST_IMPL(automod_mention_spam)
{
    automod_t *am = automod_new(NULL);
    automod_message_t m = msg(1, 2, "hey <@1> <@2> <@3>", 0);
    automod_verdict_t v;
    int i;

    add_rule(am, 1,
             "{'name': 'mentions', 'event_type': 1, 'trigger_type': 5, 'enabled': true,"
             " 'trigger_metadata': {'mention_total_limit': 3,"
             "   'mention_raid_protection_enabled': true},"
             " 'actions': [{'type': 1}, {'type': 3, 'metadata': {'duration_seconds': 300}}]}");
    m.mention_count = 4;
    ASSERT_EQ(1, automod_eval(am, &m, &v));
    ASSERT_STR_EQ("mention_spam", v.hits[0].reason);
    ASSERT_NULL(v.hits[0].matched_keyword);
    ASSERT(v.block);
    ASSERT_EQ(300, v.timeout_seconds);
    automod_verdict_clear(&v);

    /* At the limit passes; raid protection: the mentions of one author summed over a
     * minute above twice the limit fire (here 3 + 3 + 3 > 6, a new author). */
    m.author_id = 2;
    m.mention_count = 3;
    for (i = 0; i < 2; i++) {
        m.now_ms += 1000;
        ASSERT_EQ(0, automod_eval(am, &m, &v));
    }
    m.now_ms += 1000;
    ASSERT_EQ(1, automod_eval(am, &m, &v));
    ASSERT_STR_EQ("mention_raid", v.hits[0].reason);
    automod_verdict_clear(&v);
    /* A minute later the sum starts over. */
    m.now_ms += AUTOMOD_RAID_WINDOW_MS;
    ASSERT_EQ(0, automod_eval(am, &m, &v));
    automod_free(am);
    return 0;
}

#define SPAM_RULE(meta)                                                                            \
    "{'name': 'spam', 'event_type': 1, 'trigger_type': 3, 'enabled': true,"                        \
    " 'trigger_metadata': " meta ","                                                               \
    " 'actions': [{'type': 1}, {'type': 2, 'metadata': {'channel_id': '77'}},"                     \
    "             {'type': 3, 'metadata': {'duration_seconds': 600}}]}"

TEST_IMPL(automod_spam_duplicates)
{
    automod_t *am = automod_new(NULL);
    automod_message_t m = msg(42, 2, "BUY cheap gold now", 0);
    automod_message_t other = msg(43, 2, "buy cheap gold now", 0);
    automod_verdict_t v;
    int i;

    add_rule(am, 1,
             SPAM_RULE("{'duplicate_limit': 4, 'duplicate_window_seconds': 30,"
                       " 'burst_limit': 0, 'link_limit': 0}"));
    /* The 1st to 3rd copies pass; the 4th is blocked and times the author out. Case and
     * spacing do not make a message new. */
    for (i = 0; i < 3; i++) {
        m.now_ms += 2000;
        m.content = i == 1 ? "buy   CHEAP gold now " : "BUY cheap gold now";
        ASSERT_EQ(0, automod_eval(am, &m, &v));
        /* Another author's copies count for them, not for 42. */
        other.now_ms = m.now_ms;
        ASSERT_EQ(0, automod_eval(am, &other, &v));
    }
    m.now_ms += 2000;
    ASSERT_EQ(1, automod_eval(am, &m, &v));
    ASSERT_STR_EQ("duplicate", v.hits[0].reason);
    ASSERT(v.block);
    ASSERT_EQ(600, v.timeout_seconds);
    ASSERT_EQ(77, v.hits[0].actions[1].channel_id);
    automod_verdict_clear(&v);
    /* Different content passes; an edit is not counted. */
    m.content = "sorry";
    ASSERT_EQ(0, automod_eval(am, &m, &v));
    m.content = "BUY cheap gold now";
    m.edit = true;
    ASSERT_EQ(0, automod_eval(am, &m, &v));
    m.edit = false;
    /* Once the window has passed the copies are forgotten. */
    m.now_ms += 31000;
    ASSERT_EQ(0, automod_eval(am, &m, &v));
    automod_free(am);
    return 0;
}

TEST_IMPL(automod_spam_burst)
{
    automod_t *am = automod_new(NULL);
    automod_message_t m = msg(42, 2, NULL, 0);
    automod_verdict_t v;
    char text[32];
    int i;

    add_rule(am, 1,
             SPAM_RULE("{'duplicate_limit': 0, 'burst_limit': 5, 'burst_window_seconds': 10}"));
    /* 5 messages in 10 s pass, the 6th fires. */
    for (i = 0; i < 5; i++) {
        snprintf(text, sizeof(text), "message %d", i);
        m.content = text;
        m.now_ms += 1000;
        ASSERT_EQ(0, automod_eval(am, &m, &v));
    }
    m.now_ms += 1000;
    ASSERT_EQ(1, automod_eval(am, &m, &v));
    ASSERT_STR_EQ("burst", v.hits[0].reason);
    automod_verdict_clear(&v);
    /* A steady pace never fires. */
    m.author_id = 43;
    for (i = 0; i < 100; i++) {
        m.now_ms += 2500;
        ASSERT_EQ(0, automod_eval(am, &m, &v));
    }
    automod_free(am);
    return 0;
}

TEST_IMPL(automod_spam_links)
{
    automod_t *am = automod_new(NULL);
    automod_message_t m = msg(42, 2, NULL, 0);
    json_t *rule, *norm, *errs;
    automod_verdict_t v;

    add_rule(am, 1, SPAM_RULE("{'link_limit': 2}"));
    m.content = "see https://a.example and http://b.example";
    ASSERT_EQ(0, automod_eval(am, &m, &v));
    m.content = "https://a.example HTTPS://b.example www.c.example";
    ASSERT_EQ(1, automod_eval(am, &m, &v));
    ASSERT_STR_EQ("links", v.hits[0].reason);
    automod_verdict_clear(&v);
    /* Defaults: duplicates at 3, bursts above 10, links above 5. */
    rule = js(SPAM_RULE("{}"));
    ASSERT_OK(automod_rule_validate(rule, NULL, NULL, &norm, &errs));
    ASSERT_EQ(AUTOMOD_SPAM_DUPLICATE_LIMIT,
              json_integer_value(
                  json_object_get(json_object_get(norm, "trigger_metadata"), "duplicate_limit")));
    ASSERT_EQ(AUTOMOD_SPAM_LINK_LIMIT,
              json_integer_value(
                  json_object_get(json_object_get(norm, "trigger_metadata"), "link_limit")));
    json_decref(rule);
    json_decref(norm);
    automod_free(am);
    return 0;
}

TEST_IMPL(automod_spam_exempt)
{
    automod_t *am = automod_new(NULL);
    automod_message_t m = msg(42, 2, "same", 0);
    uint64_t mod = 9;
    automod_verdict_t v;
    int i;

    add_rule(am, 1,
             "{'name': 'spam', 'event_type': 1, 'trigger_type': 3, 'enabled': true,"
             " 'trigger_metadata': {'duplicate_limit': 2}, 'actions': [{'type': 1}],"
             " 'exempt_roles': ['9'], 'exempt_channels': ['5']}");
    m.role_ids = &mod;
    m.nroles = 1;
    for (i = 0; i < 10; i++) {
        m.now_ms += 100;
        ASSERT_EQ(0, automod_eval(am, &m, &v));
    }
    ASSERT_EQ(0, automod_authors(am)); /* exempt messages are not even remembered */
    m.nroles = 0;
    m.now_ms += 100;
    ASSERT_EQ(0, automod_eval(am, &m, &v));
    m.now_ms += 100;
    ASSERT_EQ(1, automod_eval(am, &m, &v));
    automod_verdict_clear(&v);
    automod_free(am);
    return 0;
}

TEST_IMPL(automod_authors_bounded)
{
    automod_config_t cfg = {.max_authors = 10000};
    automod_t *am = automod_new(&cfg);
    automod_message_t m = msg(0, 2, "hello", 0);
    size_t i, n = test_scaled(1000000), peak = 0;
    automod_verdict_t v;

    add_rule(am, 1, SPAM_RULE("{'duplicate_limit': 2, 'duplicate_window_seconds': 60}"));
    /* A million distinct authors within one window: at most max_authors remembered. */
    for (i = 0; i < n; i++) {
        m.author_id = i + 1;
        m.now_ms = (int64_t)(i / 100);
        ASSERT_EQ(0, automod_eval(am, &m, &v));
        if (automod_memory(am) > peak)
            peak = automod_memory(am);
    }
    ASSERT_LE(automod_authors(am), 10000);
    ASSERT_LT(peak, (size_t)10000 * 400 + 1024 * 1024);
    /* The most recent authors are still known: the 2nd copy of the last one fires. */
    m.author_id = n;
    ASSERT_EQ(1, automod_eval(am, &m, &v));
    automod_verdict_clear(&v);
    /* Idle authors are forgotten: after the window everything is released. */
    m.author_id = n + 1;
    m.now_ms += 61000;
    ASSERT_EQ(0, automod_eval(am, &m, &v));
    ASSERT_EQ(1, automod_authors(am));
    ASSERT_LT(automod_memory(am), 64 * 1024);
    automod_free(am);
    return 0;
}

/* ---- rules as JSON -------------------------------------------------------------------------- */

TEST_IMPL(automod_rule_roundtrip)
{
    static const char example[] =
        "{'id': '969707018069872670', 'guild_id': '613425648685547541',"
        " 'name': 'Keyword Filter 1', 'creator_id': '423457898095789043',"
        " 'trigger_type': 1, 'event_type': 1,"
        " 'actions': [{'type': 1, 'metadata': {'custom_message': 'Please keep financial"
        "   discussions limited to the #finance channel'}},"
        "  {'type': 2, 'metadata': {'channel_id': '123456789123456789'}},"
        "  {'type': 3, 'metadata': {'duration_seconds': 60}}],"
        " 'trigger_metadata': {'keyword_filter': ['cat*', '*dog', '*ana*', 'i like c++'],"
        "   'regex_patterns': ['(b|c)at', '^(?:[0-9]{1,3}\\\\.){3}[0-9]{1,3}$'],"
        "   'allow_list': []},"
        " 'enabled': true,"
        " 'exempt_roles': ['323456789123456789', '423456789123456789'],"
        " 'exempt_channels': ['523456789123456789']}";
    json_t *in = js(example), *norm = NULL, *again = NULL, *errs = NULL, *list;
    automod_t *am = automod_new(NULL);
    char *text;

    /* Discord's own example is already normalized: it comes back unchanged. */
    ASSERT_OK(automod_rule_validate(in, NULL, NULL, &norm, &errs));
    ASSERT(json_equal(in, norm));
    /* Serialized and parsed again: the same. */
    text = json_dumps(norm, JSON_COMPACT);
    json_decref(in);
    in = json_loads(text, 0, NULL);
    free(text);
    ASSERT_OK(automod_rule_validate(in, NULL, NULL, &again, &errs));
    ASSERT(json_equal(norm, again));
    json_decref(again);
    /* Through the evaluator. */
    ASSERT_OK(automod_rule_set(am, in));
    ASSERT(json_equal(norm, automod_rule_get(am, 969707018069872670ULL)));
    list = automod_rules_json(am);
    ASSERT_EQ(1, json_array_size(list));
    ASSERT(json_equal(norm, json_array_get(list, 0)));
    json_decref(list);
    ASSERT(fires(am, "my dog", NULL));

    /* Normalization: defaults filled, integer ids become strings, repeats dropped. */
    json_decref(in);
    json_decref(norm);
    in = js("{'name': 'm', 'event_type': 1, 'trigger_type': 5,"
            " 'trigger_metadata': {'mention_total_limit': 5, 'keyword_filter': ['x']},"
            " 'actions': [{'type': 1, 'metadata': null}], 'exempt_roles': [7, '7', '8']}");
    ASSERT_OK(automod_rule_validate(in, NULL, NULL, &norm, &errs));
    ASSERT_STR_EQ("{\"name\": \"m\", \"event_type\": 1, \"trigger_type\": 5, \"trigger_metadata\": "
                  "{\"mention_total_limit\": 5, \"mention_raid_protection_enabled\": false}, "
                  "\"actions\": [{\"type\": 1, \"metadata\": {}}], \"enabled\": false, "
                  "\"exempt_roles\": [\"7\", \"8\"], \"exempt_channels\": []}",
                  (text = json_dumps(norm, JSON_PRESERVE_ORDER)));
    free(text);

    /* Modify: only the fields given change; trigger_type stays; metadata replaced. */
    json_decref(in);
    in = js("{'name': 'renamed', 'trigger_type': 1, 'enabled': true,"
            " 'trigger_metadata': {'mention_total_limit': 9}}");
    ASSERT_OK(automod_rule_validate(in, norm, NULL, &again, &errs));
    ASSERT_STR_EQ("renamed", json_string_value(json_object_get(again, "name")));
    ASSERT_EQ(5, json_integer_value(json_object_get(again, "trigger_type")));
    ASSERT(json_is_true(json_object_get(again, "enabled")));
    ASSERT_EQ(9, json_integer_value(json_object_get(json_object_get(again, "trigger_metadata"),
                                                    "mention_total_limit")));
    ASSERT(
        json_equal(json_object_get(norm, "exempt_roles"), json_object_get(again, "exempt_roles")));
    json_decref(in);
    json_decref(norm);
    json_decref(again);
    automod_free(am);
    return 0;
}

static bool only_channel_5(void *arg, uint64_t id)
{
    (void)arg;
    return id == 5;
}

TEST_IMPL(automod_rule_validation)
{
    automod_refs_t refs = {.channel_exists = only_channel_5};
    char many[70000], *p;
    json_t *errs, *body, *rule;
    int i;

    /* Everything required missing. */
    errs = invalid("{}");
    ASSERT_STR_EQ("BASE_TYPE_REQUIRED", err_code(errs, "name"));
    ASSERT_STR_EQ("BASE_TYPE_REQUIRED", err_code(errs, "event_type"));
    ASSERT_STR_EQ("BASE_TYPE_REQUIRED", err_code(errs, "trigger_type"));
    ASSERT_STR_EQ("BASE_TYPE_REQUIRED", err_code(errs, "actions"));
    json_decref(errs);

    /* Wrong types and choices. */
    errs = invalid("{'name': '', 'event_type': 2, 'trigger_type': 6, 'actions': [],"
                   " 'enabled': 'yes', 'exempt_roles': 'x', 'trigger_metadata': 3}");
    ASSERT_STR_EQ("BASE_TYPE_BAD_LENGTH", err_code(errs, "name"));
    ASSERT_STR_EQ("BASE_TYPE_CHOICES", err_code(errs, "event_type"));
    ASSERT_STR_EQ("BASE_TYPE_CHOICES", err_code(errs, "trigger_type"));
    ASSERT_STR_EQ("BASE_TYPE_MIN_LENGTH", err_code(errs, "actions"));
    ASSERT_STR_EQ("BASE_TYPE_BOOLEAN", err_code(errs, "enabled"));
    ASSERT_STR_EQ("BASE_TYPE_LIST", err_code(errs, "exempt_roles"));
    ASSERT_STR_EQ("DICT_TYPE_CONVERT", err_code(errs, "trigger_metadata"));
    json_decref(errs);

    /* Keyword limits: length, count, allow_list count. */
    errs = invalid("{'name': 'k', 'event_type': 1, 'trigger_type': 1, 'actions': [{'type': 1}],"
                   " 'trigger_metadata': {'keyword_filter': ['ok',"
                   " '0123456789012345678901234567890123456789012345678901234567890', 5]}}");
    ASSERT_NULL(err_code(errs, "trigger_metadata.keyword_filter.0"));
    ASSERT_STR_EQ("BASE_TYPE_BAD_LENGTH", err_code(errs, "trigger_metadata.keyword_filter.1"));
    ASSERT_STR_EQ("BASE_TYPE_STRING", err_code(errs, "trigger_metadata.keyword_filter.2"));
    json_decref(errs);
    p = many + sprintf(many, "{'name': 'k', 'event_type': 1, 'trigger_type': 1, 'actions':"
                             " [{'type': 1}], 'trigger_metadata': {'keyword_filter': [");
    for (i = 0; i < AUTOMOD_KEYWORDS_MAX + 1; i++)
        p += sprintf(p, "%s'w%d'", i > 0 ? ", " : "", i);
    sprintf(p, "]}}");
    body = js(many);
    ASSERT_EQ(AUTOMOD_EINVAL, automod_rule_validate(body, NULL, NULL, &rule, &errs));
    ASSERT_STR_EQ("BASE_TYPE_MAX_LENGTH", err_code(errs, "trigger_metadata.keyword_filter"));
    json_decref(errs);
    json_decref(body);
    errs = invalid("{'name': 'k', 'event_type': 1, 'trigger_type': 1, 'actions': [{'type': 1}],"
                   " 'trigger_metadata': {'regex_patterns': ['a','b','c','d','e','f','g','h',"
                   " 'i','j','k']}}");
    ASSERT_STR_EQ("BASE_TYPE_MAX_LENGTH", err_code(errs, "trigger_metadata.regex_patterns"));
    json_decref(errs);

    /* Mention limits. */
    errs = invalid("{'name': 'm', 'event_type': 1, 'trigger_type': 5, 'actions': [{'type': 1}],"
                   " 'trigger_metadata': {'mention_total_limit': 51}}");
    ASSERT_STR_EQ("NUMBER_TYPE_MAX", err_code(errs, "trigger_metadata.mention_total_limit"));
    json_decref(errs);
    errs = invalid("{'name': 'm', 'event_type': 1, 'trigger_type': 5, 'actions': [{'type': 1}]}");
    ASSERT_STR_EQ("BASE_TYPE_REQUIRED", err_code(errs, "trigger_metadata.mention_total_limit"));
    json_decref(errs);

    /* Actions: metadata each type needs, bounds, repeats, TIMEOUT on presets. */
    errs = invalid("{'name': 'a', 'event_type': 1, 'trigger_type': 1, 'actions': ["
                   " {'type': 2}, {'type': 3, 'metadata': {'duration_seconds': 2419201}},"
                   " {'type': 1, 'metadata': {'custom_message': 'x'}}]}");
    ASSERT_STR_EQ("BASE_TYPE_REQUIRED", err_code(errs, "actions.0.metadata.channel_id"));
    ASSERT_STR_EQ("NUMBER_TYPE_MAX", err_code(errs, "actions.1.metadata.duration_seconds"));
    ASSERT_NULL(err_code(errs, "actions.2"));
    json_decref(errs);
    errs = invalid("{'name': 'a', 'event_type': 1, 'trigger_type': 1, 'actions': ["
                   " {'type': 1}, {'type': 1}, {'type': 9}]}");
    ASSERT_STR_EQ("AUTO_MODERATION_DUPLICATE_ACTION", err_code(errs, "actions.1.type"));
    ASSERT_STR_EQ("BASE_TYPE_CHOICES", err_code(errs, "actions.2.type"));
    json_decref(errs);
    errs = invalid("{'name': 'a', 'event_type': 1, 'trigger_type': 4, 'actions': ["
                   " {'type': 3, 'metadata': {'duration_seconds': 5}}]}");
    ASSERT_STR_EQ("AUTO_MODERATION_INVALID_ACTION", err_code(errs, "actions.0.type"));
    json_decref(errs);
    errs = invalid("{'name': 'a', 'event_type': 1, 'trigger_type': 1, 'actions': ["
                   " {'type': 1, 'metadata': {'custom_message': '"
                   "0123456789012345678901234567890123456789012345678901234567890123456789"
                   "0123456789012345678901234567890123456789012345678901234567890123456789"
                   "01234567890'}}]}");
    ASSERT_STR_EQ("BASE_TYPE_MAX_LENGTH", err_code(errs, "actions.0.metadata.custom_message"));
    json_decref(errs);

    /* Exemption limits, and ids checked against the guild. */
    errs = invalid("{'name': 'e', 'event_type': 1, 'trigger_type': 3, 'actions': [{'type': 1}],"
                   " 'exempt_roles': ['1','2','3','4','5','6','7','8','9','10','11','12','13',"
                   " '14','15','16','17','18','19','20','21'], 'exempt_channels': ['x']}");
    ASSERT_STR_EQ("BASE_TYPE_MAX_LENGTH", err_code(errs, "exempt_roles"));
    ASSERT_STR_EQ("NUMBER_TYPE_COERCE", err_code(errs, "exempt_channels.0"));
    json_decref(errs);
    body = js("{'name': 'e', 'event_type': 1, 'trigger_type': 3,"
              " 'actions': [{'type': 2, 'metadata': {'channel_id': '6'}}],"
              " 'exempt_channels': ['5', '4']}");
    ASSERT_EQ(AUTOMOD_EINVAL, automod_rule_validate(body, NULL, &refs, &rule, &errs));
    ASSERT_STR_EQ("UNKNOWN_ID", err_code(errs, "actions.0.metadata.channel_id"));
    ASSERT_NULL(err_code(errs, "exempt_channels.0"));
    ASSERT_STR_EQ("UNKNOWN_ID", err_code(errs, "exempt_channels.1"));
    json_decref(errs);
    json_decref(body);

    /* SPAM thresholds. */
    errs = invalid("{'name': 's', 'event_type': 1, 'trigger_type': 3, 'actions': [{'type': 1}],"
                   " 'trigger_metadata': {'duplicate_limit': 1, 'burst_limit': 31,"
                   " 'burst_window_seconds': 0, 'link_limit': -1}}");
    ASSERT_STR_EQ("NUMBER_TYPE_MIN", err_code(errs, "trigger_metadata.duplicate_limit"));
    ASSERT_STR_EQ("NUMBER_TYPE_MAX", err_code(errs, "trigger_metadata.burst_limit"));
    ASSERT_STR_EQ("NUMBER_TYPE_MIN", err_code(errs, "trigger_metadata.burst_window_seconds"));
    ASSERT_STR_EQ("NUMBER_TYPE_MIN", err_code(errs, "trigger_metadata.link_limit"));
    json_decref(errs);

    /* Not an object at all. */
    body = json_array();
    ASSERT_EQ(AUTOMOD_EINVAL, automod_rule_validate(body, NULL, NULL, &rule, &errs));
    ASSERT_STR_EQ("DICT_TYPE_CONVERT", err_code(errs, ""));
    json_decref(errs);
    json_decref(body);
    return 0;
}

TEST_IMPL(automod_rule_limits)
{
    automod_t *am = automod_new(NULL);
    json_t *rule, *errs = NULL;
    int i;

    for (i = 0; i < AUTOMOD_RULES_KEYWORD_MAX; i++)
        add_rule(am, 10 + i,
                 "{'name': 'k', 'event_type': 1, 'trigger_type': 1, 'actions': [{'type': 1}]}");
    rule = js("{'name': 'k', 'event_type': 1, 'trigger_type': 1, 'actions': [{'type': 1}]}");
    ASSERT_EQ(AUTOMOD_ELIMIT, automod_rule_admit(am, rule, &errs));
    ASSERT_STR_EQ("AUTO_MODERATION_MAX_RULES_OF_TYPE_EXCEEDED", err_code(errs, "trigger_type"));
    json_decref(errs);
    json_object_set_new(rule, "id", json_string("99"));
    ASSERT_EQ(AUTOMOD_ELIMIT, automod_rule_set(am, rule));
    /* Replacing one of the six is fine. */
    json_object_set_new(rule, "id", json_string("12"));
    ASSERT_OK(automod_rule_admit(am, rule, &errs));
    ASSERT_OK(automod_rule_set(am, rule));
    json_decref(rule);
    /* One rule of each other type. */
    add_rule(am, 1, "{'name': 's', 'event_type': 1, 'trigger_type': 3, 'actions': [{'type': 1}]}");
    rule = js("{'id': '2', 'name': 's', 'event_type': 1, 'trigger_type': 3,"
              " 'actions': [{'type': 1}]}");
    ASSERT_EQ(AUTOMOD_ELIMIT, automod_rule_set(am, rule));
    json_decref(rule);
    ASSERT_EQ(7, automod_rule_count(am, 0));
    ASSERT_EQ(6, automod_rule_count(am, AUTOMOD_TRIGGER_KEYWORD));
    /* Without an id, a rule cannot be loaded. */
    rule = js("{'name': 's', 'event_type': 1, 'trigger_type': 5, 'actions': [{'type': 1}],"
              " 'trigger_metadata': {'mention_total_limit': 5}}");
    ASSERT_EQ(AUTOMOD_EINVAL, automod_rule_set(am, rule));
    json_decref(rule);
    /* Loading a list replaces everything. */
    rule = js("[{'id': '5', 'name': 'a', 'event_type': 1, 'trigger_type': 1, 'enabled': true,"
              "  'trigger_metadata': {'keyword_filter': ['x']}, 'actions': [{'type': 1}]},"
              " {'id': '6', 'name': 'bad'}]");
    ASSERT_EQ(1, automod_rules_load(am, rule));
    json_decref(rule);
    ASSERT_EQ(1, automod_rule_count(am, 0));
    ASSERT(fires(am, "x", NULL));
    automod_free(am);
    return 0;
}

/* ---- events --------------------------------------------------------------------------------- */

TEST_IMPL(automod_event)
{
    automod_t *am = automod_new(NULL);
    automod_message_t m = msg(7, 8, "I sell crypto", 0);
    automod_verdict_t v;
    json_t *ev, *alert, *fields;
    char text[256], small[40];
    char *dump;

    add_rule(am, 100,
             "{'name': 'No crypto', 'event_type': 1, 'trigger_type': 1, 'enabled': true,"
             " 'trigger_metadata': {'keyword_filter': ['crypto']},"
             " 'actions': [{'type': 1}, {'type': 2, 'metadata': {'channel_id': '555'}},"
             "   {'type': 3, 'metadata': {'duration_seconds': 60}}]}");
    ASSERT_EQ(1, automod_eval(am, &m, &v));

    /* The blocked message's event: no message_id. */
    ev = automod_event_json(3, &v.hits[0], 0, &m, 0, 0, true);
    dump = json_dumps(ev, JSON_SORT_KEYS | JSON_COMPACT);
    ASSERT_STR_EQ("{\"action\":{\"metadata\":{},\"type\":1},\"channel_id\":\"8\",\"content\":"
                  "\"I sell crypto\",\"guild_id\":\"3\",\"matched_content\":\"crypto\","
                  "\"matched_keyword\":\"crypto\",\"rule_id\":\"100\",\"rule_trigger_type\":1,"
                  "\"user_id\":\"7\"}",
                  dump);
    free(dump);
    json_decref(ev);
    /* The alert action's, for a session without MESSAGE_CONTENT. */
    ev = automod_event_json(3, &v.hits[0], 1, &m, 0, 999, false);
    ASSERT_STR_EQ("", json_string_value(json_object_get(ev, "content")));
    ASSERT_STR_EQ("", json_string_value(json_object_get(ev, "matched_content")));
    ASSERT_STR_EQ("crypto", json_string_value(json_object_get(ev, "matched_keyword")));
    ASSERT_STR_EQ("999", json_string_value(json_object_get(ev, "alert_system_message_id")));
    ASSERT_NULL(json_object_get(ev, "message_id"));
    ASSERT_STR_EQ("555",
                  json_string_value(json_object_get(
                      json_object_get(json_object_get(ev, "action"), "metadata"), "channel_id")));
    json_decref(ev);

    /* The alert message. */
    alert = automod_alert_message_json(&v.hits[0], &m, 4242, 0, true);
    ASSERT_EQ(24, json_integer_value(json_object_get(alert, "type")));
    ASSERT_STR_EQ("auto_moderation_message",
                  json_string_value(json_object_get(
                      json_array_get(json_object_get(alert, "embeds"), 0), "type")));
    ASSERT_STR_EQ("I sell crypto",
                  json_string_value(json_object_get(
                      json_array_get(json_object_get(alert, "embeds"), 0), "description")));
    fields = json_object_get(json_array_get(json_object_get(alert, "embeds"), 0), "fields");
    dump = json_dumps(fields, JSON_COMPACT);
    ASSERT_NOT_NULL(
        strstr(dump, "{\"name\":\"rule_name\",\"value\":\"No crypto\",\"inline\":false}"));
    ASSERT_NOT_NULL(strstr(dump, "{\"name\":\"channel_id\",\"value\":\"8\""));
    ASSERT_NOT_NULL(strstr(dump, "{\"name\":\"decision_id\",\"value\":\"4242\""));
    ASSERT_NOT_NULL(strstr(dump, "{\"name\":\"keyword\",\"value\":\"crypto\""));
    ASSERT_NOT_NULL(strstr(dump, "{\"name\":\"keyword_matched_content\",\"value\":\"crypto\""));
    ASSERT_NOT_NULL(strstr(dump, "{\"name\":\"timeout_duration\",\"value\":\"60\""));
    ASSERT_NULL(strstr(dump, "flagged_message_id"));
    free(dump);
    json_decref(alert);

    /* The text summary, and a cut that does not split a character. */
    ASSERT_STR_EQ("AutoMod blocked a message from <@7> in <#8>: rule \"No crypto\" matched "
                  "\"crypto\"",
                  automod_alert_text(&v.hits[0], &m, true, text, sizeof(text)));
    automod_verdict_clear(&v);
    add_rule(am, 100,
             "{'name': 'Ünïcödé', 'event_type': 1, 'trigger_type': 1, 'enabled': true,"
             " 'trigger_metadata': {'keyword_filter': ['crypto']}, 'actions': [{'type': 1}]}");
    ASSERT_EQ(1, automod_eval(am, &m, &v));
    automod_alert_text(&v.hits[0], &m, false, small, sizeof(small));
    ASSERT_STR_EQ("AutoMod flagged a message from <@7> in ", small);
    /* 51 bytes, then the two of "\xc3\x9c" (Ü): a cut inside it drops it whole. */
    automod_alert_text(&v.hits[0], &m, false, text, 53);
    ASSERT_STR_EQ("AutoMod flagged a message from <@7> in <#8>: rule \"", text);
    automod_alert_text(&v.hits[0], &m, false, text, 54);
    ASSERT_STR_EQ("AutoMod flagged a message from <@7> in <#8>: rule \"\xc3\x9c", text);
    automod_verdict_clear(&v);
    automod_free(am);
    return 0;
}

/* ---- models and robustness ------------------------------------------------------------------ */

static uint64_t rnd_state;

static uint32_t rnd(uint32_t n)
{
    /* xorshift64*: reproducible from the printed seed. */
    rnd_state ^= rnd_state >> 12;
    rnd_state ^= rnd_state << 25;
    rnd_state ^= rnd_state >> 27;
    return (uint32_t)((rnd_state * 0x2545F4914F6CDD1DULL) >> 33) % n;
}

static bool ref_word(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Discord's matching, written the plain way for ASCII: lower case, spaces collapsed,
 * then each position tried with the wildcard rules. */
static bool ref_match(const char *keyword, const char *content)
{
    char kw[64], text[256];
    size_t i, j, n = 0, k = 0, kl;
    bool lead, trail;

    lead = keyword[0] == '*';
    kl = strlen(keyword);
    trail = kl > 1 && keyword[kl - 1] == '*';
    for (i = lead; i < kl - trail; i++)
        kw[k++] = (char)tolower((unsigned char)keyword[i]);
    kw[k] = '\0';
    for (i = 0; content[i] != '\0'; i++) {
        char c = (char)tolower((unsigned char)content[i]);

        if (c == ' ' && n > 0 && text[n - 1] == ' ')
            continue;
        text[n++] = c;
    }
    text[n] = '\0';
    for (i = 0; i + k <= n; i++) {
        if (strncmp(text + i, kw, k) != 0)
            continue;
        j = i + k;
        if (!lead && i > 0 && ref_word(text[i - 1]) && ref_word(text[i]))
            continue;
        if (!trail && j < n && ref_word(text[j]) && ref_word(text[j - 1]))
            continue;
        return true;
    }
    return false;
}

TEST_IMPL(automod_keyword_model)
{
    static const char alphabet[] = "abcAB !.";
    char keyword[16], content[64], rule[256];
    automod_t *am;
    int round, i, len;

    rnd_state = test_seed() | 1;
    for (round = 0; round < 2000; round++) {
        /* A keyword of 1..3 letters, maybe with wildcards. */
        len = 0;
        if (rnd(2))
            keyword[len++] = '*';
        for (i = 1 + (int)rnd(3); i > 0; i--)
            keyword[len++] = "abc"[rnd(3)];
        if (rnd(2))
            keyword[len++] = '*';
        keyword[len] = '\0';
        snprintf(rule, sizeof(rule), "['%s']", keyword);
        am = keyword_am(rule, NULL);
        for (i = 0; i < 50; i++) {
            len = (int)rnd(20);
            content[len] = '\0';
            while (len-- > 0)
                content[len] = alphabet[rnd(sizeof(alphabet) - 1)];
            if (fires(am, content, NULL) != ref_match(keyword, content)) {
                fprintf(stderr, "keyword \"%s\" content \"%s\": engine %d, model %d\n", keyword,
                        content, fires(am, content, NULL), ref_match(keyword, content));
                ASSERT(0);
            }
        }
        automod_free(am);
    }
    return 0;
}

TEST_IMPL(automod_random_input)
{
    automod_t *am = automod_new(&(automod_config_t){.max_authors = 64});
    uint64_t roles[3] = {1, 2, 3};
    automod_message_t m = {0};
    automod_verdict_t v;
    char content[600];
    size_t i, j, len, n = test_scaled(20000);

    rnd_state = test_seed() | 1;
    add_rule(am, 1,
             "{'name': 'k', 'event_type': 1, 'trigger_type': 1, 'enabled': true,"
             " 'trigger_metadata': {'keyword_filter': ['*a*', 'b*', '*\xc3\xa9', 'a b c',"
             "   '\xe2\x80\x8b'], 'regex_patterns': ['[ab]+c', '(x|y)*z$', '^$'],"
             "   'allow_list': ['*ab*', 'c']},"
             " 'actions': [{'type': 1}], 'exempt_roles': ['3']}");
    add_rule(am, 2,
             "{'name': 'p', 'event_type': 1, 'trigger_type': 4, 'enabled': true,"
             " 'trigger_metadata': {'presets': [1, 2, 3]}, 'actions': [{'type': 1}]}");
    add_rule(am, 3, SPAM_RULE("{'duplicate_limit': 2, 'burst_limit': 3, 'link_limit': 1}"));
    add_rule(am, 4,
             "{'name': 'm', 'event_type': 1, 'trigger_type': 5, 'enabled': true,"
             " 'trigger_metadata': {'mention_total_limit': 2,"
             "   'mention_raid_protection_enabled': true}, 'actions': [{'type': 1}]}");
    /* Random bytes (invalid UTF-8 included), authors, roles and times: nothing may
     * crash or read out of bounds (the ASan suite runs this too). */
    for (i = 0; i < n; i++) {
        len = rnd(sizeof(content));
        for (j = 0; j < len; j++) {
            switch (rnd(4)) {
            case 0:
                content[j] = (char)(1 + rnd(255));
                break;
            case 1:
                content[j] = "ab c\xc3\xa9xyz h"[rnd(12)];
                break;
            default:
                content[j] = (char)('a' + rnd(4));
                break;
            }
        }
        content[len] = '\0';
        m.author_id = 1 + rnd(200);
        m.content = content;
        m.role_ids = roles;
        m.nroles = rnd(4);
        m.channel_id = rnd(3);
        m.mention_count = rnd(5);
        m.now_ms += rnd(3000);
        m.edit = rnd(10) == 0;
        automod_eval(am, &m, &v);
        for (j = 0; j < v.nhits; j++)
            if (v.hits[j].matched_content != NULL)
                ASSERT_LE(strlen(v.hits[j].matched_content), len);
        automod_verdict_clear(&v);
        ASSERT_LE(automod_authors(am), 64);
    }
    automod_free(am);
    return 0;
}

/* A guild's worst reasonable case: six keyword rules of 1000 keywords and 10 regexes
 * each, against a 2000-character message. */
TEST_IMPL(automod_eval_cost)
{
    automod_t *am = automod_new(NULL);
    automod_message_t m = {0};
    automod_verdict_t v;
    struct timespec t0, t1;
    char *text, content[2001];
    size_t i, r, rounds = test_scaled(200);
    double us;

    text = malloc(1000 * 24 + 2048);
    ASSERT_NOT_NULL(text);
    for (r = 0; r < AUTOMOD_RULES_KEYWORD_MAX; r++) {
        char *p = text;

        p += sprintf(p, "{'name': 'k', 'event_type': 1, 'trigger_type': 1, 'enabled': true,"
                        " 'trigger_metadata': {'keyword_filter': [");
        /* Keywords that all start like words of the message, to defeat the index. */
        for (i = 0; i < AUTOMOD_KEYWORDS_MAX; i++)
            p += sprintf(p, "%s'%sss%zuq%zu%s'", i > 0 ? ", " : "", i % 3 == 0 ? "*" : "", i, r,
                         i % 2 == 0 ? "*" : "");
        p += sprintf(p, "], 'regex_patterns': ['s+q[0-9]{3}', 'x(a|b)*y', 'zz[a-c]+9',"
                        " 'q1q2q3', 'sss+9', '(ab|cd){2,4}e', 'w[0-9]{5}', 'n+m+o+p',"
                        " 'foo.*bar9', 'k[^ ]{20}9']},"
                        " 'actions': [{'type': 1}]}");
        add_rule(am, r + 1, text);
    }
    free(text);
    for (i = 0; i < 2000; i++)
        content[i] = i % 7 == 6 ? ' ' : "ss"[i % 2];
    content[2000] = '\0';
    m.content = content;
    m.author_id = 1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (i = 0; i < rounds; i++) {
        ASSERT_EQ(0, automod_eval(am, &m, &v));
        m.now_ms += 1000;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    us = ((double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3) /
         (double)rounds;
    fprintf(stderr, "automod_eval: %.1f us per message (6 x 1000 keywords, 60 regexes)\n", us);
    ASSERT_LT(us, 20000.0);
    automod_free(am);
    return 0;
}
