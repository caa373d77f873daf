/*
 * The thread pool: persistent workers, each sleeping on its own semaphore, running one
 * job at a time. This is libeager's only global mutable state. OpenBLAS keeps its own
 * threads for GEMM; this pool serves the other kernels.
 *
 * NOTE: workers are woken with one POSIX semaphore each, not a condition variable: with
 * several Deno workers of one process calling in, glibc 2.36's condition variables hung
 * in pthread_cond_broadcast (seen here, in __condvar_quiesce_and_switch_g1). A job only
 * posts the workers it uses; the last one to finish posts the caller's semaphore.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/* A counting semaphore: POSIX's unnamed ones, or libdispatch's on macOS, which has no
 * sem_init. */
#if defined(__APPLE__)
#include <dispatch/dispatch.h>
typedef dispatch_semaphore_t pool_sem;
static void sem_make(pool_sem *s) { *s = dispatch_semaphore_create(0); }
static void sem_up(pool_sem *s) { dispatch_semaphore_signal(*s); }
static void sem_down(pool_sem *s) { dispatch_semaphore_wait(*s, DISPATCH_TIME_FOREVER); }
static int sem_try(pool_sem *s) { return dispatch_semaphore_wait(*s, DISPATCH_TIME_NOW) == 0; }
#else
#include <semaphore.h>
typedef sem_t pool_sem;
static void sem_make(pool_sem *s) { sem_init(s, 0, 0); }
static void sem_up(pool_sem *s) { sem_post(s); }
static void sem_down(pool_sem *s) {
  while (sem_wait(s) != 0) {
  } /* EINTR: wait again */
}
static int sem_try(pool_sem *s) { return sem_trywait(s) == 0; }
#endif

#define EAGER_POOL_MAX 64

/*
 * How long the caller spins for its workers to finish before it sleeps. NOTE: measured on
 * the 2-core EPYC VM (2026-12-06), whose idle vCPUs halt at once (no guest halt polling): a
 * thread that sleeps there takes 40-80 us to wake (a semaphore ping-pong between two threads,
 * with the caller busy in between: 54-86 us a round trip). A caller that finished its share
 * and slept on the job's semaphore paid that wake on every parallel kernel: an add of 64K
 * float32 took 106-110 us on 2 threads against 13 us on one, 256K 120 against 47 us. Spinning
 * up to 100 us first (its core would idle anyway): 21-24 and 46-52 us. Two sets of 6
 * alternating bench runs, medians: the MNIST step 60.8 -> 53.6 and 63.7 -> 61.1 ms, the PTB step
 * 65.7 -> 65.0 and 82.9 -> 73.7 ms, conv1 forward 1.30 -> 1.11 and 1.48 -> 1.66 ms (its spread:
 * 1.0-2.2 ms). Workers still sleep at once after a job: spinning there takes the cores from
 * OpenBLAS's and oneDNN's threads (docs/design.md).
 * NOTE: the caller running the parts of workers not yet awake was tried and taken out (a
 * late worker ran a part past a smaller later job's data); docs/design.md says why and what a
 * second try needs.
 */
#define CALLER_SPIN_NS 100000

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
static inline void cpu_relax(void) { _mm_pause(); }
#elif defined(__aarch64__)
static inline void cpu_relax(void) { __asm__ __volatile__("yield"); }
#else
static inline void cpu_relax(void) {}
#endif

static int64_t monotonic_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

static pthread_mutex_t start_mutex = PTHREAD_MUTEX_INITIALIZER; /* guards worker creation */
static _Atomic int pool_size;    /* threads a job may use, the caller included; 0 = not set */
static _Atomic int pool_started; /* workers running: ith 1 .. pool_started */
static pool_sem worker_wake[EAGER_POOL_MAX];
static pool_sem job_done;
static _Atomic int job_pending;
/* The job being run; written by the caller that holds pool_busy before it posts. */
static eager_task_fn job_fn;
static void *job_ctx;
static int job_nth;
static atomic_flag pool_busy = ATOMIC_FLAG_INIT;
static int semaphores_ready; /* under start_mutex */

