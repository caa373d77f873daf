/**
 * The op codes of libeager's kernel families, in the order of the enums in
 * csrc/include/eager.h (tests/native_test.ts checks the order against the header).
 * @module
 */

function codes<K extends string>(names: readonly K[]): Record<K, number> {
  return Object.fromEntries(names.map((name, i) => [name, i])) as Record<K, number>;
}

/** eager_unary_op */
const UNARY_NAMES = [
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
] as const;
export const Unary: Record<(typeof UNARY_NAMES)[number], number> = codes(UNARY_NAMES);

/** eager_binary_op */
const BINARY_NAMES = [
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
  "RELU_GRAD",
  "EQUAL",
  "NOT_EQUAL",
  "LESS",
  "LESS_EQUAL",
  "GREATER",
  "GREATER_EQUAL",
  "LOGICAL_AND",
  "LOGICAL_OR",
  "LOGICAL_XOR",
] as const;
export const Binary: Record<(typeof BINARY_NAMES)[number], number> = codes(BINARY_NAMES);

/** eager_reduce_op */
const REDUCE_NAMES = [
  "SUM",
  "MEAN",
  "PROD",
  "MAX",
  "MIN",
  "ALL",
  "ANY",
  "ARGMAX",
  "ARGMIN",
] as const;
export const Reduce: Record<(typeof REDUCE_NAMES)[number], number> = codes(REDUCE_NAMES);

/** eager_random_dist */
const RANDOM_NAMES = ["UNIFORM", "NORMAL", "TRUNCATED_NORMAL"] as const;
export const RandomDist: Record<(typeof RANDOM_NAMES)[number], number> = codes(RANDOM_NAMES);

/** eager_update_rule */
const UPDATE_NAMES = [
  "SGD",
  "MOMENTUM",
  "NESTEROV",
  "ADAM",
  "ADAGRAD",
  "RMSPROP",
  "CENTERED_RMSPROP",
] as const;
export const UpdateRule: Record<(typeof UPDATE_NAMES)[number], number> = codes(UPDATE_NAMES);

/** eager_activation */
const ACTIVATION_NAMES = ["NONE", "RELU"] as const;
export const Activation: Record<(typeof ACTIVATION_NAMES)[number], number> = codes(
  ACTIVATION_NAMES,
);

/** eager_cpu: the names `EAGER_CPU` takes, by level code. */
export const CPU_LEVELS = ["v2", "v3", "v4", "neon"] as const;
