/* The M:N scheduler: one thread per core by default, each with its own run queue and
 * its own libuv loop.
 *
 * Run queues: a Concurrency Kit ring per scheduler in single-producer multi-consumer
 * mode (only its own thread pushes; it and thieves pop), a one-slot "run next" for the
 * process the running one just woke (so a request and its reply run back to back on
 * one core, as Go does), and one global injection queue for work from other threads
 * and for ring overflow. A process woken by a send goes to the *sender's* scheduler
 * (as in Pony): the data it needs is hot there.
 *
 * Idle schedulers steal from others, then sleep in uv_run() with the timing wheel's
 * next deadline as timeout, so an idle runtime uses no CPU. A scheduler that queues
 * work on its ring wakes a sleeping one (uv_async_send), which steals half.
 *
 * Fairness: an event process handles at most `budget` messages per turn; the run-next
 * slot may be used for a bounded streak before the ring gets its turn; the injection
 * queue is checked every few turns. */
#include "internal.h"

#include <ck_ring.h>
#include <malloc.h>
#include <string.h>
#ifdef HEARTH_TSAN
#include <sanitizer/tsan_interface.h>
/* ck_ring's loads and stores are volatile accesses with hand-placed fences, which
 * ThreadSanitizer cannot see: tell it that a pop acquires what the push released, and
 * test/tsan.supp silences its reports on the ring's own counters. */
#define RING_RELEASE(s) __tsan_release(&(s)->ring)
#define RING_ACQUIRE(s) __tsan_acquire(&(s)->ring)
#else
#define RING_RELEASE(s) ((void)0)
#define RING_ACQUIRE(s) ((void)0)
#endif
#include <unistd.h>
#include <uv.h>

#define RING_SIZE 4096      /* a power of two (ck_ring) */
#define RUNNEXT_STREAK 32   /* run-next turns in a row before the ring gets one */
#define POLL_EVERY 64       /* turns between non-blocking looks at I/O and timers */
#define MAX_SCHEDULERS 64

typedef struct post {
    struct post *next;
    void (*fn)(void *);
    void *arg;
} post_t;

struct hearth__sched {
    int index;
    pthread_t thread;
    uv_loop_t loop;
    uv_async_t async;  /* wakes the loop: new work, posts, stop */
    uv_timer_t timer;  /* the wheel's next deadline while sleeping */
    hearth__wheel_t *wheel;
    hearth__epoch_rec_t *epoch;
    struct ck_ring ring;
    struct ck_ring_buffer *ring_buf;
    /* Owner only. */
    hearth__proc_t *runnext;
    hearth__proc_t *running;
    unsigned streak;
    uint64_t turns;
    /* Any thread. */
    _Atomic int sleeping;
    pthread_mutex_t post_lock;
    post_t *post_head, *post_tail;
} __attribute__((aligned(HEARTH_CACHELINE)));

static hearth__sched_t *scheds;
static int nscheds;
static hearth_config_t config;
static _Atomic int running;
static _Atomic int stopping;
static _Atomic int nsleeping;
_Atomic uint64_t hearth__runtime_gen = 1;
static __thread hearth__sched_t *self_sched;

/* The injection queue: processes made runnable off the schedulers, and ring overflow. */
static pthread_mutex_t inject_lock = PTHREAD_MUTEX_INITIALIZER;
static hearth__proc_t *inject_head, *inject_tail;
static _Atomic size_t inject_len;

void hearth__proc_table_reset(void);
void hearth__registry_reset(void);

const hearth_config_t *hearth__config(void)
{
    return &config;
}

bool hearth__running(void)
{
    return atomic_load_explicit(&running, memory_order_acquire) &&
           !atomic_load_explicit(&stopping, memory_order_relaxed);
}

hearth__sched_t *hearth__sched_self(void)
{
    return self_sched;
}

int hearth__sched_index(hearth__sched_t *s)
{
    return s->index;
}

hearth__sched_t *hearth__sched_get(int index)
{
    return index >= 0 && index < nscheds ? &scheds[index] : NULL;
}

struct uv_loop_s *hearth__sched_loop(hearth__sched_t *s)
{
    return &s->loop;
}

hearth__wheel_t *hearth__sched_wheel(hearth__sched_t *s)
{
    return s->wheel;
}

