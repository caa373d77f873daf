/*
 * Shared by the kernel files, not exported: the thread pool and the strided
 * iterator that every elementwise kernel walks.
 */
#ifndef EAGER_INTERNAL_H
#define EAGER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* A kernel file compiled for one CPU level (build.zig passes -DEAGER_LEVEL=v3 and so on)
 * gives each of its external functions that level's name, so the copies of every level
 * link into one library; csrc/cpu.c picks one level's table at load. Only the functions
 * of eager.h that are shared by all levels keep the visibility EAGER_API gives them. */
#ifdef EAGER_LEVEL
#define EAGER_LEVEL_CAT2(name, level) name##_##level
#define EAGER_LEVEL_CAT(name, level) EAGER_LEVEL_CAT2(name, level)
#define EAGER_LEVEL_NAME(name) EAGER_LEVEL_CAT(name, EAGER_LEVEL)
#define EAGER_API /* hidden (-fvisibility=hidden): only the forwarders are exported */
#include "generated/level_names.h"
#endif

#include "include/eager.h"

/* A kernel's share of the work: thread `ith` of `nth` (ggml's convention). */
typedef void (*eager_task_fn)(void *ctx, int ith, int nth);

/* Runs fn(ctx, ith, nth) for ith in [0, nth) on the pool and returns when all are done.
 * nth is clamped to [1, pool size]. The calling thread runs ith 0. A call made while the
 * pool is busy (another thread of the process is inside a parallel kernel, e.g. a second
 * Deno worker) runs nth = 1. Returns the nth actually used: a kernel that combines
 * per-thread results must read that many, not the number it asked for. */
int eager_parallel(eager_task_fn fn, void *ctx, int nth);

/* The CPUs this process may run on (its affinity mask, else the online CPUs; at least 1). */
int eager_usable_cpus(void);

/* How many threads to use for `work` units when each thread should get at least
 * `grain` units. */
int eager_threads_for(int64_t work, int64_t grain);

/* The contiguous share [*begin, *end) of `count` items for thread ith of nth. */
static inline void eager_split(int64_t count, int ith, int nth, int64_t *begin, int64_t *end) {
  int64_t chunk = count / nth, extra = count % nth;
  *begin = ith * chunk + (ith < extra ? ith : extra);
  *end = *begin + chunk + (ith < extra ? 1 : 0);
}

/* The widest registers of the CPU level this copy is compiled for (64 bytes: AVX-512; 32:
 * AVX2; 16: SSE or NEON): the built-in GEMM's vector width. NOTE: the convolution and
 * short-k matmul kernels keep 64-byte vectors at every level and size their register tiles
 * by EAGER_REG_BYTES instead. Measured at v3, one thread, best of 31 (64-byte -> 32-byte
 * vectors with the AVX-512 tiles): MNIST conv2 forward 13.7 -> 20.0 ms, its input gradient
 * 14.3 -> 24.1 ms, the ResNet 3x3 forward 9.4 -> 14.7 ms. */
#if defined(__AVX512F__)
#define EAGER_VEC_BYTES 64
#elif defined(__AVX2__)
#define EAGER_VEC_BYTES 32
#else
#define EAGER_VEC_BYTES 16
#endif

/* The vector register file in bytes, registers x width: 32 x 64 (AVX-512), 16 x 32 (AVX2),
 * 32 x 16 (NEON), 16 x 16 (SSE). A register tile of accumulators must fit in about half to
 * three quarters of it, or the compiler keeps them on the stack. */
#if defined(__AVX512F__)
#define EAGER_REG_BYTES 2048
#elif defined(__AVX2__) || defined(__aarch64__)
#define EAGER_REG_BYTES 512
#else
#define EAGER_REG_BYTES 256
#endif

/* Elements per thread below which splitting costs more than it saves. */
#define EAGER_GRAIN_CHEAP 32768 /* add, copy, compare */
#define EAGER_GRAIN_COSTLY 4096 /* exp, tanh, pow */

#define EAGER_MAX_OPERANDS 4

/* An n-d walk over up to four operands that share one shape. init() drops size-1 dims
 * and merges neighbouring dims that are contiguous for every operand, so most walks
 * become one long row. Rows are the innermost dim; `rows` counts them. */
typedef struct {
  int rank; /* >= 1 after init */
  int nops;
  int64_t shape[EAGER_MAX_RANK];
  int64_t strides[EAGER_MAX_OPERANDS][EAGER_MAX_RANK];
  int64_t rows;  /* product of all dims but the last */
  int64_t inner; /* the last dim */
} eager_iter;

void eager_iter_init(eager_iter *it, int rank, const int64_t *shape, int nops,
                     const int64_t *const *strides);

/* CBLAS's row-major GEMMs as OpenBLAS, Accelerate and MKL's LP64 interface export them. */
typedef void (*eager_sgemm_fn)(int order, int trans_a, int trans_b, int m, int n, int k,
                               float alpha, const float *a, int lda, const float *b, int ldb,
                               float beta, float *c, int ldc);
