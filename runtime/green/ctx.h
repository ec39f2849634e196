/* The machine context switch under green threads (ctx_x86_64.S, ctx_aarch64.S).
 *
 * A suspended context is nothing but a stack pointer: hearth__ctx_switch pushes the
 * callee-saved registers (and the floating-point control words) on the current stack,
 * stores the stack pointer in *save, loads `to`, pops the same set from there and
 * returns into that context, handing it `transfer` as the return value of ITS own
 * hearth__ctx_switch call. Caller-saved registers need no saving: the C compiler
 * already assumes a call clobbers them. No signal mask is touched (swapcontext's
 * syscall is what makes it 20-30x slower).
 *
 * A new context is made by hearth__ctx_make: a frame laid out as if it had switched
 * out, whose return address is the trampoline; the first switch into it calls
 * entry(arg, transfer), which must never return (it switches away for good). */
#ifndef HEARTH_RUNTIME_GREEN_CTX_H
#define HEARTH_RUNTIME_GREEN_CTX_H

#include <stddef.h>
#include <stdint.h>

typedef void (*hearth__ctx_entry_fn)(void *arg, void *transfer);

/* Saves the running context in *save and resumes the one saved at `to`. Returns, when
 * something switches back to *save, the transfer value that switch passed. */
void *hearth__ctx_switch(void **save, void *to, void *transfer);

/* Lays out a new context on the stack whose highest address is top (exclusive).
 * Returns the stack pointer to hand to hearth__ctx_switch. top must be 16-aligned. */
void *hearth__ctx_make(void *top, hearth__ctx_entry_fn entry, void *arg);

#endif /* HEARTH_RUNTIME_GREEN_CTX_H */
