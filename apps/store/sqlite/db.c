/* SQLite connections: opening with the store's pragmas, the per-connection statement
 * cache, stepping with error mapping, and transactions (BEGIN IMMEDIATE at the top,
 * savepoints below it).
 *
 * Durability: every connection runs in WAL mode with synchronous=NORMAL. A commit
 * appends the transaction to the -wal file with write() before sqlite3_step returns;
 * the file's pages are then in the kernel's page cache, which outlives the process,
 * so a kill -9 right after a commit loses nothing: the next open replays the WAL.
 * What synchronous=NORMAL gives up (against FULL) is an fsync per commit, so a power
 * cut or kernel crash may lose the last commits, never corrupt the database. WAL
 * fsyncs at each checkpoint.
 *
 * Concurrency: one connection per thread (opened SQLITE_OPEN_NOMUTEX: no locking
 * inside SQLite for it). Readers never block in WAL mode; writers take the write lock
 * at BEGIN IMMEDIATE (or at a lone write statement) and wait up to the busy timeout
 * for it, so a write transaction never fails halfway on a lock upgrade. */
#include "db.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BUSY_TIMEOUT_MS 10000

store_t *db_open(const char *path)
{
    store_t *s;
    int rc;

    s = calloc(1, sizeof(*s));
    if (s == NULL)
        abort();
    rc = sqlite3_open_v2(path, &s->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        fprintf(stderr, "store: cannot open %s: %s\n", path,
                s->db != NULL ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    /* journal_mode=WAL answers with a row; sqlite3_exec ignores it. The mode is
     * stored in the file, the others are per connection. */
    rc = sqlite3_exec(s->db,
                      "PRAGMA journal_mode = WAL;"
                      "PRAGMA synchronous = NORMAL;"
                      "PRAGMA foreign_keys = ON;"
                      "PRAGMA temp_store = MEMORY;",
                      NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        fprintf(stderr, "store: cannot set up %s: %s\n", path, sqlite3_errmsg(s->db));
        goto fail;
    }
    return s;

fail:
    sqlite3_close(s->db);
    free(s);
    return NULL;
}

void db_close(store_t *s)
{
    size_t i;

    if (s == NULL)
        return;
    for (i = 0; i < DB_CACHE_SIZE; i++)
        sqlite3_finalize(s->cache[i].st);
    /* A transaction left open by a bug is rolled back by the close. */
    sqlite3_close(s->db);
    free(s);
}

sqlite3_stmt *db_prep(store_t *s, const char *sql)
{
    size_t i, n;
    int rc;

    /* Open addressing on the literal's address: a statement is found in one or two
     * probes. */
    i = (size_t)(((uintptr_t)sql >> 3) * 0x9E3779B97F4A7C15ULL >> 32) & (DB_CACHE_SIZE - 1);
    for (n = 0; n < DB_CACHE_SIZE; n++, i = (i + 1) & (DB_CACHE_SIZE - 1)) {
        if (s->cache[i].sql == sql) {
            /* Busy means a caller still steps it: using the same SQL while iterating
             * it is a bug (it would restart the outer loop), and so is forgetting a
             * reset (it pins an old snapshot). */
            if (sqlite3_stmt_busy(s->cache[i].st)) {
                fprintf(stderr, "store: statement still in use: %s\n", sql);
                abort();
            }
            return s->cache[i].st;
        }
        if (s->cache[i].sql == NULL)
            break;
    }
    if (n == DB_CACHE_SIZE) {
        fprintf(stderr, "store: statement cache full (DB_CACHE_SIZE)\n");
        abort();
    }
    rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->cache[i].st, NULL);
    if (rc != SQLITE_OK) {
        db_err(s, rc);
        fprintf(stderr, "store: cannot prepare \"%s\": %s\n", sql, s->errmsg);
        s->cache[i].st = NULL;
        return NULL;
    }
    s->cache[i].sql = sql;
    return s->cache[i].st;
}

void db_reset(sqlite3_stmt *st)
{
    if (st == NULL)
        return;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

int db_err(store_t *s, int rc)
{
    snprintf(s->errmsg, sizeof(s->errmsg), "%s", sqlite3_errmsg(s->db));
    switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        return STORE_EEXIST;
    case SQLITE_CONSTRAINT_FOREIGNKEY:
        return STORE_ENOTFOUND; /* a row refers to one that is not there */
    case SQLITE_CONSTRAINT_CHECK:
    case SQLITE_CONSTRAINT_NOTNULL:
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
    case SQLITE_MISMATCH:
        return STORE_EINVAL;
    default:
        break;
    }
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return STORE_EBUSY;
    case SQLITE_CONSTRAINT:
        return STORE_EINVAL;
    default:
        return STORE_EIO;
    }
}

