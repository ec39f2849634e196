/* Bans (apps/store/moderation.h) and the alert message of auto-moderation.
 *
 * A ban is one row per (guild, user). Banning is one transaction: the row, the end of
 * the membership (members.c's store_member_remove, which refuses the owner), and the
 * user's recent messages in the guild's channels: the deleted ids are listed first, by
 * channel, so the hub can tell the channels' sessions which messages went. */
#include "db.h"

#include "../moderation.h"

#define BAN_SELECT "SELECT b.reason, " USER_COLS " FROM bans b JOIN users u ON u.id = b.user_id"

static json_t *ban_json(sqlite3_stmt *st)
{
    return json_pack("{s:o, s:o}", "reason", j_col_str(st, 0), "user", j_user(st, 1));
}

/* A reason: NULL, or valid UTF-8 of at most STORE_REASON_MAX characters. */
static bool reason_ok(const char *reason)
{
    long n;

    if (reason == NULL)
        return true;
    n = utf8_len(reason);
    return n >= 0 && n <= STORE_REASON_MAX;
}

/* The user's messages in the guild's channels with ids from since on, into deleted
 * ({"<channel>": [ids]}), then deleted. */
static int delete_recent(store_t *s, uint64_t guild_id, uint64_t user_id, uint64_t since,
                         json_t *deleted)
{
    sqlite3_stmt *st;
    json_t *list;
    char key[21];
    int rc;

    st = db_prep(s, "SELECT m.id, m.channel_id FROM messages m JOIN channels c"
                    " ON c.id = m.channel_id WHERE c.guild_id = ?1 AND m.author_id = ?2"
                    " AND m.id >= ?3 ORDER BY m.id");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)guild_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)user_id);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)since);
    while ((rc = db_step(s, st)) == SQLITE_ROW) {
        snowflake_str(db_col_id(st, 1), key);
        list = json_object_get(deleted, key);
        if (list == NULL) {
            list = json_array();
            json_object_set_new(deleted, key, list);
        }
        json_array_append_new(list, j_id(db_col_id(st, 0)));
    }
    db_reset(st);
    if (rc < 0 || json_object_size(deleted) == 0)
        return rc < 0 ? rc : 0;
    st = db_prep(s, "DELETE FROM messages WHERE author_id = ?2 AND id >= ?3 AND channel_id IN"
                    " (SELECT id FROM channels WHERE guild_id = ?1)");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)guild_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)user_id);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)since);
    return db_run(s, st);
}

int store_ban_add(store_t *s, const store_ban_new_t *b, json_t **out)
{
    sqlite3_stmt *st;
    json_t *deleted = NULL;
    int64_t now;
    bool removed = false;
    int rc, fresh = 0;

    if (b == NULL || !reason_ok(b->reason) || b->delete_message_seconds < 0 ||
        b->delete_message_seconds > STORE_BAN_DELETE_MAX)
        return STORE_EINVAL;
    now = b->now_ms > 0 ? b->now_ms : db_now_ms();
    rc = db_begin(s);
    if (rc < 0)
        return rc;
    rc = db_exists(s, "SELECT 1 FROM guilds WHERE id = ?1", b->guild_id);
    if (rc == 0)
        rc = db_exists(s, "SELECT 1 FROM users WHERE id = ?1", b->user_id);
    if (rc == 0 && db_exists2(s, "SELECT 1 FROM guilds WHERE id = ?1 AND owner_id = ?2",
                              b->guild_id, b->user_id) == 0)
        rc = STORE_EPERM;
    if (rc < 0)
        goto out;
    rc = db_exists2(s, "SELECT 1 FROM bans WHERE guild_id = ?1 AND user_id = ?2", b->guild_id,
                    b->user_id);
    if (rc == STORE_ENOTFOUND) {
        fresh = 1;
        st = db_prep(s, "INSERT INTO bans (guild_id, user_id, reason, moderator_id, created_at)"
                        " VALUES (?1, ?2, ?3, ?4, ?5)");
        if (st == NULL) {
            rc = STORE_EIO;
            goto out;
        }
        sqlite3_bind_int64(st, 1, (sqlite3_int64)b->guild_id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)b->user_id);
        db_bind_text(st, 3, b->reason);
        db_bind_id(st, 4, b->moderator_id);
        sqlite3_bind_int64(st, 5, now);
        rc = db_run(s, st);
    }
    if (rc < 0)
        goto out;
    rc = store_member_remove(s, b->guild_id, b->user_id);
    removed = rc == 0;
    if (rc == STORE_ENOTFOUND)
        rc = 0; /* not a member (any more): a ban stands alone */
    if (rc < 0)
        goto out;
    deleted = json_object();
    if (b->delete_message_seconds > 0)
        rc = delete_recent(s, b->guild_id, b->user_id,
                           snowflake_from_ms(now - b->delete_message_seconds * 1000), deleted);
