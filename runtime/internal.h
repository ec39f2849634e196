/* Private prototypes and structures shared by the runtime's parts.
 *
 * How the parts fit:
 *   proc/      the process table (pid = slot + generation), spawn, exit, teardown
 *   mailbox/   the intrusive multi-producer single-consumer message queue
 *   signal/    links, monitors, exit signals: carried as flagged messages in the
 *              same queue, so a sender's signals and messages stay in order
 *   sched/     scheduler threads: run queues, work stealing, sleeping, the libuv loop
 *   epoch/     epoch-based reclamation: a sender may touch a process struct that is
 *              exiting; it is freed only once no sender can still hold it
 *   timer/     a hierarchical timing wheel per scheduler
 *   green/     green threads: context switch, stacks, blocking receive
 *   io/        sockets on the scheduler's libuv loop, the blocking-work pool
 *   registry/  local names
 *   fault/     fault injection
 *
 * Threads: scheduler threads run processes; attached threads (the embedding
 * program's own) may send and receive; libuv's worker threads run blocking jobs. */
#ifndef HEARTH_RUNTIME_INTERNAL_H
#define HEARTH_RUNTIME_INTERNAL_H

#include "hearth/hearth.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#define HEARTH_ASSERT(cond)                                                                    \
    do {                                                                                       \
        if (__builtin_expect(!(cond), 0))                                                      \
            hearth__panic(__FILE__, __LINE__, #cond);                                          \
    } while (0)

#define HEARTH_LIKELY(x) __builtin_expect(!!(x), 1)
#define HEARTH_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define HEARTH_CACHELINE 64

#if defined(__SANITIZE_ADDRESS__)
#define HEARTH_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HEARTH_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define HEARTH_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HEARTH_TSAN 1
#endif
#endif

__attribute__((noreturn)) void hearth__panic(const char *file, int line, const char *what);

/* ---- memory (runtime/mem.c) ---------------------------------------------------- */

/* Allocations abort on OOM. Small message blocks are cached per thread (plain malloc
 * under the sanitizers so they see every block). */
void *hearth__malloc(size_t n);
void *hearth__calloc(size_t n, size_t size);
void *hearth__realloc(void *p, size_t n);
void hearth__free(void *p);

/* ---- messages (runtime/msg.c) ------------------------------------------------- */

/* flags_ bits of hearth_msg_t. */
#define HEARTH__MSG_SIGNAL 0x1u  /* a signal: tag is a HEARTH__SIG_* */
#define HEARTH__MSG_INLINE 0x2u  /* data points into the same block */
#define HEARTH__MSG_CACHED 0x4u  /* block came from the small-block cache */
#define HEARTH__MSG_FAULTED 0x8u /* already passed fault injection (a delayed message) */

/* Signal tags (flags_ & HEARTH__MSG_SIGNAL). from = the sender. */
enum {
    HEARTH__SIG_EXIT = 1,     /* explicit exit signal (hearth_exit_signal); value = reason */
    HEARTH__SIG_LINK_EXIT,    /* a linked process died; value = reason */
    HEARTH__SIG_LINK,         /* from wants a link */
    HEARTH__SIG_UNLINK,       /* from drops its link */
    HEARTH__SIG_MONITOR,      /* from monitors us; ref = monitor ref */
    HEARTH__SIG_DEMONITOR,    /* from drops monitor ref */
    HEARTH__SIG_WAKE,         /* no-op: makes an attached thread re-check */
};

hearth_msg_t *hearth__signal_new(int sig, hearth_pid_t from, uint64_t ref, int64_t value);

/* ---- mailbox (runtime/mailbox.c) ------------------------------------------------ */

/* Vyukov's intrusive MPSC queue. The stub is a bare link embedded in the owner.
 * push: any thread. pop: the owner only. */
typedef struct hearth__mpsc {
    hearth_msg_t *_Atomic head; /* producers swap themselves in here */
    hearth_msg_t *tail;         /* consumer only */
    hearth_msg_t *_Atomic stub_next; /* the stub node: only its next_ link exists */
} hearth__mpsc_t;

void hearth__mpsc_init(hearth__mpsc_t *q);
/* Pushes m. */
void hearth__mpsc_push(hearth__mpsc_t *q, hearth_msg_t *m);
/* Pops the oldest message, or NULL if empty or a push is half-done. */
hearth_msg_t *hearth__mpsc_pop(hearth__mpsc_t *q);
/* Going idle is a handshake with producers (see hearth__proc_deliver): while still the
 * consumer, ask hearth__mpsc_consumed (tail on the stub: everything taken out); then
 * give up the consumer role (clear p->scheduled, seq_cst); then ask
 * hearth__mpsc_quiet (head on the stub: nobody pushed since; seq_cst, any thread).
 * Only both together mean empty. */
bool hearth__mpsc_consumed(hearth__mpsc_t *q);
bool hearth__mpsc_quiet(hearth__mpsc_t *q);

/* A private FIFO of messages the process has taken out of its queue but not handled. */
typedef struct hearth__fifo {
    hearth_msg_t *first, *last;
    size_t len;
} hearth__fifo_t;

void hearth__fifo_push(hearth__fifo_t *f, hearth_msg_t *m);
hearth_msg_t *hearth__fifo_pop(hearth__fifo_t *f);
/* Unlinks m, whose predecessor is prev (NULL if m is first). */
void hearth__fifo_remove(hearth__fifo_t *f, hearth_msg_t *prev, hearth_msg_t *m);

/* ---- processes (runtime/proc.c) -------------------------------------------------- */

typedef struct hearth__sched hearth__sched_t;
typedef struct hearth__green hearth__green_t;
typedef struct hearth__thread_waiter hearth__thread_waiter_t;

enum {
    HEARTH__RUNNING = 0, /* alive */
    HEARTH__EXITING,     /* tearing down: sends are refused */
    HEARTH__DEAD,        /* waiting for the epoch to free it */
};

/* Rarely needed parts of a process, allocated on first use so an idle event process
 * stays small. Touched only by the owner (or by teardown, which is the owner). */
typedef struct hearth__proc_ext {
    hearth_pid_t *links;
    size_t nlinks, caplinks;
    struct hearth__mon { uint64_t ref; hearth_pid_t pid; } *watchers; /* who monitors us */
    size_t nwatchers, capwatchers;
    struct hearth__mon *watching; /* whom we monitor */
    size_t nwatching, capwatching;
    uint64_t *socks;              /* sockets we own */
    size_t nsocks, capsocks;
} hearth__proc_ext_t;

typedef struct hearth__proc hearth__proc_t;
struct hearth__proc {
    /* Written by senders (any thread). */
    hearth__mpsc_t mq;
    _Atomic int scheduled; /* 1 while queued or running: a push that sets it schedules */
    _Atomic int life;      /* HEARTH__RUNNING/EXITING/DEAD */
    _Atomic uint32_t mq_len; /* approximate queue length, for introspection */
    _Atomic int fault_flags; /* HEARTH__FAULT_* set from other threads */
    _Atomic int named;       /* may have a registered name (see registry.c) */

    /* Owner only (whichever scheduler runs it, one at a time). */
    hearth_pid_t pid;       /* constant while the struct is live */
    uint8_t kind;           /* hearth_kind_t */
    uint8_t trap_exit;
    uint8_t exit_requested; /* hearth_exit() called inside a handler */
    uint8_t home;           /* scheduler index it last ran on */
    hearth_reason_t exit_reason;
    hearth__fifo_t inbox;   /* taken out of mq, not yet handled (selective receive) */
    const hearth_actor_t *actor; /* event processes */
    void *state;
    hearth_msg_t *cur_msg;  /* the message being handled (freed after the handler) */
    hearth__proc_ext_t *ext;
    hearth__green_t *green; /* green threads */
    hearth__thread_waiter_t *waiter; /* attached threads */
    uint64_t handled;
    hearth__proc_t *run_next; /* link in the injection queue */
    void *epoch_next;         /* link in the epoch's deferred list */
};

#define HEARTH__FAULT_CRASH_NEXT 0x1
#define HEARTH__FAULT_MAILBOX 0x2

/* The process running on this thread (or this thread's attached process), or NULL. */
hearth__proc_t *hearth__current(void);
void hearth__set_current(hearth__proc_t *p);
/* Like hearth__current, but attaches a process to a non-runtime thread on first use. */
hearth__proc_t *hearth__current_or_attach(void);

/* Looks pid up. The result stays readable until the caller's epoch section ends
 * (scheduler threads are always inside one while running processes); NULL if pid
 * is stale. The process may be exiting: check state. */
hearth__proc_t *hearth__proc_lookup(hearth_pid_t pid);

/* Delivers m (message or signal) to p's queue and schedules p if it was idle. */
void hearth__proc_deliver(hearth__proc_t *p, hearth_msg_t *m);
/* Sends a signal to pid; if pid is stale, answers for the dead (noproc). */
void hearth__signal_send(hearth_pid_t to, int sig, hearth_pid_t from, uint64_t ref,
                         int64_t value);

hearth__proc_ext_t *hearth__proc_ext(hearth__proc_t *p);

/* Moves everything from p's queue into its inbox, acting on signals on the way.
 * Returns false if a signal killed the process (p->exit_reason says why). */
bool hearth__proc_drain(hearth__proc_t *p);
/* Drops the monitor ref from self's list once its DOWN arrived. */
void hearth__monitor_forget(hearth__proc_t *self, uint64_t ref);
/* Delivers a message that bypasses fault injection (DOWN, trapped EXIT). */
void hearth__send_system(hearth_pid_t to, hearth_msg_t *m);
/* Tears p down on its own thread: terminate, links and monitors fire, name freed,
 * sockets closed; the struct is freed later by the epoch. */
void hearth__proc_exit(hearth__proc_t *p, hearth_reason_t reason);

enum { HEARTH__TURN_IDLE = 1, HEARTH__TURN_YIELD, HEARTH__TURN_EXITED };
/* Runs an event process for one turn (at most budget messages); returns IDLE (its
 * queue looked empty), YIELD (budget spent, more to do) or EXITED. */
int hearth__proc_run_event(hearth__proc_t *p, unsigned budget);

/* Allocates a slot and struct; p->pid set, state RUNNING, scheduled = 1 (so nothing
 * schedules it before the spawner does). */
hearth__proc_t *hearth__proc_alloc(uint8_t kind);
/* Finishes a spawn by the calling process (or thread): applies HEARTH_SPAWN_LINK /
 * HEARTH_SPAWN_TRAP_EXIT and makes p runnable. */
void hearth__proc_start(hearth__proc_t *p, unsigned flags);
/* Takes the list of root processes (spawned by OS threads), oldest first; the
 * caller frees it. */
size_t hearth__proc_roots(hearth_pid_t **out);
/* Gives back a process allocated but never started (spawn failed). */
void hearth__proc_abort(hearth__proc_t *p);

/* Process table iteration (introspection, fault injection). fn runs with the table
 * lock not held but inside an epoch section. */
size_t hearth__proc_foreach(int (*fn)(hearth__proc_t *p, void *arg), void *arg);
void hearth__proc_info_fill(hearth__proc_t *p, hearth_proc_info_t *info);

/* ---- epoch reclamation (runtime/epoch.c) -------------------------------------------- */

typedef struct hearth__epoch_rec hearth__epoch_rec_t;
/* The calling thread's record (registered on first use). */
hearth__epoch_rec_t *hearth__epoch_self(void);
void hearth__epoch_enter(hearth__epoch_rec_t *r);
/* True while the calling thread is inside a section. */
extern __thread bool hearth__epoch_inside;
void hearth__epoch_exit(hearth__epoch_rec_t *r);
/* Inside a long section: announce the current epoch so reclamation can advance. */
void hearth__epoch_quiesce(hearth__epoch_rec_t *r);
/* Frees p (via hearth__proc_free) once no thread can still see it. */
void hearth__epoch_defer_proc(hearth__epoch_rec_t *r, hearth__proc_t *p);
/* Tries to advance the epoch and frees what is safe (inside a section or not: the
 * caller holds no pointer from an older epoch). */
void hearth__epoch_reclaim(hearth__epoch_rec_t *r);
/* True if r still holds deferred frees. */
bool hearth__epoch_pending(hearth__epoch_rec_t *r);
/* Frees everything still deferred (runtime stop: no other thread runs). */
void hearth__epoch_drain_all(void);

/* Final free of a process struct and its slot; drains late messages. */
void hearth__proc_free(hearth__proc_t *p);

/* ---- scheduler (runtime/sched.c) ------------------------------------------------ */

struct uv_loop_s;
typedef struct hearth__wheel hearth__wheel_t;

/* Makes p runnable: on the calling scheduler if there is one (in its run-next slot
 * when the caller is a running process), else on the injection queue. */
void hearth__sched_enqueue(hearth__proc_t *p);
/* The calling thread's scheduler, or NULL. */
hearth__sched_t *hearth__sched_self(void);
int hearth__sched_index(hearth__sched_t *s);
hearth__sched_t *hearth__sched_get(int index);
struct uv_loop_s *hearth__sched_loop(hearth__sched_t *s);
hearth__wheel_t *hearth__sched_wheel(hearth__sched_t *s);
/* The runtime's config (valid while running). */
const hearth_config_t *hearth__config(void);
bool hearth__running(void);
/* Runs fn(arg) on scheduler s's thread (its libuv loop), soon. Any thread. */
void hearth__sched_post(hearth__sched_t *s, void (*fn)(void *arg), void *arg);
/* Wakes s if it sleeps (its timers changed, say). */
void hearth__sched_wake(hearth__sched_t *s);

/* ---- timers (runtime/timer/) -------------------------------------------------------- */

/* Per scheduler: created with the scheduler, run from its loop. */
hearth__wheel_t *hearth__timers_create(uint64_t now_ms);
void hearth__timers_destroy(hearth__wheel_t *w);
/* Fires every timer due by now_ms (sends their messages). Scheduler thread only. */
void hearth__timers_run(hearth__wheel_t *w, uint64_t now_ms);
/* Milliseconds until the next timer may be due, or -1 if none. */
int64_t hearth__timers_next(hearth__wheel_t *w, uint64_t now_ms);

/* ---- green threads (runtime/green/) ------------------------------------------------ */

enum {
    HEARTH__GREEN_BLOCKED = 1, /* waits for a message: runnable again when one comes */
    HEARTH__GREEN_YIELDED,     /* wants to run again soon */
    HEARTH__GREEN_EXITED,      /* gone: hearth__green_run already tore it down */
};
/* Runs green process p until it blocks, yields or exits; returns which. On EXITED it
 * has called hearth__proc_exit(p, p->exit_reason) on the scheduler's stack.
 * Scheduler thread only. */
int hearth__green_run(hearth__proc_t *p);
/* Inside a green thread: gives the scheduler back with why (BLOCKED or YIELDED);
 * returns when the process runs again. */
void hearth__green_suspend(hearth__proc_t *p, int why);
/* Inside a green thread: leaves for good with p->exit_reason set; teardown runs on
 * the scheduler stack. */
__attribute__((noreturn)) void hearth__green_exit(hearth__proc_t *p);
/* Gives p (allocated by hearth__proc_alloc, kind GREEN) a stack that will run
 * fn(arg); 0 or HEARTH_ENOMEM. */
int hearth__green_create(hearth__proc_t *p, void (*fn)(void *), void *arg, size_t stack);
/* Returns p's stack to the pool (called by hearth__proc_exit for green processes). */
void hearth__green_destroy(hearth__proc_t *p);
size_t hearth__green_stack_bytes(hearth__proc_t *p);
/* Per scheduler thread: the alternate signal stack and overflow handler. */
void hearth__green_thread_init(void);
void hearth__green_thread_fini(void);

/* ---- attached threads (runtime/attach.c) ------------------------------------------ */

/* Blocks the attached thread until its queue may have something, or deadline_ms
 * passes (0: none). */
void hearth__thread_wait(hearth__proc_t *p, uint64_t deadline_ms);
/* Wakes an attached thread blocked in hearth__thread_wait. */
void hearth__thread_wake(hearth__proc_t *p);
void hearth__attach_fini(void);

/* ---- I/O (runtime/io/) -------------------------------------------------------------- */

/* Closes every socket p owns (teardown). */
void hearth__io_close_owned(hearth__proc_t *p);
void hearth__io_init(void);
void hearth__io_fini(void);

/* ---- registry (runtime/registry.c) ------------------------------------------------ */

void hearth__registry_init(void);
void hearth__registry_fini(void);
/* Frees p's name, if it has one (teardown). */
void hearth__registry_drop(hearth__proc_t *p);

/* ---- fault injection (runtime/fault.c) -------------------------------------------- */

/* Consulted by hearth_send for processes with HEARTH__FAULT_MAILBOX set: returns 0 to
 * deliver now, 1 if the message was dropped, 2 if it was scheduled for later. */
int hearth__fault_on_send(hearth__proc_t *p, hearth_msg_t *m);
uint64_t hearth__fault_random(void);

/* ---- stats (runtime/stats) ---------------------------------------------------------- */

typedef struct hearth__counters {
    _Atomic uint64_t spawned, exited, sent, dropped, steals, wakeups;
    _Atomic int64_t live, proc_bytes;
} hearth__counters_t;
extern hearth__counters_t hearth__counters;

#endif /* HEARTH_RUNTIME_INTERNAL_H */
