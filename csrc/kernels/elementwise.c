/*
 * Unary and binary elementwise kernels and where(). One loop per (op, dtype) is
 * instantiated from the rules in elementwise_ops.h; each loop has a contiguous fast
 * path the compiler vectorises, and the strided walk (eager_walk) feeds it segments.
 */
#include <stdlib.h>

#include "elementwise_ops.h"
#include "internal.h"

typedef void (*unary_loop)(int64_t n, void *out, const void *x, int64_t sx);
typedef int (*binary_loop)(int64_t n, void *out, const void *a, int64_t sa, const void *b,
                           int64_t sb);

/* ---- loop templates --------------------------------------------------------------- */

#define UNARY_LOOP(NAME, TYPE, OUT_TYPE, EXPR)                                \
  static void NAME(int64_t n, void *out_, const void *x_, int64_t sx) {      \
    typedef TYPE T;                                                          \
    OUT_TYPE *restrict o = out_;                                             \
    const T *restrict xp = x_;                                               \
    if (sx == 1) {                                                           \
      for (int64_t i = 0; i < n; i++) {                                      \
        T x = xp[i];                                                         \
        o[i] = (OUT_TYPE)(EXPR);                                             \
      }                                                                      \
    } else {                                                                 \
      for (int64_t i = 0; i < n; i++) {                                      \
        T x = xp[i * sx];                                                    \
        o[i] = (OUT_TYPE)(EXPR);                                             \
      }                                                                      \
    }                                                                        \
  }

/* Four stride cases: both contiguous, b repeated, a repeated, general. */
#define BINARY_LOOP(NAME, TYPE, OUT_TYPE, EXPR)                                          \
  static int NAME(int64_t n, void *out_, const void *a_, int64_t sa, const void *b_,    \
                  int64_t sb) {                                                         \
    typedef TYPE T;                                                                     \
    OUT_TYPE *restrict o = out_;                                                        \
    const T *restrict ap = a_;                                                          \
    const T *restrict bp = b_;                                                          \
    if (sa == 1 && sb == 1) {                                                           \
      for (int64_t i = 0; i < n; i++) {                                                 \
        T a = ap[i], b = bp[i];                                                         \
        o[i] = (OUT_TYPE)(EXPR);                                                        \
      }                                                                                 \
    } else if (sa == 1 && sb == 0) {                                                    \
      const T b = *bp;                                                                  \
      for (int64_t i = 0; i < n; i++) {                                                 \
        T a = ap[i];                                                                    \
        o[i] = (OUT_TYPE)(EXPR);                                                        \
      }                                                                                 \
    } else if (sa == 0 && sb == 1) {                                                    \
      const T a = *ap;                                                                  \
      for (int64_t i = 0; i < n; i++) {                                                 \
        T b = bp[i];                                                                    \
        o[i] = (OUT_TYPE)(EXPR);                                                        \
      }                                                                                 \
    } else {                                                                            \
      for (int64_t i = 0; i < n; i++) {                                                 \
        T a = ap[i * sa], b = bp[i * sb];                                               \
        o[i] = (OUT_TYPE)(EXPR);                                                        \
      }                                                                                 \
    }                                                                                   \
    return EAGER_OK;                                                                    \
  }

/* ---- instantiation ---------------------------------------------------------------- */

