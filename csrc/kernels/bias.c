/*
 * A layer's epilogue in place: data = activation(data + bias) over the last axis, for the
 * fresh output of a layer's conv or matmul, so Dense and Conv2D keep one tensor where
 * biasAdd and relu made two more of the same size.
 */
#include "internal.h"

typedef struct {
  int64_t rows, cols;
  void *data;
  const void *bias;
  int32_t activation;
} bias_job;

/* NOTE: relu keeps NaN (a NaN sum is not < 0), as the relu op does. */
#define BIAS_TASK(SFX, T)                                                           \
  static void bias_##SFX(void *arg, int ith, int nth) {                            \
    const bias_job *job = arg;                                                     \
    int64_t begin, end, n = job->cols;                                             \
    eager_split(job->rows, ith, nth, &begin, &end);                                \
    const T *restrict b = job->bias;                                               \
    for (int64_t r = begin; r < end; r++) {                                        \
      T *restrict d = (T *)job->data + r * n;                                      \
      if (job->activation == EAGER_ACTIVATION_RELU) {                              \
        for (int64_t i = 0; i < n; i++) {                                          \
          T v = d[i] + b[i];                                                       \
          d[i] = v < 0 ? (T)0 : v;                                                 \
        }                                                                          \
      } else {                                                                     \
        for (int64_t i = 0; i < n; i++) d[i] = d[i] + b[i];                        \
      }                                                                            \
    }                                                                              \
  }
BIAS_TASK(f32, float)
BIAS_TASK(f64, double)

EAGER_API int32_t eager_bias_activation(int32_t dtype, int64_t rows, int64_t cols, void *data,
                                        const void *bias, int64_t bias_offset,
                                        int32_t activation) {
  if (rows < 0 || cols < 0 || activation < 0 || activation >= EAGER_ACTIVATION_COUNT)
    return EAGER_ERR_ARGUMENT;
  if (dtype != EAGER_F32 && dtype != EAGER_F64)
    return eager_dtype_valid(dtype) ? EAGER_ERR_DTYPE : EAGER_ERR_ARGUMENT;
  if (rows == 0 || cols == 0) return EAGER_OK;
  size_t size = eager_dtype_size(dtype);
  bias_job job = {rows, cols, data, (const char *)bias + bias_offset * (int64_t)size,
                  activation};
  eager_parallel(dtype == EAGER_F32 ? bias_f32 : bias_f64, &job,
                 eager_threads_for(rows * cols, EAGER_GRAIN_CHEAP));
  return EAGER_OK;
}
