/* Transparent huge pages for large buffers (memory.c's eager_advise_huge_pages, which the
 * CPU backend calls for large zero-filled arrays). NOTE: MADV_HUGEPAGE is declared only
 * with _GNU_SOURCE (or _DEFAULT_SOURCE) under -std=c11; without it the hint is nothing. */
#ifndef EAGER_HUGE_PAGES_H
#define EAGER_HUGE_PAGES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

/* Transparent huge pages are asked for from this size. */
#define EAGER_HUGE_PAGE_HINT_BYTES ((size_t)4 << 20)

/* Asks for huge pages over the whole 2 MiB pages inside [ptr, ptr + bytes): a hint, so a
 * failure is ignored, and nothing happens where MADV_HUGEPAGE does not exist. */
static inline void eager_hint_huge_pages(void *ptr, size_t bytes) {
#ifdef MADV_HUGEPAGE
  const uintptr_t page = (uintptr_t)2 << 20;
  uintptr_t begin = ((uintptr_t)ptr + page - 1) & ~(page - 1);
  uintptr_t end = ((uintptr_t)ptr + (uintptr_t)bytes) & ~(page - 1);
  if (end > begin) (void)madvise((void *)begin, end - begin, MADV_HUGEPAGE);
#else
  (void)ptr;
  (void)bytes;
#endif
}

#endif /* EAGER_HUGE_PAGES_H */
