/* Users, login, tokens, applications with their bots, presence, and the bulk member
 * helper of the admin CLI.
 *
 * Passwords are hashed with Argon2id (libsodium's crypto_pwhash_str, interactive
 * limits) before the write transaction starts, so the slow hash never holds the
 * database's write lock. Tokens look like Discord's: base64url(user id) "." base64url
 * (time) "." 32 random bytes in base64url; only their BLAKE2b hash is stored. */
#include "db.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PASSWORD_MIN 8
#define PASSWORD_MAX 128
#define EMAIL_MAX 254
#define APP_NAME_MAX 128

/* ---- validation ------------------------------------------------------------------------------ */

/* Usernames: 2..32 characters, no control characters, none of @ # : and ```, no
 * leading or trailing space, and not a word Discord reserves. */
static bool username_ok(const char *name)
{
    static const char *const reserved[] = {"everyone", "here", "discord", "clyde"};
    const unsigned char *p;
    long len;
    size_t i;

    if (name == NULL)
        return false;
    len = utf8_len(name);
    if (len < 2 || len > 32 || name[0] == ' ' || name[strlen(name) - 1] == ' ')
        return false;
    for (p = (const unsigned char *)name; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7f || *p == '@' || *p == '#' || *p == ':')
            return false;
    }
    if (strstr(name, "```") != NULL)
        return false;
    for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
        if (strcasecmp(name, reserved[i]) == 0)
            return false;
    }
    return true;
}

static bool email_ok(const char *email)
{
    const char *at;
    size_t len;

    if (email == NULL)
        return false;
    len = strlen(email);
    at = strchr(email, '@');
    return len <= EMAIL_MAX && at != NULL && at > email && at[1] != '\0' &&
           strchr(at + 1, '@') == NULL && strpbrk(email, " \t\r\n") == NULL && utf8_len(email) > 0;
}

static bool password_ok(const char *pw)
{
    size_t len;

    if (pw == NULL)
        return false;
    len = strlen(pw);
    return len >= PASSWORD_MIN && len <= PASSWORD_MAX;
}

