/* Private parts of apps/http: the request parser, the WebSocket frame codec, the
 * response serializer, route matching and the connection process's state.
 *
 * How the files fit:
 *   parser.c    incremental, bounded HTTP/1.1 request parser (pure: no runtime)
 *   ws.c        WebSocket frame decoder and encoder, handshake key, UTF-8 check (pure)
 *   response.c  http_response_t, serialization, Discord-shaped error bodies
 *   router.c    routes, matching, request accessors, query decoding
 *   listener.c  the listener process
 *   conn.c      the connection process in HTTP mode, request processes
 *   conn_ws.c   the connection process in WebSocket mode, ws_send_*, moves
 *   static.c    the static file handler
 * parser.c and ws.c need nothing but libc (and libcrypto for the handshake key), so
 * the fuzzers in test/fuzz/ build them alone. */
#ifndef HEARTH_APPS_HTTP_INTERNAL_H
#define HEARTH_APPS_HTTP_INTERNAL_H

#include "http.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- allocation: abort on OOM, as the runtime does -------------------------------- */

void *http__malloc(size_t n);
void *http__realloc(void *p, size_t n);
void *http__calloc(size_t n, size_t size);

/* ---- defaults ------------------------------------------------------------------------- */

#define HTTP_DEFAULT_MAX_HEAD ((size_t)16 << 10)
#define HTTP_DEFAULT_MAX_HEADERS 64
#define HTTP_DEFAULT_MAX_BODY ((size_t)1 << 20)
#define HTTP_DEFAULT_WS_MAX_MESSAGE ((size_t)64 << 10)
#define HTTP_DEFAULT_IDLE_MS 60000u
/* Buffered input beyond this, while a request is being handled, pauses reading. */
#define HTTP_READ_PAUSE ((size_t)64 << 10)

/* limits with every 0 replaced by its default. */
http_limits_t http__limits_resolve(const http_limits_t *limits);

/* ---- the request parser (parser.c) ---------------------------------------------------- */

/* What http_parser_next returns. */
#define HTTP_PARSE_MORE 0     /* no complete request yet: feed more */
#define HTTP_PARSE_DONE 1     /* a request is complete: http_parser_take it */
#define HTTP_PARSE_ERROR (-1) /* malformed or over a limit: answer p->status and close */

typedef struct http_hidx http_hidx_t; /* offsets of one header line, parser.c's */

/* An incremental request parser. Bytes are appended with http_parser_feed (any
 * split); http_parser_next says whether a whole request (head and body) is there;
 * http_parser_take builds it and drops its bytes, keeping the next pipelined
 * request's. Memory is bounded by the limits plus what is fed between two nexts, and
 * nothing is held while no bytes are buffered. */
typedef struct http_parser {
    /* read-only */
    int status;         /* after HTTP_PARSE_ERROR: 400, 413, 414, 417, 431, 501, 505 */
    const char *error;  /* and a static description */
    bool want_continue; /* head complete with Expect: 100-continue, body pending:
                           the connection writes a 100 and clears this */
    /* private */
    http_limits_t lim;
    char *buf;
    size_t off, len, cap; /* live bytes: buf[off .. len) */
    int state;
    size_t scan;       /* head: where the search for the next line resumes;
                          trailers: where they start */
    size_t line;       /* head: where the current line starts */
    size_t head_start; /* after leading empty lines */
    size_t head_len;   /* bytes of head including the final empty line */
    size_t nlines;     /* header lines seen */
    http_hidx_t *hidx; /* header offsets, on demand */
    size_t nhidx;
    uint32_t m_len, t_len, p_len; /* method, target, path (target up to '?') */
    uint32_t t_off;
    int minor;
    bool keep_alive, close, chunked;
    uint64_t clen; /* Content-Length */
    size_t nsegs;
    /* body: decoded bytes sit at buf[head_len .. head_len + body_len); raw chunked
     * input is read at rpos */
    size_t body_len, rpos;
    uint64_t chunk_left;
    size_t req_size; /* http_parser_request_size, once DONE */
} http_parser_t;

/* Initializes p with limits (0 fields: defaults). Never fails. */
void http_parser_init(http_parser_t *p, const http_limits_t *limits);
/* Frees p's buffers. p may be initialized again. */
void http_parser_free(http_parser_t *p);
/* Appends len bytes (copied). Returns 0, or HTTP_PARSE_ERROR if the buffered bytes
 * would pass a hard bound (head, body and a read's worth of the next request): the
 * caller should have stopped reading before. */
int http_parser_feed(http_parser_t *p, const void *data, size_t len);
/* Advances over the buffered bytes: HTTP_PARSE_MORE, HTTP_PARSE_DONE (again until
 * taken) or HTTP_PARSE_ERROR (then p->status and p->error say why; p stays failed). */
