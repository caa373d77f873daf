/*
 * Segment max, min and product: out[s, :] = op over data[i, :] with ids[i] == s, in input
 * order, one pass over data (memory bound; one thread, so nothing depends on the pool).
 * Ids outside [0, num_segments) are dropped, as the unsorted segment sum drops them.
 */
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* NOTE: max and min propagate NaN (a NaN compares false, and once kept stays kept). */
#define SEG_MAX(a, v) ((v) > (a) || (v) != (v) ? (v) : (a))
#define SEG_MIN(a, v) ((v) < (a) || (v) != (v) ? (v) : (a))
#define SEG_PROD(a, v) ((a) * (v))

#define SEGMENT_KERNEL(NAME, T, OP)                                                         \
  static void NAME(int64_t n, int64_t inner, int64_t num, T init, const int64_t *ids,       \
                   const T *restrict data, T *restrict out, uint8_t *seen) {                \
    for (int64_t a = 0; a < num * inner; a++) out[a] = init;                                \
    for (int64_t i = 0; i < n; i++) {                                                       \
      int64_t s = ids[i];                                                                   \
      if (s < 0 || s >= num) continue;                                                      \
      if (seen) seen[s] = 1;                                                                \
      T *restrict o = out + s * inner;                                                      \
      const T *restrict d = data + i * inner;                                               \
      for (int64_t j = 0; j < inner; j++) o[j] = (T)OP(o[j], d[j]);                         \
    }                                                                                       \
  }
#define SEGMENT_KERNELS(SFX, T)          \
  SEGMENT_KERNEL(seg_max_##SFX, T, SEG_MAX)  \
  SEGMENT_KERNEL(seg_min_##SFX, T, SEG_MIN)  \
  SEGMENT_KERNEL(seg_prod_##SFX, T, SEG_PROD)
SEGMENT_KERNELS(f32, float)
SEGMENT_KERNELS(f64, double)
SEGMENT_KERNELS(i32, int32_t)
SEGMENT_KERNELS(i64, int64_t)
SEGMENT_KERNELS(u8, uint8_t)

/* The empty segment's value (TensorFlow's: the dtype's lowest for max, its highest for
 * min, 1 for prod) and the kernel, per dtype. */
#define DISPATCH(SFX, T, LOWEST, HIGHEST)                                                   \
  do {                                                                                      \
    T init = op == EAGER_REDUCE_MAX ? (T)(LOWEST) : op == EAGER_REDUCE_MIN ? (T)(HIGHEST) : 1; \
    (op == EAGER_REDUCE_MAX   ? seg_max_##SFX                                               \
     : op == EAGER_REDUCE_MIN ? seg_min_##SFX                                               \
                              : seg_prod_##SFX)(n, inner, num_segments, init, wide,        \
                                                (const T *)data + data_offset, out, seen);  \
  } while (0)

EAGER_API int32_t eager_segment_reduce(int32_t op, int32_t dtype, int32_t index_dtype,
                                       int64_t n, int64_t inner, int64_t num_segments,
                                       int32_t empty_zero, void *out, const void *data,
                                       int64_t data_offset, const void *segment_ids,
                                       int64_t ids_offset) {
  if ((op != EAGER_REDUCE_MAX && op != EAGER_REDUCE_MIN && op != EAGER_REDUCE_PROD) || n < 0 ||
      inner < 0 || num_segments < 0 || (index_dtype != EAGER_I32 && index_dtype != EAGER_I64) ||
      !eager_dtype_valid(dtype))
    return EAGER_ERR_ARGUMENT;
  if (dtype == EAGER_BOOL) return EAGER_ERR_DTYPE;
  if (num_segments == 0 || inner == 0) return EAGER_OK;
  int64_t *wide = malloc((size_t)(n > 0 ? n : 1) * sizeof *wide);
  uint8_t *seen = empty_zero ? calloc((size_t)num_segments, 1) : NULL;
  if (!wide || (empty_zero && !seen)) {
    free(wide);
    free(seen);
    return EAGER_ERR_NO_MEMORY;
  }
  for (int64_t i = 0; i < n; i++)
    wide[i] = index_dtype == EAGER_I32 ? ((const int32_t *)segment_ids)[ids_offset + i]
                                       : ((const int64_t *)segment_ids)[ids_offset + i];
  switch (dtype) {
  case EAGER_F32: DISPATCH(f32, float, -FLT_MAX, FLT_MAX); break;
  case EAGER_F64: DISPATCH(f64, double, -DBL_MAX, DBL_MAX); break;
  case EAGER_I32: DISPATCH(i32, int32_t, INT32_MIN, INT32_MAX); break;
  case EAGER_I64: DISPATCH(i64, int64_t, INT64_MIN, INT64_MAX); break;
  default: DISPATCH(u8, uint8_t, 0, 255); break;
  }
  if (seen) {
    size_t row = (size_t)inner * eager_dtype_size(dtype);
    for (int64_t s = 0; s < num_segments; s++)
      if (!seen[s]) memset((char *)out + (size_t)s * row, 0, row);
  }
  free(wide);
  free(seen);
  return EAGER_OK;
}
