/*
 * The thread pool: persistent workers that sleep on a condition variable and run one
 * job at a time. This is libeager's only global mutable state. OpenBLAS keeps its own
 * threads for GEMM; this pool serves the other kernels.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

#define EAGER_POOL_MAX 64

static pthread_mutex_t pool_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_work = PTHREAD_COND_INITIALIZER;
static pthread_cond_t pool_done = PTHREAD_COND_INITIALIZER;
static int pool_size;    /* threads a job may use, the caller included; 0 = not yet set */
static int pool_started; /* workers running (ith 1 .. pool_started) */
static uint64_t pool_generation;
static int pool_pending;
static eager_task_fn job_fn;
static void *job_ctx;
static int job_nth;
static atomic_flag pool_busy = ATOMIC_FLAG_INIT;

static int default_threads(void) {
  const char *env = getenv("EAGER_NUM_THREADS");
  if (env) {
    int n = atoi(env);
    if (n >= 1) return n > EAGER_POOL_MAX ? EAGER_POOL_MAX : n;
  }
  cpu_set_t set;
  int n = 0;
  if (sched_getaffinity(0, sizeof set, &set) == 0) n = CPU_COUNT(&set);
  if (n < 1) n = (int)sysconf(_SC_NPROCESSORS_ONLN);
  if (n < 1) n = 1;
  return n > EAGER_POOL_MAX ? EAGER_POOL_MAX : n;
}

/* The generation each worker has seen when it starts: set under the mutex before the
 * thread is created, so a job published before the new thread first locks the mutex is
 * still run by it. */
static uint64_t worker_seen[EAGER_POOL_MAX];

static void *worker_main(void *arg) {
  int ith = (int)(intptr_t)arg;
  pthread_mutex_lock(&pool_mutex);
  uint64_t seen = worker_seen[ith];
  for (;;) {
    while (pool_generation == seen) pthread_cond_wait(&pool_work, &pool_mutex);
    seen = pool_generation;
    if (ith >= job_nth) continue;
    eager_task_fn fn = job_fn;
    void *ctx = job_ctx;
    int nth = job_nth;
    pthread_mutex_unlock(&pool_mutex);
    fn(ctx, ith, nth);
    pthread_mutex_lock(&pool_mutex);
    if (--pool_pending == 0) pthread_cond_signal(&pool_done);
  }
  return NULL;
}

/* Starts workers up to `want` - 1; returns how many threads a job may now use. */
static int ensure_workers(int want) {
  while (pool_started < want - 1) {
    pthread_t thread;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    worker_seen[pool_started + 1] = pool_generation;
    int failed = pthread_create(&thread, &attr, worker_main, (void *)(intptr_t)(pool_started + 1));
    pthread_attr_destroy(&attr);
    if (failed) break;
    pool_started++;
  }
  return pool_started + 1 < want ? pool_started + 1 : want;
}

int eager_threads_for(int64_t work, int64_t grain) {
  int size = eager_num_threads();
  if (grain < 1) grain = 1;
  int64_t n = work / grain;
  if (n < 1) return 1;
  return n < size ? (int)n : size;
}

int eager_parallel(eager_task_fn fn, void *ctx, int nth) {
  if (nth <= 1 || atomic_flag_test_and_set(&pool_busy)) {
    fn(ctx, 0, 1);
    return 1;
  }
  pthread_mutex_lock(&pool_mutex);
  if (pool_size == 0) pool_size = default_threads();
  if (nth > pool_size) nth = pool_size;
  nth = ensure_workers(nth);
  job_fn = fn;
  job_ctx = ctx;
  job_nth = nth;
  pool_pending = nth - 1;
  pool_generation++;
  pthread_cond_broadcast(&pool_work);
  pthread_mutex_unlock(&pool_mutex);

  fn(ctx, 0, nth);

  pthread_mutex_lock(&pool_mutex);
  while (pool_pending > 0) pthread_cond_wait(&pool_done, &pool_mutex);
  pthread_mutex_unlock(&pool_mutex);
  atomic_flag_clear(&pool_busy);
  return nth;
}

EAGER_API int32_t eager_set_num_threads(int32_t n) {
  pthread_mutex_lock(&pool_mutex);
  pool_size = n >= 1 ? (n > EAGER_POOL_MAX ? EAGER_POOL_MAX : n) : default_threads();
  int size = pool_size;
  pthread_mutex_unlock(&pool_mutex);
  return size;
}

EAGER_API int32_t eager_num_threads(void) {
  pthread_mutex_lock(&pool_mutex);
  if (pool_size == 0) pool_size = default_threads();
  int size = pool_size;
  pthread_mutex_unlock(&pool_mutex);
  return size;
}
