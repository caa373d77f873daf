/*
 * The scalar rule of every elementwise op, per dtype family, as expressions in `x`
 * (unary) or `a`, `b` (binary). elementwise.c instantiates one loop per (op, dtype)
 * from these lists, so each rule is written once.
 *
 * Each list entry is X(OP, EXPR). Float expressions use <tgmath.h> names, so one
 * expression serves float and double; `T` is the element type.
 */
#ifndef EAGER_ELEMENTWISE_OPS_H
#define EAGER_ELEMENTWISE_OPS_H

#include <math.h>
#include <stdint.h>
#include <tgmath.h>

/* NOTE: sign keeps NaN and signed zeros (x is returned when it is neither > 0 nor < 0). */
#define EAGER_FLOAT_UNARY(X)                                       \
  X(NEG, -x)                                                       \
  X(ABS, fabs(x))                                                  \
  X(SIGN, x > 0 ? (T)1 : (x < 0 ? (T)-1 : x))                      \
  X(EXP, eager_exp(x))                                             \
  X(LOG, log(x))                                                   \
  X(LOG1P, log1p(x))                                               \
  X(EXPM1, expm1(x))                                               \
  X(SQRT, sqrt(x))                                                 \
  X(RSQRT, (T)1 / sqrt(x))                                         \
  X(SQUARE, x *x)                                                  \
  X(RECIPROCAL, (T)1 / x)                                          \
  X(SIN, sin(x))                                                   \
  X(COS, cos(x))                                                   \
  X(TAN, tan(x))                                                   \
  X(ASIN, asin(x))                                                 \
  X(ACOS, acos(x))                                                 \
  X(ATAN, atan(x))                                                 \
  X(SINH, sinh(x))                                                 \
  X(COSH, cosh(x))                                                 \
  X(TANH, eager_tanh(x))                                           \
  X(SIGMOID, eager_sigmoid(x))                                     \
  X(RELU, x < 0 ? (T)0 : x)                                        \
  X(RELU6, x < 0 ? (T)0 : (x > 6 ? (T)6 : x))                      \
  X(ELU, x < 0 ? expm1(x) : x)                                     \
  X(SOFTPLUS, log1p(eager_exp(-fabs(x))) + (x > 0 ? x : (T)0))     \
  X(FLOOR, floor(x))                                               \
  X(CEIL, ceil(x))                                                 \
  X(ROUND, rint(x))                                                \
  X(ERF, erf(x))

/* Predicates on floats write bool. */
#define EAGER_FLOAT_PREDICATE(X) \
  X(IS_NAN, x != x)              \
  X(IS_FINITE, isfinite(x))      \
  X(IS_INF, isinf(x))

/* NOTE: integer negation and abs wrap at the minimum (two's complement, -fwrapv). */
#define EAGER_INT_UNARY(X)                        \
  X(NEG, (T)(-x))                                 \
  X(ABS, (T)(x < 0 ? -x : x))                     \
  X(SIGN, (T)(x > 0 ? 1 : (x < 0 ? -1 : 0)))      \
  X(SQUARE, (T)(x * x))                           \
  X(RELU, (T)(x < 0 ? 0 : x))                     \
  X(RELU6, (T)(x < 0 ? 0 : (x > 6 ? 6 : x)))

#define EAGER_BOOL_UNARY(X) X(LOGICAL_NOT, (T)!x)

/* NOTE: maximum and minimum propagate NaN from either side, as NumPy does. */
#define EAGER_FLOAT_BINARY(X)                                      \
  X(ADD, a + b)                                                    \
  X(SUB, a - b)                                                    \
  X(MUL, a *b)                                                     \
  X(DIV, a / b)                                                    \
  X(POW, pow(a, b))                                                \
  X(MAX, (a > b || a != a) ? a : b)                                \
  X(MIN, (a < b || a != a) ? a : b)                                \
  X(SQUARED_DIFFERENCE, (a - b) * (a - b))                         \
  X(FLOOR_DIV, floor(a / b))                                       \
  X(MOD, eager_fmod_floor(a, b))                                   \
  X(ATAN2, atan2(a, b))                                          \
  X(RELU_GRAD, b > 0 ? a : (T)0)

/* Integer ops that cannot fail; division, modulo and power have their own loops. */
#define EAGER_INT_BINARY(X)                       \
  X(ADD, (T)(a + b))                              \
  X(SUB, (T)(a - b))                              \
  X(MUL, (T)(a * b))                              \
  X(MAX, a > b ? a : b)                           \
  X(MIN, a < b ? a : b)                           \
  X(SQUARED_DIFFERENCE, (T)((a - b) * (a - b)))

#define EAGER_COMPARE(X)           \
  X(EQUAL, a == b)                 \
  X(NOT_EQUAL, a != b)             \
  X(LESS, a < b)                   \
  X(LESS_EQUAL, a <= b)            \
  X(GREATER, a > b)                \
  X(GREATER_EQUAL, a >= b)

