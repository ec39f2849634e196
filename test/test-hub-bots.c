/* Hub tests: a bot's managed role, as on Discord. Authorizing a bot with permissions
 * (MEMBER_ADD with "permissions", as the OAuth2 handler sends it) gives it a role named
 * after it, managed and tagged with its id (GUILD_ROLE_CREATE), whose permissions it
 * has; nobody deletes that role or gives or takes it; it goes when the bot leaves, is
 * kicked or is banned (GUILD_ROLE_DELETE). Requests are made as the REST API makes them
 * (hub_request from the test thread); events are read by a real gateway session. */
#include "test-gateway.h"

#include "perm/perm.h"

#include <stdio.h>

static json_t *perm_str(uint64_t perms)
{
    char buf[PERM_STR_SIZE];

    return json_string(perm_format(perms, buf));
}

/* The result code of op by actor with args (taken), asserting the status. */
static int req_code(uint64_t guild, hub_op_t op, uint64_t actor, json_t *args, int status)
{
    hub_result_t r;
    int code;

    gwt_req_full(HUB_GUILD, guild, op, actor, args, &r);
    if (r.status != status)
        fprintf(stderr, "op %d: %d %d %s\n", (int)op, r.status, r.code, r.message);
    ASSERT_EQ(status, r.status);
    code = r.code;
    hub_result_clear(&r);
    return code;
}

/* Authorizes bot into guild as actor with perms; the member answered (201). */
static json_t *authorize(uint64_t guild, uint64_t actor, uint64_t bot, uint64_t perms)
{
    return gwt_req(HUB_GUILD, guild, HUB_OP_MEMBER_ADD, actor,
                   json_pack("{s:I, s:o}", "user_id", (json_int_t)bot, "permissions",
                             perm_str(perms)),
                   201);
}

/* The id of the only role of member m. */
static uint64_t only_role(const json_t *m)
{
    json_t *roles = json_object_get(m, "roles");
    uint64_t id = 0;

    ASSERT_EQ(1, json_array_size(roles));
    ASSERT_OK(snowflake_parse(json_string_value(json_array_get(roles, 0)), &id));
    return id;
}

