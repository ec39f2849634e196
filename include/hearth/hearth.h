/* Hearth: an Erlang-style actor runtime in C.
 *
 * This is the whole public API of the runtime: what an embedding server includes.
 * A program starts the runtime (hearth_start), spawns processes, sends them
 * messages and stops it (hearth_stop). Processes share nothing: they talk only by
 * messages and signals (links, monitors, exits), the way Erlang processes do.
 *
 * Two kinds of process share one mailbox, link, monitor and naming model:
 *   - event processes (hearth_spawn): private state plus a handler called once per
 *     message on a scheduler's stack; a few hundred bytes each;
 *   - green threads (hearth_spawn_green): a function with its own small stack that
 *     may block in hearth_receive(), for sequential protocols.
 * A non-runtime OS thread (the embedding program's main thread, say) may also send,
 * call and receive: it gets an attached process of its own on first use.
 *
 * Errors: functions return 0 or a negative HEARTH_E* code. */
#ifndef HEARTH_HEARTH_H
#define HEARTH_HEARTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HEARTH_EXTERN __attribute__((visibility("default")))

#define HEARTH_VERSION_MAJOR 0
#define HEARTH_VERSION_MINOR 1
#define HEARTH_VERSION_PATCH 0

/* ---- errors ------------------------------------------------------------ */

#define HEARTH_ENOENT (-2)      /**< no such name or entry */
#define HEARTH_ESRCH (-3)       /**< no such process (dead, or never was) */
#define HEARTH_EAGAIN (-11)     /**< not yet: try again */
#define HEARTH_ENOMEM (-12)     /**< out of memory or out of process slots */
#define HEARTH_EBUSY (-16)      /**< in use */
#define HEARTH_EEXIST (-17)     /**< already exists (a name is taken) */
#define HEARTH_EINVAL (-22)     /**< invalid argument, or not allowed in this context */
#define HEARTH_EPIPE (-32)      /**< the peer is gone */
#define HEARTH_ENOTSUP (-95)    /**< not supported */
#define HEARTH_ESHUTDOWN (-108) /**< the runtime is not running */
#define HEARTH_ETIMEDOUT (-110) /**< timed out */
#define HEARTH_ECANCELED (-125) /**< canceled */

/** A static description of err ("no such process", ...). Never NULL. Functions
 * that reach the operating system may also return other negative errno values
 * (-EADDRINUSE from a listen, say); this describes those too. */
HEARTH_EXTERN const char *hearth_strerror(int err);

/* ---- pids and reasons ---------------------------------------------------- */

/** A process id: an opaque 64-bit value (slot index and generation tag). A pid of a
 * dead process never names a later process, so a send to it is dropped. */
typedef uint64_t hearth_pid_t;
#define HEARTH_PID_NONE ((hearth_pid_t)0)

/** An exit reason: one of the values below, or any other value ("any term"):
 * a negative HEARTH_E* code from a failing handler, or an application's own code. */
typedef int64_t hearth_reason_t;
#define HEARTH_NORMAL 0          /**< a normal exit: linked processes are not killed */
#define HEARTH_SHUTDOWN 1        /**< asked to stop by a supervisor */
#define HEARTH_KILL 2            /**< as an exit signal: untrappable */
#define HEARTH_KILLED 3          /**< what links and monitors see of a killed process */
#define HEARTH_NOPROC 4          /**< the process did not exist */
#define HEARTH_STACK_OVERFLOW 5  /**< a green thread overflowed its stack */
#define HEARTH_CRASH 6           /**< a handler failed without a reason of its own */
#define HEARTH_INJECTED 7        /**< crashed by fault injection */
#define HEARTH_REASON_USER 256   /**< first value free for applications */

/** A static name for the well-known reasons ("normal", "killed", ...), or "error". */
HEARTH_EXTERN const char *hearth_reason_name(hearth_reason_t reason);

/* ---- messages ------------------------------------------------------------ */

/** A message: an owned buffer moved into the receiver by hearth_send().
 * Fields marked public may be read by the receiver; data may be written by the
 * sender before sending. */
