/* Hearth supervisors: OTP's supervisor behaviour.
 *
 * A supervisor starts child processes from child specs, watches them through links
 * (it traps exits) and restarts them by its strategy:
 *   - HEARTH_ONE_FOR_ONE: only the child that ended is restarted;
 *   - HEARTH_ONE_FOR_ALL: all other children are stopped (in reverse start order),
 *     then all are started again in order;
 *   - HEARTH_REST_FOR_ONE: the children started after the one that ended are stopped
 *     (in reverse order), then it and they are started again in order;
 *   - HEARTH_SIMPLE_ONE_FOR_ONE: one_for_one over dynamic children that all come from
 *     one template spec and are added with hearth_supervisor_start_dynamic.
 * Whether a child is restarted depends on its restart type: permanent always;
 * transient only if it exited with a reason other than HEARTH_NORMAL or
 * HEARTH_SHUTDOWN; temporary never (its spec is dropped when it ends).
 *
 * Restart intensity: if more than intensity restarts happen within period seconds,
 * the supervisor stops all its children (reverse start order) and exits with reason
 * HEARTH_SHUTDOWN, which its own supervisor sees as its child ending: the failure
 * escalates up the tree.
 *
 * Children start in spec order and stop in reverse order. Stopping a child: monitor
 * it, send it an exit signal HEARTH_SHUTDOWN, wait for its DOWN up to the spec's
 * shutdown timeout, then send HEARTH_KILL (HEARTH_SHUTDOWN_BRUTAL_KILL: HEARTH_KILL
 * at once); the monitor sees the child's end even if it unlinked itself.
 * When the supervisor's parent (the process that started it with HEARTH_SPAWN_LINK)
 * exits or sends it an exit signal, and on hearth_server_stop / hearth_supervisor_stop,
 * it stops its children the same way and exits with that reason.
 *
 * The supervisor is a green thread. Its API calls are hearth_call requests, so they
 * work from green threads and attached threads (not from event processes:
 * HEARTH_EINVAL), return HEARTH_ESRCH if the supervisor is gone, and wait as long as
 * the supervisor needs (a child's start or shutdown may take a while), as in OTP.
 * Child start functions run inside the supervisor process. */
#ifndef HEARTH_SUPERVISOR_H
#define HEARTH_SUPERVISOR_H

#include "hearth/hearth.h"
#include "hearth/server.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum hearth_strategy {
    HEARTH_ONE_FOR_ONE = 0,
    HEARTH_ONE_FOR_ALL,
    HEARTH_REST_FOR_ONE,
    HEARTH_SIMPLE_ONE_FOR_ONE,
} hearth_strategy_t;

typedef enum hearth_restart {
    HEARTH_PERMANENT = 0, /**< always restarted (the default) */
    HEARTH_TRANSIENT,     /**< restarted after an abnormal exit only */
    HEARTH_TEMPORARY,     /**< never restarted */
} hearth_restart_t;

typedef enum hearth_child_type {
    HEARTH_WORKER = 0, /**< the default */
    HEARTH_SUPERVISOR,
} hearth_child_type_t;

/** Values of hearth_child_spec_t.shutdown besides a timeout in milliseconds (> 0). */
#define HEARTH_SHUTDOWN_DEFAULT 0 /**< 5000 for a worker, infinity for a supervisor */
#define HEARTH_SHUTDOWN_INFINITY HEARTH_INFINITY /**< wait for the child however long */
#define HEARTH_SHUTDOWN_BRUTAL_KILL (-2)         /**< HEARTH_KILL at once */

/** What a child start function returns to decline without an error (OTP's ignore):
 * the spec is kept with no process (a temporary one is dropped). */
#define HEARTH_CHILD_IGNORE HEARTH_SERVER_IGNORE

/** Starts a child: must create it linked to the calling process (the supervisor),
 * e.g. with HEARTH_SPAWN_LINK, store its pid in *out and return 0; or return
 * HEARTH_CHILD_IGNORE, or a negative code. Runs inside the supervisor, which is a
 * green thread: it may block (hearth_supervisor_start of a child supervisor does). */
typedef int (*hearth_child_start_fn)(void *arg, hearth_pid_t *out);

/** A child spec. Zeroed fields take OTP's defaults: permanent, worker, default
 * shutdown. The supervisor copies the spec (id included); arg is passed as is to
 * every start and restart, so it must stay valid while the supervisor may use it. */
typedef struct hearth_child_spec {
    const char *id;              /**< unique within the supervisor, at most 63 bytes;
                                      ignored for a simple_one_for_one template */
    hearth_child_start_fn start; /**< required */
    void *arg;
    hearth_restart_t restart;
    int64_t shutdown; /**< ms > 0, or a HEARTH_SHUTDOWN_* value */
    hearth_child_type_t type;
} hearth_child_spec_t;

/** Supervisor flags (OTP's sup_flags) and options. */
typedef struct hearth_sup_flags {
    hearth_strategy_t strategy;
    int intensity;    /**< restarts allowed within period (>= 0; 0: none) */
    int period;       /**< seconds (0: 5) */
    const char *name; /**< registered before the children start, or NULL */
} hearth_sup_flags_t;

