/* Channels: guild channels (text 0, voice 2, category 4), DMs (1) and group DMs (3).
 *
 * A DM is found by its two users, kept ordered in dm_low/dm_high under a unique
 * index, so "find or create" inside one write transaction never makes two. DM and
 * group DM members are in channel_recipients; a guild channel's audience is the
 * guild's members (permissions are the layer above). */
#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GUILD_CHANNELS_MAX 500

#define CHANNEL_SELECT                                                                             \
    "SELECT id, guild_id, type, name, topic, position, parent_id, nsfw, bitrate, user_limit, "     \
    "rate_limit_per_user, permission_overwrites, last_message_id, owner_id, icon, flags "          \
    "FROM channels"

/* The recipients of a DM or group DM as user objects, leaving out viewer unless that
 * would leave none. */
static json_t *recipients_json(store_t *s, uint64_t channel_id, uint64_t viewer)
{
    sqlite3_stmt *st;
    json_t *a, *self;

    a = json_array();
    self = NULL;
    st = db_prep(s, "SELECT " USER_COLS " FROM channel_recipients cr"
                    " JOIN users u ON u.id = cr.user_id WHERE cr.channel_id = ?1 ORDER BY u.id");
    if (st == NULL)
        return a;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)channel_id);
    while (db_step(s, st) == SQLITE_ROW) {
        if (viewer != 0 && db_col_id(st, 0) == viewer && self == NULL)
            self = j_user(st, 0);
        else
            json_array_append_new(a, j_user(st, 0));
    }
    db_reset(st);
    if (json_array_size(a) == 0 && self != NULL)
        json_array_append(a, self);
    json_decref(self);
    return a;
}

/* The channel object from a CHANNEL_SELECT row, with the fields its type has. */
static json_t *channel_json(store_t *s, sqlite3_stmt *st, uint64_t viewer)
{
    int type;
    json_t *c;

    type = sqlite3_column_int(st, 2);
    c = json_object();
    json_object_set_new(c, "id", j_col_id(st, 0));
    json_object_set_new(c, "type", json_integer(type));
    json_object_set_new(c, "flags", j_col_int(st, 15));
    if (type == STORE_CHANNEL_DM || type == STORE_CHANNEL_GROUP_DM) {
        json_object_set_new(c, "last_message_id", j_col_id(st, 12));
        if (type == STORE_CHANNEL_GROUP_DM) {
            json_object_set_new(c, "name", j_col_str(st, 3));
            json_object_set_new(c, "icon", j_col_str(st, 14));
            json_object_set_new(c, "owner_id", j_col_id(st, 13));
        }
        json_object_set_new(c, "recipients", recipients_json(s, db_col_id(st, 0), viewer));
        return c;
    }
    json_object_set_new(c, "guild_id", j_col_id(st, 1));
    json_object_set_new(c, "name", j_col_str(st, 3));
    json_object_set_new(c, "position", j_col_int(st, 5));
    json_object_set_new(c, "permission_overwrites", j_col_json(st, 11, true));
    json_object_set_new(c, "parent_id", j_col_id(st, 6));
    json_object_set_new(c, "nsfw", j_col_bool(st, 7));
    if (type == STORE_CHANNEL_CATEGORY)
        return c;
    json_object_set_new(c, "last_message_id", j_col_id(st, 12));
    json_object_set_new(c, "rate_limit_per_user", j_col_int(st, 10));
    if (type == STORE_CHANNEL_VOICE) {
        json_object_set_new(c, "bitrate", j_col_int(st, 8));
        json_object_set_new(c, "user_limit", j_col_int(st, 9));
        json_object_set_new(c, "rtc_region", json_null());
    } else {
        json_object_set_new(c, "topic", j_col_str(st, 4));
        json_object_set_new(c, "last_pin_timestamp", json_null());
    }
    return c;
}

int store_channel_get(store_t *s, uint64_t channel_id, uint64_t viewer, json_t **out)
{
    sqlite3_stmt *st;
    json_t *c;
    int rc;

    st = db_prep(s, CHANNEL_SELECT " WHERE id = ?1");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)channel_id);
    rc = db_step(s, st);
    if (rc != SQLITE_ROW) {
        db_reset(st);
        return rc == SQLITE_DONE ? STORE_ENOTFOUND : rc;
    }
    /* Recipients use another statement, so building here while stepping is fine. */
    c = channel_json(s, st, viewer);
    db_reset(st);
    if (out != NULL)
        *out = c;
    else
        json_decref(c);
    return 0;
}