#define EAGER_BOOL_BINARY(X)          \
  X(LOGICAL_AND, (T)(a && b))         \
  X(LOGICAL_OR, (T)(a || b))          \
  X(LOGICAL_XOR, (T)((!a) != (!b)))

/*
 * e^x for float without a libm call per element, so loops over it vectorise (glibc's
 * expf is an opaque scalar call: 2 ns an element). Computed in double as 2^k * e^r with
 * k = round(x / ln 2), |r| <= ln2 / 2, and the Taylor polynomial of degree 8, whose
 * truncation error (2e-10 relative) is far below float's half ulp (3e-8), so the result
 * is the correctly rounded e^x except when e^x lies within ~2e-10 of a rounding midpoint.
 * NOTE: x is clamped to [-160, 160] (NaN passes through the comparisons untouched), so k
 * stays within double's normal exponents and the final rounding to float produces
 * overflow to inf, subnormals and underflow to 0 exactly as float arithmetic would.
 */
#define eager_exp(x) _Generic((x), float: eager_expf, double: exp)(x)
static inline double eager_exp_core(double x);
static inline float eager_expf(float xf) {
  double x = xf < -160.0f ? -160.0 : (xf > 160.0f ? 160.0 : (double)xf);
  return (float)eager_exp_core(x);
}

/* e^x in double for x in [-160, 160], to 2e-10 relative (see eager_expf). */
static inline double eager_exp_core(double x) {
  const double shift = 0x1.8p52, log2e = 0x1.71547652b82fep0, ln2 = 0x1.62e42fefa39efp-1;
  double shifted = x * log2e + shift; /* the nearest integer k sits in the low bits */
  double k = shifted - shift, r = x - k * ln2;
  uint64_t bits;
  __builtin_memcpy(&bits, &shifted, sizeof bits);
  uint64_t scale_bits = (bits + 1023) << 52; /* low 12 bits of bits + 1023 = k + 1023 */
  double scale;
  __builtin_memcpy(&scale, &scale_bits, sizeof scale);
  double p = 1.0 / 40320;
  p = p * r + 1.0 / 5040;
  p = p * r + 1.0 / 720;
  p = p * r + 1.0 / 120;
  p = p * r + 1.0 / 24;
  p = p * r + 1.0 / 6;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  return p * scale;
}

/*
 * tanh for float without a libm call per element (glibc's tanhf is an opaque scalar
 * call: 12 ns an element, the cost of an LSTM step's two tanh), in double:
 * - |x| < 1/16: the odd Taylor polynomial to x^9 (next term < 1e-14 relative);
 * - otherwise (1 - e) / (1 + e) with e = e^(-2|x|) (no cancellation: 1 - e > 0.117),
 *   |x| clamped to 10, where tanh rounds to 1 in float.
 * Both are computed and one selected, so the loop vectorises; the sign is copied last.
 * Each is within 1e-9 relative of tanh before the final rounding to float.
 */
#define eager_tanh(x) _Generic((x), float: eager_tanhf, double: tanh)(x)
static inline float eager_tanhf(float xf) {
  double x = (double)xf, a = fabs(x), a2 = a * a;
  double small = a * (1.0 + a2 * (-1.0 / 3 + a2 * (2.0 / 15 + a2 * (-17.0 / 315 +
                                                                    a2 * (62.0 / 2835)))));
  double e = eager_exp_core(-2.0 * (a > 10.0 ? 10.0 : a));
  double large = (1.0 - e) / (1.0 + e);
  double t = a < 0.0625 ? small : large;
  return (float)copysign(t, x);
}

/* 1 / (1 + e^-|x|), mirrored for x < 0, so neither branch overflows. */
#define eager_sigmoid(x)                                        \
  _Generic((x), float: eager_sigmoid_f32, double: eager_sigmoid_f64)(x)
static inline float eager_sigmoid_f32(float x) {
  float e = eager_expf(-fabsf(x)), r = 1.0f / (1.0f + e);
  return x >= 0 ? r : e * r;
}
static inline double eager_sigmoid_f64(double x) {
  double e = exp(-fabs(x)), r = 1.0 / (1.0 + e);
  return x >= 0 ? r : e * r;
}

/* Python's modulo: the result takes the divisor's sign. */
#define eager_fmod_floor(a, b)                                        \
  _Generic((a), float: eager_fmod_floor_f32, double: eager_fmod_floor_f64)(a, b)
static inline float eager_fmod_floor_f32(float a, float b) {
  float r = fmodf(a, b);
  return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}
static inline double eager_fmod_floor_f64(double a, double b) {
  double r = fmod(a, b);
  return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}

#endif /* EAGER_ELEMENTWISE_OPS_H */
