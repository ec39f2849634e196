/* Hearth servers: the request/reply behaviour (OTP's gen_server) on an event process.
 *
 * A server is an event process whose handler sorts each message into one of four
 * callbacks of a static, const hearth_server_cbs_t:
 *   - a call (hearth_server_call: the caller waits for a reply) goes to handle_call,
 *     which replies at once or keeps the caller's hearth_server_from_t and replies
 *     later with hearth_server_reply (from this or any other process);
 *   - a cast (hearth_server_cast: no reply) goes to handle_cast;
 *   - anything else (timers, trapped EXITs, DOWNs, replies to hearth_call_async, plain
 *     hearth_send messages) goes to handle_info;
 *   - a stop request (hearth_server_stop) and, when the server traps exits, an exit
 *     signal from its parent (the process that started it linked: its supervisor)
 *     end the server with that reason, as in OTP.
 *
 * Wire format, for code that talks to a server without these functions:
 *   - a call is what hearth_call sends: tag HEARTH_MSG_CALL, ref = the call ref,
 *     from = the caller, value = the request's own tag. handle_call sees the request
 *     with its own tag back in tag (and value 0): calls carry a tag and bytes, not a
 *     value. The reply travels the same way (hearth_reply parks its tag in value,
 *     hearth_call puts it back), so a reply carries a tag and bytes too.
 *   - a cast is any message with ref == HEARTH_SERVER_CAST_REF and a tag below
 *     HEARTH_MSG_SYSTEM: its tag, value and bytes reach handle_cast untouched.
 *   - tags HEARTH_BEHAVIOUR_TAGS .. HEARTH_BEHAVIOUR_TAGS + 0xFFFF are reserved for
 *     the behaviours (servers and supervisors), as the range from HEARTH_MSG_SYSTEM up
 *     is the runtime's: a stop request is HEARTH_SERVER_TAG_STOP with value = reason.
 *
 * Callbacks run in the server process, one message at a time, on a scheduler thread:
 * they must not block (an event process cannot hearth_receive or hearth_call; use
 * hearth_call_async and handle the reply in handle_info). */
#ifndef HEARTH_SERVER_H
#define HEARTH_SERVER_H

#include "hearth/hearth.h"