int store_channel_list(store_t *s, uint64_t guild_id, json_t **out)
{
    sqlite3_stmt *st;
    json_t *a;
    int rc;

    rc = db_exists(s, "SELECT 1 FROM guilds WHERE id = ?1", guild_id);
    if (rc < 0)
        return rc;
    st = db_prep(s, CHANNEL_SELECT " WHERE guild_id = ?1 ORDER BY position, id");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)guild_id);
    a = json_array();
    while ((rc = db_step(s, st)) == SQLITE_ROW)
        json_array_append_new(a, channel_json(s, st, 0));
    return db_list_done(st, rc, a, out);
}

/* ---- guild channels -------------------------------------------------------------------------- */

static const field_t channel_fields[] = {
    {"name", "name", F_STR, 1, 100, false},
    {"topic", "topic", F_STR, 0, 1024, true},
    {"position", "position", F_INT, 0, 100000, false},
    {"parent_id", "parent_id", F_ID, 0, 0, true},
    {"nsfw", "nsfw", F_BOOL, 0, 0, false},
    {"bitrate", "bitrate", F_INT, 8000, 384000, false},
    {"user_limit", "user_limit", F_INT, 0, 99, false},
    {"rate_limit_per_user", "rate_limit_per_user", F_INT, 0, 21600, false},
    {"permission_overwrites", "permission_overwrites", F_JSON, 0, 100, false},
};
#define NCHANNEL_FIELDS (sizeof(channel_fields) / sizeof(channel_fields[0]))

/* Checks params' parent_id (a category of the guild; a category has none) and
 * permission_overwrites (objects with an id, type 0 or 1, allow and deny). */
static int channel_params_ok(store_t *s, uint64_t guild_id, int type, const json_t *params)
{
    json_t *ows, *ow, *v;
    uint64_t parent, id;
    size_t i;
    int rc;

    parent = 0;
    rc = p_id(params, "parent_id", true, &parent);
    if (rc < 0)
        return rc;
    if (parent != 0) {
        if (type == STORE_CHANNEL_CATEGORY)
            return STORE_EINVAL;
        rc = db_exists2(s, "SELECT 1 FROM channels WHERE id = ?1 AND guild_id = ?2 AND type = 4",
                        parent, guild_id);
        if (rc < 0)
            return rc;
    }
    ows = json_object_get(params, "permission_overwrites");
    if (ows != NULL && json_is_array(ows)) {
        json_array_foreach(ows, i, ow)
        {
            v = json_object_get(ow, "type");
            if (!json_is_object(ow) || p_id_value(json_object_get(ow, "id"), &id) < 0 ||
                !(json_is_integer(v) || json_is_string(v)))
                return STORE_EINVAL;
        }
    }
    return 0;
}

int store_channel_create(store_t *s, uint64_t guild_id, const json_t *params, json_t **out)
{
    sqlite3_stmt *st;
    int64_t type, count, pos;
    const char *name;
    uint64_t id = 0;
    int rc;

    type = STORE_CHANNEL_TEXT;
    if (!json_is_object(params) || p_str(params, "name", 1, 100, false, &name) != 1 ||
        p_int(params, "type", 0, 4, &type) < 0 ||
        (type != STORE_CHANNEL_TEXT && type != STORE_CHANNEL_VOICE &&
         type != STORE_CHANNEL_CATEGORY))
        return STORE_EINVAL;
    rc = db_begin(s);
    if (rc < 0)
        return rc;
    rc = db_exists(s, "SELECT 1 FROM guilds WHERE id = ?1", guild_id);
    if (rc == 0)
        rc = channel_params_ok(s, guild_id, (int)type, params);
    if (rc < 0)
        goto out;
    st = db_prep(s, "SELECT count(*), coalesce(max(position) + 1, 0) FROM channels"
                    " WHERE guild_id = ?1");
    if (st == NULL) {
        rc = STORE_EIO;
        goto out;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)guild_id);
    rc = db_step(s, st);
    count = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    pos = rc == SQLITE_ROW ? sqlite3_column_int64(st, 1) : 0;
    db_reset(st);
    if (rc < 0)
        goto out;
    if (count >= GUILD_CHANNELS_MAX) {
        rc = STORE_ELIMIT;
        goto out;
    }
    id = snowflake_next();
    st = db_prep(s, "INSERT INTO channels (id, guild_id, type, name, position, bitrate, user_limit)"
                    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (st == NULL) {
        rc = STORE_EIO;
        goto out;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)guild_id);
    sqlite3_bind_int64(st, 3, type);
    db_bind_text(st, 4, name);
    sqlite3_bind_int64(st, 5, pos);
    if (type == STORE_CHANNEL_VOICE) {
        sqlite3_bind_int(st, 6, 64000);
        sqlite3_bind_int(st, 7, 0);
    }
    rc = db_run(s, st);
    if (rc == 0)
        rc = db_apply(s, "channels", "id = ?1", id, 0, channel_fields, NCHANNEL_FIELDS, params);
