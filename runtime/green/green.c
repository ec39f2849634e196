/* Green threads: processes with a stack of their own, run by the schedulers.
 *
 * How the parts fit:
 *   ctx_*.S   the register-level switch (ctx.h);
 *   stack.c   where stacks come from (green.h);
 *   here      the run/suspend/exit protocol with the scheduler (internal.h), the
 *             stack overflow handler and the sanitizer annotations.
 *
 * Protocol: a scheduler thread calls hearth__green_run(p), which saves the
 * scheduler's own context in this thread's record (tls) and switches into p. Inside,
 * p gives the thread back with hearth__green_suspend (it blocks or yields) or
 * hearth__green_exit, passing why as the switch's transfer value. The scheduler
 * context to return to is per OS thread, never per process: a suspended green
 * thread may be resumed by another scheduler, and then returns to that one.
 *
 * Because a green thread can migrate between OS threads while suspended, code that
 * runs on a green stack must not keep the address of a thread-local across a
 * switch: the compiler may compute it once per function. Everything here reaches
 * the thread's record through tls(), which the compiler cannot fold.
 *
 * Stack overflow: a guarded stack faults on its PROT_NONE lowest page. The SIGSEGV
 * handler runs on this scheduler thread's alternate signal stack, sees the fault is
 * in the guard page of the green thread running here, and switches straight to the
 * scheduler as if the thread had exited with HEARTH_STACK_OVERFLOW: the overflowed
 * stack is abandoned (its frames never run again) and returned to the pool. Any
 * other SIGSEGV is passed to the handler that was installed before ours, or
 * re-raised with the default action: a genuine crash stays a crash. Stacks past the
 * guard budget are checked by their canary at every switch out instead.
 *
 * Limitation: an overflow inside runtime or libc code that holds a lock (malloc's,
 * say) abandons that lock with the stack. Stacks are sized so that only runaway
 * recursion overflows, which is what this turns from memory corruption into a
 * crash of one process. */
#include "ctx.h"
#include "green.h"

#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if HEARTH_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if HEARTH_TSAN
#include <sanitizer/tsan_interface.h>
#endif

/* Default stack: 64 KiB; sanitizer frames are several times larger. */
#if HEARTH_ASAN || HEARTH_TSAN
#define STACK_DEFAULT ((size_t)256 << 10)
#define STACK_SCALE 4
#else
#define STACK_DEFAULT ((size_t)64 << 10)
#define STACK_SCALE 1
#endif
#define ALTSTACK_MIN ((size_t)64 << 10)

/* Per scheduler thread. Fields are touched by this thread only (its green threads
 * and its signal handler included). */
typedef struct green_tls {
    void *sched_sp;           /* the scheduler context hearth__green_run left */
    hearth__green_t *running; /* the green thread running on this thread, or NULL */
    void *altstack;           /* our sigaltstack mapping, or NULL */
    size_t altstack_len;
    stack_t old_altstack;
#if HEARTH_ASAN
    const void *sched_stack; /* the scheduler's stack, for ASan's fiber switches */
    size_t sched_stack_len;
#endif
#if HEARTH_TSAN
    void *sched_fiber;
#endif
} green_tls_t;

static _Thread_local green_tls_t tl;

static pthread_once_t handler_once = PTHREAD_ONCE_INIT;
static struct sigaction old_segv; /* the handler before ours; written once */

/* This thread's record. noinline + an opaque asm: each call really reads the
 * thread pointer, so a green stack resumed on another thread sees that thread's
 * record, not a cached one. */
__attribute__((noinline)) static green_tls_t *tls(void)
{
    green_tls_t *t = &tl;

    __asm__ volatile("" : "+r"(t));
    return t;
}

/* ---- switching ------------------------------------------------------------------ */

