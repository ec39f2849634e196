/* Store tests, part two: guild channels (text, voice, category), DMs, group DMs and
 * channel access. */
#include "test-store.h"

TEST_IMPL(store_channels)
{
    json_t *params, *c, *cat, *voice, *list, *ows;
    uint64_t owner, gid, general, cat_id, text_id, gid2, cat2;
    char dir[64];
    store_t *s;

    s = ts_open(dir);
    owner = ts_user(s, "quinn");
    gid = ts_guild(s, owner, "channels", &general);
    gid2 = ts_guild(s, owner, "elsewhere", NULL);

    params = json_pack("{s:s, s:i}", "name", "Text Channels", "type", 4);
    ASSERT_OK(store_channel_create(s, gid, params, &cat));
    json_decref(params);
    cat_id = jid(cat, "id");
    ASSERT_EQ(4, ji(cat, "type"));
    ASSERT_NULL(json_object_get(cat, "last_message_id")); /* categories have no messages */
    json_decref(cat);

    ows = json_pack("[{s:s, s:i, s:s, s:s}]", "id", "1", "type", 0, "allow", "1024", "deny", "0");
    params = json_pack("{s:s, s:s, s:I, s:b, s:i, s:O}", "name", "chat", "topic", "talk here",
                       "parent_id", (json_int_t)cat_id, "nsfw", 1, "rate_limit_per_user", 5,
                       "permission_overwrites", ows);
    ASSERT_OK(store_channel_create(s, gid, params, &c));
    json_decref(params);
    text_id = jid(c, "id");
    ASSERT_EQ(0, ji(c, "type"));
    ASSERT_STR_EQ("chat", js(c, "name"));
    ASSERT_STR_EQ("talk here", js(c, "topic"));
    ASSERT_EQ(cat_id, jid(c, "parent_id"));
    ASSERT_EQ(gid, jid(c, "guild_id"));
    ASSERT(jb(c, "nsfw"));
    ASSERT_EQ(5, ji(c, "rate_limit_per_user"));
    ASSERT(json_equal(ows, json_object_get(c, "permission_overwrites")));
    ASSERT(json_is_null(json_object_get(c, "last_message_id")));
    ASSERT_EQ(2, ji(c, "position")); /* after general (0) and the category (1) */
    json_decref(c);
    json_decref(ows);

    params = json_pack("{s:s, s:i, s:i}", "name", "Lounge", "type", 2, "user_limit", 5);
    ASSERT_OK(store_channel_create(s, gid, params, &voice));
    json_decref(params);
    ASSERT_EQ(2, ji(voice, "type"));
    ASSERT_EQ(64000, ji(voice, "bitrate"));
    ASSERT_EQ(5, ji(voice, "user_limit"));
    ASSERT_NULL(json_object_get(voice, "topic"));

    /* Bad input: type, name, a parent that is not a category of this guild. */
    params = json_pack("{s:s, s:i}", "name", "dm?", "type", 1);
    ASSERT_EQ(STORE_EINVAL, store_channel_create(s, gid, params, NULL));
    json_decref(params);
    params = json_pack("{s:s}", "name", "");
    ASSERT_EQ(STORE_EINVAL, store_channel_create(s, gid, params, NULL));
    json_decref(params);
    params = json_pack("{s:s, s:I}", "name", "x", "parent_id", (json_int_t)text_id);
    ASSERT_EQ(STORE_ENOTFOUND, store_channel_create(s, gid, params, NULL));
    json_decref(params);
    params = json_pack("{s:s, s:i}", "name", "cat2", "type", 4);
    ASSERT_OK(store_channel_create(s, gid2, params, &c));
    cat2 = jid(c, "id");
    json_decref(c);
    json_decref(params);
    params = json_pack("{s:s, s:I}", "name", "x", "parent_id", (json_int_t)cat2);
    ASSERT_EQ(STORE_ENOTFOUND, store_channel_create(s, gid, params, NULL));
    json_decref(params);
    params = json_pack("{s:s}", "name", "x");
    ASSERT_EQ(STORE_ENOTFOUND, store_channel_create(s, gid2 + 99, params, NULL));
    json_decref(params);
    params = json_pack("{s:s, s:i}", "name", "x", "topic", 7);
    ASSERT_EQ(STORE_EINVAL, store_channel_create(s, gid, params, NULL));
    json_decref(params);

    /* List by position. */
    ASSERT_OK(store_channel_list(s, gid, &list));
    ASSERT_EQ(4, json_array_size(list));
    ASSERT_EQ(general, jid(json_array_get(list, 0), "id"));
    ASSERT_EQ(cat_id, jid(json_array_get(list, 1), "id"));
    ASSERT_EQ(text_id, jid(json_array_get(list, 2), "id"));
    json_decref(list);

    /* Modify. */
    params = json_pack("{s:s, s:n, s:b}", "name", "renamed", "topic", "nsfw", 0);
    ASSERT_OK(store_channel_modify(s, text_id, params, &c));
    ASSERT_STR_EQ("renamed", js(c, "name"));
    ASSERT(json_is_null(json_object_get(c, "topic")));
    ASSERT(!jb(c, "nsfw"));
    ASSERT_EQ(cat_id, jid(c, "parent_id"));
    json_decref(c);
    json_decref(params);
    params = json_pack("{s:I}", "parent_id", (json_int_t)cat_id);
    ASSERT_EQ(STORE_EINVAL,
              store_channel_modify(s, cat_id, params, NULL)); /* a category's parent */
    json_decref(params);
    params = json_pack("{s:i}", "user_limit", 100);
    ASSERT_EQ(STORE_EINVAL, store_channel_modify(s, jid(voice, "id"), params, NULL));
    json_decref(params);
    ASSERT_EQ(STORE_ENOTFOUND, store_channel_modify(s, 42, NULL, NULL));

    /* Positions. */
    params = json_pack("[{s:I, s:i, s:n}]", "id", (json_int_t)text_id, "position", 9, "parent_id");
    ASSERT_OK(store_channel_positions(s, gid, params, &list));
    c = json_array_get(list, 3);
    ASSERT_EQ(text_id, jid(c, "id"));
    ASSERT_EQ(9, ji(c, "position"));
    ASSERT(json_is_null(json_object_get(c, "parent_id")));
    json_decref(list);
    json_decref(params);

    /* Deleting a category leaves its children without a parent. */
    params = json_pack("{s:I}", "parent_id", (json_int_t)cat_id);
    ASSERT_OK(store_channel_modify(s, text_id, params, NULL));
    json_decref(params);
    ASSERT_OK(store_channel_delete(s, cat_id, &c));
    ASSERT_EQ(cat_id, jid(c, "id"));
    json_decref(c);
    ASSERT_EQ(STORE_ENOTFOUND, store_channel_get(s, cat_id, 0, NULL));
    ASSERT_OK(store_channel_get(s, text_id, 0, &c));
    ASSERT(json_is_null(json_object_get(c, "parent_id")));
    json_decref(c);
    ASSERT_EQ(STORE_ENOTFOUND, store_channel_delete(s, cat_id, NULL));

    /* Deleting the system channel clears the guild's reference. */
    ASSERT_OK(store_channel_delete(s, general, NULL));
    ASSERT_OK(store_guild_get(s, gid, &c));
    ASSERT(json_is_null(json_object_get(c, "system_channel_id")));
    json_decref(c);
    json_decref(voice);
    ts_close(s, dir);
    return 0;
}

