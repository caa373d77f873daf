/*
 * softmax and log-softmax over the last axis of a dense [rows, cols] float tensor, fused:
 * per row a max pass, an exp-and-sum pass and a scale pass over a row that stays in
 * cache, into one output buffer, instead of five ops each writing a fresh tensor.
 */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

/*
 * e^x in float arithmetic for softmax: 16 lanes a vector where eager_expf (double inside)
 * has 8, at the price of accuracy: within 2 ulp rather than correctly rounded. TensorFlow's
 * softmax uses Eigen's float exp, of the same kind. 2^k * e^r with k = round(x / ln 2),
 * r from a two-part ln 2, and the Taylor polynomial of degree 7 (truncation 5e-9 relative).
 * NOTE: 2^k is applied as two factors, so subnormal results round once, correctly; x is
 * clamped to [-160, 100] (NaN passes through the comparisons) so k fits both factors.
 */
static inline float softmax_expf(float x) {
  const float shift = 0x1.8p23f, log2e = 0x1.715476p0f;
  const float ln2_hi = 0x1.62e4p-1f, ln2_lo = 0x1.7f7d1cp-20f;
  x = x < -160.0f ? -160.0f : (x > 100.0f ? 100.0f : x);
  float k = (x * log2e + shift) - shift;
  float r = x - k * ln2_hi;
  r = r - k * ln2_lo;
  float p = 1.0f / 5040;
  p = p * r + 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  k = k == k ? k : 0; /* NaN: any k gives NaN, and converting NaN is undefined */
  int32_t ki = (int32_t)k, k1 = ki / 2, k2 = ki - k1;
  uint32_t b1 = (uint32_t)(k1 + 127) << 23, b2 = (uint32_t)(k2 + 127) << 23;
  float s1, s2;
  __builtin_memcpy(&s1, &b1, sizeof s1);
  __builtin_memcpy(&s2, &b2, sizeof s2);
  return p * s1 * s2;
}
#define softmax_exp(x) _Generic((x), float: softmax_expf, double: exp)(x)

typedef struct {
  int64_t rows, cols;
  void *out;
  const void *x;
  int log;
} softmax_job;

/* Lanes of the max and sum passes: fixed, so results do not depend on the machine, and
 * several vectors wide, so the passes are not bound by one accumulator's latency. */
#define LANES 64

/* NOTE: a NaN anywhere in a row makes the whole row NaN (the max propagates it), as
 * TensorFlow's Softmax does. The max and the sum (in double) run over LANES interleaved
 * partial results, combined in lane order, so the compiler can vectorise them. */
#define SOFTMAX_TASK(SFX, T, LOG)                                                     \
  static void softmax_##SFX(void *arg, int ith, int nth) {                           \
    const softmax_job *job = arg;                                                    \
    int64_t begin, end, n = job->cols, whole = n - n % LANES;                                   \
    eager_split(job->rows, ith, nth, &begin, &end);                                  \
    for (int64_t r = begin; r < end; r++) {                                          \
      const T *restrict x = (const T *)job->x + r * n;                               \
      T *restrict o = (T *)job->out + r * n;                                         \
      T lane_max[LANES];                                                             \
      for (int l = 0; l < LANES; l++) lane_max[l] = x[0];                            \
      for (int64_t i = 0; i < whole; i += LANES)                                     \
        for (int l = 0; l < LANES; l++) {                                            \
          T v = x[i + l];                                                            \
          lane_max[l] = (v > lane_max[l] || v != v) ? v : lane_max[l];               \
        }                                                                            \
      for (int64_t i = whole; i < n; i++)                                            \
        lane_max[0] = (x[i] > lane_max[0] || x[i] != x[i]) ? x[i] : lane_max[0];     \
      T max = lane_max[0];                                                           \
      for (int l = 1; l < LANES; l++)                                                \
        max = (lane_max[l] > max || lane_max[l] != lane_max[l]) ? lane_max[l] : max; \
      for (int64_t i = 0; i < n; i++) o[i] = softmax_exp((T)(x[i] - max));                 \
      double lane_sum[LANES] = {0};                                                  \
      for (int64_t i = 0; i < whole; i += LANES)                                     \
        for (int l = 0; l < LANES; l++) lane_sum[l] += (double)o[i + l];             \
      double sum = 0;                                                                \
      for (int l = 0; l < LANES; l++) sum += lane_sum[l];                            \
      for (int64_t i = whole; i < n; i++) sum += (double)o[i];                       \
      if (job->log) {                                                                \
        T shift = max + (T)LOG(sum);                                                 \
        for (int64_t i = 0; i < n; i++) o[i] = x[i] - shift;                         \
      } else {                                                                       \
        T scale = (T)1 / (T)sum; /* TensorFlow multiplies by the inverse too */     \
        for (int64_t i = 0; i < n; i++) o[i] = o[i] * scale;                         \
      }                                                                              \
    }                                                                                \
  }