typedef struct hearth_msg hearth_msg_t;
typedef struct hearth_payload hearth_payload_t;

struct hearth_msg {
    /* private */
    hearth_msg_t *_Atomic next_;
    uint32_t flags_;
    /* public */
    uint32_t tag;       /**< application tag, or a HEARTH_MSG_* system tag */
    hearth_pid_t from;  /**< the sender (set by hearth_send), or HEARTH_PID_NONE */
    uint64_t ref;       /**< a reference: call id, monitor ref, timer ref, socket */
    int64_t value;      /**< a small integer: an exit reason, a status, a count */
    size_t len;         /**< bytes at data */
    void *data;         /**< inline bytes, or a shared payload's bytes */
    /* private */
    hearth_payload_t *payload_;
};

/** System tags: 0xFFFF0000 and above are the runtime's; the rest is yours. */
#define HEARTH_MSG_SYSTEM 0xFFFF0000u
#define HEARTH_MSG_EXIT 0xFFFF0001u  /**< trapped exit: from died (or sent exit), value = reason */
#define HEARTH_MSG_DOWN 0xFFFF0002u  /**< monitored from died: ref = monitor ref, value = reason */
#define HEARTH_MSG_REPLY 0xFFFF0003u /**< a reply to hearth_call: ref = call ref */
#define HEARTH_MSG_CALL 0xFFFF0004u  /**< a call request: ref = call ref, from = caller */
#define HEARTH_MSG_TIMEOUT 0xFFFF0005u /**< internal: a receive timeout */
#define HEARTH_MSG_TCP_ACCEPTED 0xFFFF0010u /**< ref = new socket (owned by the listener's owner) */
#define HEARTH_MSG_TCP_DATA 0xFFFF0011u     /**< ref = socket, data/len = bytes read */
#define HEARTH_MSG_TCP_CLOSED 0xFFFF0012u   /**< ref = socket, value = 0 or error: peer gone */
#define HEARTH_MSG_TCP_CONNECTED 0xFFFF0013u /**< ref = socket, value = 0 or error */
#define HEARTH_MSG_TCP_SENT 0xFFFF0014u     /**< ref = socket, value = 0 or error (if asked) */
#define HEARTH_MSG_TCP_GIVEN 0xFFFF0015u    /**< ref = socket: after hearth_tcp_give, the
                                                 old owner gets no event of it after this */
#define HEARTH_MSG_WORK_DONE 0xFFFF0020u    /**< ref = work ref, value = result of the job */

/** A new message with len uninitialized inline bytes at m->data. Aborts on OOM. */
HEARTH_EXTERN hearth_msg_t *hearth_msg_new(uint32_t tag, size_t len);
/** A new message holding a copy of len bytes from data. */
HEARTH_EXTERN hearth_msg_t *hearth_msg_copy(uint32_t tag, const void *data, size_t len);
/** A new message with no bytes, carrying value. */
HEARTH_EXTERN hearth_msg_t *hearth_msg_int(uint32_t tag, int64_t value);
/** A new message pointing at a shared payload's bytes; takes a new reference to p. */
HEARTH_EXTERN hearth_msg_t *hearth_msg_shared(uint32_t tag, hearth_payload_t *p);
/** The shared payload m points at (hearth_msg_shared), or NULL for inline bytes. */
HEARTH_EXTERN hearth_payload_t *hearth_msg_payload(const hearth_msg_t *m);
/** Frees m (and drops its payload reference). NULL is allowed. */
HEARTH_EXTERN void hearth_msg_free(hearth_msg_t *m);
/** Inside a handler: keep the message being handled; the caller now owns it and
 * must free or send it. (Sending it with hearth_send also keeps it implicitly.) */
HEARTH_EXTERN void hearth_msg_keep(hearth_msg_t *m);