TEST_IMPL(hub_bot_managed_role)
{
    char t_owner[STORE_TOKEN_SIZE], t_member[STORE_TOKEN_SIZE], t_bot[STORE_TOKEN_SIZE];
    char t_bot2[STORE_TOKEN_SIZE];
    uint64_t owner, member, bot, bot2, guild, general, rid, mg_role;
    gwt_env_t e;
    gwc_t co;
    json_t *m, *v, *ready;

    gwt_start(&e, NULL, NULL);
    owner = gwt_user(&e, "owner", t_owner);
    member = gwt_user(&e, "member", t_member);
    bot = gwt_bot(&e, owner, "warden", t_bot);
    bot2 = gwt_bot(&e, owner, "helper", t_bot2);
    guild = ts_guild(e.db, owner, "Bots", &general);
    json_decref(gwt_req(HUB_GUILD, guild, HUB_OP_MEMBER_ADD, member,
                        json_pack("{s:I}", "user_id", (json_int_t)member), 201));
    gwc_connect(&co, e.port, "/?v=10&encoding=json");
    ready = gwc_identify(&co, t_owner, -1);
    ASSERT_NOT_NULL(ready);
    json_decref(ready);
    json_decref(gwc_wait(&co, "GUILD_CREATE", 5000));

    /* The role comes first, then the member holding it. */
    m = authorize(guild, owner, bot, PERM_ADMINISTRATOR);
    rid = only_role(m);
    json_decref(m);
    v = gwc_wait(&co, "GUILD_ROLE_CREATE", 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_EQ(rid, jid(gwj(v, "d.role"), "id"));
    ASSERT_STR_EQ("warden", gwj_s(v, "d.role.name"));
    ASSERT_STR_EQ("8", gwj_s(v, "d.role.permissions"));
    ASSERT(json_is_true(gwj(v, "d.role.managed")));
    ASSERT_EQ(bot, jid(gwj(v, "d.role.tags"), "bot_id"));
    json_decref(v);
    v = gwc_wait(&co, "GUILD_MEMBER_ADD", 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_EQ(rid, only_role(gwj(v, "d")));
    json_decref(v);

    /* Its permissions work: as an administrator it manages roles. */
    ASSERT_EQ(50013, req_code(guild, HUB_OP_ROLE_CREATE, member, json_pack("{s:s}", "name", "x"),
                              403));
    m = gwt_req(HUB_GUILD, guild, HUB_OP_ROLE_CREATE, bot, json_pack("{s:s}", "name", "x"), 200);
    json_decref(m);

    /* Not the owner's to delete, give or take. */
    ASSERT_EQ(50028, req_code(guild, HUB_OP_ROLE_DELETE, owner,
                              json_pack("{s:I}", "role_id", (json_int_t)rid), 400));
    ASSERT_EQ(50013, req_code(guild, HUB_OP_MEMBER_ROLE_ADD, owner,
                              json_pack("{s:I, s:I}", "user_id", (json_int_t)member, "role_id",
                                        (json_int_t)rid),
                              403));
    ASSERT_EQ(50013, req_code(guild, HUB_OP_MEMBER_ROLE_REMOVE, owner,
                              json_pack("{s:I, s:I}", "user_id", (json_int_t)bot, "role_id",
                                        (json_int_t)rid),
                              403));
    ASSERT_EQ(50013, req_code(guild, HUB_OP_MEMBER_MODIFY, owner,
                              json_pack("{s:I, s:[]}", "user_id", (json_int_t)bot, "roles"), 403));
    ASSERT_EQ(50013, req_code(guild, HUB_OP_MEMBER_MODIFY, owner,
                              json_pack("{s:I, s:[I]}", "user_id", (json_int_t)member, "roles",
                                        (json_int_t)rid),
                              403));
    /* Its permissions may be changed, as on Discord. */
    json_decref(gwt_req(HUB_GUILD, guild, HUB_OP_ROLE_MODIFY, owner,
                        json_pack("{s:I, s:o}", "role_id", (json_int_t)rid, "permissions",
                                  perm_str(PERM_KICK_MEMBERS)),
                        200));
    json_decref(gwc_wait(&co, "GUILD_ROLE_UPDATE", 5000));

    /* Who manages the guild authorizes only permissions it has. */
    m = gwt_req(HUB_GUILD, guild, HUB_OP_ROLE_CREATE, owner,
                json_pack("{s:s, s:o}", "name", "managers", "permissions",
                          perm_str(PERM_MANAGE_GUILD)),
                200);
    mg_role = jid(m, "id");
    json_decref(m);
    json_decref(gwt_req(HUB_GUILD, guild, HUB_OP_MEMBER_ROLE_ADD, owner,
                        json_pack("{s:I, s:I}", "user_id", (json_int_t)member, "role_id",
                                  (json_int_t)mg_role),
                        204));
    ASSERT_EQ(50013, req_code(guild, HUB_OP_MEMBER_ADD, member,
                              json_pack("{s:I, s:o}", "user_id", (json_int_t)bot2, "permissions",
                                        perm_str(PERM_ADMINISTRATOR)),
                              403));
    ASSERT_EQ(STORE_ENOTFOUND, store_member_check(e.db, guild, bot2));

    /* Kicked, the bot takes its role along. */
    json_decref(gwt_req(HUB_GUILD, guild, HUB_OP_MEMBER_REMOVE, owner,
                        json_pack("{s:I}", "user_id", (json_int_t)bot), 204));
    v = gwc_wait(&co, "GUILD_ROLE_DELETE", 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_EQ(rid, jid(gwj(v, "d"), "role_id"));
    json_decref(v);
    ASSERT_EQ(STORE_ENOTFOUND, store_role_get(e.db, guild, rid, NULL));

    /* Without permissions (0) a bot gets no role; banned, a bot's role goes too. */
    m = gwt_req(HUB_GUILD, guild, HUB_OP_MEMBER_ADD, member,
                json_pack("{s:I, s:s}", "user_id", (json_int_t)bot2, "permissions", "0"), 201);
    ASSERT_EQ(0, json_array_size(json_object_get(m, "roles")));
    json_decref(m);
    m = authorize(guild, owner, bot, PERM_SEND_MESSAGES);
    rid = only_role(m);
    json_decref(m);
    json_decref(gwt_req(HUB_GUILD, guild, HUB_OP_BAN_ADD, owner,
                        json_pack("{s:I}", "user_id", (json_int_t)bot), 204));
    v = gwc_wait(&co, "GUILD_ROLE_DELETE", 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_EQ(rid, jid(gwj(v, "d"), "role_id"));
    json_decref(v);
    gwc_close(&co, 1000);
    gwt_stop(&e);
    return 0;
}
