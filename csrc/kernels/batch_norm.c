/*
 * Batch normalisation in three passes over memory (TensorFlow's FusedBatchNormV3 and its
 * gradient), for BatchNormalization: the per-channel mean and variance of a batch, then
 * y = (x - mean) * (scale / sqrt(variance + epsilon)) + offset, where the op-by-op form
 * made about ten tensors of x's size and kept two of them for the gradient.
 *
 * x is viewed as [outer, channels, inner]: channels last is inner = 1, channels first
 * (NCHW) is outer = batch, inner = height x width. Sums run in double over fixed chunks of
 * CHUNK outer rows, combined in chunk order, so results do not depend on the thread count.
 * The variance is the biased one, from a second pass over x - mean (no cancellation).
 */
#include <stdlib.h>

#include "internal.h"

#define CHUNK 256 /* outer rows a partial sum covers */

typedef struct {
  int64_t outer, channels, inner, chunks;
  const void *x, *dy;
  const void *y; /* the output of a relu-fused normalisation, for the gradient's mask; or NULL */
  int relu;      /* NORMALIZE: apply relu */
  double *partial_a, *partial_b; /* [chunks, channels] */
  const double *center;          /* mean, per channel, for the second passes */
  /* Per channel, in the dtype: NORMALIZE y = (x - p0) * p1 + p2; DX dx = dy * p1 +
   * (x - p0) * p2 + p3. */
  const void *params[4];
  void *out;
  int pass;
} bn_job;

enum { SUM_X, SUM_SQ, NORMALIZE, SUM_GRAD, DX };

/* NOTE: channels last (inner == 1) runs its loops along the channels and NCHW along inner,
 * so the innermost loop is contiguous either way and vectorises. */
