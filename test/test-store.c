/* Store tests, part one: snowflakes, setup and migrations, users, login, tokens,
 * applications and bots, guilds, members, roles, presence and the bulk helper. Each
 * test works on a fresh temporary data directory (test-store.h). */
#include "test-store.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- snowflakes ------------------------------------------------------------------------------ */

/* Unix time in milliseconds. */
static int64_t now_ms_wall(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define SF_THREADS 4
#define SF_PER_THREAD 50000

static void *sf_thread(void *arg)
{
    uint64_t *ids = arg;
    size_t i;

    for (i = 0; i < SF_PER_THREAD; i++)
        ids[i] = snowflake_next();
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

TEST_IMPL(store_snowflake)
{
    pthread_t th[SF_THREADS];
    uint64_t *ids, prev, id, parsed;
    char buf[21];
    int64_t now;
    size_t i;

    /* Strictly increasing in one thread, even past 4096 in one millisecond. */
    prev = snowflake_next();
    for (i = 0; i < 100000; i++) {
        id = snowflake_next();
        ASSERT_GT(id, prev);
        prev = id;
    }
    now = (int64_t)time(NULL) * 1000;
    ASSERT_LT(llabs(snowflake_ms(prev) - now), 5000);
    ASSERT_EQ(SNOWFLAKE_EPOCH_MS, snowflake_ms(0));
    ASSERT_EQ(1, snowflake_from_ms(SNOWFLAKE_EPOCH_MS + 1) >> 22);

    /* Unique across threads. */
    ids = malloc(sizeof(*ids) * SF_THREADS * SF_PER_THREAD);
    ASSERT_NOT_NULL(ids);
    for (i = 0; i < SF_THREADS; i++)
        ASSERT_OK(pthread_create(&th[i], NULL, sf_thread, ids + i * SF_PER_THREAD));
    for (i = 0; i < SF_THREADS; i++)
        ASSERT_OK(pthread_join(th[i], NULL));
    qsort(ids, SF_THREADS * SF_PER_THREAD, sizeof(*ids), cmp_u64);
    for (i = 1; i < SF_THREADS * SF_PER_THREAD; i++)
        ASSERT_NE(ids[i - 1], ids[i]);
    ASSERT_GT(ids[0], prev);
    prev = ids[SF_THREADS * SF_PER_THREAD - 1];
    free(ids);

    /* Worker and process bits, once the clock has passed the ids borrowed above (more
     * than 4096 a millisecond borrow from the next one). */
    snowflake_set_ids(3, 5);
    while (snowflake_ms(prev) >= now_ms_wall())
        usleep(1000);
    id = snowflake_next();
    ASSERT_EQ(3, (id >> 17) & 31);
    ASSERT_EQ(5, (id >> 12) & 31);
    snowflake_set_ids(0, 0);

    /* Strings. */
    ASSERT_STR_EQ("175928847299117063", snowflake_str(175928847299117063ULL, buf));
    ASSERT_OK(snowflake_parse("175928847299117063", &parsed));
    ASSERT_EQ(175928847299117063ULL, parsed);
    ASSERT_EQ(-1, snowflake_parse("", &parsed));
    ASSERT_EQ(-1, snowflake_parse("0", &parsed));
    ASSERT_EQ(-1, snowflake_parse("12a", &parsed));
    ASSERT_EQ(-1, snowflake_parse("-1", &parsed));
    ASSERT_EQ(-1, snowflake_parse("99999999999999999999", &parsed)); /* > 2^64 */
    /* Discord's own example: 175928847299117063 was made 2016-04-30 11:18:25.796 UTC. */
    ASSERT_EQ(1462015105796LL, snowflake_ms(175928847299117063ULL));
    return 0;
}

TEST_IMPL(store_timestamp_format)
{
    char buf[STORE_TIMESTAMP_SIZE];

    ASSERT_STR_EQ("1970-01-01T00:00:00.000000+00:00", store_timestamp(0, buf));
    ASSERT_STR_EQ("2015-01-01T00:00:00.000000+00:00", store_timestamp(SNOWFLAKE_EPOCH_MS, buf));
    ASSERT_STR_EQ("2016-04-30T11:18:25.796000+00:00", store_timestamp(1462015105796LL, buf));
    ASSERT_STR_EQ("not found", store_strerror(STORE_ENOTFOUND));
    ASSERT_STR_EQ("already exists", store_strerror(STORE_EEXIST));
    return 0;
}

/* ---- setup ----------------------------------------------------------------------------------- */

TEST_IMPL(store_migrations)
{
    char dir[64], priv[64], path[256];
    int64_t version;
    store_t *s;
    FILE *f;

    /* A fresh database gets every migration; a second open applies nothing again. */
    s = ts_open(dir);
    ASSERT_OK(store_schema_version(s, &version));
    ASSERT_GE(version, 1);
    store_close(s);
    s = store_open(dir, true);
    ASSERT_NOT_NULL(s);
    ASSERT_OK(store_schema_version(s, &version));
    ASSERT_GE(version, 1);
    ts_user(s, "still_here");
    store_close(s);

    /* A new migration in a priv directory of our own is applied once, in order. */
    ts_mkdir(priv);
    snprintf(path, sizeof(path), "%s/migrations", priv);
    ASSERT_OK(mkdir(path, 0700));
    snprintf(path, sizeof(path), "%s/migrations/9999_extra.sql", priv);
    f = fopen(path, "w");
    ASSERT_NOT_NULL(f);
    fputs("CREATE TABLE extra (x INTEGER);\n", f);
    fclose(f);
    /* 0001 is recorded already in dir, so it is skipped even though it is absent here. */
    setenv("HEARTH_PRIV_DIR", priv, 1);
    ASSERT_OK(store_init(dir));
    s = store_open(dir, false);
    ASSERT_NOT_NULL(s);
    ASSERT_OK(store_schema_version(s, &version));
    ASSERT_EQ(9999, version); /* a number no real migration will take */
    store_close(s);
    ASSERT_OK(store_init(dir)); /* again: nothing to do, no error */
    store_fini();
    unlink(path);
    snprintf(path, sizeof(path), "%s/migrations", priv);
    rmdir(path);
    rmdir(priv);

    /* No migrations anywhere: store_init says so. */
    setenv("HEARTH_PRIV_DIR", "/nonexistent-hearth-priv", 1);
    ASSERT_EQ(STORE_EIO, store_init(dir));
    unsetenv("HEARTH_PRIV_DIR");
    ts_rmdir(dir);
    return 0;
}

TEST_IMPL(store_thread_connections)
{
    char dir[64];
    store_t *a, *b;

    ASSERT_NULL(store_thread()); /* no store_init yet */
    ts_mkdir(dir);
    ASSERT_OK(store_init(dir));
    a = store_thread();
    ASSERT_NOT_NULL(a);
    ASSERT(a == store_thread()); /* the same connection each time on one thread */
    ts_user(a, "someone");
    /* A second store_init (a new directory) gives the thread a new connection there. */
    store_fini();
    ASSERT_NULL(store_thread());
    ASSERT_OK(store_init(dir));
    b = store_thread();
    ASSERT_NOT_NULL(b);
    ASSERT_EQ(STORE_EEXIST, store_user_create(b, &(store_user_new_t){.username = "someone"}, NULL));
    store_fini();
    ts_rmdir(dir);
    return 0;
}

/* ---- users, login, tokens -------------------------------------------------------------------- */

TEST_IMPL(store_user_create_get)
{
    store_user_new_t u = {0};
    json_t *out, *pub;
    uint64_t id, bot1, bot2;
    char dir[64];
    store_t *s;

    s = ts_open(dir);
    u.username = "alice";
    u.global_name = "Alice A.";
    u.email = "Alice@Example.com";
    ASSERT_OK(store_user_create(s, &u, &out));
    id = jid(out, "id");
    ASSERT_NE(0, id);
    ASSERT_STR_EQ("alice", js(out, "username"));
    ASSERT_STR_EQ("0", js(out, "discriminator"));
    ASSERT_STR_EQ("Alice A.", js(out, "global_name"));
    ASSERT_STR_EQ("Alice@Example.com", js(out, "email"));
    ASSERT(json_is_null(json_object_get(out, "avatar")));
    ASSERT_NULL(json_object_get(out, "bot")); /* only bots carry "bot" */
    json_decref(out);

    ASSERT_OK(store_user_get(s, id, 0, &pub));
    ASSERT_NULL(json_object_get(pub, "email")); /* the public form has no email */
    ASSERT_STR_EQ("alice", js(pub, "username"));
    json_decref(pub);
    ASSERT_EQ(STORE_ENOTFOUND, store_user_get(s, id + 1, 0, &pub));

    /* Email and username are unique, ignoring case. */
    u.username = "alice2";
    u.email = "alice@example.COM";
    ASSERT_EQ(STORE_EEXIST, store_user_create(s, &u, NULL));
    u.username = "ALICE";
    u.email = "other@example.com";
    ASSERT_EQ(STORE_EEXIST, store_user_create(s, &u, NULL));

    /* Bad input. */
    u.email = NULL;
    u.username = "a";
    ASSERT_EQ(STORE_EINVAL, store_user_create(s, &u, NULL));
    u.username = "has@at";
    ASSERT_EQ(STORE_EINVAL, store_user_create(s, &u, NULL));
    u.username = "everyone";
    ASSERT_EQ(STORE_EINVAL, store_user_create(s, &u, NULL));
    u.username = "abcdefghijklmnopqrstuvwxyz0123456"; /* 33 */
    ASSERT_EQ(STORE_EINVAL, store_user_create(s, &u, NULL));
    u.username = "fine";
    u.email = "no-at-sign";
    ASSERT_EQ(STORE_EINVAL, store_user_create(s, &u, NULL));
    u.email = NULL;
    u.password = "short";
    ASSERT_EQ(STORE_EINVAL, store_user_create(s, &u, NULL));

    /* Bots may share a name (with each other and with a person). */
    memset(&u, 0, sizeof(u));
    u.username = "alice";
    u.bot = true;
    ASSERT_OK(store_user_create(s, &u, &out));
    bot1 = jid(out, "id");
    ASSERT(jb(out, "bot"));
    json_decref(out);
    ASSERT_OK(store_user_create(s, &u, &out));
    bot2 = jid(out, "id");
    json_decref(out);
    ASSERT_NE(bot1, bot2);
    ts_close(s, dir);
    return 0;
}

TEST_IMPL(store_user_modify)
{
    json_t *params, *out;
    uint64_t a;
    char dir[64];
    store_t *s;

    s = ts_open(dir);
    a = ts_user(s, "anna");
    ts_user(s, "bert");
    params = json_pack("{s:s, s:s}", "username", "anna2", "global_name", "Anna");
    ASSERT_OK(store_user_modify(s, a, params, &out));
    ASSERT_STR_EQ("anna2", js(out, "username"));
    ASSERT_STR_EQ("Anna", js(out, "global_name"));
    json_decref(out);
    json_decref(params);
    params = json_pack("{s:n}", "global_name");
    ASSERT_OK(store_user_modify(s, a, params, &out));
    ASSERT(json_is_null(json_object_get(out, "global_name")));
    json_decref(out);
    json_decref(params);
    params = json_pack("{s:s}", "username", "Bert");
    ASSERT_EQ(STORE_EEXIST, store_user_modify(s, a, params, NULL));
    json_decref(params);
    params = json_pack("{s:i}", "username", 5);
    ASSERT_EQ(STORE_EINVAL, store_user_modify(s, a, params, NULL));
    ASSERT_EQ(STORE_EINVAL, store_user_modify(s, a + 1, params, NULL));
    json_decref(params);
    params = json_pack("{s:s}", "global_name", "x");
    ASSERT_EQ(STORE_ENOTFOUND, store_user_modify(s, 12345, params, NULL));
    json_decref(params);
    ts_close(s, dir);
    return 0;
}

TEST_IMPL(store_login)
{
    store_user_new_t u = {0};
    json_t *out;
    uint64_t id, got;
    char dir[64];
    store_t *s;

    s = ts_open(dir);
    u.username = "carol";
    u.email = "carol@example.com";
    u.password = "correct horse battery";
    ASSERT_OK(store_user_create(s, &u, &out));
    id = jid(out, "id");
    json_decref(out);

    got = 0;
    ASSERT_OK(store_login(s, "carol@example.com", "correct horse battery", &got));
    ASSERT_EQ(id, got);
    got = 0;
    ASSERT_OK(store_login(s, "CAROL@example.com", "correct horse battery", &got));
    ASSERT_EQ(id, got);
    got = 0;
    ASSERT_OK(store_login(s, "Carol", "correct horse battery", &got));
    ASSERT_EQ(id, got);
    ASSERT_EQ(STORE_EAUTH, store_login(s, "carol", "wrong horse battery", &got));
    ASSERT_EQ(STORE_EAUTH, store_login(s, "carol@example.com", "", &got));
    ASSERT_EQ(STORE_EAUTH, store_login(s, "nobody", "correct horse battery", &got));
    ASSERT_EQ(STORE_EAUTH, store_login(s, "nobody@example.com", "correct horse battery", &got));

    /* A new password replaces the old. */
    ASSERT_OK(store_user_set_password(s, id, "another password"));
    ASSERT_EQ(STORE_EAUTH, store_login(s, "carol", "correct horse battery", &got));
    ASSERT_OK(store_login(s, "carol", "another password", &got));
    ASSERT_EQ(STORE_ENOTFOUND, store_user_set_password(s, id + 1, "another password"));

    /* A user without a password cannot log in with one. */
    ts_user(s, "nopass");
    ASSERT_EQ(STORE_EAUTH, store_login(s, "nopass", "anything at all", &got));
    ts_close(s, dir);
    return 0;
}

TEST_IMPL(store_tokens)
{
    char t1[STORE_TOKEN_SIZE], t2[STORE_TOKEN_SIZE], part[64], idstr[21];
    uint64_t a, b, got;
    char dir[64], *dot;
    store_t *s;
    bool bot;

    s = ts_open(dir);
    a = ts_user(s, "dave");
    b = ts_user(s, "erin");
    ASSERT_OK(store_token_create(s, a, t1));
    ASSERT_OK(store_token_create(s, a, t2));
    ASSERT(strcmp(t1, t2) != 0);
    /* Discord's shape: base64url(id).time.random */
    dot = strchr(t1, '.');
    ASSERT_NOT_NULL(dot);
    ASSERT_NOT_NULL(strchr(dot + 1, '.'));
    ASSERT_LT((size_t)(dot - t1), sizeof(part));
    memcpy(part, t1, (size_t)(dot - t1));
    part[dot - t1] = '\0';
    {
        unsigned char bin[32];
        size_t len = 0;

        ASSERT_OK(sodium_base642bin(bin, sizeof(bin), part, strlen(part), NULL, &len, NULL,
                                    sodium_base64_VARIANT_URLSAFE_NO_PADDING));
        bin[len] = '\0';
        ASSERT_STR_EQ(snowflake_str(a, idstr), (char *)bin);
    }

    got = 0;
    bot = true;
    ASSERT_OK(store_token_lookup(s, t1, &got, &bot));
    ASSERT_EQ(a, got);
    ASSERT(!bot);
    ASSERT_OK(store_token_lookup(s, t2, &got, NULL));
    ASSERT_EQ(STORE_EAUTH, store_token_lookup(s, "garbage", &got, NULL));
    ASSERT_EQ(STORE_EAUTH, store_token_lookup(s, "", &got, NULL));
    ASSERT_EQ(STORE_ENOTFOUND, store_token_create(s, b + 1000, t2));

    ASSERT_OK(store_token_revoke(s, t1));
    ASSERT_EQ(STORE_EAUTH, store_token_lookup(s, t1, &got, NULL));
    ASSERT_EQ(STORE_EAUTH, store_token_revoke(s, t1));
    ASSERT_OK(store_token_create(s, b, t1));
    ASSERT_OK(store_token_revoke_user(s, a));
    ASSERT_EQ(STORE_EAUTH, store_token_lookup(s, t2, &got, NULL));
    ASSERT_OK(store_token_lookup(s, t1, &got, NULL)); /* b's stays */
    ASSERT_EQ(b, got);
    ts_close(s, dir);
    return 0;
}

TEST_IMPL(store_applications)
{
    char token[STORE_TOKEN_SIZE], token2[STORE_TOKEN_SIZE];
    json_t *params, *app, *bot, *list;
    uint64_t owner, app_id, got;
    char dir[64];
    store_t *s;
    bool is_bot;

    s = ts_open(dir);
    owner = ts_user(s, "frank");
    params = json_pack("{s:s, s:s}", "name", "Helper", "description", "helps");
    ASSERT_OK(store_app_create(s, owner, params, &app));
    app_id = jid(app, "id");
    ASSERT_STR_EQ("Helper", js(app, "name"));
    ASSERT_STR_EQ("helps", js(app, "description"));
    ASSERT_EQ(owner, jid(json_object_get(app, "owner"), "id"));
    ASSERT_NULL(json_object_get(app, "bot"));
    ASSERT_EQ(64, strlen(js(app, "verify_key")));
    json_decref(app);
    ASSERT_EQ(STORE_ENOTFOUND, store_app_create(s, owner + 1, params, NULL));
    json_decref(params);
    params = json_pack("{s:s}", "name", "");
    ASSERT_EQ(STORE_EINVAL, store_app_create(s, owner, params, NULL));
    json_decref(params);

    /* The bot: its user id is the application's; its token logs in as a bot. */
    ASSERT_OK(store_app_bot_create(s, app_id, token, &bot));
    ASSERT_EQ(app_id, jid(bot, "id"));
    ASSERT(jb(bot, "bot"));
    ASSERT_STR_EQ("Helper", js(bot, "username"));
    json_decref(bot);
    ASSERT_OK(store_token_lookup(s, token, &got, &is_bot));
    ASSERT_EQ(app_id, got);
    ASSERT(is_bot);
    ASSERT_EQ(STORE_EEXIST, store_app_bot_create(s, app_id, token2, NULL));
    ASSERT_EQ(STORE_ENOTFOUND, store_app_bot_create(s, app_id + 1, token2, NULL));
    ASSERT_OK(store_app_get(s, app_id, &app));
    ASSERT_EQ(app_id, jid(json_object_get(app, "bot"), "id"));
    json_decref(app);

    /* Reset: the old token stops working. */
    ASSERT_OK(store_app_bot_reset_token(s, app_id, token2));
    ASSERT_EQ(STORE_EAUTH, store_token_lookup(s, token, &got, NULL));
    ASSERT_OK(store_token_lookup(s, token2, &got, NULL));
    ASSERT_EQ(app_id, got);

    params = json_pack("{s:s}", "name", "Second");
    ASSERT_OK(store_app_create(s, owner, params, NULL));
    json_decref(params);
    ASSERT_OK(store_app_list(s, owner, &list));
    ASSERT_EQ(2, json_array_size(list));
    ASSERT_STR_EQ("Helper", js(json_array_get(list, 0), "name"));
    /* The second application has no bot to reset. */
    ASSERT_EQ(STORE_ENOTFOUND,
              store_app_bot_reset_token(s, jid(json_array_get(list, 1), "id"), token2));
    json_decref(list);
    ts_close(s, dir);
    return 0;
}

/* ---- guilds ---------------------------------------------------------------------------------- */

TEST_IMPL(store_guild_create_get)
{
    json_t *params, *g, *roles, *everyone, *channels, *members, *list;
    uint64_t owner, gid, general;
    char dir[64], perms[24];
    store_t *s;

    s = ts_open(dir);
    owner = ts_user(s, "gina");
    params = json_pack("{s:s, s:s}", "name", "Gina's place", "description", "hello");
    ASSERT_OK(store_guild_create(s, owner, params, &g));
    json_decref(params);
    gid = jid(g, "id");
    ASSERT_STR_EQ("Gina's place", js(g, "name"));
    ASSERT_STR_EQ("hello", js(g, "description"));
    ASSERT_EQ(owner, jid(g, "owner_id"));
    ASSERT(json_is_array(json_object_get(g, "emojis")));
    ASSERT(json_is_array(json_object_get(g, "features")));
    roles = json_object_get(g, "roles");
    ASSERT_EQ(1, json_array_size(roles));
    everyone = json_array_get(roles, 0);
    ASSERT_EQ(gid, jid(everyone, "id")); /* @everyone's id is the guild's */
    ASSERT_STR_EQ("@everyone", js(everyone, "name"));
    ASSERT_EQ(0, ji(everyone, "position"));
    snprintf(perms, sizeof(perms), "%llu", (unsigned long long)STORE_PERM_EVERYONE_DEFAULT);
    ASSERT_STR_EQ(perms, js(everyone, "permissions"));
    general = jid(g, "system_channel_id");
    ASSERT_NE(0, general);
    json_decref(g);

    /* One text channel, "general"; the owner is the one member. */
    ASSERT_OK(store_guild_load(s, gid, &g));
    channels = json_object_get(g, "channels");
    ASSERT_EQ(1, json_array_size(channels));
    ASSERT_STR_EQ("general", js(json_array_get(channels, 0), "name"));
    ASSERT_EQ(0, ji(json_array_get(channels, 0), "type"));
    ASSERT_EQ(general, jid(json_array_get(channels, 0), "id"));
    ASSERT_EQ(gid, jid(json_array_get(channels, 0), "guild_id"));
    members = json_object_get(g, "members");
    ASSERT_EQ(1, json_array_size(members));
    ASSERT_EQ(owner, jid(json_object_get(json_array_get(members, 0), "user"), "id"));
    ASSERT_EQ(1, ji(g, "member_count"));
    json_decref(g);

    /* Bad input. */
    params = json_pack("{s:s}", "name", "x");
    ASSERT_EQ(STORE_EINVAL, store_guild_create(s, owner, params, NULL));
    json_decref(params);
    ASSERT_EQ(STORE_EINVAL, store_guild_create(s, owner, NULL, NULL));
    params = json_pack("{s:s}", "name", "fine name");
    ASSERT_EQ(STORE_ENOTFOUND, store_guild_create(s, owner + 1, params, NULL));
    json_decref(params);
    ASSERT_EQ(STORE_ENOTFOUND, store_guild_get(s, gid + 1, &g));

    /* The admin list. */
    ts_guild(s, owner, "second", NULL);
    ASSERT_OK(store_guild_list(s, NULL, &list));
    ASSERT_EQ(2, json_array_size(list));
    ASSERT_EQ(gid, jid(json_array_get(list, 0), "id"));
    ASSERT_EQ(1, ji(json_array_get(list, 0), "member_count"));
    json_decref(list);
    ASSERT_OK(store_guild_list(s, &(store_page_t){.after = gid}, &list));
    ASSERT_EQ(1, json_array_size(list));
    json_decref(list);
    ts_close(s, dir);
    return 0;
}

TEST_IMPL(store_guild_modify)
{
    json_t *params, *g;
    uint64_t owner, other, gid, general, gid2, general2;
    char dir[64];
    store_t *s;

    s = ts_open(dir);
    owner = ts_user(s, "hank");
    other = ts_user(s, "ines");
    gid = ts_guild(s, owner, "Hank's", &general);
    gid2 = ts_guild(s, owner, "Other", &general2);

    params = json_pack("{s:s, s:s, s:i}", "name", "Renamed", "icon", "abcdef", "afk_timeout", 900);
    ASSERT_OK(store_guild_modify(s, gid, params, &g));
    ASSERT_STR_EQ("Renamed", js(g, "name"));
    ASSERT_STR_EQ("abcdef", js(g, "icon"));
    ASSERT_EQ(900, ji(g, "afk_timeout"));
    json_decref(g);
    json_decref(params);

    params = json_pack("{s:n, s:n}", "icon", "system_channel_id");
    ASSERT_OK(store_guild_modify(s, gid, params, &g));
    ASSERT(json_is_null(json_object_get(g, "icon")));
    ASSERT(json_is_null(json_object_get(g, "system_channel_id")));
    json_decref(g);
    json_decref(params);

    /* References must be of this guild; the new owner must be a member. */
    params = json_pack("{s:I}", "system_channel_id", (json_int_t)general2);
    ASSERT_EQ(STORE_ENOTFOUND, store_guild_modify(s, gid, params, NULL));
    json_decref(params);
    params = json_pack("{s:s}", "owner_id", "12345");
    ASSERT_EQ(STORE_ENOTFOUND, store_guild_modify(s, gid, params, NULL));
    json_decref(params);
    ASSERT_OK(store_member_add(s, gid, other, NULL));
    params = json_pack("{s:I}", "owner_id", (json_int_t)other);
    ASSERT_OK(store_guild_modify(s, gid, params, &g));
    ASSERT_EQ(other, jid(g, "owner_id"));
    json_decref(g);
    json_decref(params);
    params = json_pack("{s:s}", "name", "");
    ASSERT_EQ(STORE_EINVAL, store_guild_modify(s, gid, params, NULL));
    json_decref(params);
    params = json_pack("{s:i}", "verification_level", 9);
    ASSERT_EQ(STORE_EINVAL, store_guild_modify(s, gid, params, NULL));
    ASSERT_EQ(STORE_ENOTFOUND, store_guild_modify(s, gid2 + 99, params, NULL));
    json_decref(params);
    ts_close(s, dir);
    return 0;
}

TEST_IMPL(store_guild_delete_cascades)
{
    store_invite_new_t inv = {0};
    store_emoji_t thumbs = {0, "👍", false};
    uint64_t owner, gid, general, mid, other_gid, other_general, other_mid;
    json_t *params, *c, *list;
    char dir[64];
    store_t *s;

    s = ts_open(dir);
    owner = ts_user(s, "jack");
    gid = ts_guild(s, owner, "Doomed", &general);
    other_gid = ts_guild(s, owner, "Kept", &other_general);
    params = json_pack("{s:s}", "name", "extra");
    ASSERT_OK(store_channel_create(s, gid, params, &c));
    json_decref(params);
    mid = ts_msg(s, general, owner, "bye");
    ts_msg(s, jid(c, "id"), owner, "bye too");
    ASSERT_OK(store_reaction_put(s, general, mid, owner, &thumbs));
    inv.channel_id = general;
    inv.inviter_id = owner;
    ASSERT_OK(store_invite_create(s, &inv, &list));
    json_decref(list);
    other_mid = ts_msg(s, other_general, owner, "stay");

    ASSERT_OK(store_guild_delete(s, gid));
    ASSERT_EQ(STORE_ENOTFOUND, store_guild_get(s, gid, NULL));
    ASSERT_EQ(STORE_ENOTFOUND, store_guild_delete(s, gid));
    ASSERT_EQ(STORE_ENOTFOUND, store_channel_get(s, general, 0, NULL));
    ASSERT_EQ(STORE_ENOTFOUND, store_channel_get(s, jid(c, "id"), 0, NULL));
    ASSERT_EQ(STORE_ENOTFOUND, store_message_get(s, general, mid, 0, NULL));
    ASSERT_EQ(STORE_ENOTFOUND, store_member_get(s, gid, owner, NULL));
    ASSERT_EQ(STORE_ENOTFOUND, store_role_get(s, gid, gid, NULL));
    ASSERT_EQ(STORE_ENOTFOUND, store_invite_list_guild(s, gid, NULL));
    json_decref(c);
    /* The user's guild list and the other guild are untouched. */
    ASSERT_OK(store_user_guilds(s, owner, NULL, &list));
    ASSERT_EQ(1, json_array_size(list));
    ASSERT_EQ(other_gid, jid(json_array_get(list, 0), "id"));
    json_decref(list);
    ASSERT_OK(store_message_get(s, other_general, other_mid, 0, NULL));
    ts_close(s, dir);
    return 0;
}

TEST_IMPL(store_user_guilds)
{
    uint64_t owner, member, g1, g2, g3, rid;
    json_t *list, *params, *r, *roles;
    char dir[64], perms[24];
    store_t *s;

    s = ts_open(dir);
    owner = ts_user(s, "kate");
    member = ts_user(s, "liam");
    g1 = ts_guild(s, owner, "one", NULL);
    g2 = ts_guild(s, owner, "two", NULL);
    g3 = ts_guild(s, owner, "three", NULL);
    ASSERT_OK(store_member_add(s, g1, member, NULL));
    ASSERT_OK(store_member_add(s, g3, member, NULL));

    ASSERT_OK(store_user_guilds(s, owner, NULL, &list));
    ASSERT_EQ(3, json_array_size(list));
    ASSERT_EQ(g1, jid(json_array_get(list, 0), "id"));
    ASSERT(jb(json_array_get(list, 0), "owner"));
    snprintf(perms, sizeof(perms), "%llu", (unsigned long long)STORE_PERM_ALL);
    ASSERT_STR_EQ(perms, js(json_array_get(list, 0), "permissions"));
    json_decref(list);

    /* A member's permissions: @everyone's, plus their roles'. */
    params = json_pack("{s:s}", "permissions", "8"); /* administrator */
    ASSERT_OK(store_role_create(s, g3, params, &r));
    rid = jid(r, "id");
    json_decref(r);
    json_decref(params);
    roles = json_pack("{s:[I]}", "roles", (json_int_t)rid);
    ASSERT_OK(store_member_modify(s, g3, member, roles, NULL));
    json_decref(roles);
    ASSERT_OK(store_user_guilds(s, member, NULL, &list));
    ASSERT_EQ(2, json_array_size(list));
    ASSERT(!jb(json_array_get(list, 0), "owner"));
    snprintf(perms, sizeof(perms), "%llu", (unsigned long long)STORE_PERM_EVERYONE_DEFAULT);
    ASSERT_STR_EQ(perms, js(json_array_get(list, 0), "permissions"));
    snprintf(perms, sizeof(perms), "%llu", (unsigned long long)STORE_PERM_ALL);
    ASSERT_STR_EQ(perms, js(json_array_get(list, 1), "permissions"));
    json_decref(list);

    /* Paging by id. */
    ASSERT_OK(store_user_guilds(s, owner, &(store_page_t){.after = g1, .limit = 1}, &list));
    ASSERT_EQ(1, json_array_size(list));
    ASSERT_EQ(g2, jid(json_array_get(list, 0), "id"));
    json_decref(list);
    ASSERT_OK(store_user_guilds(s, owner, &(store_page_t){.before = g3}, &list));
    ASSERT_EQ(2, json_array_size(list));
    json_decref(list);
    ASSERT_EQ(STORE_EINVAL, store_user_guilds(s, owner, &(store_page_t){.limit = 201}, &list));
    ts_close(s, dir);
    return 0;
}

/* ---- members and roles ----------------------------------------------------------------------- */

TEST_IMPL(store_members)
{
    uint64_t owner, u[5], gid, rid;
    json_t *m, *list, *params, *r;
    char dir[64], name[16];
    store_t *s;
    size_t i;

    s = ts_open(dir);
    owner = ts_user(s, "mia");
    gid = ts_guild(s, owner, "members", NULL);
    for (i = 0; i < 5; i++) {
        snprintf(name, sizeof(name), "user%zu", i);
        u[i] = ts_user(s, name);
        ASSERT_OK(store_member_add(s, gid, u[i], &m));
        ASSERT_EQ(u[i], jid(json_object_get(m, "user"), "id"));
        ASSERT_NOT_NULL(js(m, "joined_at"));
        ASSERT_EQ(0, json_array_size(json_object_get(m, "roles")));
        ASSERT(json_is_null(json_object_get(m, "nick")));
        json_decref(m);
    }
    ASSERT_EQ(STORE_UNCHANGED, store_member_add(s, gid, u[0], &m));
    ASSERT_EQ(u[0], jid(json_object_get(m, "user"), "id"));
    json_decref(m);
    ASSERT_EQ(STORE_ENOTFOUND, store_member_add(s, gid, u[4] + 1000, NULL));
    ASSERT_EQ(STORE_ENOTFOUND, store_member_add(s, gid + 1, u[0], NULL));

    /* The list: by user id, default limit 1, after and limit. */
    ASSERT_OK(store_member_list(s, gid, NULL, &list));
    ASSERT_EQ(1, json_array_size(list));
    ASSERT_EQ(owner, jid(json_object_get(json_array_get(list, 0), "user"), "id"));
    json_decref(list);
    ASSERT_OK(store_member_list(s, gid, &(store_page_t){.limit = 1000}, &list));
    ASSERT_EQ(6, json_array_size(list));
    json_decref(list);
    ASSERT_OK(store_member_list(s, gid, &(store_page_t){.after = u[1], .limit = 2}, &list));
    ASSERT_EQ(2, json_array_size(list));
    ASSERT_EQ(u[2], jid(json_object_get(json_array_get(list, 0), "user"), "id"));
    ASSERT_EQ(u[3], jid(json_object_get(json_array_get(list, 1), "user"), "id"));
    json_decref(list);
    ASSERT_EQ(STORE_EINVAL, store_member_list(s, gid, &(store_page_t){.limit = 1001}, &list));

    /* Nick and roles. */
    params = json_pack("{s:s}", "name", "mods");
    ASSERT_OK(store_role_create(s, gid, params, &r));
    rid = jid(r, "id");
    json_decref(r);
    json_decref(params);
    params = json_pack("{s:s, s:[I], s:b}", "nick", "Nicky", "roles", (json_int_t)rid, "mute", 1);
    ASSERT_OK(store_member_modify(s, gid, u[0], params, &m));
    ASSERT_STR_EQ("Nicky", js(m, "nick"));
    ASSERT(jb(m, "mute"));
    ASSERT_EQ(1, json_array_size(json_object_get(m, "roles")));
    {
        uint64_t got = 0;

        ASSERT_OK(snowflake_parse(json_string_value(json_array_get(json_object_get(m, "roles"), 0)),
                                  &got));
        ASSERT_EQ(rid, got);
    }
    json_decref(m);
    json_decref(params);
    params = json_pack("{s:[I]}", "roles", (json_int_t)gid); /* @everyone cannot be given */
    ASSERT_EQ(STORE_EINVAL, store_member_modify(s, gid, u[0], params, NULL));
    json_decref(params);
    params = json_pack("{s:[s]}", "roles", "123");
    ASSERT_EQ(STORE_ENOTFOUND, store_member_modify(s, gid, u[0], params, NULL));
    json_decref(params);
    params = json_pack("{s:s}", "communication_disabled_until", "2030-01-02T03:04:05.000000+00:00");
    ASSERT_OK(store_member_modify(s, gid, u[0], params, &m));
    ASSERT_STR_EQ("2030-01-02T03:04:05.000000+00:00", js(m, "communication_disabled_until"));
    ASSERT_EQ(1, json_array_size(json_object_get(m, "roles"))); /* untouched */
    json_decref(m);
    json_decref(params);

    ASSERT_EQ(STORE_UNCHANGED, store_member_role_add(s, gid, u[0], rid));
    ASSERT_OK(store_member_role_add(s, gid, u[1], rid));
    ASSERT_OK(store_member_role_remove(s, gid, u[1], rid));
    ASSERT_EQ(STORE_UNCHANGED, store_member_role_remove(s, gid, u[1], rid));
    ASSERT_EQ(STORE_EINVAL, store_member_role_add(s, gid, u[1], gid));

    /* Deleting the role takes it from its members. */
    ASSERT_OK(store_role_delete(s, gid, rid));
    ASSERT_OK(store_member_get(s, gid, u[0], &m));
    ASSERT_EQ(0, json_array_size(json_object_get(m, "roles")));
    json_decref(m);

    /* Leaving; the owner cannot. */
    ASSERT_OK(store_member_remove(s, gid, u[0]));
    ASSERT_EQ(STORE_ENOTFOUND, store_member_get(s, gid, u[0], NULL));
    ASSERT_EQ(STORE_ENOTFOUND, store_member_remove(s, gid, u[0]));
    ASSERT_EQ(STORE_EPERM, store_member_remove(s, gid, owner));
    ASSERT_OK(store_member_check(s, gid, owner));
    ASSERT_EQ(STORE_ENOTFOUND, store_member_check(s, gid, u[0]));
    ts_close(s, dir);
    return 0;
}

TEST_IMPL(store_roles)
{
    json_t *params, *r, *list;
    uint64_t owner, gid, r1, r2, r3;
    char dir[64];
    store_t *s;

    s = ts_open(dir);
    owner = ts_user(s, "nora");
    gid = ts_guild(s, owner, "roles", NULL);
    ASSERT_OK(store_role_create(s, gid, NULL, &r));
    r1 = jid(r, "id");
    ASSERT_STR_EQ("new role", js(r, "name"));
    ASSERT_STR_EQ("0", js(r, "permissions"));
    ASSERT_EQ(1, ji(r, "position"));
    json_decref(r);
    params = json_pack("{s:s, s:s, s:i, s:b, s:b}", "name", "Admins", "permissions",
                       "1099511627775", "color", 0xff0000, "hoist", 1, "mentionable", 1);
    ASSERT_OK(store_role_create(s, gid, params, &r));
    json_decref(params);
    r2 = jid(r, "id");
    ASSERT_STR_EQ("Admins", js(r, "name"));
    ASSERT_STR_EQ("1099511627775", js(r, "permissions"));
    ASSERT_EQ(0xff0000, ji(r, "color"));
    ASSERT(jb(r, "hoist"));
    ASSERT(jb(r, "mentionable"));
    ASSERT_EQ(1, ji(r, "position")); /* new roles go just above @everyone */
    json_decref(r);
    ASSERT_OK(store_role_get(s, gid, r1, &r));
    ASSERT_EQ(2, ji(r, "position"));
    json_decref(r);

    /* By position: @everyone, r2, r1. */
    ASSERT_OK(store_role_list(s, gid, &list));
    ASSERT_EQ(3, json_array_size(list));
    ASSERT_EQ(gid, jid(json_array_get(list, 0), "id"));
    ASSERT_EQ(r2, jid(json_array_get(list, 1), "id"));
    ASSERT_EQ(r1, jid(json_array_get(list, 2), "id"));
    json_decref(list);

    params = json_pack("{s:s, s:i}", "name", "Renamed", "permissions", 1024);
    ASSERT_OK(store_role_modify(s, gid, r1, params, &r));
    ASSERT_STR_EQ("Renamed", js(r, "name"));
    ASSERT_STR_EQ("1024", js(r, "permissions"));
    json_decref(r);
    json_decref(params);
    params = json_pack("{s:s}", "permissions", "-5");
    ASSERT_EQ(STORE_EINVAL, store_role_modify(s, gid, r1, params, NULL));
    json_decref(params);
    params = json_pack("{s:s}", "name", "x");
    ASSERT_EQ(STORE_ENOTFOUND, store_role_modify(s, gid, r1 + 99, params, NULL));
    json_decref(params);

    /* Swap positions. */
    params = json_pack("[{s:I, s:i}, {s:I, s:i}]", "id", (json_int_t)r1, "position", 1, "id",
                       (json_int_t)r2, "position", 2);
    ASSERT_OK(store_role_positions(s, gid, params, &list));
    ASSERT_EQ(r1, jid(json_array_get(list, 1), "id"));
    ASSERT_EQ(r2, jid(json_array_get(list, 2), "id"));
    json_decref(list);
    json_decref(params);

    /* Delete: @everyone cannot go; the others close the gap. */
    ASSERT_EQ(STORE_EINVAL, store_role_delete(s, gid, gid));
    ASSERT_OK(store_role_create(s, gid, NULL, &r));
    r3 = jid(r, "id");
    json_decref(r);
    ASSERT_OK(store_role_delete(s, gid, r3));
    ASSERT_EQ(STORE_ENOTFOUND, store_role_delete(s, gid, r3));
    ASSERT_OK(store_role_list(s, gid, &list));
    ASSERT_EQ(3, json_array_size(list));
    ASSERT_EQ(1, ji(json_array_get(list, 1), "position"));
    ASSERT_EQ(2, ji(json_array_get(list, 2), "position"));
    json_decref(list);
    ASSERT_EQ(STORE_ENOTFOUND, store_role_list(s, gid + 1, &list));
    ts_close(s, dir);
    return 0;
}

/* ---- presence, bulk -------------------------------------------------------------------------- */

TEST_IMPL(store_presence)
{
    json_t *acts, *p;
    char dir[64];
    uint64_t u;
    store_t *s;

    s = ts_open(dir);
    u = ts_user(s, "olga");
    ASSERT_EQ(STORE_ENOTFOUND, store_presence_get(s, u, &p));
    acts = json_pack("[{s:s, s:i}]", "name", "chess", "type", 0);
    ASSERT_OK(store_presence_set(s, u, "online", acts, 1700000000000LL));
    ASSERT_OK(store_presence_get(s, u, &p));
    ASSERT_STR_EQ("online", js(p, "status"));
    ASSERT_STR_EQ("chess", js(json_array_get(json_object_get(p, "activities"), 0), "name"));
    ASSERT_STR_EQ("2023-11-14T22:13:20.000000+00:00", js(p, "last_seen"));
    json_decref(p);
    ASSERT_OK(store_presence_set(s, u, "offline", NULL, 1700000001000LL));
    ASSERT_OK(store_presence_get(s, u, &p));
    ASSERT_STR_EQ("offline", js(p, "status"));
    ASSERT_EQ(0, json_array_size(json_object_get(p, "activities")));
    json_decref(p);
    json_decref(acts);
    ASSERT_EQ(STORE_EINVAL, store_presence_set(s, u, "", NULL, 0));
    ASSERT_EQ(STORE_ENOTFOUND, store_presence_set(s, u + 1, "online", NULL, 0));
    ts_close(s, dir);
    return 0;
}

TEST_IMPL(store_bulk_members)
{
    char(*tokens)[STORE_TOKEN_SIZE];
    size_t n = test_scaled(2000), i;
    uint64_t owner, gid, *ids, got;
    json_t *list, *g;
    char dir[64];
    store_t *s;

    s = ts_open(dir);
    owner = ts_user(s, "pat");
    gid = ts_guild(s, owner, "load", NULL);
    tokens = calloc(n, sizeof(*tokens));
    ids = calloc(n, sizeof(*ids));
    ASSERT_NOT_NULL(tokens);
    ASSERT_NOT_NULL(ids);
    ASSERT_OK(store_bulk_members(s, gid, "load_", n, tokens, ids));
    for (i = 0; i < n; i += n / 10) {
        ASSERT_OK(store_token_lookup(s, tokens[i], &got, NULL));
        ASSERT_EQ(ids[i], got);
        ASSERT_OK(store_member_check(s, gid, ids[i]));
    }
    ASSERT_OK(store_guild_load(s, gid, &g));
    ASSERT_EQ(n + 1, ji(g, "member_count"));
    json_decref(g);
    ASSERT_OK(store_user_get(s, ids[n - 1], 0, &g));
    {
        char name[32];

        snprintf(name, sizeof(name), "load_%zu", n);
        ASSERT_STR_EQ(name, js(g, "username"));
    }
    json_decref(g);

    /* All or nothing: a name taken midway leaves no user of the batch behind. */
    ts_user(s, "again_3");
    ASSERT_EQ(STORE_EEXIST, store_bulk_members(s, gid, "again_", 5, tokens, NULL));
    ASSERT_OK(
        store_member_list(s, gid, &(store_page_t){.limit = 1000, .after = ids[n - 1]}, &list));
    ASSERT_EQ(0, json_array_size(list));
    json_decref(list);
    ASSERT_EQ(STORE_ENOTFOUND, store_bulk_members(s, gid + 1, "x_", 5, tokens, NULL));
    ASSERT_EQ(STORE_EINVAL, store_bulk_members(s, gid, "", 5, tokens, NULL));
    free(tokens);
    free(ids);
    ts_close(s, dir);
    return 0;
}