/* On the scheduler's stack: switch into g until it switches back; returns why. */
static intptr_t switch_in(green_tls_t *t, hearth__green_t *g)
{
    void *why;
#if HEARTH_ASAN
    void *fake = NULL;

    __sanitizer_start_switch_fiber(&fake, hearth__green_stack_lo(g), hearth__green_stack_len(g));
#endif
#if HEARTH_TSAN
    t->sched_fiber = __tsan_get_current_fiber();
    __tsan_switch_to_fiber(g->tsan_fiber, 0);
#endif
    why = hearth__ctx_switch(&t->sched_sp, g->sp, NULL);
#if HEARTH_ASAN
    __sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
    return (intptr_t)why;
}

/* ASan: we have just arrived on g's stack from this thread's scheduler; note the
 * scheduler's stack (this thread's, which may differ from last time). */
static void arrived(hearth__green_t *g, bool first)
{
#if HEARTH_ASAN
    green_tls_t *t = tls();

    __sanitizer_finish_switch_fiber(first ? NULL : g->asan_fake, &t->sched_stack,
                                    &t->sched_stack_len);
#else
    (void)g;
    (void)first;
#endif
}

/* On g's stack (or on the signal stack, for an overflow): give the thread back to
 * its scheduler with why. Returns when g is resumed, maybe on another thread;
 * never for HEARTH__GREEN_EXITED. */
static void switch_out(hearth__green_t *g, intptr_t why)
{
    green_tls_t *t = tls();

#if HEARTH_ASAN
    /* NULL for a thread that leaves for good: ASan frees its fake stack. */
    __sanitizer_start_switch_fiber(why == HEARTH__GREEN_EXITED ? NULL : &g->asan_fake,
                                   t->sched_stack, t->sched_stack_len);
#endif
#if HEARTH_TSAN
    __tsan_switch_to_fiber(t->sched_fiber, 0);
#endif
    hearth__ctx_switch(&g->sp, t->sched_sp, (void *)why);
    arrived(g, false);
}

/* The first code a green thread runs (via the trampoline in ctx_*.S). */
static void green_entry(void *arg, void *transfer)
{
    hearth__green_t *g = arg;

    (void)transfer;
    arrived(g, true);
    g->fn(g->arg);
    /* fn returned: a normal exit (hearth_exit() leaves through hearth__green_exit
     * with a reason of its own and never gets here). */
    g->proc->exit_reason = HEARTH_NORMAL;
    hearth__green_exit(g->proc);
}

/* Runs p until it blocks, yields or exits; returns which. See internal.h. */
int hearth__green_run(hearth__proc_t *p)
{
    green_tls_t *t = &tl; /* we stay on the scheduler's stack and thread */
    hearth__green_t *g = p->green;
    intptr_t why;

    HEARTH_ASSERT(g != NULL && t->running == NULL);
    t->running = g;
    hearth__set_current(p);
    why = switch_in(t, g);
    t->running = NULL;

    /* A stack without a guard page (past the budget) that ran over its end wrote
     * over the canary: the thread must never run again, and even one that was
     * leaving anyway reports what happened. */
    if (!hearth__green_canary_ok(g)) {
        p->exit_reason = HEARTH_STACK_OVERFLOW;
        why = HEARTH__GREEN_EXITED;
    }
    if (why == HEARTH__GREEN_EXITED)
        hearth__proc_exit(p, p->exit_reason); /* calls hearth__green_destroy */
    hearth__set_current(NULL);
    return (int)why;
}

/* Inside p: gives the scheduler back with why; returns when p runs again. */
void hearth__green_suspend(hearth__proc_t *p, int why)
{
    HEARTH_ASSERT(why == HEARTH__GREEN_BLOCKED || why == HEARTH__GREEN_YIELDED);
    HEARTH_ASSERT(p->green != NULL && tls()->running == p->green);
    switch_out(p->green, why);
}