/** Immutable reference-counted bytes, for one event sent to many processes. */
HEARTH_EXTERN hearth_payload_t *hearth_payload_new(const void *data, size_t len);
/** A payload with len uninitialized bytes to fill before the first send. */
HEARTH_EXTERN hearth_payload_t *hearth_payload_alloc(size_t len);
HEARTH_EXTERN void *hearth_payload_data(hearth_payload_t *p);
HEARTH_EXTERN size_t hearth_payload_len(const hearth_payload_t *p);
HEARTH_EXTERN hearth_payload_t *hearth_payload_ref(hearth_payload_t *p);
/** Drops a reference; the last one frees the payload. */
HEARTH_EXTERN void hearth_payload_unref(hearth_payload_t *p);

/** Sends m to pid. Always takes m: on error (a dead or stale pid: HEARTH_ESRCH) the
 * message is freed and dropped, as in Erlang. Callable from any thread. */
HEARTH_EXTERN int hearth_send(hearth_pid_t to, hearth_msg_t *m);
/** hearth_send to a registered name; HEARTH_ENOENT if the name is free. */
HEARTH_EXTERN int hearth_send_named(const char *name, hearth_msg_t *m);
/** Sends one message per pid, each pointing at p's bytes (no copy).
 * Returns how many were delivered to live processes. */
HEARTH_EXTERN size_t hearth_send_shared(const hearth_pid_t *to, size_t n, uint32_t tag,
                                        hearth_payload_t *p);

/* ---- processes ------------------------------------------------------------ */

/** What an event process does. One static, const instance is shared by every
 * process of that kind, so it costs nothing per process.
 *
 * init (optional): runs in the new process before hearth_spawn returns, with
 * hearth_self() the new pid. It sets *state (default: arg) and returns 0, or a
 * negative code: then spawn fails with that code and nothing is left behind.
 * handle: called once per message. The message belongs to the runtime and is freed
 * after the call unless kept (hearth_msg_keep) or sent on. Return 0 to go on,
 * HEARTH_STOP to exit normally, or a negative code to crash with that reason.
 * terminate (optional): called once when the process exits, whatever the reason
 * (a kill included: it is the one place to free the state), on the thread the
 * process last ran on. */
typedef struct hearth_actor {
    const char *name;
    int (*init)(void **state, void *arg);
    int (*handle)(void *state, hearth_msg_t *m);
    void (*terminate)(void *state, hearth_reason_t reason);
} hearth_actor_t;

#define HEARTH_STOP 1

/** Spawn flags. */
#define HEARTH_SPAWN_LINK 0x1u      /**< link the caller and the new process atomically */
#define HEARTH_SPAWN_TRAP_EXIT 0x2u /**< the new process starts trapping exits */

/** Spawns an event process. Returns 0 and stores its pid in *out (may be NULL), or a
 * negative code; on error nothing was spawned and arg still belongs to the caller. */
HEARTH_EXTERN int hearth_spawn(const hearth_actor_t *actor, void *arg, unsigned flags,
                               hearth_pid_t *out);

/** Spawns a green thread running fn(arg) on a stack of its own (stack_size 0: the
 * runtime's default). The thread exits normally when fn returns. After a blocking
 * call (hearth_receive, hearth_yield, hearth_call...) it may go on on another OS
 * thread: do not keep pthread_self(), errno or thread-locals across those calls. */
HEARTH_EXTERN int hearth_spawn_green(void (*fn)(void *arg), void *arg, size_t stack_size,
                                     unsigned flags, hearth_pid_t *out);

/** The calling process, or (on a non-runtime thread) its attached process. */
HEARTH_EXTERN hearth_pid_t hearth_self(void);

/** True while pid names a live process. */
HEARTH_EXTERN bool hearth_is_alive(hearth_pid_t pid);

/** Makes the calling process exit with reason. In a green thread or attached thread
 * it does not return; in an event handler the process exits when the handler
 * returns. */
HEARTH_EXTERN void hearth_exit(hearth_reason_t reason);

/** Sends an exit signal to pid (erlang:exit/2). HEARTH_KILL cannot be trapped. */
HEARTH_EXTERN int hearth_exit_signal(hearth_pid_t pid, hearth_reason_t reason);

/** Links the caller and pid: when one exits abnormally, the other gets an exit
 * signal. HEARTH_ESRCH if pid is not alive (a race with its death is reported as
 * an exit signal with reason HEARTH_NOPROC). */
