/**
 * How each dtype lives in WebGPU storage, and the WGSL that loads and stores it.
 *
 * Decisions (docs/webgpu.md, "Dtypes"):
 * - float32 and int32 are themselves (f32, i32).
 * - bool and uint8 take one u32 word an element. WGSL cannot address bytes, and packing
 *   four to a word would make neighbouring threads race on a word's writes; masks cost 4x
 *   the memory of the CPU's bytes, which a device that holds images and weights can afford.
 *   Uploads widen the bytes, reads narrow the words.
 * - int64 is emulated: two i32 words (low, high), the host's own layout, so uploads and
 *   reads copy bytes. Kernels work on `vec2<i32>` values with the carry written out
 *   (add64, mul64, ... below); indices read only the low word (no GPU buffer holds 2^31
 *   elements).
 * - float64 has no WGSL type: every op given one is an error naming the op and the dtype.
 * @module
 */
import type { DType } from "../../dtype.ts";

/** WGSL's storage element of a dtype's array. */
export type WordType = "f32" | "i32" | "u32";

/** A dtype the device holds: its storage word, words an element and WGSL value type. */
export interface DeviceType {
  readonly word: WordType;
  readonly words: 1 | 2;
  readonly value: string;
}

const DEVICE_TYPES: Partial<Record<DType, DeviceType>> = {
  float32: { word: "f32", words: 1, value: "f32" },
  int32: { word: "i32", words: 1, value: "i32" },
  uint8: { word: "u32", words: 1, value: "u32" },
  bool: { word: "u32", words: 1, value: "u32" },
  int64: { word: "i32", words: 2, value: "vec2<i32>" },
};

/** The device type of dtype, or undefined for float64. */
export function deviceType(dtype: DType): DeviceType | undefined {
  return DEVICE_TYPES[dtype];
}

/** Bytes an element of dtype takes in device storage. */
export function deviceItemSize(dtype: DType): number {
  return (DEVICE_TYPES[dtype]?.words ?? 2) * 4;
}

/** WGSL reading element `index` (an i32 expression) of array `name` of dtype as a value. */
export function load(dtype: DType, name: string, index: string): string {
  return DEVICE_TYPES[dtype]!.words === 2
    ? `vec2<i32>(${name}[2 * (${index})], ${name}[2 * (${index}) + 1])`
    : `${name}[${index}]`;
}

/** WGSL writing value `v` into element `index` of array `name` of dtype. */
export function store(dtype: DType, name: string, index: string, v: string): string {
  return DEVICE_TYPES[dtype]!.words === 2
    ? `{ let w = ${v}; ${name}[2 * (${index})] = w.x; ${name}[2 * (${index}) + 1] = w.y; }`
    : `${name}[${index}] = ${v};`;
}

/** A storage declaration of dtype's array at `binding`. */
export function declare(dtype: DType, name: string, binding: number, write = false): string {
  const access = write ? "read_write" : "read";
  return `@group(0) @binding(${binding}) var<storage, ${access}> ${name}: array<${
    DEVICE_TYPES[dtype]!.word
  }>;`;
}

/**
 * WGSL converting value `v` of dtype `from` to `to`, as the CPU's casts do
 * (csrc/kernels/cast.c): float -> integer truncates toward zero, saturates and maps NaN to
 * 0; integer -> narrower integer wraps; -> bool is `!= 0` (NaN is true).
 */
export function convert(from: DType, to: DType, v: string): string {
  if (from === to) return v;
  const src = from === "float32" ? "f" : from === "int64" ? "l" : from === "int32" ? "i" : "u";
  switch (to) {
    case "bool":
      return src === "l"
        ? `u32(any(${v} != vec2<i32>(0)))`
        : src === "f"
        ? `u32(${v} != 0.0 || is_nan_f32(${v}))`
        : `u32(${v} != ${zero(from)})`;
    case "float32":
      return src === "l" ? `i64_to_f32(${v})` : `f32(${v})`;
    case "int32":
      return src === "f" ? `f32_to_i32(${v})` : src === "l" ? `(${v}).x` : `i32(${v})`;
    case "uint8":
      return src === "f"
        ? `f32_to_u8(${v})`
        : src === "l"
        ? `(u32((${v}).x) & 0xffu)`
        : `(u32(${v}) & 0xffu)`;
    case "int64":
      return src === "f"
        ? `f32_to_i64(${v})`
        : src === "i"
        ? `vec2<i32>(${v}, select(0, -1, ${v} < 0))`
        : `vec2<i32>(i32(${v}), 0)`;
    default:
      throw new Error(`webgpu: no conversion ${from} -> ${to}`);
  }
}

/** WGSL's zero of dtype's value type. */
export function zero(dtype: DType): string {
  return { f32: "0.0", i32: "0", u32: "0u", "vec2<i32>": "vec2<i32>(0)" }[
    DEVICE_TYPES[dtype]!.value
  ]!;
}

/**
 * Functions every shader may call: conversions and int64 arithmetic on (low, high) pairs.
 * WGSL's i32 and u32 arithmetic wraps, which the carries below rely on.
 */
