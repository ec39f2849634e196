/* The SQLite backend's private header: the connection struct, the statement cache,
 * transactions, error mapping, and the JSON helpers every table's file shares.
 *
 *   db.c        open (WAL, pragmas), statement cache, steps, transactions, errors
 *   migrate.c   priv/migrations/NNNN_*.sql, applied in order
 *   util.c      JSON building from rows, reading and validating params, UTF-8
 *   users.c     users, login, tokens, applications, presence, bulk members
 *   guilds.c    guilds, roles      members.c   members and their roles
 *   channels.c  guild channels, DMs, group DMs
 *   messages.c  messages           reactions.c reactions
 *   invites.c   invites
 *
 * Functions here are internal to apps/store (prefix db_, j_, p_). */
#ifndef HEARTH_STORE_SQLITE_DB_H
#define HEARTH_STORE_SQLITE_DB_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "../store.h"

/* Statements cached per connection, keyed by the SQL string's address (every SQL
 * string is a literal), so a hot statement is prepared once per connection. */
#define DB_CACHE_SIZE 256 /* a power of two, well above the number of statements */

struct store {
    sqlite3 *db;
    int tx_depth;  /* open store_tx_begin levels: 0 none, 1 BEGIN, >1 savepoints */
    uint64_t gen;  /* store_init generation (thread connections), 0 otherwise */
    store_t *next; /* the list of thread connections (store.c) */
    char errmsg[256];
    struct {
        const char *sql;
        sqlite3_stmt *st;
    } cache[DB_CACHE_SIZE];
};

/* ---- db.c ------------------------------------------------------------------------------------ */

/* Opens path (creating it) with the store's pragmas. Returns NULL on error, reported
 * on stderr. */
store_t *db_open(const char *path);
void db_close(store_t *s);

/* The cached statement for sql, reset and unbound; NULL on error (s->errmsg set).
 * A statement must be reset (db_reset) before the same SQL is asked for again. */
sqlite3_stmt *db_prep(store_t *s, const char *sql);
/* Resets and unbinds st (NULL allowed). */
void db_reset(sqlite3_stmt *st);
/* Steps st: SQLITE_ROW, SQLITE_DONE, or a negative STORE_E* code (s->errmsg set). */
int db_step(store_t *s, sqlite3_stmt *st);
/* Steps a statement that returns no rows and resets it: 0 or STORE_E*. */
int db_run(store_t *s, sqlite3_stmt *st);
/* Runs SQL text with no parameters (not cached): 0 or STORE_E*. */
int db_exec(store_t *s, const char *sql);
/* The STORE_E* code for an SQLite result code, recording the message in s. */
int db_err(store_t *s, int rc);

/* Binds an id, or NULL when id is 0. */
void db_bind_id(sqlite3_stmt *st, int i, uint64_t id);
/* Binds text (transient copy), or NULL. */
void db_bind_text(sqlite3_stmt *st, int i, const char *text);
/* Binds a JSON value as compact text, or NULL when v is NULL. */
void db_bind_json(sqlite3_stmt *st, int i, const json_t *v);
/* Column i as an id (0 when NULL). */
uint64_t db_col_id(sqlite3_stmt *st, int i);

/* One-row queries: 0 and the value, STORE_ENOTFOUND (no row), or STORE_E*. The
 * statement is reset. */
int db_one_int(store_t *s, sqlite3_stmt *st, int64_t *out);
/* Ends a listing that stepped st until rc (SQLITE_DONE or a negative code): resets
 * st; on error frees a and returns rc; else hands a to *out (or frees it when out is
 * NULL) and returns 0. */
int db_list_done(sqlite3_stmt *st, int rc, json_t *a, json_t **out);
/* Existence checks: sql (a literal with ?1, and ?2 for db_exists2) returns a row or
 * not. 0 (a row), STORE_ENOTFOUND, or STORE_E*. */
int db_exists(store_t *s, const char *sql, uint64_t a);
int db_exists2(store_t *s, const char *sql, uint64_t a, uint64_t b);
/* Runs sql (a literal, no rows) with ?1 = a (and ?2 = b): 0 or STORE_E*. */
int db_run_id(store_t *s, const char *sql, uint64_t a);
int db_run_id2(store_t *s, const char *sql, uint64_t a, uint64_t b);

/* Transactions: the implementation of store_tx_* (db_begin takes the write lock at
 * once: BEGIN IMMEDIATE). db_end commits when err >= 0, rolls back otherwise, and
 * returns err (or the commit's error). */
int db_begin(store_t *s);
int db_end(store_t *s, int err);

/* Unix time in milliseconds. */
int64_t db_now_ms(void);

/* ---- migrate.c ------------------------------------------------------------------------------- */

/* Applies the pending migrations of the migrations directory (found as store_init
 * says). 0 or STORE_EIO (reported on stderr). */
int db_migrate(store_t *s);

/* ---- util.c: JSON out ------------------------------------------------------------------------ */