TEST_IMPL(store_dms)
{
    uint64_t a, b, c, dm, dm2, self_dm;
    json_t *ch, *list, *rec;
    char dir[64];
    store_t *s;

    s = ts_open(dir);
    a = ts_user(s, "rosa");
    b = ts_user(s, "sven");
    c = ts_user(s, "tara");
    ASSERT_OK(store_dm_open(s, a, b, &ch));
    dm = jid(ch, "id");
    ASSERT_EQ(1, ji(ch, "type"));
    ASSERT_NULL(json_object_get(ch, "guild_id"));
    rec = json_object_get(ch, "recipients");
    ASSERT_EQ(1, json_array_size(rec)); /* the other one only */
    ASSERT_EQ(b, jid(json_array_get(rec, 0), "id"));
    json_decref(ch);

    /* Found again from either side. */
    ASSERT_EQ(STORE_UNCHANGED, store_dm_open(s, a, b, &ch));
    ASSERT_EQ(dm, jid(ch, "id"));
    json_decref(ch);
    ASSERT_EQ(STORE_UNCHANGED, store_dm_open(s, b, a, &ch));
    ASSERT_EQ(dm, jid(ch, "id"));
    ASSERT_EQ(a, jid(json_array_get(json_object_get(ch, "recipients"), 0), "id"));
    json_decref(ch);
    ASSERT_OK(store_dm_open(s, a, c, &ch));
    dm2 = jid(ch, "id");
    ASSERT_NE(dm, dm2);
    json_decref(ch);
    ASSERT_OK(store_dm_open(s, a, a, &ch)); /* notes to self */
    self_dm = jid(ch, "id");
    ASSERT_EQ(a, jid(json_array_get(json_object_get(ch, "recipients"), 0), "id"));
    json_decref(ch);
    ASSERT_EQ(STORE_ENOTFOUND, store_dm_open(s, a, 12345, NULL));

    /* Newest activity first. */
    ts_msg(s, dm, a, "hi b");
    ASSERT_OK(store_user_dms(s, a, &list));
    ASSERT_EQ(3, json_array_size(list));
    ASSERT_EQ(dm, jid(json_array_get(list, 0), "id"));
    ASSERT_EQ(self_dm, jid(json_array_get(list, 1), "id"));
    json_decref(list);
    ASSERT_OK(store_user_dms(s, c, &list));
    ASSERT_EQ(1, json_array_size(list));
    json_decref(list);

    /* Access: recipients only. */
    ASSERT_OK(store_channel_access(s, dm, b, NULL));
    ASSERT_EQ(STORE_EPERM, store_channel_access(s, dm, c, NULL));
    ASSERT_EQ(STORE_ENOTFOUND, store_channel_access(s, 777, c, NULL));
    ts_close(s, dir);
    return 0;
}