/* Hashes pw into out. 0 or STORE_EIO (out of memory for Argon2's 64 MiB). */
static int hash_password(const char *pw, char out[crypto_pwhash_STRBYTES])
{
    if (crypto_pwhash_str(out, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return STORE_EIO;
    return 0;
}

/* ---- users ----------------------------------------------------------------------------------- */

/* Inserts a user row. 0 or STORE_E* (STORE_EEXIST: email or username taken). */
static int user_insert(store_t *s, uint64_t id, const char *username, const char *global_name,
                       const char *email, const char *hash, bool bot)
{
    sqlite3_stmt *st;

    st = db_prep(s, "INSERT INTO users (id, username, global_name, email, password_hash, bot)"
                    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    db_bind_text(st, 2, username);
    db_bind_text(st, 3, global_name);
    db_bind_text(st, 4, email);
    db_bind_text(st, 5, hash);
    sqlite3_bind_int(st, 6, bot);
    return db_run(s, st);
}

int store_user_create(store_t *s, const store_user_new_t *u, json_t **out)
{
    char hash[crypto_pwhash_STRBYTES];
    uint64_t id;
    int rc;

    if (u == NULL || !username_ok(u->username))
        return STORE_EINVAL;
    if (u->global_name != NULL && (utf8_len(u->global_name) < 1 || utf8_len(u->global_name) > 32))
        return STORE_EINVAL;
    if (u->email != NULL && !email_ok(u->email))
        return STORE_EINVAL;
    if (u->password != NULL) {
        if (!password_ok(u->password))
            return STORE_EINVAL;
        rc = hash_password(u->password, hash);
        if (rc < 0)
            return rc;
    }
    id = snowflake_next();
    rc = user_insert(s, id, u->username, u->global_name, u->email,
                     u->password != NULL ? hash : NULL, u->bot);
    sodium_memzero(hash, sizeof(hash));
    if (rc < 0)
        return rc;
    return store_user_get(s, id, STORE_USER_PRIVATE, out);
}

int store_user_get(store_t *s, uint64_t id, unsigned flags, json_t **out)
{
    sqlite3_stmt *st;
    json_t *u;
    int rc;

    st = db_prep(s, "SELECT " USER_COLS ", u.email, u.verified, u.locale FROM users u"
                    " WHERE u.id = ?1");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    rc = db_step(s, st);
    if (rc == SQLITE_ROW) {
        rc = 0;
        if (out != NULL) {
            u = j_user(st, 0);
            if (flags & STORE_USER_PRIVATE) {
                json_object_set_new(u, "email", j_col_str(st, USER_NCOLS));
                json_object_set_new(u, "verified", j_col_bool(st, USER_NCOLS + 1));
                json_object_set_new(u, "locale", j_col_str(st, USER_NCOLS + 2));
                json_object_set_new(u, "mfa_enabled", json_false());
                json_object_set_new(u, "premium_type", json_integer(0));
            }
            *out = u;
        }
    } else if (rc == SQLITE_DONE) {
        rc = STORE_ENOTFOUND;
    }
    db_reset(st);
    return rc;
}

int store_user_modify(store_t *s, uint64_t id, const json_t *params, json_t **out)
{
    static const field_t fields[] = {
        {"username", "username", F_STR, 2, 32, false},
        {"global_name", "global_name", F_STR, 1, 32, true},
        {"avatar", "avatar", F_STR, 1, 256, true},
    };
    const char *name;
    int rc;

    rc = p_str(params, "username", 2, 32, false, &name);
    if (rc < 0 || (rc == 1 && !username_ok(name)))
        return STORE_EINVAL;
    rc = db_begin(s);
    if (rc < 0)
        return rc;
    rc = db_exists(s, "SELECT 1 FROM users WHERE id = ?1", id);
    if (rc == 0)
        rc = db_apply(s, "users", "id = ?1", id, 0, fields, sizeof(fields) / sizeof(fields[0]),
                      params);
    rc = db_end(s, rc);
    if (rc < 0)
        return rc;
    return store_user_get(s, id, STORE_USER_PRIVATE, out);
}

int store_user_set_password(store_t *s, uint64_t id, const char *password)
{
    char hash[crypto_pwhash_STRBYTES];
    sqlite3_stmt *st;
    int rc;

    if (!password_ok(password))
        return STORE_EINVAL;
    rc = hash_password(password, hash);
    if (rc < 0)
        return rc;
    st = db_prep(s, "UPDATE users SET password_hash = ?2 WHERE id = ?1");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    db_bind_text(st, 2, hash);
    sodium_memzero(hash, sizeof(hash));
    rc = db_run(s, st);
    if (rc == 0 && sqlite3_changes(s->db) == 0)
        rc = STORE_ENOTFOUND;
    return rc;
}

int store_login(store_t *s, const char *login, const char *password, uint64_t *user_id)
{
    char hash[crypto_pwhash_STRBYTES];
    sqlite3_stmt *st;
    const char *h;
    uint64_t id;
    int rc;

    if (login == NULL || password == NULL || strlen(password) > PASSWORD_MAX)
        return STORE_EAUTH;
    /* An email has an @ and a username cannot. Bots never log in with a password. */
    if (strchr(login, '@') != NULL)
        st = db_prep(s, "SELECT id, password_hash FROM users WHERE email = ?1 AND bot = 0");
    else
        st = db_prep(s, "SELECT id, password_hash FROM users WHERE username = ?1 AND bot = 0");
    if (st == NULL)
        return STORE_EIO;
    db_bind_text(st, 1, login);
    rc = db_step(s, st);
    if (rc < 0)
        return rc;
    h = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 1) : NULL;
    if (h == NULL || strlen(h) >= sizeof(hash)) {
        db_reset(st);
        return STORE_EAUTH;
    }
    id = db_col_id(st, 0);
    memcpy(hash, h, strlen(h) + 1);
    db_reset(st); /* before the slow verify: no snapshot held meanwhile */
    if (crypto_pwhash_str_verify(hash, password, strlen(password)) != 0)
        return STORE_EAUTH;
    if (user_id != NULL)
        *user_id = id;
    return 0;
}

/* ---- tokens ---------------------------------------------------------------------------------- */

static void token_hash(const char *token, unsigned char out[32])
{
    crypto_generichash(out, 32, (const unsigned char *)token, strlen(token), NULL, 0);
}

/* Makes a token for id into token (no database access). */
static void token_make(uint64_t id, char token[STORE_TOKEN_SIZE])
{
    unsigned char rnd[32], ts[4];
    char idstr[21];
    uint32_t now;
    size_t n;

    snowflake_str(id, idstr);
    sodium_bin2base64(token, STORE_TOKEN_SIZE, (const unsigned char *)idstr, strlen(idstr),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    n = strlen(token);
    token[n++] = '.';
    now = (uint32_t)(db_now_ms() / 1000);
    ts[0] = (unsigned char)(now >> 24);
    ts[1] = (unsigned char)(now >> 16);
    ts[2] = (unsigned char)(now >> 8);
    ts[3] = (unsigned char)now;
    sodium_bin2base64(token + n, STORE_TOKEN_SIZE - n, ts, sizeof(ts),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    n += strlen(token + n);
    token[n++] = '.';
    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2base64(token + n, STORE_TOKEN_SIZE - n, rnd, sizeof(rnd),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* Stores a new token for id (which must exist: the foreign key checks). */
static int token_insert(store_t *s, uint64_t id, char token[STORE_TOKEN_SIZE])
{
    unsigned char hash[32];
    sqlite3_stmt *st;

    token_make(id, token);
    token_hash(token, hash);
    st = db_prep(s, "INSERT INTO tokens (hash, user_id, created_at) VALUES (?1, ?2, ?3)");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_blob(st, 1, hash, sizeof(hash), SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)id);
    sqlite3_bind_int64(st, 3, db_now_ms());
    return db_run(s, st);
}

int store_token_create(store_t *s, uint64_t user_id, char token[STORE_TOKEN_SIZE])
{
    return token_insert(s, user_id, token); /* a missing user fails the foreign key */
}

int store_token_lookup(store_t *s, const char *token, uint64_t *user_id, bool *bot)
{
    unsigned char hash[32];
    sqlite3_stmt *st;
    int rc;

    if (token == NULL || strlen(token) >= STORE_TOKEN_SIZE)
        return STORE_EAUTH;
    token_hash(token, hash);
    st = db_prep(s, "SELECT t.user_id, u.bot FROM tokens t JOIN users u ON u.id = t.user_id"
                    " WHERE t.hash = ?1");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_blob(st, 1, hash, sizeof(hash), SQLITE_TRANSIENT);
    rc = db_step(s, st);
    if (rc == SQLITE_ROW) {
        if (user_id != NULL)
            *user_id = db_col_id(st, 0);
        if (bot != NULL)
            *bot = sqlite3_column_int(st, 1) != 0;
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = STORE_EAUTH;
    }
    db_reset(st);
    return rc;
}

int store_token_revoke(store_t *s, const char *token)
{
    unsigned char hash[32];
    sqlite3_stmt *st;
    int rc;

    if (token == NULL)
        return STORE_EAUTH;
    token_hash(token, hash);
    st = db_prep(s, "DELETE FROM tokens WHERE hash = ?1");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_blob(st, 1, hash, sizeof(hash), SQLITE_TRANSIENT);
    rc = db_run(s, st);
    if (rc == 0 && sqlite3_changes(s->db) == 0)
        rc = STORE_EAUTH;
    return rc;
}

int store_token_revoke_user(store_t *s, uint64_t user_id)
{
    sqlite3_stmt *st;

    st = db_prep(s, "DELETE FROM tokens WHERE user_id = ?1");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)user_id);
    return db_run(s, st);
}

/* ---- applications ---------------------------------------------------------------------------- */

#define APP_SELECT                                                                                 \
    "SELECT a.id, a.name, a.description, a.icon, a.bot_public, a.verify_key, "                     \
    "a.bot_user_id, " USER_COLS " FROM applications a JOIN users u ON u.id = a.owner_id"

/* The application object from an APP_SELECT row. */
static json_t *app_json(store_t *s, sqlite3_stmt *st)
{
    uint64_t bot_id;
    json_t *a, *bot;

    a = json_object();
    json_object_set_new(a, "id", j_col_id(st, 0));
    json_object_set_new(a, "name", j_col_str(st, 1));
    json_object_set_new(a, "description", j_col_str(st, 2));
    json_object_set_new(a, "icon", j_col_str(st, 3));
    json_object_set_new(a, "summary", json_string(""));
    json_object_set_new(a, "type", json_null());
    json_object_set_new(a, "bot_public", j_col_bool(st, 4));
    json_object_set_new(a, "bot_require_code_grant", json_false());
    json_object_set_new(a, "verify_key", j_col_str(st, 5));
    json_object_set_new(a, "flags", json_integer(0));
    json_object_set_new(a, "team", json_null());
    json_object_set_new(a, "redirect_uris", json_array());
    json_object_set_new(a, "interactions_endpoint_url", json_null());
    json_object_set_new(a, "owner", j_user(st, 7));
    bot_id = db_col_id(st, 6);
    if (bot_id != 0 && (bot = j_user_get(s, bot_id)) != NULL)
        json_object_set_new(a, "bot", bot);
    return a;
}

int store_app_create(store_t *s, uint64_t owner_id, const json_t *params, json_t **out)
{
    const char *name, *desc;
    unsigned char key[32];
    char verify_key[65];
    sqlite3_stmt *st;
    uint64_t id;
    int rc;

    name = NULL;
    desc = "";
    if (p_str(params, "name", 1, APP_NAME_MAX, false, &name) != 1 ||
        p_str(params, "description", 0, 400, false, &desc) < 0)
        return STORE_EINVAL;
    randombytes_buf(key, sizeof(key));
    sodium_bin2hex(verify_key, sizeof(verify_key), key, sizeof(key));
    id = snowflake_next();
    st = db_prep(s, "INSERT INTO applications (id, name, description, owner_id, verify_key)"
                    " VALUES (?1, ?2, ?3, ?4, ?5)");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    db_bind_text(st, 2, name);
    db_bind_text(st, 3, desc);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)owner_id);
    db_bind_text(st, 5, verify_key);
    rc = db_run(s, st); /* an unknown owner fails the foreign key: STORE_ENOTFOUND */
    if (rc < 0)
        return rc;
    return store_app_get(s, id, out);
}

int store_app_get(store_t *s, uint64_t app_id, json_t **out)
{
    sqlite3_stmt *st;
    int rc;

    st = db_prep(s, APP_SELECT " WHERE a.id = ?1");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)app_id);
    rc = db_step(s, st);
    if (rc == SQLITE_ROW) {
        if (out != NULL)
            *out = app_json(s, st);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = STORE_ENOTFOUND;
    }
    db_reset(st);
    return rc;
}