int http_parser_next(http_parser_t *p);
/* After HTTP_PARSE_DONE: the bytes http_parser_take needs. */
size_t http_parser_request_size(const http_parser_t *p);
/* After HTTP_PARSE_DONE: builds the request into mem (http_parser_request_size bytes,
 * suitably aligned for pointers, caller-owned) and drops its bytes from p. The
 * request points only into mem. */
http_request_t *http_parser_take(http_parser_t *p, void *mem);
/* Bytes buffered and not yet taken. */
size_t http_parser_buffered(const http_parser_t *p);
/* Moves the buffered bytes out (after an upgrade): *out gets a malloc'd copy (NULL if
 * none), the return value their count. */
size_t http_parser_detach(http_parser_t *p, char **out);

/* Percent-decodes len bytes of s into out (at least len bytes); '+' becomes a space
 * if plus. Returns the decoded length, or -1 for a malformed escape or a %00. */
long http__pct_decode(const char *s, size_t len, char *out, bool plus);

/* Token characters of RFC 9110 (method, header names). */
bool http__is_tchar(unsigned char c);

/* ---- WebSocket frames (ws.c) ------------------------------------------------------------ */

#define WS_OP_CONT 0x0
#define WS_OP_TEXT 0x1
#define WS_OP_BINARY 0x2
#define WS_OP_CLOSE 0x8
#define WS_OP_PING 0x9
#define WS_OP_PONG 0xA

/* Called by the decoder for each complete message (WS_OP_TEXT, WS_OP_BINARY) and
 * control frame (WS_OP_PING, WS_OP_PONG, WS_OP_CLOSE with its raw, checked payload).
 * data is unmasked, writable, valid during the call. Returns 0 to go on, non-zero to
 * stop: the decoder then keeps the bytes after this frame. */
typedef int (*ws_event_fn)(void *arg, int opcode, uint8_t *data, size_t len);

/* A decoder of client frames: masked, bounded, reassembling fragments. Holds no
 * memory between messages unless a frame arrived in pieces. */
typedef struct ws_decoder {
    size_t max_message;
    uint8_t *buf; /* a partial frame (and what followed it), on demand */
    size_t blen, bcap;
    uint8_t *msg; /* fragments of the message being reassembled, on demand */
    size_t mlen;
    uint8_t mop; /* its opcode, 0 when not inside a fragmented message */
    bool failed;
} ws_decoder_t;

void ws_decoder_init(ws_decoder_t *d, size_t max_message);
void ws_decoder_free(ws_decoder_t *d);
/* Decodes len bytes at data (unmasking in place: data must be writable), calling fn
 * for each event until it returns non-zero. Bytes not consumed (a partial frame, or
 * all after a stop) are kept; feed (d, NULL, 0) resumes after a stop. Returns 0, or a
 * close code for a protocol violation: 1002 (unmasked, bad opcode, bad fragment
 * order, bad control frame, non-minimal length, reserved bits), 1007 (text or close
 * reason not UTF-8), 1009 (message over max_message). After an error d is failed. */
int ws_decoder_feed(ws_decoder_t *d, uint8_t *data, size_t len, ws_event_fn fn, void *arg);
/* The bytes kept by the decoder (after a stop), for moving them elsewhere. */
size_t ws_decoder_pending(const ws_decoder_t *d, const uint8_t **data);

/* Writes the header of an unmasked server frame (FIN set) for opcode and len bytes into
 * out (at least 10 bytes). Returns the header's length: 2, 4 or 10. */
size_t ws_frame_header(uint8_t *out, int opcode, uint64_t len);

/* Sec-WebSocket-Accept for key: out gets 28 base64 characters and a NUL. Returns 0,
 * or -1 if key is not the base64 of 16 bytes. */
int ws_accept_key(const char *key, char out[29]);

/* True if len bytes at s are well-formed UTF-8 (no overlongs, no surrogates, at most
 * U+10FFFF). */
bool ws_utf8_valid(const uint8_t *s, size_t len);

/* A close code a peer may send (RFC 6455 7.4): 1000-1003, 1007-1014, 3000-4999. */
bool ws_close_code_valid(unsigned code);

/* ---- responses (response.c) --------------------------------------------------------------- */

struct http_response {
    int status;
    bool close;
    char *ctype;
    char *hdrs; /* extra header lines, "Name: value\r\n" each */
    size_t hlen, hcap;
    void *body;
    size_t body_len;
    bool body_owned;
};

