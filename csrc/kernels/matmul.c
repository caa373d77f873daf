/*
 * Batched matrix multiplication. float32/float64 go to eager_gemm (gemm.c: oneDNN or
 * OpenBLAS), one GEMM per batch entry (the library threads each GEMM itself), except
 * float32 products over a short inner dim into a large output (matmul_short.c);
 * int32/int64 use a plain loop split over the pool. Transposed operands arrive as
 * strides and become BLAS transpose flags.
 */
#include <string.h>

#include "internal.h"

/* Outputs of these sizes are zeroed before the GEMMs (see eager_matmul). */
#define ZERO_FIRST_BYTES ((size_t)4 << 10)
#define ZERO_FIRST_MAX_BYTES ((size_t)4 << 20)

/* How BLAS should read a rows x cols matrix with the given element strides (*trans: 1
 * when transposed); 0 when it cannot (neither stride is 1), in which case the TS side
 * copies first. Strides of a dim of size 1 do not matter and are normalised. */
static int blas_layout(int64_t rows, int64_t cols, int64_t rs, int64_t cs, int *trans,
                       int64_t *ld) {
  int64_t min_plain = cols > 1 ? cols : 1, min_trans = rows > 1 ? rows : 1;
  /* Plain: element (i, j) at i * ld + j. */
  if (cs == 1 || cols == 1) {
    int64_t l = rows == 1 ? min_plain : rs;
    if (l >= min_plain) {
      *trans = 0;
      *ld = l;
      return 1;
    }
  }
  /* Transposed: element (i, j) at j * ld + i. */
  if (rs == 1 || rows == 1) {
    int64_t l = cols == 1 ? min_trans : cs;
    if (l >= min_trans) {
      *trans = 1;
      *ld = l;
      return 1;
    }
  }
  return 0;
}

typedef struct {
  int dtype;
  int64_t m, n, k;
  char *out;
  const char *a, *b;
  eager_iter batch; /* operands: a, b (batch strides) */
  int64_t a_rs, a_cs, b_rs, b_cs;
} int_matmul_job;

#define INT_MATMUL(NAME, T)                                                               \
  static void NAME(void *arg, int ith, int nth) {                                         \
    int_matmul_job *job = arg;                                                            \
    int64_t m = job->m, n = job->n, k = job->k, begin, end;                               \
    eager_split(job->batch.rows * job->batch.inner * m, ith, nth, &begin, &end);          \
    for (int64_t w = begin; w < end; w++) {                                               \
      int64_t entry = w / m, i = w % m, offsets[2];                                       \
      eager_iter_row_offsets(&job->batch, entry / job->batch.inner, offsets);             \
      int64_t col = entry % job->batch.inner;                                             \
      const T *a = (const T *)job->a + offsets[0] + col * job->batch.strides[0][job->batch.rank - 1]; \
      const T *b = (const T *)job->b + offsets[1] + col * job->batch.strides[1][job->batch.rank - 1]; \
      T *o = (T *)job->out + w * n;                                                       \
      for (int64_t j = 0; j < n; j++) o[j] = 0;                                           \
      for (int64_t p = 0; p < k; p++) {                                                   \
        T av = a[i * job->a_rs + p * job->a_cs];                                          \
        const T *brow = b + p * job->b_rs;                                                \
        for (int64_t j = 0; j < n; j++) o[j] = (T)(o[j] + av * brow[j * job->b_cs]);      \
      }                                                                                   \
    }                                                                                     \
  }
INT_MATMUL(matmul_i32, int32_t)
INT_MATMUL(matmul_i64, int64_t)

