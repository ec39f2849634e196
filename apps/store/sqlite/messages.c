/* Messages: create (with nonce dedupe and replies), get, list by before/after/around,
 * edit, delete, bulk delete.
 *
 * A message's timestamp is its id's (a snowflake carries its creation time), so
 * only the edit time is stored. Mentions are stored as the id lists the caller
 * parsed and resolved to user objects when read. A list is one indexed range scan
 * of (channel_id, id); each row's author comes from the same query's join. */
#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONCE_MAX 25
#define MESSAGE_TYPE_DEFAULT 0
#define MESSAGE_TYPE_REPLY 19
#define EMBEDS_MAX 10
#define COMPONENTS_MAX 5

#define MSG_COLS                                                                                   \
    "m.id, m.channel_id, m.content, m.type, m.flags, m.tts, m.edited_at, m.mention_everyone, "     \
    "m.mentions, m.mention_roles, m.nonce, m.pinned, m.ref_message_id, m.ref_channel_id, "         \
    "m.ref_guild_id, m.embeds, m.components, " USER_COLS                                           \
    " FROM messages m JOIN users u ON u.id = m.author_id"
#define MSG_SELECT "SELECT " MSG_COLS
/* The same query under another text, for the message a reply points at: the
 * statement cache is keyed by text, and the outer one may still be stepping. */
#define MSG_SELECT_REF "SELECT /* referenced */ " MSG_COLS

/* User objects for a JSON array of id strings (unknown ids are left out). */
static json_t *mentions_json(store_t *s, sqlite3_stmt *st, int col)
{
    json_t *ids, *a, *v, *u;
    uint64_t id;
    size_t i;

    a = json_array();
    ids = j_col_json(st, col, true);
    json_array_foreach(ids, i, v)
    {
        if (p_id_value(v, &id) == 0 && (u = j_user_get(s, id)) != NULL)
            json_array_append_new(a, u);
    }
    json_decref(ids);
    return a;
}

static json_t *message_get_ref(store_t *s, uint64_t id, uint64_t viewer);

/* The message object from an MSG_SELECT row. depth 0 adds referenced_message. */
static json_t *message_json(store_t *s, sqlite3_stmt *st, uint64_t viewer, int depth)
{
    uint64_t id, ref;
    json_t *m, *r;

    id = db_col_id(st, 0);
    m = json_object();
    json_object_set_new(m, "id", j_col_id(st, 0));
    json_object_set_new(m, "channel_id", j_col_id(st, 1));
    json_object_set_new(m, "type", j_col_int(st, 3));
    json_object_set_new(m, "content", j_col_str(st, 2));
    json_object_set_new(m, "author", j_user(st, 17));
    json_object_set_new(m, "timestamp", j_time(snowflake_ms(id)));
    json_object_set_new(m, "edited_timestamp", j_col_time(st, 6));
    json_object_set_new(m, "tts", j_col_bool(st, 5));
    json_object_set_new(m, "mention_everyone", j_col_bool(st, 7));
    json_object_set_new(m, "mentions", mentions_json(s, st, 8));
    json_object_set_new(m, "mention_roles", j_col_json(st, 9, true));
    json_object_set_new(m, "attachments", json_array());
    json_object_set_new(m, "embeds", j_col_json(st, 15, true));
    json_object_set_new(m, "components", j_col_json(st, 16, true));
    json_object_set_new(m, "pinned", j_col_bool(st, 11));
    json_object_set_new(m, "flags", j_col_int(st, 4));
    if (sqlite3_column_type(st, 10) != SQLITE_NULL)
        json_object_set_new(m, "nonce", j_col_str(st, 10));
    if ((r = db_reactions_json(s, id, viewer)) != NULL)
        json_object_set_new(m, "reactions", r);
    ref = db_col_id(st, 12);
    if (ref != 0) {
        r = json_object();
        json_object_set_new(r, "type", json_integer(0));
        json_object_set_new(r, "message_id", j_col_id(st, 12));
        json_object_set_new(r, "channel_id", j_col_id(st, 13));
        if (sqlite3_column_type(st, 14) != SQLITE_NULL)
            json_object_set_new(r, "guild_id", j_col_id(st, 14));
        json_object_set_new(m, "message_reference", r);
        if (depth == 0 && sqlite3_column_int(st, 3) == MESSAGE_TYPE_REPLY) {
            /* null when the message replied to was deleted since, as on Discord */
            r = message_get_ref(s, ref, viewer);
            json_object_set_new(m, "referenced_message", r != NULL ? r : json_null());
        }
    }
    return m;
}

