/**
 * WGSL for the elementwise families on the WebGPU device (unary, binary, where and the
 * strided copy that casts, concatenates, pads and tiles): one shader per (op, dtype),
 * walking any layout. The output of unary / binary / where is dense; every operand is read
 * through its own strides from its own offset, so broadcasting (stride 0) and strided views
 * need no copy. Dtypes are stored as src/backend/webgpu/types.ts says.
 *
 * The walk's parameters travel in a small storage buffer of i32 (see `walkWords`):
 * [n, rank, operands, 0, offsets[0..3], shape[0..7], strides[0..3][0..7]].
 * @module
 */
import type { DType } from "../../dtype.ts";
import { Binary, Unary } from "../../native/codes.ts";
import { convert, declare, load, PRELUDE, store } from "./types.ts";

/** The largest rank the shaders walk. */
export const MAX_RANK = 8;
/** Threads per workgroup. */
export const WORKGROUP = 64;
/** The most operands a walk follows. */
const MAX_OPERANDS = 4;

/** An elementwise rule: a WGSL expression of `a` (and `b`), and its dtype when not the input's. */
export interface Rule {
  readonly expr: string;
  readonly out?: DType;
}
type Rules = Partial<Record<number, string | Rule>>;

const BOOL_OUT = (expr: string): Rule => ({ expr: `u32(${expr})`, out: "bool" });
/** A float32 word's bits: NaN and infinity tests that no fast-math rewrite can drop. */
const BITS = "(bitcast<u32>(a) & 0x7fffffffu)";

/** Unary rules, by dtype and eager_unary_op code (csrc/kernels/elementwise_ops.h). */
const UNARY: Partial<Record<DType, Rules>> = {
  float32: {
    [Unary.NEG]: "-a",
    [Unary.ABS]: "abs(a)",
    [Unary.SIGN]: "select(sign(a), a, is_nan_f32(a))", // sign(NaN) is NaN, as the CPU's
    [Unary.EXP]: "exp(a)",
    [Unary.LOG]: "log_f32(a)",
    [Unary.LOG1P]: "log1p_f32(a)",
    [Unary.EXPM1]: "expm1_f32(a)",
    [Unary.SQRT]: "sqrt(a)",
    [Unary.RSQRT]: "1.0 / sqrt(a)",
    [Unary.SQUARE]: "a * a",
    [Unary.RECIPROCAL]: "1.0 / a",
    [Unary.SIN]: "sin(a)",
    [Unary.COS]: "cos(a)",
    [Unary.TAN]: "tan(a)",
    [Unary.ASIN]: "asin_f32(a)",
    [Unary.ACOS]: "acos_f32(a)",
    [Unary.ATAN]: "atan_f32(a)",
    [Unary.SINH]: "sinh_f32(a)",
    [Unary.COSH]: "cosh_f32(a)",
    [Unary.TANH]: "tanh_f32(a)",
    [Unary.SIGMOID]: "1.0 / (1.0 + exp(-a))",
    [Unary.RELU]: "select(a, 0.0, a < 0.0)",
    [Unary.RELU6]: "select(select(a, 6.0, a > 6.0), 0.0, a < 0.0)",
    [Unary.ELU]: "select(a, expm1_f32(a), a < 0.0)",
    [Unary.SOFTPLUS]: "log1p_f32(exp(-abs(a))) + max(a, 0.0)",
    [Unary.FLOOR]: "floor(a)",
    [Unary.CEIL]: "ceil(a)",
    [Unary.ROUND]: "round(a)", // half to even, as rint
    [Unary.ERF]: "erf_f32(a)",
    [Unary.IS_NAN]: BOOL_OUT(`${BITS} > 0x7f800000u`),
    [Unary.IS_FINITE]: BOOL_OUT(`${BITS} < 0x7f800000u`),
    [Unary.IS_INF]: BOOL_OUT(`${BITS} == 0x7f800000u`),
  },
  int32: {
    [Unary.NEG]: "-a",
    [Unary.ABS]: "select(a, -a, a < 0)",
    [Unary.SIGN]: "sign(a)",
    [Unary.SQUARE]: "a * a",
    [Unary.RELU]: "max(a, 0)",
    [Unary.RELU6]: "clamp(a, 0, 6)",
  },
  int64: {
    [Unary.NEG]: "neg64(a)",
    [Unary.ABS]: "select(a, neg64(a), a.y < 0)",
    [Unary.SIGN]: "sign64(a)",
    [Unary.SQUARE]: "mul64(a, a)",
    [Unary.RELU]: "select(a, vec2<i32>(0), a.y < 0)",
    [Unary.RELU6]: "min64(select(a, vec2<i32>(0), a.y < 0), vec2<i32>(6, 0))",
  },
  uint8: {
    [Unary.NEG]: "(0u - a) & 0xffu",
    [Unary.ABS]: "a",
    [Unary.SIGN]: "min(a, 1u)",
    [Unary.SQUARE]: "(a * a) & 0xffu",
    [Unary.RELU]: "a",
    [Unary.RELU6]: "min(a, 6u)",
  },
  bool: { [Unary.LOGICAL_NOT]: "1u - a" },
};