export const PRELUDE = `
// NaN by its bits: llvmpipe folds v != v to false.
fn is_nan_f32(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}
fn f32_to_i32(v: f32) -> i32 {
  if (is_nan_f32(v)) { return 0; }
  if (v >= 2147483648.0) { return 2147483647; }
  if (v <= -2147483648.0) { return -2147483647 - 1; }
  return i32(v);
}
fn f32_to_u8(v: f32) -> u32 {
  if (!(v > 0.0)) { return 0u; }
  if (v >= 255.0) { return 255u; }
  return u32(v);
}
// |v| split into 32-bit halves is exact: a float32 of 2^32 or more has no bits below 2^8.
fn f32_to_i64(v: f32) -> vec2<i32> {
  if (is_nan_f32(v)) { return vec2<i32>(0); }
  if (v >= 9223372036854775808.0) { return vec2<i32>(-1, 2147483647); }
  if (v <= -9223372036854775808.0) { return vec2<i32>(0, -2147483647 - 1); }
  let t = trunc(abs(v));
  let high = floor(t / 4294967296.0);
  let r = vec2<i32>(i32(u32(t - high * 4294967296.0)), i32(high));
  return select(r, neg64(r), v < 0.0);
}
fn i64_to_f32(v: vec2<i32>) -> f32 {
  return f32(v.y) * 4294967296.0 + f32(u32(v.x));
}
fn add64(a: vec2<i32>, b: vec2<i32>) -> vec2<i32> {
  let low = u32(a.x) + u32(b.x);
  return vec2<i32>(i32(low), a.y + b.y + i32(low < u32(a.x)));
}
fn neg64(a: vec2<i32>) -> vec2<i32> {
  return add64(vec2<i32>(~a.x, ~a.y), vec2<i32>(1, 0));
}
fn mulhi32(a: u32, b: u32) -> u32 {
  let al = a & 0xffffu;
  let ah = a >> 16u;
  let bl = b & 0xffffu;
  let bh = b >> 16u;
  let mid1 = ah * bl;
  let mid2 = al * bh;
  let low = al * bl;
  let carry = ((low >> 16u) + (mid1 & 0xffffu) + (mid2 & 0xffffu)) >> 16u;
  return ah * bh + (mid1 >> 16u) + (mid2 >> 16u) + carry;
}
fn mul64(a: vec2<i32>, b: vec2<i32>) -> vec2<i32> {
  let al = u32(a.x);
  let bl = u32(b.x);
  let high = mulhi32(al, bl) + al * u32(b.y) + u32(a.y) * bl;
  return vec2<i32>(i32(al * bl), i32(high));
}
fn lt64(a: vec2<i32>, b: vec2<i32>) -> bool {
  return a.y < b.y || (a.y == b.y && u32(a.x) < u32(b.x));
}
fn max64(a: vec2<i32>, b: vec2<i32>) -> vec2<i32> {
  return select(a, b, lt64(a, b));
}
fn min64(a: vec2<i32>, b: vec2<i32>) -> vec2<i32> {
  return select(a, b, lt64(b, a));
}
fn sign64(a: vec2<i32>) -> vec2<i32> {
  if (a.y < 0) { return vec2<i32>(-1, -1); }
  return vec2<i32>(i32(a.x != 0 || a.y != 0), 0);
}
// a / m for m >= 1, truncating toward zero: long division of |a| by m, bit by bit for the
// low word (r < m <= 2^31, so 2r + 1 fits in a u32).
fn div64_count(a: vec2<i32>, m: i32) -> vec2<i32> {
  let negative = a.y < 0;
  let magnitude = select(a, neg64(a), negative);
  let d = u32(max(m, 1));
  let high = u32(magnitude.y);
  var r = high % d;
  var low = 0u;
  for (var b = 31u; b < 32u; b--) {
    r = (r << 1u) | ((u32(magnitude.x) >> b) & 1u);
    if (r >= d) { r -= d; low |= 1u << b; }
  }
  let q = vec2<i32>(i32(low), i32(high / d));
  return select(q, neg64(q), negative);
}
// An i32 division that never traps: by 0 gives 0 (the CPU raises instead, which a
// device cannot do synchronously), and INT_MIN / -1 gives INT_MIN.
fn div_i32(a: i32, b: i32) -> i32 {
  let unsafe_ = b == 0 || (b == -1 && a == (-2147483647 - 1));
  let q = a / select(b, 1, unsafe_);
  return select(q, select(a, 0, b == 0), unsafe_);
}
fn floordiv_i32(a: i32, b: i32) -> i32 {
  let q = div_i32(a, b);
  return select(q, q - 1, b != 0 && q * b != a && ((a < 0) != (b < 0)));
}
fn floormod_i32(a: i32, b: i32) -> i32 {
  return select(a - floordiv_i32(a, b) * b, 0, b == 0);
}
// Integer powers by squaring, wrapping as the CPU's: a negative exponent gives 0 (the CPU
// raises instead, which a device cannot do synchronously).
fn pow_i32(a: i32, b: i32) -> i32 {
  if (b < 0) { return 0; }
  var result = 1;
  var base = a;
  var e = u32(b);
  loop {
    if (e == 0u) { break; }
    if ((e & 1u) != 0u) { result = result * base; }
    base = base * base;
    e = e >> 1u;
  }
  return result;
}
fn pow_u8(a: u32, b: u32) -> u32 {
  return u32(pow_i32(i32(a), i32(b))) & 0xffu;
}
fn pow64(a: vec2<i32>, b: vec2<i32>) -> vec2<i32> {
  if (b.y < 0) { return vec2<i32>(0); }
  var result = vec2<i32>(1, 0);
  var base = a;
  var low = u32(b.x);
  var high = u32(b.y);
  loop {
    if (low == 0u && high == 0u) { break; }
    if ((low & 1u) != 0u) { result = mul64(result, base); }
    base = mul64(base, base);
    low = (low >> 1u) | (high << 31u);
    high = high >> 1u;
  }
  return result;
}
`;