#define BN_TASK(SFX, T)                                                                   \
  static void bn_apply_##SFX(const bn_job *job, int ith, int nth) {                       \
    int64_t c_n = job->channels, inner = job->inner, row = c_n * inner, begin, end;       \
    eager_split(job->outer, ith, nth, &begin, &end);                                      \
    const T *x = job->x, *dy = job->dy, *mask = job->y, *p0 = job->params[0],            \
            *p1 = job->params[1], *p2 = job->params[2], *p3 = job->params[3];             \
    const T zero = 0;                                                                     \
    int relu = job->relu;                                                                 \
    T *out = job->out;                                                                    \
    int dx = job->pass == DX;                                                             \
    for (int64_t o = begin; o < end; o++) {                                               \
      const T *restrict xr = x + o * row;                                                 \
      T *restrict yr = out + o * row;                                                     \
      if (inner == 1) { /* channels last: the loops run along the channels */            \
        const T *restrict gr = dx ? dy + o * row : NULL;                                  \
        const T *restrict mr = dx && mask ? mask + o * row : NULL;                        \
        if (!dx && relu)                                                                  \
          for (int64_t c = 0; c < c_n; c++) {                                             \
            T v = (xr[c] - p0[c]) * p1[c] + p2[c];                                        \
            yr[c] = v < zero ? zero : v;                                                  \
          }                                                                               \
        else if (!dx)                                                                     \
          for (int64_t c = 0; c < c_n; c++) yr[c] = (xr[c] - p0[c]) * p1[c] + p2[c];      \
        else if (mr)                                                                      \
          for (int64_t c = 0; c < c_n; c++) {                                             \
            T g = mr[c] > zero ? gr[c] : zero;                                            \
            yr[c] = g * p1[c] + (xr[c] - p0[c]) * p2[c] + p3[c];                          \
          }                                                                               \
        else                                                                              \
          for (int64_t c = 0; c < c_n; c++)                                               \
            yr[c] = gr[c] * p1[c] + (xr[c] - p0[c]) * p2[c] + p3[c];                      \
        continue;                                                                         \
      }                                                                                   \
      for (int64_t c = 0; c < c_n; c++) {                                                 \
        const T *restrict xc = xr + c * inner;                                            \
        T *restrict yc = yr + c * inner;                                                  \
        T c0 = p0[c], c1 = p1[c], c2 = p2[c];                                             \
        /* NOTE: the relu and the mask are tested outside the element loops, which then  \
         * vectorise (a test inside cost 3x on ResNet-50's gradient). */                 \
        if (!dx && relu) {                                                                \
          for (int64_t i = 0; i < inner; i++) {                                           \
            T v = (xc[i] - c0) * c1 + c2;                                                 \
            yc[i] = v < zero ? zero : v; /* NaN stays NaN, as relu */                     \
          }                                                                               \
          continue;                                                                       \
        }                                                                                 \
        if (!dx) {                                                                        \
          for (int64_t i = 0; i < inner; i++) yc[i] = (xc[i] - c0) * c1 + c2;             \
          continue;                                                                       \
        }                                                                                 \
        const T *restrict gc = dy + o * row + c * inner;                                  \
        T c3 = p3[c];                                                                     \
        if (mask) {                                                                       \
          const T *restrict mc = mask + o * row + c * inner;                              \
          for (int64_t i = 0; i < inner; i++) {                                           \
            T g = mc[i] > zero ? gc[i] : zero;                                            \
            yc[i] = g * c1 + (xc[i] - c0) * c2 + c3;                                      \
          }                                                                               \
        } else {                                                                          \
          for (int64_t i = 0; i < inner; i++) yc[i] = gc[i] * c1 + (xc[i] - c0) * c2 + c3; \
        }                                                                                 \
      }                                                                                   \
    }                                                                                     \
  }                                                                                       \
  static void bn_sum_##SFX(const bn_job *job, int ith, int nth) {                         \
    int64_t c_n = job->channels, inner = job->inner, row = c_n * inner, first, last;      \
    eager_split(job->chunks, ith, nth, &first, &last);                                    \
    const T *x = job->x, *dy = job->dy, *mask = job->y;                                  \
    const double *center = job->center;                                                   \
    int pass = job->pass;                                                                 \
    for (int64_t k = first; k < last; k++) {                                              \
      double *restrict a = job->partial_a + k * c_n, *restrict b = job->partial_b + k * c_n; \
      for (int64_t c = 0; c < c_n; c++) a[c] = b[c] = 0;                                  \
      int64_t o_end = (k + 1) * CHUNK < job->outer ? (k + 1) * CHUNK : job->outer;        \
      for (int64_t o = k * CHUNK; o < o_end; o++) {                                       \
        const T *restrict xr = x + o * row;                                               \
        const T *restrict gr = dy ? dy + o * row : NULL;                                  \
        const T *restrict mr = mask ? mask + o * row : NULL;                              \
        if (inner == 1) {                                                                 \
          if (pass == SUM_X)                                                              \
            for (int64_t c = 0; c < c_n; c++) a[c] += (double)xr[c];                      \
          else if (pass == SUM_SQ)                                                        \
            for (int64_t c = 0; c < c_n; c++) {                                           \
              double v = (double)xr[c] - center[c];                                       \
              a[c] += v * v;                                                              \
            }                                                                             \
          else                                                                            \
          if (mr)                                                                         \
            for (int64_t c = 0; c < c_n; c++) {                                           \
              double g = mr[c] > 0 ? (double)gr[c] : 0.0;                                 \
              a[c] += g;                                                                  \
              b[c] += g * ((double)xr[c] - center[c]);                                    \
            }                                                                             \
          else                                                                            \
            for (int64_t c = 0; c < c_n; c++) {                                           \
              double g = (double)gr[c];                                                   \
              a[c] += g;                                                                  \
              b[c] += g * ((double)xr[c] - center[c]);                                    \
            }                                                                             \
          continue;                                                                       \
        }                                                                                 \
        for (int64_t c = 0; c < c_n; c++) {                                               \
          const T *restrict xc = xr + c * inner;                                          \
          double m = center ? center[c] : 0, sa = 0, sb = 0;                              \
          if (pass == SUM_X)                                                              \
            for (int64_t i = 0; i < inner; i++) sa += (double)xc[i];                      \
          else if (pass == SUM_SQ)                                                        \
            for (int64_t i = 0; i < inner; i++) {                                         \
              double v = (double)xc[i] - m;                                               \
              sa += v * v;                                                                \
            }                                                                             \
          else                                                                            \
            for (int64_t i = 0; i < inner; i++) {                                         \
              double g = (double)gr[c * inner + i];                                       \
              if (mr && !(mr[c * inner + i] > 0)) g = 0.0;                                \
              sa += g;                                                                    \
              sb += g * ((double)xc[i] - m);                                              \
            }                                                                             \
          a[c] += sa;                                                                     \
          b[c] += sb;                                                                     \
        }                                                                                 \
      }                                                                                   \
    }                                                                                     \
  }                                                                                       \
  static void bn_##SFX(void *arg, int ith, int nth) {                                     \
    const bn_job *job = arg;                                                              \
    if (job->pass == NORMALIZE || job->pass == DX) bn_apply_##SFX(job, ith, nth);         \
    else bn_sum_##SFX(job, ith, nth);                                                     \
  }