/** Comparisons of value types WGSL compares directly. */
const COMPARE: Rules = {
  [Binary.EQUAL]: BOOL_OUT("a == b"),
  [Binary.NOT_EQUAL]: BOOL_OUT("a != b"),
  [Binary.LESS]: BOOL_OUT("a < b"),
  [Binary.LESS_EQUAL]: BOOL_OUT("a <= b"),
  [Binary.GREATER]: BOOL_OUT("a > b"),
  [Binary.GREATER_EQUAL]: BOOL_OUT("a >= b"),
};

/** Binary rules, by dtype and eager_binary_op code (csrc/kernels/elementwise_ops.h). */
const BINARY: Partial<Record<DType, Rules>> = {
  float32: {
    ...COMPARE,
    [Binary.ADD]: "a + b",
    [Binary.SUB]: "a - b",
    [Binary.MUL]: "a * b",
    [Binary.DIV]: "a / b",
    [Binary.POW]: "pow_f32(a, b)",
    // NaN from either side propagates, as NumPy's maximum (and the CPU's): b wins unless a
    // is greater or NaN, and a NaN b is never smaller.
    [Binary.MAX]: "select(b, a, a > b || is_nan_f32(a))",
    [Binary.MIN]: "select(b, a, a < b || is_nan_f32(a))",
    [Binary.SQUARED_DIFFERENCE]: "(a - b) * (a - b)",
    [Binary.FLOOR_DIV]: "floor(a / b)",
    [Binary.MOD]: "fmod_floor_f32(a, b)",
    [Binary.ATAN2]: "atan2_f32(a, b)",
    [Binary.RELU_GRAD]: "select(0.0, a, b > 0.0)",
  },
  int32: {
    ...COMPARE,
    [Binary.ADD]: "a + b",
    [Binary.SUB]: "a - b",
    [Binary.MUL]: "a * b",
    [Binary.MAX]: "max(a, b)",
    [Binary.MIN]: "min(a, b)",
    [Binary.SQUARED_DIFFERENCE]: "(a - b) * (a - b)",
    [Binary.FLOOR_DIV]: "floordiv_i32(a, b)",
    [Binary.MOD]: "floormod_i32(a, b)",
    [Binary.POW]: "pow_i32(a, b)",
  },
  int64: {
    [Binary.ADD]: "add64(a, b)",
    [Binary.SUB]: "add64(a, neg64(b))",
    [Binary.MUL]: "mul64(a, b)",
    [Binary.POW]: "pow64(a, b)",
    [Binary.MAX]: "max64(a, b)",
    [Binary.MIN]: "min64(a, b)",
    [Binary.SQUARED_DIFFERENCE]: "mul64(add64(a, neg64(b)), add64(a, neg64(b)))",
    [Binary.EQUAL]: BOOL_OUT("all(a == b)"),
    [Binary.NOT_EQUAL]: BOOL_OUT("any(a != b)"),
    [Binary.LESS]: BOOL_OUT("lt64(a, b)"),
    [Binary.LESS_EQUAL]: BOOL_OUT("!lt64(b, a)"),
    [Binary.GREATER]: BOOL_OUT("lt64(b, a)"),
    [Binary.GREATER_EQUAL]: BOOL_OUT("!lt64(a, b)"),
  },
  uint8: {
    ...COMPARE,
    [Binary.ADD]: "(a + b) & 0xffu",
    [Binary.SUB]: "(a - b) & 0xffu",
    [Binary.MUL]: "(a * b) & 0xffu",
    [Binary.POW]: "pow_u8(a, b)",
    [Binary.MAX]: "max(a, b)",
    [Binary.MIN]: "min(a, b)",
    [Binary.SQUARED_DIFFERENCE]: "((a - b) * (a - b)) & 0xffu",
  },
  bool: {
    ...COMPARE,
    [Binary.LOGICAL_AND]: "a & b",
    [Binary.LOGICAL_OR]: "a | b",
    [Binary.LOGICAL_XOR]: "a ^ b",
  },
};

