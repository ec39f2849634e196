/* Store tests of the moderation records (apps/store/moderation.h): bans with their
 * message deletion and paging, the audit log with its filters, users and pruning, and
 * the auto-moderation alert message. */
#include "test-store.h"

#include "store/moderation.h"

TEST_IMPL(moderation_store_bans)
{
    uint64_t owner, bad, other, guild, general, old_msg, new_msg, keep, users[5];
    store_ban_new_t b = {0};
    store_page_t pg = {0};
    json_t *out, *list;
    char dir[64], name[16], key[21], key2[21];
    store_t *s;
    int i;

    s = ts_open(dir);
    owner = ts_user(s, "owner");
    bad = ts_user(s, "bad");
    other = ts_user(s, "other");
    guild = ts_guild(s, owner, "Guild", &general);
    ASSERT_OK(store_member_add(s, guild, bad, NULL));
    ASSERT_OK(store_member_add(s, guild, other, NULL));
    old_msg = ts_msg(s, general, bad, "old");
    keep = ts_msg(s, general, other, "not theirs");
    usleep(20000);
    new_msg = ts_msg(s, general, bad, "new");

    /* A ban without a window ends the membership and deletes nothing. */
    b.guild_id = guild;
    b.user_id = bad;
    b.moderator_id = owner;
    b.reason = "spam";
    b.delete_message_seconds = 0;
    ASSERT_OK(store_ban_add(s, &b, &out));
    ASSERT(jb(out, "member_removed"));
    ASSERT_EQ(0, json_object_size(json_object_get(out, "deleted")));
    json_decref(out);
    ASSERT_EQ(STORE_ENOTFOUND, store_member_check(s, guild, bad));
    ASSERT_OK(store_ban_check(s, guild, bad));
    ASSERT_EQ(STORE_ENOTFOUND, store_ban_check(s, guild, other));
    /* Again, with a window of 1 s on a clock at the new message: banned already, the
     * messages that recent still go (the new one, 20 ms after the old one, only). */
    b.reason = "another reason";
    b.delete_message_seconds = 1;
    b.now_ms = snowflake_ms(new_msg) + 990;
    ASSERT_EQ(STORE_UNCHANGED, store_ban_add(s, &b, &out));
    ASSERT(!jb(out, "member_removed"));
    list = json_object_get(json_object_get(out, "deleted"), snowflake_str(general, key));
    ASSERT_EQ(1, json_object_size(json_object_get(out, "deleted")));
    ASSERT_EQ(1, json_array_size(list));
    ASSERT_STR_EQ(snowflake_str(new_msg, key2), json_string_value(json_array_get(list, 0)));
    json_decref(out);
    b.now_ms = 0;
    ASSERT_EQ(STORE_ENOTFOUND, store_message_get(s, general, new_msg, 0, NULL));
    ASSERT_OK(store_message_get(s, general, old_msg, 0, NULL));
    ASSERT_OK(store_message_get(s, general, keep, 0, NULL));
    ASSERT_OK(store_ban_get(s, guild, bad, &out));
    ASSERT_STR_EQ("spam", js(out, "reason")); /* the first ban's reason stays */
    ASSERT_EQ(bad, jid(json_object_get(out, "user"), "id"));
    json_decref(out);

    /* Refusals. */
    b.user_id = owner;
    ASSERT_EQ(STORE_EPERM, store_ban_add(s, &b, NULL));
    b.user_id = 999;
    ASSERT_EQ(STORE_ENOTFOUND, store_ban_add(s, &b, NULL));
    b.user_id = other;
    b.delete_message_seconds = STORE_BAN_DELETE_MAX + 1;
    ASSERT_EQ(STORE_EINVAL, store_ban_add(s, &b, NULL));
    b.delete_message_seconds = 0;
    b.guild_id = 999;
    ASSERT_EQ(STORE_ENOTFOUND, store_ban_add(s, &b, NULL));
    b.guild_id = guild;

    /* Paging by user id: five more bans of users who never joined. */
    for (i = 0; i < 5; i++) {
        snprintf(name, sizeof(name), "u%d", i);
        users[i] = ts_user(s, name);
        b.user_id = users[i];
        b.reason = NULL;
        ASSERT_OK(store_ban_add(s, &b, NULL));
    }
    ASSERT_OK(store_ban_list(s, guild, NULL, &list));
    ASSERT_EQ(6, json_array_size(list));
    json_decref(list);
    pg.after = users[1];
    pg.limit = 2;
    ASSERT_OK(store_ban_list(s, guild, &pg, &list));
    ASSERT_EQ(2, json_array_size(list));
    ASSERT_EQ(users[2], jid(json_object_get(json_array_get(list, 0), "user"), "id"));
    ASSERT_EQ(users[3], jid(json_object_get(json_array_get(list, 1), "user"), "id"));
    ASSERT(json_is_null(json_object_get(json_array_get(list, 0), "reason")));
    json_decref(list);
    pg.after = 0;
    pg.before = users[4];
    ASSERT_OK(store_ban_list(s, guild, &pg, &list));
    ASSERT_EQ(2, json_array_size(list));
    ASSERT_EQ(users[2], jid(json_object_get(json_array_get(list, 0), "user"), "id"));
    ASSERT_EQ(users[3], jid(json_object_get(json_array_get(list, 1), "user"), "id"));
    json_decref(list);
    pg.limit = 1001;
    ASSERT_EQ(STORE_EINVAL, store_ban_list(s, guild, &pg, NULL));
    ASSERT_EQ(STORE_ENOTFOUND, store_ban_list(s, 999, NULL, NULL));

    /* Unban. */
    ASSERT_OK(store_ban_remove(s, guild, bad));
    ASSERT_EQ(STORE_ENOTFOUND, store_ban_remove(s, guild, bad));
    ASSERT_EQ(STORE_ENOTFOUND, store_ban_check(s, guild, bad));
    ASSERT_EQ(STORE_ENOTFOUND, store_ban_get(s, guild, bad, NULL));

    /* Deleting the guild deletes its bans. */
    ASSERT_OK(store_guild_delete(s, guild));
    ASSERT_EQ(STORE_ENOTFOUND, store_ban_check(s, guild, users[0]));
    ts_close(s, dir);
    return 0;
}