out:
    rc = db_end(s, rc);
    if (rc < 0)
        return rc;
    return store_channel_get(s, id, 0, out);
}

int store_channel_modify(store_t *s, uint64_t channel_id, const json_t *params, json_t **out)
{
    static const field_t group_fields[] = {
        {"name", "name", F_STR, 0, 100, true},
        {"icon", "icon", F_STR, 1, 256, true},
    };
    sqlite3_stmt *st;
    uint64_t guild_id;
    int type, rc;

    if (params != NULL && !json_is_object(params))
        return STORE_EINVAL;
    rc = db_begin(s);
    if (rc < 0)
        return rc;
    st = db_prep(s, "SELECT coalesce(guild_id, 0), type FROM channels WHERE id = ?1");
    if (st == NULL) {
        rc = STORE_EIO;
        goto out;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)channel_id);
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
    if (type == STORE_CHANNEL_GROUP_DM) {
        rc = db_apply(s, "channels", "id = ?1", channel_id, 0, group_fields, 2, params);
    } else if (type == STORE_CHANNEL_DM) {
        rc = 0; /* nothing of a DM can change */
    } else {
        rc = channel_params_ok(s, guild_id, type, params);
        if (rc == 0) {
            uint64_t parent = 0;

            if (p_id(params, "parent_id", true, &parent) == 1 && parent == channel_id)
                rc = STORE_EINVAL;
        }
        if (rc == 0)
            rc = db_apply(s, "channels", "id = ?1", channel_id, 0, channel_fields, NCHANNEL_FIELDS,
                          params);
    }
out:
    rc = db_end(s, rc);
    if (rc < 0)
        return rc;
    return store_channel_get(s, channel_id, 0, out);
}

int store_channel_delete(store_t *s, uint64_t channel_id, json_t **out)
{
    json_t *c;
    int rc;

    c = NULL;
    rc = db_begin(s);
    if (rc < 0)
        return rc;
    rc = store_channel_get(s, channel_id, 0, &c);
    if (rc == 0)
        rc = db_run_id(s, "UPDATE channels SET parent_id = NULL WHERE parent_id = ?1", channel_id);
    if (rc == 0)
        rc = db_run_id(s, "UPDATE guilds SET system_channel_id = NULL WHERE system_channel_id = ?1",
                       channel_id);
    if (rc == 0)
        rc = db_run_id(s, "UPDATE guilds SET afk_channel_id = NULL WHERE afk_channel_id = ?1",
                       channel_id);
    /* Messages, reactions, invites and recipients go by ON DELETE CASCADE. */
    if (rc == 0)
        rc = db_run_id(s, "DELETE FROM channels WHERE id = ?1", channel_id);
    rc = db_end(s, rc);
    if (rc < 0) {
        json_decref(c);
        return rc;
    }
    if (out != NULL)
        *out = c;
    else
        json_decref(c);
    return 0;
}