HEARTH_EXTERN int hearth_link(hearth_pid_t pid);
HEARTH_EXTERN int hearth_unlink(hearth_pid_t pid);

/** Monitors pid: when it exits (or if it is already gone) the caller gets a
 * HEARTH_MSG_DOWN message with ref = *ref and value = the reason. */
HEARTH_EXTERN int hearth_monitor(hearth_pid_t pid, uint64_t *ref);
/** Removes a monitor; with flush, also drops a DOWN for it already in the mailbox
 * (green and attached threads only). */
HEARTH_EXTERN int hearth_demonitor(uint64_t ref, bool flush);

/** Sets whether the calling process traps exits (exit signals become
 * HEARTH_MSG_EXIT messages). Returns the previous setting. */
HEARTH_EXTERN bool hearth_trap_exit(bool on);

/** A new reference, unique for the life of the runtime. */
HEARTH_EXTERN uint64_t hearth_make_ref(void);

/* ---- receive (green threads and attached threads) ------------------------- */

/** A match function for selective receive: true to take m. */
typedef bool (*hearth_match_fn)(const hearth_msg_t *m, void *arg);

#define HEARTH_INFINITY (-1)

/** Takes the first message that match accepts (any message if match is NULL),
 * leaving the others in order. Waits up to timeout_ms (HEARTH_INFINITY: forever;
 * 0: only looks). Returns 0 and the message in *out (the caller owns it), or
 * HEARTH_ETIMEDOUT, or HEARTH_EINVAL in an event process (which never blocks). */
HEARTH_EXTERN int hearth_receive(hearth_match_fn match, void *arg, int64_t timeout_ms,
                                 hearth_msg_t **out);
/** Receives the message carrying tag and ref (a reply, a DOWN, ...). */
HEARTH_EXTERN int hearth_receive_ref(uint32_t tag, uint64_t ref, int64_t timeout_ms,
                                     hearth_msg_t **out);
/** Yields the scheduler to other processes (green threads only; else a no-op). */
HEARTH_EXTERN void hearth_yield(void);
/** Sleeps (green and attached threads): receive of nothing with a timeout. */
HEARTH_EXTERN void hearth_sleep(int64_t ms);

/* ---- calls (the request/reply protocol the server behaviour uses) ---------- */

/** Sends request (as a HEARTH_MSG_CALL, ref = a new call ref, request->tag kept in
 * value) to pid and waits for the reply, monitoring pid meanwhile. Returns 0 and the
 * reply in *reply, HEARTH_ESRCH if pid is dead or dies before replying,
 * HEARTH_ETIMEDOUT, or HEARTH_EINVAL in an event process (use hearth_call_async).
 * Always takes request. */
HEARTH_EXTERN int hearth_call(hearth_pid_t pid, hearth_msg_t *request, int64_t timeout_ms,
                              hearth_msg_t **reply);
/** Sends request as a call without waiting; the reply arrives later as a
 * HEARTH_MSG_REPLY with ref = *ref. */
HEARTH_EXTERN int hearth_call_async(hearth_pid_t pid, hearth_msg_t *request, uint64_t *ref);
/** Replies to a call: sends reply to caller as HEARTH_MSG_REPLY with ref. The
 * original tag of reply is kept in value. Always takes reply. */
HEARTH_EXTERN int hearth_reply(hearth_pid_t caller, uint64_t ref, hearth_msg_t *reply);

/* ---- timers ------------------------------------------------------------------ */

/** Sends m to pid after ms milliseconds (erlang:send_after/3). Stores a timer ref in
 * *ref (may be NULL). Timers sit on a hierarchical timing wheel: O(1) to start and
 * to cancel. Always takes m. */
HEARTH_EXTERN int hearth_send_after(hearth_pid_t pid, hearth_msg_t *m, uint64_t ms,
                                    uint64_t *ref);
/** Cancels a timer. Returns 0 if it was pending (its message is freed), or
 * HEARTH_ENOENT if it already fired or was canceled. */
HEARTH_EXTERN int hearth_timer_cancel(uint64_t ref);

