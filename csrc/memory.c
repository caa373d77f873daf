/* Memory hints for large tensor buffers, and clearing them. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

#define HUGE_PAGE ((uintptr_t)2 << 20)

EAGER_API int32_t eager_advise_huge_pages(void *ptr, int64_t bytes) {
  if (!ptr || bytes < 0) return EAGER_ERR_ARGUMENT;
#ifdef MADV_HUGEPAGE /* Linux only; elsewhere the hint does nothing */
  uintptr_t begin = ((uintptr_t)ptr + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
  uintptr_t end = ((uintptr_t)ptr + (uintptr_t)bytes) & ~(HUGE_PAGE - 1);
  /* Only whole huge pages inside the buffer; a hint, so failure is not an error. */
  if (end > begin) (void)madvise((void *)begin, end - begin, MADV_HUGEPAGE);
#endif
  return EAGER_OK;
}

/*
 * glibc returns a freed block of 128 KiB or more to the kernel at once (and raises that
 * threshold only as far as the blocks it has seen), so each fresh tensor output of a few
 * megabytes pays page faults and zeroing by the kernel: softmax of 1024x1024 took 1.3 ms
 * that way and 0.6-0.7 ms with blocks up to 32 MiB kept in the heap for reuse (the peak
 * memory of the MNIST training loop did not change). V8 frees tensor buffers through
 * free(), so this is set once when the library loads; EAGER_MALLOC_TUNING=0 leaves
 * glibc's defaults alone.
 */
#if defined(__GLIBC__)
#include <malloc.h>
__attribute__((constructor)) static void tune_malloc(void) {
  const char *setting = getenv("EAGER_MALLOC_TUNING");
  if (setting && strcmp(setting, "0") == 0) return;
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