int hearth_schedulers(void)
{
    return nscheds;
}

void *hearth_uv_loop(void)
{
    return self_sched ? &self_sched->loop : NULL;
}

void hearth__sched_wake(hearth__sched_t *s)
{
    uv_async_send(&s->async);
}

/* Wakes one sleeping scheduler other than `except`, if any sleeps. */
static void wake_one(hearth__sched_t *except)
{
    int i;
    for (i = 0; i < nscheds; i++) {
        hearth__sched_t *s = &scheds[i];
        if (s == except)
            continue;
        if (atomic_load_explicit(&s->sleeping, memory_order_seq_cst)) {
            atomic_fetch_add_explicit(&hearth__counters.wakeups, 1, memory_order_relaxed);
            uv_async_send(&s->async);
            return;
        }
    }
}

static void inject_push(hearth__proc_t *p)
{
    p->run_next = NULL;
    pthread_mutex_lock(&inject_lock);
    if (inject_tail)
        inject_tail->run_next = p;
    else
        inject_head = p;
    inject_tail = p;
    atomic_fetch_add_explicit(&inject_len, 1, memory_order_seq_cst);
    pthread_mutex_unlock(&inject_lock);
}

static hearth__proc_t *inject_pop(void)
{
    hearth__proc_t *p;
    if (atomic_load_explicit(&inject_len, memory_order_relaxed) == 0)
        return NULL;
    pthread_mutex_lock(&inject_lock);
    p = inject_head;
    if (p) {
        inject_head = p->run_next;
        if (inject_head == NULL)
            inject_tail = NULL;
        atomic_fetch_sub_explicit(&inject_len, 1, memory_order_relaxed);
    }
    pthread_mutex_unlock(&inject_lock);
    return p;
}

static void ring_push(hearth__sched_t *s, hearth__proc_t *p)
{
    RING_RELEASE(s);
    if (!ck_ring_enqueue_spmc(&s->ring, s->ring_buf, p))
        inject_push(p);
    /* Full fence: our push is visible before we look for sleepers, and a scheduler
     * going to sleep announces itself before it looks for work (see sched_sleep). */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&nsleeping, memory_order_relaxed) > 0)
        wake_one(s);
}

void hearth__sched_enqueue(hearth__proc_t *p)
{
    hearth__sched_t *s = self_sched;

    if (s == NULL) {
        inject_push(p);
        if (atomic_load_explicit(&nsleeping, memory_order_seq_cst) > 0)
            wake_one(NULL);
        return;
    }
    if (s->running) {
        /* Woken by the running process: run it next, right after the sender. */
        hearth__proc_t *old = s->runnext;
        s->runnext = p;
        if (old)
            ring_push(s, old);
        return;
    }
    ring_push(s, p);
}

void hearth__sched_post(hearth__sched_t *s, void (*fn)(void *arg), void *arg)
{
    post_t *item = hearth__malloc(sizeof(*item));
    item->next = NULL;
    item->fn = fn;
    item->arg = arg;
    pthread_mutex_lock(&s->post_lock);
    if (s->post_tail)
        s->post_tail->next = item;
    else
        s->post_head = item;
    s->post_tail = item;
    pthread_mutex_unlock(&s->post_lock);
    uv_async_send(&s->async);
}

static void run_posts(hearth__sched_t *s)
{
    post_t *list;
    pthread_mutex_lock(&s->post_lock);
    list = s->post_head;
    s->post_head = s->post_tail = NULL;
    pthread_mutex_unlock(&s->post_lock);
    while (list) {
        post_t *next = list->next;
        list->fn(list->arg);
        hearth__free(list);
        list = next;
    }
}

static void async_cb(uv_async_t *h)
{
    run_posts(h->data);
}

static void timer_cb(uv_timer_t *h)
{
    (void)h; /* only wakes the loop; the scheduler runs the wheel after uv_run */
}

