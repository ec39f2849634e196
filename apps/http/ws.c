/* WebSocket (RFC 6455) frames: the decoder of client frames, the header encoder of
 * server frames, the handshake's accept key and the UTF-8 check.
 *
 * Decoding works on the bytes of a read where they lie: a frame wholly inside the
 * read is unmasked in place and handed out from there, so the common case (a small
 * message in one read) copies nothing. Only a frame split across reads is kept, in a
 * buffer allocated for it and freed once it is complete; a fragmented message is
 * reassembled in a second buffer that lives until its final fragment. Both are
 * bounded: a frame header announcing more than max_message is refused (1009) before
 * any of its payload is buffered.
 *
 * Strictness (each a 1002 unless said): client frames must be masked; reserved bits
 * must be 0 (no extension is ever negotiated); opcodes other than 0-2 and 8-10 are
 * refused; control frames are final and at most 125 bytes; a continuation needs a
 * message to continue and a new data frame must not interrupt one; lengths use the
 * shortest encoding and 63 bits; a close payload is empty or a valid code plus a
 * UTF-8 reason; text messages are UTF-8 (1007). */
#include "internal.h"

#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

void ws_decoder_init(ws_decoder_t *d, size_t max_message)
{
    memset(d, 0, sizeof(*d));
    d->max_message = max_message ? max_message : HTTP_DEFAULT_WS_MAX_MESSAGE;
}

void ws_decoder_free(ws_decoder_t *d)
{
    free(d->buf);
    free(d->msg);
    d->buf = d->msg = NULL;
    d->blen = d->bcap = d->mlen = 0;
    d->mop = 0;
}

size_t ws_decoder_pending(const ws_decoder_t *d, const uint8_t **data)
{
    *data = d->buf;
    return d->blen;
}

bool ws_close_code_valid(unsigned code)
{
    if (code >= 3000 && code <= 4999)
        return true;
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
}

