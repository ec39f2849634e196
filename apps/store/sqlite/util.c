/* Helpers shared by the table files: JSON values from rows (ids as strings,
 * timestamps in ISO 8601), the user object, reading and validating request params,
 * and db_apply, which turns a params object into one UPDATE of the present fields. */
#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- JSON out -------------------------------------------------------------------------------- */

json_t *j_id(uint64_t id)
{
    char buf[21];

    return id == 0 ? json_null() : json_string(snowflake_str(id, buf));
}

json_t *j_str(const char *s)
{
    return s == NULL ? json_null() : json_string(s);
}

json_t *j_time(int64_t ms)
{
    char buf[STORE_TIMESTAMP_SIZE];

    return json_string(store_timestamp(ms, buf));
}

json_t *j_col_id(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? json_null() : j_id(db_col_id(st, i));
}

json_t *j_col_str(sqlite3_stmt *st, int i)
{
    const unsigned char *s;
    json_t *v;

    s = sqlite3_column_text(st, i);
    if (s == NULL)
        return json_null();
    /* Text comes from validated input; a stray invalid byte must not lose the row. */
    v = json_stringn_nocheck((const char *)s, (size_t)sqlite3_column_bytes(st, i));
    return v != NULL ? v : json_null();
}

json_t *j_col_bool(sqlite3_stmt *st, int i)
{
    return json_boolean(sqlite3_column_int64(st, i) != 0);
}

json_t *j_col_int(sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return json_null();
    return json_integer(sqlite3_column_int64(st, i));
}

json_t *j_col_time(sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return json_null();
    return j_time(sqlite3_column_int64(st, i));
}

json_t *j_col_json(sqlite3_stmt *st, int i, bool empty_array)
{
    const char *text;
    json_t *v;

    text = (const char *)sqlite3_column_text(st, i);
    v = text != NULL ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    if (v == NULL)
        v = empty_array ? json_array() : json_null();
    return v;
}

json_t *j_col_perm(sqlite3_stmt *st, int i)
{
    char buf[24];

    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)sqlite3_column_int64(st, i));
    return json_string(buf);
}

json_t *j_col_idlist(sqlite3_stmt *st, int i)
{
    const char *p;
    json_t *a;
    char *end;
    uint64_t id;

    a = json_array();
    p = (const char *)sqlite3_column_text(st, i);
    while (p != NULL && *p != '\0') {
        id = strtoull(p, &end, 10);
        if (end == p)
            break;
        json_array_append_new(a, j_id(id));
        p = *end == ',' ? end + 1 : end;
    }
    return a;
}

json_t *j_idarray(const uint64_t *ids, size_t n)
{
    json_t *a;
    size_t i;

    a = json_array();
    for (i = 0; i < n; i++)
        json_array_append_new(a, j_id(ids[i]));
    return a;
}

json_t *j_user(sqlite3_stmt *st, int i)
{
    json_t *u;

    u = json_object();
    json_object_set_new(u, "id", j_col_id(st, i));
    json_object_set_new(u, "username", j_col_str(st, i + 1));
    /* Discord's new usernames have no discriminator: it reads "0". */
    json_object_set_new(u, "discriminator", json_string("0"));
    json_object_set_new(u, "global_name", j_col_str(st, i + 2));
    json_object_set_new(u, "avatar", j_col_str(st, i + 3));
    if (sqlite3_column_int64(st, i + 4) != 0)
        json_object_set_new(u, "bot", json_true());
    json_object_set_new(u, "public_flags", json_integer(sqlite3_column_int64(st, i + 5)));
    json_object_set_new(u, "flags", json_integer(sqlite3_column_int64(st, i + 5)));
    json_object_set_new(u, "banner", json_null());
    json_object_set_new(u, "accent_color", json_null());
    json_object_set_new(u, "avatar_decoration_data", json_null());
    return u;
}

json_t *j_user_get(store_t *s, uint64_t id)
{
    sqlite3_stmt *st;
    json_t *u;

    st = db_prep(s, "SELECT " USER_COLS " FROM users u WHERE u.id = ?1");
    if (st == NULL)
        return NULL;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    u = db_step(s, st) == SQLITE_ROW ? j_user(st, 0) : NULL;
    db_reset(st);
    return u;
}