/* Takes half of another scheduler's ring into ours; returns one to run now. */
static hearth__proc_t *steal(hearth__sched_t *s)
{
    int i;
    for (i = 1; i < nscheds; i++) {
        hearth__sched_t *victim = &scheds[(s->index + i) % nscheds];
        unsigned n = ck_ring_size(&victim->ring);
        hearth__proc_t *first = NULL, *p;
        unsigned take = (n + 1) / 2;

        while (take-- > 0 && ck_ring_dequeue_spmc(&victim->ring, victim->ring_buf, &p)) {
            RING_ACQUIRE(victim);
            if (first == NULL) {
                first = p;
            } else {
                RING_RELEASE(s);
                if (!ck_ring_enqueue_spmc(&s->ring, s->ring_buf, p))
                    inject_push(p);
            }
        }
        if (first) {
            atomic_fetch_add_explicit(&hearth__counters.steals, 1, memory_order_relaxed);
            return first;
        }
    }
    return NULL;
}

static hearth__proc_t *next_runnable(hearth__sched_t *s)
{
    hearth__proc_t *p;

    if (s->turns % 61 == 0 && (p = inject_pop()) != NULL)
        return p; /* now and then, so work from outside is never starved */
    if (s->runnext && s->streak < RUNNEXT_STREAK) {
        p = s->runnext;
        s->runnext = NULL;
        s->streak++;
        return p;
    }
    s->streak = 0;
    if (ck_ring_dequeue_spmc(&s->ring, s->ring_buf, &p)) {
        RING_ACQUIRE(s);
        return p;
    }
    if (s->runnext) {
        p = s->runnext;
        s->runnext = NULL;
        return p;
    }
    return inject_pop();
}

/* After a turn: requeue, or let the process go idle unless mail came meanwhile. */
static void after_turn(hearth__sched_t *s, hearth__proc_t *p, int status)
{
    int expected = 0;

    if (status == HEARTH__TURN_EXITED)
        return;
    if (status == HEARTH__TURN_YIELD) {
        ring_push(s, p);
        return;
    }
    /* Still the consumer: may read the tail. Then the seq_cst store and load pair with
     * hearth__proc_deliver's push-then-load. */
    bool consumed = hearth__mpsc_consumed(&p->mq);
    atomic_store_explicit(&p->scheduled, 0, memory_order_seq_cst);
    if ((!consumed || !hearth__mpsc_quiet(&p->mq)) &&
        atomic_compare_exchange_strong(&p->scheduled, &expected, 1))
        ring_push(s, p);
}

static void run_one(hearth__sched_t *s, hearth__proc_t *p)
{
    int status;

    s->running = p;
    p->home = (uint8_t)s->index;
    if (p->kind == HEARTH_KIND_GREEN) {
        status = hearth__green_run(p);
        if (status == HEARTH__GREEN_BLOCKED)
            status = HEARTH__TURN_IDLE;
        else if (status == HEARTH__GREEN_YIELDED)
            status = HEARTH__TURN_YIELD;
        else
            status = HEARTH__TURN_EXITED;
    } else {
        status = hearth__proc_run_event(p, config.budget);
    }
    s->running = NULL;
    after_turn(s, p, status);
}

static void poll_io_and_timers(hearth__sched_t *s)
{
    uv_run(&s->loop, UV_RUN_NOWAIT);
    hearth__timers_run(s->wheel, hearth_now_ms());
    hearth__epoch_quiesce(s->epoch);
    hearth__epoch_reclaim(s->epoch);
}

static bool has_work(hearth__sched_t *s)
{
    int i;
    if (s->runnext || ck_ring_size(&s->ring) > 0 || atomic_load(&inject_len) > 0)
        return true;
    for (i = 0; i < nscheds; i++)
        if (ck_ring_size(&scheds[i].ring) > 0)
            return true;
    return false;
}

/* After a mass exit (a million processes gone), an idle scheduler gives the freed
 * memory back to the system: glibc keeps freed chunks of its thread arenas otherwise. */
static void trim_after_mass_exit(void)
{
    static _Atomic uint64_t trimmed_at;
    uint64_t exited = atomic_load_explicit(&hearth__counters.exited, memory_order_relaxed);
    uint64_t last = atomic_load_explicit(&trimmed_at, memory_order_relaxed);

    if (exited - last >= 100000 && atomic_compare_exchange_strong(&trimmed_at, &last, exited))
        malloc_trim(0);
}

