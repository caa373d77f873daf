/*
 * Separable resampling of NHWC images: every output pixel is a weighted sum of input
 * pixels whose weights factor into a row weight times a column weight. Bilinear, nearest
 * and area resizes are of this form, and so are their gradients (the transposed weight
 * matrices), so one kernel serves all of them. The weights are two sparse matrices in CSR
 * form that the TS side builds once per call (src/ops/image/resample.ts).
 */
#include <stdlib.h>

#include "internal.h"

typedef struct {
  int64_t batch, in_h, in_w, ch, out_h, out_w;
  const int32_t *row_start, *row_index, *col_start, *col_index;
  const double *row_weight, *col_weight;
  void *out;
  const void *x;
  int failed;
} resample_job;

/* One output row from the temporary row: each pixel the weighted sum of its column taps'
 * pixels. Inlined with a constant `ch` for the common channel counts. */
#define COLUMNS(SFX, T)                                                                \
  static inline __attribute__((always_inline)) void columns_##SFX(                     \
      const resample_job *job, T *restrict o, const T *restrict tmp, const int64_t ch) { \
    for (int64_t x = 0; x < job->out_w; x++) {                                         \
      T *restrict ox = o + x * ch;                                                     \
      const int32_t s0 = job->col_start[x], s1 = job->col_start[x + 1];                \
      for (int64_t c = 0; c < ch; c++) ox[c] = 0;                                      \
      for (int32_t t = s0; t < s1; t++) {                                              \
        const T *restrict px = tmp + job->col_index[t] * ch;                           \
        const T w = (T)job->col_weight[t];                                             \
        for (int64_t c = 0; c < ch; c++) ox[c] += w * px[c];                           \
      }                                                                                \
    }                                                                                  \
  }
COLUMNS(f32, float)
COLUMNS(f64, double)

/* Per output row: the row taps combine whole input rows (in_w * ch contiguous elements,
 * vectorised) into one temporary row, then the column taps combine its pixels. Threads
 * split the batch * out_h output rows, so results do not depend on the thread count. */
#define RESAMPLE_TASK(SFX, T)                                                          \
  static void resample_##SFX(void *arg, int ith, int nth) {                            \
    resample_job *job = arg;                                                           \
    const int64_t ch = job->ch, in_row = job->in_w * ch, out_w = job->out_w;           \
    int64_t begin, end;                                                                \
    eager_split(job->batch * job->out_h, ith, nth, &begin, &end);                      \
    if (begin >= end) return;                                                          \
    T *restrict tmp = malloc(sizeof(T) * (size_t)(in_row > 0 ? in_row : 1));           \
    if (tmp == NULL) {                                                                 \
      __atomic_store_n(&job->failed, 1, __ATOMIC_RELAXED);                             \
      return;                                                                          \
    }                                                                                  \
    for (int64_t r = begin; r < end; r++) {                                            \
      const int64_t b = r / job->out_h, y = r % job->out_h;                            \
      const T *xb = (const T *)job->x + b * job->in_h * in_row;                        \
      T *restrict o = (T *)job->out + r * out_w * ch;                                  \
      const int32_t t0 = job->row_start[y], t1 = job->row_start[y + 1];                \
      if (t0 == t1) {                                                                  \
        for (int64_t k = 0; k < in_row; k++) tmp[k] = 0;                               \
      } else {                                                                         \
        const T *restrict src = xb + job->row_index[t0] * in_row;                      \
        const T w = (T)job->row_weight[t0];                                            \
        for (int64_t k = 0; k < in_row; k++) tmp[k] = w * src[k];                      \
      }                                                                                \
      for (int32_t t = t0 + 1; t < t1; t++) {                                          \
        const T *restrict src = xb + job->row_index[t] * in_row;                       \
        const T w = (T)job->row_weight[t];                                             \
        for (int64_t k = 0; k < in_row; k++) tmp[k] += w * src[k];                     \
      }                                                                                \
      switch (ch) { /* constant channel counts unroll the innermost loop */            \
      case 1: columns_##SFX(job, o, tmp, 1); break;                                    \
      case 3: columns_##SFX(job, o, tmp, 3); break;                                    \
      case 4: columns_##SFX(job, o, tmp, 4); break;                                    \
      default: columns_##SFX(job, o, tmp, ch); break;                                  \
      }                                                                                \
    }                                                                                  \
    free(tmp);                                                                         \
  }
RESAMPLE_TASK(f32, float)
RESAMPLE_TASK(f64, double)

/* Whether (start, index) is a CSR matrix of `rows` rows over `cols` columns. */
static int taps_valid(const int32_t *start, const int32_t *index, int64_t rows, int64_t cols) {
  if (start[0] != 0) return 0;
  for (int64_t i = 0; i < rows; i++)
    if (start[i + 1] < start[i]) return 0;
  for (int32_t t = 0; t < start[rows]; t++)
    if (index[t] < 0 || index[t] >= cols) return 0;
  return 1;
}

EAGER_API int32_t eager_resample2d(int32_t dtype, const int64_t *dims, const int32_t *row_start,
                                   const int32_t *row_index, const double *row_weight,
                                   const int32_t *col_start, const int32_t *col_index,
                                   const double *col_weight, void *out, const void *x,
                                   int64_t x_offset) {
  if (dtype != EAGER_F32 && dtype != EAGER_F64)
    return eager_dtype_valid(dtype) ? EAGER_ERR_DTYPE : EAGER_ERR_ARGUMENT;
  for (int i = 0; i < 6; i++)
    if (dims[i] < 0 || dims[i] > INT32_MAX) return EAGER_ERR_ARGUMENT;
  resample_job job = {dims[0], dims[1], dims[2], dims[3], dims[4], dims[5],
                      row_start, row_index, col_start, col_index, row_weight, col_weight,
                      out, NULL, 0};
  if (!taps_valid(row_start, row_index, job.out_h, job.in_h) ||
      !taps_valid(col_start, col_index, job.out_w, job.in_w))
    return EAGER_ERR_ARGUMENT;
  int64_t n = job.batch * job.out_h * job.out_w * job.ch;
  if (n == 0) return EAGER_OK;
  job.x = (const char *)x + x_offset * (int64_t)eager_dtype_size(dtype);
  eager_parallel(dtype == EAGER_F32 ? resample_f32 : resample_f64, &job,
                 eager_threads_for(n, EAGER_GRAIN_CHEAP));
  return job.failed ? EAGER_ERR_NO_MEMORY : EAGER_OK;
}
