/* `hearth-server admin`: create users and bots, create and list guilds, and bulk-create
 * members with tokens (for the gateway load tool and for imports), straight on a data
 * directory's store.
 *
 * Each command opens its own store connection (store_open, migrating a new
 * directory), does its work in the store's functions and prints plain "key: value"
 * lines, or tab-separated rows for lists, so scripts can read them. The data
 * directory comes from --data-dir, else HEARTH_DATA_DIR, else the config file, else
 * ./data: the same rules as the server's. */
#include "admin.h"

#include "server/server.h"
#include "store/store.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#define BULK_MAX 1000000

static void usage(FILE *f)
{
    fprintf(f,
            "usage: hearth-server admin [--data-dir DIR] COMMAND [ARGS]\n"
            "\n"
            "  user create --username NAME --email EMAIL --password PASSWORD [--global-name NAME]\n"
            "      prints the user's id and a token\n"
            "  bot create --owner USER_ID --name APP_NAME\n"
            "      creates an application owned by USER_ID and its bot; prints the\n"
            "      application id, the bot's user id and the bot token\n"
            "  guild create --owner USER_ID --name NAME\n"
            "      prints the guild's id and its text channel's id\n"
            "  guild list [--after GUILD_ID] [--limit N]\n"
            "      id, name, owner id and member count, a tab-separated row each\n"
            "  bulk-users --guild GUILD_ID --count N --out FILE [--prefix NAME]\n"
            "      creates N users (named NAME1..NAMEn, no password) as members of the\n"
            "      guild, all in one transaction, and writes their tokens to FILE, one\n"
            "      a line in creation order\n"
            "\n"
            "The data directory: --data-dir, else HEARTH_DATA_DIR, else the config file,\n"
            "else ./data. A running server may keep it open meanwhile.\n");
}

/* The value of --name in argv[from..argc) (as "--name v" or "--name=v"), or NULL. */
static const char *opt(int argc, char **argv, int from, const char *name)
{
    size_t n = strlen(name);

    for (int i = from; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) != 0 || strncmp(argv[i] + 2, name, n) != 0)
            continue;
        if (argv[i][2 + n] == '=')
            return argv[i] + 3 + n;
        if (argv[i][2 + n] == '\0' && i + 1 < argc)
            return argv[i + 1];
    }
    return NULL;
}

/* Checks that every argument from argv[from] on is one of the flags in names (each
 * with a value). Returns true, or false after saying what was not. */
static bool only_flags(int argc, char **argv, int from, const char *const *names)
{
    for (int i = from; i < argc; i++) {
        const char *a = argv[i], *eq;
        size_t len;
        bool known = false;

        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "hearth-server admin: unexpected argument '%s'\n", a);
            return false;
        }
        eq = strchr(a, '=');
        len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        for (const char *const *nm = names; *nm; nm++)
            if (strlen(*nm) == len && strncmp(a + 2, *nm, len) == 0)
                known = true;
        if (!known) {
            fprintf(stderr, "hearth-server admin: unknown flag '%s'\n", a);
            return false;
        }
        if (eq == NULL && ++i >= argc) {
            fprintf(stderr, "hearth-server admin: %s needs a value\n", a);
            return false;
        }
    }
    return true;
}

static const char *need(int argc, char **argv, int from, const char *name)
{
    const char *v = opt(argc, argv, from, name);

    if (v == NULL || *v == '\0')
        fprintf(stderr, "hearth-server admin: --%s is required\n", name);
    return v != NULL && *v != '\0' ? v : NULL;
}

static bool parse_id(const char *s, const char *what, uint64_t *out)
{
    if (s != NULL && snowflake_parse(s, out) == 0)
        return true;
    fprintf(stderr, "hearth-server admin: %s is not an id: '%s'\n", what, s ? s : "");
    return false;
}

static int fail(store_t *s, const char *what, int rc)
{
    fprintf(stderr, "hearth-server admin: %s: %s", what, store_strerror(rc));
    if (rc == STORE_EIO && s != NULL)
        fprintf(stderr, " (%s)", store_errmsg(s));
    fputc('\n', stderr);
    return 1;
}

static const char *jstr(const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));

    return v != NULL ? v : "";
}

/* ---- commands ------------------------------------------------------------------------------ */

