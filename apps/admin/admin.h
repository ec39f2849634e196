/* The operators' CLI, run as `hearth-server admin ...`: it works on a data directory's
 * store directly (a running server may have it open: SQLite's WAL lets both write),
 * without starting the runtime. */
#ifndef HEARTH_APPS_ADMIN_H
#define HEARTH_APPS_ADMIN_H

/* Runs the admin command in argv[1..argc) (argv[0] is "admin"). Prints results to
 * stdout and errors to stderr. Returns the process exit status: 0, 1 if the command
 * failed, 2 for bad usage. */
int admin_main(int argc, char **argv);

#endif /* HEARTH_APPS_ADMIN_H */