TEST_IMPL(store_group_dms)
{
    uint64_t u[12], gdm, g;
    char dir[64], name[16];
    json_t *ch, *params;
    store_t *s;
    size_t i;

    s = ts_open(dir);
    for (i = 0; i < 12; i++) {
        snprintf(name, sizeof(name), "group%zu", i);
        u[i] = ts_user(s, name);
    }
    ASSERT_OK(store_group_dm_create(s, u[0], u + 1, 2, "trio", &ch));
    gdm = jid(ch, "id");
    ASSERT_EQ(3, ji(ch, "type"));
    ASSERT_STR_EQ("trio", js(ch, "name"));
    ASSERT_EQ(u[0], jid(ch, "owner_id"));
    ASSERT_EQ(2, json_array_size(json_object_get(ch, "recipients")));
    json_decref(ch);

    /* Up to ten people, owner included. */
    for (i = 3; i < 10; i++)
        ASSERT_OK(store_group_dm_add(s, gdm, u[i]));
    ASSERT_EQ(STORE_UNCHANGED, store_group_dm_add(s, gdm, u[3]));
    ASSERT_EQ(STORE_ELIMIT, store_group_dm_add(s, gdm, u[10]));
    ASSERT_OK(store_group_dm_remove(s, gdm, u[9]));
    ASSERT_EQ(STORE_ENOTFOUND, store_group_dm_remove(s, gdm, u[9]));
    ASSERT_OK(store_group_dm_add(s, gdm, u[10]));
    ASSERT_EQ(STORE_ELIMIT, store_group_dm_create(s, u[0], u + 1, 10, NULL, NULL));
    ASSERT_EQ(STORE_ENOTFOUND, store_group_dm_create(s, u[0], (uint64_t[]){424242}, 1, NULL, NULL));
    ASSERT_OK(store_channel_access(s, gdm, u[10], NULL));
    ASSERT_EQ(STORE_EPERM, store_channel_access(s, gdm, u[11], NULL));

    /* A group DM's name and icon can change; a DM is not a group. */
    params = json_pack("{s:s}", "name", "renamed");
    ASSERT_OK(store_channel_modify(s, gdm, params, &ch));
    ASSERT_STR_EQ("renamed", js(ch, "name"));
    json_decref(ch);
    json_decref(params);
    ASSERT_OK(store_dm_open(s, u[0], u[1], &ch));
    ASSERT_EQ(STORE_ENOTFOUND, store_group_dm_add(s, jid(ch, "id"), u[2]));
    json_decref(ch);

    /* Guild channels: members have access. */
    g = ts_guild(s, u[0], "guild", NULL);
    ASSERT_OK(store_guild_get(s, g, &ch));
    {
        uint64_t gid_out = 0, general = jid(ch, "system_channel_id");

        ASSERT_OK(store_channel_access(s, general, u[0], &gid_out));
        ASSERT_EQ(g, gid_out);
        ASSERT_EQ(STORE_EPERM, store_channel_access(s, general, u[1], NULL));
    }
    json_decref(ch);
    ts_close(s, dir);
    return 0;
}
