/*
 * Strided copy with dtype conversion. The same kernel makes tensors contiguous,
 * casts, and writes into strided views of an output (concat, pad, tile).
 *
 * Decisions (C leaves these undefined; TensorFlow leaves them to the platform):
 * float -> integer truncates toward zero, saturates at the target's range and maps NaN
 * to 0; integer -> narrower integer wraps; anything -> bool is `!= 0` (NaN is true).
 */
#include <string.h>

#include "internal.h"

static inline int32_t sat_i32(double v) {
  if (v != v) return 0;
  if (v >= 2147483647.0) return INT32_MAX;
  if (v <= -2147483648.0) return INT32_MIN;
  return (int32_t)v;
}

static inline int64_t sat_i64(double v) {
  if (v != v) return 0;
  if (v >= 9223372036854775807.0) return INT64_MAX; /* the double is 2^63 */
  if (v <= -9223372036854775808.0) return INT64_MIN;
  return (int64_t)v;
}

static inline uint8_t sat_u8(double v) {
  if (v != v || v <= 0) return 0;
  if (v >= 255.0) return 255;
  return (uint8_t)v;
}

/* Conversions into each target, from a float source (F) or an integer source (I). */
#define TO_f32_F(x) ((float)(x))
#define TO_f32_I(x) ((float)(x))
#define TO_f64_F(x) ((double)(x))
#define TO_f64_I(x) ((double)(x))
#define TO_i32_F(x) sat_i32((double)(x))
#define TO_i32_I(x) ((int32_t)(x))
#define TO_i64_F(x) sat_i64((double)(x))
#define TO_i64_I(x) ((int64_t)(x))
#define TO_u8_F(x) sat_u8((double)(x))
#define TO_u8_I(x) ((uint8_t)(x))
#define TO_bool_F(x) ((uint8_t)((x) != 0))
#define TO_bool_I(x) ((uint8_t)((x) != 0))

#define CAST_LOOP(IN_SFX, IN_T, KIND, OUT_SFX, OUT_T)                                    \
  static int cast_##IN_SFX##_##OUT_SFX(void *ctx, int64_t n, char *const *p,            \
                                       const int64_t *s) {                              \
    (void)ctx;                                                                          \
    OUT_T *o = (OUT_T *)p[0];                                                           \
    const IN_T *x = (const IN_T *)p[1];                                                 \
    if (s[0] == 1 && s[1] == 1) {                                                       \
      for (int64_t i = 0; i < n; i++) o[i] = TO_##OUT_SFX##_##KIND(x[i]);               \
    } else {                                                                            \
      for (int64_t i = 0; i < n; i++) o[i * s[0]] = TO_##OUT_SFX##_##KIND(x[i * s[1]]); \
    }                                                                                   \
    return EAGER_OK;                                                                    \
  }

#define CAST_FROM(IN_SFX, IN_T, KIND)                    \
  CAST_LOOP(IN_SFX, IN_T, KIND, f32, float)              \
  CAST_LOOP(IN_SFX, IN_T, KIND, f64, double)             \
  CAST_LOOP(IN_SFX, IN_T, KIND, i32, int32_t)            \
  CAST_LOOP(IN_SFX, IN_T, KIND, i64, int64_t)            \
  CAST_LOOP(IN_SFX, IN_T, KIND, u8, uint8_t)             \
  CAST_LOOP(IN_SFX, IN_T, KIND, bool, uint8_t)
CAST_FROM(f32, float, F)
CAST_FROM(f64, double, F)
CAST_FROM(i32, int32_t, I)
CAST_FROM(i64, int64_t, I)
CAST_FROM(u8, uint8_t, I)
CAST_FROM(bool, uint8_t, I)

#define CAST_ROW(IN_SFX)                                                              \
  {cast_##IN_SFX##_f32, cast_##IN_SFX##_f64, cast_##IN_SFX##_i32, cast_##IN_SFX##_i64, \
   cast_##IN_SFX##_u8, cast_##IN_SFX##_bool}

/* Indexed [from][to] in eager_dtype order. */
static const eager_segment_fn cast_table[EAGER_DTYPE_COUNT][EAGER_DTYPE_COUNT] = {
    CAST_ROW(f32), CAST_ROW(f64), CAST_ROW(i32), CAST_ROW(i64), CAST_ROW(u8), CAST_ROW(bool)};

/* Strided moves of one element type W (source stride 0: a broadcast, written as a fill). */
#define MOVE_LOOP(W)                                                                    \
  static void move_##W(int64_t n, char *out, const char *x, int64_t so, int64_t sx) {  \
    W *o = (W *)out;                                                                    \
    const W *v = (const W *)x;                                                          \
    if (sx == 0 && so == 1) {                                                           \
      W fill = v[0];                                                                    \
      for (int64_t i = 0; i < n; i++) o[i] = fill;                                      \
    } else {                                                                            \
      for (int64_t i = 0; i < n; i++) o[i * so] = v[i * sx];                            \
    }                                                                                   \
  }
MOVE_LOOP(uint8_t)
MOVE_LOOP(uint32_t)
MOVE_LOOP(uint64_t)

/* Same dtype: contiguous segments are a memcpy, others typed loops. NOTE: a memcpy call per
 * element made densifying a broadcast [8,56,56,64] float32 take 2.7 ms (a fill: 0.3 ms). */
static int copy_segment(void *ctx, int64_t n, char *const *p, const int64_t *s) {
  size_t size = (size_t)(uintptr_t)ctx;
  if (s[0] == 1 && s[1] == 1) {
    memcpy(p[0], p[1], (size_t)n * size);
    return EAGER_OK;
  }
  switch (size) {
  case 1: move_uint8_t(n, p[0], p[1], s[0], s[1]); break;
  case 4: move_uint32_t(n, p[0], p[1], s[0], s[1]); break;
  case 8: move_uint64_t(n, p[0], p[1], s[0], s[1]); break;
  default:
    for (int64_t i = 0; i < n; i++)
      memcpy(p[0] + i * s[0] * (int64_t)size, p[1] + i * s[1] * (int64_t)size, size);
  }
  return EAGER_OK;
}

EAGER_API int32_t eager_cast(int32_t x_dtype, int32_t out_dtype, int32_t rank,
                             const int64_t *shape, void *out, int64_t out_offset,
                             const int64_t *out_strides, const void *x, int64_t x_offset,
                             const int64_t *x_strides) {
  if (!eager_shape_valid(rank, shape) || !eager_dtype_valid(x_dtype) ||
      !eager_dtype_valid(out_dtype))
    return EAGER_ERR_ARGUMENT;
  int64_t dense[EAGER_MAX_RANK];
  if (!out_strides) {
    eager_dense_strides(rank, shape, dense);
    out_strides = dense;
  }
  const int64_t *strides[2] = {out_strides, x_strides};
  eager_iter it;
  eager_iter_init(&it, rank, shape, 2, strides);
  size_t out_size = eager_dtype_size(out_dtype), x_size = eager_dtype_size(x_dtype);
  size_t sizes[2] = {out_size, x_size};
  char *base[2] = {(char *)out + out_offset * (int64_t)out_size,
                   (char *)x + x_offset * (int64_t)x_size};
  /* bool -> bool and u8 -> u8 copy bytes; bool <-> u8 must normalise to 0/1. */
  if (x_dtype == out_dtype)
    return eager_walk(&it, base, sizes, EAGER_GRAIN_CHEAP, copy_segment,
                      (void *)(uintptr_t)out_size);
  return eager_walk(&it, base, sizes, EAGER_GRAIN_CHEAP, cast_table[x_dtype][out_dtype], NULL);
}
