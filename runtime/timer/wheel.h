/* The timing wheel behind hearth_send_after: a hierarchical wheel of 4 levels x 256
 * slots at 1 ms resolution plus an overflow list, one per scheduler.
 *
 * This layer knows nothing of processes or messages: a timer carries an opaque
 * 64-bit target and an opaque pointer, and firing hands both to a callback. That
 * keeps it testable without the runtime (test/test-timer.c drives it against a
 * sorted model); runtime/timer/timer.c glues it to hearth_send.
 *
 * Threads: every call may come from any thread; each wheel has its own mutex. Only
 * run and next are meant for the owning scheduler. A ref names its wheel, so cancel
 * needs no wheel argument and works whichever thread started the timer. */
#ifndef HEARTH_RUNTIME_TIMER_WHEEL_H
#define HEARTH_RUNTIME_TIMER_WHEEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hearth__wheel hearth__wheel_t;

/* Called once per fired timer, in due order (FIFO among equal dues), with the
 * wheel's lock not held: fire may start or cancel timers, on this wheel too. fire
 * owns ptr from then on. */
typedef void (*hearth__wheel_fire_fn)(uint64_t target, void *ptr, void *arg);

/* Largest number of timers pending on one wheel at once. */
#define HEARTH__WHEEL_MAX_TIMERS (1u << 24)

/* A new empty wheel whose clock reads now_ms. Aborts on OOM, or if more than 1,024
 * wheels exist at once. Returns the wheel; free it with hearth__wheel_destroy. */
hearth__wheel_t *hearth__wheel_create(uint64_t now_ms);

/* Frees w and every timer still pending on it, passing each one's ptr to free_ptr
 * (unless NULL). No other thread may use w or its refs meanwhile. */
void hearth__wheel_destroy(hearth__wheel_t *w, void (*free_ptr)(void *ptr));

/* Starts a timer due at due_ms (absolute, on the clock run and next use) that will
 * pass (target, ptr) to the fire callback. A due time the wheel has already passed
 * fires on the next run. Stores a nonzero ref in *ref (may be NULL).
 * *wake (may be NULL) is set true when the new timer is due before the time the
 * owner last planned to wake up (see hearth__wheel_next): a caller on another thread
 * must then wake the owner so it sleeps less. Returns 0, or HEARTH_ENOMEM when w
 * already holds HEARTH__WHEEL_MAX_TIMERS timers (ptr then still belongs to the
 * caller). */
int hearth__wheel_start(hearth__wheel_t *w, uint64_t due_ms, uint64_t target, void *ptr,
                        uint64_t *ref, bool *wake);

/* Cancels the timer ref names, on whichever wheel holds it. Returns 0 and stores its
 * ptr (now the caller's) in *ptr, or HEARTH_ENOENT if it already fired, is firing
 * right now, was canceled, or ref never named a timer. Safe against reuse: a stale
 * ref never cancels a later timer that took the same node. */
int hearth__wheel_cancel(uint64_t ref, void **ptr);

/* Fires every timer due at or before now_ms, through fire(target, ptr, arg). Returns
 * how many fired. Only one thread may run a given wheel at a time. */
size_t hearth__wheel_run(hearth__wheel_t *w, uint64_t now_ms, hearth__wheel_fire_fn fire,
                         void *arg);

/* Milliseconds from now_ms until the next timer may be due (0 if one is due already),
 * or -1 if none is pending. Never late: no timer is due before now_ms + the result.
 * It may be early by design when the next timer sits on an upper level: the owner
 * then wakes at that level's boundary, cascades, and asks again (a timer d ms away
 * costs at most one wake-up per level, not one per millisecond). The answer (and
 * each run) is remembered as the owner's plan for hearth__wheel_start's *wake. */
int64_t hearth__wheel_next(hearth__wheel_t *w, uint64_t now_ms);

/* Timers pending on w (not counting ones being fired). */
size_t hearth__wheel_pending(hearth__wheel_t *w);

/* Bytes w holds: its own struct and its node chunks. */
size_t hearth__wheel_bytes(hearth__wheel_t *w);

#endif /* HEARTH_RUNTIME_TIMER_WHEEL_H */
