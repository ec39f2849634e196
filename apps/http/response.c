/* HTTP responses: what a handler fills (http_response_t), and its serialization.
 *
 * A response is serialized once, status line, headers and body together, into one
 * shared payload: the request process queues it on the socket with
 * hearth_tcp_write_shared, so its bytes are never copied again on the way out.
 * Content-Length, Date and Connection are always the connection's own: a handler
 * cannot get them wrong. Header values are checked for CR, LF and NUL, so echoing
 * user input into a header cannot split the response. Transport-level errors (404,
 * 405, 413, ...) get Discord's JSON error shape with code 0. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

void http__response_init(http_response_t *res)
{
    memset(res, 0, sizeof(*res));
}

static void body_drop(http_response_t *res)
{
    if (res->body_owned)
        free(res->body);
    res->body = NULL;
    res->body_len = 0;
    res->body_owned = false;
}

void http__response_free(http_response_t *res)
{
    body_drop(res);
    free(res->ctype);
    free(res->hdrs);
    memset(res, 0, sizeof(*res));
}

void http_response_status(http_response_t *res, int status)
{
    res->status = status;
}

void http_response_close(http_response_t *res)
{
    res->close = true;
}

static void set_ctype(http_response_t *res, const char *content_type)
{
    free(res->ctype);
    res->ctype = NULL;
    if (content_type != NULL) {
        size_t n = strlen(content_type);

        res->ctype = http__malloc(n + 1);
        memcpy(res->ctype, content_type, n + 1);
    }
}

static bool value_ok(const char *v)
{
    for (; *v; v++)
        if (*v == '\r' || *v == '\n')
            return false;
    return true;
}

int http_response_header(http_response_t *res, const char *name, const char *value)
{
    size_t nl, vl;
    const char *s;

    if (name == NULL || value == NULL || *name == '\0' || !value_ok(value))
        return HEARTH_EINVAL;
    for (s = name; *s; s++)
        if (!http__is_tchar((unsigned char)*s))
            return HEARTH_EINVAL;
    if (strcasecmp(name, "content-length") == 0 || strcasecmp(name, "date") == 0 ||
        strcasecmp(name, "connection") == 0 || strcasecmp(name, "transfer-encoding") == 0)
        return HEARTH_EINVAL;
    if (strcasecmp(name, "content-type") == 0) {
        set_ctype(res, value);
        return 0;
    }
    nl = strlen(name);
    vl = strlen(value);
    if (res->hlen + nl + vl + 4 > res->hcap) {
        res->hcap = (res->hlen + nl + vl + 4) * 2;
        res->hdrs = http__realloc(res->hdrs, res->hcap);
    }
    memcpy(res->hdrs + res->hlen, name, nl);
    res->hlen += nl;
    memcpy(res->hdrs + res->hlen, ": ", 2);
    res->hlen += 2;
    memcpy(res->hdrs + res->hlen, value, vl);
    res->hlen += vl;
    memcpy(res->hdrs + res->hlen, "\r\n", 2);
    res->hlen += 2;
    return 0;
}

void http_response_body(http_response_t *res, const char *content_type, const void *data,
                        size_t len)
{
    void *copy = http__malloc(len);

    if (len)
        memcpy(copy, data, len);
    http_response_body_take(res, content_type, copy, len);
}

void http_response_body_take(http_response_t *res, const char *content_type, void *data, size_t len)
{
    body_drop(res);
    set_ctype(res, content_type);
    res->body = data;
    res->body_len = len;
    res->body_owned = true;
}

void http_response_json(http_response_t *res, int status, const char *json)
{
    res->status = status;
    http_response_body(res, "application/json", json, strlen(json));
}

/* Appends the JSON string literal of s (quotes included) to out, which has room for
 * 6 * strlen(s) + 2 bytes. Returns the bytes written. */
static size_t json_quote(char *out, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    unsigned char c;

    out[o++] = '"';
    for (; (c = (unsigned char)*s) != 0; s++) {
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20) {
            memcpy(out + o, "\\u00", 4);
            o += 4;
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        } else {
            out[o++] = (char)c;
        }
    }
    out[o++] = '"';
    return o;
}