#ifdef __cplusplus
extern "C" {
#endif

/** First of the 65536 message tags reserved for the behaviours in actors/. */
#define HEARTH_BEHAVIOUR_TAGS 0xFFFE0000u
/** A stop request (hearth_server_stop, hearth_supervisor_stop): value = reason. */
#define HEARTH_SERVER_TAG_STOP 0xFFFE0001u
/** The ref that marks a message as a cast. */
#define HEARTH_SERVER_CAST_REF UINT64_MAX

/** What init returns to decline starting without an error (OTP's ignore):
 * hearth_server_start then returns it and starts nothing; a supervisor's child start
 * function may pass it on (HEARTH_CHILD_IGNORE). */
#define HEARTH_SERVER_IGNORE 2

/** Who is waiting for a reply: copy it (by value) to reply later. */
typedef struct hearth_server_from {
    hearth_pid_t caller; /**< the calling process */
    uint64_t ref;        /**< the call ref its reply must carry */
} hearth_server_from_t;

/** A server's callbacks: one static, const instance per kind of server. All but
 * handle_call are optional. Callbacks that return int return 0 to go on, HEARTH_STOP
 * to stop normally, or a negative code to crash with that code as the exit reason;
 * to stop with another reason (HEARTH_SHUTDOWN, an application's own) call
 * hearth_exit(reason) and return 0. A message passed to a callback belongs to the
 * runtime and is freed after the callback, unless kept (hearth_msg_keep) or sent on.
 *
 * state_size: if not 0, each server gets a zeroed block of that many bytes as its
 * state (no init or terminate needed to hold a few counters); the block is freed
 * after terminate, whatever init made of *state.
 * init(state, arg): runs in the new process before hearth_server_start returns, with
 * *state preset to the state_size block, or else to arg; sets *state and returns 0,
 * a negative code (the start fails with it) or HEARTH_SERVER_IGNORE. Without init
 * the state is that preset.
 * handle_call(state, request, from, reply): *reply is NULL on entry; set it to a new
 * message to reply now (it is sent whatever the return code, so a call can be
 * answered and the server stopped at once), or leave it NULL and reply later with
 * hearth_server_reply(from, ...) (from is valid during the call only: copy *from).
 * handle_cast(state, msg), handle_info(state, msg): no reply. Without them, casts
 * and infos are dropped.
 * terminate(state, reason): runs once when the server exits (whenever the runtime
 * runs an event process's terminate, see hearth_actor_t), and frees what the state
 * holds. */
typedef struct hearth_server_cbs {
    size_t state_size;
    int (*init)(void **state, void *arg);
    int (*handle_call)(void *state, hearth_msg_t *request, const hearth_server_from_t *from,
                       hearth_msg_t **reply);
    int (*handle_cast)(void *state, hearth_msg_t *msg);
    int (*handle_info)(void *state, hearth_msg_t *msg);
    void (*terminate)(void *state, hearth_reason_t reason);
} hearth_server_cbs_t;

/** Starts a server running cbs (which must outlive it) with arg passed to init.
 * flags are hearth_spawn's: HEARTH_SPAWN_LINK links it to the caller, which then is
 * its parent (a supervisor's start function passes it); HEARTH_SPAWN_TRAP_EXIT makes
 * it trap exits from the start, so that a parent's exit signal (a supervisor's
 * shutdown) ends it through terminate with that reason and other linked processes'
 * exits reach handle_info.
 * Returns 0 and the pid in *out (may be NULL) once init has succeeded; init's
 * negative code or HEARTH_SERVER_IGNORE (nothing is started, arg stays the
 * caller's); or hearth_spawn's errors. Callable from any process or thread. */
HEARTH_EXTERN int hearth_server_start(const hearth_server_cbs_t *cbs, void *arg, unsigned flags,
                                      hearth_pid_t *out);

/** A server as a supervisor's child: a hearth_child_spec_t's arg for
 * hearth_server_child_start. */
typedef struct hearth_server_child {
    const hearth_server_cbs_t *cbs;
    void *arg;        /**< passed to init */
    unsigned flags;   /**< added to HEARTH_SPAWN_LINK (HEARTH_SPAWN_TRAP_EXIT, say) */
    const char *name; /**< registered for each server it starts, or NULL */
} hearth_server_child_t;

/** A ready-made child start function (hearth_child_start_fn): child points at a
 * hearth_server_child_t, which must outlive the supervisor's use of the spec. Starts
 * the server linked to the caller (the supervisor), registered under child->name
 * (if set) before init runs, so the name always leads to the current instance.
 * Returns what hearth_server_start returns, or HEARTH_EEXIST if the name is taken. */
HEARTH_EXTERN int hearth_server_child_start(void *child, hearth_pid_t *out);

/** Sends request to server pid and waits up to timeout_ms (HEARTH_INFINITY: no
 * limit) for the reply, which it stores in *reply (the caller frees it) with the tag
 * handle_call gave it. Always takes request. Returns 0; HEARTH_ESRCH if the server is
 * dead or dies before replying; HEARTH_ETIMEDOUT (a reply that comes later is never
 * taken for another call's, but lands in the caller's mailbox as a HEARTH_MSG_REPLY
 * with the stale ref: a loop that receives everything should drop those);
 * HEARTH_EINVAL from an event process, which cannot wait: use hearth_call_async. */
HEARTH_EXTERN int hearth_server_call(hearth_pid_t pid, hearth_msg_t *request, int64_t timeout_ms,
                                     hearth_msg_t **reply);

/** Sends msg to server pid as a cast (it sets msg->ref). Always takes msg.
 * Returns 0 or HEARTH_ESRCH (the server is dead: msg was dropped). */
HEARTH_EXTERN int hearth_server_cast(hearth_pid_t pid, hearth_msg_t *msg);

/** Replies to a call handle_call left unanswered. Always takes reply.
 * Returns 0 or HEARTH_ESRCH (the caller is gone: the reply was dropped). */
HEARTH_EXTERN int hearth_server_reply(const hearth_server_from_t *from, hearth_msg_t *reply);

/** Asks server pid to stop with reason (terminate runs with it) and waits up to
 * timeout_ms for it to exit (OTP's gen_server:stop). Works on supervisors too.
 * Returns 0 once it has exited, HEARTH_ESRCH if it was not alive, HEARTH_ETIMEDOUT
 * if it still runs (the request stays queued), HEARTH_EINVAL from an event process
 * or for pid == hearth_self(). */
HEARTH_EXTERN int hearth_server_stop(hearth_pid_t pid, hearth_reason_t reason, int64_t timeout_ms);

#ifdef __cplusplus
}
#endif
#endif /* HEARTH_SERVER_H */
