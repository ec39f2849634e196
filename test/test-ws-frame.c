/* Unit tests of the WebSocket frame codec (apps/http/ws.c) without sockets: the
 * handshake key, the decoder under every split of its input, reassembly, control
 * frames, each protocol violation and its close code, UTF-8, and that an idle
 * decoder holds no memory. */
#include "task.h"

#include "http/internal.h"

#include <stdlib.h>
#include <string.h>

/* Appends a masked client frame to buf at *len. */
static void client_frame(uint8_t *buf, size_t *len, int b0, const void *data, size_t n)
{
    static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
    uint8_t *o = buf + *len;
    size_t h = 0;

    o[h++] = (uint8_t)b0;
    if (n < 126) {
        o[h++] = (uint8_t)(0x80 | n);
    } else if (n <= 0xFFFF) {
        o[h++] = 0x80 | 126;
        o[h++] = (uint8_t)(n >> 8);
        o[h++] = (uint8_t)n;
    } else {
        o[h++] = 0x80 | 127;
        for (int i = 0; i < 8; i++)
            o[h++] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
    }
    memcpy(o + h, key, 4);
    h += 4;
    for (size_t i = 0; i < n; i++)
        o[h + i] = ((const uint8_t *)data)[i] ^ key[i & 3];
    *len += h + n;
}

/* What the decoder reported: a log of "op:len:first-bytes" entries. */
typedef struct events {
    char log[4096];
    size_t n;
    int stop_after; /* stop after this many events (0: never) */
} events_t;

static int on_event(void *arg, int opcode, uint8_t *data, size_t len)
{
    events_t *e = arg;
    size_t l = strlen(e->log);

    snprintf(e->log + l, sizeof(e->log) - l, "%d:%zu:%.*s;", opcode, len, (int)(len < 8 ? len : 8),
             (const char *)data);
    e->n++;
    return e->stop_after != 0 && e->n == (size_t)e->stop_after;
}

/* Decodes len bytes of src in pieces of piece bytes; returns the first non-zero
 * feed result (or 0) and the log in e. */
static int decode(const uint8_t *src, size_t len, size_t piece, size_t max, events_t *e)
{
    uint8_t *copy = malloc(len);
    ws_decoder_t d;
    size_t off, n;
    int r = 0;

    memcpy(copy, src, len);
    memset(e, 0, sizeof(*e));
    ws_decoder_init(&d, max);
    for (off = 0; off < len && r == 0; off += n) {
        n = len - off < piece ? len - off : piece;
        r = ws_decoder_feed(&d, copy + off, n, on_event, e);
    }
    if (r == 0) {
        /* Everything consumed: nothing held. */
        ASSERT_NULL(d.buf);
        ASSERT_NULL(d.msg);
    }
    ws_decoder_free(&d);
    free(copy);
    return r;
}

TEST_IMPL(ws_accept_key)
{
    char out[29];

    /* RFC 6455 section 1.3. */
    ASSERT_OK(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out));
    ASSERT_STR_EQ("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", out);
    ASSERT_EQ(-1, ws_accept_key(NULL, out));
    ASSERT_EQ(-1, ws_accept_key("", out));
    ASSERT_EQ(-1, ws_accept_key("dGhlIHNhbXBsZSBub25jZQ=", out));
    ASSERT_EQ(-1, ws_accept_key("dGhlIHNhbXBsZSBub25jZQ===", out));
    ASSERT_EQ(-1, ws_accept_key("dGhlIHNhbXBsZSBub25jZ!==", out));
    ASSERT_EQ(-1, ws_accept_key("dGhlIHNhbXBsZSBub25jZB==", out)); /* stray low bits */
    return 0;
}

TEST_IMPL(ws_frame_header)
{
    uint8_t h[10];

    ASSERT_EQ(2, ws_frame_header(h, WS_OP_TEXT, 0));
    ASSERT_EQ(0x81, h[0]);
    ASSERT_EQ(0, h[1]);
    ASSERT_EQ(2, ws_frame_header(h, WS_OP_BINARY, 125));
    ASSERT_EQ(0x82, h[0]);
    ASSERT_EQ(125, h[1]);
    ASSERT_EQ(4, ws_frame_header(h, WS_OP_TEXT, 126));
    ASSERT_EQ(126, h[1]);
    ASSERT_EQ(0, h[2]);
    ASSERT_EQ(126, h[3]);
    ASSERT_EQ(4, ws_frame_header(h, WS_OP_TEXT, 65535));
    ASSERT_EQ(10, ws_frame_header(h, WS_OP_TEXT, 65536));
    ASSERT_EQ(127, h[1]);
    ASSERT_EQ(1, h[7]);
    ASSERT_EQ(0, h[9]);
    return 0;
}

