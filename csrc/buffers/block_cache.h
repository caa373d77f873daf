/* The output buffer helper's block cache (block_cache.c). */
#ifndef EAGER_BLOCK_CACHE_H
#define EAGER_BLOCK_CACHE_H

#include <stddef.h>

/* Uninitialised blocks for op outputs: take returns NULL when out of memory; give takes back
 * a block that take returned, with its size. Thread-safe. */
void *eager_block_take(size_t bytes);
void eager_block_give(void *block, size_t bytes);

#endif /* EAGER_BLOCK_CACHE_H */