void http__response_init(http_response_t *res);
void http__response_free(http_response_t *res);
/* Serializes res as an HTTP/1.1 response into a new payload (the caller's reference):
 * without the body bytes if head (Content-Length still counted); with
 * "Connection: close" if close, else "Connection: keep-alive" for an HTTP/1.0 peer
 * (minor 0). */
hearth_payload_t *http__response_serialize(const http_response_t *res, int minor, bool head,
                                           bool close);
/* A transport-level error: status with the JSON body {"code": 0, "message": "404: Not
 * Found"}, serialized, plus extra header lines (may be NULL, "Name: value\r\n"...). */
hearth_payload_t *http__error_payload(int status, int minor, bool close, const char *extra);
/* Writes the Date header value for now into out (at least 30 bytes). */
void http__date(char *out);

/* ---- routing (router.c) ---------------------------------------------------------------------- */

typedef struct http_route http_route_t;

/* What http__route returns. */
typedef struct http_match {
    int status;                /* 0: routed; else 404, 405 or 426 */
    const http_route_t *route; /* when routed */
    http_handler_fn fn;        /* a REST route, or */
    const ws_handler_t *ws;    /* a WebSocket route */
    void *udata;
    char allow[64]; /* for 405: "GET, POST" */
} http_match_t;

/* Routes req (its params are filled when routed). upgrade: the request asks for a
 * WebSocket. */
void http__route(const http_router_t *r, http_request_t *req, bool upgrade, http_match_t *out);

/* True if a header called name (any of them) lists token in its comma-separated value,
 * case-insensitively ("Connection: keep-alive, Upgrade" lists "upgrade"). */
bool http__header_has_token(const http_request_t *req, const char *name, const char *token);

/* ---- the connection process (conn.c, conn_ws.c) -----------------------------------------------
 */

#define HTTP_TAG_START (HTTP_TAG_BASE + 1) /* to a connection: value = its socket */
#define HTTP_TAG_DONE                                                                              \
    (HTTP_TAG_BASE + 2)                    /* request process -> connection: ref = request         \
                                              id, value = 1 to close */
#define HTTP_TAG_TIMER (HTTP_TAG_BASE + 3) /* a connection's own timer: value = generation */
#define HTTP_TAG_ADOPT (HTTP_TAG_BASE + 4) /* ws_conn_move: a socket and its bytes */
#define HTTP_TAG_FWD                                                                               \
    (HTTP_TAG_BASE + 5)                      /* moved socket's late bytes (len 0 and value         \
                                                1: it closed) */
#define HTTP_TAG_FWD_END (HTTP_TAG_BASE + 6) /* nothing more will be forwarded */

enum { CONN_HTTP = 1, CONN_WS, CONN_WS_CLOSING, CONN_DETACHED, CONN_MOVED };

/* One connection process's state. Kept small: an idle WebSocket connection holds
 * this struct and nothing else of ours (buffers come and go with messages). */
struct http_conn {
    const http_server_t *srv;
    hearth_sock_t sock;
    uint8_t mode;
    bool paused;       /* reading stopped for backpressure */
    bool busy;         /* HTTP: a request process is running */
    bool awaiting_fwd; /* WS: an adopted socket, reading waits for FWD_END */
    uint32_t timer_gen;
    uint64_t timer; /* 0: none */
    union {
        struct {
            http_parser_t *parser; /* on demand */
            uint64_t mon;          /* monitor of the request process */
            uint64_t req_id;
            struct http_job *job; /* the request out, while busy (conn.c) */
        } h;
        struct {
            const ws_handler_t *vt;
            void *state;
            hearth_pid_t moved_to;
            int close_code;
            bool drain; /* failed: input is read and thrown away until the peer goes */
            ws_decoder_t dec;
        } w;
    } u;
};

typedef struct http_conn http_conn_t;

extern const hearth_actor_t http__conn_actor;

/* The upgrade of a routed request in the connection process: answers the handshake
 * (or an error), switches c to WebSocket mode. Takes leftover (malloc'd bytes the
 * parser had after the request). Returns what the actor's handle returns. */
int http__ws_upgrade(http_conn_t *c, http_request_t *req, const http_match_t *m, char *leftover,
                     size_t nleftover);
/* Handles m in WebSocket, closing, detached or moved mode. */
int http__ws_handle(http_conn_t *c, hearth_msg_t *m);
/* Process end in WebSocket modes: terminate callback, buffers. */
void http__ws_terminate(http_conn_t *c);
/* (Re)arms the connection's single timer for ms; a stale one is recognized by its
 * generation. */
void http__conn_timer(http_conn_t *c, uint64_t ms);

#endif /* HEARTH_APPS_HTTP_INTERNAL_H */