void http_response_error(http_response_t *res, int status, int code, const char *message)
{
    size_t cap = 64 + 6 * strlen(message);
    char *body = http__malloc(cap);
    int n = snprintf(body, cap, "{\"code\": %d, \"message\": ", code);
    size_t len = (size_t)n;

    len += json_quote(body + len, message);
    body[len++] = '}';
    res->status = status;
    http_response_body_take(res, "application/json", body, len);
}

const char *http_status_text(int status)
{
    /* clang-format off */
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Entity";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
    /* clang-format on */
}

void http__date(char *out)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    /* One per thread, redone once a second: many responses share it. */
    static _Thread_local time_t cached_at;
    static _Thread_local char cached[30];
    time_t now = time(NULL);
    char tmp[80];
    struct tm tm;

    if (now != cached_at || cached[0] == '\0') {
        gmtime_r(&now, &tm);
        /* By hand: strftime's %a and %b follow the locale. */
        snprintf(tmp, sizeof(tmp), "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7],
                 tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                 tm.tm_sec);
        memcpy(cached, tmp, sizeof(cached) - 1); /* 29 characters until the year 10000 */
        cached[sizeof(cached) - 1] = '\0';
        cached_at = now;
    }
    memcpy(out, cached, sizeof(cached));
}

static bool has_body(int status)
{
    return status >= 200 && status != 204 && status != 304;
}

/* The serialized head and body of one response, into a new payload. */
static hearth_payload_t *serialize(int status, const char *ctype, const char *extra,
                                   size_t extra_len, const void *body, size_t body_len, int minor,
                                   bool head, bool close)
{
    char date[30], line[160], clen[48];
    const char *conn =
        close ? "Connection: close\r\n" : (minor == 0 ? "Connection: keep-alive\r\n" : "");
    bool with_body = has_body(status);
    hearth_payload_t *p;
    size_t total, o = 0, ctl = ctype ? strlen(ctype) : 0, cll = 0;
    char *out;
    int n;

    http__date(date);
    n = snprintf(line, sizeof(line), "HTTP/1.1 %d %s\r\nDate: %s\r\n", status,
                 http_status_text(status), date);
    total = (size_t)n + extra_len + strlen(conn) + 2;
    if (ctype && with_body)
        total += 16 + ctl; /* "Content-Type: " ctype CRLF */
    if (with_body) {
        cll = (size_t)snprintf(clen, sizeof(clen), "Content-Length: %zu\r\n", body_len);
        total += cll;
    }
    if (with_body && !head)
        total += body_len;
    p = hearth_payload_alloc(total);
    out = hearth_payload_data(p);
    memcpy(out, line, (size_t)n);
    o = (size_t)n;
    if (ctype && with_body) {
        memcpy(out + o, "Content-Type: ", 14);
        o += 14;
        memcpy(out + o, ctype, ctl);
        o += ctl;
        memcpy(out + o, "\r\n", 2);
        o += 2;
    }
    memcpy(out + o, clen, cll);
    o += cll;
    if (extra_len) {
        memcpy(out + o, extra, extra_len);
        o += extra_len;
    }
    memcpy(out + o, conn, strlen(conn));
    o += strlen(conn);
    memcpy(out + o, "\r\n", 2);
    o += 2;
    if (with_body && !head && body_len) {
        memcpy(out + o, body, body_len);
        o += body_len;
    }
    if (o != total)
        abort(); /* the sizes above are exact: a mismatch is a bug here */
    return p;
}

hearth_payload_t *http__response_serialize(const http_response_t *res, int minor, bool head,
                                           bool close)
{
    int status = res->status ? res->status : (res->body_len ? 200 : 204);

    return serialize(status, res->ctype, res->hdrs, res->hlen, res->body, res->body_len, minor,
                     head, close || res->close);
}

hearth_payload_t *http__error_payload(int status, int minor, bool close, const char *extra)
{
    char body[128];
    int n = snprintf(body, sizeof(body), "{\"code\": 0, \"message\": \"%d: %s\"}", status,
                     http_status_text(status));

    return serialize(status, "application/json", extra, extra ? strlen(extra) : 0, body, (size_t)n,
                     minor, false, close);
}