TEST_IMPL(moderation_store_audit)
{
    store_audit_new_t e = {0};
    store_audit_query_t q = {0};
    uint64_t owner, mod, target, guild, general, ids[6];
    json_t *out, *log, *entries, *changes;
    char dir[64];
    store_t *s;
    int i;

    s = ts_open(dir);
    owner = ts_user(s, "owner");
    mod = ts_user(s, "mod");
    target = ts_user(s, "target");
    guild = ts_guild(s, owner, "Guild", &general);

    changes = json_pack("[{s:s, s:n, s:s}]", "key", "communication_disabled_until", "old_value",
                        "new_value", "2030-01-01T00:00:00.000000+00:00");
    e.guild_id = guild;
    e.user_id = mod;
    e.target_id = target;
    e.action_type = STORE_AUDIT_MEMBER_UPDATE;
    e.changes = changes;
    e.reason = "too loud";
    ASSERT_OK(store_audit_add(s, &e, &out));
    ids[0] = jid(out, "id");
    ASSERT_NE(0, ids[0]);
    ASSERT_EQ(mod, jid(out, "user_id"));
    ASSERT_EQ(target, jid(out, "target_id"));
    ASSERT_EQ(24, ji(out, "action_type"));
    ASSERT_STR_EQ("too loud", js(out, "reason"));
    ASSERT_STR_EQ("communication_disabled_until",
                  js(json_array_get(json_object_get(out, "changes"), 0), "key"));
    ASSERT_NULL(json_object_get(out, "options"));
    json_decref(out);
    json_decref(changes);

    /* More entries: kicks by the owner, a role created by the mod (a role target). */
    e.changes = NULL;
    e.reason = NULL;
    for (i = 1; i < 6; i++) {
        e.user_id = i % 2 ? owner : mod;
        e.action_type = i % 2 ? STORE_AUDIT_MEMBER_KICK : STORE_AUDIT_ROLE_CREATE;
        e.target_id = i % 2 ? target : 12345;
        e.options = i == 1 ? json_pack("{s:s}", "channel_id", "77") : NULL;
        ASSERT_OK(store_audit_add(s, &e, &out));
        ids[i] = jid(out, "id");
        ASSERT_GT(ids[i], ids[i - 1]);
        json_decref((json_t *)e.options);
        json_decref(out);
    }

    /* Newest first, with the users they name. */
    ASSERT_OK(store_audit_list(s, guild, NULL, &log));
    entries = json_object_get(log, "audit_log_entries");
    ASSERT_EQ(6, json_array_size(entries));
    ASSERT_EQ(ids[5], jid(json_array_get(entries, 0), "id"));
    ASSERT_EQ(ids[0], jid(json_array_get(entries, 5), "id"));
    ASSERT_EQ(3, json_array_size(json_object_get(log, "users"))); /* mod, target, owner */
    ASSERT(json_is_array(json_object_get(log, "auto_moderation_rules")));
    json_decref(log);

    /* Filters. */
    q.user_id = owner;
    ASSERT_OK(store_audit_list(s, guild, &q, &log));
    entries = json_object_get(log, "audit_log_entries");
    ASSERT_EQ(3, json_array_size(entries));
    ASSERT_EQ(ids[5], jid(json_array_get(entries, 0), "id"));
    ASSERT_STR_EQ("77", js(json_object_get(json_array_get(entries, 2), "options"), "channel_id"));
    json_decref(log);
    q.user_id = 0;
    q.action_type = STORE_AUDIT_ROLE_CREATE;
    ASSERT_OK(store_audit_list(s, guild, &q, &log));
    ASSERT_EQ(2, json_array_size(json_object_get(log, "audit_log_entries")));
    ASSERT_EQ(1, json_array_size(json_object_get(log, "users"))); /* the mod; no role users */
    json_decref(log);
    q.action_type = 0;
    q.before = ids[3];
    q.limit = 2;
    ASSERT_OK(store_audit_list(s, guild, &q, &log));
    entries = json_object_get(log, "audit_log_entries");
    ASSERT_EQ(2, json_array_size(entries));
    ASSERT_EQ(ids[2], jid(json_array_get(entries, 0), "id"));
    ASSERT_EQ(ids[1], jid(json_array_get(entries, 1), "id"));
    json_decref(log);
    q.before = 0;
    q.after = ids[1];
    ASSERT_OK(store_audit_list(s, guild, &q, &log));
    entries = json_object_get(log, "audit_log_entries");
    ASSERT_EQ(2, json_array_size(entries)); /* the two right after, newest first */
    ASSERT_EQ(ids[3], jid(json_array_get(entries, 0), "id"));
    ASSERT_EQ(ids[2], jid(json_array_get(entries, 1), "id"));
    json_decref(log);

    /* Refusals. */
    q.limit = 101;
    ASSERT_EQ(STORE_EINVAL, store_audit_list(s, guild, &q, NULL));
    ASSERT_EQ(STORE_ENOTFOUND, store_audit_list(s, 999, NULL, NULL));
    e.action_type = 0;
    ASSERT_EQ(STORE_EINVAL, store_audit_add(s, &e, NULL));
    e.action_type = 1;
    e.guild_id = 999;
    ASSERT_EQ(STORE_ENOTFOUND, store_audit_add(s, &e, NULL));
    ts_close(s, dir);
    return 0;
}

TEST_IMPL(moderation_store_alert)
{
    store_message_new_t m = {0};
    uint64_t owner, general, id;
    json_t *msg, *embeds;
    char dir[64];
    store_t *s;

    s = ts_open(dir);
    owner = ts_user(s, "owner");
    ts_guild(s, owner, "Guild", &general);
    embeds = json_pack("[{s:s, s:s}]", "type", "auto_moderation_message", "description", "bad");
    m.channel_id = general;
    m.author_id = owner;
    m.content = "";
    m.embeds = embeds;
    ASSERT_OK(store_automod_alert_create(s, &m, &msg));
    ASSERT_EQ(24, ji(msg, "type"));
    ASSERT_STR_EQ("auto_moderation_message",
                  js(json_array_get(json_object_get(msg, "embeds"), 0), "type"));
    id = jid(msg, "id");
    json_decref(msg);
    ASSERT_OK(store_message_get(s, general, id, 0, &msg)); /* stored as type 24 */
    ASSERT_EQ(24, ji(msg, "type"));
    json_decref(msg);
    json_decref(embeds);
    ts_close(s, dir);
    return 0;
}
