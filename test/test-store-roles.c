/* Store tests: a bot's managed role (store_role_create_managed), the role Discord gives
 * a bot authorized with permissions, and its end with the bot's membership. */
#include "test-store.h"

/* The role of id in list, or NULL (borrowed). */
static json_t *role_in(const json_t *list, uint64_t id)
{
    json_t *r;
    size_t i;

    json_array_foreach(list, i, r)
    {
        if (jid(r, "id") == id)
            return r;
    }
    return NULL;
}

TEST_IMPL(store_role_managed)
{
    json_t *app, *bot, *p, *role, *m, *list;
    uint64_t owner, gid, bot_id, rid, other, got = 0;
    char token[STORE_TOKEN_SIZE];
    char dir[64];
    store_t *s;

    s = ts_open(dir);
    owner = ts_user(s, "keeper");
    gid = ts_guild(s, owner, "bots", NULL);
    p = json_pack("{s:s}", "name", "warden");
    ASSERT_OK(store_app_create(s, owner, p, &app));
    json_decref(p);
    ASSERT_OK(store_app_bot_create(s, jid(app, "id"), token, &bot));
    bot_id = jid(bot, "id");
    json_decref(app);
    json_decref(bot);
    p = json_pack("{s:s}", "name", "other");
    ASSERT_OK(store_role_create(s, gid, p, NULL));
    json_decref(p);

    /* Only a member gets one. */
    ASSERT_EQ(STORE_ENOTFOUND, store_role_create_managed(s, gid, bot_id, 8, NULL));
    ASSERT_OK(store_member_add(s, gid, bot_id, NULL));
    ASSERT_OK(store_role_create_managed(s, gid, bot_id, 8, &role));
    rid = jid(role, "id");
    ASSERT_STR_EQ("warden", js(role, "name"));
    ASSERT_STR_EQ("8", js(role, "permissions"));
    ASSERT(jb(role, "managed"));
    ASSERT_EQ(bot_id, jid(json_object_get(role, "tags"), "bot_id"));
    ASSERT_EQ(1, ji(role, "position"));
    json_decref(role);
    ASSERT_EQ(STORE_EEXIST, store_role_create_managed(s, gid, bot_id, 8, NULL));

    /* The bot has it and its permissions; other roles have no tags. */
    ASSERT_OK(store_member_get(s, gid, bot_id, &m));
    ASSERT_EQ(1, json_array_size(json_object_get(m, "roles")));
    ASSERT_OK(snowflake_parse(json_string_value(json_array_get(json_object_get(m, "roles"), 0)),
                              &got));
    ASSERT_EQ(rid, got);
    json_decref(m);
    ASSERT_OK(store_role_list(s, gid, &list));
    ASSERT_EQ(3, json_array_size(list));
    other = jid(json_array_get(list, 2), "id");
    ASSERT_NULL(json_object_get(json_array_get(list, 2), "tags"));
    ASSERT_EQ(2, ji(role_in(list, other), "position"));
    json_decref(list);

    /* It goes with the bot, and the roles above move down. */
    ASSERT_OK(store_member_remove(s, gid, bot_id));
    ASSERT_EQ(STORE_ENOTFOUND, store_role_get(s, gid, rid, NULL));
    ASSERT_OK(store_role_list(s, gid, &list));
    ASSERT_EQ(2, json_array_size(list));
    ASSERT_EQ(1, ji(role_in(list, other), "position"));
    json_decref(list);

    /* Back again, it gets a new one. */
    ASSERT_OK(store_member_add(s, gid, bot_id, NULL));
    ASSERT_OK(store_role_create_managed(s, gid, bot_id, 0, &role));
    ASSERT_NE(rid, jid(role, "id"));
    ASSERT_STR_EQ("0", js(role, "permissions"));
    json_decref(role);
    ts_close(s, dir);
    return 0;
}
