/* Relationships (apps/store/social.h): friends, friend requests and blocks.
 *
 * Each change reads both rows of the pair and writes the new ones inside one write
 * transaction (db_begin takes the write lock at once), so two requests racing on the
 * same pair see each other's outcome, never half of it; the change's before and after
 * go back to the caller, who sends the events. */
#include "db.h"

#include "../social.h"

#include <stdlib.h>

#define REL_SELECT                                                                                 \
    "SELECT r.other_id, r.type, r.nickname, r.since, " USER_COLS " FROM relationships r"           \
    " JOIN users u ON u.id = r.other_id"

static json_t *rel_json(sqlite3_stmt *st)
{
    json_t *r = json_object();

    json_object_set_new(r, "id", j_col_id(st, 0));
    json_object_set_new(r, "type", json_integer(sqlite3_column_int64(st, 1)));
    json_object_set_new(r, "nickname", j_col_str(st, 2));
    json_object_set_new(r, "user", j_user(st, 4));
    json_object_set_new(r, "since", j_col_time(st, 3));
    return r;
}

/* The type of a's row about b into *type (STORE_REL_NONE if none). 0 or STORE_E*. */
static int rel_type(store_t *s, uint64_t a, uint64_t b, int *type)
{
    sqlite3_stmt *st;
    int64_t v = STORE_REL_NONE;
    int rc;

    st = db_prep(s, "SELECT type FROM relationships WHERE user_id = ?1 AND other_id = ?2");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)a);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)b);
    rc = db_one_int(s, st, &v);
    if (rc == STORE_ENOTFOUND)
        rc = 0;
    *type = rc == 0 ? (int)v : STORE_REL_NONE;
    return rc;
}

/* Sets a's row about b to type, since now (a row that changes type loses its nickname,
 * which only friends have). */
static int rel_set(store_t *s, uint64_t a, uint64_t b, int type, int64_t now)
{
    sqlite3_stmt *st;

    st = db_prep(s, "INSERT INTO relationships (user_id, other_id, type, since) VALUES (?1, ?2,"
                    " ?3, ?4) ON CONFLICT (user_id, other_id) DO UPDATE SET type = excluded.type,"
                    " since = excluded.since, nickname = NULL");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)a);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)b);
    sqlite3_bind_int(st, 3, type);
    sqlite3_bind_int64(st, 4, now);
    return db_run(s, st);
}

static int rel_del(store_t *s, uint64_t a, uint64_t b)
{
    return db_run_id2(s, "DELETE FROM relationships WHERE user_id = ?1 AND other_id = ?2", a, b);
}

/* Whether id is a user (0) and a bot (*bot). 0, STORE_ENOTFOUND or STORE_E*. */
static int user_kind(store_t *s, uint64_t id, bool *bot)
{
    sqlite3_stmt *st;
    int64_t v = 0;
    int rc;

    st = db_prep(s, "SELECT bot FROM users WHERE id = ?1");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    rc = db_one_int(s, st, &v);
    *bot = v != 0;
    return rc;
}

static int friend_count(store_t *s, uint64_t user, int64_t *n)
{
    sqlite3_stmt *st;

    st = db_prep(s, "SELECT count(*) FROM relationships WHERE user_id = ?1 AND type = 1");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)user);
    return db_one_int(s, st, n);
}

/* Reads both rows of the pair into ch (before and, for now, after). */
static int pair_read(store_t *s, uint64_t user, uint64_t other, store_rel_change_t *ch)
{
    int rc;

    rc = rel_type(s, user, other, &ch->user_was);
    if (rc == 0)
        rc = rel_type(s, other, user, &ch->other_was);
    ch->user_now = ch->user_was;
    ch->other_now = ch->other_was;
    return rc;
}

