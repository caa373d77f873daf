/*
 * The GEMM behind matmul and the convolutions' im2col paths: oneDNN for large float32
 * products whose B is read as stored, else the CBLAS found at run time (csrc/blas.c), else
 * the built-in kernel below.
 *
 * NOTE (oneDNN): both libraries reach this core's FMA units, but oneDNN's JIT-generated
 * AVX-512 kernel reaches more of them. Each library alone in a process, sgemm back to
 * back (median of 10 to 5,000 calls, 2 threads), OpenBLAS -> oneDNN: 128^3: 30 -> 19 us,
 * 256^3: 180 -> 149 us, 512^3: 1.33 -> 1.19 ms, 1024^3: 11.3-11.8 -> 9.9-10.4 ms, 2048^3:
 * 89-103 -> 84-88 ms; the MNIST dense layer's 100x3136 by 3136x1024: 4.56 -> 4.31 ms,
 * and A read transposed alike (100x1024 by 1024x3136: 4.54 -> 3.40 ms). With a large B read
 * transposed oneDNN 2.6 was often slower on that AVX-512 machine: 100x1024 by (3136x1024)^T
 * 4.47 -> 7.73 ms, 32x4096 by (4096x4096)^T 11.0 -> 27.1 ms, so products with B read
 * transposed stay on the CBLAS, except small ones (a B of at most ONEDNN_MAX_TRANS_B
 * elements, at most ONEDNN_MAX_TRANS_B_WORK multiply-adds). For those, switching libraries
 * between products is what costs: each library's idle threads spin after a product and
 * take the cores from the other's next one. On the 2-core AVX2 EPYC an LSTM cell's three
 * products (h W, h^T dz, dz W^T at batch 20, hidden 200) took 635-662 us with dz W^T on
 * OpenBLAS and 197 us with all three on oneDNN (dz W^T alone: 140 -> 59 us). Without the
 * bound on multiply-adds the MNIST step, whose conv input gradients (19600x800 by
 * (800x64)^T) then moved too, went from 60.7 to 63.6 ms. Below
 * ONEDNN_MIN_WORK oneDNN's OpenMP threads cost more to wake than they save (a 64x64
 * product between JavaScript calls: 5.8 us on OpenBLAS, 9.9 us on oneDNN). A call oneDNN
 * refuses (it checks its arguments and takes its scratch memory before it writes C) is
 * made again on the CBLAS.
 *
 * The built-in kernel is the fallback for a machine without a BLAS: B is packed once into
 * panels of PANEL columns (zero-padded), and each tile of MR rows x PANEL columns is summed
 * in registers over a chunk of KC inner steps, chunks in order, so every output is the same
 * running sum whatever the thread count. The vector width follows the CPU level this copy
 * is compiled for.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Multiply-adds (m * n * k) from which float32 products go to oneDNN: 128^3. */
#define ONEDNN_MIN_WORK ((int64_t)1 << 21)
/* The largest products with B read transposed that go to oneDNN: B's elements (4 MiB of
 * float32) and multiply-adds (a 320^3 product). */
#define ONEDNN_MAX_TRANS_B ((int64_t)1 << 20)
#define ONEDNN_MAX_TRANS_B_WORK ((int64_t)1 << 25)

/* oneDNN's sgemm when this product should use it, else NULL. */
static eager_onednn_sgemm_fn onednn_for(int dtype, int trans_b, int64_t m, int64_t n,
                                        int64_t k) {
  if (dtype != EAGER_F32 || m * n * k < ONEDNN_MIN_WORK) return NULL;
  if (trans_b && (n * k > ONEDNN_MAX_TRANS_B || m * n * k > ONEDNN_MAX_TRANS_B_WORK)) return NULL;
  return eager_onednn();
}

int eager_gemm_clears_output(int dtype, int trans_b, int64_t m, int64_t n, int64_t k) {
  return onednn_for(dtype, trans_b, m, n, k) != NULL || eager_blas() == NULL;
}

/* ---- the built-in kernel ---- */

#define MR 6  /* rows per tile: 6 x 2 vectors = 12 accumulators */
#define NV 2  /* vectors per tile row */
#define KC 256 /* inner steps per chunk: a tile's slice of A stays in L1 */
#define PANELS_PER_BLOCK 8 /* a chunk of this many panels of B stays in L2 */
/* Multiply-adds per thread: waking the pool twice (pack, then tiles) costs tens of us here,
 * so a 64^3 product (30 us on one thread) took 170 us on two. */
