/* The HTTP/1.1 + WebSocket edge: what the REST API and the gateway plug into.
 *
 * One listener process accepts connections on the server's port and hands each socket
 * to a connection process of its own (an event process), which owns the socket from
 * then on. The connection process parses requests (apps/http/parser.c) and routes
 * each one through a router built once at startup:
 *
 *   - a REST route (http_router_add) runs its handler in a short-lived request
 *     process, a green thread spawned per request, which may block (store calls,
 *     hearth_call to other processes). The handler fills an http_response_t; the
 *     request process writes it to the socket and tells the connection process, which
 *     then goes on with the next request. Requests of one connection are answered in
 *     order, one at a time (pipelined requests wait their turn). A handler that
 *     crashes gets its client a 500 and a closed connection.
 *   - a WebSocket route (http_router_ws) upgrades the connection in the connection
 *     process itself: after the 101 the same process becomes the WebSocket
 *     connection and hosts the session through a ws_handler_t (a vtable the gateway
 *     provides and its state pointer). So one process per connection, and that
 *     process is the only writer of its socket: frames it queues in one turn leave
 *     in one write, and ws_send_shared sends one immutable payload to many
 *     connections with only a few header bytes per connection.
 *   - no route: 404 (405 with Allow when the path exists for other methods), as a
 *     Discord-shaped JSON error {"code": 0, "message": "404: Not Found"}.
 *
 * Ownership of things handed in: the http_server_t and its router belong to the
 * caller and must stay valid (and unchanged) until the runtime stops, because every
 * connection process reads them. Routes are added before the listener starts.
 *
 * Message tags HTTP_TAG_BASE .. HTTP_TAG_BASE + 0xFF are this module's. A WebSocket
 * connection process passes every other message it receives (fan-out events, timers,
 * DOWNs, replies) to the handler's info callback. */
#ifndef HEARTH_APPS_HTTP_H
#define HEARTH_APPS_HTTP_H

#include "hearth/hearth.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HTTP_API_VERSION 1

/* The first of this module's 256 message tags ("HT"). */
#define HTTP_TAG_BASE 0x48540000u

/* ---- requests ------------------------------------------------------------------------ */

typedef struct http_header {
    const char *name;  /* as sent, NUL-terminated */
    const char *value; /* leading and trailing blanks removed, NUL-terminated */
} http_header_t;

/* Most segments a path may have, and most {param}s a route may have. */
#define HTTP_MAX_SEGMENTS 32
#define HTTP_MAX_PARAMS 8

/* A parsed request: one allocation holding every string it points to. Read-only for
 * handlers; valid for the handler's call. */
typedef struct http_request {
    const char *method; /* "GET", "POST", ... (any token) */
    const char *target; /* the raw request target: "/api/v10/users/@me?x=1" */
    const char *path;   /* the raw path, before '?' and still percent-encoded */
    const char *query;  /* the raw query after '?', "" when there is none */
    int minor;          /* HTTP/1.minor: 0 or 1 */
    bool keep_alive;    /* the connection may carry another request after this one */
    size_t nheaders;
    const http_header_t *headers;
    size_t nsegs; /* path segments, percent-decoded: "/a%20b/c" -> "a b", "c" */
    const char *const *segs;
    const char *body; /* body bytes (chunked bodies decoded), NUL-terminated */
    size_t body_len;
    /* set by the router */
    size_t nparams;
    const char *param_names[HTTP_MAX_PARAMS]; /* "channel_id" for {channel_id} */
    const char *params[HTTP_MAX_PARAMS];      /* the decoded segment it matched */
    /* set by the connection */
    char peer[48]; /* the client's address ("127.0.0.1", "::1"), or "" if unknown */
} http_request_t;

/* The value of the first header called name (case-insensitive), or NULL. */
const char *http_request_header(const http_request_t *req, const char *name);

/* The decoded value of route parameter name ({name} in the pattern), or NULL. */
const char *http_request_param(const http_request_t *req, const char *name);

