/* libFuzzer target: the WebSocket frame decoder (apps/http/ws.c).
 *
 * The first bytes choose the message size limit, how the rest is cut into reads and
 * after which events the callback stops the decoder (as a move or a close would); the
 * rest is a stream of client frames. The callback checks what the decoder promises:
 * only known opcodes, messages within the limit, text that is UTF-8, close payloads
 * with valid codes. The handshake key and the frame header encoder are exercised on
 * the side. */
#include "http/internal.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct ctx {
    size_t max;
    unsigned events;
    uint8_t stop_mask;
} ctx_t;

static int on_event(void *arg, int opcode, uint8_t *d, size_t len)
{
    ctx_t *c = arg;

    switch (opcode) {
    case WS_OP_TEXT:
        if (!ws_utf8_valid(d, len))
            abort();
        /* fall through */
    case WS_OP_BINARY:
        if (len > c->max)
            abort();
        break;
    case WS_OP_PING:
    case WS_OP_PONG:
        if (len > 125)
            abort();
        break;
    case WS_OP_CLOSE:
        if (len == 1 || len > 125)
            abort();
        if (len >= 2 && !ws_close_code_valid((unsigned)d[0] << 8 | d[1]))
            abort();
        break;
    default:
        abort();
    }
    if (len)
        d[len - 1] ^= 0xFF; /* the data is writable */
    return (c->stop_mask >> (c->events++ & 7)) & 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ws_decoder_t d;
    ctx_t c = {0};
    uint8_t *buf, hdr[10];
    size_t piece, off, n;
    char key[25], accept[29];
    int r = 0;

    if (size < 3)
        return 0;
    c.max = 1 + (size_t)data[0] * 64;
    piece = data[1] ? data[1] : size;
    c.stop_mask = data[2];
    data += 3;
    size -= 3;

    if (size >= 24) {
        memcpy(key, data, 24);
        key[24] = '\0';
        if (ws_accept_key(key, accept) == 0 && strlen(accept) != 28)
            abort();
    }
    if (size >= 8) {
        uint64_t len;

        memcpy(&len, data, 8);
        len >>= 1;
        n = ws_frame_header(hdr, WS_OP_BINARY, len);
        if (n != (len < 126 ? 2u : len <= 0xFFFF ? 4u : 10u))
            abort();
    }

    buf = malloc(size ? size : 1);
    if (buf == NULL)
        abort();
    memcpy(buf, data, size);
    ws_decoder_init(&d, c.max);
    for (off = 0; off < size && r == 0; off += n) {
        n = size - off < piece ? size - off : piece;
        r = ws_decoder_feed(&d, buf + off, n, on_event, &c);
        /* Resume after stops, as a connection would with the bytes it kept. */
        for (int k = 0; k < 4 && r == 0 && d.blen > 0; k++)
            r = ws_decoder_feed(&d, NULL, 0, on_event, &c);
    }
    if (r != 0 && r != WS_CLOSE_PROTOCOL && r != WS_CLOSE_INVALID_DATA && r != WS_CLOSE_TOO_BIG)
        abort();
    if (r != 0 && (d.buf != NULL || d.msg != NULL))
        abort(); /* a failed decoder holds nothing */
    ws_decoder_free(&d);
    free(buf);
    return 0;
}