out:
    rc = db_end(s, rc);
    if (rc < 0) {
        json_decref(deleted);
        return rc;
    }
    if (out != NULL)
        *out = json_pack("{s:b, s:o}", "member_removed", removed, "deleted", deleted);
    else
        json_decref(deleted);
    return fresh ? 0 : STORE_UNCHANGED;
}

int store_ban_remove(store_t *s, uint64_t guild_id, uint64_t user_id)
{
    int rc;

    rc = db_run_id2(s, "DELETE FROM bans WHERE guild_id = ?1 AND user_id = ?2", guild_id, user_id);
    if (rc == 0 && sqlite3_changes(s->db) == 0)
        rc = STORE_ENOTFOUND;
    return rc;
}

int store_ban_check(store_t *s, uint64_t guild_id, uint64_t user_id)
{
    return db_exists2(s, "SELECT 1 FROM bans WHERE guild_id = ?1 AND user_id = ?2", guild_id,
                      user_id);
}

int store_ban_get(store_t *s, uint64_t guild_id, uint64_t user_id, json_t **out)
{
    sqlite3_stmt *st;
    json_t *ban;
    int rc;

    st = db_prep(s, BAN_SELECT " WHERE b.guild_id = ?1 AND b.user_id = ?2");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)guild_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)user_id);
    rc = db_step(s, st);
    if (rc != SQLITE_ROW) {
        db_reset(st);
        return rc == SQLITE_DONE ? STORE_ENOTFOUND : rc;
    }
    ban = ban_json(st);
    db_reset(st);
    if (out != NULL)
        *out = ban;
    else
        json_decref(ban);
    return 0;
}

int store_ban_list(store_t *s, uint64_t guild_id, const store_page_t *pg, json_t **out)
{
    static const store_page_t none = {0};
    sqlite3_stmt *st;
    json_t *a, *v;
    size_t i, n;
    int limit, rc;

    if (pg == NULL)
        pg = &none;
    limit = pg->limit == 0 ? 1000 : pg->limit;
    if (limit < 1 || limit > 1000)
        return STORE_EINVAL;
    rc = db_exists(s, "SELECT 1 FROM guilds WHERE id = ?1", guild_id);
    if (rc < 0)
        return rc;
    /* before: the highest ids below it, so read downwards and turn the page around. */
    if (pg->before != 0)
        st = db_prep(s, BAN_SELECT " WHERE b.guild_id = ?1 AND b.user_id < ?2"
                                   " ORDER BY b.user_id DESC LIMIT ?3");
    else
        st = db_prep(s, BAN_SELECT " WHERE b.guild_id = ?1 AND b.user_id > ?2"
                                   " ORDER BY b.user_id LIMIT ?3");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)guild_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)(pg->before != 0 ? pg->before : pg->after));
    sqlite3_bind_int(st, 3, limit);
    a = json_array();
    while ((rc = db_step(s, st)) == SQLITE_ROW)
        json_array_append_new(a, ban_json(st));
    db_reset(st);
    if (rc < 0) {
        json_decref(a);
        return rc;
    }
    if (pg->before != 0) {
        n = json_array_size(a);
        for (i = 0; i < n / 2; i++) {
            v = json_incref(json_array_get(a, i));
            json_array_set(a, i, json_array_get(a, n - 1 - i));
            json_array_set_new(a, n - 1 - i, v);
        }
    }
    if (out != NULL)
        *out = a;
    else
        json_decref(a);
    return 0;
}

/* ---- auto-moderation alerts
 * ------------------------------------------------------------------------ */

int store_automod_alert_create(store_t *s, const store_message_new_t *m, json_t **out)
{
    json_t *msg = NULL;
    uint64_t id;
    int rc;

    rc = db_begin(s);
    if (rc < 0)
        return rc;
    rc = store_message_create(s, m, &msg);
    if (rc == 0) {
        id = 0;
        snowflake_parse(json_string_value(json_object_get(msg, "id")), &id);
        rc = db_run_id(s, "UPDATE messages SET type = 24 WHERE id = ?1", id);
    }
    rc = db_end(s, rc);
    if (rc < 0) {
        json_decref(msg);
        return rc;
    }
    json_object_set_new(msg, "type", json_integer(24));
    if (out != NULL)
        *out = msg;
    else
        json_decref(msg);
    return 0;
}