int store_app_list(store_t *s, uint64_t owner_id, json_t **out)
{
    sqlite3_stmt *st;
    json_t *list;
    int rc;

    st = db_prep(s, APP_SELECT " WHERE a.owner_id = ?1 ORDER BY a.id");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)owner_id);
    list = json_array();
    while ((rc = db_step(s, st)) == SQLITE_ROW)
        json_array_append_new(list, app_json(s, st));
    db_reset(st);
    if (rc < 0) {
        json_decref(list);
        return rc;
    }
    if (out != NULL)
        *out = list;
    else
        json_decref(list);
    return 0;
}

/* Copies at most max characters of name into buf (UTF-8 safe). */
static void utf8_truncate(const char *name, size_t max, char *buf, size_t size)
{
    const unsigned char *p = (const unsigned char *)name;
    size_t chars = 0, n = 0, len;

    while (p[n] != '\0' && chars < max) {
        len = p[n] < 0x80 ? 1 : (p[n] & 0xE0) == 0xC0 ? 2 : (p[n] & 0xF0) == 0xE0 ? 3 : 4;
        if (n + len >= size)
            break;
        n += len;
        chars++;
    }
    memcpy(buf, name, n);
    buf[n] = '\0';
}

int store_app_bot_create(store_t *s, uint64_t app_id, char token[STORE_TOKEN_SIZE],
                         json_t **bot_user)
{
    char username[32 * 4 + 8];
    sqlite3_stmt *st;
    int64_t bot_id;
    int rc;

    rc = db_begin(s);
    if (rc < 0)
        return rc;
    st = db_prep(s, "SELECT coalesce(bot_user_id, 0), name FROM applications WHERE id = ?1");
    if (st == NULL) {
        rc = STORE_EIO;
        goto out;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)app_id);
    rc = db_step(s, st);
    if (rc == SQLITE_ROW) {
        bot_id = sqlite3_column_int64(st, 0);
        /* The bot's name is the application's, cut to a username's 32 characters. */
        utf8_truncate((const char *)sqlite3_column_text(st, 1), 32, username, sizeof(username));
        rc = bot_id != 0 ? STORE_EEXIST : 0;
    } else if (rc == SQLITE_DONE) {
        rc = STORE_ENOTFOUND;
    }
    db_reset(st);
    if (rc < 0)
        goto out;
    if (utf8_len(username) < 2)
        strcat(username, " bot");
    /* Discord gives an application's bot user the application's id. */
    rc = user_insert(s, app_id, username, NULL, NULL, NULL, true);
    if (rc < 0)
        goto out;
    st = db_prep(s, "UPDATE applications SET bot_user_id = ?1 WHERE id = ?1");
    if (st == NULL) {
        rc = STORE_EIO;
        goto out;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)app_id);
    rc = db_run(s, st);
    if (rc == 0)
        rc = token_insert(s, app_id, token);
