/* Schema migrations: priv/migrations/NNNN_name.sql, applied in the order of their
 * number, each inside its own write transaction together with its row in
 * schema_migrations, so a migration is either wholly applied and recorded or not at
 * all. A migration already recorded is skipped; the check is made inside the
 * transaction, so two servers starting at once apply each migration once.
 *
 * The directory: $HEARTH_PRIV_DIR/migrations, else priv/migrations beside the
 * executable or up to three directories above it (build/opt/hearth-test finds the
 * checkout's priv/), or share/hearth/priv/migrations above it (an installed tree),
 * else ./priv/migrations. The .sql files are the source of truth; nothing is copied
 * into the binary. */
#include "db.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_MIGRATIONS 1000

static bool is_dir(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Finds the migrations directory into buf. 0 or -1. */
static int find_dir(char *buf, size_t size)
{
    static const char *const ups[] = {"", "/..", "/../..", "/../../.."};
    char exe[PATH_MAX];
    const char *env;
    ssize_t n;
    char *slash;
    size_t i;

    env = getenv("HEARTH_PRIV_DIR");
    if (env != NULL && env[0] != '\0')
        return snprintf(buf, size, "%s/migrations", env) < (int)size && is_dir(buf) ? 0 : -1;
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        slash = strrchr(exe, '/');
        if (slash != NULL)
            *slash = '\0';
        for (i = 0; i < sizeof(ups) / sizeof(ups[0]); i++) {
            if (snprintf(buf, size, "%s%s/priv/migrations", exe, ups[i]) < (int)size && is_dir(buf))
                return 0;
        }
        if (snprintf(buf, size, "%s/../share/hearth/priv/migrations", exe) < (int)size &&
            is_dir(buf))
            return 0;
    }
    snprintf(buf, size, "priv/migrations");
    return is_dir(buf) ? 0 : -1;
}

/* A migration file name: four or more digits, '_', anything, ".sql". */
static long migration_version(const char *name)
{
    size_t len, digits;

    len = strlen(name);
    for (digits = 0; name[digits] >= '0' && name[digits] <= '9'; digits++)
        ;
    if (digits < 4 || digits > 9 || name[digits] != '_' || len < 5 ||
        strcmp(name + len - 4, ".sql") != 0)
        return -1;
    return strtol(name, NULL, 10);
}

/* By version number, then name (a repeated number is a mistake; keep it stable). */
static int cmp_names(const void *a, const void *b)
{
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    long vx = migration_version(x), vy = migration_version(y);

    if (vx != vy)
        return vx < vy ? -1 : 1;
    return strcmp(x, y);
}

static char *read_file(const char *path)
{
    FILE *f;
    char *buf;
    long len;

    f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)len + 1);
        if (buf == NULL)
            abort();
        if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
            free(buf);
            buf = NULL;
        } else {
            buf[len] = '\0';
        }
    }
    fclose(f);
    return buf;
}

/* Applies one migration unless recorded. 0 or STORE_E*. */
static int apply(store_t *s, const char *dir, const char *name, long version)
{
    char path[PATH_MAX];
    sqlite3_stmt *st;
    char *sql, *err;
    int64_t found;
    int rc;

    rc = db_begin(s);
    if (rc < 0)
        return rc;
    st = db_prep(s, "SELECT 1 FROM schema_migrations WHERE version = ?1");
    if (st == NULL) {
        rc = STORE_EIO;
        goto out;
    }
    sqlite3_bind_int64(st, 1, version);
    rc = db_one_int(s, st, &found);
    if (rc != STORE_ENOTFOUND)
        goto out; /* applied already (0), or an error */
    sql = snprintf(path, sizeof(path), "%s/%s", dir, name) < (int)sizeof(path) ? read_file(path)
                                                                               : NULL;
    if (sql == NULL) {
        fprintf(stderr, "store: cannot read migration %s\n", path);
        rc = STORE_EIO;
        goto out;
    }
    err = NULL;
    rc = sqlite3_exec(s->db, sql, NULL, NULL, &err);
    free(sql);
    if (rc != SQLITE_OK) {
        fprintf(stderr, "store: migration %s failed: %s\n", path, err != NULL ? err : "?");
        sqlite3_free(err);
        rc = STORE_EIO;
        goto out;
    }
    st =
        db_prep(s, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)");
    if (st == NULL) {
        rc = STORE_EIO;
        goto out;
    }
    sqlite3_bind_int64(st, 1, version);
    db_bind_text(st, 2, name);
    sqlite3_bind_int64(st, 3, db_now_ms());
    rc = db_run(s, st);
out:
    return db_end(s, rc);
}

int db_migrate(store_t *s)
{
    char *names[MAX_MIGRATIONS];
    char dir[PATH_MAX];
    struct dirent *e;
    size_t n, i;
    DIR *d;
    int rc;

    if (find_dir(dir, sizeof(dir)) < 0) {
        fprintf(stderr, "store: no migrations directory (priv/migrations; set HEARTH_PRIV_DIR)\n");
        return STORE_EIO;
    }
    rc =
        db_exec(s, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                   "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
    if (rc < 0) {
        fprintf(stderr, "store: cannot create schema_migrations: %s\n", store_errmsg(s));
        return rc;
    }
    d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "store: cannot open %s\n", dir);
        return STORE_EIO;
    }
    n = 0;
    while ((e = readdir(d)) != NULL && n < MAX_MIGRATIONS) {
        if (migration_version(e->d_name) >= 0)
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(names[0]), cmp_names);
    rc = 0;
    for (i = 0; i < n; i++) {
        if (rc == 0)
            rc = apply(s, dir, names[i], migration_version(names[i]));
        free(names[i]);
    }
    if (n == 0) {
        fprintf(stderr, "store: no migrations in %s\n", dir);
        rc = STORE_EIO;
    }
    return rc;
}

int store_schema_version(store_t *s, int64_t *version)
{
    return db_one_int(s, db_prep(s, "SELECT coalesce(max(version), 0) FROM schema_migrations"),
                      version);
}