EAGER_API int32_t eager_matmul(int32_t dtype, int32_t batch_rank, const int64_t *batch_shape,
                               int64_t m, int64_t n, int64_t k, void *out, const void *a,
                               int64_t a_offset, const int64_t *a_batch_strides,
                               int64_t a_row_stride, int64_t a_col_stride, const void *b,
                               int64_t b_offset, const int64_t *b_batch_strides,
                               int64_t b_row_stride, int64_t b_col_stride) {
  if (!eager_shape_valid(batch_rank, batch_shape) || m < 0 || n < 0 || k < 0 ||
      !eager_dtype_valid(dtype))
    return EAGER_ERR_ARGUMENT;
  if (dtype != EAGER_F32 && dtype != EAGER_F64 && dtype != EAGER_I32 && dtype != EAGER_I64)
    return EAGER_ERR_DTYPE;
  if (m > INT32_MAX || n > INT32_MAX || k > INT32_MAX) return EAGER_ERR_ARGUMENT;
  int64_t size = (int64_t)eager_dtype_size(dtype);
  int64_t batches = eager_shape_size(batch_rank, batch_shape);
  if (batches == 0 || m == 0 || n == 0) return EAGER_OK;
  if (k == 0) {
    memset(out, 0, (size_t)(batches * m * n * size));
    return EAGER_OK;
  }
  const int64_t *strides[2] = {a_batch_strides, b_batch_strides};
  const char *a_base = (const char *)a + a_offset * size;
  const char *b_base = (const char *)b + b_offset * size;

  if (dtype == EAGER_I32 || dtype == EAGER_I64) {
    int_matmul_job job = {dtype, m, n, k, out, a_base, b_base, {0}, a_row_stride,
                          a_col_stride, b_row_stride, b_col_stride};
    eager_iter_init(&job.batch, batch_rank, batch_shape, 2, strides);
    eager_parallel(dtype == EAGER_I32 ? matmul_i32 : matmul_i64, &job,
                   eager_threads_for(batches * m * n * k, EAGER_GRAIN_CHEAP));
    return EAGER_OK;
  }

  int ta, tb;
  int64_t lda, ldb;
  if (!blas_layout(m, k, a_row_stride, a_col_stride, &ta, &lda) ||
      !blas_layout(k, n, b_row_stride, b_col_stride, &tb, &ldb))
    return EAGER_ERR_ARGUMENT;
  /* NOTE: a mid-sized output is zeroed here and the GEMMs accumulate into it (beta 1), rather
   * than letting OpenBLAS 0.3.21 clear it (beta 0). The output is fresh memory, cold in
   * cache (garbage outputs are freed only at the next collection), and OpenBLAS's beta
   * pass reads each line before writing it; glibc's memset fills without that read.
   * eager_zero splits it over the pool, as OpenBLAS splits its pass.
   * Measured here (sgemm, outputs cycling through 64 MiB, median of 41 alternations):
   * 256: 198 -> 188 us (an output hot in cache: 184), 512: 1398 -> 1347 us, 2048: same.
   * From 4 KiB (64 KiB until 2026-12-05): tf.matmul of n x n, fastest of 11 batches, fresh
   * processes, two alternations: 32: 2.84-2.93 -> 2.68-2.75 us, 48: 6.98-7.21 -> 6.50-6.51,
   * 64: 12.26-12.27 -> 10.93-11.43 (NumPy 9.4), 96: 23.6-42.9 -> 21.3-31.5; 16 (1 KiB) gained
   * nothing. Even into one hot output the raw call went 8.9-10.2 -> 7.6-8.8 us at 64: OpenBLAS's
   * separate beta-0 pass costs more than a memset at these sizes.
   * Past 4 MiB the clearing pass is a small part of the product, and for a wide output over
   * a short inner dim (a dense layer's weight gradient, 3136 x 1024 over 100) a separate
   * clearing pass cost more than OpenBLAS's (5.6 against 5.3 ms), so those keep beta 0.
   * A product that goes to oneDNN keeps beta 0 too: oneDNN writes C without reading it. */
  double beta = 0.0;
  size_t out_bytes = (size_t)(batches * m * n * size);
  /* A short inner dim into a large output: our own kernel writes each output once. */
  int short_k = dtype == EAGER_F32 &&
                eager_short_matmul_fits(m, n, k, b_row_stride, b_col_stride);
  if (!short_k && out_bytes >= ZERO_FIRST_BYTES && out_bytes <= ZERO_FIRST_MAX_BYTES &&
      !eager_gemm_clears_output(dtype, tb, m, n, k)) {
    eager_zero(out, out_bytes);
    beta = 1.0;
  }
  int64_t index[EAGER_MAX_RANK] = {0}, offsets[2] = {0, 0};
  /* The batch walk is by element, not by row: one GEMM per batch entry. */
  for (int64_t e = 0; e < batches; e++) {
    if (e > 0) {
      for (int d = batch_rank - 1; d >= 0; d--) {
        index[d]++;
        offsets[0] += a_batch_strides[d];
        offsets[1] += b_batch_strides[d];
        if (index[d] < batch_shape[d]) break;
        offsets[0] -= index[d] * a_batch_strides[d];
        offsets[1] -= index[d] * b_batch_strides[d];
        index[d] = 0;
      }
    }
    char *c = (char *)out + e * m * n * size;
    if (short_k)
      eager_short_matmul((const float *)a_base + offsets[0], a_row_stride, a_col_stride,
                         (const float *)b_base + offsets[1], b_row_stride, (float *)c, m, n, k);
    else
      eager_gemm(dtype, ta, tb, m, n, k, a_base + (size_t)offsets[0] * size, lda,
                 b_base + (size_t)offsets[1] * size, ldb, beta, c, n);
  }
  return EAGER_OK;
}