/* ---- text ------------------------------------------------------------------------------------ */

long utf8_len(const char *s)
{
    static const uint32_t least[4] = {0, 0x80, 0x800, 0x10000}; /* shorter forms: overlong */
    const unsigned char *p = (const unsigned char *)s;
    int more, k;
    long n = 0;
    uint32_t c;

    while (*p != '\0') {
        if (*p < 0x80) {
            p++;
            n++;
            continue;
        }
        if ((*p & 0xE0) == 0xC0) {
            c = *p & 0x1F;
            more = 1;
        } else if ((*p & 0xF0) == 0xE0) {
            c = *p & 0x0F;
            more = 2;
        } else if ((*p & 0xF8) == 0xF0) {
            c = *p & 0x07;
            more = 3;
        } else {
            return -1;
        }
        p++;
        for (k = 0; k < more; k++, p++) {
            if ((*p & 0xC0) != 0x80)
                return -1; /* also stops at the terminating NUL */
            c = c << 6 | (*p & 0x3F);
        }
        if (c < least[more] || (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF)
            return -1;
        n++;
    }
    return n;
}

int iso_parse(const char *s, int64_t *ms)
{
    int y, mo, d, h, mi, sec, n, sign, oh, om;
    int64_t frac_ms, scale;
    struct tm tm;
    time_t t;

    n = 0;
    if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
        n != 19)
        return -1;
    s += n;
    frac_ms = 0;
    if (*s == '.') {
        s++;
        for (scale = 100; *s >= '0' && *s <= '9'; s++, scale /= 10)
            frac_ms += (*s - '0') * scale;
    }
    oh = om = 0;
    sign = 1;
    if (*s == 'Z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        sign = *s == '-' ? -1 : 1;
        if (sscanf(s + 1, "%2d:%2d%n", &oh, &om, &n) != 2 || n != 5)
            return -1;
        s += 6;
    }
    if (*s != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    t = timegm(&tm);
    *ms = ((int64_t)t - sign * (oh * 3600 + om * 60)) * 1000 + frac_ms;
    return 0;
}

/* ---- params in ------------------------------------------------------------------------------- */

int p_id_value(const json_t *v, uint64_t *out)
{
    json_int_t i;

    if (json_is_string(v))
        return snowflake_parse(json_string_value(v), out);
    if (json_is_integer(v)) {
        i = json_integer_value(v);
        if (i <= 0)
            return -1;
        *out = (uint64_t)i;
        return 0;
    }
    return -1;
}

int p_id(const json_t *params, const char *key, bool nullable, uint64_t *out)
{
    json_t *v;

    v = params != NULL ? json_object_get(params, key) : NULL;
    if (v == NULL)
        return 0;
    if (json_is_null(v)) {
        if (!nullable)
            return STORE_EINVAL;
        *out = 0;
        return 1;
    }
    return p_id_value(v, out) == 0 ? 1 : STORE_EINVAL;
}

int p_str(const json_t *params, const char *key, size_t min, size_t max, bool nullable,
          const char **out)
{
    json_t *v;
    long len;

    v = params != NULL ? json_object_get(params, key) : NULL;
    if (v == NULL)
        return 0;
    if (json_is_null(v)) {
        if (!nullable)
            return STORE_EINVAL;
        *out = NULL;
        return 1;
    }
    if (!json_is_string(v))
        return STORE_EINVAL;
    len = utf8_len(json_string_value(v));
    if (len < 0 || (size_t)len < min || (size_t)len > max ||
        strlen(json_string_value(v)) != json_string_length(v)) /* no NUL inside */
        return STORE_EINVAL;
    *out = json_string_value(v);
    return 1;
}

int p_int(const json_t *params, const char *key, int64_t min, int64_t max, int64_t *out)
{
    json_t *v;

    v = params != NULL ? json_object_get(params, key) : NULL;
    if (v == NULL)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return STORE_EINVAL;
    *out = json_integer_value(v);
    return 1;
}

/* Checks v against f and binds it at i. 0 or STORE_EINVAL. */
static int bind_field(sqlite3_stmt *st, int i, const field_t *f, const json_t *v)
{
    const char *text;
    char *end;
    uint64_t id;
    int64_t ms;
    long len;

    if (json_is_null(v)) {
        if (!f->nullable)
            return STORE_EINVAL;
        sqlite3_bind_null(st, i);
        return 0;
    }
    switch (f->kind) {
    case F_STR:
        if (!json_is_string(v))
            return STORE_EINVAL;
        text = json_string_value(v);
        len = utf8_len(text);
        if (len < f->min || len > f->max || strlen(text) != json_string_length(v))
            return STORE_EINVAL;
        sqlite3_bind_text(st, i, text, -1, SQLITE_TRANSIENT);
        return 0;
    case F_INT:
        if (!json_is_integer(v) || json_integer_value(v) < f->min || json_integer_value(v) > f->max)
            return STORE_EINVAL;
        sqlite3_bind_int64(st, i, json_integer_value(v));
        return 0;
    case F_BOOL:
        if (!json_is_boolean(v))
            return STORE_EINVAL;
        sqlite3_bind_int(st, i, json_is_true(v));
        return 0;
    case F_ID:
        if (p_id_value(v, &id) < 0)
            return STORE_EINVAL;
        sqlite3_bind_int64(st, i, (sqlite3_int64)id);
        return 0;
    case F_PERM:
        if (json_is_integer(v) && json_integer_value(v) >= 0) {
            id = (uint64_t)json_integer_value(v);
        } else if (json_is_string(v) && json_string_value(v)[0] >= '0' &&
                   json_string_value(v)[0] <= '9') {
            id = strtoull(json_string_value(v), &end, 10);
            if (*end != '\0' || strlen(json_string_value(v)) > 19)
                return STORE_EINVAL;
        } else {
            return STORE_EINVAL;
        }
        if (id > STORE_PERM_ALL)
            id &= STORE_PERM_ALL; /* bits Discord has not given meaning to yet */
        sqlite3_bind_int64(st, i, (sqlite3_int64)id);
        return 0;
    case F_JSON:
        if (!json_is_array(v) || json_array_size(v) > (size_t)f->max)
            return STORE_EINVAL;
        db_bind_json(st, i, v);
        return 0;
    case F_TIME:
        if (!json_is_string(v) || iso_parse(json_string_value(v), &ms) < 0)
            return STORE_EINVAL;
        sqlite3_bind_int64(st, i, ms);
        return 0;
    }
    return STORE_EINVAL;
}

int db_apply(store_t *s, const char *table, const char *where, uint64_t key, uint64_t key2,
             const field_t *fields, size_t nfields, const json_t *params)
{
    sqlite3_stmt *st;
    sqlite3_str *sql;
    char *text;
    size_t i, n;
    json_t *v;
    int rc;

    if (params == NULL)
        return 0;
    if (!json_is_object(params))
        return STORE_EINVAL;
    sql = sqlite3_str_new(s->db);
    sqlite3_str_appendf(sql, "UPDATE %s SET ", table);
    for (i = 0, n = 0; i < nfields; i++) {
        if (json_object_get(params, fields[i].key) == NULL)
            continue;
        /* Column names come from the callers' static tables, never from input. */
        sqlite3_str_appendf(sql, "%s%s = ?%d", n > 0 ? ", " : "", fields[i].column, (int)n + 3);
        n++;
    }
    sqlite3_str_appendf(sql, " WHERE %s", where);
    text = sqlite3_str_finish(sql);
    if (text == NULL)
        abort();
    if (n == 0) {
        sqlite3_free(text);
        return 0;
    }
    rc = sqlite3_prepare_v2(s->db, text, -1, &st, NULL);
    sqlite3_free(text);
    if (rc != SQLITE_OK)
        return db_err(s, rc);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)key);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)key2); /* fields start at ?3 */
    for (i = 0, n = 0, rc = 0; i < nfields && rc == 0; i++) {
        v = json_object_get(params, fields[i].key);
        if (v == NULL)
            continue;
        rc = bind_field(st, (int)n + 3, &fields[i], v);
        n++;
    }
    if (rc == 0) {
        rc = sqlite3_step(st);
        rc = rc == SQLITE_DONE ? 0 : db_err(s, sqlite3_extended_errcode(s->db));
    }
    sqlite3_finalize(st);
    return rc;
}
