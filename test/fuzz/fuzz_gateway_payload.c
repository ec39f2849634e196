/* libFuzzer target: the gateway's payload decoding, the step after the WebSocket frame
 * decoder (fuzz_ws_frame): a client message becomes a JSON object either by jansson
 * (encoding=json, duplicates refused as the gateway does) or by the ETF decoder
 * (encoding=etf). The first input byte picks which; the rest is the message.
 *
 * Beyond not crashing, it checks what the gateway relies on: whatever decodes
 * re-encodes, and the ETF encoding of a decoded value decodes to an equal value (so a
 * session that echoes or forwards a payload never produces a term it cannot read). */
#include "hub/etf.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_etf_round_trip(const json_t *v)
{
    etf_buf_t b = {0};
    json_t *again = NULL;

    if (etf_encode(v, &b, true) == 0) {
        if (etf_decode(b.p, b.len, &again) != 0 || !json_equal(v, again))
            abort(); /* an encoding the decoder refuses or reads differently */
        json_decref(again);
    }
    free(b.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *v = NULL;

    if (size < 1)
        return 0;
    if (data[0] & 1) {
        if (etf_decode(data + 1, size - 1, &v) != 0)
            return 0;
    } else {
        v = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, NULL);
        if (v == NULL)
            return 0;
    }
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (text == NULL)
        abort(); /* a decoded value jansson cannot write back */
    free(text);
    check_etf_round_trip(v);
    json_decref(v);
    return 0;
}