/** Monotonic milliseconds since an arbitrary start. */
HEARTH_EXTERN uint64_t hearth_now_ms(void);

/* ---- names ----------------------------------------------------------------------- */

/** Registers name (copied, at most 63 bytes) for pid. HEARTH_EEXIST if the name is
 * taken or pid already has a name; HEARTH_ESRCH if pid is dead. The name is freed
 * when the process exits. */
HEARTH_EXTERN int hearth_register(const char *name, hearth_pid_t pid);
HEARTH_EXTERN int hearth_unregister(const char *name);
/** The pid registered under name, or HEARTH_PID_NONE. */
HEARTH_EXTERN hearth_pid_t hearth_whereis(const char *name);

/* ---- I/O ------------------------------------------------------------------------- */

/** A socket handle: owned by one process, which gets its events as messages. */
typedef uint64_t hearth_sock_t;

/** Listens on host:port (TCP). Accepted connections arrive at the caller as
 * HEARTH_MSG_TCP_ACCEPTED with ref = the new socket, owned by the caller; read
 * with hearth_tcp_read_start. port 0 picks one: see hearth_tcp_port. */
HEARTH_EXTERN int hearth_tcp_listen(const char *host, int port, int backlog, hearth_sock_t *out);
/** Connects to host:port; HEARTH_MSG_TCP_CONNECTED arrives when done. */
HEARTH_EXTERN int hearth_tcp_connect(const char *host, int port, hearth_sock_t *out);
/** The local port a socket is bound to, or a negative code. */
HEARTH_EXTERN int hearth_tcp_port(hearth_sock_t s);
/** The remote address of an accepted socket as text ("127.0.0.1", "::1"), into buf.
 * Returns 0, HEARTH_ENOENT if it has none (not an accepted socket), or
 * HEARTH_EINVAL for a stale handle. */
HEARTH_EXTERN int hearth_tcp_peer(hearth_sock_t s, char *buf, size_t size);
/** Hands a socket to another process, which then receives its events. Events the
 * loop had already sent may still reach the caller; a HEARTH_MSG_TCP_GIVEN comes
 * after the last of them. */
HEARTH_EXTERN int hearth_tcp_give(hearth_sock_t s, hearth_pid_t new_owner);
/** Starts delivering HEARTH_MSG_TCP_DATA messages (and TCP_CLOSED at EOF). */
HEARTH_EXTERN int hearth_tcp_read_start(hearth_sock_t s);
HEARTH_EXTERN int hearth_tcp_read_stop(hearth_sock_t s);
/** Queues len bytes (copied) for writing; writes queued together are coalesced. */
HEARTH_EXTERN int hearth_tcp_write(hearth_sock_t s, const void *data, size_t len);
/** Queues a shared payload for writing without copying it (takes a reference). */
HEARTH_EXTERN int hearth_tcp_write_shared(hearth_sock_t s, hearth_payload_t *p);
/** Queues len bytes of p from offset off, without copying (takes a reference). */
HEARTH_EXTERN int hearth_tcp_write_shared_range(hearth_sock_t s, hearth_payload_t *p, size_t off,
                                                size_t len);
/** Closes a socket after its queued writes. A socket is also closed when its owner
 * exits. */
HEARTH_EXTERN int hearth_tcp_close(hearth_sock_t s);

/** Runs fn(arg) on the blocking-work pool (disk, database calls), never on a
 * scheduler thread; when it returns, the caller gets HEARTH_MSG_WORK_DONE with
 * ref = *ref and value = fn's result. arg stays the caller's. */
HEARTH_EXTERN int hearth_work_submit(int64_t (*fn)(void *arg), void *arg, uint64_t *ref);

/* ---- introspection ---------------------------------------------------------------- */

typedef enum { HEARTH_KIND_EVENT = 1, HEARTH_KIND_GREEN = 2, HEARTH_KIND_THREAD = 3 } hearth_kind_t;

