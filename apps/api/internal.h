/* Private parts of the REST API: the request context every handler gets, the route
 * tables the resource files export, and the helpers they share.
 *
 * How the files fit:
 *   routes.c     mounts the tables under /api/v10 and /api; the dispatcher every route
 *                goes through: authentication, the rate limits, the JSON body, then
 *                the handler
 *   body.c       request bodies: strict JSON, or multipart/form-data's payload_json
 *   form.c       50035 Invalid Form Body: the "errors" object and the validators of
 *                body fields, query parameters and path ids that fill it
 *   reply.c      responses: JSON, 204, Discord's errors, store codes and hub outcomes
 *   job.c        store jobs run from handlers
 *   auth.c       tokens -> users; /auth/register and /auth/login
 *   users.c      /users/@me, /users/{id}, the caller's guilds and DMs
 *   apps.c       /applications, bots, /oauth2/authorize
 *   gateway.c    /gateway, /gateway/bot
 *   guilds.c     /guilds: guilds, members (modify, kick), a guild's channels and invites
 *   roles.c      /guilds/{id}/roles, a member's roles
 *   bans.c       /guilds/{id}/bans
 *   audit.c      /guilds/{id}/audit-logs
 *   automod.c    /guilds/{id}/auto-moderation/rules
 *   channels.c   /channels/{id}, its permission overwrites, typing
 *   messages.c   /channels/{id}/messages
 *   reactions.c  /channels/{id}/messages/{id}/reactions
 *   invites.c    /channels/{id}/invites, /invites/{code}
 * Handlers run in request processes (green threads): they may block in store calls
 * and hub requests. */
#ifndef HEARTH_APPS_API_INTERNAL_H
#define HEARTH_APPS_API_INTERNAL_H

#include "api.h"
#include "hub/hub.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- the request context and routes --------------------------------------------------- */

typedef struct api_ctx {
    const http_request_t *req;
    http_response_t *res;
    uint64_t user_id; /* the caller: 0 only on routes that need no token and got none */
    bool bot;         /* the caller is a bot account */
    json_t *body;     /* API_BODY routes: the object sent ({} when the body was empty);
                         API_BODY_LIST routes: the array ([] when empty) */
    int status;       /* what was answered, for the access log */
} api_ctx_t;

typedef void (*api_fn)(api_ctx_t *c);

/* Route flags. */
#define API_AUTH 0x1u      /* a valid token is required: 401 otherwise */
#define API_AUTH_OPT 0x2u  /* a token is used if sent (a bad one is still a 401) */
#define API_BODY 0x4u      /* the body must be a JSON object (or multipart payload_json) */
#define API_BODY_LIST 0x8u /* the body must be a JSON array (PATCH /guilds/{id}/roles) */

typedef struct api_route {
    const char *method;
    const char *pattern; /* below the prefix: "/channels/{channel_id}" */
    api_fn fn;
    unsigned flags;
} api_route_t;

/* Each resource file's routes, ended by an entry with fn NULL. */
extern const api_route_t api_auth_routes[];
extern const api_route_t api_user_routes[];
extern const api_route_t api_app_routes[];
extern const api_route_t api_gateway_routes[];
extern const api_route_t api_guild_routes[];
extern const api_route_t api_channel_routes[];
extern const api_route_t api_message_routes[];
extern const api_route_t api_reaction_routes[];
extern const api_route_t api_invite_routes[];
extern const api_route_t api_role_routes[];
extern const api_route_t api_ban_routes[];
extern const api_route_t api_audit_routes[];
extern const api_route_t api_automod_routes[];

/* ---- auth (auth.c) ------------------------------------------------------------------------ */

/* Finds the caller from the Authorization header: "Bot <token>" for bots, the raw
 * token (or "Bearer <token>") for people. Returns 1 and sets c->user_id and c->bot, 0
 * if there is no header, or -1 if the token is unknown or of the wrong kind. */
int api_auth(api_ctx_t *c);

/* ---- bodies (body.c) ---------------------------------------------------------------------- */

/* Parses c->req's body into c->body (a JSON object). Returns 0, or -1 after answering
 * 400: 50109 for malformed JSON, 50035 for JSON that is not an object. */
int api_body_parse(api_ctx_t *c);
/* The same for a body that must be a JSON array (an empty body reads as []): 400/50035
 * LIST_TYPE_CONVERT for any other JSON value. */