static int user_create(store_t *s, int argc, char **argv, int from)
{
    static const char *const flags[] = {"username", "email", "password", "global-name", NULL};
    store_user_new_t u = {0};
    char token[STORE_TOKEN_SIZE];
    json_t *user = NULL;
    uint64_t id;
    int rc;

    if (!only_flags(argc, argv, from, flags))
        return 2;
    u.username = need(argc, argv, from, "username");
    u.email = need(argc, argv, from, "email");
    u.password = need(argc, argv, from, "password");
    u.global_name = opt(argc, argv, from, "global-name");
    if (u.username == NULL || u.email == NULL || u.password == NULL)
        return 2;
    rc = store_tx_begin(s);
    if (rc == 0)
        rc = store_user_create(s, &u, &user);
    if (rc == 0 && snowflake_parse(jstr(user, "id"), &id) != 0)
        rc = STORE_EIO;
    if (rc == 0)
        rc = store_token_create(s, id, token);
    json_decref(user);
    if (rc < 0) {
        store_tx_rollback(s);
        if (rc == STORE_EINVAL)
            fprintf(stderr, "hearth-server admin: invalid user: a username of 2 to 32 characters "
                            "without @ # :, a valid email, a password of 8 to 128 bytes\n");
        return fail(s, "user create", rc);
    }
    rc = store_tx_commit(s);
    if (rc < 0)
        return fail(s, "user create", rc);
    printf("id: %" PRIu64 "\ntoken: %s\n", id, token);
    return 0;
}

static int bot_create(store_t *s, int argc, char **argv, int from)
{
    static const char *const flags[] = {"owner", "name", NULL};
    char token[STORE_TOKEN_SIZE];
    json_t *params, *app = NULL, *bot = NULL;
    const char *name;
    uint64_t owner;
    int rc;

    if (!only_flags(argc, argv, from, flags))
        return 2;
    name = need(argc, argv, from, "name");
    if (!parse_id(need(argc, argv, from, "owner"), "--owner", &owner) || name == NULL)
        return 2;
    params = json_pack("{s:s}", "name", name);
    rc = store_tx_begin(s);
    if (rc == 0)
        rc = store_app_create(s, owner, params, &app);
    json_decref(params);
    if (rc == 0) {
        uint64_t app_id;

        rc = snowflake_parse(jstr(app, "id"), &app_id) == 0 ? 0 : STORE_EIO;
        if (rc == 0)
            rc = store_app_bot_create(s, app_id, token, &bot);
    }
    if (rc < 0) {
        store_tx_rollback(s);
        json_decref(app);
        return fail(s, "bot create", rc);
    }
    rc = store_tx_commit(s);
    if (rc == 0)
        printf("application_id: %s\nbot_id: %s\nbot_username: %s\ntoken: %s\n", jstr(app, "id"),
               jstr(bot, "id"), jstr(bot, "username"), token);
    json_decref(app);
    json_decref(bot);
    return rc < 0 ? fail(s, "bot create", rc) : 0;
}

static int guild_create(store_t *s, int argc, char **argv, int from)
{
    static const char *const flags[] = {"owner", "name", NULL};
    json_t *params, *g = NULL;
    const char *name;
    uint64_t owner;
    int rc;

    if (!only_flags(argc, argv, from, flags))
        return 2;
    name = need(argc, argv, from, "name");
    if (!parse_id(need(argc, argv, from, "owner"), "--owner", &owner) || name == NULL)
        return 2;
    params = json_pack("{s:s}", "name", name);
    rc = store_guild_create(s, owner, params, &g);
    json_decref(params);
    if (rc < 0)
        return fail(s, "guild create", rc);
    printf("id: %s\nchannel_id: %s\n", jstr(g, "id"), jstr(g, "system_channel_id"));
    json_decref(g);
    return 0;
}

static int guild_list(store_t *s, int argc, char **argv, int from)
{
    static const char *const flags[] = {"after", "limit", NULL};
    const char *after = opt(argc, argv, from, "after"), *limit = opt(argc, argv, from, "limit");
    store_page_t pg = {0};
    json_t *list = NULL, *g;
    size_t i;
    char *end;
    long n;
    int rc;

    if (!only_flags(argc, argv, from, flags))
        return 2;
    if (after != NULL && !parse_id(after, "--after", &pg.after))
        return 2;
    if (limit != NULL) {
        n = strtol(limit, &end, 10);
        if (*limit == '\0' || *end != '\0' || n < 1 || n > 1000) {
            fprintf(stderr, "hearth-server admin: --limit must be 1 to 1000\n");
            return 2;
        }
        pg.limit = (int)n;
    }
    rc = store_guild_list(s, &pg, &list);
    if (rc < 0)
        return fail(s, "guild list", rc);
    printf("id\tname\towner_id\tmembers\n");
    json_array_foreach(list, i, g)
        printf("%s\t%s\t%s\t%lld\n", jstr(g, "id"), jstr(g, "name"), jstr(g, "owner_id"),
               (long long)json_integer_value(json_object_get(g, "member_count")));
    json_decref(list);
    return 0;
}

