/* Connections: the global database path set by store_init, each worker thread's own
 * connection (store_thread), and connections opened by hand (store_open).
 *
 * Thread connections are opened lazily and kept in a list under a mutex, so
 * store_fini (or a later store_init) can close them all from one thread; a
 * generation number tells each thread whether its cached pointer is still one of
 * them, so a thread never touches a connection closed under it. */
#include "db.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DB_FILE "hearth.db"

static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
/* Under conns_lock: the database path, and every open thread connection. */
static char *db_path;
static store_t *conns;
/* Bumped (under conns_lock) whenever the thread connections are closed; read by
 * each thread without the lock: a stale value only means a trip to the lock. */
static _Atomic uint64_t generation = 1;

/* This thread's connection, valid while tls_gen equals generation. */
static _Thread_local store_t *tls_conn;
static _Thread_local uint64_t tls_gen;

/* mkdir -p. 0 or -1 (errno set). */
static int make_dirs(const char *dir)
{
    char buf[PATH_MAX];
    size_t i, len;

    len = strlen(dir);
    if (len == 0 || len >= sizeof(buf)) {
        errno = EINVAL;
        return -1;
    }
    memcpy(buf, dir, len + 1);
    for (i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        buf[i] = '\0';
        if (mkdir(buf, 0700) < 0 && errno != EEXIST)
            return -1;
        buf[i] = i < len ? '/' : '\0';
    }
    return 0;
}

/* The database path in data_dir (creating the directory): malloc'd, or NULL. */
static char *path_in(const char *data_dir)
{
    char *path;
    size_t len;

    if (data_dir == NULL || strlen(data_dir) > PATH_MAX - sizeof(DB_FILE) - 2)
        return NULL;
    if (make_dirs(data_dir) < 0) {
        fprintf(stderr, "store: cannot create %s: %s\n", data_dir, strerror(errno));
        return NULL;
    }
    len = strlen(data_dir) + sizeof(DB_FILE) + 2;
    path = malloc(len);
    if (path == NULL)
        abort();
    snprintf(path, len, "%s/%s", data_dir, DB_FILE);
    return path;
}

/* Closes every thread connection and invalidates the threads' cached pointers.
 * Under conns_lock. */
static void close_all_locked(void)
{
    store_t *s, *next;

    for (s = conns; s != NULL; s = next) {
        next = s->next;
        db_close(s);
    }
    conns = NULL;
    atomic_fetch_add(&generation, 1);
}

int store_init(const char *data_dir)
{
    store_t *s;
    char *path;
    int rc;

    if (sodium_init() < 0) {
        fprintf(stderr, "store: libsodium failed to start\n");
        return STORE_EIO;
    }
    if (data_dir == NULL)
        return STORE_EINVAL;
    path = path_in(data_dir);
    if (path == NULL)
        return errno == EINVAL ? STORE_EINVAL : STORE_EIO;
    s = db_open(path);
    if (s == NULL) {
        free(path);
        return STORE_EIO;
    }
    rc = db_migrate(s);
    db_close(s);
    if (rc < 0) {
        free(path);
        return rc;
    }
    pthread_mutex_lock(&conns_lock);
    close_all_locked();
    free(db_path);
    db_path = path;
    pthread_mutex_unlock(&conns_lock);
    return 0;
}

void store_fini(void)
{
    pthread_mutex_lock(&conns_lock);
    close_all_locked();
    free(db_path);
    db_path = NULL;
    pthread_mutex_unlock(&conns_lock);
}

store_t *store_thread(void)
{
    uint64_t gen;
    store_t *s;

    gen = atomic_load(&generation);
    if (tls_conn != NULL && tls_gen == gen)
        return tls_conn;
    /* Either none yet, or ours was closed by store_fini/store_init: never touch it. */
    tls_conn = NULL;
    pthread_mutex_lock(&conns_lock);
    s = NULL;
    if (db_path != NULL) {
        s = db_open(db_path);
        if (s != NULL) {
            s->gen = atomic_load(&generation);
            s->next = conns;
            conns = s;
            tls_conn = s;
            tls_gen = s->gen;
        }
    }
    pthread_mutex_unlock(&conns_lock);
    return s;
}

store_t *store_open(const char *data_dir, bool migrate)
{
    store_t *s;
    char *path;

    if (sodium_init() < 0)
        return NULL;
    path = path_in(data_dir);
    if (path == NULL)
        return NULL;
    s = db_open(path);
    free(path);
    if (s != NULL && migrate && db_migrate(s) < 0) {
        db_close(s);
        s = NULL;
    }
    return s;
}

void store_close(store_t *s)
{
    db_close(s);
}