/* Looks key up in the query string and percent-decodes its value ('+' is a space)
 * into out (size bytes, NUL-terminated). Returns the decoded length, -1 if key is
 * absent, -2 if the value is malformed or does not fit. A key without '=' has the
 * value "". */
int http_query_get(const http_request_t *req, const char *key, char *out, size_t size);

/* ---- responses ------------------------------------------------------------------------ */

/* What a handler fills. Opaque: use the functions below. */
typedef struct http_response http_response_t;

/* Sets the status (default: 200 with a body, 204 without). */
void http_response_status(http_response_t *res, int status);

/* Adds a header line. name must be a token and value free of CR, LF and NUL (a
 * handler may echo user input here: it cannot inject lines). Content-Length, Date and
 * Connection are the connection's to set. Returns 0 or HEARTH_EINVAL. */
int http_response_header(http_response_t *res, const char *name, const char *value);

/* Sets the body to a copy of len bytes, with content_type (NULL: none). */
void http_response_body(http_response_t *res, const char *content_type, const void *data,
                        size_t len);

/* Sets the body to data without copying: the response frees it with free() (so the
 * result of jansson's json_dumps can be handed over as is). */
void http_response_body_take(http_response_t *res, const char *content_type, void *data,
                             size_t len);

/* A JSON body (a copy of the NUL-terminated json) with status. */
void http_response_json(http_response_t *res, int status, const char *json);

/* Discord's error shape: status and {"code": code, "message": "message"}; message
 * is JSON-escaped. */
void http_response_error(http_response_t *res, int status, int code, const char *message);

/* Asks for the connection to be closed after this response. */
void http_response_close(http_response_t *res);

/* The standard reason phrase of status ("Not Found"), or "Unknown". */
const char *http_status_text(int status);

/* ---- WebSocket connections ---------------------------------------------------------------- */

/* The WebSocket side of a connection process. Opaque; valid inside the callbacks of
 * its ws_handler_t, in that process only. */
typedef struct http_conn ws_conn_t;

/* Opcodes of complete messages. */
#define WS_TEXT 1
#define WS_BINARY 2

/* Close codes (RFC 6455 7.4.1); 4000-4999 are the application's (Discord's). */
#define WS_CLOSE_NORMAL 1000
#define WS_CLOSE_GOING_AWAY 1001
#define WS_CLOSE_PROTOCOL 1002
#define WS_CLOSE_NO_STATUS 1005    /* received a close frame without a code */
#define WS_CLOSE_ABNORMAL 1006     /* the TCP connection ended without a close frame */
#define WS_CLOSE_INVALID_DATA 1007 /* text that is not UTF-8 */
#define WS_CLOSE_TOO_BIG 1009
#define WS_CLOSE_INTERNAL 1011

/* What closed returns to keep the process (and its state) alive without a socket. */
#define WS_KEEP 1

/* A WebSocket endpoint: one static, const instance per kind (the gateway's). Every
 * callback runs in the connection process, one at a time, and must not block (it is an
 * event process: use hearth_call_async, timers, messages). Callbacks that return int
 * return 0 to go on; a negative code closes the connection with 1011 and ends the
 * process.
 *
 * open (required): the handshake succeeded and the 101 is queued. req is the upgrade
 *   request (its query string: v, encoding, compress), valid during the call; udata
 *   is http_router_ws's. Sets *state. May send (HELLO) and close. On error nothing is
 *   called afterwards (open frees what it made).
 * message (required): a complete text or binary message (fragments reassembled,
 *   text checked to be UTF-8). data is writable and valid during the call only.
 * info (optional): any other message the process receives; m belongs to the
 *   runtime unless kept (hearth_msg_keep).
 * closed (optional): the connection is over: code is the peer's close code
 *   (WS_CLOSE_NO_STATUS if none), WS_CLOSE_ABNORMAL if TCP ended without a close,
 *   or the code the connection was failed or closed with. Return WS_KEEP to keep the
 *   process alive detached (it still gets info; ws_send fails with HEARTH_EPIPE; a
 *   later ws_conn_move to it brings a socket back); 0 to end it.
 * adopt (optional): a socket was moved here by ws_conn_move (a RESUME on a new
 *   connection): blob is the mover's, valid during the call. The previous socket,
 *   if any, was closed. Frames the client sent after the one that triggered the move
 *   are delivered after adopt returns.
 * terminate (optional): the process is ending (for any reason but a kill); frees
 *   state. */