int store_channel_positions(store_t *s, uint64_t guild_id, const json_t *list, json_t **out)
{
    static const field_t fields[] = {
        {"position", "position", F_INT, 0, 100000, false},
        {"parent_id", "parent_id", F_ID, 0, 0, true},
    };
    sqlite3_stmt *st;
    uint64_t id;
    json_t *e;
    size_t i;
    int rc, type;

    if (!json_is_array(list))
        return STORE_EINVAL;
    rc = db_begin(s);
    if (rc < 0)
        return rc;
    rc = db_exists(s, "SELECT 1 FROM guilds WHERE id = ?1", guild_id);
    json_array_foreach(list, i, e)
    {
        if (rc < 0)
            break;
        if (!json_is_object(e) || p_id(e, "id", false, &id) != 1) {
            rc = STORE_EINVAL;
            break;
        }
        st = db_prep(s, "SELECT type FROM channels WHERE id = ?1 AND guild_id = ?2");
        if (st == NULL) {
            rc = STORE_EIO;
            break;
        }
        sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)guild_id);
        rc = db_step(s, st);
        type = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
        db_reset(st);
        if (rc == SQLITE_DONE)
            rc = STORE_ENOTFOUND;
        if (rc < 0)
            break;
        rc = channel_params_ok(s, guild_id, type, e);
        if (rc == 0)
            rc = db_apply(s, "channels", "id = ?1", id, 0, fields, 2, e);
    }
    rc = db_end(s, rc);
    if (rc < 0)
        return rc;
    return store_channel_list(s, guild_id, out);
}

/* ---- DMs ------------------------------------------------------------------------------------- */

static int recipient_insert(store_t *s, uint64_t channel_id, uint64_t user_id)
{
    return db_run_id2(s,
                      "INSERT OR IGNORE INTO channel_recipients (channel_id, user_id)"
                      " VALUES (?1, ?2)",
                      channel_id, user_id);
}

int store_dm_open(store_t *s, uint64_t a, uint64_t b, json_t **out)
{
    uint64_t lo, hi, id;
    sqlite3_stmt *st;
    int64_t found;
    int rc;

    lo = a < b ? a : b;
    hi = a < b ? b : a;
    id = 0;
    rc = db_begin(s);
    if (rc < 0)
        return rc;
    rc = db_exists(s, "SELECT 1 FROM users WHERE id = ?1", a);
    if (rc == 0)
        rc = db_exists(s, "SELECT 1 FROM users WHERE id = ?1", b);
    if (rc < 0)
        goto out;
    st = db_prep(s, "SELECT id FROM channels WHERE type = 1 AND dm_low = ?1 AND dm_high = ?2");
    if (st == NULL) {
        rc = STORE_EIO;
        goto out;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)lo);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)hi);
    rc = db_one_int(s, st, &found);
    if (rc == 0) {
        id = (uint64_t)found;
        rc = STORE_UNCHANGED;
        goto out;
    }
    if (rc != STORE_ENOTFOUND)
        goto out;
    id = snowflake_next();
    st = db_prep(s, "INSERT INTO channels (id, type, dm_low, dm_high) VALUES (?1, 1, ?2, ?3)");
    if (st == NULL) {
        rc = STORE_EIO;
        goto out;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)lo);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)hi);
    rc = db_run(s, st);
    if (rc == 0)
        rc = recipient_insert(s, id, a);
    if (rc == 0)
        rc = recipient_insert(s, id, b);
out:
    rc = db_end(s, rc);
    if (rc < 0)
        return rc;
    if (out != NULL) {
        int e = store_channel_get(s, id, a, out);

        if (e < 0)
            return e;
    }
    return rc;
}

int store_group_dm_create(store_t *s, uint64_t owner, const uint64_t *recipients, size_t n,
                          const char *name, json_t **out)
{
    uint64_t id = 0;
    sqlite3_stmt *st;
    int64_t count;
    size_t i;
    int rc;

    if (n >= 100 || (name != NULL && (utf8_len(name) < 0 || utf8_len(name) > 100)))
        return STORE_EINVAL;
    rc = db_begin(s);
    if (rc < 0)
        return rc;
    id = snowflake_next();
    st = db_prep(s, "INSERT INTO channels (id, type, owner_id, name) VALUES (?1, 3, ?2, ?3)");
    if (st == NULL) {
        rc = STORE_EIO;
        goto out;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)owner);
    db_bind_text(st, 3, name);
    rc = db_run(s, st);
    /* Unknown users fail the foreign key: STORE_ENOTFOUND. Repeats are ignored. */
    if (rc == 0)
        rc = recipient_insert(s, id, owner);
    for (i = 0; i < n && rc == 0; i++)
        rc = recipient_insert(s, id, recipients[i]);
    if (rc < 0)
        goto out;
    st = db_prep(s, "SELECT count(*) FROM channel_recipients WHERE channel_id = ?1");
    if (st == NULL) {
        rc = STORE_EIO;
        goto out;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    rc = db_one_int(s, st, &count);
    if (rc == 0 && count > STORE_GROUP_DM_MAX)
        rc = STORE_ELIMIT;
out:
    rc = db_end(s, rc);
    if (rc < 0)
        return rc;
    return store_channel_get(s, id, owner, out);
}

