/* Reactions: one row per (message, emoji, user). An emoji's identity (the emoji
 * column) is a custom emoji's id, or a unicode emoji's text, so "name:id" with a
 * renamed emoji still matches. A message's reactions array groups the rows by emoji
 * in the order each emoji was first used, with count and "me" for the viewer. */
#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EMOJI_NAME_MAX 64 /* bytes: a unicode emoji with modifiers, or a custom name */
#define REACTION_EMOJI_MAX 20

int store_emoji_parse(const char *text, store_emoji_t *e, char *name_buf, size_t name_size)
{
    const char *colon, *name;
    size_t len;

    if (text == NULL || text[0] == '\0' || e == NULL || name_buf == NULL)
        return STORE_EINVAL;
    memset(e, 0, sizeof(*e));
    name = text;
    if (strncmp(text, "a:", 2) == 0 && strchr(text + 2, ':') != NULL) {
        e->animated = true;
        name = text + 2;
    }
    colon = strrchr(name, ':');
    if (colon != NULL) {
        if (snowflake_parse(colon + 1, &e->id) < 0)
            return STORE_EINVAL;
        len = (size_t)(colon - name);
    } else {
        e->animated = false;
        len = strlen(name);
    }
    if (len >= name_size || len > EMOJI_NAME_MAX || (len == 0 && e->id == 0))
        return STORE_EINVAL;
    memcpy(name_buf, name, len);
    name_buf[len] = '\0';
    if (utf8_len(name_buf) < 0)
        return STORE_EINVAL;
    e->name = name_buf;
    return 0;
}

/* The emoji's identity text into buf. 0 or STORE_EINVAL. */
static int emoji_key(const store_emoji_t *e, char *buf, size_t size)
{
    if (e == NULL)
        return STORE_EINVAL;
    if (e->id != 0) {
        snowflake_str(e->id, buf);
        return 0;
    }
    if (e->name == NULL || e->name[0] == '\0' || strlen(e->name) >= size ||
        strlen(e->name) > EMOJI_NAME_MAX || utf8_len(e->name) < 0 || strchr(e->name, ':') != NULL)
        return STORE_EINVAL;
    snprintf(buf, size, "%s", e->name);
    return 0;
}

static int message_exists(store_t *s, uint64_t channel_id, uint64_t message_id)
{
    return db_exists2(s, "SELECT 1 FROM messages WHERE id = ?1 AND channel_id = ?2", message_id,
                      channel_id);
}

json_t *db_reactions_json(store_t *s, uint64_t message_id, uint64_t viewer)
{
    json_t *a, *r, *emoji, *details;
    sqlite3_stmt *st;

    st = db_prep(s, "SELECT min(emoji_id), min(emoji_name), max(animated), count(*),"
                    " max(user_id = ?2), min(rowid) AS first FROM reactions"
                    " WHERE message_id = ?1 GROUP BY emoji ORDER BY first");
    if (st == NULL)
        return NULL;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)message_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)viewer);
    a = NULL;
    while (db_step(s, st) == SQLITE_ROW) {
        if (a == NULL)
            a = json_array();
        emoji = json_object();
        json_object_set_new(emoji, "id", j_col_id(st, 0));
        json_object_set_new(emoji, "name", j_col_str(st, 1));
        if (sqlite3_column_type(st, 0) != SQLITE_NULL)
            json_object_set_new(emoji, "animated", j_col_bool(st, 2));
        details = json_object();
        json_object_set_new(details, "burst", json_integer(0));
        json_object_set_new(details, "normal", j_col_int(st, 3));
        r = json_object();
        json_object_set_new(r, "count", j_col_int(st, 3));
        json_object_set_new(r, "count_details", details);
        json_object_set_new(r, "me", j_col_bool(st, 4));
        json_object_set_new(r, "me_burst", json_false());
        json_object_set_new(r, "burst_colors", json_array());
        json_object_set_new(r, "emoji", emoji);
        json_array_append_new(a, r);
    }
    db_reset(st);
    return a;
}