typedef struct ws_handler {
    const char *name;
    int (*open)(ws_conn_t *c, const http_request_t *req, void *udata, void **state);
    int (*message)(ws_conn_t *c, void *state, int opcode, void *data, size_t len);
    int (*info)(ws_conn_t *c, void *state, hearth_msg_t *m);
    int (*closed)(ws_conn_t *c, void *state, int code, const char *reason, size_t reason_len);
    int (*adopt)(ws_conn_t *c, void *state, const void *blob, size_t len);
    void (*terminate)(void *state);
} ws_handler_t;

/* Queue a text or binary message (len bytes, copied). Frames queued in one callback
 * leave in one write. Returns 0; HEARTH_EPIPE if the connection is closing, closed or
 * detached; HEARTH_EAGAIN if the socket's queue is full (a slow reader: the caller
 * decides, typically ws_close). */
int ws_send_text(ws_conn_t *c, const void *data, size_t len);
int ws_send_binary(ws_conn_t *c, const void *data, size_t len);

/* Queue p's bytes as one message of opcode WS_TEXT or WS_BINARY without copying them:
 * only the 2-10 header bytes are this connection's; p gets a reference until written.
 * Errors as ws_send_text (after a full queue cut a frame in two, the connection is
 * failed: HEARTH_EPIPE). */
int ws_send_shared(ws_conn_t *c, int opcode, hearth_payload_t *p);

/* Queue one message made of three parts: pre (prelen bytes, at most 256, copied), len
 * bytes of p from off (referenced, not copied, when the message is large), and suf
 * (copied). So one shared payload can travel inside a per-connection envelope: a
 * gateway dispatch is {"t":…,"s":N,"op":0,"d": + the shared d + }. Errors as
 * ws_send_shared; HEARTH_EINVAL if off/len fall outside p or pre is too long. */
int ws_send_parts(ws_conn_t *c, int opcode, const void *pre, size_t prelen, hearth_payload_t *p,
                  size_t off, size_t len, const void *suf, size_t suflen);

/* Queue m's bytes as one message: without a copy if m carries a shared payload
 * (hearth_msg_shared, hearth_send_shared), else copied. m stays the caller's. */
int ws_send_msg(ws_conn_t *c, int opcode, const hearth_msg_t *m);

/* Starts the closing handshake: sends a close frame with code and reason (at most
 * 123 bytes, cut there) and closes the socket when the peer answers or after 5 s.
 * closed is called then. Returns 0, or HEARTH_EPIPE if already closing or detached. */
int ws_close(ws_conn_t *c, int code, const char *reason);

/* Moves this connection's socket (and any frames already received after the
 * current one) to process to, another WebSocket connection process of this server
 * (say a detached session being resumed), whose adopt callback then gets blob (len
 * bytes, copied). Call it from message (typically for a RESUME) or info. From then on
 * this process no longer has a socket: its closed callback is not called, and it ends
 * (terminate) shortly after, once it has forwarded what the socket had already
 * delivered to it. Returns 0, HEARTH_ESRCH if to is not alive (nothing moved), or
 * HEARTH_EPIPE if this connection has no open socket. */
int ws_conn_move(ws_conn_t *c, hearth_pid_t to, const void *blob, size_t len);

/* The connection's state pointer, as open set it. */
void *ws_conn_state(ws_conn_t *c);

/* True while the connection has an open socket (not closing, detached or moved). */
bool ws_conn_open(const ws_conn_t *c);

/* ---- routing ----------------------------------------------------------------------------- */