static json_t *message_get_ref(store_t *s, uint64_t id, uint64_t viewer)
{
    sqlite3_stmt *st;
    json_t *m;

    st = db_prep(s, MSG_SELECT_REF " WHERE m.id = ?1");
    if (st == NULL)
        return NULL;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    m = db_step(s, st) == SQLITE_ROW ? message_json(s, st, viewer, 1) : NULL;
    db_reset(st);
    return m;
}

int store_message_get(store_t *s, uint64_t channel_id, uint64_t message_id, uint64_t viewer,
                      json_t **out)
{
    sqlite3_stmt *st;
    json_t *m;
    int rc;

    st = db_prep(s, MSG_SELECT " WHERE m.id = ?1 AND m.channel_id = ?2");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)message_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)channel_id);
    rc = db_step(s, st);
    if (rc != SQLITE_ROW) {
        db_reset(st);
        return rc == SQLITE_DONE ? STORE_ENOTFOUND : rc;
    }
    m = message_json(s, st, viewer, 0);
    db_reset(st);
    if (out != NULL)
        *out = m;
    else
        json_decref(m);
    return 0;
}

/* ---- create ---------------------------------------------------------------------------------- */

static bool json_array_ok(const json_t *v, size_t max)
{
    return v == NULL || (json_is_array(v) && json_array_size(v) <= max);
}

/* Binds an id list as a JSON array of strings, or NULL when empty. */
static void bind_ids(sqlite3_stmt *st, int i, const uint64_t *ids, size_t n)
{
    json_t *a;

    if (n == 0 || ids == NULL) {
        sqlite3_bind_null(st, i);
        return;
    }
    a = j_idarray(ids, n);
    db_bind_json(st, i, a);
    json_decref(a);
}

/* Binds an array as JSON text, or NULL when absent or empty. */
static void bind_array(sqlite3_stmt *st, int i, const json_t *a)
{
    if (a == NULL || json_array_size(a) == 0)
        sqlite3_bind_null(st, i);
    else
        db_bind_json(st, i, a);
}

/* Finds a message of the same author, channel and nonce within the window. */
static int nonce_find(store_t *s, const store_message_new_t *m, uint64_t *id)
{
    sqlite3_stmt *st;
    int64_t found;
    int rc;

    st = db_prep(s, "SELECT id FROM messages WHERE channel_id = ?1 AND author_id = ?2"
                    " AND nonce = ?3 AND id >= ?4 ORDER BY id DESC LIMIT 1");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)m->channel_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)m->author_id);
    db_bind_text(st, 3, m->nonce);
    sqlite3_bind_int64(st, 4,
                       (sqlite3_int64)snowflake_from_ms(db_now_ms() - STORE_NONCE_WINDOW_MS));
    rc = db_one_int(s, st, &found);
    if (rc == 0)
        *id = (uint64_t)found;
    return rc;
}

int store_message_create(store_t *s, const store_message_new_t *m, json_t **out)
{
    uint64_t id, guild_id, ref;
    const char *content;
    sqlite3_stmt *st;
    int type, rc;
    long len;

    if (m == NULL)
        return STORE_EINVAL;
    content = m->content != NULL ? m->content : "";
    len = utf8_len(content);
    if (len < 0 || len > STORE_CONTENT_MAX)
        return STORE_EINVAL;
    if ((m->nonce != NULL && strlen(m->nonce) > NONCE_MAX) ||
        !json_array_ok(m->embeds, EMBEDS_MAX) || !json_array_ok(m->components, COMPONENTS_MAX))
        return STORE_EINVAL;
    id = 0;
    rc = db_begin(s);
    if (rc < 0)
        return rc;
    st = db_prep(s, "SELECT coalesce(guild_id, 0), type FROM channels WHERE id = ?1");
    if (st == NULL) {
        rc = STORE_EIO;
        goto out;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)m->channel_id);
    rc = db_step(s, st);
    guild_id = rc == SQLITE_ROW ? db_col_id(st, 0) : 0;
    type = rc == SQLITE_ROW ? sqlite3_column_int(st, 1) : 0;
    db_reset(st);
    if (rc < 0)
        goto out;
    if (rc == SQLITE_DONE) {
        rc = STORE_ENOTFOUND;
        goto out;
    }
    if (type == STORE_CHANNEL_CATEGORY) {
        rc = STORE_EINVAL;
        goto out;
    }
    if (m->nonce != NULL && m->enforce_nonce) {
        rc = nonce_find(s, m, &id);
        if (rc == 0) {
            rc = STORE_UNCHANGED;
            goto out;
        }
        if (rc != STORE_ENOTFOUND)
            goto out;
    }
    ref = 0;
    if (m->reply_to != 0) {
        rc = db_exists2(s, "SELECT 1 FROM messages WHERE id = ?1 AND channel_id = ?2", m->reply_to,
                        m->channel_id);
        if (rc == 0)
            ref = m->reply_to;
        else if (rc != STORE_ENOTFOUND || !m->reply_optional)
            goto out;
    }
    id = m->id != 0 ? m->id : snowflake_next();
    st = db_prep(s,
                 "INSERT INTO messages (id, channel_id, author_id, content, type, flags, tts,"
                 " mention_everyone, mentions, mention_roles, nonce, ref_message_id,"
                 " ref_channel_id, ref_guild_id, embeds, components)"
                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)");
    if (st == NULL) {
        rc = STORE_EIO;
        goto out;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)m->channel_id);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)m->author_id);
    db_bind_text(st, 4, content);
    sqlite3_bind_int(st, 5, ref != 0 ? MESSAGE_TYPE_REPLY : MESSAGE_TYPE_DEFAULT);
    sqlite3_bind_int64(st, 6, m->flags);
    sqlite3_bind_int(st, 7, m->tts);
    sqlite3_bind_int(st, 8, m->mention_everyone);
    bind_ids(st, 9, m->mentions, m->nmentions);
    bind_ids(st, 10, m->mention_roles, m->nmention_roles);
    db_bind_text(st, 11, m->nonce);
    if (ref != 0) {
        sqlite3_bind_int64(st, 12, (sqlite3_int64)ref);
        sqlite3_bind_int64(st, 13, (sqlite3_int64)m->channel_id);
        db_bind_id(st, 14, guild_id);
    }
    bind_array(st, 15, m->embeds);
    bind_array(st, 16, m->components);
    rc = db_run(s, st); /* an unknown author fails the foreign key: STORE_ENOTFOUND */
    if (rc < 0)
        goto out;
    rc = db_run_id2(s,
                    "UPDATE channels SET last_message_id = ?2 WHERE id = ?1"
                    " AND (last_message_id IS NULL OR last_message_id < ?2)",
                    m->channel_id, id);
