/*
 * Direct convolution over gathered receptive fields: no im2col buffer, no packing, no
 * BLAS. The forward pass for cache-sized filters, and the filter gradient of small ones.
 */
#include <stdlib.h>
#include <string.h>

#include "conv.h"

/* A register-blocked product without im2col buffer or packing: each thread gathers
 * DIRECT_ROWS receptive fields at a time into a stack buffer and keeps a DIRECT_ROWS x W
 * block of outputs in registers while it walks the K taps, reading the filter straight
 * from memory. NOTE: measured on 2 cores (AVX-512) it beat OpenBLAS on every conv tried
 * up to a 2.4 MB filter, by 2-4x when K is small (OpenBLAS's GEMM is slow for K = 25);
 * it is used while the filter stays cache-sized (eager_direct_fits), and OpenBLAS beyond,
 * where packing and many cores should pay off. */
#define DIRECT_ROWS 4

typedef struct {
  const geometry *g;
  const char *x;
  const void *filter;
  void *out;
} direct_job;

/* Output channels [j0, j0 + W) of `rows` (<= DIRECT_ROWS) output pixels; W = 0 means
 * the remaining oc - j0 (< 8) channels. Unused patch rows are zeros. */
#define DIRECT_TILE(SFX, T, W)                                                              \
  static inline void direct_tile_##SFX##_##W(const T (*patch)[DIRECT_MAX_K],                \
                                             const T *restrict f, int64_t k, int64_t oc,    \
                                             int64_t j0, T *restrict o, int rows) {         \
    enum { WIDTH = W ? W : 8 };                                                             \
    const int64_t width = W ? W : oc - j0;                                                  \
    T acc[DIRECT_ROWS][WIDTH] = {{0}};                                                      \
    for (int64_t p = 0; p < k; p++) {                                                       \
      const T *restrict w = f + p * oc + j0;                                                \
      for (int i = 0; i < DIRECT_ROWS; i++) {                                               \
        const T v = patch[i][p];                                                            \
        for (int j = 0; j < (W ? W : width); j++) acc[i][j] += v * w[j];                    \
      }                                                                                     \
    }                                                                                       \
    for (int i = 0; i < rows; i++)                                                          \
      for (int j = 0; j < width; j++) o[i * oc + j0 + j] = acc[i][j];                       \
  }

/* The W = 16 and 32 tiles with explicit 64-byte vectors (GCC/Clang vector extensions):
 * the 4 x W accumulators stay in registers. NOTE: measured on conv2 of the MNIST model
 * (k = 800, oc = 64), the plain loop above kept them on the stack and ran 1.6x slower. */
#define DIRECT_VECTOR_TILE(SFX, T, W)                                                       \
  static inline void direct_tile_##SFX##_##W(const T (*patch)[DIRECT_MAX_K],                \
                                             const T *restrict f, int64_t k, int64_t oc,    \
                                             int64_t j0, T *restrict o, int rows) {         \
    typedef T vec __attribute__((vector_size(64)));                                         \
    enum { LANES = 64 / sizeof(T), NV = W / LANES };                                        \
    vec acc[DIRECT_ROWS][NV];                                                               \
    memset(acc, 0, sizeof acc);                                                             \
    for (int64_t p = 0; p < k; p++) {                                                       \
      vec w[NV];                                                                            \
      memcpy(w, f + p * oc + j0, sizeof w);                                                 \
      for (int i = 0; i < DIRECT_ROWS; i++)                                                 \
        for (int v = 0; v < NV; v++) acc[i][v] += patch[i][p] * w[v];                       \
    }                                                                                       \
    for (int i = 0; i < rows; i++) memcpy(o + i * oc + j0, acc[i], sizeof acc[i]);          \
  }

#define DIRECT_CONV(SFX, T)                                                                 \
  DIRECT_VECTOR_TILE(SFX, T, 32)                                                            \
  DIRECT_VECTOR_TILE(SFX, T, 16)                                                            \
  DIRECT_TILE(SFX, T, 8)                                                                    \
  DIRECT_TILE(SFX, T, 0)                                                                    \
  static void direct_conv_##SFX(void *arg, int ith, int nth) {                              \
    direct_job *job = arg;                                                                  \
    const geometry *g = job->g;                                                             \
    const T *f = job->filter;                                                               \
    int64_t begin, end, k = g->k, oc = g->oc;                                               \
    T patch[DIRECT_ROWS][DIRECT_MAX_K];                                                     \
    eager_split(g->n * g->oh * g->ow, ith, nth, &begin, &end);                              \
    for (int64_t r = begin; r < end; r += DIRECT_ROWS) {                                    \
      int rows = end - r < DIRECT_ROWS ? (int)(end - r) : DIRECT_ROWS;                      \
      for (int i = 0; i < DIRECT_ROWS; i++) {                                               \
        if (i < rows) eager_im2col_row(g, sizeof(T), job->x, r + i, (char *)patch[i]);      \
        else memset(patch[i], 0, sizeof patch[i]);                                          \
      }                                                                                     \
      T *o = (T *)job->out + r * oc;                                                        \
      int64_t j0 = 0;                                                                       \
      for (; j0 + 32 <= oc; j0 += 32) direct_tile_##SFX##_32(patch, f, k, oc, j0, o, rows); \
      for (; j0 + 16 <= oc; j0 += 16) direct_tile_##SFX##_16(patch, f, k, oc, j0, o, rows); \
      for (; j0 + 8 <= oc; j0 += 8) direct_tile_##SFX##_8(patch, f, k, oc, j0, o, rows);    \
      if (j0 < oc) direct_tile_##SFX##_0(patch, f, k, oc, j0, o, rows);                     \
    }                                                                                       \
  }
