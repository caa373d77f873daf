/**
 * The op codes of libeager's kernel families, in the order of the enums in
 * csrc/include/eager.h (tests/native_test.ts checks the order against the header).
 * @module
 */

function codes<const K extends string>(names: readonly K[]): Record<K, number> {
  return Object.fromEntries(names.map((name, i) => [name, i])) as Record<K, number>;
}

/** eager_unary_op */
export const Unary = codes([
  "NEG",
  "ABS",
  "SIGN",
  "EXP",
  "LOG",
  "LOG1P",
  "EXPM1",
  "SQRT",
  "RSQRT",
  "SQUARE",
  "RECIPROCAL",
  "SIN",
  "COS",
  "TAN",
  "ASIN",
  "ACOS",
  "ATAN",
  "SINH",
  "COSH",
  "TANH",
  "SIGMOID",
  "RELU",
  "RELU6",
  "ELU",
  "SOFTPLUS",
  "FLOOR",
  "CEIL",
  "ROUND",
  "ERF",
  "IS_NAN",
  "IS_FINITE",
  "IS_INF",
  "LOGICAL_NOT",
]);

/** eager_binary_op */
export const Binary = codes([
  "ADD",
  "SUB",
  "MUL",
  "DIV",
  "POW",
  "MAX",
  "MIN",
  "SQUARED_DIFFERENCE",
  "FLOOR_DIV",
  "MOD",
  "ATAN2",
  "EQUAL",
  "NOT_EQUAL",
  "LESS",
  "LESS_EQUAL",
  "GREATER",
  "GREATER_EQUAL",
  "LOGICAL_AND",
  "LOGICAL_OR",
  "LOGICAL_XOR",
]);

/** eager_reduce_op */
export const Reduce = codes([
  "SUM",
  "MEAN",
  "PROD",
  "MAX",
  "MIN",
  "ALL",
  "ANY",
  "ARGMAX",
  "ARGMIN",
]);

/** eager_random_dist */
export const RandomDist = codes(["UNIFORM", "NORMAL", "TRUNCATED_NORMAL"]);