static int bulk_users(store_t *s, int argc, char **argv, int from)
{
    static const char *const flags[] = {"guild", "count", "out", "prefix", NULL};
    const char *count_s, *out, *prefix;
    char(*tokens)[STORE_TOKEN_SIZE];
    char auto_prefix[16];
    uint64_t guild;
    size_t i;
    char *end;
    long n;
    FILE *f;
    int rc;

    if (!only_flags(argc, argv, from, flags))
        return 2;
    count_s = need(argc, argv, from, "count");
    out = need(argc, argv, from, "out");
    if (!parse_id(need(argc, argv, from, "guild"), "--guild", &guild) || count_s == NULL ||
        out == NULL)
        return 2;
    n = strtol(count_s, &end, 10);
    if (*end != '\0' || n < 1 || n > BULK_MAX) {
        fprintf(stderr, "hearth-server admin: --count must be 1 to %d\n", BULK_MAX);
        return 2;
    }
    prefix = opt(argc, argv, from, "prefix");
    if (prefix == NULL) {
        /* A fresh prefix per run, so running it twice on one guild does not collide. */
        snprintf(auto_prefix, sizeof(auto_prefix), "bulk%06x_", randombytes_uniform(1u << 24));
        prefix = auto_prefix;
    }
    tokens = calloc((size_t)n, sizeof(*tokens));
    if (tokens == NULL) {
        fprintf(stderr, "hearth-server admin: out of memory for %ld tokens\n", n);
        return 1;
    }
    rc = store_bulk_members(s, guild, prefix, (size_t)n, tokens, NULL);
    if (rc < 0) {
        free(tokens);
        if (rc == STORE_EINVAL)
            fprintf(stderr,
                    "hearth-server admin: names \"%s1\"...: a prefix of at most %d "
                    "characters without @ # :\n",
                    prefix, 32 - 7);
        return fail(s, "bulk-users", rc);
    }
    f = fopen(out, "w");
    if (f == NULL) {
        fprintf(stderr, "hearth-server admin: cannot write %s: %s (the users were created)\n", out,
                strerror(errno));
        free(tokens);
        return 1;
    }
    for (i = 0; i < (size_t)n; i++)
        fprintf(f, "%s\n", tokens[i]);
    free(tokens);
    if (fclose(f) != 0) {
        fprintf(stderr, "hearth-server admin: writing %s: %s\n", out, strerror(errno));
        return 1;
    }
    printf("created %ld users (%s1..%s%ld) in guild %" PRIu64 "; tokens in %s\n", n, prefix, prefix,
           n, guild, out);
    return 0;
}

int admin_main(int argc, char **argv)
{
    srv_config_t cfg;
    const char *dir;
    int i = 1, rc;
    store_t *s;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    /* The server's rules for the data directory, then this command's own flag. */
    if (srv_config_load(&cfg, 0, NULL, 0) != 0)
        return 2;
    dir = cfg.data_dir;
    if (strncmp(argv[i], "--data-dir", 10) == 0) {
        if (argv[i][10] == '=') {
            dir = argv[i] + 11;
            i++;
        } else if (argv[i][10] == '\0' && i + 1 < argc) {
            dir = argv[i + 1];
            i += 2;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "hearth-server admin: libsodium failed to start\n");
        return 1;
    }
    s = store_open(dir, true);
    if (s == NULL) {
        fprintf(stderr, "hearth-server admin: cannot open the store in %s\n", dir);
        return 1;
    }
    if (i + 1 < argc && strcmp(argv[i], "user") == 0 && strcmp(argv[i + 1], "create") == 0)
        rc = user_create(s, argc, argv, i + 2);
    else if (i + 1 < argc && strcmp(argv[i], "bot") == 0 && strcmp(argv[i + 1], "create") == 0)
        rc = bot_create(s, argc, argv, i + 2);
    else if (i + 1 < argc && strcmp(argv[i], "guild") == 0 && strcmp(argv[i + 1], "create") == 0)
        rc = guild_create(s, argc, argv, i + 2);
    else if (i + 1 < argc && strcmp(argv[i], "guild") == 0 && strcmp(argv[i + 1], "list") == 0)
        rc = guild_list(s, argc, argv, i + 2);
    else if (strcmp(argv[i], "bulk-users") == 0)
        rc = bulk_users(s, argc, argv, i + 1);
    else {
        fprintf(stderr, "hearth-server admin: unknown command '%s' (see --help)\n", argv[i]);
        rc = 2;
    }
    store_close(s);
    return rc;
}
