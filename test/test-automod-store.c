/* Auto-moderation rules in the store (apps/store/automod.h) and the path a hub takes
 * with them: validate (apps/automod), write, read back, compile, check messages. Each
 * test works on a fresh temporary data directory (test-store.h). */
#include "test-store.h"

#include "automod/automod.h"
#include "store/automod.h"

/* A validated rule from a create body (JSON text, single quotes for double). */
static json_t *valid_rule(const char *text)
{
    json_t *body, *rule = NULL, *errs = NULL;
    char buf[2048];
    size_t i;

    for (i = 0; text[i] != '\0' && i < sizeof(buf) - 1; i++)
        buf[i] = text[i] == '\'' ? '"' : text[i];
    buf[i] = '\0';
    body = json_loads(buf, 0, NULL);
    ASSERT_NOT_NULL(body);
    ASSERT_OK(automod_rule_validate(body, NULL, NULL, &rule, &errs));
    json_decref(body);
    return rule;
}

TEST_IMPL(automod_store_rules)
{
    json_t *rule, *made, *got, *list, *patch, *changed, *errs = NULL;
    uint64_t owner, guild, other, id, id2;
    char dir[64];
    store_t *s;

    s = ts_open(dir);
    owner = ts_user(s, "owner");
    guild = ts_guild(s, owner, "guild", NULL);
    other = ts_guild(s, owner, "other", NULL);

    /* No rules by default. */
    ASSERT_OK(store_automod_rule_list(s, guild, &list));
    ASSERT_EQ(0, json_array_size(list));
    json_decref(list);

    /* Create: the store assigns the id and records guild and creator. */
    rule =
        valid_rule("{'name': 'Bad words', 'event_type': 1, 'trigger_type': 1,"
                   " 'trigger_metadata': {'keyword_filter': ['cat*'], 'allow_list': ['catalog']},"
                   " 'actions': [{'type': 1, 'metadata': {'custom_message': 'No.'}}],"
                   " 'enabled': true, 'exempt_roles': ['123']}");
    ASSERT_OK(store_automod_rule_create(s, guild, owner, rule, &made));
    id = jid(made, "id");
    ASSERT_NE(0, id);
    ASSERT_EQ(guild, jid(made, "guild_id"));
    ASSERT_EQ(owner, jid(made, "creator_id"));
    /* Apart from the three ids, exactly what was written. */
    json_object_del(made, "id");
    json_object_del(made, "guild_id");
    json_object_del(made, "creator_id");
    ASSERT(json_equal(rule, made));
    json_decref(made);
    ASSERT_OK(store_automod_rule_get(s, guild, id, &got));
    ASSERT_STR_EQ("Bad words", js(got, "name"));
    ASSERT(jb(got, "enabled"));
    /* What the store returns validates again unchanged: the hub may load it as is. */
    ASSERT_OK(automod_rule_validate(got, NULL, NULL, &changed, &errs));
    ASSERT(json_equal(got, changed));
    json_decref(changed);
    json_decref(got);
    ASSERT_EQ(STORE_ENOTFOUND, store_automod_rule_get(s, other, id, NULL));
    ASSERT_EQ(STORE_ENOTFOUND, store_automod_rule_get(s, guild, id + 1, NULL));
    json_decref(rule);

    rule = valid_rule("{'name': 'Spam', 'event_type': 1, 'trigger_type': 3,"
                      " 'actions': [{'type': 3, 'metadata': {'duration_seconds': 60}}]}");
    ASSERT_OK(store_automod_rule_create(s, guild, owner, rule, &made));
    id2 = jid(made, "id");
    ASSERT_GT(id2, id);
    ASSERT(!jb(made, "enabled"));
    json_decref(made);
    json_decref(rule);
    ASSERT_OK(store_automod_rule_list(s, guild, &list));
    ASSERT_EQ(2, json_array_size(list));
    ASSERT_EQ(id, jid(json_array_get(list, 0), "id"));
    ASSERT_EQ(id2, jid(json_array_get(list, 1), "id"));
    json_decref(list);

    /* Update: a PATCH merged by automod_rule_validate; trigger_type cannot change. */
    ASSERT_OK(store_automod_rule_get(s, guild, id2, &got));
    patch = json_pack("{s:s, s:b, s:i}", "name", "Spam 2", "enabled", 1, "trigger_type", 1);
    ASSERT_OK(automod_rule_validate(patch, got, NULL, &changed, &errs));
    json_object_set_new(changed, "trigger_type", json_integer(1)); /* ignored by the store */
    ASSERT_OK(store_automod_rule_update(s, guild, id2, changed, &made));
    ASSERT_STR_EQ("Spam 2", js(made, "name"));
    ASSERT(jb(made, "enabled"));
    ASSERT_EQ(3, ji(made, "trigger_type"));
    ASSERT_EQ(owner, jid(made, "creator_id"));
    ASSERT_EQ(STORE_ENOTFOUND, store_automod_rule_update(s, other, id2, changed, NULL));
    json_decref(made);
    json_decref(changed);
    json_decref(patch);
    json_decref(got);

    /* Form errors and unknown guilds. */
    rule = json_pack("{s:s, s:i, s:i, s:s}", "name", "x", "event_type", 1, "trigger_type", 1,
                     "actions", "not a list");
    ASSERT_EQ(STORE_EINVAL, store_automod_rule_create(s, guild, owner, rule, NULL));
    json_object_set_new(rule, "actions", json_array());
    json_object_del(rule, "name");
    ASSERT_EQ(STORE_EINVAL, store_automod_rule_create(s, guild, owner, rule, NULL));
    json_object_set_new(rule, "name", json_string("x"));
    ASSERT_EQ(STORE_ENOTFOUND, store_automod_rule_create(s, guild + 999, owner, rule, NULL));
    ASSERT_EQ(STORE_ENOTFOUND, store_automod_rule_list(s, guild + 999, NULL));
    json_decref(rule);

    /* Delete returns the rule as it was. */
    ASSERT_OK(store_automod_rule_delete(s, guild, id2, &got));
    ASSERT_STR_EQ("Spam 2", js(got, "name"));
    json_decref(got);
    ASSERT_EQ(STORE_ENOTFOUND, store_automod_rule_delete(s, guild, id2, NULL));
    ASSERT_EQ(STORE_ENOTFOUND, store_automod_rule_get(s, guild, id2, NULL));

    /* Deleting the guild deletes its rules. */
    ASSERT_OK(store_guild_delete(s, guild));
    ASSERT_EQ(STORE_ENOTFOUND, store_automod_rule_get(s, guild, id, NULL));
    ts_close(s, dir);
    return 0;
}

