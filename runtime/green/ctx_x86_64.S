/* The green thread context switch for x86-64 (System V ABI); see ctx.h.
 *
 * A saved context is a 64-byte frame on its own stack, lowest address first:
 *   0: MXCSR (4 bytes), x87 control word (2 bytes), padding
 *   8: r15, r14, r13, r12, rbx, rbp
 *  56: the return address (where the context resumes)
 * These are exactly the registers the ABI says a callee must preserve, plus the
 * control bits of MXCSR and the x87 control word, which the ABI also makes
 * callee-saved. Everything else is caller-saved, so the compiler has already
 * spilled whatever it needs before calling hearth__ctx_switch. */
#if defined(__x86_64__)

    .text

/* void *hearth__ctx_switch(void **save, void *to, void *transfer)
 * rdi = save, rsi = to, rdx = transfer; returns transfer in rax in the resumed
 * context. */
    .globl hearth__ctx_switch
    .hidden hearth__ctx_switch
    .type hearth__ctx_switch, @function
    .p2align 4
hearth__ctx_switch:
    .cfi_startproc
    pushq %rbp
    .cfi_adjust_cfa_offset 8
    pushq %rbx
    .cfi_adjust_cfa_offset 8
    pushq %r12
    .cfi_adjust_cfa_offset 8
    pushq %r13
    .cfi_adjust_cfa_offset 8
    pushq %r14
    .cfi_adjust_cfa_offset 8
    pushq %r15
    .cfi_adjust_cfa_offset 8
    subq $8, %rsp
    .cfi_adjust_cfa_offset 8
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    /* From here on we run on the other context's stack. */
    movq %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    movq %rdx, %rax
    ret
    .cfi_endproc
    .size hearth__ctx_switch, .-hearth__ctx_switch

/* The first return into a new context lands here with r12 = entry, r13 = arg,
 * rax = transfer and rsp 16-aligned, as a call site needs. entry never returns:
 * ud2 traps if it ever does. The undefined return address ends stack walks here. */
    .type hearth__ctx_trampoline, @function
    .p2align 4
hearth__ctx_trampoline:
    .cfi_startproc
    .cfi_undefined rip
    movq %r13, %rdi
    movq %rax, %rsi
    callq *%r12
    ud2
    .cfi_endproc
    .size hearth__ctx_trampoline, .-hearth__ctx_trampoline

/* void *hearth__ctx_make(void *top, hearth__ctx_entry_fn entry, void *arg)
 * rdi = top (16-aligned), rsi = entry, rdx = arg. The new context inherits the
 * caller's floating-point control words, as a new thread would. */
    .globl hearth__ctx_make
    .hidden hearth__ctx_make
    .type hearth__ctx_make, @function
    .p2align 4
hearth__ctx_make:
    .cfi_startproc
    leaq -64(%rdi), %rax
    stmxcsr (%rax)
    fnstcw 4(%rax)
    movw $0, 6(%rax)
    movq $0, 8(%rax)        /* r15 */
    movq $0, 16(%rax)       /* r14 */
    movq %rdx, 24(%rax)     /* r13 = arg */
    movq %rsi, 32(%rax)     /* r12 = entry */
    movq $0, 40(%rax)       /* rbx */
    movq $0, 48(%rax)       /* rbp: 0 ends frame-pointer walks */
    leaq hearth__ctx_trampoline(%rip), %rcx
    movq %rcx, 56(%rax)
    ret
    .cfi_endproc
    .size hearth__ctx_make, .-hearth__ctx_make

#endif /* __x86_64__ */

/* No executable stack, whichever architecture this file was built for (32-bit ARM
 * assemblers read '@' as a comment; '%' works on both ARM targets). */
#if defined(__linux__) && defined(__ELF__)
#if defined(__arm__) || defined(__aarch64__)
    .section .note.GNU-stack,"",%progbits
#else
    .section .note.GNU-stack,"",@progbits
#endif
#endif
