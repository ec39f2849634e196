/* Auto-moderation rules (apps/store/automod.h): one row per rule, its lists and
 * objects as JSON text. The rules are validated by apps/automod before they get here;
 * this file checks their form only, so a row always reads back as a rule object. */
#include "db.h"

#include "../automod.h"

#define RULE_NAME_MAX 100

#define RULE_SELECT                                                                                \
    "SELECT id, guild_id, name, creator_id, event_type, trigger_type, trigger_metadata, "          \
    "actions, enabled, exempt_roles, exempt_channels FROM automod_rules"

/* The rule object from a RULE_SELECT row. */
static json_t *rule_json(sqlite3_stmt *st)
{
    json_t *r, *meta;

    r = json_object();
    json_object_set_new(r, "id", j_col_id(st, 0));
    json_object_set_new(r, "guild_id", j_col_id(st, 1));
    json_object_set_new(r, "name", j_col_str(st, 2));
    json_object_set_new(r, "creator_id", j_col_id(st, 3));
    json_object_set_new(r, "event_type", j_col_int(st, 4));
    json_object_set_new(r, "trigger_type", j_col_int(st, 5));
    meta = j_col_json(st, 6, false);
    if (!json_is_object(meta)) {
        json_decref(meta);
        meta = json_object();
    }
    json_object_set_new(r, "trigger_metadata", meta);
    json_object_set_new(r, "actions", j_col_json(st, 7, true));
    json_object_set_new(r, "enabled", j_col_bool(st, 8));
    json_object_set_new(r, "exempt_roles", j_col_json(st, 9, true));
    json_object_set_new(r, "exempt_channels", j_col_json(st, 10, true));
    return r;
}

/* A rule's fields, checked for form. The JSON ones are NULL when absent. */
typedef struct rule_row {
    const char *name;
    int64_t event_type;
    int64_t trigger_type;
    const json_t *trigger_metadata;
    const json_t *actions;
    bool enabled;
    const json_t *exempt_roles;
    const json_t *exempt_channels;
} rule_row_t;

/* A present, non-null member of o, or NULL. */
static const json_t *member(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);

    return json_is_null(v) ? NULL : v;
}

/* Reads rule into *row: 0, or STORE_EINVAL. actions is required; enabled, the lists
 * and trigger_metadata may be absent (false, empty). */
static int rule_row(const json_t *rule, rule_row_t *row)
{
    const json_t *enabled;

    if (!json_is_object(rule) || p_str(rule, "name", 1, RULE_NAME_MAX, false, &row->name) != 1 ||
        p_int(rule, "event_type", 1, 255, &row->event_type) != 1 ||
        p_int(rule, "trigger_type", 1, 255, &row->trigger_type) != 1)
        return STORE_EINVAL;
    row->trigger_metadata = member(rule, "trigger_metadata");
    row->actions = member(rule, "actions");
    row->exempt_roles = member(rule, "exempt_roles");
    row->exempt_channels = member(rule, "exempt_channels");
    enabled = member(rule, "enabled");
    row->enabled = json_is_true(enabled);
    if ((row->trigger_metadata != NULL && !json_is_object(row->trigger_metadata)) ||
        !json_is_array(row->actions) || (enabled != NULL && !json_is_boolean(enabled)) ||
        (row->exempt_roles != NULL && !json_is_array(row->exempt_roles)) ||
        (row->exempt_channels != NULL && !json_is_array(row->exempt_channels)))
        return STORE_EINVAL;
    return 0;
}

/* Binds v as JSON text, or the text dflt when v is NULL. */
static void bind_json_or(sqlite3_stmt *st, int i, const json_t *v, const char *dflt)
{
    if (v != NULL)
        db_bind_json(st, i, v);
    else
        db_bind_text(st, i, dflt);
}

/* Reads one rule of guild_id into *out (may be NULL): 0 or STORE_ENOTFOUND. */
static int rule_read(store_t *s, uint64_t guild_id, uint64_t rule_id, json_t **out)
{
    sqlite3_stmt *st;
    json_t *r;
    int rc;

    st = db_prep(s, RULE_SELECT " WHERE id = ?1 AND guild_id = ?2");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)rule_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)guild_id);
    rc = db_step(s, st);
    if (rc != SQLITE_ROW) {
        db_reset(st);
        return rc == SQLITE_DONE ? STORE_ENOTFOUND : rc;
    }
    r = out != NULL ? rule_json(st) : NULL;
    db_reset(st);
    if (out != NULL)
        *out = r;
    return 0;
}