/** What hearth_process_info reports (like erlang:process_info/1). */
typedef struct hearth_proc_info {
    hearth_pid_t pid;
    hearth_kind_t kind;
    char name[64];          /**< registered name, or "" */
    const char *actor;      /**< the actor's name, or "green", "thread" */
    size_t mailbox_len;     /**< messages waiting */
    uint64_t handled;       /**< messages handled so far */
    size_t memory;          /**< bytes: process, stack, queued messages */
    size_t links;
    size_t monitors;
    bool trap_exit;
} hearth_proc_info_t;

HEARTH_EXTERN int hearth_process_info(hearth_pid_t pid, hearth_proc_info_t *info);
/** Calls fn for each live process; stops early if fn returns non-zero. The list is a
 * snapshot: processes may exit meanwhile. Returns how many were visited. */
HEARTH_EXTERN size_t hearth_processes(int (*fn)(const hearth_proc_info_t *info, void *arg),
                                      void *arg);
/** Live processes right now. */
HEARTH_EXTERN size_t hearth_process_count(void);

/** Runtime-wide counters. */
typedef struct hearth_stats {
    uint64_t spawned, exited, sent, dropped, delivered;
    uint64_t steals, wakeups;
    size_t processes;
    size_t proc_bytes; /**< bytes held by live process structs */
} hearth_stats_t;
HEARTH_EXTERN void hearth_stats(hearth_stats_t *out);

/* ---- fault injection ---------------------------------------------------------------- */

/** Kills pid now (an untrappable exit signal with reason HEARTH_KILL). */
HEARTH_EXTERN int hearth_fault_kill(hearth_pid_t pid);
/** Kills one random live process for which filter returns true (NULL: any but the
 * caller and attached threads); the choice follows the fault seed. Stores it in
 * *victim. HEARTH_ESRCH if none matched. */
HEARTH_EXTERN int hearth_fault_kill_random(bool (*filter)(const hearth_proc_info_t *, void *),
                                           void *arg, hearth_pid_t *victim);
/** Makes pid crash (reason HEARTH_INJECTED) when it next handles a message. */
HEARTH_EXTERN int hearth_fault_crash_next(hearth_pid_t pid);
/** Drops messages sent to pid with probability drop (0..1) and delays them by
 * delay_ms with probability delay; 0, 0 clears. Signals are never dropped. */
HEARTH_EXTERN int hearth_fault_mailbox(hearth_pid_t pid, double drop, double delay,
                                       uint64_t delay_ms);
/** Reseeds the fault injection random stream (reproducible runs). */
HEARTH_EXTERN void hearth_fault_seed(uint64_t seed);

/* ---- the runtime -------------------------------------------------------------------- */

typedef struct hearth_config {
    int schedulers;         /**< scheduler threads; 0: one per core */
    size_t stack_size;      /**< default green thread stack; 0: 64 KiB */
    unsigned budget;        /**< messages a process handles per turn; 0: 100 */
    uint64_t fault_seed;    /**< seed for fault injection; 0: from the clock */
    size_t max_processes;   /**< 0: 16M */
} hearth_config_t;

/** Starts the runtime with cfg (NULL: defaults). HEARTH_EBUSY if already running. */
HEARTH_EXTERN int hearth_start(const hearth_config_t *cfg);
/** Stops the runtime: the calling thread's own process exits with reason
 * HEARTH_SHUTDOWN (so trees linked to it stop in order); then each process that an
 * OS thread spawned (the roots), newest first, gets an exit signal HEARTH_SHUTDOWN
 * and up to 5 s to go before a kill; then anything left is shut down and killed.
 * Joins the schedulers and frees everything. Call from a non-runtime thread. */
HEARTH_EXTERN int hearth_stop(void);
/** Waits until pid exits (from a non-runtime thread); its reason in *reason. */
HEARTH_EXTERN int hearth_wait(hearth_pid_t pid, int64_t timeout_ms, hearth_reason_t *reason);
/** How many scheduler threads are running. */
HEARTH_EXTERN int hearth_schedulers(void);
/** The libuv loop of the calling scheduler thread (uv_loop_t *), for embedding code
 * that adds its own handles from inside a process; NULL off the schedulers. */
HEARTH_EXTERN void *hearth_uv_loop(void);

#ifdef __cplusplus
}
#endif
#endif /* HEARTH_HEARTH_H */
