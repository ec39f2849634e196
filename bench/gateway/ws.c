/* bench/gateway/ws.c: the WebSocket client's frame codec (RFC 6455): client frames
 * out, always masked and never fragmented; server frames in, unmasked, any length
 * up to a bound. The handshake is plain text in worker.c. */
#include "bench.h"

#include <string.h>

size_t ws_encode(uint8_t *out, int opcode, const void *payload, size_t len, uint32_t mask)
{
    const uint8_t *src = payload;
    uint8_t m[4] = {(uint8_t)(mask >> 24), (uint8_t)(mask >> 16), (uint8_t)(mask >> 8),
                    (uint8_t)mask};
    size_t h = 2;

    out[0] = (uint8_t)(0x80 | (opcode & 0x0f));
    if (len < 126) {
        out[1] = (uint8_t)(0x80 | len);
    } else if (len <= 0xffff) {
        out[1] = 0x80 | 126;
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
        h = 4;
    } else {
        out[1] = 0x80 | 127;
        for (int i = 0; i < 8; i++)
            out[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
        h = 10;
    }
    memcpy(out + h, m, 4);
    h += 4;
    for (size_t i = 0; i < len; i++)
        out[h + i] = src[i] ^ m[i & 3];
    return h + len;
}

int ws_decode(const uint8_t *p, size_t n, size_t max_len, ws_frame_t *f)
{
    uint64_t len;
    size_t h = 2;

    f->total = 0;
    if (n < 2)
        return 0;
    if ((p[0] & 0x70) != 0 || (p[1] & 0x80) != 0)
        return -1; /* reserved bits (no extension was agreed) or a masked server frame */
    f->fin = (p[0] & 0x80) != 0;
    f->opcode = p[0] & 0x0f;
    len = p[1] & 0x7f;
    if (len == 126) {
        if (n < 4)
            return 0;
        len = (uint64_t)p[2] << 8 | p[3];
        h = 4;
    } else if (len == 127) {
        if (n < 10)
            return 0;
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | p[2 + i];
        h = 10;
    }
    if (len > max_len)
        return -1;
    f->total = h + (size_t)len;
    if (n < f->total)
        return 0;
    f->payload = p + h;
    f->len = (size_t)len;
    return 1;
}
