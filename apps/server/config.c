/* hearth-server's settings: defaults, the config file, HEARTH_* variables and flags,
 * each overriding the one before; and where the priv/ files are.
 *
 * One setter takes a key and its text from any of the sources and checks it the same
 * way, so an error names the source ("HEARTH_PORT: not a port: abc") and the rules
 * cannot drift apart. The config file is "key = value" lines with # comments; its
 * keys are the long flags' names with '_' for '-' (data_dir). It is optional: the
 * default one (priv/config/hearth.conf) is read if found, one named by --config or
 * HEARTH_CONFIG must exist. */
#include "server.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void defaults(srv_config_t *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->bind, sizeof(c->bind), "%s", SRV_DEFAULT_BIND);
    c->port = SRV_DEFAULT_PORT;
    snprintf(c->data_dir, sizeof(c->data_dir), "%s", SRV_DEFAULT_DATA_DIR);
    c->log_level = SRV_LOG_INFO;
    c->schedulers = 0;
    c->rate_limit_multiplier = SRV_DEFAULT_RATE_LIMIT_MULTIPLIER;
}

static bool parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    if (s == NULL || *s == '\0')
        return false;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* Sets key (a flag's name without dashes, '_' or '-' alike) from value; where names
 * the source for errors. Returns 0 or -1 (printed). */
static int set(srv_config_t *c, const char *key, const char *value, const char *where)
{
    char k[32];
    long n;
    int lvl;
    size_t i;

    snprintf(k, sizeof(k), "%s", key);
    for (i = 0; k[i]; i++)
        if (k[i] == '-')
            k[i] = '_';
    if (strcmp(k, "bind") == 0) {
        if (value[0] == '\0' || strlen(value) >= sizeof(c->bind))
            goto bad;
        snprintf(c->bind, sizeof(c->bind), "%s", value);
    } else if (strcmp(k, "port") == 0) {
        if (!parse_long(value, 0, 65535, &n))
            goto bad;
        c->port = (int)n;
    } else if (strcmp(k, "data_dir") == 0) {
        if (value[0] == '\0' || strlen(value) >= sizeof(c->data_dir))
            goto bad;
        snprintf(c->data_dir, sizeof(c->data_dir), "%s", value);
    } else if (strcmp(k, "log_level") == 0) {
        lvl = srv_log_level_parse(value);
        if (lvl < 0)
            goto bad;
        c->log_level = lvl;
    } else if (strcmp(k, "schedulers") == 0) {
        if (!parse_long(value, 0, 256, &n))
            goto bad;
        c->schedulers = (int)n;
    } else if (strcmp(k, "rate_limit_multiplier") == 0) {
        if (!parse_long(value, 0, SRV_RATE_LIMIT_MULTIPLIER_MAX, &n))
            goto bad;
        c->rate_limit_multiplier = (int)n;
    } else {
        fprintf(stderr, "hearth-server: %s: unknown setting '%s'\n", where, key);
        return -1;
    }
    return 0;
bad:
    fprintf(stderr, "hearth-server: %s: bad value for %s: '%s'\n", where, key, value);
    return -1;
}

static char *trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
        *--e = '\0';
    return s;
}

/* Reads the config file at path. Returns 0, or -1 (printed). */
static int read_file(srv_config_t *c, const char *path)
{
    char line[2048], where[1100], *eq, *key, *value;
    int lineno = 0, rc = 0;
    FILE *f;

    f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "hearth-server: cannot read config file %s: %s\n", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        key = trim(line);
        if (*key == '\0' || *key == '#')
            continue;
        snprintf(where, sizeof(where), "%s:%d", path, lineno);
        eq = strchr(key, '=');
        if (eq == NULL) {
            fprintf(stderr, "hearth-server: %s: expected key = value\n", where);
            rc = -1;
            break;
        }
        *eq = '\0';
        value = trim(eq + 1);
        key = trim(key);
        /* Values may be quoted, to keep blanks. */
        if (value[0] == '"' && strlen(value) >= 2 && value[strlen(value) - 1] == '"') {
            value[strlen(value) - 1] = '\0';
            value++;
        }
        if (set(c, key, value, where) < 0) {
            rc = -1;
            break;
        }
    }
    fclose(f);
    if (rc == 0)
        snprintf(c->config, sizeof(c->config), "%s", path);
    return rc;
}

/* The value of --name or --name=value at argv[*i] (advancing *i past a separate
 * value), or NULL if argv[*i] is not that flag. *missing is set when the value is. */
static const char *flag_value(int argc, char **argv, int *i, const char *name, bool *missing)
{
    size_t n = strlen(name);
    const char *a = argv[*i];

    if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, name, n) != 0)
        return NULL;
    if (a[2 + n] == '=')
        return a + 3 + n;
    if (a[2 + n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = true;
        return NULL;
    }
    return argv[++*i];
}