#define FLOAT_UNARY_LOOPS(OP, EXPR)                  \
  UNARY_LOOP(unary_##OP##_f32, float, float, EXPR)   \
  UNARY_LOOP(unary_##OP##_f64, double, double, EXPR)
EAGER_FLOAT_UNARY(FLOAT_UNARY_LOOPS)

#define FLOAT_PREDICATE_LOOPS(OP, EXPR)                \
  UNARY_LOOP(unary_##OP##_f32, float, uint8_t, EXPR)   \
  UNARY_LOOP(unary_##OP##_f64, double, uint8_t, EXPR)
EAGER_FLOAT_PREDICATE(FLOAT_PREDICATE_LOOPS)

#define INT_UNARY_LOOPS(OP, EXPR)                      \
  UNARY_LOOP(unary_##OP##_i32, int32_t, int32_t, EXPR) \
  UNARY_LOOP(unary_##OP##_i64, int64_t, int64_t, EXPR) \
  UNARY_LOOP(unary_##OP##_u8, uint8_t, uint8_t, EXPR)
EAGER_INT_UNARY(INT_UNARY_LOOPS)

#define BOOL_UNARY_LOOPS(OP, EXPR) UNARY_LOOP(unary_##OP##_bool, uint8_t, uint8_t, EXPR)
EAGER_BOOL_UNARY(BOOL_UNARY_LOOPS)

#define FLOAT_BINARY_LOOPS(OP, EXPR)                  \
  BINARY_LOOP(binary_##OP##_f32, float, float, EXPR)  \
  BINARY_LOOP(binary_##OP##_f64, double, double, EXPR)
EAGER_FLOAT_BINARY(FLOAT_BINARY_LOOPS)

#define INT_BINARY_LOOPS(OP, EXPR)                       \
  BINARY_LOOP(binary_##OP##_i32, int32_t, int32_t, EXPR) \
  BINARY_LOOP(binary_##OP##_i64, int64_t, int64_t, EXPR) \
  BINARY_LOOP(binary_##OP##_u8, uint8_t, uint8_t, EXPR)
EAGER_INT_BINARY(INT_BINARY_LOOPS)

#define COMPARE_LOOPS(OP, EXPR)                            \
  BINARY_LOOP(binary_##OP##_f32, float, uint8_t, EXPR)     \
  BINARY_LOOP(binary_##OP##_f64, double, uint8_t, EXPR)    \
  BINARY_LOOP(binary_##OP##_i32, int32_t, uint8_t, EXPR)   \
  BINARY_LOOP(binary_##OP##_i64, int64_t, uint8_t, EXPR)   \
  BINARY_LOOP(binary_##OP##_u8, uint8_t, uint8_t, EXPR)    \
  BINARY_LOOP(binary_##OP##_bool, uint8_t, uint8_t, EXPR)
EAGER_COMPARE(COMPARE_LOOPS)

#define BOOL_BINARY_LOOPS(OP, EXPR) BINARY_LOOP(binary_##OP##_bool, uint8_t, uint8_t, EXPR)
EAGER_BOOL_BINARY(BOOL_BINARY_LOOPS)

/* ---- integer ops that can fail ------------------------------------------------------ */

/* NOTE: x86 traps on MIN / -1, so -1 is handled before dividing; the quotient wraps. */
static inline int64_t floor_div_i64(int64_t a, int64_t b) {
  if (b == -1) return (int64_t)(0 - (uint64_t)a);
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static inline int64_t floor_mod_i64(int64_t a, int64_t b) {
  if (b == -1) return 0;
  int64_t r = a % b;
  return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}

/* Exponentiation by squaring in unsigned arithmetic, so overflow wraps. */
static inline int64_t power_i64(int64_t base, int64_t exponent) {
  uint64_t result = 1, b = (uint64_t)base;
  for (uint64_t e = (uint64_t)exponent; e; e >>= 1) {
    if (e & 1) result *= b;
    b *= b;
  }
  return (int64_t)result;
}

#define CHECKED_INT_LOOP(NAME, TYPE, CHECK, STATUS, EXPR)                              \
  static int NAME(int64_t n, void *out_, const void *a_, int64_t sa, const void *b_,  \
                  int64_t sb) {                                                       \
    TYPE *o = out_;                                                                   \
    const TYPE *ap = a_, *bp = b_;                                                    \
    for (int64_t i = 0; i < n; i++) {                                                 \
      int64_t a = ap[i * sa], b = bp[i * sb];                                         \
      if (CHECK) return STATUS;                                                       \
      o[i] = (TYPE)(EXPR);                                                            \
    }                                                                                 \
    return EAGER_OK;                                                                  \
  }

#define CHECKED_INT_LOOPS(SFX, TYPE)                                                       \
  CHECKED_INT_LOOP(binary_FLOOR_DIV_##SFX, TYPE, b == 0, EAGER_ERR_DIVISION_BY_ZERO,      \
                   floor_div_i64(a, b))                                                   \
  CHECKED_INT_LOOP(binary_MOD_##SFX, TYPE, b == 0, EAGER_ERR_DIVISION_BY_ZERO,            \
                   floor_mod_i64(a, b))                                                   \
  CHECKED_INT_LOOP(binary_POW_##SFX, TYPE, b < 0, EAGER_ERR_NEGATIVE_POWER, power_i64(a, b))
CHECKED_INT_LOOPS(i32, int32_t)
CHECKED_INT_LOOPS(i64, int64_t)
CHECKED_INT_LOOPS(u8, uint8_t)

/* ---- dispatch tables ---------------------------------------------------------------- */

#define FLOAT_UNARY_ENTRY(OP, EXPR)                          \
  [EAGER_UNARY_##OP][EAGER_F32] = unary_##OP##_f32,          \
  [EAGER_UNARY_##OP][EAGER_F64] = unary_##OP##_f64,
#define INT_UNARY_ENTRY(OP, EXPR)                            \
  [EAGER_UNARY_##OP][EAGER_I32] = unary_##OP##_i32,          \
  [EAGER_UNARY_##OP][EAGER_I64] = unary_##OP##_i64,          \
  [EAGER_UNARY_##OP][EAGER_U8] = unary_##OP##_u8,
#define BOOL_UNARY_ENTRY(OP, EXPR) [EAGER_UNARY_##OP][EAGER_BOOL] = unary_##OP##_bool,

static const unary_loop unary_table[EAGER_UNARY_COUNT][EAGER_DTYPE_COUNT] = {
    EAGER_FLOAT_UNARY(FLOAT_UNARY_ENTRY) EAGER_FLOAT_PREDICATE(FLOAT_UNARY_ENTRY)
        EAGER_INT_UNARY(INT_UNARY_ENTRY) EAGER_BOOL_UNARY(BOOL_UNARY_ENTRY)};

#define FLOAT_BINARY_ENTRY(OP, EXPR)                         \
  [EAGER_BINARY_##OP][EAGER_F32] = binary_##OP##_f32,        \
  [EAGER_BINARY_##OP][EAGER_F64] = binary_##OP##_f64,
#define INT_BINARY_ENTRY(OP, EXPR)                           \
  [EAGER_BINARY_##OP][EAGER_I32] = binary_##OP##_i32,        \
  [EAGER_BINARY_##OP][EAGER_I64] = binary_##OP##_i64,        \
  [EAGER_BINARY_##OP][EAGER_U8] = binary_##OP##_u8,
#define COMPARE_ENTRY(OP, EXPR)                              \
  FLOAT_BINARY_ENTRY(OP, EXPR) INT_BINARY_ENTRY(OP, EXPR)    \
  [EAGER_BINARY_##OP][EAGER_BOOL] = binary_##OP##_bool,
#define BOOL_BINARY_ENTRY(OP, EXPR) [EAGER_BINARY_##OP][EAGER_BOOL] = binary_##OP##_bool,
#define CHECKED_ENTRY(OP, EXPR) INT_BINARY_ENTRY(OP, EXPR)

static const binary_loop binary_table[EAGER_BINARY_COUNT][EAGER_DTYPE_COUNT] = {
    EAGER_FLOAT_BINARY(FLOAT_BINARY_ENTRY) EAGER_INT_BINARY(INT_BINARY_ENTRY)
        EAGER_COMPARE(COMPARE_ENTRY) EAGER_BOOL_BINARY(BOOL_BINARY_ENTRY)
            CHECKED_ENTRY(FLOOR_DIV, 0) CHECKED_ENTRY(MOD, 0) CHECKED_ENTRY(POW, 0)};

static int unary_is_predicate(int op) {
  return op == EAGER_UNARY_IS_NAN || op == EAGER_UNARY_IS_FINITE || op == EAGER_UNARY_IS_INF;
}

static int binary_is_compare(int op) {
  return op >= EAGER_BINARY_EQUAL && op <= EAGER_BINARY_GREATER_EQUAL;
}

/* Transcendental ops are worth splitting over threads at smaller sizes. */
static int64_t unary_grain(int op) {
  switch (op) {
    case EAGER_UNARY_NEG:
    case EAGER_UNARY_ABS:
    case EAGER_UNARY_SQUARE:
    case EAGER_UNARY_RELU:
    case EAGER_UNARY_RELU6:
    case EAGER_UNARY_LOGICAL_NOT:
    case EAGER_UNARY_IS_NAN:
      return EAGER_GRAIN_CHEAP;
    default:
      return EAGER_GRAIN_COSTLY;
  }
}

/* ---- entry points ---------------------------------------------------------------- */

static int unary_segment(void *ctx, int64_t n, char *const *ptrs, const int64_t *steps) {
  ((unary_loop)ctx)(n, ptrs[0], ptrs[1], steps[1]);
  return EAGER_OK;
}

static int run_unary(int op, int dtype, eager_iter *it, void *out, const void *x,
                     int64_t x_offset) {
  if (op < 0 || op >= EAGER_UNARY_COUNT || !eager_dtype_valid(dtype)) return EAGER_ERR_ARGUMENT;
  unary_loop loop = unary_table[op][dtype];
  if (!loop) return EAGER_ERR_DTYPE;
  size_t size = eager_dtype_size(dtype);
  size_t sizes[2] = {unary_is_predicate(op) ? 1 : size, size};
  char *base[2] = {out, (char *)x + x_offset * (int64_t)size};
  return eager_walk(it, base, sizes, unary_grain(op), unary_segment, (void *)loop);
}

EAGER_API int32_t eager_unary_flat(int32_t op, int32_t dtype, int64_t n, void *out,
                                   const void *x, int64_t x_offset) {
  if (n < 0) return EAGER_ERR_ARGUMENT;
  eager_iter it = {.rank = 1, .nops = 2, .shape = {n}, .strides = {{1}, {1}}, .rows = 1,
                   .inner = n};
  return run_unary(op, dtype, &it, out, x, x_offset);
}

EAGER_API int32_t eager_unary(int32_t op, int32_t dtype, int32_t rank, const int64_t *shape,
                              void *out, const void *x, int64_t x_offset,
                              const int64_t *x_strides) {
  if (!eager_shape_valid(rank, shape)) return EAGER_ERR_ARGUMENT;
  int64_t out_strides[EAGER_MAX_RANK];
  eager_dense_strides(rank, shape, out_strides);
  const int64_t *strides[2] = {out_strides, x_strides};
  eager_iter it;
  eager_iter_init(&it, rank, shape, 2, strides);
  return run_unary(op, dtype, &it, out, x, x_offset);
}

static int binary_segment(void *ctx, int64_t n, char *const *ptrs, const int64_t *steps) {
  return ((binary_loop)ctx)(n, ptrs[0], ptrs[1], steps[1], ptrs[2], steps[2]);
}

static int run_binary(int op, int dtype, eager_iter *it, void *out, const void *a,
                      int64_t a_offset, const void *b, int64_t b_offset) {
  if (op < 0 || op >= EAGER_BINARY_COUNT || !eager_dtype_valid(dtype))
    return EAGER_ERR_ARGUMENT;
  binary_loop loop = binary_table[op][dtype];
  if (!loop) return EAGER_ERR_DTYPE;
  size_t size = eager_dtype_size(dtype);
  size_t sizes[3] = {binary_is_compare(op) ? 1 : size, size, size};
  char *base[3] = {out, (char *)a + a_offset * (int64_t)size,
                   (char *)b + b_offset * (int64_t)size};
  int64_t grain = op == EAGER_BINARY_POW || op == EAGER_BINARY_ATAN2 ? EAGER_GRAIN_COSTLY
                                                                     : EAGER_GRAIN_CHEAP;
  return eager_walk(it, base, sizes, grain, binary_segment, (void *)loop);
}

EAGER_API int32_t eager_binary_flat(int32_t op, int32_t dtype, int64_t n, void *out,
                                    const void *a, int64_t a_offset, int32_t a_step,
                                    const void *b, int64_t b_offset, int32_t b_step) {
  if (n < 0 || (a_step != 0 && a_step != 1) || (b_step != 0 && b_step != 1))
    return EAGER_ERR_ARGUMENT;
  eager_iter it = {.rank = 1, .nops = 3, .shape = {n}, .strides = {{1}, {a_step}, {b_step}},
                   .rows = 1, .inner = n};
  return run_binary(op, dtype, &it, out, a, a_offset, b, b_offset);
}

EAGER_API int32_t eager_binary(int32_t op, int32_t dtype, int32_t rank, const int64_t *shape,
                               void *out, const void *a, int64_t a_offset,
                               const int64_t *a_strides, const void *b, int64_t b_offset,
                               const int64_t *b_strides) {
  if (!eager_shape_valid(rank, shape)) return EAGER_ERR_ARGUMENT;
  int64_t out_strides[EAGER_MAX_RANK];
  eager_dense_strides(rank, shape, out_strides);
  const int64_t *strides[3] = {out_strides, a_strides, b_strides};
  eager_iter it;
  eager_iter_init(&it, rank, shape, 3, strides);
  return run_binary(op, dtype, &it, out, a, a_offset, b, b_offset);
}

/* where() moves bytes: one loop per element size serves every dtype. */
#define WHERE_LOOP(NAME, TYPE)                                                           \
  static int NAME(void *ctx, int64_t n, char *const *p, const int64_t *s) {             \
    (void)ctx;                                                                           \
    TYPE *o = (TYPE *)p[0];                                                              \
    const uint8_t *c = (const uint8_t *)p[1];                                            \
    const TYPE *a = (const TYPE *)p[2], *b = (const TYPE *)p[3];                         \
    for (int64_t i = 0; i < n; i++) o[i] = c[i * s[1]] ? a[i * s[2]] : b[i * s[3]];      \
    return EAGER_OK;                                                                     \
  }
WHERE_LOOP(where_1, uint8_t)
WHERE_LOOP(where_4, uint32_t)
WHERE_LOOP(where_8, uint64_t)

EAGER_API int32_t eager_where(int32_t dtype, int32_t rank, const int64_t *shape, void *out,
                              const void *cond, int64_t cond_offset,
                              const int64_t *cond_strides, const void *a, int64_t a_offset,
                              const int64_t *a_strides, const void *b, int64_t b_offset,
                              const int64_t *b_strides) {
  if (!eager_shape_valid(rank, shape) || !eager_dtype_valid(dtype)) return EAGER_ERR_ARGUMENT;
  int64_t out_strides[EAGER_MAX_RANK];
  eager_dense_strides(rank, shape, out_strides);
  const int64_t *strides[4] = {out_strides, cond_strides, a_strides, b_strides};
  eager_iter it;
  eager_iter_init(&it, rank, shape, 4, strides);
  int64_t size = (int64_t)eager_dtype_size(dtype);
  size_t sizes[4] = {(size_t)size, 1, (size_t)size, (size_t)size};
  char *base[4] = {out, (char *)cond + cond_offset, (char *)a + a_offset * size,
                   (char *)b + b_offset * size};
  eager_segment_fn fn = size == 8 ? where_8 : size == 4 ? where_4 : where_1;
  return eager_walk(&it, base, sizes, EAGER_GRAIN_CHEAP, fn, NULL);
}

/* ---- fused chains (eager_fused_elementwise) ------------------------------------------- */

/* Elements per block: a chain's intermediates live in block-sized temporaries (L1-resident)
 * instead of whole arrays. */
#define FUSED_BLOCK 512
#define FUSED_STACK_BYTES 16384

static const char *fused_operand(int32_t k, int32_t n_inputs, const uint64_t *inputs,
                                 const int32_t *input_steps, char *const *results,
                                 int64_t start, size_t size, int64_t *step) {
  if (k < n_inputs) {
    *step = input_steps[k];
    return (const char *)(uintptr_t)inputs[k] + (input_steps[k] ? start * (int64_t)size : 0);
  }
  *step = 1;
  return results[k - n_inputs];
}

EAGER_API int32_t eager_fused_elementwise(int32_t dtype, int64_t n, int32_t n_steps,
                                          const int32_t *program, int32_t n_inputs,
                                          const uint64_t *inputs, const int32_t *input_steps,
                                          const uint64_t *outputs, const int32_t *output_slots) {
  if (n < 0 || n_steps < 1 || n_steps > EAGER_MAX_FUSED_STEPS || n_inputs < 1 ||
      !eager_dtype_valid(dtype))
    return EAGER_ERR_ARGUMENT;
  for (int32_t s = 0; s < n_steps; s++) {
    const int32_t *p = program + 4 * s;
    int unary = p[0] == 0;
    if (p[0] != 0 && p[0] != 1) return EAGER_ERR_ARGUMENT;
    if (unary ? (p[1] < 0 || p[1] >= EAGER_UNARY_COUNT || unary_is_predicate(p[1]) ||
                 !unary_table[p[1]][dtype])
              : (p[1] < 0 || p[1] >= EAGER_BINARY_COUNT || binary_is_compare(p[1]) ||
                 !binary_table[p[1]][dtype]))
      return EAGER_ERR_ARGUMENT;
    for (int o = 0; o < (unary ? 1 : 2); o++) {
      if (p[2 + o] < 0 || p[2 + o] >= n_inputs + s) return EAGER_ERR_ARGUMENT;
    }
  }
  size_t size = eager_dtype_size(dtype);
  /* Temporaries of one block per step: on the stack when small (a short chain of small
   * tensors, where a malloc would cost more than the arithmetic). */
  int64_t block = n < FUSED_BLOCK ? (n > 0 ? n : 1) : FUSED_BLOCK;
  size_t temp_bytes = (size_t)n_steps * (size_t)block * size;
  _Alignas(64) char local[FUSED_STACK_BYTES];
  char *temps = temp_bytes <= sizeof local ? local : malloc(temp_bytes);
  if (!temps) return EAGER_ERR_NO_MEMORY;
  char *results[EAGER_MAX_FUSED_STEPS];
  int32_t status = EAGER_OK;
  for (int64_t start = 0; start < n && status == EAGER_OK; start += block) {
    int64_t count = n - start < block ? n - start : block;
    for (int32_t s = 0; s < n_steps && status == EAGER_OK; s++) {
      const int32_t *p = program + 4 * s;
      results[s] = output_slots[s] >= 0
                       ? (char *)(uintptr_t)outputs[output_slots[s]] + start * (int64_t)size
                       : temps + (size_t)s * (size_t)block * size;
      int64_t sa, sb;
      const char *a = fused_operand(p[2], n_inputs, inputs, input_steps, results, start, size, &sa);
      if (p[0] == 0) {
        unary_table[p[1]][dtype](count, results[s], a, sa);
      } else {
        const char *b = fused_operand(p[3], n_inputs, inputs, input_steps, results, start, size,
                                      &sb);
        status = binary_table[p[1]][dtype](count, results[s], a, sa, b, sb);
      }
    }
  }
  if (temps != local) free(temps);
  return status;
}