int api_body_parse_list(api_ctx_t *c);

/* ---- form errors (form.c) ------------------------------------------------------------------ */

/* The "errors" object of a 50035 answer, filled by the validators below. */
typedef struct api_form {
    json_t *errors;  /* NULL until the first error */
    char prefix[64]; /* prepended to keys: "message_reference." */
} api_form_t;

/* Adds an error at path (dotted: "embeds.0.title"; "" for the body itself) with
 * Discord's code ("BASE_TYPE_REQUIRED") and a printf-style message. */
void api_form_add(api_form_t *f, const char *path, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Sets (or with NULL clears) the prefix that keys of later errors get. */
void api_form_scope(api_form_t *f, const char *prefix);
/* True if no error was added. */
bool api_form_ok(const api_form_t *f);
/* Answers 400 {"code": 50035, "errors": ..., "message": "Invalid Form Body"} and
 * empties f. */
void api_form_reply(api_ctx_t *c, api_form_t *f);
/* Frees what f holds (safe to call twice). */
void api_form_free(api_form_t *f);

/* Body field readers. Each returns 1 with the value in *out, 0 if the field is absent
 * or null (*out untouched), or -1 after adding the field's error to f. Lengths are in
 * characters (code points), as Discord counts them. */
int api_field_str(api_form_t *f, const json_t *obj, const char *key, size_t min, size_t max,
                  const char **out);
int api_field_int(api_form_t *f, const json_t *obj, const char *key, int64_t min, int64_t max,
                  int64_t *out);
int api_field_bool(api_form_t *f, const json_t *obj, const char *key, bool *out);
/* A snowflake, as a string or an integer. */
int api_field_id(api_form_t *f, const json_t *obj, const char *key, uint64_t *out);
/* An array of at most max items (borrowed reference). */
int api_field_array(api_form_t *f, const json_t *obj, const char *key, size_t max, json_t **out);
/* An object (borrowed reference). */
int api_field_object(api_form_t *f, const json_t *obj, const char *key, json_t **out);
/* Adds BASE_TYPE_REQUIRED for key. */
void api_field_required(api_form_t *f, const char *key);

/* A table-driven check of many optional fields at once: each spec names a key, its
 * type and bounds (characters for strings, items for arrays, values for ints). */
typedef enum api_ftype {
    API_F_STR = 1,
    API_F_INT,
    API_F_ID,
    API_F_BOOL,
    API_F_ARRAY,
    API_F_OBJECT,
} api_ftype_t;

typedef struct api_field_spec {
    const char *key;
    api_ftype_t type;
    int64_t min, max;
    bool nullable; /* null is kept (it clears the field); else null means absent */
} api_field_spec_t;

/* Checks each spec'd field present in body, adding errors to f, and copies the good
 * ones into params (ids as strings, nulls of nullable fields as null). Fields body
 * has that no spec names are left out, as Discord ignores them. */
void api_fields_copy(api_form_t *f, const json_t *body, const api_field_spec_t *specs, size_t n,
                     json_t *params);

/* Query parameters, with the same return convention. */
int api_query_int(api_form_t *f, const api_ctx_t *c, const char *key, int64_t min, int64_t max,
                  int64_t *out);
int api_query_id(api_form_t *f, const api_ctx_t *c, const char *key, uint64_t *out);
/* A boolean query flag ("true", "1"): true if set so. */
bool api_query_flag(const api_ctx_t *c, const char *key);

/* The snowflake in path parameter name. Returns true with it in *out, or false after
 * answering 400/50035 NUMBER_TYPE_COERCE, as Discord does for a malformed id. */
bool api_param_id(api_ctx_t *c, const char *name, uint64_t *out);

/* Characters (code points) in a UTF-8 string, or -1 if it is not valid UTF-8. */
long api_utf8_len(const char *s);

/* ---- replies (reply.c) ------------------------------------------------------------------------
 */

/* Answers status with v as the JSON body; takes v. */
void api_json(api_ctx_t *c, int status, json_t *v);
/* Answers 204 No Content. */
void api_empty(api_ctx_t *c);
/* Answers Discord's error {"code": code, "message": message}. */
void api_error(api_ctx_t *c, int status, int code, const char *message);
/* 401 {"message": "401: Unauthorized", "code": 0}. */
void api_unauthorized(api_ctx_t *c);
/* 404 with an Unknown-thing code (10003, 10004, 10006, 10008, 10013, ...) and its text. */
void api_unknown(api_ctx_t *c, int code);
/* 403 50001 Missing Access / 50013 Missing Permissions. */
void api_missing_access(api_ctx_t *c);
void api_missing_permissions(api_ctx_t *c);
/* Answers a failed store call: STORE_ENOTFOUND as api_unknown(unknown_code), the
 * others as 400/403/500 the way Discord would. */
void api_store_error(api_ctx_t *c, int rc, int unknown_code);
/* The Discord text of a JSON error code ("Unknown Channel"), or "Unknown". */
const char *api_code_text(int code);

/* Formats a snowflake for JSON. */
json_t *api_id_json(uint64_t id);

/* ---- hubs (reply.c) ------------------------------------------------------------------------- */

/* hub_request for the caller, with the default timeout. */
void api_hub(api_ctx_t *c, hub_scope_t scope, uint64_t id, hub_op_t op, const json_t *args,
             hub_result_t *r);
/* If r is an error, answers it (Discord's shape, "errors" for 50035), clears r and
 * returns true; else returns false and leaves r alone. */
bool api_hub_failed(api_ctx_t *c, hub_result_t *r);
/* Answers r: its error, or status_ok with its body (204 without one). Clears r. */
void api_hub_reply(api_ctx_t *c, hub_result_t *r, int status_ok);
/* Sets args' "reason" from the X-Audit-Log-Reason header, percent-decoded (clients
 * URL-encode it: discord.js with encodeURIComponent). Nothing is set without the
 * header, or if the decoded text is not UTF-8; the hub cuts it to 512 characters. */
void api_reason(const api_ctx_t *c, json_t *args);
/* HUB_OP_CHECK_ACCESS on a channel's or a guild's hub. Returns true if the caller may
 * see it, else false after answering (404 10003/10004, 403 50001). */
bool api_check_channel(api_ctx_t *c, uint64_t channel_id);
bool api_check_guild(api_ctx_t *c, uint64_t guild_id);
/* The same with more of CHECK_ACCESS's arguments (hub.h): "history": true for message
 * history reads, "need": "<bits>" for reads that need a permission. extra is borrowed
 * (NULL: none). */
bool api_check_channel_with(api_ctx_t *c, uint64_t channel_id, const json_t *extra);
bool api_check_guild_with(api_ctx_t *c, uint64_t guild_id, const json_t *extra);

/* ---- shared by resource files ---------------------------------------------------------------- */

/* channels.c: the checked fields of a channel create (name required, type 0, 2 or 4)
 * or modify body, as a new object; errors go to f. */
json_t *api_channel_params(api_form_t *f, const json_t *body, bool create);

/* ---- store jobs (job.c) ------------------------------------------------------------------------
 */

/* The record a store job reads its inputs from and writes its outputs to. It lives on
 * the heap, not on the request process's stack: should the process be killed while
 * the job runs (a shutdown), the job still writes to memory that is there (and then
 * leaked) rather than to a stack another process may have by then. Strings from the
 * request itself are copied into it (text) for the same reason; strings from the
 * parsed body may be pointed at, as the body is the handler's own and is leaked, not
 * freed, if the handler never returns. */
typedef struct api_job {
    /* inputs: what each job makes of them is its own business */
    uint64_t a, b, c;
    const char *s, *s2;
    const json_t *params;
    store_page_t page;
    const void *p;
    unsigned flags;
    store_user_new_t user;
    /* A copy of a header or path string (token, invite code, emoji) for j->s: the
     * request's own memory goes away with a killed request process. */
    char text[128];
    /* outputs */
    json_t *out;
    uint64_t out_id;
    bool out_bot;
    size_t out_n;
    char token[STORE_TOKEN_SIZE];
    char note[64];
} api_job_t;

/* A zeroed job record. Aborts on OOM. */
api_job_t *api_job_new(void);
/* Runs fn(store, j) on the store's pool and waits. Returns fn's result (0 or STORE_*),
 * or a HEARTH_E* code if it could not run. */
int api_job_run(store_job_fn fn, api_job_t *j);
/* Frees j and drops j->out. NULL is allowed. */
void api_job_free(api_job_t *j);

#endif /* HEARTH_APPS_API_INTERNAL_H */