void srv_config_usage(void *out)
{
    FILE *f = out;

    fprintf(f,
            "usage: hearth-server [FLAGS]\n"
            "       hearth-server admin COMMAND [ARGS]   (hearth-server admin --help)\n"
            "\n"
            "Runs a Hearth chat node: the Discord-compatible REST API under /api/v10 and the\n"
            "WebSocket gateway on one port, with its data in an embedded SQLite database.\n"
            "\n"
            "flags (each also a HEARTH_* environment variable; flags win):\n"
            "  --bind ADDR        address to listen on (HEARTH_BIND; default %s:\n"
            "                     loopback only; 0.0.0.0 opens it to the network)\n"
            "  --port N           TCP port, 0 for any free one (HEARTH_PORT; default %d)\n"
            "  --data-dir DIR     where the database lives, created if missing\n"
            "                     (HEARTH_DATA_DIR; default %s)\n"
            "  --log-level LEVEL  error, warn, info or debug (HEARTH_LOG_LEVEL; default info;\n"
            "                     debug logs every REST request)\n"
            "  --schedulers N     scheduler threads, 0 for one per core (HEARTH_SCHEDULERS)\n"
            "  --rate-limit-multiplier N\n"
            "                     REST rate limits (HEARTH_RATE_LIMIT_MULTIPLIER; default %d:\n"
            "                     Discord's; N: every limit N times higher; 0: none, for\n"
            "                     benchmarks and trusted setups)\n"
            "  --config FILE      settings file of key = value lines (HEARTH_CONFIG; default\n"
            "                     priv/config/hearth.conf when found)\n"
            "  --help             this text\n"
            "\n"
            "It prints \"Hearth listening on http://ADDR:PORT\" once it accepts connections,\n"
            "and on SIGTERM or SIGINT drains (gateway sessions are told to reconnect, the\n"
            "listener closes, the process tree stops in order) and exits 0.\n",
            SRV_DEFAULT_BIND, SRV_DEFAULT_PORT, SRV_DEFAULT_DATA_DIR,
            SRV_DEFAULT_RATE_LIMIT_MULTIPLIER);
}

int srv_config_load(srv_config_t *cfg, int argc, char **argv, int first)
{
    static const struct {
        const char *var, *key;
    } vars[] = {
        {"HEARTH_BIND", "bind"},
        {"HEARTH_PORT", "port"},
        {"HEARTH_DATA_DIR", "data_dir"},
        {"HEARTH_LOG_LEVEL", "log_level"},
        {"HEARTH_SCHEDULERS", "schedulers"},
        {"HEARTH_RATE_LIMIT_MULTIPLIER", "rate_limit_multiplier"},
    };
    static const char *const flags[] = {"bind",      "port",       "data-dir",
                                        "log-level", "schedulers", "rate-limit-multiplier"};
    const char *config = NULL, *v;
    char path[PATH_MAX];
    bool missing = false;
    size_t k;
    int i;

    defaults(cfg);
    /* The file first: it is the lowest-priority source after the defaults. */
    for (i = first; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            srv_config_usage(stdout);
            return 1;
        }
        if ((v = flag_value(argc, argv, &i, "config", &missing)) != NULL)
            config = v;
    }
    if (config == NULL && (v = getenv("HEARTH_CONFIG")) != NULL && *v != '\0')
        config = v;
    if (config != NULL) {
        if (read_file(cfg, config) < 0)
            return -1;
    } else if (srv_priv_path("config/hearth.conf", path, sizeof(path))) {
        if (read_file(cfg, path) < 0)
            return -1;
    }
    for (k = 0; k < sizeof(vars) / sizeof(vars[0]); k++)
        if ((v = getenv(vars[k].var)) != NULL && *v != '\0' &&
            set(cfg, vars[k].key, v, vars[k].var) < 0)
            return -1;
    for (i = first; i < argc; i++) {
        missing = false;
        if (flag_value(argc, argv, &i, "config", &missing) != NULL)
            continue;
        for (k = 0; k < sizeof(flags) / sizeof(flags[0]); k++) {
            v = flag_value(argc, argv, &i, flags[k], &missing);
            if (v != NULL) {
                char where[32];

                snprintf(where, sizeof(where), "--%s", flags[k]);
                if (set(cfg, flags[k], v, where) < 0)
                    return -1;
                break;
            }
            if (missing)
                break;
        }
        if (missing) {
            fprintf(stderr, "hearth-server: %s needs a value\n", argv[i]);
            return -1;
        }
        if (k == sizeof(flags) / sizeof(flags[0])) {
            fprintf(stderr, "hearth-server: unknown argument '%s' (see --help)\n", argv[i]);
            return -1;
        }
    }
    return 0;
}

/* The directory of the running executable into out. */
static bool exe_dir(char *out, size_t size)
{
    ssize_t n = readlink("/proc/self/exe", out, size - 1);
    char *slash;

    if (n <= 0)
        return false;
    out[n] = '\0';
    slash = strrchr(out, '/');
    if (slash == NULL)
        return false;
    *slash = '\0';
    return true;
}

static bool exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

bool srv_priv_path(const char *sub, char *out, size_t size)
{
    const char *env = getenv("HEARTH_PRIV_DIR");
    char dir[PATH_MAX];
    int up;

    if (env != NULL && *env != '\0') {
        snprintf(out, size, "%s/%s", env, sub);
        if (exists(out))
            return true;
    }
    if (exe_dir(dir, sizeof(dir))) {
        for (up = 0; up <= 3; up++) {
            snprintf(out, size, "%s/%.*spriv/%s", dir, up * 3, "../../../", sub);
            if (exists(out))
                return true;
        }
    }
    snprintf(out, size, "./priv/%s", sub);
    return exists(out);
}