bool ws_utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    uint64_t w;
    uint8_t c;

    while (i < len) {
        /* ASCII runs, 8 bytes at a time: JSON is mostly ASCII. */
        while (len - i >= 8) {
            memcpy(&w, s + i, 8);
            if (w & 0x8080808080808080ull)
                break;
            i += 8;
        }
        if (i >= len)
            break;
        c = s[i];
        if (c < 0x80) {
            i++;
        } else if (c >= 0xC2 && c <= 0xDF) {
            if (len - i < 2 || (s[i + 1] & 0xC0) != 0x80)
                return false;
            i += 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            if (len - i < 3 || (s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80)
                return false;
            if (c == 0xE0 && s[i + 1] < 0xA0) /* overlong */
                return false;
            if (c == 0xED && s[i + 1] > 0x9F) /* surrogates */
                return false;
            i += 3;
        } else if (c >= 0xF0 && c <= 0xF4) {
            if (len - i < 4 || (s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80 ||
                (s[i + 3] & 0xC0) != 0x80)
                return false;
            if (c == 0xF0 && s[i + 1] < 0x90) /* overlong */
                return false;
            if (c == 0xF4 && s[i + 1] > 0x8F) /* above U+10FFFF */
                return false;
            i += 4;
        } else {
            return false; /* a continuation byte first, 0xC0, 0xC1, 0xF5 and above */
        }
    }
    return true;
}

/* Unmasks len bytes in place; the key turns with the offset. */
static void unmask(uint8_t *p, size_t len, const uint8_t key[4])
{
    uint64_t k8;
    size_t i = 0;
    uint8_t k[8];

    for (int j = 0; j < 8; j++)
        k[j] = key[j & 3];
    memcpy(&k8, k, 8);
    for (; len - i >= 8; i += 8) {
        uint64_t w;

        memcpy(&w, p + i, 8);
        w ^= k8;
        memcpy(p + i, &w, 8);
    }
    for (; i < len; i++)
        p[i] ^= key[i & 3];
}

typedef struct frame {
    bool fin;
    uint8_t op;
    uint8_t key[4];
    size_t hlen;
    uint64_t plen;
} frame_t;

/* Parses a frame header at p (n bytes). Returns 1 with *f filled, 0 if more bytes are
 * needed, or a close code. */
static int header(ws_decoder_t *d, const uint8_t *p, size_t n, frame_t *f)
{
    uint64_t len;
    size_t hlen = 2;

    if (n < 2)
        return 0;
    f->fin = p[0] & 0x80;
    f->op = p[0] & 0x0F;
    if (p[0] & 0x70)
        return WS_CLOSE_PROTOCOL; /* RSV1-3 without an extension */
    if (!(p[1] & 0x80))
        return WS_CLOSE_PROTOCOL; /* clients must mask */
    switch (f->op) {
    case WS_OP_CONT:
    case WS_OP_TEXT:
    case WS_OP_BINARY:
        break;
    case WS_OP_CLOSE:
    case WS_OP_PING:
    case WS_OP_PONG:
        if (!f->fin || (p[1] & 0x7F) > 125)
            return WS_CLOSE_PROTOCOL;
        break;
    default:
        return WS_CLOSE_PROTOCOL;
    }
    len = p[1] & 0x7F;
    if (len == 126) {
        if (n < 4)
            return 0;
        len = (uint64_t)p[2] << 8 | p[3];
        if (len < 126)
            return WS_CLOSE_PROTOCOL; /* not the shortest form */
        hlen = 4;
    } else if (len == 127) {
        if (n < 10)
            return 0;
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | p[2 + i];
        if (len >> 63 || len <= 0xFFFF)
            return WS_CLOSE_PROTOCOL;
        hlen = 10;
    }
    /* Order and sizes, before the mask key and before any payload is buffered. */
    if (f->op == WS_OP_CONT) {
        if (d->mop == 0)
            return WS_CLOSE_PROTOCOL;
        if (len > d->max_message - d->mlen)
            return WS_CLOSE_TOO_BIG;
    } else if (f->op < WS_OP_CLOSE) {
        if (d->mop != 0)
            return WS_CLOSE_PROTOCOL; /* a new message inside a fragmented one */
        if (len > d->max_message)
            return WS_CLOSE_TOO_BIG;
    }
    if (n < hlen + 4)
        return 0;
    memcpy(f->key, p + hlen, 4);
    f->hlen = hlen + 4;
    f->plen = len;
    return 1;
}

/* A complete, unmasked frame: delivers it, or adds it to the message being
 * reassembled. Returns fn's result (non-zero: stop), or a close code as a negative
 * number. */
static int frame(ws_decoder_t *d, const frame_t *f, uint8_t *pl, ws_event_fn fn, void *arg)
{
    unsigned code;
    int r;

    if (f->op == WS_OP_CLOSE) {
        if (f->plen == 1)
            return -WS_CLOSE_PROTOCOL;
        if (f->plen >= 2) {
            code = (unsigned)pl[0] << 8 | pl[1];
            if (!ws_close_code_valid(code))
                return -WS_CLOSE_PROTOCOL;
            if (!ws_utf8_valid(pl + 2, (size_t)f->plen - 2))
                return -WS_CLOSE_INVALID_DATA;
        }
        return fn(arg, WS_OP_CLOSE, pl, (size_t)f->plen);
    }
    if (f->op == WS_OP_PING || f->op == WS_OP_PONG)
        return fn(arg, f->op, pl, (size_t)f->plen);

    if (f->op != WS_OP_CONT && f->fin) { /* the usual case: a whole message */
        if (f->op == WS_OP_TEXT && !ws_utf8_valid(pl, (size_t)f->plen))
            return -WS_CLOSE_INVALID_DATA;
        return fn(arg, f->op, pl, (size_t)f->plen);
    }
    /* A fragment: header() bounded mlen + plen by max_message. */
    if (f->op != WS_OP_CONT)
        d->mop = f->op;
    if (f->plen) {
        d->msg = http__realloc(d->msg, d->mlen + (size_t)f->plen);
        memcpy(d->msg + d->mlen, pl, (size_t)f->plen);
        d->mlen += (size_t)f->plen;
    }
    if (!f->fin)
        return 0;
    if (d->mop == WS_OP_TEXT && !ws_utf8_valid(d->msg, d->mlen)) {
        r = -WS_CLOSE_INVALID_DATA;
    } else {
        uint8_t empty = 0;

        r = fn(arg, d->mop, d->msg ? d->msg : &empty, d->mlen);
    }
    free(d->msg);
    d->msg = NULL;
    d->mlen = 0;
    d->mop = 0;
    return r;
}

/* Keeps the n bytes at p (the unconsumed rest) in d->buf; in_buf: p points into it. */
static void keep(ws_decoder_t *d, bool in_buf, const uint8_t *p, size_t n)
{
    if (n == 0) {
        free(d->buf);
        d->buf = NULL;
        d->blen = d->bcap = 0;
        return;
    }
    if (in_buf) {
        memmove(d->buf, p, n);
    } else {
        if (n > d->bcap) {
            d->buf = http__realloc(d->buf, n);
            d->bcap = n;
        }
        memcpy(d->buf, p, n);
    }
    d->blen = n;
}

int ws_decoder_feed(ws_decoder_t *d, uint8_t *data, size_t len, ws_event_fn fn, void *arg)
{
    uint8_t *src;
    size_t n, pos = 0, cap;
    bool in_buf = d->blen > 0;
    frame_t f;
    int r;

    if (d->failed)
        return WS_CLOSE_PROTOCOL;
    if (!in_buf && len == 0)
        return 0;
    if (in_buf) {
        /* A partial frame waits: append (bounded: it is at most one frame's header and
         * payload, checked by header(), plus this read). */
        if (len > 0) {
            if (d->blen + len > d->bcap) {
                cap = d->bcap * 2 > d->blen + len ? d->bcap * 2 : d->blen + len;
                d->buf = http__realloc(d->buf, cap);
                d->bcap = cap;
            }
            memcpy(d->buf + d->blen, data, len);
            d->blen += len;
        }
        src = d->buf;
        n = d->blen;
    } else {
        src = data;
        n = len;
    }

    for (;;) {
        r = header(d, src + pos, n - pos, &f);
        if (r == 0)
            break;
        if (r != 1)
            goto failed;
        if (n - pos - f.hlen < f.plen)
            break;
        unmask(src + pos + f.hlen, (size_t)f.plen, f.key);
        r = frame(d, &f, src + pos + f.hlen, fn, arg);
        pos += f.hlen + (size_t)f.plen;
        if (r < 0) {
            r = -r;
            goto failed;
        }
        if (r > 0)
            break; /* the caller stopped: keep the rest */
    }
    keep(d, in_buf, src + pos, n - pos);
    return 0;

failed:
    d->failed = true;
    ws_decoder_free(d);
    return r;
}

size_t ws_frame_header(uint8_t *out, int opcode, uint64_t len)
{
    out[0] = (uint8_t)(0x80 | (opcode & 0x0F));
    if (len < 126) {
        out[1] = (uint8_t)len;
        return 2;
    }
    if (len <= 0xFFFF) {
        out[1] = 126;
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
        return 4;
    }
    out[1] = 127;
    for (int i = 0; i < 8; i++)
        out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
    return 10;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int ws_accept_key(const char *key, char out[29])
{
    unsigned char in[24 + sizeof(WS_GUID) - 1];
    unsigned char md[SHA_DIGEST_LENGTH];
    size_t i, o = 0;
    uint32_t v;

    /* 16 bytes in base64: 22 characters and "==" (the last one holding 2 bits, so
     * one of AQgw). */
    if (key == NULL || strlen(key) != 24 || key[22] != '=' || key[23] != '=')
        return -1;
    for (i = 0; i < 22; i++)
        if (strchr(b64, key[i]) == NULL || key[i] == '\0')
            return -1;
    if (strchr("AQgw", key[21]) == NULL)
        return -1;
    memcpy(in, key, 24);
    memcpy(in + 24, WS_GUID, sizeof(WS_GUID) - 1);
    SHA1(in, sizeof(in), md);
    for (i = 0; i + 2 < SHA_DIGEST_LENGTH; i += 3) {
        v = (uint32_t)md[i] << 16 | (uint32_t)md[i + 1] << 8 | md[i + 2];
        out[o++] = b64[v >> 18 & 63];
        out[o++] = b64[v >> 12 & 63];
        out[o++] = b64[v >> 6 & 63];
        out[o++] = b64[v & 63];
    }
    /* 20 = 6 * 3 + 2: the last two bytes give three characters and one '='. */
    v = (uint32_t)md[18] << 16 | (uint32_t)md[19] << 8;
    out[o++] = b64[v >> 18 & 63];
    out[o++] = b64[v >> 12 & 63];
    out[o++] = b64[v >> 6 & 63];
    out[o++] = '=';
    out[o] = '\0';
    return 0;
}