/* JSON values; each returns a new reference. */
json_t *j_id(uint64_t id);                  /* "123" or null for 0 */
json_t *j_str(const char *s);               /* string or null */
json_t *j_time(int64_t ms);                 /* ISO 8601 */
json_t *j_col_id(sqlite3_stmt *st, int i);  /* "123" or null */
json_t *j_col_str(sqlite3_stmt *st, int i); /* string or null */
json_t *j_col_bool(sqlite3_stmt *st, int i);
json_t *j_col_int(sqlite3_stmt *st, int i);                    /* integer or null */
json_t *j_col_time(sqlite3_stmt *st, int i);                   /* ISO 8601 or null */
json_t *j_col_json(sqlite3_stmt *st, int i, bool empty_array); /* parsed, or [] / null */
json_t *j_col_perm(sqlite3_stmt *st, int i);                   /* permissions as a decimal string */
/* An array of id strings from a comma-separated id list column (group_concat). */
json_t *j_col_idlist(sqlite3_stmt *st, int i);
/* An array of id strings. */
json_t *j_idarray(const uint64_t *ids, size_t n);

/* The columns a user object is built from, with table alias u, and the builder that
 * reads them from column i on (USER_NCOLS columns). */
#define USER_COLS "u.id, u.username, u.global_name, u.avatar, u.bot, u.flags"
#define USER_NCOLS 6
json_t *j_user(sqlite3_stmt *st, int i);
/* The user object of id from the database; NULL if there is none. */
json_t *j_user_get(store_t *s, uint64_t id);

/* ---- helpers across tables ------------------------------------------------------------------- */

/* members.c: inserts a member row (STORE_EEXIST if there is one); the member object
 * (NULL if none); every member of a guild, by user id. */
int db_member_insert(store_t *s, uint64_t guild_id, uint64_t user_id, int64_t joined_at);
json_t *db_member_json(store_t *s, uint64_t guild_id, uint64_t user_id);
int db_members_all(store_t *s, uint64_t guild_id, json_t **out);
/* guilds.c: the guild's roles by position (an array; empty if none). */
json_t *db_roles_json(store_t *s, uint64_t guild_id);
/* guilds.c: deletes bot_id's managed role in the guild, if it has one (inside the
 * caller's transaction). 0 or STORE_E*. */
int db_role_delete_managed(store_t *s, uint64_t guild_id, uint64_t bot_id);
/* reactions.c: the message's reactions array relative to viewer, or NULL if none. */
json_t *db_reactions_json(store_t *s, uint64_t message_id, uint64_t viewer);

/* ---- util.c: params in ----------------------------------------------------------------------- */

/* Kinds of fields for db_apply. */
typedef enum {
    F_STR,  /* string, length in characters within [min, max] */
    F_INT,  /* integer within [min, max] */
    F_BOOL, /* true/false */
    F_ID,   /* snowflake: a string of digits or an integer */
    F_PERM, /* permissions: a decimal string (or integer) below 2^63 */
    F_JSON, /* an array, stored as JSON text */
    F_TIME, /* ISO 8601 string, stored as Unix ms */
} field_kind_t;

typedef struct field {
    const char *key;    /* the params member */
    const char *column; /* the column it sets */
    field_kind_t kind;
    int64_t min, max;
    bool nullable;
} field_t;

/* Checks every member of params that fields name (other members are ignored), then
 * sets the present ones with one "UPDATE table SET ... WHERE where" (where holds
 * ?1 and maybe ?2, bound to key and key2). Returns 0 (also when nothing was present), STORE_EINVAL
 * (a field of the wrong type or out of range), or STORE_E*. The row must exist. */
int db_apply(store_t *s, const char *table, const char *where, uint64_t key, uint64_t key2,
             const field_t *fields, size_t nfields, const json_t *params);

/* Reads an id field of params: 0 absent (*out untouched), 1 present (*out = the id,
 * 0 for null when nullable), STORE_EINVAL. */
int p_id(const json_t *params, const char *key, bool nullable, uint64_t *out);
/* Reads a string field: 0 absent, 1 present (*out may be NULL for null when
 * nullable), STORE_EINVAL (wrong type, or length in characters out of [min, max]). */
int p_str(const json_t *params, const char *key, size_t min, size_t max, bool nullable,
          const char **out);
/* Reads an integer field within [min, max]: 0 absent, 1 present, STORE_EINVAL. */
int p_int(const json_t *params, const char *key, int64_t min, int64_t max, int64_t *out);
/* Parses an id from a JSON string or integer: 0 or -1. */
int p_id_value(const json_t *v, uint64_t *out);

/* The number of code points of a UTF-8 string, or -1 if it is not valid UTF-8. */
long utf8_len(const char *s);

/* Parses ISO 8601 ("2024-01-02T03:04:05[.fff...](Z|+00:00|+hh:mm)") into Unix ms:
 * 0 or -1. */
int iso_parse(const char *s, int64_t *ms);

#endif /* HEARTH_STORE_SQLITE_DB_H */
