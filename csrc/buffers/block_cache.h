/* The output buffer helper's block cache (block_cache.c). */
#ifndef EAGER_BLOCK_CACHE_H
#define EAGER_BLOCK_CACHE_H

#include <stddef.h>

/* Blocks of at least this size are kept on give and handed out again by take and reuse. */
#define EAGER_CACHED_MIN_BYTES ((size_t)1 << 20)
/* Blocks of at least this size are large: they have the cache's main budget, and the output
 * buffer helper watches them (napi_buffers.c); smaller cached blocks share a small budget. */
#define EAGER_LARGE_BLOCK_BYTES ((size_t)4 << 20)

/* Uninitialised blocks for op outputs: take returns NULL when out of memory; give takes back
 * a block that take returned, with its size. Thread-safe. */
void *eager_block_take(size_t bytes);
/* A cached block of exactly `bytes`, or NULL: never asks malloc. Thread-safe. */
void *eager_block_reuse(size_t bytes);
void eager_block_give(void *block, size_t bytes);

#endif /* EAGER_BLOCK_CACHE_H */