int store_reaction_put(store_t *s, uint64_t channel_id, uint64_t message_id, uint64_t user_id,
                       const store_emoji_t *e)
{
    char key[EMOJI_NAME_MAX + 1];
    sqlite3_stmt *st;
    int64_t kinds;
    int rc;

    rc = emoji_key(e, key, sizeof(key));
    if (rc < 0)
        return rc;
    rc = db_begin(s);
    if (rc < 0)
        return rc;
    rc = message_exists(s, channel_id, message_id);
    if (rc < 0)
        goto out;
    /* At most REACTION_EMOJI_MAX different emoji per message; a new one is refused. */
    st = db_prep(s, "SELECT count(DISTINCT emoji), max(emoji = ?2) FROM reactions"
                    " WHERE message_id = ?1");
    if (st == NULL) {
        rc = STORE_EIO;
        goto out;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)message_id);
    db_bind_text(st, 2, key);
    rc = db_step(s, st);
    kinds = 0;
    if (rc == SQLITE_ROW && sqlite3_column_int(st, 1) == 0)
        kinds = sqlite3_column_int64(st, 0);
    db_reset(st);
    if (rc < 0)
        goto out;
    if (kinds >= REACTION_EMOJI_MAX) {
        rc = STORE_ELIMIT;
        goto out;
    }
    st = db_prep(s, "INSERT OR IGNORE INTO reactions (message_id, emoji, user_id, emoji_id,"
                    " emoji_name, animated) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (st == NULL) {
        rc = STORE_EIO;
        goto out;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)message_id);
    db_bind_text(st, 2, key);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)user_id);
    db_bind_id(st, 4, e->id);
    db_bind_text(st, 5, e->name);
    sqlite3_bind_int(st, 6, e->id != 0 && e->animated);
    rc = db_run(s, st); /* an unknown user fails the foreign key: STORE_ENOTFOUND */
    if (rc == 0 && sqlite3_changes(s->db) == 0)
        rc = STORE_UNCHANGED;
out:
    return db_end(s, rc);
}

int store_reaction_delete(store_t *s, uint64_t channel_id, uint64_t message_id, uint64_t user_id,
                          const store_emoji_t *e)
{
    char key[EMOJI_NAME_MAX + 1];
    sqlite3_stmt *st;
    int rc;

    rc = emoji_key(e, key, sizeof(key));
    if (rc < 0)
        return rc;
    /* The channel is checked through the message in the same statement. */
    st = db_prep(s, "DELETE FROM reactions WHERE message_id = ?1 AND emoji = ?2 AND user_id = ?3"
                    " AND EXISTS (SELECT 1 FROM messages WHERE id = ?1 AND channel_id = ?4)");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)message_id);
    db_bind_text(st, 2, key);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)user_id);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)channel_id);
    rc = db_run(s, st);
    if (rc == 0 && sqlite3_changes(s->db) == 0)
        rc = STORE_ENOTFOUND;
    return rc;
}

int store_reaction_users(store_t *s, uint64_t channel_id, uint64_t message_id,
                         const store_emoji_t *e, const store_page_t *pg, json_t **out)
{
    char key[EMOJI_NAME_MAX + 1];
    sqlite3_stmt *st;
    int limit, rc;
    json_t *a;

    limit = pg != NULL && pg->limit != 0 ? pg->limit : 25;
    if (limit < 1 || limit > 100)
        return STORE_EINVAL;
    rc = emoji_key(e, key, sizeof(key));
    if (rc < 0)
        return rc;
    rc = message_exists(s, channel_id, message_id);
    if (rc < 0)
        return rc;
    st = db_prep(s, "SELECT " USER_COLS " FROM reactions r JOIN users u ON u.id = r.user_id"
                    " WHERE r.message_id = ?1 AND r.emoji = ?2 AND r.user_id > ?3"
                    " ORDER BY r.user_id LIMIT ?4");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)message_id);
    db_bind_text(st, 2, key);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)(pg != NULL ? pg->after : 0));
    sqlite3_bind_int(st, 4, limit);
    a = json_array();
    while ((rc = db_step(s, st)) == SQLITE_ROW)
        json_array_append_new(a, j_user(st, 0));
    return db_list_done(st, rc, a, out);
}

int store_reaction_delete_all(store_t *s, uint64_t channel_id, uint64_t message_id,
                              const store_emoji_t *e)
{
    char key[EMOJI_NAME_MAX + 1];
    sqlite3_stmt *st;
    int rc;

    if (e != NULL && (rc = emoji_key(e, key, sizeof(key))) < 0)
        return rc;
    rc = db_begin(s);
    if (rc < 0)
        return rc;
    rc = message_exists(s, channel_id, message_id);
    if (rc < 0)
        goto out;
    if (e == NULL) {
        rc = db_run_id(s, "DELETE FROM reactions WHERE message_id = ?1", message_id);
    } else {
        st = db_prep(s, "DELETE FROM reactions WHERE message_id = ?1 AND emoji = ?2");
        if (st == NULL) {
            rc = STORE_EIO;
            goto out;
        }
        sqlite3_bind_int64(st, 1, (sqlite3_int64)message_id);
        db_bind_text(st, 2, key);
        rc = db_run(s, st);
    }
    if (rc == 0 && sqlite3_changes(s->db) == 0)
        rc = STORE_UNCHANGED;
out:
    return db_end(s, rc);
}