static void sched_sleep(hearth__sched_t *s)
{
    int64_t timeout;

    atomic_store_explicit(&s->sleeping, 1, memory_order_seq_cst);
    atomic_fetch_add_explicit(&nsleeping, 1, memory_order_seq_cst);
    if (!has_work(s) && !atomic_load(&stopping)) {
        hearth__epoch_reclaim(s->epoch);
        hearth__epoch_exit(s->epoch);
        if (!hearth__epoch_pending(s->epoch))
            trim_after_mass_exit();
        timeout = hearth__timers_next(s->wheel, hearth_now_ms());
        if (hearth__epoch_pending(s->epoch) && (timeout < 0 || timeout > 2))
            timeout = 2; /* come back to free what other threads still held */
        if (timeout >= 0) {
            uv_update_time(&s->loop); /* the timeout counts from now, not the last poll */
            uv_timer_start(&s->timer, timer_cb, (uint64_t)timeout, 0);
        }
        uv_run(&s->loop, UV_RUN_ONCE);
        uv_timer_stop(&s->timer);
        hearth__epoch_enter(s->epoch);
    }
    atomic_fetch_sub_explicit(&nsleeping, 1, memory_order_seq_cst);
    atomic_store_explicit(&s->sleeping, 0, memory_order_relaxed);
    hearth__timers_run(s->wheel, hearth_now_ms());
}

static void *sched_main(void *arg)
{
    hearth__sched_t *s = arg;
    hearth__proc_t *p;

    self_sched = s;
    s->epoch = hearth__epoch_self();
    hearth__green_thread_init();
    hearth__epoch_enter(s->epoch);
    while (!atomic_load_explicit(&stopping, memory_order_relaxed)) {
        p = next_runnable(s);
        if (p == NULL)
            p = steal(s);
        if (p) {
            run_one(s, p);
            if (++s->turns % POLL_EVERY == 0)
                poll_io_and_timers(s);
            continue;
        }
        poll_io_and_timers(s);
        if (has_work(s))
            continue;
        sched_sleep(s);
    }
    hearth__epoch_exit(s->epoch);
    hearth__green_thread_fini();
    self_sched = NULL;
    return NULL;
}

static int sched_init(hearth__sched_t *s, int index)
{
    memset(s, 0, sizeof(*s));
    s->index = index;
    if (uv_loop_init(&s->loop) != 0)
        return HEARTH_ENOMEM;
    uv_async_init(&s->loop, &s->async, async_cb);
    s->async.data = s;
    uv_timer_init(&s->loop, &s->timer);
    s->wheel = hearth__timers_create(hearth_now_ms());
    s->ring_buf = hearth__calloc(RING_SIZE, sizeof(*s->ring_buf));
    ck_ring_init(&s->ring, RING_SIZE);
    pthread_mutex_init(&s->post_lock, NULL);
    return 0;
}

