/* Authentication: who a request comes from (api_auth, for every route that needs a
 * token), and the account routes that hand tokens out: POST /auth/register and
 * POST /auth/login.
 *
 * A token is looked up in the store on every request (one indexed read of its
 * hash). There is no cache in front of it on purpose: a revoked token (a bot token
 * reset) must stop working at once, and a cache would need the revocation to reach
 * every scheduler; the read is cheap next to the rest of a request.
 *
 * As on Discord, a bot's token must come as "Bot <token>" and a person's without
 * that prefix (raw, or "Bearer <token>"): the wrong kind is a 401 like an unknown
 * token. */
#include "internal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int64_t lookup_job(store_t *s, void *arg)
{
    api_job_t *j = arg;

    return store_token_lookup(s, j->s, &j->out_id, &j->out_bot);
}

int api_auth(api_ctx_t *c)
{
    const char *h = http_request_header(c->req, "Authorization");
    bool want_bot = false;
    api_job_t *j;
    int rc;

    if (h == NULL || *h == '\0')
        return 0;
    if (strncasecmp(h, "Bot ", 4) == 0) {
        want_bot = true;
        h += 4;
    } else if (strncasecmp(h, "Bearer ", 7) == 0) {
        h += 7;
    }
    while (*h == ' ')
        h++;
    if (*h == '\0' || strlen(h) >= STORE_TOKEN_SIZE)
        return -1;
    j = api_job_new();
    snprintf(j->text, sizeof(j->text), "%s", h);
    j->s = j->text;
    rc = api_job_run(lookup_job, j);
    if (rc == 0 && j->out_bot == want_bot) {
        c->user_id = j->out_id;
        c->bot = j->out_bot;
    } else {
        rc = -1;
    }
    api_job_free(j);
    return rc == 0 ? 1 : -1;
}

/* ---- POST /auth/register ------------------------------------------------------------------- */

/* A plausible address: one '@' with something on both sides, no blanks. The store
 * checks the same again; checking here lets the error name the field. */
static bool email_plausible(const char *e)
{
    const char *at = strchr(e, '@');

    return at != NULL && at > e && at[1] != '\0' && strchr(at + 1, '@') == NULL &&
           strpbrk(e, " \t\r\n") == NULL;
}

/* Creates the user (j->user) and its first token in one transaction; the token goes to j->token,
 * the id to j->out_id; on STORE_EEXIST, j->note says which field ("email" or "username"). */
static int64_t register_job(store_t *s, void *arg)
{
    api_job_t *j = arg;
    json_t *user = NULL;
    int rc;

    rc = store_tx_begin(s);
    if (rc < 0)
        return rc;
    rc = store_user_create(s, &j->user, &user);
    if (rc == STORE_EEXIST)
        /* Which unique index refused it: SQLite names the column in its message. */
        snprintf(j->note, sizeof(j->note), "%s",
                 strstr(store_errmsg(s), "email") != NULL ? "email" : "username");
    if (rc == 0) {
        if (snowflake_parse(json_string_value(json_object_get(user, "id")), &j->out_id) != 0)
            rc = STORE_EIO;
        else
            rc = store_token_create(s, j->out_id, j->token);
    }
    json_decref(user);
    if (rc < 0) {
        store_tx_rollback(s);
        return rc;
    }
    return store_tx_commit(s);
}

static void auth_register(api_ctx_t *c)
{
    api_form_t f = {0};
    store_user_new_t *u;
    api_job_t *j;
    json_t *out;
    int rc;

    j = api_job_new();
    u = &j->user;
    if (api_field_str(&f, c->body, "username", 2, 32, &u->username) == 0)
        api_field_required(&f, "username");
    if (api_field_str(&f, c->body, "email", 3, 254, &u->email) == 0)
        api_field_required(&f, "email");
    else if (u->email != NULL && !email_plausible(u->email))
        api_form_add(&f, "email", "EMAIL_TYPE_INVALID_EMAIL", "Not a well formed email address.");
    if (api_field_str(&f, c->body, "password", 8, 128, &u->password) == 0)
        api_field_required(&f, "password");
    api_field_str(&f, c->body, "global_name", 1, 32, &u->global_name);
    if (!api_form_ok(&f)) {
        api_form_reply(c, &f);
        api_job_free(j);
        return;
    }
    rc = api_job_run(register_job, j);
    if (rc == STORE_EEXIST) {
        if (strcmp(j->note, "email") == 0)
            api_form_add(&f, "email", "EMAIL_ALREADY_REGISTERED", "Email is already registered.");
        else
            api_form_add(&f, "username", "USERNAME_ALREADY_TAKEN",
                         "Username is unavailable. Try adding numbers, letters, underscores _ , "
                         "or periods.");
        api_form_reply(c, &f);
    } else if (rc == STORE_EINVAL) {
        /* Lengths and the address were checked above: the name's characters remain. */
        api_form_add(&f, "username", "USERNAME_INVALID_CONTAINS",
                     "Username cannot contain \"@\", \"#\", \":\", \"```\" or be a reserved word.");
        api_form_reply(c, &f);
    } else if (rc < 0) {
        api_store_error(c, rc, 10013);
    } else {
        out = json_object();
        json_object_set_new(out, "token", json_string(j->token));
        json_object_set_new(out, "user_id", api_id_json(j->out_id));
        api_json(c, 201, out);
    }
    api_job_free(j);
}

/* ---- POST /auth/login ---------------------------------------------------------------------- */

/* Checks j->s (login) and j->s2 (password); makes a token. */
static int64_t login_job(store_t *s, void *arg)
{
    api_job_t *j = arg;
    int rc;

    rc = store_login(s, j->s, j->s2, &j->out_id);
    if (rc < 0)
        return rc;
    return store_token_create(s, j->out_id, j->token);
}

static void auth_login(api_ctx_t *c)
{
    const char *login = NULL, *password = NULL;
    api_form_t f = {0};
    json_t *out, *settings;
    api_job_t *j;
    int rc;

    if (api_field_str(&f, c->body, "login", 1, 320, &login) == 0)
        api_field_required(&f, "login");
    if (api_field_str(&f, c->body, "password", 1, 1024, &password) == 0)
        api_field_required(&f, "password");
    if (!api_form_ok(&f)) {
        api_form_reply(c, &f);
        return;
    }
    j = api_job_new();
    j->s = login;
    j->s2 = password;
    rc = api_job_run(login_job, j);
    if (rc == STORE_EAUTH || rc == STORE_ENOTFOUND) {
        api_form_add(&f, "login", "INVALID_LOGIN", "Login or password is invalid.");
        api_form_add(&f, "password", "INVALID_LOGIN", "Login or password is invalid.");
        api_form_reply(c, &f);
    } else if (rc < 0) {
        api_store_error(c, rc, 10013);
    } else {
        settings = json_pack("{s:s, s:s}", "locale", "en-US", "theme", "dark");
        out = json_object();
        json_object_set_new(out, "token", json_string(j->token));
        json_object_set_new(out, "user_id", api_id_json(j->out_id));
        json_object_set_new(out, "user_settings", settings);
        api_json(c, 200, out);
    }
    api_job_free(j);
}

const api_route_t api_auth_routes[] = {
    {"POST", "/auth/register", auth_register, API_BODY},
    {"POST", "/auth/login", auth_login, API_BODY},
    {NULL, NULL, NULL, 0},
};
