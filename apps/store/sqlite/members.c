/* Guild members and their roles.
 *
 * A member's roles live in member_roles (one row per role, @everyone implied and
 * never stored); a member object lists them from one correlated group_concat, so a
 * member list is one query however many roles there are. */
#include "db.h"

#include <stdio.h>
#include <string.h>

#define MEMBER_SELECT                                                                              \
    "SELECT m.user_id, m.nick, m.avatar, m.joined_at, m.deaf, m.mute, m.flags, "                   \
    "m.communication_disabled_until, (SELECT group_concat(mr.role_id) FROM member_roles mr "       \
    "WHERE mr.guild_id = m.guild_id AND mr.user_id = m.user_id), " USER_COLS                       \
    " FROM members m JOIN users u ON u.id = m.user_id"

static json_t *member_json(sqlite3_stmt *st)
{
    json_t *m;

    m = json_object();
    json_object_set_new(m, "user", j_user(st, 9));
    json_object_set_new(m, "nick", j_col_str(st, 1));
    json_object_set_new(m, "avatar", j_col_str(st, 2));
    json_object_set_new(m, "banner", json_null());
    json_object_set_new(m, "roles", j_col_idlist(st, 8));
    json_object_set_new(m, "joined_at", j_col_time(st, 3));
    json_object_set_new(m, "premium_since", json_null());
    json_object_set_new(m, "deaf", j_col_bool(st, 4));
    json_object_set_new(m, "mute", j_col_bool(st, 5));
    json_object_set_new(m, "flags", j_col_int(st, 6));
    json_object_set_new(m, "pending", json_false());
    json_object_set_new(m, "communication_disabled_until", j_col_time(st, 7));
    return m;
}

int db_member_insert(store_t *s, uint64_t guild_id, uint64_t user_id, int64_t joined_at)
{
    sqlite3_stmt *st;

    st = db_prep(s, "INSERT INTO members (guild_id, user_id, joined_at) VALUES (?1, ?2, ?3)");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)guild_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)user_id);
    sqlite3_bind_int64(st, 3, joined_at);
    return db_run(s, st);
}

json_t *db_member_json(store_t *s, uint64_t guild_id, uint64_t user_id)
{
    sqlite3_stmt *st;
    json_t *m;

    st = db_prep(s, MEMBER_SELECT " WHERE m.guild_id = ?1 AND m.user_id = ?2");
    if (st == NULL)
        return NULL;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)guild_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)user_id);
    m = db_step(s, st) == SQLITE_ROW ? member_json(st) : NULL;
    db_reset(st);
    return m;
}

/* Members of a guild with user id above after, by user id, at most limit (-1: all). */
static int members_page(store_t *s, uint64_t guild_id, uint64_t after, int limit, json_t **out)
{
    sqlite3_stmt *st;
    json_t *a;
    int rc;

    st = db_prep(s, MEMBER_SELECT " WHERE m.guild_id = ?1 AND m.user_id > ?2"
                                  " ORDER BY m.user_id LIMIT ?3");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)guild_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)after);
    sqlite3_bind_int(st, 3, limit);
    a = json_array();
    while ((rc = db_step(s, st)) == SQLITE_ROW)
        json_array_append_new(a, member_json(st));
    return db_list_done(st, rc, a, out);
}

int db_members_all(store_t *s, uint64_t guild_id, json_t **out)
{
    return members_page(s, guild_id, 0, -1, out);
}

int store_member_check(store_t *s, uint64_t guild_id, uint64_t user_id)
{
    return db_exists2(s, "SELECT 1 FROM members WHERE guild_id = ?1 AND user_id = ?2", guild_id,
                      user_id);
}

int store_member_add(store_t *s, uint64_t guild_id, uint64_t user_id, json_t **out)
{
    int rc;

    rc = db_begin(s);
    if (rc < 0)
        return rc;
    rc = db_exists(s, "SELECT 1 FROM guilds WHERE id = ?1", guild_id);
    if (rc == 0)
        rc = db_exists(s, "SELECT 1 FROM users WHERE id = ?1", user_id);
    if (rc == 0) {
        rc = db_member_insert(s, guild_id, user_id, db_now_ms());
        if (rc == STORE_EEXIST)
            rc = STORE_UNCHANGED;
    }
    rc = db_end(s, rc);
    if (rc < 0)
        return rc;
    if (out != NULL && (*out = db_member_json(s, guild_id, user_id)) == NULL)
        return STORE_ENOTFOUND; /* removed meanwhile by another thread */
    return rc;
}

int store_member_remove(store_t *s, uint64_t guild_id, uint64_t user_id)
{
    int rc;

    rc = db_begin(s);
    if (rc < 0)
        return rc;
    rc = db_exists2(s, "SELECT 1 FROM guilds WHERE id = ?1 AND owner_id = ?2", guild_id, user_id);
    if (rc == 0) {
        rc = STORE_EPERM; /* the owner must transfer the guild or delete it */
    } else if (rc == STORE_ENOTFOUND) {
        rc = db_run_id2(s, "DELETE FROM members WHERE guild_id = ?1 AND user_id = ?2", guild_id,
                        user_id);
        if (rc == 0 && sqlite3_changes(s->db) == 0)
            rc = STORE_ENOTFOUND;
        /* A bot's managed role leaves with it, as on Discord (not left behind unusable). */
        if (rc == 0)
            rc = db_role_delete_managed(s, guild_id, user_id);
    }
    return db_end(s, rc);
}

