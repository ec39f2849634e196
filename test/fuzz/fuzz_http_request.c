/* libFuzzer target: the HTTP/1.1 request parser and route matching (apps/http).
 *
 * The first two bytes choose how the rest is cut into pieces and which limits apply;
 * the rest is fed piece by piece, as reads would deliver it. Every request the parser
 * completes is built, checked against the limits, routed through a small router (which
 * rewrites a tail parameter in place) and queried; every error must come with an HTTP
 * status the connection can answer. ASan and UBSan do the rest. */
#include "http/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void h(const http_request_t *req, http_response_t *res, void *udata)
{
    (void)req, (void)res, (void)udata;
}

static http_router_t *router(void)
{
    static http_router_t *r;

    if (r == NULL) {
        r = http_router_new();
        http_router_add(r, "GET", "/users/{id}", h, NULL);
        http_router_add(r, "GET", "/users/@me", h, NULL);
        http_router_add(r, "PUT", "/channels/{c}/messages/{m}/reactions/{emoji}/@me", h, NULL);
        http_router_add(r, "GET", "/app/{*path}", h, NULL);
        http_router_add(r, "*", "/", h, NULL);
    }
    return r;
}

static void check(http_parser_t *p, const http_limits_t *lim)
{
    size_t need = http_parser_request_size(p);
    http_request_t *req = malloc(need);
    http_match_t m;
    char out[32];

    if (req == NULL)
        abort();
    http_parser_take(p, req);
    if (req->body_len > lim->max_body || req->nsegs > HTTP_MAX_SEGMENTS ||
        req->nheaders > lim->max_headers || strlen(req->body) > req->body_len ||
        (req->minor != 0 && req->minor != 1))
        abort();
    for (size_t i = 0; i < req->nheaders; i++)
        if (strchr(req->headers[i].value, '\n') != NULL || strchr(req->headers[i].value, '\r'))
            abort();
    http_query_get(req, "v", out, sizeof(out));
    http_query_get(req, "encoding", out, 4);
    http__route(router(), req, http_request_header(req, "Upgrade") != NULL, &m);
    if (m.status == 0 && m.fn == NULL)
        abort();
    for (size_t i = 0; i < req->nparams; i++)
        (void)strlen(req->params[i]);
    free(req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    http_limits_t lim = {0};
    http_parser_t p;
    size_t piece, off, n;
    int r = HTTP_PARSE_MORE;

    if (size < 2)
        return 0;
    piece = data[0] ? data[0] : size;
    lim.max_head = 64 + (size_t)(data[1] & 0x0F) * 128;
    lim.max_headers = 1 + (size_t)(data[1] >> 4) * 4;
    lim.max_body = 1024;
    data += 2;
    size -= 2;

    http_parser_init(&p, &lim);
    for (off = 0; off < size && r != HTTP_PARSE_ERROR; off += n) {
        n = size - off < piece ? size - off : piece;
        if (http_parser_feed(&p, data + off, n) != 0)
            break;
        while ((r = http_parser_next(&p)) == HTTP_PARSE_DONE)
            check(&p, &lim);
        if (p.want_continue)
            p.want_continue = false;
    }
    if (http_parser_next(&p) == HTTP_PARSE_ERROR) {
        switch (p.status) {
        case 400:
        case 413:
        case 414:
        case 417:
        case 431:
        case 501:
        case 505:
            break;
        default:
            abort();
        }
        if (p.error == NULL)
            abort();
    }
    http_parser_free(&p);
    return 0;
}