/** The rule for (unary or binary, code, dtype), or undefined where the device has none. */
export function elementwiseRule(arity: 1 | 2, code: number, dtype: DType): Rule | undefined {
  const rule = (arity === 1 ? UNARY : BINARY)[dtype]?.[code];
  return typeof rule === "string" ? { expr: rule } : rule;
}

/**
 * Float functions WGSL lacks, written as the CPU's libm computes them (to float32 accuracy).
 * NOTE: also log, the inverse trigonometric and the hyperbolic functions, which WGSL has:
 * its accuracy rules let log err by 2^-21 absolute near 1 and asin, acos, atan and atan2
 * by 4,096 ulp, and sinh and tanh lose every digit near 0 through exp(a) - exp(-a). Mesa's
 * llvmpipe does all of that (asin off by 4e-4 relative, log1p(1e-7) = 1.2e-7), so these are
 * polynomials in the manner of Cephes' float functions, within a few ulp on any adapter.
 */
const FLOAT_PRELUDE = `
const PI_F32: f32 = 3.14159265358979;
const HALF_PI_F32: f32 = 1.57079632679490;
const LN2_F32: f32 = 0.693147180559945;
fn sign_bit_f32(a: f32) -> bool { return (bitcast<u32>(a) >> 31u) != 0u; }
// 2 atanh(s) = log((1 + s) / (1 - s)) for |s| <= 0.25, by its series.
fn log_series_f32(s: f32) -> f32 {
  let z = s * s;
  return 2.0 * s * (1.0 + z * (0.333333333 + z * (0.2 + z * (0.142857143 + z * (0.111111111 +
    z * 0.0909090909)))));
}
fn log_f32(x: f32) -> f32 {
  let bits = bitcast<u32>(x);
  if ((bits & 0x7fffffffu) == 0u) { return bitcast<f32>(0xff800000u); } // log(+-0) = -inf
  if ((bits & 0x7fffffffu) > 0x7f800000u) { return x; } // NaN
  if ((bits >> 31u) != 0u) { return bitcast<f32>(0x7fc00000u); } // negative
  if (bits == 0x7f800000u) { return x; } // +inf
  // x = m 2^e with m in [sqrt(1/2), sqrt(2)): log x = e log 2 + 2 atanh((m - 1) / (m + 1)).
  let parts = frexp(x);
  var m = parts.fract;
  var e = f32(parts.exp);
  if (m < 0.707106781) { m = m * 2.0; e = e - 1.0; }
  // log 2 in two pieces, so that e log 2 is exact to float32's precision for any e.
  return e * 0.693145751953125 + (log_series_f32((m - 1.0) / (m + 1.0)) + e * 1.42860682e-6);
}
fn log1p_f32(a: f32) -> f32 {
  // Near 0, log(1 + a) = 2 atanh(a / (2 + a)): no rounding of 1 + a.
  if (abs(a) < 0.4) { return log_series_f32(a / (2.0 + a)); }
  return log_f32(1.0 + a);
}
fn expm1_f32(a: f32) -> f32 {
  if (abs(a) < 0.35) {
    return a * (1.0 + a * (0.5 + a * (0.166666667 + a * (0.0416666667 + a * (0.00833333333 +
      a * (0.00138888889 + a * (0.000198412698 + a * 0.0000248015873)))))));
  }
  return exp(a) - 1.0;
}
fn sinh_f32(a: f32) -> f32 {
  let x = abs(a);
  var r: f32;
  if (x > 9.0) {
    r = exp(x - LN2_F32); // e^x / 2 without overflowing before e^x does
  } else {
    let m = expm1_f32(x);
    r = 0.5 * (m + m / (m + 1.0));
  }
  return select(r, -r, sign_bit_f32(a));
}
fn cosh_f32(a: f32) -> f32 {
  let x = abs(a);
  if (x > 9.0) { return exp(x - LN2_F32); }
  let e = exp(x);
  return 0.5 * (e + 1.0 / e);
}
fn tanh_f32(a: f32) -> f32 {
  let x = abs(a);
  var r: f32;
  if (x < 0.55) {
    let m = expm1_f32(2.0 * x);
    r = m / (m + 2.0);
  } else {
    r = 1.0 - 2.0 / (exp(2.0 * x) + 1.0);
  }
  return select(r, -r, sign_bit_f32(a));
}
// asin on [0, 0.5] by Cephes' polynomial (asinf.c), and beyond by asin(x) = pi/2 -
// 2 asin(sqrt((1 - x) / 2)).
fn asin_poly_f32(x: f32, z: f32) -> f32 {
  return x + x * z * ((((0.042163199048 * z + 0.024181311049) * z + 0.045470025998) * z +
    0.074953002686) * z + 0.16666752422);
}
fn asin_f32(a: f32) -> f32 {
  let x = abs(a);
  if (!(x <= 1.0)) { return bitcast<f32>(0x7fc00000u); } // NaN, or |a| > 1
  var r: f32;
  if (x > 0.5) {
    let z = 0.5 * (1.0 - x);
    r = HALF_PI_F32 - 2.0 * asin_poly_f32(sqrt(z), z);
  } else {
    r = asin_poly_f32(x, x * x);
  }
  return select(r, -r, sign_bit_f32(a));
}
fn acos_f32(a: f32) -> f32 {
  if (!(abs(a) <= 1.0)) { return bitcast<f32>(0x7fc00000u); }
  if (a < -0.5) { return PI_F32 - 2.0 * asin_f32(sqrt(0.5 * (1.0 + a))); }
  if (a > 0.5) { return 2.0 * asin_f32(sqrt(0.5 * (1.0 - a))); }
  return HALF_PI_F32 - asin_f32(a);
}
// atan by Cephes' reduction to |t| <= tan(pi / 8) and polynomial (atanf.c).
fn atan_f32(a: f32) -> f32 {
  let x = abs(a);
  var y = 0.0;
  var t = x;
  if (x > 2.41421356) {
    y = HALF_PI_F32;
    t = -1.0 / x;
  } else if (x > 0.414213562) {
    y = 0.785398163;
    t = (x - 1.0) / (x + 1.0);
  }
  let z = t * t;
  let r = y + ((((0.0805374449538 * z - 0.138776856032) * z + 0.199777106478) * z -
    0.333329491539) * z * t + t);
  return select(r, -r, sign_bit_f32(a));
}
// atan2 as C's: quadrants by the signs (zeros' included), +-pi/4 and +-3pi/4 for two
// infinities, +-0 and +-pi for two zeros.
fn atan2_f32(y: f32, x: f32) -> f32 {
  let ybits = bitcast<u32>(y);
  let xbits = bitcast<u32>(x);
  let ay = ybits & 0x7fffffffu;
  let ax = xbits & 0x7fffffffu;
  let left = (xbits >> 31u) != 0u;
  var r: f32;
  if (ay == 0u && ax == 0u) {
    r = select(0.0, PI_F32, left);
  } else if (ay == 0x7f800000u && ax == 0x7f800000u) {
    r = select(0.785398163, 2.35619449, left);
  } else {
    r = atan_f32(abs(y) / abs(x));
    if (left) { r = PI_F32 - r; }
  }
  return select(r, -r, (ybits >> 31u) != 0u);
}
// erf by Abramowitz and Stegun 7.1.26 refined: |error| < 1.2e-7.
fn erf_f32(x: f32) -> f32 {
  let z = abs(x);
  let t = 1.0 / (1.0 + 0.5 * z);
  let r = t * exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
    t * (-0.82215223 + t * 0.17087277)))))))));
  return select(1.0 - r, r - 1.0, x < 0.0);
}
// pow as C's: a negative base takes an integer exponent's parity; otherwise NaN.
fn pow_f32(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  let m = pow(abs(a), b);
  if (a >= 0.0) { return m; }
  if (floor(b) != b) { return bitcast<f32>(0x7fc00000u); }
  return select(m, -m, floor(b * 0.5) * 2.0 != b);
}
fn fmod_floor_f32(a: f32, b: f32) -> f32 {
  let r = a - b * trunc(a / b);
  return select(r, r + b, r != 0.0 && ((r < 0.0) != (b < 0.0)));
}
`;