/* The request's decision, inside the transaction; ch holds the rows read. */
static int request_apply(store_t *s, uint64_t user, uint64_t other, int64_t now,
                         store_rel_change_t *ch)
{
    int64_t mine = 0, theirs = 0;
    int rc;

    if (ch->user_was == STORE_REL_BLOCKED || ch->other_was == STORE_REL_BLOCKED)
        return STORE_EPERM;
    if (ch->user_was == STORE_REL_FRIEND || ch->user_was == STORE_REL_OUTGOING)
        return STORE_UNCHANGED;
    rc = friend_count(s, user, &mine);
    if (rc < 0)
        return rc;
    if (mine >= STORE_FRIENDS_MAX)
        return STORE_ELIMIT;
    if (ch->user_was == STORE_REL_INCOMING) {
        /* Accepting other's request: other is asking, so it must have room too. */
        rc = friend_count(s, other, &theirs);
        if (rc < 0)
            return rc;
        if (theirs >= STORE_FRIENDS_MAX)
            return STORE_ELIMIT;
        ch->user_now = ch->other_now = STORE_REL_FRIEND;
    } else {
        ch->user_now = STORE_REL_OUTGOING;
        ch->other_now = STORE_REL_INCOMING;
    }
    rc = rel_set(s, user, other, ch->user_now, now);
    if (rc == 0)
        rc = rel_set(s, other, user, ch->other_now, now);
    return rc;
}

int store_relationship_request(store_t *s, uint64_t user, uint64_t other, int64_t now_ms,
                               store_rel_change_t *ch)
{
    store_rel_change_t c = {0};
    bool ubot = false, obot = false;
    int rc;

    if (user == other)
        return STORE_EINVAL;
    rc = db_begin(s);
    if (rc < 0)
        return rc;
    rc = user_kind(s, user, &ubot);
    if (rc == 0)
        rc = user_kind(s, other, &obot);
    if (rc == 0 && (ubot || obot))
        rc = STORE_EINVAL;
    if (rc == 0)
        rc = pair_read(s, user, other, &c);
    if (rc == 0)
        rc = request_apply(s, user, other, now_ms > 0 ? now_ms : db_now_ms(), &c);
    rc = db_end(s, rc);
    if (rc >= 0 && ch != NULL)
        *ch = c;
    return rc;
}

int store_relationship_block(store_t *s, uint64_t user, uint64_t other, int64_t now_ms,
                             store_rel_change_t *ch)
{
    store_rel_change_t c = {0};
    bool bot;
    int rc;

    if (user == other)
        return STORE_EINVAL;
    rc = db_begin(s);
    if (rc < 0)
        return rc;
    rc = user_kind(s, user, &bot);
    if (rc == 0)
        rc = user_kind(s, other, &bot); /* people may block bots */
    if (rc == 0)
        rc = pair_read(s, user, other, &c);
    if (rc == 0 && c.user_was == STORE_REL_BLOCKED)
        rc = STORE_UNCHANGED;
    if (rc == 0) {
        c.user_now = STORE_REL_BLOCKED;
        rc = rel_set(s, user, other, STORE_REL_BLOCKED, now_ms > 0 ? now_ms : db_now_ms());
    }
    if (rc == 0 && c.other_was != STORE_REL_NONE && c.other_was != STORE_REL_BLOCKED) {
        /* A friendship or a request either way ends; other's own block stays. */
        c.other_now = STORE_REL_NONE;
        rc = rel_del(s, other, user);
    }
    rc = db_end(s, rc);
    if (rc >= 0 && ch != NULL)
        *ch = c;
    return rc;
}

int store_relationship_remove(store_t *s, uint64_t user, uint64_t other, store_rel_change_t *ch)
{
    store_rel_change_t c = {0};
    int rc;

    rc = db_begin(s);
    if (rc < 0)
        return rc;
    rc = pair_read(s, user, other, &c);
    if (rc == 0 && c.user_was == STORE_REL_NONE)
        rc = STORE_UNCHANGED;
    if (rc == 0) {
        c.user_now = STORE_REL_NONE;
        rc = rel_del(s, user, other);
    }
    if (rc == 0 && c.user_was != STORE_REL_BLOCKED && c.other_was != STORE_REL_NONE &&
        c.other_was != STORE_REL_BLOCKED) {
        /* Unfriend, cancel or decline: the pair's other half goes with it. */
        c.other_now = STORE_REL_NONE;
        rc = rel_del(s, other, user);
    }
    rc = db_end(s, rc);
    if (rc >= 0 && ch != NULL)
        *ch = c;
    return rc;
}

