/* Memory hints for large tensor buffers, and clearing them. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "huge_pages.h"
#include "internal.h"

EAGER_API int32_t eager_advise_huge_pages(void *ptr, int64_t bytes) {
  if (!ptr || bytes < 0) return EAGER_ERR_ARGUMENT;
  eager_hint_huge_pages(ptr, (size_t)bytes);
  return EAGER_OK;
}

/*
 * glibc returns a freed block of 128 KiB or more to the kernel at once (and raises that
 * threshold only as far as the blocks it has seen), so a fresh tensor output of a few
 * megabytes could pay page faults and zeroing by the kernel each time. This was once set
 * at load; it now changes the host process's allocator only when the user asks, with
 * EAGER_MALLOC_TUNING=1. NOTE: measured 2026-12-04, with outputs taken from the block
 * cache (buffers/napi_buffers.c) it no longer paid: softmax 1024x1024 0.44-0.45 ms either way, exp
 * over 16M 6.2-6.4 ms, the MNIST step best of 31 36.6-38.3 ms, the 200-step MNIST loop's
 * peak 325-333 MiB either way (tuned / glibc's defaults).
 */
#if defined(__GLIBC__)
#include <malloc.h>
__attribute__((constructor)) static void tune_malloc(void) {
  const char *setting = getenv("EAGER_MALLOC_TUNING");
  if (!setting || strcmp(setting, "1") != 0) return;
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
}
#endif

/* Bytes per thread below which one memset is as quick as splitting it. */
#define ZERO_GRAIN ((int64_t)1 << 20)

typedef struct {
  char *bytes;
  int64_t lines; /* 64-byte lines, the last one possibly short */
  size_t size;
} zero_job;

static void zero_task(void *arg, int ith, int nth) {
  const zero_job *job = arg;
  int64_t begin, end;
  eager_split(job->lines, ith, nth, &begin, &end);
  size_t from = (size_t)begin * 64, to = (size_t)end * 64;
  if (to > job->size) to = job->size;
  if (to > from) memset(job->bytes + from, 0, to - from);
}

void eager_zero(void *block, size_t bytes) {
  int nth = eager_threads_for((int64_t)bytes, ZERO_GRAIN);
  if (nth <= 1) {
    memset(block, 0, bytes);
    return;
  }
  zero_job job = {block, (int64_t)((bytes + 63) / 64), bytes};
  eager_parallel(zero_task, &job, nth);
}