int store_member_get(store_t *s, uint64_t guild_id, uint64_t user_id, json_t **out)
{
    json_t *m;

    m = db_member_json(s, guild_id, user_id);
    if (m == NULL)
        return STORE_ENOTFOUND;
    if (out != NULL)
        *out = m;
    else
        json_decref(m);
    return 0;
}

int store_member_list(store_t *s, uint64_t guild_id, const store_page_t *pg, json_t **out)
{
    int limit, rc;

    limit = pg != NULL && pg->limit != 0 ? pg->limit : 1; /* Discord's default */
    if (limit < 1 || limit > 1000)
        return STORE_EINVAL;
    rc = db_exists(s, "SELECT 1 FROM guilds WHERE id = ?1", guild_id);
    if (rc < 0)
        return rc;
    return members_page(s, guild_id, pg != NULL ? pg->after : 0, limit, out);
}

/* Checks that role_id is a role of the guild other than @everyone. */
static int role_ok(store_t *s, uint64_t guild_id, uint64_t role_id)
{
    if (role_id == guild_id)
        return STORE_EINVAL;
    return db_exists2(s, "SELECT 1 FROM roles WHERE id = ?1 AND guild_id = ?2", role_id, guild_id);
}

static int role_insert(store_t *s, uint64_t guild_id, uint64_t user_id, uint64_t role_id)
{
    sqlite3_stmt *st;

    st = db_prep(s, "INSERT OR IGNORE INTO member_roles (guild_id, user_id, role_id)"
                    " VALUES (?1, ?2, ?3)");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)guild_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)user_id);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)role_id);
    return db_run(s, st);
}

int store_member_modify(store_t *s, uint64_t guild_id, uint64_t user_id, const json_t *params,
                        json_t **out)
{
    static const field_t fields[] = {
        {"nick", "nick", F_STR, 1, 32, true},
        {"mute", "mute", F_BOOL, 0, 0, false},
        {"deaf", "deaf", F_BOOL, 0, 0, false},
        {"communication_disabled_until", "communication_disabled_until", F_TIME, 0, 0, true},
    };
    json_t *roles, *r;
    uint64_t rid;
    size_t i;
    int rc;

    if (params != NULL && !json_is_object(params))
        return STORE_EINVAL;
    roles = params != NULL ? json_object_get(params, "roles") : NULL;
    if (roles != NULL && !json_is_array(roles))
        return STORE_EINVAL;
    rc = db_begin(s);
    if (rc < 0)
        return rc;
    rc = store_member_check(s, guild_id, user_id);
    if (rc == 0)
        rc = db_apply(s, "members", "guild_id = ?1 AND user_id = ?2", guild_id, user_id, fields,
                      sizeof(fields) / sizeof(fields[0]), params);
    if (rc == 0 && roles != NULL) {
        rc = db_run_id2(s, "DELETE FROM member_roles WHERE guild_id = ?1 AND user_id = ?2",
                        guild_id, user_id);
        json_array_foreach(roles, i, r)
        {
            if (rc < 0)
                break;
            rc = p_id_value(r, &rid) == 0 ? role_ok(s, guild_id, rid) : STORE_EINVAL;
            if (rc == 0)
                rc = role_insert(s, guild_id, user_id, rid);
        }
    }
    rc = db_end(s, rc);
    if (rc < 0)
        return rc;
    return store_member_get(s, guild_id, user_id, out);
}

int store_member_role_add(store_t *s, uint64_t guild_id, uint64_t user_id, uint64_t role_id)
{
    int rc;

    rc = db_begin(s);
    if (rc < 0)
        return rc;
    rc = store_member_check(s, guild_id, user_id);
    if (rc == 0)
        rc = role_ok(s, guild_id, role_id);
    if (rc == 0) {
        rc = role_insert(s, guild_id, user_id, role_id);
        if (rc == 0 && sqlite3_changes(s->db) == 0)
            rc = STORE_UNCHANGED;
    }
    return db_end(s, rc);
}

int store_member_role_remove(store_t *s, uint64_t guild_id, uint64_t user_id, uint64_t role_id)
{
    sqlite3_stmt *st;
    int rc;

    rc = db_begin(s);
    if (rc < 0)
        return rc;
    rc = store_member_check(s, guild_id, user_id);
    if (rc == 0)
        rc = role_ok(s, guild_id, role_id);
    if (rc == 0) {
        st = db_prep(s, "DELETE FROM member_roles WHERE guild_id = ?1 AND user_id = ?2"
                        " AND role_id = ?3");
        if (st == NULL) {
            rc = STORE_EIO;
        } else {
            sqlite3_bind_int64(st, 1, (sqlite3_int64)guild_id);
            sqlite3_bind_int64(st, 2, (sqlite3_int64)user_id);
            sqlite3_bind_int64(st, 3, (sqlite3_int64)role_id);
            rc = db_run(s, st);
            if (rc == 0 && sqlite3_changes(s->db) == 0)
                rc = STORE_UNCHANGED;
        }
    }
    return db_end(s, rc);
}
