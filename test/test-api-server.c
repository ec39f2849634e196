/* The hearth-server binary itself: every message acknowledged with a 200 survives a
 * kill -9; SIGTERM drains and exits 0; flags and --help; the admin CLI on the data
 * directory of a running server. These run build/<type>/hearth-server as a child
 * process, and are skipped if it is not built. */
#include "test-api.h"

#include <signal.h>
#include <sys/wait.h>

#define API "/api/v10"
#define ID(x) ((unsigned long long)(x))
#define DUR_ROUNDS 2
#define DUR_MSGS 300

static char path[256];

static const char *P(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static const char *P(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(path, sizeof(path), fmt, ap);
    va_end(ap);
    return path;
}

TEST_IMPL(api_server_durability)
{
    uint64_t *acked, channel;
    size_t nacked = 0, i;
    ta_res_t r = {0};
    ta_proc_t p;
    ta_user_t u;
    char dir[64], content[64];
    int round, status;

    if (ta_server_path() == NULL)
        TEST_SKIP("hearth-server is not built");
    acked = calloc(DUR_ROUNDS * DUR_MSGS, sizeof(*acked));
    ASSERT_NOT_NULL(acked);
    ts_mkdir(dir);
    ASSERT_OK(ta_proc_start(&p, dir));
    ta_user(p.port, "durable", &u);
    ta_guild(p.port, &u, "durable", &channel);
    for (round = 0; round < DUR_ROUNDS; round++) {
        if (round > 0)
            ASSERT_OK(ta_proc_start(&p, dir));
        /* Every 200 is recorded; the kill comes right after the last one, while the
         * server is still busy answering nothing else: anything not yet on disk would
         * be lost. */
        for (i = 0; i < DUR_MSGS; i++) {
            snprintf(content, sizeof(content), "round %d message %zu", round, i);
            acked[nacked++] = ta_msg(p.port, &u, channel, content);
        }
        status = ta_proc_stop(&p, SIGKILL);
        ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    }
    /* Back up on the same directory: every acknowledged message is there, in order. */
    ASSERT_OK(ta_proc_start(&p, dir));
    for (i = 0; i < nacked; i++) {
        ASSERT_EQ(200, ta_req(p.port, &r, "GET",
                              P(API "/channels/%llu/messages/%llu", ID(channel), ID(acked[i])),
                              u.token, NULL));
        snprintf(content, sizeof(content), "round %zu message %zu", i / DUR_MSGS, i % DUR_MSGS);
        ASSERT_STR_EQ(content, js(r.json, "content"));
    }
    ASSERT_EQ(200, ta_req(p.port, &r, "GET",
                          P(API "/channels/%llu/messages?limit=100", ID(channel)), u.token, NULL));
    ASSERT_EQ(100, json_array_size(r.json));
    ASSERT_EQ(acked[nacked - 1], jid(json_array_get(r.json, 0), "id"));
    status = ta_proc_stop(&p, SIGTERM);
    ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    fprintf(stderr,
            "api_server_durability: %zu acknowledged messages over %d kill -9s, all found\n",
            nacked, DUR_ROUNDS);
    free(acked);
    ta_res_free(&r);
    ts_rmdir(dir);
    return 0;
}

TEST_IMPL(api_server_lifecycle)
{
    char dir[64], out[8192], port_s[16];
    ta_res_t r = {0};
    ta_proc_t p;
    ta_user_t u;
    int status;
    const char *bin = ta_server_path();

    if (bin == NULL)
        TEST_SKIP("hearth-server is not built");
    ts_mkdir(dir);
    /* --help lists the flags and exits 0; a bad flag is an error. */
    {
        char *help[] = {(char *)bin, "--help", NULL};
        char *bad[] = {(char *)bin, "--port", "http", NULL};
        char *unknown[] = {(char *)bin, "--frobnicate", NULL};

        ASSERT_EQ(0, ta_run(help, out, sizeof(out)));
        ASSERT_NOT_NULL(strstr(out, "--bind"));
        ASSERT_NOT_NULL(strstr(out, "--data-dir"));
        ASSERT_NOT_NULL(strstr(out, "--log-level"));
        ASSERT_NOT_NULL(strstr(out, "HEARTH_PORT"));
        ASSERT_EQ(2, ta_run(bad, out, sizeof(out)));
        ASSERT_EQ(2, ta_run(unknown, out, sizeof(out)));
    }
    ASSERT_OK(ta_proc_start(&p, dir));
    ta_user(p.port, "lifecycle", &u);
    ta_guild(p.port, &u, "lifecycle", NULL);
    /* A second server on the same port fails with a clear error. */
    {
        char *again[] = {(char *)bin, "--port", port_s, "--data-dir", dir, NULL};

        snprintf(port_s, sizeof(port_s), "%d", p.port);
        ASSERT_EQ(1, ta_run(again, out, sizeof(out)));
    }
    /* SIGTERM: drained and stopped, status 0. */
    status = ta_proc_stop(&p, SIGTERM);
    ASSERT(WIFEXITED(status));
    ASSERT_EQ(0, WEXITSTATUS(status));
    /* The data is there after a clean restart too. */
    ASSERT_OK(ta_proc_start(&p, dir));
    ASSERT_EQ(200, ta_req(p.port, &r, "GET", API "/users/@me/guilds", u.token, NULL));
    ASSERT_EQ(1, json_array_size(r.json));
    status = ta_proc_stop(&p, SIGINT);
    ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ta_res_free(&r);
    ts_rmdir(dir);
    return 0;
}

/* The value after "key: " in the admin CLI's output, into buf. */
static const char *field(const char *out, const char *key, char *buf, size_t size)
{
    char pat[64];
    const char *at;
    size_t n;

    snprintf(pat, sizeof(pat), "%s: ", key);
    at = strstr(out, pat);
    ASSERT_NOT_NULL(at);
    at += strlen(pat);
    n = strcspn(at, "\n");
    ASSERT_LT(n, size);
    memcpy(buf, at, n);
    buf[n] = '\0';
    return buf;
}

TEST_IMPL(api_server_admin)
{
    char dir[64], out[16384], id[32], token[STORE_TOKEN_SIZE], guild[32],
        bot_token[STORE_TOKEN_SIZE];
    char tokens_path[128], line[STORE_TOKEN_SIZE + 8];
    const char *bin = ta_server_path();
    ta_res_t r = {0};
    ta_user_t u;
    ta_proc_t p;
    FILE *f;
    int lines = 0, status;

    if (bin == NULL)
        TEST_SKIP("hearth-server is not built");
    ts_mkdir(dir);
    snprintf(tokens_path, sizeof(tokens_path), "%s/tokens.txt", dir);
    ASSERT_OK(ta_proc_start(&p, dir)); /* the CLI works beside a running server */
    {
        char *user[] = {(char *)bin,  "admin",         "--data-dir", dir,       "user",
                        "create",     "--username",    "operator",   "--email", "op@example.test",
                        "--password", "operator pass", NULL};

        ASSERT_EQ(0, ta_run(user, out, sizeof(out)));
        field(out, "id", id, sizeof(id));
        field(out, "token", token, sizeof(token));
    }
    snprintf(u.token, sizeof(u.token), "%s", token);
    ASSERT_EQ(200, ta_req(p.port, &r, "GET", API "/users/@me", u.token, NULL));
    ASSERT_STR_EQ(id, js(r.json, "id"));
    {
        char *dup[] = {(char *)bin,  "admin",         "--data-dir", dir,       "user",
                       "create",     "--username",    "operator",   "--email", "op2@example.test",
                       "--password", "operator pass", NULL};
        char *missing[] = {(char *)bin, "admin",      "--data-dir", dir, "user",
                           "create",    "--username", "x",          NULL};

        ASSERT_EQ(1, ta_run(dup, out, sizeof(out)));
        ASSERT_EQ(2, ta_run(missing, out, sizeof(out)));
    }
    {
        char *bot[] = {(char *)bin, "admin", "--data-dir", dir,      "bot", "create",
                       "--owner",   id,      "--name",     "Loader", NULL};
        char auth[STORE_TOKEN_SIZE + 8], app[32], bot_id[32];

        ASSERT_EQ(0, ta_run(bot, out, sizeof(out)));
        field(out, "application_id", app, sizeof(app));
        field(out, "bot_id", bot_id, sizeof(bot_id));
        field(out, "token", bot_token, sizeof(bot_token));
        ASSERT_STR_EQ(app, bot_id);
        snprintf(auth, sizeof(auth), "Bot %s", bot_token);
        ASSERT_EQ(200, ta_req(p.port, &r, "GET", API "/users/@me", auth, NULL));
        ASSERT_STR_EQ(bot_id, js(r.json, "id"));
    }
    {
        char *create[] = {(char *)bin, "admin", "--data-dir", dir,         "guild", "create",
                          "--owner",   id,      "--name",     "Load Test", NULL};
        char *list[] = {(char *)bin, "admin", "--data-dir", dir, "guild", "list", NULL};
        char *bulk[] = {(char *)bin, "admin",    "--data-dir", dir,   "bulk-users",
                        "--guild",   guild,      "--count",    "500", "--out",
                        tokens_path, "--prefix", "load",       NULL};

        ASSERT_EQ(0, ta_run(create, out, sizeof(out)));
        field(out, "id", guild, sizeof(guild));
        ASSERT_EQ(0, ta_run(bulk, out, sizeof(out)));
        ASSERT_EQ(0, ta_run(list, out, sizeof(out)));
        ASSERT_NOT_NULL(strstr(out, guild));
        ASSERT_NOT_NULL(strstr(out, "Load Test\t"));
        ASSERT_NOT_NULL(strstr(out, "\t501\n"));      /* the owner and 500 */
        ASSERT_EQ(1, ta_run(bulk, out, sizeof(out))); /* the names are taken now */
    }
    /* One token a line; each one is a member of the guild. */
    f = fopen(tokens_path, "r");
    ASSERT_NOT_NULL(f);
    while (fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        if (lines % 100 == 0) {
            ASSERT_EQ(200, ta_req(p.port, &r, "GET", P(API "/guilds/%s", guild), line, NULL));
            ASSERT_STR_EQ("Load Test", js(r.json, "name"));
        }
        lines++;
    }
    fclose(f);
    ASSERT_EQ(500, lines);
    status = ta_proc_stop(&p, SIGTERM);
    ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ta_res_free(&r);
    ts_rmdir(dir);
    return 0;
}
