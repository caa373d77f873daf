/*
 * A small cache of freed output blocks of 1 MiB and more (see napi_buffers.c), so that a loop
 * making outputs of one size reuses memory that is already mapped.
 *
 * glibc maps every block of 32 MiB or more (csrc/memory.c) fresh from the kernel and
 * unmaps it on free, and V8 frees garbage outputs only some collections later, so a loop
 * of 16M-element adds keeps about a gigabyte in flight. In this VM memory given back to
 * the kernel is cold again when it returns: those adds took 70-80 ms for each new block
 * and 7-8 ms on reused ones, over and over as the in-flight set shrank and grew. Smaller
 * blocks pay too: glibc maps blocks from 128 KiB up itself (a threshold it raises only to the
 * sizes it has seen freed) and trims its heap as the garbage comes and goes, and each page
 * touched anew is a fault (1.2 us a 4 KiB page here, 1.2 ms for 4 MiB). The PTB model's
 * training step, whose vocabulary-sized outputs are 8-16 MiB, took about 4,400 faults a
 * step with 32 MiB here and 50-80 with 4 MiB (88-91 -> 82-83 ms a step); ResNet-50's training
 * step 1.82 -> 1.66 s. Blocks of at least EAGER_LARGE_BLOCK_BYTES are therefore kept on
 * release, up to a total of min(1 GiB, 1/8 of physical memory), and handed out again to a
 * request of exactly the same size (loops repeat shapes). The price is the memory kept: peak RSS
 * of ResNet-50's inference process 513 -> 624 MiB, its training process 1758 -> 1834 MiB (the
 * MNIST and PTB loops' peaks unchanged; docs/design.md). Medium blocks, from
 * EAGER_CACHED_MIN_BYTES (1 MiB) up, are kept too, on a shelf of their own of 64 MiB, so that
 * they never evict a large one: glibc trims its heap under them as the garbage comes and goes
 * (dropped 1 MiB allReduce results faulted 68-77 of their 256 pages a call; 0 with the shelf),
 * and ResNet-50's steps took 1.68-1.86 -> 1.51-1.63 s (training) and 475-521 -> 396-450 ms
 * (inference), the MNIST and PTB steps and every peak unchanged (2026-12-06, docs/design.md).
 * Smaller blocks stay with malloc (a cache from 64 KiB up slowed the MNIST step's allocations).
 * Slots are kept oldest first; a block that would exceed its shelf's total frees the oldest
 * ones, so the cache follows the sizes in use now. release may run on any V8 thread, hence
 * the mutex.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block_cache.h"

#define CACHE_SLOTS 64

/* A shelf holds cached blocks of one size class, oldest first, within its own budget. */
typedef struct {
  struct {
    void *block;
    size_t bytes;
  } slots[CACHE_SLOTS];
  int used;
  size_t cached_bytes;
  size_t capacity; /* (size_t)-1: not computed yet */
} shelf;

/* Medium blocks (1 to 4 MiB) have a budget of their own, so that they never evict a large
 * block (64 MiB: a few dozen of them, the in-flight set of a loop's medium outputs). */
#define MEDIUM_CAPACITY ((size_t)64 << 20)

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static shelf medium = {.capacity = MEDIUM_CAPACITY}, large = {.capacity = (size_t)-1};

static size_t large_capacity(void) {
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  size_t eighth = pages > 0 && page > 0 ? (size_t)pages * (size_t)page / 8 : 0;
  size_t limit = (size_t)1 << 30;
  return eighth < limit ? eighth : limit;
}

static shelf *shelf_for(size_t bytes) {
  return bytes >= EAGER_LARGE_BLOCK_BYTES ? &large : &medium;
}

/* Removes slot i of s (under cache_lock). */
static void remove_slot(shelf *s, int i) {
  s->cached_bytes -= s->slots[i].bytes;
  memmove(&s->slots[i], &s->slots[i + 1], (size_t)(s->used - i - 1) * sizeof s->slots[0]);
  s->used--;
}

void *eager_block_reuse(size_t bytes) {
  void *found = NULL;
  if (bytes < EAGER_CACHED_MIN_BYTES) return NULL;
  shelf *s = shelf_for(bytes);
  pthread_mutex_lock(&cache_lock);
  for (int i = s->used - 1; i >= 0; i--) {
    if (s->slots[i].bytes != bytes) continue;
    found = s->slots[i].block;
    remove_slot(s, i);
    break;
  }
  pthread_mutex_unlock(&cache_lock);
  return found;
}

void *eager_block_take(size_t bytes) {
  void *found = eager_block_reuse(bytes);
  if (found) return found;
  /* NOTE: no huge-page hint here. This file once called eager_hint_huge_pages, but under
   * -std=c11 without _GNU_SOURCE sys/mman.h declares no MADV_HUGEPAGE, so the call compiled
   * to nothing. Made real (2026-12-05), it changed neither the MNIST step (56-59 ms) nor the
   * fresh 16M add loop (first ten calls 0.06-0.38 s either way, the same peaks), so it went. */
  return malloc(bytes); /* 16-byte aligned, as V8's own buffers */
}

void eager_block_give(void *block, size_t bytes) {
  if (bytes < EAGER_CACHED_MIN_BYTES) {
    free(block);
    return;
  }
  void *evicted[CACHE_SLOTS];
  int evictions = 0;
  shelf *s = shelf_for(bytes);
  pthread_mutex_lock(&cache_lock);
  if (s->capacity == (size_t)-1) s->capacity = large_capacity();
  if (bytes <= s->capacity) {
    while (s->used > 0 && (s->used == CACHE_SLOTS || s->cached_bytes + bytes > s->capacity)) {
      evicted[evictions++] = s->slots[0].block;
      remove_slot(s, 0);
    }
    s->slots[s->used].block = block;
    s->slots[s->used].bytes = bytes;
    s->used++;
    s->cached_bytes += bytes;
    block = NULL;
  }
  pthread_mutex_unlock(&cache_lock);
  for (int i = 0; i < evictions; i++) free(evicted[i]); /* outside the lock: munmap is slow */
  free(block);
}