typedef void (*eager_dgemm_fn)(int order, int trans_a, int trans_b, int m, int n, int k,
                               double alpha, const double *a, int lda, const double *b,
                               int ldb, double beta, double *c, int ldc);
typedef struct {
  eager_sgemm_fn sgemm;
  eager_dgemm_fn dgemm;
} eager_blas_fns;

/* The CBLAS found at run time (blas.c), or NULL when there is none: built-in kernels then. */
const eager_blas_fns *eager_blas(void);

/* dnnl_sgemm as oneDNN 2.x and 3.x declare it (dnnl.h): row-major, 'N' or 'T', and a
 * status that is 0 (dnnl_success) when the product was made. */
typedef int (*eager_onednn_sgemm_fn)(char transa, char transb, int64_t m, int64_t n,
                                     int64_t k, float alpha, const float *a, int64_t lda,
                                     const float *b, int64_t ldb, float beta, float *c,
                                     int64_t ldc);

/* oneDNN's sgemm when the backend setting allows it and libdnnl loads (blas.c), else NULL. */
eager_onednn_sgemm_fn eager_onednn(void);

/* c[m, n] = op(a) . op(b) + beta * c, row-major, float32 or float64 (kernels/gemm.c:
 * oneDNN, the CBLAS or the built-in kernel). trans_a / trans_b: whether a / b are read
 * transposed. */
void eager_gemm(int dtype, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                const void *a, int64_t lda, const void *b, int64_t ldb, double beta, void *c,
                int64_t ldc);

/* Whether eager_gemm, given beta 0, writes c without reading it first (oneDNN and the
 * built-in kernel do; OpenBLAS 0.3.21 clears c in a pass of its own that reads each line). */
int eager_gemm_clears_output(int dtype, int trans_b, int64_t m, int64_t n, int64_t k);

/* Dense row-major strides for `shape` into `strides`. */
void eager_dense_strides(int rank, const int64_t *shape, int64_t *strides);

/* Element offsets (per operand) of the first element of row `row`. */
void eager_iter_row_offsets(const eager_iter *it, int64_t row, int64_t *offsets);

/* Advances `index` (the multi-index over dims [0, rank-1)) by one row and updates the
 * per-operand offsets accordingly. */
void eager_iter_next_row(const eager_iter *it, int64_t *index, int64_t *offsets);

/* Starts a walk at row `row`: fills index and offsets. */
void eager_iter_seek(const eager_iter *it, int64_t row, int64_t *index, int64_t *offsets);

static inline size_t eager_dtype_size(int dtype) {
  switch (dtype) {
    case EAGER_F64:
    case EAGER_I64:
      return 8;
    case EAGER_F32:
    case EAGER_I32:
      return 4;
    default:
      return 1;
  }
}

static inline int eager_dtype_valid(int dtype) { return dtype >= 0 && dtype < EAGER_DTYPE_COUNT; }

static inline int eager_shape_valid(int rank, const int64_t *shape) {
  if (rank < 0 || rank > EAGER_MAX_RANK) return 0;
  for (int i = 0; i < rank; i++)
    if (shape[i] < 0) return 0;
  return 1;
}

static inline int64_t eager_shape_size(int rank, const int64_t *shape) {
  int64_t n = 1;
  for (int i = 0; i < rank; i++) n *= shape[i];
  return n;
}



/* One contiguous-in-index stretch of a walk: n elements, operand k starting at ptrs[k]
 * and stepping steps[k] elements. Returns an eager_status. */
typedef int (*eager_segment_fn)(void *ctx, int64_t n, char *const *ptrs, const int64_t *steps);

/* Walks every element of `it`, split over the pool (at least `grain` elements a thread),
 * calling fn on each segment. base[k] points at operand k's element (0, ..., 0);
 * elem_size[k] is its element size. Returns the first non-OK status any segment gave. */
int eager_walk(const eager_iter *it, char *const *base, const size_t *elem_size, int64_t grain,
               eager_segment_fn fn, void *ctx);
/* memset(block, 0, bytes), split over the pool when the block is large (a fresh output is
 * cold, and one core cannot fill it at the memory's speed). */
void eager_zero(void *block, size_t bytes);

/* A 64-byte aligned block of at least `bytes` for the length of one kernel call, kept for
 * later calls when given back (scratch.c); NULL when out of memory. give takes NULL too. */
void *eager_scratch_take(size_t bytes);
void eager_scratch_give(void *block);

/* float32 c [m, n] = a [m, k] b [k, n] for a short k into a large output (matmul_short.c):
 * a(i, p) = a[i * a_rs + p * a_cs], b row-major with row stride ldb, c dense and every
 * element written. fits says whether the kernel takes the shapes and b's layout. */
int eager_short_matmul_fits(int64_t m, int64_t n, int64_t k, int64_t b_row_stride,
                            int64_t b_col_stride);
void eager_short_matmul(const float *a, int64_t a_rs, int64_t a_cs, const float *b,
                        int64_t ldb, float *c, int64_t m, int64_t n, int64_t k);

#endif /* EAGER_INTERNAL_H */