/* A REST handler: runs in a request process (a green thread, may block). Fills res;
 * req and res are valid during the call only. */
typedef void (*http_handler_fn)(const http_request_t *req, http_response_t *res, void *udata);

typedef struct http_router http_router_t;

/* A new, empty router. Aborts on OOM. */
http_router_t *http_router_new(void);
/* Frees r (after the runtime stopped, or never: it is meant to live as long). */
void http_router_free(http_router_t *r);

/* Routes method (a token such as "GET"; "*" for any) on pattern to fn. A pattern is a
 * path whose segments are literals, {name} (one segment, decoded) or, last only,
 * {*name} (the rest of the path, segments joined by '/'): "/channels/{id}/messages".
 * Matching ignores one trailing slash. When several patterns match, the most specific
 * wins, segment by segment: a literal beats {name}, which beats {*name}. A GET route
 * also answers HEAD. Returns 0, or HEARTH_EINVAL for a malformed pattern or method
 * (too many segments or params, a '?' ...). Not thread-safe: add every route before
 * the listener starts. */
int http_router_add(http_router_t *r, const char *method, const char *pattern, http_handler_fn fn,
                    void *udata);

/* Routes WebSocket upgrades (GET with Upgrade: websocket) of pattern to handler, with
 * udata for its open. A plain GET of the same path still goes to a GET route if there
 * is one (so "/" can serve both the web client and the gateway), else gets 426.
 * Returns 0 or HEARTH_EINVAL. */
int http_router_ws(http_router_t *r, const char *pattern, const ws_handler_t *handler, void *udata);

/* A handler serving the files under the directory udata (a const char *, e.g.
 * "priv/web") for a route whose pattern ends in {*path}: GET /app/{*path} maps
 * /app/js/main.js to priv/web/js/main.js, a directory to its index.html. Refuses
 * ".." and hidden (".") segments (404), reads files on the work pool, sets
 * Content-Type from the extension. */
void http_static_handler(const http_request_t *req, http_response_t *res, void *udata);

/* ---- the server ------------------------------------------------------------------------------ */

/* Limits, each 0 for its default. */
typedef struct http_limits {
    size_t max_head;       /* request line and headers, bytes: 16 KiB (431 beyond) */
    size_t max_headers;    /* header lines: 64 (431 beyond) */
    size_t max_body;       /* request body bytes: 1 MiB (413 beyond) */
    size_t ws_max_message; /* WebSocket message bytes after reassembly: 64 KiB (1009) */
    uint32_t idle_ms;      /* an HTTP connection must complete its next request within: 60 s */
    size_t stack_size;     /* request process stack: 0 is the runtime's default */
} http_limits_t;

/* A server: filled by the caller, then started. Caller-owned; must outlive the
 * runtime (connection processes keep a pointer to it). */
typedef struct http_server {
    /* public: set before http_listener_start */
    const char *bind; /* address to listen on; NULL: "0.0.0.0" */
    int port;         /* 0: the kernel picks (see bound_port) */
    int backlog;      /* 0: 1024 */
    http_router_t *router;
    http_limits_t limits;
    /* read-only: set by http_listener_start */
    int bound_port;
    /* private */
    http_limits_t lim_;
    bool ready_;
} http_server_t;

/* Starts the listener process of srv (spawn_flags as hearth_spawn's, e.g.
 * HEARTH_SPAWN_LINK from a supervisor). The socket is listening when this returns:
 * 0 and the listener's pid in *out (may be NULL) and the port in srv->bound_port; or
 * a negative code (the address is in use, ...). Stopping the listener stops
 * accepting; established connections live on. */
int http_listener_start(http_server_t *srv, unsigned spawn_flags, hearth_pid_t *out);

/* A hearth_child_start_fn for a supervisor's child spec: arg is the http_server_t. */
int http_listener_child_start(void *arg, hearth_pid_t *out);

#ifdef __cplusplus
}
#endif
#endif /* HEARTH_APPS_HTTP_H */