DIRECT_CONV(f32, float)
DIRECT_CONV(f64, double)

int eager_direct_conv(int32_t dtype, const geometry *g, const char *x, const char *filter,
                      void *out) {
  direct_job job = {g, x, filter, out};
  eager_parallel(dtype == EAGER_F32 ? direct_conv_f32 : direct_conv_f64, &job,
                 eager_threads_for(g->n * g->oh * g->ow * g->k * g->oc, EAGER_GRAIN_CHEAP));
  return 1;
}

/* ---- the filter gradient of small filters ---- */

/* A filter gradient of at most this many bytes is accumulated directly (no im2col buffer,
 * no GEMM with two tiny dimensions and a huge inner one). NOTE: for the MNIST model's first
 * conv (k = 25, oc = 32, 78,400 rows) GEMM took 5.4 ms where TensorFlow takes 0.8. */
#define SMALL_DFILTER_BYTES ((int64_t)16 << 10)
/* Rows per partial sum: fixed, so the summation order depends on the shapes only, never on
 * the thread count (results are reproducible). */
#define DFILTER_BLOCK_ROWS 512

typedef struct {
  const geometry *g;
  const char *x, *dy;
  void *partials; /* one k x oc partial per block of rows */
  void *dfilter;
  int64_t blocks;
} dfilter_job;

#define SMALL_DFILTER(SFX, T)                                                               \
  static void dfilter_blocks_##SFX(void *arg, int ith, int nth) {                           \
    const dfilter_job *job = arg;                                                           \
    const geometry *g = job->g;                                                             \
    int64_t begin, end, k = g->k, oc = g->oc, rows = g->n * g->oh * g->ow;                  \
    T patch[DIRECT_MAX_K];                                                                  \
    eager_split(job->blocks, ith, nth, &begin, &end);                                       \
    for (int64_t b = begin; b < end; b++) {                                                 \
      T *acc = (T *)job->partials + b * k * oc;                                             \
      memset(acc, 0, (size_t)(k * oc) * sizeof(T));                                         \
      int64_t r1 = (b + 1) * DFILTER_BLOCK_ROWS;                                            \
      if (r1 > rows) r1 = rows;                                                             \
      for (int64_t r = b * DFILTER_BLOCK_ROWS; r < r1; r++) {                               \
        eager_im2col_row(g, sizeof(T), job->x, r, (char *)patch);                           \
        const T *restrict d = (const T *)job->dy + r * oc;                                  \
        for (int64_t p = 0; p < k; p++) {                                                   \
          const T v = patch[p];                                                             \
          T *restrict a = acc + p * oc;                                                     \
          for (int64_t o = 0; o < oc; o++) a[o] += v * d[o];                                \
        }                                                                                   \
      }                                                                                     \
    }                                                                                       \
  }                                                                                         \
  static void dfilter_sum_##SFX(void *arg, int ith, int nth) {                              \
    const dfilter_job *job = arg;                                                           \
    int64_t begin, end, n = job->g->k * job->g->oc;                                         \
    eager_split(n, ith, nth, &begin, &end);                                                 \
    const T *parts = job->partials;                                                         \
    T *out = job->dfilter;                                                                  \
    for (int64_t i = begin; i < end; i++) {                                                 \
      T sum = 0;                                                                            \
      for (int64_t b = 0; b < job->blocks; b++) sum += parts[b * n + i];                    \
      out[i] = sum;                                                                         \
    }                                                                                       \
  }
SMALL_DFILTER(f32, float)
SMALL_DFILTER(f64, double)

int eager_small_dfilter(int32_t dtype, const geometry *g, const char *x, const char *dy,
                        void *dfilter) {
  size_t size = eager_dtype_size(dtype);
  if (g->k > DIRECT_MAX_K || g->k * g->oc * (int64_t)size > SMALL_DFILTER_BYTES) return 0;
  int64_t rows = g->n * g->oh * g->ow;
  int64_t blocks = (rows + DFILTER_BLOCK_ROWS - 1) / DFILTER_BLOCK_ROWS;
  void *partials = malloc((size_t)(blocks * g->k * g->oc) * size);
  if (!partials) return -1;
  dfilter_job job = {g, x, dy, partials, dfilter, blocks};
  int f32 = dtype == EAGER_F32;
  eager_parallel(f32 ? dfilter_blocks_f32 : dfilter_blocks_f64, &job,
                 eager_threads_for(rows * g->k * g->oc, EAGER_GRAIN_CHEAP));
  eager_parallel(f32 ? dfilter_sum_f32 : dfilter_sum_f64, &job,
                 eager_threads_for(blocks * g->k * g->oc, EAGER_GRAIN_CHEAP));
  free(partials);
  return 1;
}
