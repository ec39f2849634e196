/* Helpers shared by the REST API tests (test/test-api*.c): a node in the test process
 * (runtime, store on a fresh directory, the hub tree, the API's router on an ephemeral
 * port of 127.0.0.1), a plain blocking HTTP/1.1 client for the test thread, the real
 * hearth-server binary run as a child process, and fixtures made through the API
 * (users, guilds, messages) the way a client would make them. */
#ifndef HEARTH_TEST_API_H
#define HEARTH_TEST_API_H

#include "test-store.h"

#include "api/api.h"
#include "http/http.h"

#include <stdarg.h>
#include <sys/types.h>

/* ---- the node in this process ------------------------------------------------------------- */

typedef struct ta_node {
    char dir[64];
    http_router_t *router;
    http_server_t http;
    hearth_pid_t listener, hubs;
    int port;
} ta_node_t;

/* Starts the runtime, the store on a new directory, the hub tree and the listener. */
void ta_start(ta_node_t *n);
/* Stops all of it and removes the directory. */
void ta_stop(ta_node_t *n);

/* ---- the client ---------------------------------------------------------------------------- */

typedef struct ta_res {
    int status;
    char *head;      /* the status line and headers, lines ended by CRLF (malloc'd) */
    char ctype[128]; /* Content-Type, "" if none */
    char *body;      /* NUL-terminated (malloc'd) */
    size_t len;
    json_t *json; /* the body parsed, or NULL */
} ta_res_t;

/* Sends one request (its own connection) to 127.0.0.1:port and reads the answer into
 * *res (freed by ta_res_free or the next call with res). auth: NULL, a user token
 * (sent raw) or "Bot <token>". body: NULL for none; ctype NULL means
 * application/json when there is a body. Asserts on socket errors. Returns the status. */
/* The source address test requests bind to (NULL: the kernel's choice, 127.0.0.1). */
extern const char *ta_source_addr;

int ta_raw(int port, const char *method, const char *path, const char *auth, const char *ctype,
           const char *body, size_t body_len, ta_res_t *res);
/* ta_raw with more header lines: headers is "Name: value\r\n" lines, or NULL. */
int ta_raw_h(int port, const char *method, const char *path, const char *auth, const char *headers,
             const char *ctype, const char *body, size_t body_len, ta_res_t *res);
/* ta_raw with a printf-built JSON body (fmt NULL: no body). */
int ta_req(int port, ta_res_t *res, const char *method, const char *path, const char *auth,
           const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* ta_req with more header lines (as ta_raw_h). */
int ta_req_h(int port, ta_res_t *res, const char *method, const char *path, const char *auth,
             const char *headers, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
/* Copies the value of response header name (case-insensitive) into out; false if the
 * response has none. */
bool ta_header(const ta_res_t *res, const char *name, char *out, size_t size);
void ta_res_free(ta_res_t *res);

/* The JSON error code of an error answer (-1 if none). */
long long ta_code(const ta_res_t *res);
/* Asserts an error answer: status, Discord code, and JSON content type. */
#define TA_ERR(res, st, code)                                                                      \
    do {                                                                                           \
        ASSERT_EQ((st), (res)->status);                                                            \
        ASSERT_EQ((code), ta_code(res));                                                           \
        ASSERT_STR_EQ("application/json", (res)->ctype);                                           \
    } while (0)
/* True if the 50035 answer has an error at the dotted path ("content", "embeds.0.title"). */
bool ta_form_error(const ta_res_t *res, const char *path);

/* ---- fixtures through the API --------------------------------------------------------------- */

typedef struct ta_user {
    uint64_t id;
    char token[STORE_TOKEN_SIZE + 8]; /* what goes in Authorization ("Bot " for bots) */
} ta_user_t;

/* Registers a person (name@example.test, a fixed password). */
void ta_user(int port, const char *name, ta_user_t *u);
/* Creates a guild owned by u; returns its id and its text channel's in *channel. */
uint64_t ta_guild(int port, const ta_user_t *u, const char *name, uint64_t *channel);
/* Posts a message; returns its id. */
uint64_t ta_msg(int port, const ta_user_t *u, uint64_t channel, const char *content);
/* u joins the guild of channel through a new unlimited invite made by inviter. */
void ta_join(int port, const ta_user_t *inviter, const ta_user_t *u, uint64_t channel);

/* ---- the real binary ------------------------------------------------------------------------ */

/* The path of build/<type>/hearth-server next to this test binary, or NULL if it is not
 * built. */
const char *ta_server_path(void);

typedef struct ta_proc {
    pid_t pid;
    int port;
    int out_fd; /* its stdout and stderr, read until the listening line */
} ta_proc_t;

/* Runs hearth-server on data_dir with --port 0 and rate limits off, and waits (up to
 * 15 s) for its "listening on" line. Returns 0, or -1 if it did not come up. */
int ta_proc_start(ta_proc_t *p, const char *data_dir);
/* The same with --rate-limit-multiplier multiplier (1: Discord's limits). */
int ta_proc_start_limited(ta_proc_t *p, const char *data_dir, int multiplier);
/* Sends sig and waits for the exit; returns the wait status. */
int ta_proc_stop(ta_proc_t *p, int sig);

/* Runs argv (argv[0] is the program) with HEARTH_* variables cleared, its stdout into
 * out (size bytes, NUL-terminated). Returns the exit status, or -1. */
int ta_run(char *const argv[], char *out, size_t size);

#endif /* HEARTH_TEST_API_H */