/** Starts a supervisor with flags (NULL: one_for_one, intensity 1, period 5, as in
 * OTP) and the children specs (copied; n specs, started in order; exactly one, the
 * template, for simple_one_for_one, which starts none). spawn_flags: hearth_spawn's
 * (HEARTH_SPAWN_LINK makes the caller its parent; a supervisor always traps exits).
 * Returns once every child has started: 0 and the pid in *out (may be NULL); the
 * failing child's code (the children already started are stopped again and nothing
 * is left behind); HEARTH_EINVAL for a bad spec or from an event process (the
 * caller waits for the children to start); HEARTH_EEXIST if flags->name is taken. */
HEARTH_EXTERN int hearth_supervisor_start(const hearth_sup_flags_t *flags,
                                          const hearth_child_spec_t *children, size_t n,
                                          unsigned spawn_flags, hearth_pid_t *out);

/** Stops supervisor sup with reason, children first; same as hearth_server_stop. */
HEARTH_EXTERN int hearth_supervisor_stop(hearth_pid_t sup, hearth_reason_t reason,
                                         int64_t timeout_ms);

/** Adds spec (copied) as the last child and starts it. Returns 0 and its pid in *out
 * (may be NULL; HEARTH_PID_NONE if it declined with HEARTH_CHILD_IGNORE: a temporary
 * spec is then not kept); the start function's code (the spec is not kept);
 * HEARTH_EEXIST if the id is in use (*out = its pid if it runs, else
 * HEARTH_PID_NONE); HEARTH_EINVAL for a bad spec; HEARTH_ENOTSUP on a
 * simple_one_for_one supervisor; HEARTH_ESRCH if sup is gone. */
HEARTH_EXTERN int hearth_supervisor_start_child(hearth_pid_t sup, const hearth_child_spec_t *spec,
                                                hearth_pid_t *out);

/** simple_one_for_one: starts a child from the template, with arg instead of the
 * template's arg (kept for its restarts). Returns 0 and its pid in *out (or
 * HEARTH_PID_NONE if it declined), the start function's code, HEARTH_ENOTSUP on
 * another strategy, HEARTH_ESRCH if sup is gone. */
HEARTH_EXTERN int hearth_supervisor_start_dynamic(hearth_pid_t sup, void *arg, hearth_pid_t *out);

/** Stops child id (if it runs) the way its spec says; the spec is kept (unless
 * temporary) for hearth_supervisor_restart_child. Returns 0, HEARTH_ENOENT,
 * HEARTH_ENOTSUP on a simple_one_for_one supervisor, HEARTH_ESRCH. */
HEARTH_EXTERN int hearth_supervisor_terminate_child(hearth_pid_t sup, const char *id);

/** simple_one_for_one: stops dynamic child pid and forgets it. Returns 0 (also if pid
 * is already dead), HEARTH_ENOENT if pid is alive but not a child of sup,
 * HEARTH_ENOTSUP on another strategy, HEARTH_ESRCH. */
HEARTH_EXTERN int hearth_supervisor_terminate_dynamic(hearth_pid_t sup, hearth_pid_t child);

/** Starts child id again after it was stopped or ended without restart. Returns 0 and
 * its pid in *out (may be NULL), the start function's code, HEARTH_EBUSY if it runs,
 * HEARTH_EAGAIN if the supervisor is retrying a failed restart of it, HEARTH_ENOENT,
 * HEARTH_ENOTSUP on a simple_one_for_one supervisor, HEARTH_ESRCH. */
HEARTH_EXTERN int hearth_supervisor_restart_child(hearth_pid_t sup, const char *id,
                                                  hearth_pid_t *out);

/** Forgets the spec of child id, which must not be running. Returns 0, HEARTH_EBUSY,
 * HEARTH_EAGAIN (being restarted), HEARTH_ENOENT, HEARTH_ENOTSUP, HEARTH_ESRCH. */
HEARTH_EXTERN int hearth_supervisor_delete_child(hearth_pid_t sup, const char *id);

/** One child, as hearth_supervisor_which_children reports it. */
typedef struct hearth_child_info {
    char id[64];      /**< "" for a dynamic (simple_one_for_one) child */
    hearth_pid_t pid; /**< HEARTH_PID_NONE if not running */
    bool restarting;  /**< a failed restart is being retried */
    hearth_child_type_t type;
} hearth_child_info_t;

/** Lists the children, the most recently started first (as OTP does; dynamic
 * children in no particular order): fills up to cap entries of out and stores the
 * number of children in *count (may be more than cap). Returns 0 or HEARTH_ESRCH. */
HEARTH_EXTERN int hearth_supervisor_which_children(hearth_pid_t sup, hearth_child_info_t *out,
                                                   size_t cap, size_t *count);

/** Child counts, as OTP's count_children. */
typedef struct hearth_child_counts {
    size_t specs;       /**< all children, running or not (1 for simple_one_for_one) */
    size_t active;      /**< running children */
    size_t supervisors; /**< children of type supervisor, running or not */
    size_t workers;     /**< children of type worker, running or not */
} hearth_child_counts_t;

/** Returns 0 and the counts in *out, or HEARTH_ESRCH. */
HEARTH_EXTERN int hearth_supervisor_count_children(hearth_pid_t sup, hearth_child_counts_t *out);

#ifdef __cplusplus
}
#endif
#endif /* HEARTH_SUPERVISOR_H */
