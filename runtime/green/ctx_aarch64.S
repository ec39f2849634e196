/* The green thread context switch for aarch64 (AAPCS64); see ctx.h.
 *
 * A saved context is a 176-byte frame on its own stack, lowest address first:
 *    0: x19..x28          the callee-saved general registers
 *   80: x29 (fp), x30 (lr: where the context resumes)
 *   96: d8..d15           the callee-saved halves of v8..v15
 *  160: FPCR, padding
 * Everything else is caller-saved, so the compiler has already spilled whatever it
 * needs before calling hearth__ctx_switch. */
#if defined(__aarch64__)

    .text

/* void *hearth__ctx_switch(void **save, void *to, void *transfer)
 * x0 = save, x1 = to, x2 = transfer; returns transfer in x0 in the resumed
 * context. */
    .globl hearth__ctx_switch
    .hidden hearth__ctx_switch
    .type hearth__ctx_switch, %function
    .p2align 4
hearth__ctx_switch:
    .cfi_startproc
    sub sp, sp, #176
    .cfi_adjust_cfa_offset 176
    stp x19, x20, [sp, #0]
    stp x21, x22, [sp, #16]
    stp x23, x24, [sp, #32]
    stp x25, x26, [sp, #48]
    stp x27, x28, [sp, #64]
    stp x29, x30, [sp, #80]
    stp d8, d9, [sp, #96]
    stp d10, d11, [sp, #112]
    stp d12, d13, [sp, #128]
    stp d14, d15, [sp, #144]
    mrs x9, fpcr
    str x9, [sp, #160]
    mov x9, sp
    str x9, [x0]
    /* From here on we run on the other context's stack. */
    mov sp, x1
    ldp x19, x20, [sp, #0]
    ldp x21, x22, [sp, #16]
    ldp x23, x24, [sp, #32]
    ldp x25, x26, [sp, #48]
    ldp x27, x28, [sp, #64]
    ldp x29, x30, [sp, #80]
    ldp d8, d9, [sp, #96]
    ldp d10, d11, [sp, #112]
    ldp d12, d13, [sp, #128]
    ldp d14, d15, [sp, #144]
    ldr x9, [sp, #160]
    msr fpcr, x9
    add sp, sp, #176
    mov x0, x2
    ret
    .cfi_endproc
    .size hearth__ctx_switch, .-hearth__ctx_switch

/* The first return into a new context lands here with x19 = entry, x20 = arg and
 * x0 = transfer. entry never returns: brk traps if it ever does. The undefined
 * link register ends stack walks here. */
    .type hearth__ctx_trampoline, %function
    .p2align 4
hearth__ctx_trampoline:
    .cfi_startproc
    .cfi_undefined x30
    mov x1, x0
    mov x0, x20
    blr x19
    brk #0
    .cfi_endproc
    .size hearth__ctx_trampoline, .-hearth__ctx_trampoline

/* void *hearth__ctx_make(void *top, hearth__ctx_entry_fn entry, void *arg)
 * x0 = top (16-aligned), x1 = entry, x2 = arg. The new context inherits the
 * caller's FPCR, as a new thread would. */
    .globl hearth__ctx_make
    .hidden hearth__ctx_make
    .type hearth__ctx_make, %function
    .p2align 4
hearth__ctx_make:
    .cfi_startproc
    sub x0, x0, #176
    stp x1, x2, [x0, #0]       /* x19 = entry, x20 = arg */
    stp xzr, xzr, [x0, #16]
    stp xzr, xzr, [x0, #32]
    stp xzr, xzr, [x0, #48]
    stp xzr, xzr, [x0, #64]
    adrp x9, hearth__ctx_trampoline
    add x9, x9, :lo12:hearth__ctx_trampoline
    stp xzr, x9, [x0, #80]     /* x29 = 0 ends frame-pointer walks; x30 */
    stp xzr, xzr, [x0, #96]
    stp xzr, xzr, [x0, #112]
    stp xzr, xzr, [x0, #128]
    stp xzr, xzr, [x0, #144]
    mrs x9, fpcr
    stp x9, xzr, [x0, #160]
    ret
    .cfi_endproc
    .size hearth__ctx_make, .-hearth__ctx_make

#endif /* __aarch64__ */

/* No executable stack, whichever architecture this file was built for (32-bit ARM
 * assemblers read '@' as a comment; '%' works on both ARM targets). */
#if defined(__linux__) && defined(__ELF__)
#if defined(__arm__) || defined(__aarch64__)
    .section .note.GNU-stack,"",%progbits
#else
    .section .note.GNU-stack,"",@progbits
#endif
#endif
