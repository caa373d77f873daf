/*
 * float32 matmul over a short inner dimension into a large output: c [m, n] = a [m, k] b
 * [k, n] with k <= SHORT_K_MAX, as a dense layer's weight gradient is (x^T dy: 3136 x
 * 1024 over a batch of 100).
 *
 * There the product is cheap and the output is what costs: OpenBLAS 0.3.21 first clears
 * the output in a pass of its own (sgemm_beta) and then adds each block of products into
 * it, so every line of a 12.8 MB output is written, read back and written again. This
 * kernel keeps a tile of MR rows x 32 columns in registers over the whole of k and writes
 * it once. Threads take whole blocks of MR rows; within one, the tiles go along the row,
 * so the output is written in order and b (at most SHORT_B_MAX_BYTES) stays in L2 while
 * each row block's slice of a stays in L1. NOTE: measured on that weight gradient (C, 2
 * threads, outputs cycling through 100 MB): OpenBLAS 4.2-5.3 ms, this kernel 3.1-3.2 ms.
 * With k in the thousands (the same layer's forward product, 100 x 1024 over 3136) it was
 * 2-4x slower than OpenBLAS, whose packing this kernel does not do: hence the limits.
 *
 * Each output is one running sum over p = 0 .. k-1, computed by one thread: the same bits
 * for any thread count.
 */
#include <string.h>

#include "internal.h"

#define LANES 16 /* a tile is MR rows x NV_MAX vectors of 16 floats (64 bytes) */
/* The accumulators fill about half to three quarters of the level's registers
 * (EAGER_REG_BYTES), leaving room for b's vectors and a's broadcast: AVX-512 8 x 2 vectors
 * = 16 of its 32 zmm; AVX2 6 x 1 = 12 of its 16 ymm (a 64-byte vector is two); NEON 6 x 1
 * = 24 of 32; SSE 3 x 1 = 12 of 16 xmm. NOTE: measured on the MNIST model's weight gradient
 * (3136 x 1024 over 100, 2 threads, best / median of 41): at v3 the AVX-512 tile (32 ymm of
 * accumulators, spilled) 5.5 / 6.9 ms, 6 x 1 3.7-5.4 / 4.0-6.4 ms, 7 x 1 6.4 / 6.9 ms, 5 x 1
 * 4.1-5.7 / 5.1-6.1 ms, 3 x 2 7.0 / 7.5 ms, 4 x 1 8.3 / 8.6 ms; at v2 3 x 1 12.1 ms, 2 x 1
 * 11.3-12.4 ms, 4 x 1 15.3-16.2 ms. */
#if EAGER_REG_BYTES >= 2048
#define MR 8
#define NV_MAX 2
#elif EAGER_REG_BYTES >= 512
#define MR 6
#define NV_MAX 1
#else
#define MR 3
#define NV_MAX 1
#endif
#define SHORT_K_MAX 128
#define SHORT_B_MAX_BYTES ((int64_t)512 << 10)
#define SHORT_MIN_OUT_BYTES ((int64_t)1 << 20)

typedef float vec __attribute__((vector_size(64)));

static inline vec load(const float *p) {
  vec v;
  memcpy(&v, p, sizeof v);
  return v;
}

static inline void store(float *p, vec v) { memcpy(p, &v, sizeof v); }

typedef struct {
  const float *a, *b;
  float *c;
  int64_t m, n, k, a_rs, a_cs, ldb;
} short_job;

/* c[i0 .. i0 + MR)[j0 .. j0 + NV * LANES): rows past m repeat row m - 1 and are not
 * stored, so the accumulators are a constant count. */
#define SHORT_TILE(NV)                                                                       \
  static void short_tile_##NV(const short_job *job, int64_t i0, int64_t j0) {                \
    int64_t rows[MR], last = job->m - 1;                                                     \
    for (int r = 0; r < MR; r++) rows[r] = (i0 + r < last ? i0 + r : last) * job->a_rs;     \
    vec acc[MR][NV];                                                                         \
    memset(acc, 0, sizeof acc);                                                              \
    for (int64_t p = 0; p < job->k; p++) {                                                   \
      const float *bp = job->b + p * job->ldb + j0, *ap = job->a + p * job->a_cs;            \
      vec w[NV];                                                                             \
      for (int u = 0; u < NV; u++) w[u] = load(bp + u * LANES);                              \
      for (int r = 0; r < MR; r++) {                                                         \
        const float s = ap[rows[r]];                                                         \
        for (int u = 0; u < NV; u++) acc[r][u] += s * w[u];                                  \
      }                                                                                      \
    }                                                                                        \
    for (int r = 0; r < MR && i0 + r < job->m; r++)                                          \
      for (int u = 0; u < NV; u++)                                                           \
        store(job->c + (i0 + r) * job->n + j0 + u * LANES, acc[r][u]);                       \
  }
SHORT_TILE(1)
#if NV_MAX == 2
SHORT_TILE(2)
#define short_tile_wide short_tile_2
#else
#define short_tile_wide short_tile_1
#endif

static void short_task(void *arg, int ith, int nth) {
  const short_job *job = arg;
  int64_t begin, end;
  eager_split((job->m + MR - 1) / MR, ith, nth, &begin, &end);
  for (int64_t block = begin; block < end; block++) {
    int64_t j0 = 0;
    for (; j0 + NV_MAX * LANES <= job->n; j0 += NV_MAX * LANES)
      short_tile_wide(job, block * MR, j0);
    if (j0 < job->n) short_tile_1(job, block * MR, j0);
  }
}

int eager_short_matmul_fits(int64_t m, int64_t n, int64_t k, int64_t b_row_stride,
                            int64_t b_col_stride) {
  return k >= 1 && k <= SHORT_K_MAX && n % LANES == 0 && b_col_stride == 1 &&
         b_row_stride >= n && k * n * (int64_t)sizeof(float) <= SHORT_B_MAX_BYTES &&
         m * n * (int64_t)sizeof(float) >= SHORT_MIN_OUT_BYTES;
}

void eager_short_matmul(const float *a, int64_t a_rs, int64_t a_cs, const float *b,
                        int64_t ldb, float *c, int64_t m, int64_t n, int64_t k) {
  short_job job = {a, b, c, m, n, k, a_rs, a_cs, ldb};
  eager_parallel(short_task, &job, eager_threads_for(m * n * k, EAGER_GRAIN_CHEAP));
}
