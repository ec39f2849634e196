/* Erlang's external term format (ETF, version 131) for the gateway's encoding=etf:
 * conversion between jansson documents and ETF terms, as Discord's gateway speaks it.
 *
 * Encoding (json -> ETF): objects become maps (MAP_EXT) with atom keys
 * (SMALL_ATOM_UTF8_EXT), strings become binaries (BINARY_EXT), integers the smallest of
 * SMALL_INTEGER_EXT, INTEGER_EXT and SMALL_BIG_EXT, reals NEW_FLOAT_EXT, arrays
 * LIST_EXT (NIL_EXT when empty), and null, true and false the atoms nil, true and
 * false (erlpack's mapping). Snowflakes stay strings (binaries): Discord's documentation
 * says they travel "as 64-bit integers or strings" over ETF, and strings keep them
 * exact in every client language.
 *
 * Decoding (ETF -> json) accepts what clients send: maps with binary, string or atom
 * keys, binaries, STRING_EXT, lists (with a proper NIL tail), tuples (as arrays), every
 * integer form up to 64 bits (an unsigned value above INT64_MAX becomes a decimal
 * string: a snowflake), both float forms and the atoms nil/null/true/false (other
 * atoms become strings). Anything else, malformed or truncated input, invalid UTF-8
 * in a string, nesting deeper than ETF_MAX_DEPTH, or bytes left after the term is a
 * decode error.
 *
 * Pure code (jansson and libc only): the fuzzers may build it alone. */
#ifndef HEARTH_APPS_HUB_ETF_H
#define HEARTH_APPS_HUB_ETF_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ETF_VERSION 131
#define ETF_MAX_DEPTH 64

/* A growable byte buffer. Zero-initialize it; free p with free(). Growth aborts on
 * OOM, as the runtime's allocations do. */
typedef struct etf_buf {
    uint8_t *p;
    size_t len, cap;
} etf_buf_t;

/* Appends len bytes. */
void etf_buf_put(etf_buf_t *b, const void *data, size_t len);
/* Makes room for at least more bytes after len. */
void etf_buf_reserve(etf_buf_t *b, size_t more);

/* Appends the encoding of v to b: with the version byte first if version is true
 * (a whole message), without it for a term to be embedded in another one (the hubs'
 * shared "d" of a dispatch). Returns 0, or -1 if v nests deeper than ETF_MAX_DEPTH
 * (b then holds a partial term: truncate it to its old length). */
int etf_encode(const json_t *v, etf_buf_t *b, bool version);

/* Term builders for code that writes a term around an embedded one (the gateway's
 * dispatch envelope): a map header of arity n, an atom, a binary, an integer. */
void etf_put_map_header(etf_buf_t *b, uint32_t arity);
void etf_put_atom(etf_buf_t *b, const char *s, size_t len);
void etf_put_binary(etf_buf_t *b, const void *s, size_t len);
void etf_put_int(etf_buf_t *b, int64_t v);

/* Decodes one whole message (version byte, one term, nothing after it) into a new
 * jansson value in *out (the caller's reference). Returns 0, or -1 for a decode
 * error (*out untouched). */
int etf_decode(const void *data, size_t len, json_t **out);

#endif /* HEARTH_APPS_HUB_ETF_H */