out:
    rc = db_end(s, rc);
    if (rc < 0)
        return rc;
    return store_user_get(s, app_id, 0, bot_user);
}

int store_app_bot_reset_token(store_t *s, uint64_t app_id, char token[STORE_TOKEN_SIZE])
{
    int rc;

    rc = db_begin(s);
    if (rc < 0)
        return rc;
    rc = db_exists(s, "SELECT 1 FROM applications WHERE id = ?1 AND bot_user_id IS NOT NULL",
                   app_id);
    if (rc == 0)
        rc = store_token_revoke_user(s, app_id);
    if (rc == 0)
        rc = token_insert(s, app_id, token);
    return db_end(s, rc);
}

/* ---- presence -------------------------------------------------------------------------------- */

int store_presence_set(store_t *s, uint64_t user_id, const char *status, const json_t *activities,
                       int64_t last_seen_ms)
{
    sqlite3_stmt *st;
    json_t *empty;
    int rc;

    if (status == NULL || strlen(status) == 0 || strlen(status) > 15 ||
        (activities != NULL && !json_is_array(activities)))
        return STORE_EINVAL;
    st = db_prep(s, "INSERT INTO presences (user_id, status, activities, last_seen)"
                    " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (user_id) DO UPDATE SET"
                    " status = excluded.status, activities = excluded.activities,"
                    " last_seen = excluded.last_seen");
    if (st == NULL)
        return STORE_EIO;
    empty = json_array();
    sqlite3_bind_int64(st, 1, (sqlite3_int64)user_id);
    db_bind_text(st, 2, status);
    db_bind_json(st, 3, activities != NULL ? activities : empty);
    sqlite3_bind_int64(st, 4, last_seen_ms);
    rc = db_run(s, st);
    json_decref(empty);
    return rc;
}