/* A stream of every kind of frame decodes to the same events however it is cut. */
TEST_IMPL(ws_decoder_pieces)
{
    static uint8_t stream[80000], big[70000];
    events_t whole, cut;
    size_t len = 0, piece;
    uint8_t close[] = {0x03, 0xE8, 'b', 'y', 'e'};

    memset(big, 'B', sizeof(big));
    client_frame(stream, &len, 0x81, "{\"op\":1}", 8);
    client_frame(stream, &len, 0x01, "frag", 4);         /* text, not final */
    client_frame(stream, &len, 0x89, "ping!", 5);        /* a ping in between */
    client_frame(stream, &len, 0x00, "ment", 4);         /* continuation */
    client_frame(stream, &len, 0x80, "ed", 2);           /* final continuation */
    client_frame(stream, &len, 0x82, big, 300);          /* 16-bit length */
    client_frame(stream, &len, 0x8A, "", 0);             /* pong */
    client_frame(stream, &len, 0x82, big, sizeof(big));  /* 64-bit length */
    client_frame(stream, &len, 0x81, "h\xc3\xa9llo", 6); /* UTF-8 */
    client_frame(stream, &len, 0x88, close, sizeof(close));

    ASSERT_OK(decode(stream, len, len, 128 << 10, &whole));
    ASSERT_STR_EQ("1:8:{\"op\":1};9:5:ping!;1:10:fragment;2:300:BBBBBBBB;10:0:;"
                  "2:70000:BBBBBBBB;1:6:h\xc3\xa9llo;8:5:\x03\xe8"
                  "bye;",
                  whole.log);
    for (piece = 1; piece < 200; piece++) {
        ASSERT_OK(decode(stream, len, piece, 128 << 10, &cut));
        ASSERT_STR_EQ(whole.log, cut.log);
    }
    for (piece = 1000; piece < len; piece += 997) {
        ASSERT_OK(decode(stream, len, piece, 128 << 10, &cut));
        ASSERT_STR_EQ(whole.log, cut.log);
    }
    return 0;
}

TEST_IMPL(ws_decoder_errors)
{
    static const struct {
        uint8_t bytes[16];
        size_t len;
        int code;
    } raw[] = {
        {{0x81, 0x02, 'h', 'i'}, 4, WS_CLOSE_PROTOCOL},                   /* unmasked */
        {{0xC1, 0x80, 0, 0, 0, 0}, 6, WS_CLOSE_PROTOCOL},                 /* RSV1 */
        {{0x83, 0x80, 0, 0, 0, 0}, 6, WS_CLOSE_PROTOCOL},                 /* opcode 3 */
        {{0x8B, 0x80, 0, 0, 0, 0}, 6, WS_CLOSE_PROTOCOL},                 /* opcode 11 */
        {{0x09, 0x80, 0, 0, 0, 0}, 6, WS_CLOSE_PROTOCOL},                 /* fragmented ping */
        {{0x89, 0xFE, 0, 126}, 4, WS_CLOSE_PROTOCOL},                     /* 126-byte ping */
        {{0x80, 0x80, 0, 0, 0, 0}, 6, WS_CLOSE_PROTOCOL},                 /* nothing to continue */
        {{0x81, 0xFE, 0, 5, 0, 0, 0, 0}, 8, WS_CLOSE_PROTOCOL},           /* 16-bit for 5 */
        {{0x81, 0xFF, 0, 0, 0, 0, 0, 0, 0, 5}, 10, WS_CLOSE_PROTOCOL},    /* 64-bit for 5 */
        {{0x81, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0}, 10, WS_CLOSE_PROTOCOL}, /* bit 63 */
        {{0x82, 0xFF, 0, 0, 0, 1, 0, 0, 0, 0}, 10, WS_CLOSE_TOO_BIG},     /* 4 GiB */
    };
    static uint8_t big[2000];
    uint8_t s[4096];
    events_t e;
    size_t len;

    for (size_t i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
        int r = decode(raw[i].bytes, raw[i].len, raw[i].len, 1024, &e);

        if (r != raw[i].code)
            fprintf(stderr, "raw case %zu\n", i);
        ASSERT_EQ(raw[i].code, r);
    }
    /* A new message inside a fragmented one. */
    len = 0;
    client_frame(s, &len, 0x01, "a", 1);
    client_frame(s, &len, 0x81, "b", 1);
    ASSERT_EQ(WS_CLOSE_PROTOCOL, decode(s, len, len, 1024, &e));
    /* Text that is not UTF-8, whole or reassembled. */
    len = 0;
    client_frame(s, &len, 0x81, "\xc3\x28", 2);
    ASSERT_EQ(WS_CLOSE_INVALID_DATA, decode(s, len, len, 1024, &e));
    len = 0;
    client_frame(s, &len, 0x01, "\xe2\x82", 2);
    client_frame(s, &len, 0x80, "\x28", 1);
    ASSERT_EQ(WS_CLOSE_INVALID_DATA, decode(s, len, len, 1024, &e));
    /* ...but a code point split across fragments is fine. */
    len = 0;
    client_frame(s, &len, 0x01, "\xe2\x82", 2);
    client_frame(s, &len, 0x80, "\xac", 1);
    ASSERT_OK(decode(s, len, len, 1024, &e));
    ASSERT_STR_EQ("1:3:\xe2\x82\xac;", e.log);
    /* Over the message limit: one frame, or fragments adding up. */
    len = 0;
    client_frame(s, &len, 0x82, big, 1025);
    ASSERT_EQ(WS_CLOSE_TOO_BIG, decode(s, len, len, 1024, &e));
    len = 0;
    client_frame(s, &len, 0x02, big, 1000);
    client_frame(s, &len, 0x80, big, 25);
    ASSERT_EQ(WS_CLOSE_TOO_BIG, decode(s, len, len, 1024, &e));
    /* Exactly the limit is fine. */
    len = 0;
    client_frame(s, &len, 0x02, big, 1000);
    client_frame(s, &len, 0x80, big, 24);
    ASSERT_OK(decode(s, len, len, 1024, &e));
    /* The oversize frame is refused from its header alone, before its payload. */
    len = 0;
    client_frame(s, &len, 0x82, big, 1025);
    ASSERT_EQ(WS_CLOSE_TOO_BIG, decode(s, 8, 8, 1024, &e));
    /* Close payloads: one byte, a reserved code, a reason that is not UTF-8. */
    len = 0;
    client_frame(s, &len, 0x88, "\x03", 1);
    ASSERT_EQ(WS_CLOSE_PROTOCOL, decode(s, len, len, 1024, &e));
    len = 0;
    client_frame(s, &len, 0x88, "\x03\xed", 2); /* 1005 */
    ASSERT_EQ(WS_CLOSE_PROTOCOL, decode(s, len, len, 1024, &e));
    len = 0;
    client_frame(s, &len, 0x88, "\x03\xe8\xff", 3);
    ASSERT_EQ(WS_CLOSE_INVALID_DATA, decode(s, len, len, 1024, &e));
    len = 0;
    client_frame(s, &len, 0x88, "\x0f\xa0", 2); /* 4000: an application's */
    ASSERT_OK(decode(s, len, len, 1024, &e));
    return 0;
}

