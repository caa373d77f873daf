/* Memory hints for large tensor buffers. */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "internal.h"

#define HUGE_PAGE ((uintptr_t)2 << 20)

EAGER_API int32_t eager_advise_huge_pages(void *ptr, int64_t bytes) {
  if (!ptr || bytes < 0) return EAGER_ERR_ARGUMENT;
  uintptr_t begin = ((uintptr_t)ptr + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
  uintptr_t end = ((uintptr_t)ptr + (uintptr_t)bytes) & ~(HUGE_PAGE - 1);
  /* Only whole huge pages inside the buffer; a hint, so failure is not an error. */
  if (end > begin) (void)madvise((void *)begin, end - begin, MADV_HUGEPAGE);
  return EAGER_OK;
}