BN_TASK(f32, float)
BN_TASK(f64, double)

/* Runs one pass; for the summing passes, adds the chunks' partials in order into sums. */
static void bn_pass(int32_t dtype, bn_job *job, int pass, double *sum_a, double *sum_b) {
  job->pass = pass;
  int64_t size = job->outer * job->channels * job->inner;
  int summing = pass != NORMALIZE && pass != DX;
  int nth = eager_threads_for(size, EAGER_GRAIN_CHEAP);
  if (summing && nth > job->chunks) nth = (int)job->chunks;
  eager_parallel(dtype == EAGER_F32 ? bn_f32 : bn_f64, job, nth < 1 ? 1 : nth);
  if (!summing) return;
  for (int64_t c = 0; c < job->channels; c++) sum_a[c] = sum_b ? (sum_b[c] = 0) : 0;
  for (int64_t k = 0; k < job->chunks; k++)
    for (int64_t c = 0; c < job->channels; c++) {
      sum_a[c] += job->partial_a[k * job->channels + c];
      if (sum_b) sum_b[c] += job->partial_b[k * job->channels + c];
    }
}

static double value_at(int32_t dtype, const void *p, int64_t c, double otherwise) {
  if (!p) return otherwise;
  return dtype == EAGER_F32 ? (double)((const float *)p)[c] : ((const double *)p)[c];
}

static void store_at(int32_t dtype, void *p, int64_t c, double v) {
  if (dtype == EAGER_F32) ((float *)p)[c] = (float)v;
  else ((double *)p)[c] = v;
}

static int32_t bn_check(int32_t dtype, int64_t outer, int64_t channels, int64_t inner) {
  if (outer < 0 || channels < 0 || inner < 0) return EAGER_ERR_ARGUMENT;
  if (dtype != EAGER_F32 && dtype != EAGER_F64)
    return eager_dtype_valid(dtype) ? EAGER_ERR_DTYPE : EAGER_ERR_ARGUMENT;
  return EAGER_OK;
}

/* Scratch for `arrays` per-channel doubles, followed by the two per-chunk partial sums that
 * bn_pass fills (pointed to from job); NULL when the memory cannot be had. */
static double *bn_scratch(bn_job *job, int64_t arrays) {
  int64_t channels = job->channels, chunks = job->chunks;
  double *work =
      malloc((size_t)(channels * (arrays + 2 * (chunks ? chunks : 1))) * sizeof(double));
  if (work) {
    job->partial_a = work + arrays * channels;
    job->partial_b = work + arrays * channels + chunks * channels;
  }
  return work;
}

