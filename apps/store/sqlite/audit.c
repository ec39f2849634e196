/* The audit log (apps/store/moderation.h): one row per entry, its changes and options
 * as JSON text, read back newest first with Discord's filters, and the users the
 * entries name gathered for GET /guilds/{id}/audit-logs. */
#include "db.h"

#include "../moderation.h"

#define AUDIT_COLS "id, user_id, target_id, action_type, changes, options, reason"

/* The entry object from an AUDIT_COLS row. */
static json_t *entry_json(sqlite3_stmt *st)
{
    json_t *e = json_object();

    json_object_set_new(e, "id", j_col_id(st, 0));
    json_object_set_new(e, "user_id", j_col_id(st, 1));
    json_object_set_new(e, "target_id", j_col_id(st, 2));
    json_object_set_new(e, "action_type", j_col_int(st, 3));
    if (sqlite3_column_type(st, 4) != SQLITE_NULL)
        json_object_set_new(e, "changes", j_col_json(st, 4, true));
    if (sqlite3_column_type(st, 5) != SQLITE_NULL)
        json_object_set_new(e, "options", j_col_json(st, 5, false));
    if (sqlite3_column_type(st, 6) != SQLITE_NULL)
        json_object_set_new(e, "reason", j_col_str(st, 6));
    return e;
}

int store_audit_add(store_t *s, const store_audit_new_t *e, json_t **out)
{
    sqlite3_stmt *st;
    uint64_t id = 0;
    long n;
    int rc;

    if (e == NULL || e->action_type < 1 || e->action_type > 255 ||
        (e->changes != NULL && !json_is_array(e->changes)) ||
        (e->options != NULL && !json_is_object(e->options)))
        return STORE_EINVAL;
    if (e->reason != NULL && ((n = utf8_len(e->reason)) < 0 || n > STORE_REASON_MAX))
        return STORE_EINVAL;
    rc = db_begin(s);
    if (rc < 0)
        return rc;
    rc = db_exists(s, "SELECT 1 FROM guilds WHERE id = ?1", e->guild_id);
    if (rc < 0)
        goto out;
    id = snowflake_next();
    st = db_prep(s, "INSERT INTO audit_log (" AUDIT_COLS ", guild_id)"
                    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (st == NULL) {
        rc = STORE_EIO;
        goto out;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    db_bind_id(st, 2, e->user_id);
    db_bind_id(st, 3, e->target_id);
    sqlite3_bind_int(st, 4, e->action_type);
    db_bind_json(st, 5, e->changes);
    db_bind_json(st, 6, e->options);
    db_bind_text(st, 7, e->reason);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)e->guild_id);
    rc = db_run(s, st);
    /* Discord keeps 45 days: the index makes the usually empty range cheap. */
    if (rc == 0)
        rc = db_run_id2(s, "DELETE FROM audit_log WHERE guild_id = ?1 AND id < ?2", e->guild_id,
                        snowflake_from_ms(snowflake_ms(id) - STORE_AUDIT_KEEP_MS));
out:
    rc = db_end(s, rc);
    if (rc < 0)
        return rc;
    if (out == NULL)
        return 0;
    st = db_prep(s, "SELECT " AUDIT_COLS " FROM audit_log WHERE id = ?1");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    rc = db_step(s, st);
    if (rc == SQLITE_ROW)
        *out = entry_json(st);
    db_reset(st);
    return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? STORE_ENOTFOUND : rc;
}

/* The users an entry names: its actor, and its target when that is a user. */
static void add_user(store_t *s, json_t *users, json_t *seen, const json_t *id_value)
{
    const char *id = json_string_value(id_value);
    uint64_t uid;
    json_t *u;

    if (id == NULL || json_object_get(seen, id) != NULL || snowflake_parse(id, &uid) < 0)
        return;
    json_object_set_new(seen, id, json_true());
    if ((u = j_user_get(s, uid)) != NULL)
        json_array_append_new(users, u);
}

/* Action types whose target_id is a user. */
static bool targets_user(json_int_t type)
{
    return (type >= 20 && type <= 28) || type == 72 ||
           (type >= STORE_AUDIT_AUTOMOD_BLOCK_MESSAGE &&
            type <= STORE_AUDIT_AUTOMOD_USER_COMMUNICATION_DISABLED);
}

int store_audit_list(store_t *s, uint64_t guild_id, const store_audit_query_t *q, json_t **out)
{
    static const store_audit_query_t none = {0};
    json_t *entries, *users, *seen, *e, *v;
    sqlite3_stmt *st;
    size_t i, n;
    int limit, rc;
    bool after;

    if (q == NULL)
        q = &none;
    limit = q->limit == 0 ? 50 : q->limit;
    if (limit < 1 || limit > 100 || q->action_type < 0)
        return STORE_EINVAL;
    rc = db_exists(s, "SELECT 1 FROM guilds WHERE id = ?1", guild_id);
    if (rc < 0)
        return rc;
    /* ?2 user (0: any), ?3 type (0: any), ?4 bound. after: the oldest ones above it,
     * read upwards and turned around, so every page comes newest first. */
    after = q->before == 0 && q->after != 0;
    if (after)
        st = db_prep(s, "SELECT " AUDIT_COLS " FROM audit_log WHERE guild_id = ?1"
                        " AND (?2 = 0 OR user_id = ?2) AND (?3 = 0 OR action_type = ?3)"
                        " AND id > ?4 ORDER BY id LIMIT ?5");
    else
        st = db_prep(s, "SELECT " AUDIT_COLS " FROM audit_log WHERE guild_id = ?1"
                        " AND (?2 = 0 OR user_id = ?2) AND (?3 = 0 OR action_type = ?3)"
                        " AND (?4 = 0 OR id < ?4) ORDER BY id DESC LIMIT ?5");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)guild_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)q->user_id);
    sqlite3_bind_int(st, 3, q->action_type);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)(after ? q->after : q->before));
    sqlite3_bind_int(st, 5, limit);
    entries = json_array();
    while ((rc = db_step(s, st)) == SQLITE_ROW)
        json_array_append_new(entries, entry_json(st));
    db_reset(st);
    if (rc < 0) {
        json_decref(entries);
        return rc;
    }
    n = json_array_size(entries);
    for (i = 0; after && i < n / 2; i++) {
        v = json_incref(json_array_get(entries, i));
        json_array_set(entries, i, json_array_get(entries, n - 1 - i));
        json_array_set_new(entries, n - 1 - i, v);
    }
    users = json_array();
    seen = json_object();
    json_array_foreach(entries, i, e)
    {
        add_user(s, users, seen, json_object_get(e, "user_id"));
        if (targets_user(json_integer_value(json_object_get(e, "action_type"))))
            add_user(s, users, seen, json_object_get(e, "target_id"));
    }
    json_decref(seen);
    if (out == NULL) {
        json_decref(entries);
        json_decref(users);
        return 0;
    }
    *out = json_pack("{s:o, s:o, s:[], s:[], s:[], s:[], s:[], s:[]}", "audit_log_entries", entries,
                     "users", users, "application_commands", "auto_moderation_rules",
                     "guild_scheduled_events", "integrations", "threads", "webhooks");
    return 0;
}