#define GEMM_GRAIN ((int64_t)1 << 20)

#define BUILTIN_GEMM(T, SUFFIX)                                                                    \
  typedef T vec_##SUFFIX __attribute__((vector_size(EAGER_VEC_BYTES)));                            \
  enum { LANES_##SUFFIX = EAGER_VEC_BYTES / sizeof(T), PANEL_##SUFFIX = NV * LANES_##SUFFIX };     \
                                                                                                   \
  typedef struct {                                                                                 \
    const T *a, *b;                                                                                \
    T *c, *packed;                                                                                 \
    int64_t m, n, k, a_rs, a_cs, b_rs, b_cs, ldc, panels;                                          \
    T beta;                                                                                        \
  } gemm_job_##SUFFIX;                                                                             \
                                                                                                   \
  /* packed[q][p][w] = B(p, q * PANEL + w), zero past column n. */                                 \
  static void pack_##SUFFIX(void *arg, int ith, int nth) {                                         \
    const gemm_job_##SUFFIX *job = arg;                                                            \
    int64_t begin, end;                                                                            \
    eager_split(job->panels, ith, nth, &begin, &end);                                              \
    for (int64_t q = begin; q < end; q++) {                                                        \
      T *dst = job->packed + q * job->k * PANEL_##SUFFIX;                                          \
      int64_t j0 = q * PANEL_##SUFFIX;                                                             \
      int64_t width = job->n - j0 < PANEL_##SUFFIX ? job->n - j0 : PANEL_##SUFFIX;                 \
      for (int64_t p = 0; p < job->k; p++, dst += PANEL_##SUFFIX) {                                \
        const T *src = job->b + p * job->b_rs + j0 * job->b_cs;                                    \
        for (int64_t w = 0; w < width; w++) dst[w] = src[w * job->b_cs];                           \
        for (int64_t w = width; w < PANEL_##SUFFIX; w++) dst[w] = 0;                               \
      }                                                                                            \
    }                                                                                              \
  }                                                                                                \
                                                                                                   \
  /* c[i0 .. i0 + MR)[panel q] over inner steps [p0, p1): rows past m repeat row m - 1 and         \
   * are not stored; columns past n are zero in the packed B and not stored. */                    \
  static void tile_##SUFFIX(const gemm_job_##SUFFIX *job, int64_t i0, int64_t q, int64_t p0,       \
                            int64_t p1) {                                                          \
    const int64_t j0 = q * PANEL_##SUFFIX, last = job->m - 1;                                      \
    const int64_t width = job->n - j0 < PANEL_##SUFFIX ? job->n - j0 : PANEL_##SUFFIX;             \
    int64_t rows[MR];                                                                              \
    for (int r = 0; r < MR; r++) rows[r] = (i0 + r < last ? i0 + r : last) * job->a_rs;            \
    vec_##SUFFIX acc[MR][NV];                                                                      \
    memset(acc, 0, sizeof acc);                                                                    \
    const int keep = p0 > 0 || job->beta != 0;                                                     \
    for (int r = 0; keep && r < MR && i0 + r < job->m; r++) {                                      \
      T line[PANEL_##SUFFIX] = {0};                                                                \
      memcpy(line, job->c + (i0 + r) * job->ldc + j0, (size_t)width * sizeof(T));                  \
      memcpy(acc[r], line, sizeof line);                                                           \
      if (p0 == 0)                                                                                 \
        for (int u = 0; u < NV; u++) acc[r][u] *= job->beta;                                       \
    }                                                                                              \
    const T *bp = job->packed + (q * job->k + p0) * PANEL_##SUFFIX;                                \
    const T *ap = job->a + p0 * job->a_cs;                                                         \
    for (int64_t p = p0; p < p1; p++, bp += PANEL_##SUFFIX, ap += job->a_cs) {                     \
      vec_##SUFFIX w[NV];                                                                          \
      memcpy(w, bp, sizeof w);                                                                     \
      for (int r = 0; r < MR; r++) {                                                               \
        const T s = ap[rows[r]];                                                                   \
        for (int u = 0; u < NV; u++) acc[r][u] += s * w[u];                                        \
      }                                                                                            \
    }                                                                                              \
    for (int r = 0; r < MR && i0 + r < job->m; r++)                                                \
      memcpy(job->c + (i0 + r) * job->ldc + j0, acc[r], (size_t)width * sizeof(T));                \
  }                                                                                                \
                                                                                                   \
  static void rows_##SUFFIX(void *arg, int ith, int nth) {                                         \
    const gemm_job_##SUFFIX *job = arg;                                                            \
    int64_t begin, end;                                                                            \
    eager_split((job->m + MR - 1) / MR, ith, nth, &begin, &end);                                   \
    for (int64_t p0 = 0; p0 < job->k; p0 += KC) {                                                  \
      int64_t p1 = job->k - p0 < KC ? job->k : p0 + KC;                                            \
      for (int64_t q0 = 0; q0 < job->panels; q0 += PANELS_PER_BLOCK)                               \
        for (int64_t block = begin; block < end; block++)                                          \
          for (int64_t q = q0; q < q0 + PANELS_PER_BLOCK && q < job->panels; q++)                  \
            tile_##SUFFIX(job, block * MR, q, p0, p1);                                             \
    }                                                                                              \
  }                                                                                                \
                                                                                                   \
  static void builtin_gemm_##SUFFIX(gemm_job_##SUFFIX *job) {                                      \
    job->panels = (job->n + PANEL_##SUFFIX - 1) / PANEL_##SUFFIX;                                  \
    size_t bytes = (size_t)(job->panels * job->k * PANEL_##SUFFIX) * sizeof(T);                    \
    job->packed = job->m > 0 && bytes > 0 ? malloc(bytes) : NULL;                                  \
    int nth = eager_threads_for(job->m * job->n * job->k, GEMM_GRAIN);                             \
    if (job->packed) {                                                                             \
      eager_parallel(pack_##SUFFIX, job, nth);                                                     \
      eager_parallel(rows_##SUFFIX, job, nth);                                                     \
      free(job->packed);                                                                           \
      return;                                                                                      \
    }                                                                                              \
    /* Empty, or no memory for the packed copy: a plain loop, in the same order. */                \
    for (int64_t i = 0; i < job->m; i++)                                                           \
      for (int64_t j = 0; j < job->n; j++) {                                                       \
        T *out = job->c + i * job->ldc + j;                                                        \
        T sum = job->beta != 0 ? *out * job->beta : 0;                                             \
        for (int64_t p = 0; p < job->k; p++)                                                       \
          sum += job->a[i * job->a_rs + p * job->a_cs] * job->b[p * job->b_rs + j * job->b_cs];    \
        *out = sum;                                                                                \
      }                                                                                            \
  }

BUILTIN_GEMM(float, f32)
BUILTIN_GEMM(double, f64)

/* CBLAS's constants (cblas.h): row-major order, and whether an operand is transposed. */
enum { CBLAS_ROW_MAJOR = 101, CBLAS_NO_TRANS = 111, CBLAS_TRANS = 112 };

void eager_gemm(int dtype, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                const void *a, int64_t lda, const void *b, int64_t ldb, double beta, void *c,
                int64_t ldc) {
  eager_onednn_sgemm_fn onednn = onednn_for(dtype, trans_b, m, n, k);
  if (onednn && onednn(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, 1.0f, a, lda, b,
                       ldb, (float)beta, c, ldc) == 0)
    return;
  const eager_blas_fns *blas = eager_blas();
  if (blas) {
    int ta = trans_a ? CBLAS_TRANS : CBLAS_NO_TRANS, tb = trans_b ? CBLAS_TRANS : CBLAS_NO_TRANS;
    if (dtype == EAGER_F32)
      blas->sgemm(CBLAS_ROW_MAJOR, ta, tb, (int)m, (int)n, (int)k, 1.0f, a, (int)lda, b,
                  (int)ldb, (float)beta, c, (int)ldc);
    else
      blas->dgemm(CBLAS_ROW_MAJOR, ta, tb, (int)m, (int)n, (int)k, 1.0, a, (int)lda, b,
                  (int)ldb, beta, c, (int)ldc);
    return;
  }
  /* a(i, p) = a[i * a_rs + p * a_cs], likewise b(p, j). */
  int64_t a_rs = trans_a ? 1 : lda, a_cs = trans_a ? lda : 1;
  int64_t b_rs = trans_b ? 1 : ldb, b_cs = trans_b ? ldb : 1;
  if (dtype == EAGER_F32) {
    gemm_job_f32 job = {a, b, c, NULL, m, n, k, a_rs, a_cs, b_rs, b_cs, ldc, 0, (float)beta};
    builtin_gemm_f32(&job);
  } else {
    gemm_job_f64 job = {a, b, c, NULL, m, n, k, a_rs, a_cs, b_rs, b_cs, ldc, 0, beta};
    builtin_gemm_f64(&job);
  }
}