int eager_usable_cpus(void) {
  int n = 0;
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) n = CPU_COUNT(&set);
#endif
  if (n < 1) n = (int)sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : n;
}

static int default_threads(void) {
  const char *env = getenv("EAGER_NUM_THREADS");
  if (env) {
    int n = atoi(env);
    if (n >= 1) return n > EAGER_POOL_MAX ? EAGER_POOL_MAX : n;
  }
  int n = eager_usable_cpus();
  return n > EAGER_POOL_MAX ? EAGER_POOL_MAX : n;
}

static void *worker_main(void *arg) {
  int ith = (int)(intptr_t)arg;
  for (;;) {
    sem_down(&worker_wake[ith]);
    job_fn(job_ctx, ith, job_nth);
    if (atomic_fetch_sub(&job_pending, 1) == 1) sem_up(&job_done);
  }
  return NULL;
}

/*
 * Keeps this library mapped until the process ends, once it has threads of its own: they
 * live in its code, and a host that closes the library (Deno closes every DynamicLibrary at
 * exit) would unmap that code under them. Seen as a SIGSEGV at an unmapped address in about
 * 1 of 15 exits once nothing else held the library open. RTLD_NODELETE makes every later
 * dlclose keep it.
 */
static void pin_library(void) {
  Dl_info self;
  if (dladdr((void *)&pin_library, &self) && self.dli_fname) {
    (void)dlopen(self.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
  }
}

/* Starts workers up to `want` - 1; returns how many threads a job may now use. */
static int ensure_workers(int want) {
  if (atomic_load(&pool_started) >= want - 1) return want;
  pthread_mutex_lock(&start_mutex);
  if (!semaphores_ready) {
    pin_library();
    for (int i = 0; i < EAGER_POOL_MAX; i++) sem_make(&worker_wake[i]);
    sem_make(&job_done);
    semaphores_ready = 1;
  }
  int started = atomic_load(&pool_started);
  while (started < want - 1) {
    pthread_t thread;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int failed = pthread_create(&thread, &attr, worker_main, (void *)(intptr_t)(started + 1));
    pthread_attr_destroy(&attr);
    if (failed) break;
    started++;
  }
  atomic_store(&pool_started, started);
  pthread_mutex_unlock(&start_mutex);
  return started + 1 < want ? started + 1 : want;
}

int eager_threads_for(int64_t work, int64_t grain) {
  int size = eager_num_threads();
  if (grain < 1) grain = 1;
  int64_t n = work / grain;
  if (n < 1) return 1;
  return n < size ? (int)n : size;
}

/* Returns once the workers of the job have all finished (CALLER_SPIN_NS above). */
static void wait_for_workers(void) {
  int64_t deadline = monotonic_ns() + CALLER_SPIN_NS;
  for (int round = 1;; round++) {
    if (sem_try(&job_done)) return;
    cpu_relax();
    if (round % 32 == 0 && monotonic_ns() > deadline) break;
  }
  sem_down(&job_done);
}

int eager_parallel(eager_task_fn fn, void *ctx, int nth) {
  int size = eager_num_threads();
  if (nth > size) nth = size;
  if (nth <= 1 || atomic_flag_test_and_set(&pool_busy)) {
    fn(ctx, 0, 1);
    return 1;
  }
  nth = ensure_workers(nth);
  job_fn = fn;
  job_ctx = ctx;
  job_nth = nth;
  atomic_store(&job_pending, nth - 1);
  for (int i = 1; i < nth; i++) sem_up(&worker_wake[i]);
  fn(ctx, 0, nth);
  if (nth > 1) wait_for_workers();
  atomic_flag_clear(&pool_busy);
  return nth;
}

EAGER_API int32_t eager_set_num_threads(int32_t n) {
  int size = n >= 1 ? (n > EAGER_POOL_MAX ? EAGER_POOL_MAX : n) : default_threads();
  atomic_store(&pool_size, size);
  return size;
}

EAGER_API int32_t eager_num_threads(void) {
  int size = atomic_load(&pool_size);
  if (size == 0) {
    int expected = 0;
    atomic_compare_exchange_strong(&pool_size, &expected, default_threads());
    size = atomic_load(&pool_size);
  }
  return size;
}