/* The case end to end, short of sockets: a banned word is blocked, and a
 * repeat spammer is timed out, by rules that went through the store. */
TEST_IMPL(automod_store_to_verdict)
{
    automod_message_t m = {0};
    automod_verdict_t v;
    uint64_t owner, guild, general;
    json_t *rule, *list;
    automod_t *am;
    char dir[64];
    store_t *s;
    int i;

    s = ts_open(dir);
    owner = ts_user(s, "owner");
    guild = ts_guild(s, owner, "guild", &general);
    rule = valid_rule("{'name': 'Banned', 'event_type': 1, 'trigger_type': 1, 'enabled': true,"
                      " 'trigger_metadata': {'keyword_filter': ['darn']},"
                      " 'actions': [{'type': 1}]}");
    ASSERT_OK(store_automod_rule_create(s, guild, owner, rule, NULL));
    json_decref(rule);
    rule = valid_rule(
        "{'name': 'Spam', 'event_type': 1, 'trigger_type': 3, 'enabled': true,"
        " 'trigger_metadata': {'duplicate_limit': 3},"
        " 'actions': [{'type': 1}, {'type': 3, 'metadata': {'duration_seconds': 600}}]}");
    ASSERT_OK(store_automod_rule_create(s, guild, owner, rule, NULL));
    json_decref(rule);

    /* The hub starts: its rules come from the store. */
    am = automod_new(NULL);
    ASSERT_OK(store_automod_rule_list(s, guild, &list));
    ASSERT_EQ(2, automod_rules_load(am, list));
    json_decref(list);

    m.author_id = 77;
    m.channel_id = general;
    m.content = "well, DARN it";
    m.now_ms = 1000;
    ASSERT_EQ(1, automod_eval(am, &m, &v));
    ASSERT(v.block);
    ASSERT_EQ(0, v.timeout_seconds);
    ASSERT_STR_EQ("darn", v.hits[0].matched_keyword);
    automod_verdict_clear(&v);

    m.author_id = 78;
    m.content = "join my server";
    for (i = 0; i < 2; i++) {
        m.now_ms += 1000;
        ASSERT_EQ(0, automod_eval(am, &m, &v));
    }
    m.now_ms += 1000;
    ASSERT_EQ(1, automod_eval(am, &m, &v));
    ASSERT(v.block);
    ASSERT_EQ(600, v.timeout_seconds);
    automod_verdict_clear(&v);
    automod_free(am);
    ts_close(s, dir);
    return 0;
}