SOFTMAX_TASK(f32, float, log)
SOFTMAX_TASK(f64, double, log)

EAGER_API int32_t eager_softmax(int32_t dtype, int64_t rows, int64_t cols, void *out,
                                const void *x, int64_t x_offset, int32_t log) {
  if (rows < 0 || cols < 0) return EAGER_ERR_ARGUMENT;
  if (dtype != EAGER_F32 && dtype != EAGER_F64)
    return eager_dtype_valid(dtype) ? EAGER_ERR_DTYPE : EAGER_ERR_ARGUMENT;
  if (rows == 0 || cols == 0) return EAGER_OK;
  size_t size = eager_dtype_size(dtype);
  softmax_job job = {rows, cols, out, (const char *)x + x_offset * (int64_t)size, log != 0};
  eager_parallel(dtype == EAGER_F32 ? softmax_f32 : softmax_f64, &job,
                 eager_threads_for(rows * cols, EAGER_GRAIN_COSTLY));
  return EAGER_OK;
}

typedef struct {
  int64_t rows, cols;
  const void *logp, *dy;
  const int64_t *labels; /* checked, widened to int64 */
  void *out;
} xent_grad_job;

/* One read of logp and one write of out: (softmax - one_hot) * dy, the five passes of its
 * op-by-op form (a scatter into zeros, exp, a row sum, a product, a difference) in one. */
#define XENT_GRAD_TASK(SFX, T)                                                    \
  static void xent_grad_##SFX(void *arg, int ith, int nth) {                      \
    const xent_grad_job *job = arg;                                               \
    int64_t begin, end, n = job->cols;                                            \
    eager_split(job->rows, ith, nth, &begin, &end);                               \
    for (int64_t r = begin; r < end; r++) {                                       \
      const T *restrict lp = (const T *)job->logp + r * n;                        \
      T *restrict o = (T *)job->out + r * n;                                      \
      T d = ((const T *)job->dy)[r];                                              \
      for (int64_t i = 0; i < n; i++) o[i] = softmax_exp(lp[i]) * d;              \
      int64_t label = job->labels[r];                                             \
      o[label] = (softmax_exp(lp[label]) - (T)1) * d;                             \
    }                                                                             \
  }
XENT_GRAD_TASK(f32, float)
XENT_GRAD_TASK(f64, double)

EAGER_API int32_t eager_sparse_xent_grad(int32_t dtype, int32_t label_dtype, int64_t rows,
                                         int64_t cols, const void *logp, const void *labels,
                                         const void *dy, void *out) {
  if (rows < 0 || cols < 0 || (label_dtype != EAGER_I32 && label_dtype != EAGER_I64))
    return EAGER_ERR_ARGUMENT;
  if (dtype != EAGER_F32 && dtype != EAGER_F64)
    return eager_dtype_valid(dtype) ? EAGER_ERR_DTYPE : EAGER_ERR_ARGUMENT;
  if (rows == 0 || cols == 0) return rows == 0 ? EAGER_OK : EAGER_ERR_INDEX;
  int64_t *wide = malloc((size_t)rows * sizeof *wide);
  if (!wide) return EAGER_ERR_NO_MEMORY;
  for (int64_t r = 0; r < rows; r++) {
    wide[r] = label_dtype == EAGER_I32 ? ((const int32_t *)labels)[r] : ((const int64_t *)labels)[r];
    if (wide[r] < 0 || wide[r] >= cols) {
      free(wide);
      return EAGER_ERR_INDEX;
    }
  }
  xent_grad_job job = {rows, cols, logp, dy, wide, out};
  eager_parallel(dtype == EAGER_F32 ? xent_grad_f32 : xent_grad_f64, &job,
                 eager_threads_for(rows * cols, EAGER_GRAIN_COSTLY));
  free(wide);
  return EAGER_OK;
}