out:
    rc = db_end(s, rc);
    if (rc < 0)
        return rc;
    if (out != NULL) {
        int e = store_message_get(s, m->channel_id, id, 0, out);

        if (e < 0)
            return e;
    }
    return rc;
}

/* ---- list ------------------------------------------------------------------------------------ */

/* Appends the rows of st (bound by the caller) to a; reversed rows are inserted at
 * the front, so an ascending scan still gives newest first. */
static int append_rows(store_t *s, sqlite3_stmt *st, uint64_t viewer, json_t *a, bool reverse,
                       size_t at)
{
    int rc;

    while ((rc = db_step(s, st)) == SQLITE_ROW) {
        if (reverse)
            json_array_insert_new(a, at, message_json(s, st, viewer, 0));
        else
            json_array_append_new(a, message_json(s, st, viewer, 0));
    }
    db_reset(st);
    return rc < 0 ? rc : 0;
}

int store_message_list(store_t *s, uint64_t channel_id, const store_page_t *pg, uint64_t viewer,
                       json_t **out)
{
    store_page_t p = {0, 0, 0, 0};
    sqlite3_stmt *st;
    bool own;
    json_t *a;
    int rc;

    if (pg != NULL)
        p = *pg;
    if (p.limit == 0)
        p.limit = 50;
    if (p.limit < 1 || p.limit > 100 || (p.before != 0) + (p.after != 0) + (p.around != 0) > 1)
        return STORE_EINVAL;
    /* The around case reads twice: one read transaction keeps both halves from the
     * same snapshot. */
    own = sqlite3_get_autocommit(s->db) != 0;
    if (own && (rc = db_exec(s, "BEGIN")) < 0)
        return rc;
    a = json_array();
    rc = db_exists(s, "SELECT 1 FROM channels WHERE id = ?1", channel_id);
    if (rc < 0)
        goto out;
    if (p.after != 0 || p.around != 0) {
        /* Ascending from the bound (the oldest messages after it), shown newest first. */
        st = db_prep(s, MSG_SELECT " WHERE m.channel_id = ?1 AND m.id > ?2 ORDER BY m.id LIMIT ?3");
        if (st == NULL) {
            rc = STORE_EIO;
            goto out;
        }
        sqlite3_bind_int64(st, 1, (sqlite3_int64)channel_id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)(p.after != 0 ? p.after : p.around));
        sqlite3_bind_int(st, 3, p.after != 0 ? p.limit : p.limit / 2);
        rc = append_rows(s, st, viewer, a, true, 0);
        if (rc < 0 || p.after != 0)
            goto out;
    }
    if (p.around != 0) {
        st = db_prep(s, MSG_SELECT " WHERE m.channel_id = ?1 AND m.id <= ?2"
                                   " ORDER BY m.id DESC LIMIT ?3");
        if (st == NULL) {
            rc = STORE_EIO;
            goto out;
        }
        sqlite3_bind_int64(st, 2, (sqlite3_int64)p.around);
        sqlite3_bind_int(st, 3, p.limit - p.limit / 2);
    } else {
        st = db_prep(s, MSG_SELECT " WHERE m.channel_id = ?1 AND m.id < ?2"
                                   " ORDER BY m.id DESC LIMIT ?3");
        if (st == NULL) {
            rc = STORE_EIO;
            goto out;
        }
        sqlite3_bind_int64(st, 2, (sqlite3_int64)(p.before != 0 ? p.before : UINT64_MAX >> 1));
        sqlite3_bind_int(st, 3, p.limit);
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)channel_id);
    rc = append_rows(s, st, viewer, a, false, 0);