/** FLOAT_PRELUDE's declarations (each with the comment lines above it), by name. */
const FLOAT_DECLARATIONS: ReadonlyMap<string, string> = (() => {
  const declarations = new Map<string, string>();
  let comments = "";
  for (const piece of FLOAT_PRELUDE.split(/\n(?=\/\/|fn |const )/)) {
    const name = /^(?:fn|const) (\w+)/.exec(piece)?.[1];
    if (name) {
      declarations.set(name, comments + piece.trimEnd() + "\n");
      comments = "";
    } else if (piece.trim()) comments += piece.trimEnd() + "\n";
  }
  return declarations;
})();

/**
 * The FLOAT_PRELUDE declarations `code` uses, and those they use in turn. NOTE: a shader
 * carries only these (an add none): with the whole prelude each new pipeline took 1.5-2 ms
 * more on llvmpipe (the first tanh, atan, log1p or exp of a fresh process and its read 17.4-18.9
 * ms against 15.5-17.3, three alternating runs).
 */
export function floatFunctions(code: string): string {
  const used = new Set<string>();
  const visit = (text: string) => {
    for (const [name, declaration] of FLOAT_DECLARATIONS) {
      if (used.has(name) || !new RegExp(`\\b${name}\\b`).test(text)) continue;
      used.add(name);
      visit(declaration.replace(new RegExp(`^(?:fn|const) ${name}\\b`, "m"), ""));
    }
  };
  visit(code);
  return [...FLOAT_DECLARATIONS].filter(([name]) => used.has(name)).map(([, d]) => d).join("");
}

