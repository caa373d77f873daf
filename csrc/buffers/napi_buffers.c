/*
 * Output buffers that skip zeroing, handed to JavaScript through Node-API.
 *
 * `new ArrayBuffer(n)` always zero-fills (calloc), and a kernel that writes every element
 * of its output then writes it twice: on the MNIST model's first conv (a 10 MB output)
 * the memset was 18% of the samples and ran while the pool's workers waited. Deno.dlopen
 * cannot hand out memory the garbage collector frees, but Node-API can:
 * napi_create_external_arraybuffer wraps a block from block_cache.c in an ArrayBuffer, and
 * V8 calls release() below when it drops the block's backing store (at a collection, or
 * at once for ArrayBuffer.transfer), on whatever thread frees it, with no turn of the
 * event loop needed.
 *
 * This folder is a library of its own, libeager_buffers (build.zig), apart from the
 * kernels: a Node-API module that src/native/buffers.ts loads with process.dlopen and calls
 * `take(bytes)`. libeager neither needs nor knows it; without it (a host without Node-API)
 * outputs are V8's zeroed buffers. Nothing here is part of the eager_ ABI in eager.h: these
 * are Node-API entry points, declared below from the Node-API reference and found in the
 * host (Deno's binary exports them) when it registers the module.
 *
 * EAGER_POISON_OUTPUTS=1 fills each block with 0xFF bytes (NaN in every float, -1 in
 * every integer) so that the test suite catches a kernel that reads its output before
 * writing all of it.
 */
#define _GNU_SOURCE /* RTLD_DEFAULT */
#include <dlfcn.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "block_cache.h"

typedef struct napi_env__ *napi_env;
typedef struct napi_value__ *napi_value;
typedef struct napi_callback_info__ *napi_callback_info;
typedef struct napi_ref__ *napi_ref;
typedef int napi_status; /* napi_ok is 0 */
typedef void (*napi_finalize)(napi_env env, void *data, void *hint);
typedef napi_value (*napi_callback)(napi_env env, napi_callback_info info);

/*
 * The Node-API functions used here, looked up in the host process when it registers this
 * module (dlsym) instead of linked: libeager then has no undefined symbol outside libc,
 * libm, libpthread and libdl, and loads in a host without Node-API (Deno.dlopen alone, a
 * C program, Python's ctypes), where only this module's registration fails.
 */
static struct {
  napi_status (*create_external_arraybuffer)(napi_env env, void *data, size_t bytes,
                                             napi_finalize finalize, void *hint,
                                             napi_value *result);
  napi_status (*create_arraybuffer)(napi_env env, size_t bytes, void **data,
                                    napi_value *result);
  napi_status (*create_function)(napi_env env, const char *name, size_t length,
                                 napi_callback cb, void *data, napi_value *result);
  napi_status (*set_named_property)(napi_env env, napi_value object, const char *name,
                                    napi_value value);
  napi_status (*get_cb_info)(napi_env env, napi_callback_info info, size_t *argc,
                             napi_value *argv, napi_value *this_arg, void **data);
  napi_status (*get_value_double)(napi_env env, napi_value value, double *result);
  napi_status (*throw_range_error)(napi_env env, const char *code, const char *msg);
  napi_status (*adjust_external_memory)(napi_env env, int64_t change, int64_t *total);
  napi_status (*create_reference)(napi_env env, napi_value value, uint32_t initial_refcount,
                                  napi_ref *result);
  napi_status (*get_reference_value)(napi_env env, napi_ref ref, napi_value *result);
  napi_status (*delete_reference)(napi_env env, napi_ref ref);
  napi_status (*get_arraybuffer_info)(napi_env env, napi_value arraybuffer, void **data,
                                      size_t *byte_length);
} napi;