static void close_walk_cb(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void sched_fini(hearth__sched_t *s)
{
    run_posts(s);
    uv_walk(&s->loop, close_walk_cb, NULL);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    uv_loop_close(&s->loop);
    hearth__timers_destroy(s->wheel);
    hearth__free(s->ring_buf);
    pthread_mutex_destroy(&s->post_lock);
}

int hearth_start(const hearth_config_t *cfg)
{
    int i, n, err;
    long cores;

    if (atomic_load(&running))
        return HEARTH_EBUSY;
    memset(&config, 0, sizeof(config));
    if (cfg)
        config = *cfg;
    cores = sysconf(_SC_NPROCESSORS_ONLN);
    n = config.schedulers > 0 ? config.schedulers : (int)(cores > 0 ? cores : 1);
    if (n > MAX_SCHEDULERS)
        n = MAX_SCHEDULERS;
    config.schedulers = n;
    if (config.budget == 0)
        config.budget = 100;
    hearth_fault_seed(config.fault_seed);

    atomic_fetch_add(&hearth__runtime_gen, 1);
    atomic_store(&stopping, 0);
    atomic_store(&nsleeping, 0);
    hearth__registry_init();
    scheds = hearth__calloc((size_t)n, sizeof(*scheds));
    for (i = 0; i < n; i++) {
        err = sched_init(&scheds[i], i);
        if (err)
            return err;
    }
    nscheds = n;
    hearth__io_init();
    atomic_store(&running, 1);
    for (i = 0; i < n; i++)
        pthread_create(&scheds[i].thread, NULL, sched_main, &scheds[i]);
    return 0;
}

static int shutdown_cb(hearth__proc_t *p, void *arg)
{
    (void)arg;
    if (p->kind != HEARTH_KIND_THREAD)
        hearth_exit_signal(p->pid, HEARTH_SHUTDOWN);
    return 0;
}

static int kill_cb(hearth__proc_t *p, void *arg)
{
    (void)arg;
    if (p->kind != HEARTH_KIND_THREAD)
        hearth_exit_signal(p->pid, HEARTH_KILL);
    return 0;
}

static int count_cb(hearth__proc_t *p, void *arg)
{
    if (p->kind != HEARTH_KIND_THREAD)
        ++*(size_t *)arg;
    return 0;
}

static size_t runtime_processes(void)
{
    size_t n = 0;
    hearth__proc_foreach(count_cb, &n);
    return n;
}

static bool wait_processes_gone(uint64_t ms)
{
    uint64_t deadline = hearth_now_ms() + ms;
    while (runtime_processes() > 0) {
        if (hearth_now_ms() >= deadline)
            return false;
        usleep(1000);
    }
    return true;
}

/* Waits until no process is left, or the count stops falling for quiet_ms, or
 * max_ms passed. Returns true if none is left. */
static bool wait_settled(uint64_t quiet_ms, uint64_t max_ms)
{
    uint64_t start = hearth_now_ms(), changed = start;
    size_t last = runtime_processes();

    while (last > 0) {
        uint64_t now = hearth_now_ms();
        size_t n;
        if (now - changed >= quiet_ms || now - start >= max_ms)
            return false;
        usleep(1000);
        n = runtime_processes();
        if (n != last) {
            last = n;
            changed = hearth_now_ms();
        }
    }
    return true;
}

int hearth_stop(void)
{
    hearth__proc_t *self;
    hearth_pid_t *roots;
    size_t nroots;
    int i;

    if (!atomic_load(&running) || self_sched != NULL)
        return self_sched ? HEARTH_EINVAL : HEARTH_ESHUTDOWN;

    /* 1. Orderly: the caller's own process exits with reason shutdown, so supervision
     * trees linked to it shut down in order. */
    self = hearth__current();
    if (self && self->kind == HEARTH_KIND_THREAD) {
        hearth__set_current(NULL);
        hearth__proc_exit(self, HEARTH_SHUTDOWN);
    }
    /* 2. The other roots (processes that OS threads spawned), newest first, one at a
     * time, as a supervisor stops its children: shutdown, then kill after a grace. */
    nroots = hearth__proc_roots(&roots);
    while (nroots-- > 0) {
        hearth_pid_t pid = roots[nroots];
        uint64_t deadline = hearth_now_ms() + 5000;
        if (hearth_exit_signal(pid, HEARTH_SHUTDOWN) != 0)
            continue;
        while (hearth_is_alive(pid) && hearth_now_ms() < deadline)
            usleep(500);
        if (hearth_is_alive(pid))
            hearth_exit_signal(pid, HEARTH_KILL);
    }
    hearth__free(roots);
    /* 3. Whatever is left: shutdown to all, then kill after a grace period. */
    if (!wait_settled(20, 2000)) {
        hearth__proc_foreach(shutdown_cb, NULL);
        if (!wait_settled(200, 2000)) {
            hearth__proc_foreach(kill_cb, NULL);
            wait_processes_gone(10000);
        }
    }
    atomic_store(&stopping, 1);
    for (i = 0; i < nscheds; i++)
        uv_async_send(&scheds[i].async);
    for (i = 0; i < nscheds; i++)
        pthread_join(scheds[i].thread, NULL);

    /* No scheduler runs now. Processes of other attached threads die here. */
    hearth__attach_fini();
    hearth__io_fini();
    for (i = 0; i < nscheds; i++)
        sched_fini(&scheds[i]);
    hearth__epoch_drain_all();
    /* Anything left queued was dead (and is freed by now). */
    inject_head = inject_tail = NULL;
    atomic_store(&inject_len, 0);
    hearth__registry_fini();
    hearth__proc_table_reset();
    hearth__free(scheds);
    scheds = NULL;
    nscheds = 0;
    atomic_fetch_add(&hearth__runtime_gen, 1);
    atomic_store(&running, 0);
    return 0;
}