/* Inside p: leaves for good; p->exit_reason says why. */
void hearth__green_exit(hearth__proc_t *p)
{
    HEARTH_ASSERT(p->green != NULL && tls()->running == p->green);
    switch_out(p->green, HEARTH__GREEN_EXITED);
    hearth__panic(__FILE__, __LINE__, "an exited green thread was resumed");
}

/* ---- creation ------------------------------------------------------------------- */

/* Gives p a stack running fn(arg). stack: bytes wanted (0: the configured default),
 * rounded up to pages; a guard page comes on top, the 128-byte record comes out of
 * it. Returns 0, or HEARTH_ENOMEM if no stack could be had (p is untouched:
 * the caller aborts it). */
int hearth__green_create(hearth__proc_t *p, void (*fn)(void *), void *arg, size_t stack)
{
    const hearth_config_t *cfg;
    hearth__green_t *g;
    size_t size = stack;

    if (size == 0) {
        cfg = hearth__config();
        size = cfg != NULL && cfg->stack_size != 0 ? cfg->stack_size : STACK_DEFAULT;
#if HEARTH_ASAN || HEARTH_TSAN
        if (size < STACK_DEFAULT)
            size = STACK_DEFAULT;
#endif
    } else if (size <= SIZE_MAX / STACK_SCALE) {
        size *= STACK_SCALE; /* a size asked for is meant for uninstrumented frames */
    }
    g = hearth__stack_get(size);
    if (g == NULL)
        return HEARTH_ENOMEM;

    g->proc = p;
    g->fn = fn;
    g->arg = arg;
    hearth__green_canary_set(g);
#if HEARTH_ASAN
    /* A stack abandoned mid-call (overflow, kill while blocked) keeps the poisoned
     * redzones of its frames; the new thread must not trip over them. */
    __asan_unpoison_memory_region(hearth__green_stack_lo(g), hearth__green_stack_len(g));
#endif
#if HEARTH_TSAN
    /* A fiber per thread, never reused: a thread that exits never returns from its
     * frames, so a reused fiber's shadow call stack would only grow. */
    g->tsan_fiber = __tsan_create_fiber(0);
#endif
    g->sp = hearth__ctx_make((char *)g, green_entry, g);
    p->green = g;
    return 0;
}

/* Returns p's stack to the pool; p must not be running. NULL green is fine (a
 * spawn that failed before its stack). */
void hearth__green_destroy(hearth__proc_t *p)
{
    hearth__green_t *g = p->green;

    if (g == NULL)
        return;
    HEARTH_ASSERT(tl.running != g);
    p->green = NULL;
#if HEARTH_TSAN
    __tsan_destroy_fiber(g->tsan_fiber);
#endif
    hearth__stack_put(g);
}

/* Bytes of address space p's stack holds (guard page and record included); 0 if
 * it has none. */
size_t hearth__green_stack_bytes(hearth__proc_t *p)
{
    return p->green != NULL ? p->green->total : 0;
}

/* ---- stack overflow ----------------------------------------------------------------- */

static void segv_handler(int sig, siginfo_t *si, void *uctx)
{
    green_tls_t *t = &tl;
    hearth__green_t *g = t->running;
    char *addr = si->si_addr;
    sigset_t set;

    if (g != NULL && (g->flags & HEARTH__GREEN_GUARDED) && si->si_code > 0 && addr >= g->lo &&
        addr < g->lo + hearth__green_page()) {
        /* Ours: crash this process only. We never return from the handler, so
         * undo what the kernel did on entry (SIGSEGV blocked); the kernel keeps no
         * other state, and leaving the alternate stack frees it for next time. */
        g->proc->exit_reason = HEARTH_STACK_OVERFLOW;
        sigemptyset(&set);
        sigaddset(&set, SIGSEGV);
        pthread_sigmask(SIG_UNBLOCK, &set, NULL);
        switch_out(g, HEARTH__GREEN_EXITED);
        /* not reached */
    }

    /* Not ours: the handler before us decides. */
    if ((old_segv.sa_flags & SA_SIGINFO) && old_segv.sa_sigaction != NULL) {
        old_segv.sa_sigaction(sig, si, uctx);
    } else if (old_segv.sa_handler != SIG_DFL && old_segv.sa_handler != SIG_IGN) {
        old_segv.sa_handler(sig);
    } else {
        /* The default action: returning re-runs the faulting instruction, which now
         * kills the process with a core; a SIGSEGV sent by kill() is sent again. */
        signal(SIGSEGV, SIG_DFL);
        if (si->si_code <= 0)
            raise(SIGSEGV);
    }
}