TEST_IMPL(ws_decoder_stop)
{
    uint8_t s[256];
    const uint8_t *rest;
    events_t e;
    ws_decoder_t d;
    size_t len = 0;

    client_frame(s, &len, 0x81, "one", 3);
    client_frame(s, &len, 0x81, "two", 3);
    client_frame(s, &len, 0x81, "thr", 3);
    memset(&e, 0, sizeof(e));
    e.stop_after = 1;
    ws_decoder_init(&d, 0);
    ASSERT_OK(ws_decoder_feed(&d, s, len, on_event, &e));
    ASSERT_STR_EQ("1:3:one;", e.log);
    /* The rest is kept, as raw (still masked) frames another decoder could take. */
    ASSERT_EQ(2 * 9, ws_decoder_pending(&d, &rest));
    ASSERT_EQ(0x81, rest[0]);
    e.stop_after = 0;
    ASSERT_OK(ws_decoder_feed(&d, NULL, 0, on_event, &e));
    ASSERT_STR_EQ("1:3:one;1:3:two;1:3:thr;", e.log);
    ASSERT_NULL(d.buf);
    ws_decoder_free(&d);
    return 0;
}

TEST_IMPL(ws_utf8)
{
    static const struct {
        const char *s;
        bool ok;
    } cases[] = {
        {"", true},
        {"plain ascii, long enough for the 8-byte path", true},
        {"\xc3\xa9", true},
        {"\xe2\x82\xac", true},
        {"\xf0\x9f\x91\x8d", true},
        {"\xf4\x8f\xbf\xbf", true}, /* U+10FFFF */
        {"\xed\x9f\xbf", true},     /* U+D7FF */
        {"\xc0\xaf", false},        /* overlong */
        {"\xe0\x80\xaf", false},
        {"\xf0\x80\x80\xaf", false},
        {"\xed\xa0\x80", false},     /* surrogate */
        {"\xf4\x90\x80\x80", false}, /* above U+10FFFF */
        {"\xf5\x80\x80\x80", false},
        {"\x80", false},
        {"abcdefgh\xc3", false}, /* cut */
        {"\xe2\x82", false},
        {"\xff", false},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (ws_utf8_valid((const uint8_t *)cases[i].s, strlen(cases[i].s)) != cases[i].ok)
            fprintf(stderr, "utf8 case %zu\n", i);
        ASSERT_EQ(cases[i].ok, ws_utf8_valid((const uint8_t *)cases[i].s, strlen(cases[i].s)));
    }
    return 0;
}