int db_step(store_t *s, sqlite3_stmt *st)
{
    int rc;

    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        return rc;
    rc = db_err(s, rc);
    sqlite3_reset(st);
    return rc;
}

int db_run(store_t *s, sqlite3_stmt *st)
{
    int rc;

    if (st == NULL)
        return STORE_EIO;
    rc = db_step(s, st);
    db_reset(st);
    return rc < 0 ? rc : 0;
}

int db_exec(store_t *s, const char *sql)
{
    int rc;

    rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : db_err(s, sqlite3_extended_errcode(s->db));
}

void db_bind_id(sqlite3_stmt *st, int i, uint64_t id)
{
    if (id == 0)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_int64(st, i, (sqlite3_int64)id);
}

void db_bind_text(sqlite3_stmt *st, int i, const char *text)
{
    if (text == NULL)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_text(st, i, text, -1, SQLITE_TRANSIENT);
}

void db_bind_json(sqlite3_stmt *st, int i, const json_t *v)
{
    char *text;

    if (v == NULL) {
        sqlite3_bind_null(st, i);
        return;
    }
    text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (text == NULL)
        abort(); /* out of memory */
    sqlite3_bind_text(st, i, text, -1, free);
}

uint64_t db_col_id(sqlite3_stmt *st, int i)
{
    return (uint64_t)sqlite3_column_int64(st, i); /* NULL reads as 0 */
}

int db_one_int(store_t *s, sqlite3_stmt *st, int64_t *out)
{
    int rc;

    if (st == NULL)
        return STORE_EIO;
    rc = db_step(s, st);
    if (rc == SQLITE_ROW) {
        if (out != NULL)
            *out = sqlite3_column_int64(st, 0);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = STORE_ENOTFOUND;
    }
    db_reset(st);
    return rc;
}

int db_list_done(sqlite3_stmt *st, int rc, json_t *a, json_t **out)
{
    db_reset(st);
    if (rc < 0) {
        json_decref(a);
        return rc;
    }
    if (out != NULL)
        *out = a;
    else
        json_decref(a);
    return 0;
}

int db_exists(store_t *s, const char *sql, uint64_t a)
{
    sqlite3_stmt *st;

    st = db_prep(s, sql);
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)a);
    return db_one_int(s, st, NULL);
}

int db_exists2(store_t *s, const char *sql, uint64_t a, uint64_t b)
{
    sqlite3_stmt *st;

    st = db_prep(s, sql);
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)a);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)b);
    return db_one_int(s, st, NULL);
}

int db_run_id(store_t *s, const char *sql, uint64_t a)
{
    sqlite3_stmt *st;

    st = db_prep(s, sql);
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)a);
    return db_run(s, st);
}

int db_run_id2(store_t *s, const char *sql, uint64_t a, uint64_t b)
{
    sqlite3_stmt *st;

    st = db_prep(s, sql);
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)a);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)b);
    return db_run(s, st);
}

int db_begin(store_t *s)
{
    int err;

    err = db_run(s, db_prep(s, s->tx_depth == 0 ? "BEGIN IMMEDIATE" : "SAVEPOINT sp"));
    if (err == 0)
        s->tx_depth++;
    return err;
}

int db_end(store_t *s, int err)
{
    int e;

    if (s->tx_depth <= 0) {
        snprintf(s->errmsg, sizeof(s->errmsg), "transaction end without begin");
        return STORE_EIO;
    }
    s->tx_depth--;
    if (sqlite3_get_autocommit(s->db)) {
        /* SQLite already rolled the whole transaction back (an I/O error, a full
         * disk): nothing is left to end at any level. */
        return err < 0 ? err : STORE_EIO;
    }
    if (err >= 0) {
        e = db_run(s, db_prep(s, s->tx_depth == 0 ? "COMMIT" : "RELEASE sp"));
        if (e == 0)
            return err;
        err = e; /* then roll back below */
        if (sqlite3_get_autocommit(s->db))
            return err;
    }
    if (s->tx_depth == 0) {
        db_run(s, db_prep(s, "ROLLBACK"));
    } else {
        db_run(s, db_prep(s, "ROLLBACK TO sp"));
        db_run(s, db_prep(s, "RELEASE sp"));
    }
    return err;
}

int store_tx_begin(store_t *s)
{
    return db_begin(s);
}

int store_tx_commit(store_t *s)
{
    return db_end(s, 0);
}

void store_tx_rollback(store_t *s)
{
    db_end(s, STORE_EIO);
}

const char *store_errmsg(store_t *s)
{
    return s != NULL && s->errmsg[0] != '\0' ? s->errmsg : "no error";
}

int64_t db_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