static void handler_install(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = segv_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    HEARTH_ASSERT(sigaction(SIGSEGV, &sa, &old_segv) == 0);
}

/* Per scheduler thread, at its start: an alternate signal stack (the overflowed
 * stack has no room left for the handler) and, once per program, the handler. */
void hearth__green_thread_init(void)
{
    green_tls_t *t = &tl;
    size_t len = ALTSTACK_MIN;
    stack_t ss;
    long min;

    pthread_once(&handler_once, handler_install);
    hearth__stack_thread_cache(true);
    if (t->altstack != NULL)
        return;
#ifdef _SC_SIGSTKSZ
    min = sysconf(_SC_SIGSTKSZ);
#else
    min = SIGSTKSZ;
#endif
    if (min > 0 && (size_t)min * 4 > len)
        len = (size_t)min * 4;
#if HEARTH_ASAN || HEARTH_TSAN
    len *= 4;
#endif
    ss.ss_sp = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    HEARTH_ASSERT(ss.ss_sp != MAP_FAILED);
    ss.ss_size = len;
    ss.ss_flags = 0;
    HEARTH_ASSERT(sigaltstack(&ss, &t->old_altstack) == 0);
    t->altstack = ss.ss_sp;
    t->altstack_len = len;
    t->running = NULL;
}

/* Per scheduler thread, at its end: restores the previous signal stack and hands
 * the thread's cached stacks to the shared pool. */
void hearth__green_thread_fini(void)
{
    green_tls_t *t = &tl;
    stack_t ss;

    hearth__stack_thread_cache(false);
    if (t->altstack == NULL)
        return;
    if (t->old_altstack.ss_flags & SS_DISABLE) {
        memset(&ss, 0, sizeof(ss));
        ss.ss_flags = SS_DISABLE;
        HEARTH_ASSERT(sigaltstack(&ss, NULL) == 0);
    } else {
        HEARTH_ASSERT(sigaltstack(&t->old_altstack, NULL) == 0);
    }
    munmap(t->altstack, t->altstack_len);
    t->altstack = NULL;
}

/* ---- the public call -------------------------------------------------------------- */

/* Spawns a green thread running fn(arg). Returns 0 and the pid in *out (may be
 * NULL), HEARTH_EINVAL without fn, HEARTH_ESHUTDOWN if the runtime is not running,
 * or HEARTH_ENOMEM (no process slot or no stack). On error nothing was spawned. */
int hearth_spawn_green(void (*fn)(void *arg), void *arg, size_t stack_size, unsigned flags,
                       hearth_pid_t *out)
{
    hearth__proc_t *p;
    hearth_pid_t pid;
    int err;

    if (fn == NULL)
        return HEARTH_EINVAL;
    if (!hearth__running())
        return HEARTH_ESHUTDOWN;

    p = hearth__proc_alloc(HEARTH_KIND_GREEN);
    if (p == NULL)
        return HEARTH_ENOMEM;
    err = hearth__green_create(p, fn, arg, stack_size);
    if (err)
        goto fail_create;

    pid = p->pid;
    hearth__proc_start(p, flags); /* from here p may run, exit and be freed */
    if (out != NULL)
        *out = pid;
    return 0;

fail_create:
    hearth__proc_abort(p);
    return err;
}