out:
    if (own)
        db_exec(s, "COMMIT");
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

/* ---- edit, delete ---------------------------------------------------------------------------- */

int store_message_edit(store_t *s, uint64_t channel_id, uint64_t message_id,
                       const store_message_edit_t *e, uint64_t viewer, json_t **out)
{
    sqlite3_stmt *st;
    long len;
    int rc;

    if (e == NULL)
        return STORE_EINVAL;
    if (e->content != NULL) {
        len = utf8_len(e->content);
        if (len < 0 || len > STORE_CONTENT_MAX)
            return STORE_EINVAL;
    }
    if (!json_array_ok(e->embeds, EMBEDS_MAX) || !json_array_ok(e->components, COMPONENTS_MAX))
        return STORE_EINVAL;
    st = db_prep(s, "UPDATE messages SET content = coalesce(?3, content),"
                    " embeds = iif(?4, ?5, embeds), components = iif(?6, ?7, components),"
                    " flags = iif(?8 >= 0, ?8, flags), mentions = iif(?9, ?10, mentions),"
                    " mention_roles = iif(?9, ?11, mention_roles),"
                    " mention_everyone = iif(?9, ?12, mention_everyone), edited_at = ?13"
                    " WHERE id = ?1 AND channel_id = ?2");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)message_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)channel_id);
    db_bind_text(st, 3, e->content);
    sqlite3_bind_int(st, 4, e->embeds != NULL);
    bind_array(st, 5, e->embeds);
    sqlite3_bind_int(st, 6, e->components != NULL);
    bind_array(st, 7, e->components);
    sqlite3_bind_int64(st, 8, e->flags);
    sqlite3_bind_int(st, 9, e->set_mentions);
    bind_ids(st, 10, e->mentions, e->nmentions);
    bind_ids(st, 11, e->mention_roles, e->nmention_roles);
    sqlite3_bind_int(st, 12, e->mention_everyone);
    sqlite3_bind_int64(st, 13, db_now_ms());
    rc = db_run(s, st);
    if (rc < 0)
        return rc;
    if (sqlite3_changes(s->db) == 0)
        return STORE_ENOTFOUND;
    return store_message_get(s, channel_id, message_id, viewer, out);
}

int store_message_delete(store_t *s, uint64_t channel_id, uint64_t message_id)
{
    int rc;

    rc = db_run_id2(s, "DELETE FROM messages WHERE id = ?1 AND channel_id = ?2", message_id,
                    channel_id);
    if (rc == 0 && sqlite3_changes(s->db) == 0)
        rc = STORE_ENOTFOUND;
    return rc;
}

int store_message_bulk_delete(store_t *s, uint64_t channel_id, const uint64_t *ids, size_t n,
                              size_t *deleted)
{
    size_t i, count;
    int rc;

    if (n == 0 || n > 100 || ids == NULL)
        return STORE_EINVAL;
    rc = db_begin(s);
    if (rc < 0)
        return rc;
    count = 0;
    for (i = 0; i < n && rc == 0; i++) {
        rc = db_run_id2(s, "DELETE FROM messages WHERE id = ?1 AND channel_id = ?2", ids[i],
                        channel_id);
        if (rc == 0)
            count += (size_t)sqlite3_changes(s->db);
    }
    rc = db_end(s, rc);
    if (rc == 0 && deleted != NULL)
        *deleted = count;
    return rc;
}

int store_message_author(store_t *s, uint64_t channel_id, uint64_t message_id, uint64_t *author_id)
{
    sqlite3_stmt *st;
    int64_t author;
    int rc;

    st = db_prep(s, "SELECT author_id FROM messages WHERE id = ?1 AND channel_id = ?2");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)message_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)channel_id);
    rc = db_one_int(s, st, &author);
    if (rc == 0 && author_id != NULL)
        *author_id = (uint64_t)author;
    return rc;
}
