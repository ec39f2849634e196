/* Registered names: name -> pid, and pid -> name so a dying process frees its name.
 *
 * One mutex guards two chained hash tables that grow by doubling. Lookups are rare
 * next to sends (a process looks a name up once and keeps the pid), so a lock is
 * simpler than a lock-free set and never the bottleneck. A process's `named` flag
 * lets teardown skip the lock entirely for the millions of processes with no name. */
#include "internal.h"

#include <string.h>

typedef struct entry {
    struct entry *next_by_name, *next_by_pid;
    hearth_pid_t pid;
    char name[64];
} entry_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static entry_t **by_name, **by_pid;
static size_t nbuckets, count;

static size_t hash_name(const char *s)
{
    size_t h = 1469598103934665603ull; /* FNV-1a */
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

static size_t hash_pid(hearth_pid_t pid)
{
    return (size_t)(pid * 0x9E3779B97F4A7C15ull >> 17);
}

void hearth__registry_init(void)
{
    pthread_mutex_lock(&lock);
    nbuckets = 256;
    count = 0;
    by_name = hearth__calloc(nbuckets, sizeof(*by_name));
    by_pid = hearth__calloc(nbuckets, sizeof(*by_pid));
    pthread_mutex_unlock(&lock);
}

void hearth__registry_fini(void)
{
    size_t i;
    pthread_mutex_lock(&lock);
    for (i = 0; i < nbuckets; i++) {
        entry_t *e = by_name[i];
        while (e) {
            entry_t *next = e->next_by_name;
            hearth__free(e);
            e = next;
        }
    }
    hearth__free(by_name);
    hearth__free(by_pid);
    by_name = by_pid = NULL;
    nbuckets = count = 0;
    pthread_mutex_unlock(&lock);
}

static void grow(void)
{
    size_t i, n = nbuckets * 2;
    entry_t **nn = hearth__calloc(n, sizeof(*nn)), **np = hearth__calloc(n, sizeof(*np));
    for (i = 0; i < nbuckets; i++) {
        entry_t *e = by_name[i];
        while (e) {
            entry_t *next = e->next_by_name;
            size_t a = hash_name(e->name) & (n - 1), b = hash_pid(e->pid) & (n - 1);
            e->next_by_name = nn[a];
            nn[a] = e;
            e->next_by_pid = np[b];
            np[b] = e;
            e = next;
        }
    }
    hearth__free(by_name);
    hearth__free(by_pid);
    by_name = nn;
    by_pid = np;
    nbuckets = n;
}

static entry_t *find_name(const char *name)
{
    entry_t *e = by_name[hash_name(name) & (nbuckets - 1)];
    while (e && strcmp(e->name, name) != 0)
        e = e->next_by_name;
    return e;
}

static entry_t *find_pid(hearth_pid_t pid)
{
    entry_t *e = by_pid[hash_pid(pid) & (nbuckets - 1)];
    while (e && e->pid != pid)
        e = e->next_by_pid;
    return e;
}

static void unlink_entry(entry_t *e)
{
    entry_t **pp = &by_name[hash_name(e->name) & (nbuckets - 1)];
    while (*pp != e)
        pp = &(*pp)->next_by_name;
    *pp = e->next_by_name;
    pp = &by_pid[hash_pid(e->pid) & (nbuckets - 1)];
    while (*pp != e)
        pp = &(*pp)->next_by_pid;
    *pp = e->next_by_pid;
    count--;
    hearth__free(e);
}

int hearth_register(const char *name, hearth_pid_t pid)
{
    hearth__proc_t *p;
    entry_t *e;
    size_t len;
    int err = 0;
    bool inside = hearth__epoch_inside;
    hearth__epoch_rec_t *r = NULL;

    if (name == NULL || (len = strlen(name)) == 0 || len >= sizeof(e->name))
        return HEARTH_EINVAL;
    if (!hearth__running())
        return HEARTH_ESHUTDOWN;
    if (!inside) {
        r = hearth__epoch_self();
        hearth__epoch_enter(r);
    }
    pthread_mutex_lock(&lock);
    p = hearth__proc_lookup(pid);
    if (p == NULL || atomic_load(&p->life) != HEARTH__RUNNING) {
        err = HEARTH_ESRCH;
    } else if (find_name(name) || find_pid(pid)) {
        err = HEARTH_EEXIST;
    } else {
        if (count >= nbuckets)
            grow();
        e = hearth__calloc(1, sizeof(*e));
        memcpy(e->name, name, len + 1);
        e->pid = pid;
        e->next_by_name = by_name[hash_name(name) & (nbuckets - 1)];
        by_name[hash_name(name) & (nbuckets - 1)] = e;
        e->next_by_pid = by_pid[hash_pid(pid) & (nbuckets - 1)];
        by_pid[hash_pid(pid) & (nbuckets - 1)] = e;
        count++;
        /* seq_cst flag, then state: teardown stores state, then reads the flag, so
         * one of us sees the other and the name never outlives the process. */
        atomic_store(&p->named, 1);
        if (atomic_load(&p->life) != HEARTH__RUNNING) {
            unlink_entry(e);
            err = HEARTH_ESRCH;
        }
    }
    pthread_mutex_unlock(&lock);
    if (!inside)
        hearth__epoch_exit(r);
    return err;
}

int hearth_unregister(const char *name)
{
    entry_t *e;
    int err = HEARTH_ENOENT;

    if (name == NULL)
        return HEARTH_EINVAL;
    pthread_mutex_lock(&lock);
    if (by_name && (e = find_name(name)) != NULL) {
        unlink_entry(e);
        err = 0;
    }
    pthread_mutex_unlock(&lock);
    return err;
}

hearth_pid_t hearth_whereis(const char *name)
{
    hearth_pid_t pid = HEARTH_PID_NONE;
    entry_t *e;

    if (name == NULL)
        return pid;
    pthread_mutex_lock(&lock);
    if (by_name && (e = find_name(name)) != NULL)
        pid = e->pid;
    pthread_mutex_unlock(&lock);
    return pid;
}

int hearth_send_named(const char *name, hearth_msg_t *m)
{
    hearth_pid_t pid = hearth_whereis(name);
    if (pid == HEARTH_PID_NONE) {
        hearth_msg_free(m);
        return HEARTH_ENOENT;
    }
    return hearth_send(pid, m);
}

void hearth__registry_drop(hearth__proc_t *p)
{
    entry_t *e;
    if (!atomic_load(&p->named))
        return;
    pthread_mutex_lock(&lock);
    if (by_name && (e = find_pid(p->pid)) != NULL)
        unlink_entry(e);
    pthread_mutex_unlock(&lock);
}

/* The name of pid, copied into buf (size bytes), or "" (introspection). */
void hearth__registry_name_of(hearth_pid_t pid, char *buf, size_t size)
{
    entry_t *e;
    buf[0] = '\0';
    pthread_mutex_lock(&lock);
    if (by_name && (e = find_pid(pid)) != NULL)
        snprintf(buf, size, "%s", e->name);
    pthread_mutex_unlock(&lock);
}
