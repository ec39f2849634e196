/* The hearth-server program's own parts: its settings (config.c), its log (log.c) and
 * where its priv/ files are (config.c). main.c starts the node with them; the admin
 * CLI (apps/admin/) reads the same settings for the data directory.
 *
 * Settings come, each overriding the one before: built-in defaults, the config file
 * (priv/config/hearth.conf, or --config FILE), HEARTH_* environment variables, then
 * command-line flags. */
#ifndef HEARTH_APPS_SERVER_H
#define HEARTH_APPS_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#define SRV_DEFAULT_BIND "127.0.0.1" /* loopback: opening the port wider is a choice */
#define SRV_DEFAULT_PORT 8080
#define SRV_DEFAULT_DATA_DIR "./data"
#define SRV_DEFAULT_RATE_LIMIT_MULTIPLIER 1
#define SRV_RATE_LIMIT_MULTIPLIER_MAX 1000000

enum { SRV_LOG_ERROR = 0, SRV_LOG_WARN, SRV_LOG_INFO, SRV_LOG_DEBUG };

typedef struct srv_config {
    char bind[256];
    int port; /* 0..65535; 0: the kernel picks one (printed at start) */
    char data_dir[1024];
    int log_level;  /* SRV_LOG_* */
    int schedulers; /* 0: one per core */
    /* Rate limits (apps/ratelimit): 1 is Discord's limits, N multiplies every limit
     * by N (REST buckets, the global limit, bots' identifies and session starts: test
     * rigs, trusted clients), 0 turns them off (no limiter process: no rate limit
     * headers, no 429s, no identify limits for bots). */
    int rate_limit_multiplier;
    char config[1024]; /* the config file read, or "" */
} srv_config_t;

/* Fills cfg from defaults, the config file, the environment and argv[first..argc)
 * (flags only: anything else is an error). Returns 0; 1 after printing the help
 * (--help: the caller exits 0); -1 after printing what was wrong to stderr. */
int srv_config_load(srv_config_t *cfg, int argc, char **argv, int first);

/* Prints the flags and variables to f. */
void srv_config_usage(void *f);

/* The name of a log level ("info"), and back (-1 if unknown). */
const char *srv_log_level_name(int level);
int srv_log_level_parse(const char *name);

/* Finds priv/<sub> (a file or directory): $HEARTH_PRIV_DIR/<sub>, then priv/<sub> next
 * to the executable or up to three directories above it, then ./priv/<sub>. Returns
 * true with the path in out, or false (out then holds ./priv/<sub>). */
bool srv_priv_path(const char *sub, char *out, size_t size);

/* The log: lines "2026-11-27T19:00:00.123Z info: ..." on stderr, those above the
 * level dropped. Thread-safe (one fprintf per line). */
void srv_log_init(int level);
int srv_log_level(void);
void srv_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* HEARTH_APPS_SERVER_H */