int store_presence_get(store_t *s, uint64_t user_id, json_t **out)
{
    sqlite3_stmt *st;
    json_t *p;
    int rc;

    st = db_prep(s, "SELECT user_id, status, activities, last_seen FROM presences"
                    " WHERE user_id = ?1");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)user_id);
    rc = db_step(s, st);
    if (rc == SQLITE_ROW) {
        if (out != NULL) {
            p = json_object();
            json_object_set_new(p, "user_id", j_col_id(st, 0));
            json_object_set_new(p, "status", j_col_str(st, 1));
            json_object_set_new(p, "activities", j_col_json(st, 2, true));
            json_object_set_new(p, "last_seen", j_col_time(st, 3));
            *out = p;
        }
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = STORE_ENOTFOUND;
    }
    db_reset(st);
    return rc;
}

/* ---- bulk ------------------------------------------------------------------------------------ */

int store_bulk_members(store_t *s, uint64_t guild_id, const char *prefix, size_t n,
                       char (*tokens)[STORE_TOKEN_SIZE], uint64_t *ids)
{
    char name[64], token[STORE_TOKEN_SIZE];
    int64_t now;
    uint64_t id;
    size_t i;
    int rc;

    if (prefix == NULL || utf8_len(prefix) < 1 || strlen(prefix) > 20 || n == 0 || n > 1000000)
        return STORE_EINVAL;
    snprintf(name, sizeof(name), "%s%zu", prefix, n);
    if (!username_ok(name))
        return STORE_EINVAL;
    rc = db_begin(s);
    if (rc < 0)
        return rc;
    rc = db_exists(s, "SELECT 1 FROM guilds WHERE id = ?1", guild_id);
    now = db_now_ms();
    for (i = 0; i < n && rc == 0; i++) {
        snprintf(name, sizeof(name), "%s%zu", prefix, i + 1);
        id = snowflake_next();
        rc = user_insert(s, id, name, NULL, NULL, NULL, false);
        if (rc == 0)
            rc = db_member_insert(s, guild_id, id, now);
        if (rc == 0)
            rc = token_insert(s, id, tokens != NULL ? tokens[i] : token);
        if (ids != NULL)
            ids[i] = id;
    }
    return db_end(s, rc);
}
