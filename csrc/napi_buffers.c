/*
 * Output buffers that skip zeroing, handed to JavaScript through Node-API.
 *
 * `new ArrayBuffer(n)` always zero-fills (calloc), and a kernel that writes every element
 * of its output then writes it twice: on the MNIST model's first conv (a 10 MB output)
 * the memset was 18% of the samples and ran while the pool's workers waited. Deno.dlopen
 * cannot hand out memory the garbage collector frees, but Node-API can:
 * napi_create_external_arraybuffer wraps our malloc'ed block in an ArrayBuffer, and V8
 * calls release() below when it drops the block's backing store (at a collection, or at
 * once for ArrayBuffer.transfer), on whatever thread frees it, with no turn of the event
 * loop needed. release() only calls free(), which is thread-safe.
 *
 * The JavaScript side (src/native/buffers.ts) loads this same file a second time with
 * process.dlopen, which returns the already-loaded library, and calls `take(bytes)`.
 * Nothing here is part of the eager_ ABI in eager.h: these are Node-API entry points,
 * declared below from the Node-API reference (Deno's binary exports them).
 *
 * EAGER_POISON_OUTPUTS=1 fills each block with 0xFF bytes (NaN in every float, -1 in
 * every integer) so that the test suite catches a kernel that reads its output before
 * writing all of it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct napi_env__ *napi_env;
typedef struct napi_value__ *napi_value;
typedef struct napi_callback_info__ *napi_callback_info;
typedef int napi_status; /* napi_ok is 0 */
typedef void (*napi_finalize)(napi_env env, void *data, void *hint);
typedef napi_value (*napi_callback)(napi_env env, napi_callback_info info);

extern napi_status napi_create_external_arraybuffer(napi_env env, void *data, size_t bytes,
                                                    napi_finalize finalize, void *hint,
                                                    napi_value *result);
extern napi_status napi_create_function(napi_env env, const char *name, size_t length,
                                        napi_callback cb, void *data, napi_value *result);
extern napi_status napi_set_named_property(napi_env env, napi_value object, const char *name,
                                           napi_value value);
extern napi_status napi_get_cb_info(napi_env env, napi_callback_info info, size_t *argc,
                                    napi_value *argv, napi_value *this_arg, void **data);
extern napi_status napi_get_value_double(napi_env env, napi_value value, double *result);
extern napi_status napi_throw_range_error(napi_env env, const char *code, const char *msg);
extern napi_status napi_create_arraybuffer(napi_env env, size_t bytes, void **data,
                                           napi_value *result);

/* Above this the request is refused rather than passed to malloc (2^53 is JS's limit). */
#define MAX_BLOCK_BYTES ((double)((uint64_t)1 << 52))

static int poison_outputs = -1; /* unknown until the first take() */

/*
 * The collector must learn of these blocks, or garbage piles up: a loop of 10 MB conv
 * outputs grew to 4 GB before a collection ran. V8 starts a young-generation collection
 * when young ArrayBuffers hold more than about twice the semi-space size, counting
 * external ones too, but checks only when it allocates a backing store itself; so take()
 * allocates a one-byte ArrayBuffer after each block (with that, the loop above stays
 * under 300 MB). NOTE: napi_adjust_external_memory is not used: V8's count is per
 * isolate, a block may be freed after its isolate (a Deno worker, a parallel test) is
 * gone, and a count driven below zero aborts the process.
 */
static void release(napi_env env, void *data, void *hint) {
  eager_block_give(data, (size_t)(uintptr_t)hint);
}

/* take(bytes): an ArrayBuffer of `bytes` uninitialised bytes, or a thrown RangeError. */
static napi_value take(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  double requested = -1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != 0 || argc != 1 ||
      napi_get_value_double(env, argv[0], &requested) != 0 || !(requested >= 1) ||
      requested > MAX_BLOCK_BYTES || requested != (double)(uint64_t)requested) {
    napi_throw_range_error(env, NULL, "take: bytes must be a whole number from 1 to 2^52");
    return NULL;
  }
  size_t bytes = (size_t)requested;
  void *block = eager_block_take(bytes);
  if (!block) {
    napi_throw_range_error(env, NULL, "take: out of memory");
    return NULL;
  }
  if (poison_outputs < 0) {
    const char *setting = getenv("EAGER_POISON_OUTPUTS");
    poison_outputs = setting && strcmp(setting, "1") == 0;
  }
  if (poison_outputs) memset(block, 0xFF, bytes);
  napi_value buffer = NULL;
  if (napi_create_external_arraybuffer(env, block, bytes, release, (void *)(uintptr_t)bytes,
                                       &buffer) != 0) {
    eager_block_give(block, bytes);
    return NULL; /* the failed call left its exception pending */
  }
  void *unused;
  napi_value nudge;
  (void)napi_create_arraybuffer(env, 1, &unused, &nudge);
  return buffer;
}

__attribute__((visibility("default"))) napi_value napi_register_module_v1(napi_env env,
                                                                           napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "take", 4, take, NULL, &fn) != 0 ||
      napi_set_named_property(env, exports, "take", fn) != 0)
    return NULL;
  return exports;
}