EAGER_API int32_t eager_batch_norm(int32_t dtype, int64_t outer, int64_t channels, int64_t inner,
                                   const void *x, const void *scale, const void *offset,
                                   double epsilon, int32_t training, int32_t relu, void *mean,
                                   void *variance, void *y) {
  int32_t status = bn_check(dtype, outer, channels, inner);
  if (status != EAGER_OK || channels == 0) return status;
  int64_t m = outer * inner;
  bn_job job = {.outer = outer, .channels = channels, .inner = inner,
                .chunks = (outer + CHUNK - 1) / CHUNK, .x = x};
  double *work = bn_scratch(&job, 4);
  if (!work) return EAGER_ERR_NO_MEMORY;
  double *center = work, *var = work + channels, *mul = work + 2 * channels,
         *add = work + 3 * channels;
  if (training) {
    bn_pass(dtype, &job, SUM_X, center, NULL);
    for (int64_t c = 0; c < channels; c++) center[c] = m ? center[c] / (double)m : 0.0 / 0.0;
    /* NOTE: the mean is rounded to the dtype first, as the variance pass of the op-by-op
     * form subtracts the stored mean. */
    for (int64_t c = 0; c < channels; c++) {
      store_at(dtype, mean, c, center[c]);
      center[c] = value_at(dtype, mean, c, 0);
    }
    job.center = center;
    bn_pass(dtype, &job, SUM_SQ, var, NULL);
    for (int64_t c = 0; c < channels; c++) {
      store_at(dtype, variance, c, m ? var[c] / (double)m : 0.0 / 0.0);
    }
  } else {
    for (int64_t c = 0; c < channels; c++) center[c] = value_at(dtype, mean, c, 0);
  }
  for (int64_t c = 0; c < channels; c++) {
    double v = value_at(dtype, variance, c, 0);
    double inv = 1.0 / __builtin_sqrt(v + epsilon);
    /* The typed copies overwrite the doubles in place: element c of a float array never
     * lies past element c of the double array it shares. */
    store_at(dtype, center, c, center[c]);
    store_at(dtype, mul, c, inv * value_at(dtype, scale, c, 1));
    store_at(dtype, add, c, value_at(dtype, offset, c, 0));
  }
  job.params[0] = center;
  job.params[1] = mul;
  job.params[2] = add;
  job.relu = relu != 0;
  job.out = y;
  if (m) bn_pass(dtype, &job, NORMALIZE, NULL, NULL);
  free(work);
  return EAGER_OK;
}

EAGER_API int32_t eager_batch_norm_grad(int32_t dtype, int64_t outer, int64_t channels,
                                        int64_t inner, const void *x, const void *dy,
                                        const void *scale, const void *mean,
                                        const void *variance, const void *y, double epsilon,
                                        int32_t training, void *dx, void *dscale, void *doffset) {
  int32_t status = bn_check(dtype, outer, channels, inner);
  if (status != EAGER_OK || channels == 0) return status;
  int64_t m = outer * inner;
  bn_job job = {.outer = outer, .channels = channels, .inner = inner,
                .chunks = (outer + CHUNK - 1) / CHUNK, .x = x, .dy = dy};
  double *work = bn_scratch(&job, 6);
  if (!work) return EAGER_ERR_NO_MEMORY;
  double *center = work, *sum_dy = work + channels, *sum_dyx = work + 2 * channels,
         *ga = work + 3 * channels, *gb = work + 4 * channels, *gc = work + 5 * channels;
  for (int64_t c = 0; c < channels; c++) center[c] = value_at(dtype, mean, c, 0);
  job.center = center;
  job.y = y;
  bn_pass(dtype, &job, SUM_GRAD, sum_dy, sum_dyx);
  for (int64_t c = 0; c < channels; c++) {
    double inv = 1.0 / __builtin_sqrt(value_at(dtype, variance, c, 0) + epsilon);
    double g = value_at(dtype, scale, c, 1);
    store_at(dtype, doffset, c, sum_dy[c]);
    store_at(dtype, dscale, c, sum_dyx[c] * inv);
    /* dx = g inv (dy - sum_dy / m - xhat sum(dy xhat) / m) in training (batch statistics
     * depend on x), g inv dy otherwise; written as dy a + (x - mean) b + c. */
    double a = g * inv;
    double b = training && m ? -g * inv * inv * inv * sum_dyx[c] / (double)m : 0;
    double k = training && m ? -g * inv * sum_dy[c] / (double)m : 0;
    store_at(dtype, ga, c, a);
    store_at(dtype, gb, c, b);
    store_at(dtype, gc, c, k);
  }
  /* center's typed copy goes after the loop above, which read center as doubles. */
  for (int64_t c = 0; c < channels; c++) store_at(dtype, center, c, center[c]);
  job.params[0] = center;
  job.params[1] = ga;
  job.params[2] = gb;
  job.params[3] = gc;
  job.out = dx;
  if (m) bn_pass(dtype, &job, DX, NULL, NULL);
  free(work);
  return EAGER_OK;
}