int store_group_dm_add(store_t *s, uint64_t channel_id, uint64_t user_id)
{
    sqlite3_stmt *st;
    int64_t count;
    int rc;

    rc = db_begin(s);
    if (rc < 0)
        return rc;
    rc = db_exists(s, "SELECT 1 FROM channels WHERE id = ?1 AND type = 3", channel_id);
    if (rc < 0)
        goto out;
    rc = db_exists2(s, "SELECT 1 FROM channel_recipients WHERE channel_id = ?1 AND user_id = ?2",
                    channel_id, user_id);
    if (rc == 0) {
        rc = STORE_UNCHANGED;
        goto out;
    }
    st = db_prep(s, "SELECT count(*) FROM channel_recipients WHERE channel_id = ?1");
    if (st == NULL) {
        rc = STORE_EIO;
        goto out;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)channel_id);
    rc = db_one_int(s, st, &count);
    if (rc == 0 && count >= STORE_GROUP_DM_MAX)
        rc = STORE_ELIMIT;
    if (rc == 0)
        rc = recipient_insert(s, channel_id, user_id);
out:
    return db_end(s, rc);
}

int store_group_dm_remove(store_t *s, uint64_t channel_id, uint64_t user_id)
{
    int rc;

    rc = db_begin(s);
    if (rc < 0)
        return rc;
    rc = db_exists(s, "SELECT 1 FROM channels WHERE id = ?1 AND type = 3", channel_id);
    if (rc == 0)
        rc = db_run_id2(s, "DELETE FROM channel_recipients WHERE channel_id = ?1 AND user_id = ?2",
                        channel_id, user_id);
    if (rc == 0 && sqlite3_changes(s->db) == 0)
        rc = STORE_ENOTFOUND;
    return db_end(s, rc);
}

int store_user_dms(store_t *s, uint64_t user_id, json_t **out)
{
    sqlite3_stmt *st;
    json_t *a, *c;
    int rc;

    st = db_prep(s, "SELECT c.id FROM channel_recipients cr JOIN channels c ON c.id = cr.channel_id"
                    " WHERE cr.user_id = ?1 ORDER BY coalesce(c.last_message_id, c.id) DESC");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)user_id);
    a = json_array();
    while ((rc = db_step(s, st)) == SQLITE_ROW) {
        if (store_channel_get(s, db_col_id(st, 0), user_id, &c) == 0)
            json_array_append_new(a, c);
    }
    return db_list_done(st, rc, a, out);
}

int store_channel_access(store_t *s, uint64_t channel_id, uint64_t user_id, uint64_t *guild_id)
{
    sqlite3_stmt *st;
    uint64_t gid;
    int rc;

    st = db_prep(s, "SELECT coalesce(guild_id, 0) FROM channels WHERE id = ?1");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)channel_id);
    rc = db_step(s, st);
    gid = rc == SQLITE_ROW ? db_col_id(st, 0) : 0;
    db_reset(st);
    if (rc < 0)
        return rc;
    if (rc == SQLITE_DONE)
        return STORE_ENOTFOUND;
    if (guild_id != NULL)
        *guild_id = gid;
    if (gid != 0)
        rc = store_member_check(s, gid, user_id);
    else
        rc =
            db_exists2(s, "SELECT 1 FROM channel_recipients WHERE channel_id = ?1 AND user_id = ?2",
                       channel_id, user_id);
    return rc == STORE_ENOTFOUND ? STORE_EPERM : rc;
}
