/* Snowflake ids, as Discord makes them: 64 bits, sent on the wire as decimal strings.
 *
 *   bits 63..22  milliseconds since the Discord epoch, 2015-01-01T00:00:00Z
 *   bits 21..17  worker id (0..31)
 *   bits 16..12  process id (0..31)
 *   bits 11..0   a sequence within the millisecond
 *
 * snowflake_next() is thread-safe and strictly increasing within one process: the
 * whole generator is one 64-bit state advanced by compare-and-swap. */
#ifndef HEARTH_STORE_SNOWFLAKE_H
#define HEARTH_STORE_SNOWFLAKE_H

#include <stdint.h>

#define SNOWFLAKE_EPOCH_MS 1420070400000LL /* 2015-01-01T00:00:00Z */

/* A new id, greater than every id this process made before. Never 0. */
uint64_t snowflake_next(void);

/* Sets the worker and process ids (each 0..31; higher bits are dropped) that later
 * ids carry. Call at start, before ids are made. */
void snowflake_set_ids(unsigned worker, unsigned process);

/* The Unix time in milliseconds that id was made at. */
int64_t snowflake_ms(uint64_t id);

/* The smallest id made at Unix time ms or later (ms before the epoch: 0). For
 * "messages since" bounds. */
uint64_t snowflake_from_ms(int64_t ms);

/* Formats id as a decimal string into buf (at least 21 bytes); returns buf. */
char *snowflake_str(uint64_t id, char buf[21]);

/* Parses a decimal snowflake string (1..20 digits, no sign, no spaces, not 0).
 * Returns 0 and the id in *out, or -1 if s is not one. */
int snowflake_parse(const char *s, uint64_t *out);

#endif /* HEARTH_STORE_SNOWFLAKE_H */