int store_relationship_get(store_t *s, uint64_t user, uint64_t other, json_t **out)
{
    sqlite3_stmt *st;
    json_t *r;
    int rc;

    st = db_prep(s, REL_SELECT " WHERE r.user_id = ?1 AND r.other_id = ?2");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)user);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)other);
    rc = db_step(s, st);
    if (rc != SQLITE_ROW) {
        db_reset(st);
        return rc == SQLITE_DONE ? STORE_ENOTFOUND : rc;
    }
    r = rel_json(st);
    db_reset(st);
    if (out != NULL)
        *out = r;
    else
        json_decref(r);
    return 0;
}

int store_relationship_list(store_t *s, uint64_t user, json_t **out)
{
    sqlite3_stmt *st;
    json_t *a;
    int rc;

    st = db_prep(s, REL_SELECT " WHERE r.user_id = ?1 ORDER BY r.other_id");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)user);
    a = json_array();
    while ((rc = db_step(s, st)) == SQLITE_ROW)
        json_array_append_new(a, rel_json(st));
    return db_list_done(st, rc, a, out);
}

int store_relationship_type(store_t *s, uint64_t user, uint64_t other, int *type)
{
    return rel_type(s, user, other, type);
}

int store_friend_ids(store_t *s, uint64_t user, uint64_t **ids, size_t *n)
{
    sqlite3_stmt *st;
    uint64_t *a = NULL, *na;
    size_t len = 0, cap = 0;
    int rc;

    st = db_prep(s, "SELECT other_id FROM relationships WHERE user_id = ?1 AND type = 1"
                    " ORDER BY other_id");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)user);
    while ((rc = db_step(s, st)) == SQLITE_ROW) {
        if (len == cap) {
            cap = cap ? cap * 2 : 16;
            na = realloc(a, cap * sizeof(*a));
            if (na == NULL)
                abort();
            a = na;
        }
        a[len++] = db_col_id(st, 0);
    }
    db_reset(st);
    if (rc < 0) {
        free(a);
        return rc;
    }
    *ids = a;
    *n = len;
    return 0;
}

int store_dm_blocked(store_t *s, uint64_t channel_id, uint64_t *blocker)
{
    sqlite3_stmt *st;
    int64_t who = 0;
    int rc;

    /* Two primary-key probes of relationships, one per direction, for the one DM row. */
    st = db_prep(s, "SELECT CASE WHEN EXISTS (SELECT 1 FROM relationships WHERE user_id ="
                    " c.dm_low AND other_id = c.dm_high AND type = 2) THEN c.dm_low WHEN EXISTS"
                    " (SELECT 1 FROM relationships WHERE user_id = c.dm_high AND other_id ="
                    " c.dm_low AND type = 2) THEN c.dm_high ELSE 0 END FROM channels c"
                    " WHERE c.id = ?1 AND c.type = 1");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)channel_id);
    rc = db_one_int(s, st, &who);
    if (rc < 0)
        return rc;
    if (who == 0)
        return STORE_ENOTFOUND;
    if (blocker != NULL)
        *blocker = (uint64_t)who;
    return 0;
}

int store_user_find(store_t *s, const char *username, uint64_t *id)
{
    sqlite3_stmt *st;
    int64_t v = 0;
    int rc;

    if (username == NULL)
        return STORE_ENOTFOUND;
    /* bot = 0 lets the partial unique index on people's names serve the lookup. */
    st = db_prep(s, "SELECT id FROM users WHERE username = ?1 AND bot = 0");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_text(st, 1, username, -1, SQLITE_TRANSIENT);
    rc = db_one_int(s, st, &v);
    if (rc == 0)
        *id = (uint64_t)v;
    return rc;
}

int store_friends_bulk(store_t *s, uint64_t user, const uint64_t *ids, size_t n, int64_t now_ms)
{
    int64_t now = now_ms > 0 ? now_ms : db_now_ms();
    bool bot;
    size_t i;
    int rc;

    for (i = 0; i < n; i++)
        if (ids[i] == user)
            return STORE_EINVAL;
    rc = db_begin(s);
    if (rc < 0)
        return rc;
    rc = user_kind(s, user, &bot);
    for (i = 0; i < n && rc == 0; i++) {
        rc = user_kind(s, ids[i], &bot);
        if (rc == 0)
            rc = rel_set(s, user, ids[i], STORE_REL_FRIEND, now);
        if (rc == 0)
            rc = rel_set(s, ids[i], user, STORE_REL_FRIEND, now);
    }
    return db_end(s, rc);
}