int store_automod_rule_create(store_t *s, uint64_t guild_id, uint64_t creator_id,
                              const json_t *rule, json_t **out)
{
    sqlite3_stmt *st;
    rule_row_t row;
    uint64_t id = 0;
    int rc;

    if (rule_row(rule, &row) < 0 || creator_id == 0)
        return STORE_EINVAL;
    rc = db_begin(s);
    if (rc < 0)
        return rc;
    rc = db_exists(s, "SELECT 1 FROM guilds WHERE id = ?1", guild_id);
    if (rc < 0)
        goto out;
    id = snowflake_next();
    st = db_prep(s, "INSERT INTO automod_rules (id, guild_id, name, creator_id, event_type,"
                    " trigger_type, trigger_metadata, actions, enabled, exempt_roles,"
                    " exempt_channels) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
    if (st == NULL) {
        rc = STORE_EIO;
        goto out;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)guild_id);
    db_bind_text(st, 3, row.name);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)creator_id);
    sqlite3_bind_int64(st, 5, row.event_type);
    sqlite3_bind_int64(st, 6, row.trigger_type);
    bind_json_or(st, 7, row.trigger_metadata, "{}");
    db_bind_json(st, 8, row.actions);
    sqlite3_bind_int(st, 9, row.enabled);
    bind_json_or(st, 10, row.exempt_roles, "[]");
    bind_json_or(st, 11, row.exempt_channels, "[]");
    rc = db_run(s, st);
out:
    rc = db_end(s, rc);
    if (rc < 0)
        return rc;
    return rule_read(s, guild_id, id, out);
}

int store_automod_rule_get(store_t *s, uint64_t guild_id, uint64_t rule_id, json_t **out)
{
    return rule_read(s, guild_id, rule_id, out);
}

int store_automod_rule_list(store_t *s, uint64_t guild_id, json_t **out)
{
    sqlite3_stmt *st;
    json_t *a;
    int rc;

    rc = db_exists(s, "SELECT 1 FROM guilds WHERE id = ?1", guild_id);
    if (rc < 0)
        return rc;
    st = db_prep(s, RULE_SELECT " WHERE guild_id = ?1 ORDER BY id");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)guild_id);
    a = json_array();
    while ((rc = db_step(s, st)) == SQLITE_ROW)
        json_array_append_new(a, rule_json(st));
    return db_list_done(st, rc, a, out);
}

int store_automod_rule_update(store_t *s, uint64_t guild_id, uint64_t rule_id, const json_t *rule,
                              json_t **out)
{
    sqlite3_stmt *st;
    rule_row_t row;
    int rc;

    if (rule_row(rule, &row) < 0)
        return STORE_EINVAL;
    st = db_prep(s, "UPDATE automod_rules SET name = ?3, event_type = ?4, trigger_metadata = ?5,"
                    " actions = ?6, enabled = ?7, exempt_roles = ?8, exempt_channels = ?9"
                    " WHERE id = ?1 AND guild_id = ?2");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)rule_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)guild_id);
    db_bind_text(st, 3, row.name);
    sqlite3_bind_int64(st, 4, row.event_type);
    bind_json_or(st, 5, row.trigger_metadata, "{}");
    db_bind_json(st, 6, row.actions);
    sqlite3_bind_int(st, 7, row.enabled);
    bind_json_or(st, 8, row.exempt_roles, "[]");
    bind_json_or(st, 9, row.exempt_channels, "[]");
    rc = db_run(s, st);
    if (rc < 0)
        return rc;
    if (sqlite3_changes(s->db) == 0)
        return STORE_ENOTFOUND;
    return rule_read(s, guild_id, rule_id, out);
}

int store_automod_rule_delete(store_t *s, uint64_t guild_id, uint64_t rule_id, json_t **out)
{
    json_t *r = NULL;
    int rc;

    rc = db_begin(s);
    if (rc < 0)
        return rc;
    rc = rule_read(s, guild_id, rule_id, &r);
    if (rc == 0)
        rc = db_run_id2(s, "DELETE FROM automod_rules WHERE id = ?1 AND guild_id = ?2", rule_id,
                        guild_id);
    rc = db_end(s, rc);
    if (rc < 0) {
        json_decref(r);
        return rc;
    }
    if (out != NULL)
        *out = r;
    else
        json_decref(r);
    return 0;
}