/**
 * A shader walking the layout words' shape with one thread an element: `i` is the element's
 * row-major position, `o0`, `o1`, ... its index in each of `operands` strided operands.
 */
export function walkShader(operands: number, declarations: string, body: string): string {
  const indices = Array.from({ length: operands }, (_, k) => k);
  return `${PRELUDE}${floatFunctions(declarations + body)}
@group(0) @binding(0) var<storage, read> p: array<i32>;
${declarations}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = i32(id.x + id.y * groups.x * ${WORKGROUP}u);
  if (i >= p[0]) { return; }
  var rest = i;
  ${indices.map((k) => `var o${k} = p[${4 + k}];`).join(" ")}
  for (var d = p[1] - 1; d >= 0; d--) {
    let dim = p[${8} + d];
    let c = rest % dim;
    rest = rest / dim;
    ${indices.map((k) => `o${k} += c * p[${16 + k * MAX_RANK} + d];`).join(" ")}
  }
  ${body}
}
`;
}

/** The shader of one elementwise rule: out (dense, `outDtype`) = rule(x[, y]) of `dtype`. */
export function elementwiseShader(arity: 1 | 2, rule: Rule, dtype: DType): string {
  const out = rule.out ?? dtype;
  const binary = arity === 2;
  return walkShader(
    arity,
    [declare(out, "out", 1, true), declare(dtype, "x", 2), binary ? declare(dtype, "y", 3) : ""]
      .join("\n"),
    `let a = ${load(dtype, "x", "o0")};
  ${binary ? `let b = ${load(dtype, "y", "o1")};` : ""}
  ${store(out, "out", "i", rule.expr)}`,
  );
}

/** out (dense) = cond ? a : b, all three broadcast. */
export function whereShader(dtype: DType): string {
  return walkShader(
    3,
    [declare(dtype, "out", 1, true), declare("bool", "c", 2), declare(dtype, "x", 3)]
      .concat(declare(dtype, "y", 4)).join("\n"),
    `if (c[o0] != 0u) { ${store(dtype, "out", "i", load(dtype, "x", "o1"))} }
  else { ${store(dtype, "out", "i", load(dtype, "y", "o2"))} }`,
  );
}

/**
 * The shader of a strided copy: reads x through its strides and writes `out` through the
 * destination's (the walk's second operand), converting the dtype.
 */
export function copyShader(from: DType, to: DType): string {
  return walkShader(
    2,
    `${declare(to, "out", 1, true)}\n${declare(from, "x", 2)}`,
    store(to, "out", "o1", convert(from, to, load(from, "x", "o0"))),
  );
}

/** A strided operand of a walk. */
export interface WalkOperand {
  readonly offset: number;
  readonly strides: readonly number[];
}

/** The parameter words of a walk over `shape` (n elements) following `operands`. */
export function walkWords(
  shape: readonly number[],
  n: number,
  operands: readonly WalkOperand[],
): Int32Array {
  const words = new Int32Array(16 + MAX_OPERANDS * MAX_RANK);
  words.set([n, shape.length, operands.length]);
  words.set(shape, 8);
  operands.forEach((o, k) => {
    words[4 + k] = o.offset;
    words.set(o.strides, 16 + k * MAX_RANK);
  });
  return words;
}

/** Workgroups for n threads: a 2-D grid past WebGPU's 65,535 per dimension. */
export function workgroups(n: number): [number, number] {
  const groups = Math.ceil(n / WORKGROUP);
  if (groups <= 65535) return [groups, 1];
  return [65535, Math.ceil(groups / 65535)];
}