/* Finds every function of `napi`; 0 when the host lacks one. */
static int find_napi(void) {
#define FIND(field) \
  if (!(*(void **)&napi.field = dlsym(RTLD_DEFAULT, "napi_" #field))) return 0;
  FIND(create_external_arraybuffer)
  FIND(create_arraybuffer)
  FIND(create_function)
  FIND(set_named_property)
  FIND(get_cb_info)
  FIND(get_value_double)
  FIND(throw_range_error)
  FIND(adjust_external_memory)
  FIND(create_reference)
  FIND(get_reference_value)
  FIND(delete_reference)
  FIND(get_arraybuffer_info)
#undef FIND
  return 1;
}

/* Above this the request is refused rather than passed to malloc (2^53 is JS's limit). */
#define MAX_BLOCK_BYTES ((double)((uint64_t)1 << 52))

static int poison_outputs = -1; /* unknown until the first take() */

/*
 * The collector must free dead blocks soon, or garbage piles up (a loop of 16M-element adds
 * whose results are dropped reached 1.4 GB). What was measured (docs/design.md, "Memory
 * without dispose"):
 * - Young-generation collections (scavenges) free dead young ArrayBuffers, blocks included,
 *   for about 0.1 ms each. V8 starts one when young ArrayBuffers hold more than about twice
 *   the semi-space size, but checks only when it allocates a backing store itself; so
 *   take() allocates a one-byte ArrayBuffer for each block ("the nudge"), before it takes
 *   the block: a scavenge it starts then can free the previous output (dropped by now) and
 *   its block, instead of finding the new one alive. The 16M-add loop (bench/procs/
 *   add_loop_ours.ts, 10 alternating runs each, 2026-12-05): peak 319-320 MiB in 7 runs and
 *   768-770 in 3 with the nudge after the block, first ten calls 97-192 ms; 255-256 MiB in 7,
 *   384 and 576-577 in the others with it before, 76-112 ms. The block itself comes back
 *   later, from V8's sweeping thread: see "Waiting for a block" below.
 * - Telling V8 of the blocks with napi_adjust_external_memory made things worse: past its
 *   soft limit V8 starts incremental marking, which a loop of kernel calls (little JS
 *   allocation) advances slowly, and buffers allocated while marking runs count as live
 *   until it ends. The 16M-add loop peaked at 1,464 MiB with the report, 311 without.
 * - Without any report, blocks that outlive two scavenges (promoted) wait for a full
 *   collection that nothing starts: a 64M-add loop (256 MiB outputs) reached 7.5 GB.
 * So this module reports nothing per block, and keeps its own account per isolate: the
 * bytes it handed out and not yet got back (outstanding), and an estimate of what was live
 * after its last full collection. When outstanding exceeds that by the headroom (the larger
 * of 256 MiB and four times the request), take() asks for one full collection: it reports
 * a huge external size and takes it back at once, which makes V8 collect synchronously (past
 * its hard external-memory limit) and leaves its count as it was. A mark-compact of this
 * library's heap took about 4 ms. NOTE: a full collection promotes the young buffers alive
 * at that moment, which only a later full collection frees; hence a headroom of several
 * outputs (with twice the request, collections came every few calls and the 16M-add loop
 * peaked at 697 MiB).
 * Blocks can be freed on any thread and after their isolate (a Deno worker, a parallel test
 * file) is gone: release() adds the freed size to the block's own account (atomically) and
 * the next take() in that isolate counts it. NOTE: accounts are never freed (a block may
 * outlive its env): about 180 bytes per env that loads the library, and the notes of the
 * blocks it still watched when it ended (at most WATCHED, 24 bytes each).
 */
typedef struct block_note block_note;

/*
 * Waiting for a block the collector already found dead. A scavenge decides which young
 * ArrayBuffers died, but V8 frees their backing stores afterwards on a background thread
 * (concurrent ArrayBuffer sweeping), which on a busy machine may run after take() has
 * already asked malloc for a new block. Each such miss added a block for good (the cache
 * keeps it), and the extra external memory then made V8 start an incremental mark-compact,
 * during which the new outputs counted as live: the 16M-add loop peaked at 381-704 MiB in 6
 * of 8 fresh processes instead of 253 (2026-12-06, docs/design.md). So take() watches its
 * last WATCHED large blocks through weak references; when a request of a watched size finds
 * the cache empty and the watched buffer is already gone from the heap but its block not yet
 * released, the block is on its way: take() yields the core to the sweeper until release()
 * has run (measured: 10-50 us mostly, up to 1.9 ms) or SWEEP_WAIT_NS pass, and reuses it.
 * Nothing waits when no watched buffer of that size is dead (a loop that keeps its outputs,
 * the first outputs of a process). A buffer moved into another with ArrayBuffer.transfer()
 * dies without its block being freed: the library's own moves (src/backend/cpu/storage.ts)
 * call forget() first; a user's costs one bounded wait, then is no longer watched.
 */
#define WATCHED 8
#define SWEEP_WAIT_NS 10000000L

typedef struct watch {
  block_note *note; /* NULL: free slot */
  napi_ref buffer;  /* weak: cleared when the collector finds the buffer dead */
} watch;

typedef struct account {
  _Atomic int64_t released; /* bytes freed since take() last counted (any thread) */
  int64_t outstanding;      /* bytes handed out in this env and not known freed */
  int64_t live;             /* outstanding just after the last full collection */
  int collected;            /* a full collection was asked for since take() last ran */
  watch watched[WATCHED];   /* the last large blocks handed out in this env (env thread only) */
  int next_watch;
} account;

/* The finalize hint of one block. Freed by whichever of release() and the end of its watch
 * comes last (holders: 1, or 2 while watched). */
struct block_note {
  void *block;
  size_t bytes;
  account *owner;
  _Atomic int released; /* release() ran */
  _Atomic int holders;
};

static void drop_note(block_note *note) {
  if (atomic_fetch_sub(&note->holders, 1) == 1) free(note);
}

#define HEADROOM_MIN_BYTES ((int64_t)256 << 20)
#define COLLECT_JOLT_STEP ((int64_t)1 << 34) /* 16 GiB: above any hard limit V8 sets */

/* Jolts made so far, in any isolate: each jolt is one step larger than the last. */
static _Atomic int64_t jolts;

/* One synchronous full collection of env's isolate, V8's count left as it was.
 * NOTE: V8 collects synchronously only when its external count passes the count it had at
 * the last mark-compact by its hard limit, and that base is taken during the collection,
 * while the jolt is still counted. A jolt of a fixed size therefore collects only once per
 * isolate (measured with --trace-gc: later ones started nothing), so each jolt is larger
 * than any before it (for 2^28 collections, then the steps start again). */
static void collect_now(napi_env env) {
  int64_t jolt = (atomic_fetch_add(&jolts, 1) % ((int64_t)1 << 28) + 1) * COLLECT_JOLT_STEP;
  int64_t total;
  (void)napi.adjust_external_memory(env, jolt, &total);
  (void)napi.adjust_external_memory(env, -jolt, &total);
}

/* Counts a new block of `bytes` in owner's account and collects when garbage may exceed the
 * headroom. */
static void account_for(napi_env env, account *owner, int64_t bytes) {
  owner->outstanding += bytes - atomic_exchange(&owner->released, 0);
  if (owner->collected) { /* the collection's frees have been counted by now, mostly */
    owner->live = owner->outstanding - bytes;
    owner->collected = 0;
  }
  int64_t headroom = 4 * bytes > HEADROOM_MIN_BYTES ? 4 * bytes : HEADROOM_MIN_BYTES;
  if (owner->outstanding > owner->live + headroom) {
    collect_now(env);
    owner->collected = 1;
  }
}

static void release(napi_env env, void *data, void *hint) {
  block_note *note = hint;
  eager_block_give(data, note->bytes);
  atomic_fetch_add(&note->owner->released, (int64_t)note->bytes);
  atomic_store(&note->released, 1);
  drop_note(note);
}

static void unwatch(napi_env env, watch *w) {
  (void)napi.delete_reference(env, w->buffer);
  drop_note(w->note);
  w->note = NULL;
}

static long nanoseconds_since(const struct timespec *start) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (now.tv_sec - start->tv_sec) * 1000000000L + (now.tv_nsec - start->tv_nsec);
}

/* A cached block of `bytes`, waiting for one that a watched dead buffer is about to free;
 * NULL when there is none. */
static void *reuse_block(napi_env env, account *owner, size_t bytes) {
  void *block = eager_block_reuse(bytes);
  for (int i = 0; i < WATCHED && !block; i++) {
    watch *w = &owner->watched[i];
    if (!w->note || w->note->bytes != bytes) continue;
    napi_value buffer = NULL;
    if (napi.get_reference_value(env, w->buffer, &buffer) != 0 || buffer) continue; /* alive */
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (!atomic_load(&w->note->released) && nanoseconds_since(&start) < SWEEP_WAIT_NS)
      sched_yield();
    unwatch(env, w);
    block = eager_block_reuse(bytes);
  }
  return block;
}

/* Watches a new large block's buffer (a weak reference), in place of the oldest watch. */
static void watch_block(napi_env env, account *owner, block_note *note, napi_value buffer) {
  watch *w = &owner->watched[owner->next_watch];
  owner->next_watch = (owner->next_watch + 1) % WATCHED;
  if (w->note) unwatch(env, w);
  if (napi.create_reference(env, buffer, 0, &w->buffer) != 0) return;
  atomic_fetch_add(&note->holders, 1);
  w->note = note;
}

/* take(bytes): an ArrayBuffer of `bytes` uninitialised bytes, or a thrown RangeError. The
 * env's account is the function's data. */
static napi_value take(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  double requested = -1;
  account *owner = NULL;
  if (napi.get_cb_info(env, info, &argc, argv, NULL, (void **)&owner) != 0 || argc != 1 ||
      napi.get_value_double(env, argv[0], &requested) != 0 || !(requested >= 1) ||
      requested > MAX_BLOCK_BYTES || requested != (double)(uint64_t)requested) {
    napi.throw_range_error(env, NULL, "take: bytes must be a whole number from 1 to 2^52");
    return NULL;
  }
  size_t bytes = (size_t)requested;
  int large = bytes >= EAGER_LARGE_BLOCK_BYTES;
  void *unused;
  napi_value nudge;
  (void)napi.create_arraybuffer(env, 1, &unused, &nudge);
  block_note *note = malloc(sizeof *note);
  void *block = note && large ? reuse_block(env, owner, bytes) : NULL;
  if (note && !block) block = eager_block_take(bytes);
  if (!block) {
    free(note);
    napi.throw_range_error(env, NULL, "take: out of memory");
    return NULL;
  }
  if (poison_outputs < 0) {
    const char *setting = getenv("EAGER_POISON_OUTPUTS");
    poison_outputs = setting && strcmp(setting, "1") == 0;
  }
  if (poison_outputs) memset(block, 0xFF, bytes);
  note->block = block;
  note->bytes = bytes;
  note->owner = owner;
  atomic_init(&note->released, 0);
  atomic_init(&note->holders, 1);
  napi_value buffer = NULL;
  if (napi.create_external_arraybuffer(env, block, bytes, release, note, &buffer) != 0) {
    eager_block_give(block, bytes);
    free(note);
    return NULL; /* the failed call left its exception pending */
  }
  if (large) watch_block(env, owner, note, buffer);
  account_for(env, owner, (int64_t)bytes);
  return buffer;
}

/* forget(buffer): stops watching buffer's block, which is about to move into another
 * ArrayBuffer (ArrayBuffer.transfer); a no-op for a block not watched. */
static napi_value forget(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  account *owner = NULL;
  void *data = NULL;
  size_t bytes = 0;
  if (napi.get_cb_info(env, info, &argc, argv, NULL, (void **)&owner) != 0 || argc != 1 ||
      napi.get_arraybuffer_info(env, argv[0], &data, &bytes) != 0) {
    napi.throw_range_error(env, NULL, "forget: expects one ArrayBuffer");
    return NULL;
  }
  for (int i = 0; i < WATCHED; i++) {
    watch *w = &owner->watched[i];
    if (w->note && w->note->block == data) unwatch(env, w);
  }
  return NULL;
}

/* collect(): one full collection now. For memory V8 does not see (the WebGPU device's
 * buffers, src/backend/webgpu/pool.ts), whose owner keeps its own account. */
static napi_value collect(napi_env env, napi_callback_info info) {
  (void)info;
  collect_now(env);
  return NULL;
}

/* Called once per env (isolate) that loads the library with process.dlopen. */
__attribute__((visibility("default"))) napi_value napi_register_module_v1(napi_env env,
                                                                           napi_value exports) {
  if (!find_napi()) return NULL;
  account *owner = calloc(1, sizeof *owner);
  if (!owner) return NULL;
  napi_value fn;
  if (napi.create_function(env, "take", 4, take, owner, &fn) != 0 ||
      napi.set_named_property(env, exports, "take", fn) != 0 ||
      napi.create_function(env, "collect", 7, collect, NULL, &fn) != 0 ||
      napi.set_named_property(env, exports, "collect", fn) != 0 ||
      napi.create_function(env, "forget", 6, forget, owner, &fn) != 0 ||
      napi.set_named_property(env, exports, "forget", fn) != 0) {
    free(owner);
    return NULL;
  }
  return exports;
}
