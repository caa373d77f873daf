/*
 * Scratch memory for kernels that need megabytes of it for the length of one call (the
 * Winograd convolutions' transformed filters, inputs and products), kept between calls.
 *
 * NOTE: taking such blocks from malloc and freeing them at the end of every call made glibc
 * grow and trim its heap each time, and in some runs the ops around the convs slowed down
 * with it: ResNet-50's inference step, whose 3x3 convs take 10-25 MiB of Winograd scratch
 * each, took 431-460 ms with 26 ms in allocating outputs and the elementwise ops' times
 * doubled; with glibc's trimming off (EAGER_MALLOC_TUNING=1) 368-393 ms. Keeping too much
 * was as bad the other way: with 128 MiB kept, the training step's output allocations took
 * 127-130 ms a step instead of 11 and its binary ops 101-103 ms instead of 58-61 (1.79 s a
 * step; nothing kept: 1.57 s). With 32 MiB kept (a ResNet 3x3 conv's set) both were quick:
 * inference 394-397 ms, training 1.53-1.56 s (bench/procs/resnet50_ours.ts and the same
 * step under the backend probe, AMD EPYC 2 cores; the cause of the slowdowns was not found).
 * So freed blocks are kept here, up to SCRATCH_SLOTS of them and SCRATCH_CAPACITY bytes in
 * all, and handed to a request they can hold without wasting more than half of the block;
 * the oldest go first when a new one does not fit. Threads (Deno workers) may run kernels
 * at once, hence the mutex; a block is only ever in use by the call that took it.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define SCRATCH_SLOTS 4
#define SCRATCH_CAPACITY ((size_t)32 << 20)
#define HEADER 64 /* bytes before each block: its capacity, keeping the block 64-byte aligned */

static pthread_mutex_t scratch_lock = PTHREAD_MUTEX_INITIALIZER;
static void *slots[SCRATCH_SLOTS]; /* the blocks' bases (their headers), oldest first */
static int used;
static size_t cached;

static size_t capacity_of(void *base) {
  size_t bytes;
  memcpy(&bytes, base, sizeof bytes);
  return bytes;
}

void *eager_scratch_take(size_t bytes) {
  bytes = (bytes + 63) & ~(size_t)63;
  void *found = NULL;
  pthread_mutex_lock(&scratch_lock);
  int best = -1;
  for (int i = 0; i < used; i++) {
    size_t have = capacity_of(slots[i]);
    if (have >= bytes && have / 2 <= bytes && (best < 0 || have < capacity_of(slots[best])))
      best = i;
  }
  if (best >= 0) {
    found = slots[best];
    cached -= capacity_of(found);
    memmove(&slots[best], &slots[best + 1], (size_t)(used - best - 1) * sizeof slots[0]);
    used--;
  }
  pthread_mutex_unlock(&scratch_lock);
  if (!found) {
    found = aligned_alloc(64, bytes + HEADER);
    if (!found) return NULL;
    memcpy(found, &bytes, sizeof bytes);
  }
  return (char *)found + HEADER;
}

void eager_scratch_give(void *block) {
  if (!block) return;
  void *base = (char *)block - HEADER, *evicted[SCRATCH_SLOTS + 1];
  size_t bytes = capacity_of(base);
  int evictions = 0;
  pthread_mutex_lock(&scratch_lock);
  if (bytes > SCRATCH_CAPACITY) {
    evicted[evictions++] = base;
  } else {
    while (used > 0 && (used == SCRATCH_SLOTS || cached + bytes > SCRATCH_CAPACITY)) {
      evicted[evictions++] = slots[0];
      cached -= capacity_of(slots[0]);
      memmove(&slots[0], &slots[1], (size_t)(used - 1) * sizeof slots[0]);
      used--;
    }
    slots[used++] = base;
    cached += bytes;
  }
  pthread_mutex_unlock(&scratch_lock);
  for (int i = 0; i < evictions; i++) free(evicted[i]);
}
