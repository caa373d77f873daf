/**
 * The WebGPU device's random fills: the CPU's Philox 4x32-10 streams (csrc/kernels/random.c),
 * in WGSL. One thread per Philox block: key = the seed's words, counter = (block, attempt,
 * stream's words), G = 4 elements a block for float32 and int32, element i in slot i % 4 of
 * block i / 4, a redraw reading the same slot of (block, attempt + 1). So element i depends
 * only on (seed, stream, i), on either device.
 *
 * What matches the CPU, and how:
 * - int32 uniforms (Lemire's multiply-shift with rejection), bit for bit. WGSL has no 64-bit
 *   integers: `mul_wide` builds the 32 x 32 -> 64 product from 16-bit halves; Philox's rounds
 *   use it too.
 * - float32 uniforms, bit for bit. The CPU computes `(float)(a + (b - a) * u)` in double, and
 *   its x86-64 v3 / v4 and aarch64 kernels contract that into one fma (one rounding), its v2
 *   kernel does not (two). WGSL has no f64, so the shader redoes the double arithmetic exactly
 *   on 128-bit integers (`SOFT_WGSL`): the product d * u is exact (77 bits), the sum is exact
 *   but for a sticky bit far below every rounding, then come the double rounding(s) and the
 *   rounding to float32, subnormals and overflow included, and the CPU's clamp into
 *   [lo, below hi]. Whether to round the product first follows the level the CPU's kernels run
 *   at in this process (`cpuLevelCode()`).
 * - float32 normals (Box-Muller in float32 on the CPU too), to 3 ulps of z: the shader has its
 *   own log, sin and cos (WGSL's builtins promise only 2^-11 absolute for sin and cos), within
 *   1.3 ulps over every input a draw can give and correctly rounded for 99.4% (log) and 96.6%
 *   (sin, cos) of them; glibc's logf and sincosf are for 99.3% and 98.7%. So 96% of z are the
 *   CPU's bit for bit (measured over 2^24 draws), the rest 1 to 3 ulps off.
 * - truncated normals redraw where the CPU does, except where the two devices' |z| fall on
 *   either side of 2. NOTE: rare, not impossible: 2.5% of the z near |z| = 2 differ from the
 *   CPU's, by an ulp or two, which makes a different choice about 5e-10 per draw (a 1M-element
 *   truncatedNormal differs somewhere about once in 2,000 calls), and that element then holds
 *   an unrelated value. Impossible would mean replaying glibc's logf and sincosf bit for bit.
 * - int64 uniforms (Lemire's method on 64-bit words, G = 2), bit for bit: the 128-bit
 *   product from four mul_wide products.
 * float64 fills are an error naming the op and the dtype (WGSL has no f64).
 * @module
 */
import type { DType } from "../../dtype.ts";
import { Cpu, RandomDist } from "../../native/codes.ts";
import { cpuLevelCode } from "../cpu/runtime_info.ts";
import type { GpuStorage, WebGpuBackend } from "./backend.ts";
import { WORKGROUP } from "./elementwise.ts";

/** Elements a Philox block gives float32 and int32 fills (random.c's G for 4-byte dtypes). */
const GROUP = 4;

/**
 * Fills `n` elements of `out` with Philox draws of distribution `dist` (params [a, b]: the
 * bounds of a uniform, the mean and standard deviation of a normal), as the CPU would.
 * @example
 * ```ts
 * import * as tf from "../../../mod.ts";
 * // Every random op placed on the GPU comes here through WebGpuBackend.randomFill.
 * if (await tf.initGpus() > 0) {
 *   const z = tf.device("/gpu:0", () => tf.randomNormal([4], { seed: 1 }));
 *   console.log(await z.data()); // the CPU's values for the same seeds, to 3 ulps
 * }
 * ```
 */
export function randomFill(
  gpu: WebGpuBackend,
  op: string,
  dist: number,
  dtype: DType,
  [key, stream]: readonly bigint[],
  [a, b]: readonly number[],
  out: GpuStorage,
  n: number,
): void {
  if (dtype !== "float32" && dtype !== "int32" && dtype !== "int64") {
    gpu.unsupported(op, `a random fill of ${dtype}`);
  }
  checkParams(op, dist, dtype, a, b);
  if (n === 0) return;
  const blocks = Math.ceil(n / (dtype === "int64" ? 2 : GROUP));
  const head = [n, blocks, ...split64(key), ...split64(stream)];
  if (dtype === "int64") {
    gpu.dispatch("random_i64", uniformI64Shader, words(head, uniformI64Words(a, b)), blocks, [out]);
  } else if (dist === RandomDist.UNIFORM && dtype === "int32") {
    gpu.dispatch("random_i32", uniformI32Shader, words(head, uniformI32Words(a, b)), blocks, [out]);
  } else if (dist === RandomDist.UNIFORM) {
    const step = exactStep(a, b - a);
    if (step === undefined) {
      const params = uniformF32Words(a, b);
      gpu.dispatch("random_f32", uniformF32Shader, words(head, params), blocks, [out]);
    } else {
      const params = [f32Bits(a), f32Bits(step)];
      gpu.dispatch("random_f32_step", uniformStepShader, words(head, params), blocks, [out]);
    }
  } else {
    const truncated = dist === RandomDist.TRUNCATED_NORMAL;
    const params = [truncated ? 1 : 0, f32Bits(a), f32Bits(b)];
    gpu.dispatch("random_normal_f32", normalShader, words(head, params), blocks, [out]);
  }
}

/** The CPU's checks of (dist, dtype, a, b) (random.c's check_params), as errors naming op. */
function checkParams(op: string, dist: number, dtype: DType, a: number, b: number): void {
  if (dist === RandomDist.UNIFORM && dtype === "int32") {
    const int = (v: number) => Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31;
    if (int(a) && int(b) && a < b) return;
  } else if (dist === RandomDist.UNIFORM && dtype === "int64") {
    const int = (v: number) => Number.isInteger(v) && v >= -(2 ** 63) && v < 2 ** 63;
    if (int(a) && int(b) && a < b) return;
  } else if (dist !== RandomDist.UNIFORM && dtype === "int64") {
    throw new TypeError(`${op}: a normal fill of ${dtype} is undefined`);
  } else if (dist === RandomDist.UNIFORM) {
    if (Number.isFinite(a) && Number.isFinite(b) && a < b) return;
  } else if (dist === RandomDist.NORMAL || dist === RandomDist.TRUNCATED_NORMAL) {
    if (dtype !== "float32") throw new TypeError(`${op}: a normal fill of ${dtype} is undefined`);
    if (Number.isFinite(a) && Number.isFinite(b) && b >= 0) return;
  }
  throw new RangeError(`${op}: invalid random fill parameters (dist ${dist}, ${a}, ${b})`);
}

// ---- parameter words -------------------------------------------------------------------
//
// Every shader reads p[0] = n, p[1] = blocks, p[2..3] = key (low, high), p[4..5] = stream
// (low, high), then its own words from p[6] on. Words are i32 bit patterns; the shaders
// bitcast them to u32 or f32.

const HEAD = 6;

function words(head: readonly number[], params: readonly number[]): Int32Array {
  return Int32Array.from([...head, ...params]); // Int32Array keeps the low 32 bits of each
}

/** A 64-bit seed as its (low, high) words. */
function split64(x: bigint): [number, number] {
  return [Number(BigInt.asUintN(32, x)), Number(BigInt.asUintN(32, x >> 32n))];
}

const scratch = new DataView(new ArrayBuffer(8));

/** The bits of x rounded to float32. */
function f32Bits(x: number): number {
  scratch.setFloat32(0, x);
  return scratch.getUint32(0);
}

/** nextafterf(x, -infinity) of a float32 x, as bits (x is never NaN here). */
function nextBelowF32(x: number): number {
  const bits = f32Bits(x);
  if (x === 0) return 0x80000001; // -min subnormal from either zero
  if (x === -Infinity) return bits;
  return x > 0 ? bits - 1 : bits + 1;
}

/**
 * A finite double as [negative, low word, high word, exponent]: |x| = M * 2^exponent with the
 * 53-bit (or, for a subnormal, shorter) integer M = high * 2^32 + low.
 */
function doubleParts(x: number): number[] {
  scratch.setFloat64(0, x);
  const hi = scratch.getUint32(0), lo = scratch.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff, fraction = hi & 0xfffff;
  const negative = hi >>> 31;
  if (biased === 0) return [negative, lo, fraction, -1074];
  return [negative, lo, fraction | 0x100000, biased - 1075];
}

/** How the float32 uniform shader computes (the first of its words). */
const Mode = {
  /** The CPU's double arithmetic redone exactly: the product rounded, then the sum (v2). */
  TWO_ROUNDINGS: 0,
  /** The same with one rounding of a + d u (the fma of the CPU's v3, v4 and neon kernels). */
  FMA: 1,
  /** d = b - a is infinite: every CPU draw is NaN or inf, and becomes below hi. */
  ALL_BELOW: 2,
} as const;

/**
 * Words of the float32 uniform: [mode, lo, hi, below hi (float32 bits), a (4 words, see
 * doubleParts), d = b - a in double (low, high, exponent)].
 */
function uniformF32Words(a: number, b: number): number[] {
  const d = b - a; // a double, as the CPU's (b - a)
  const mode = !Number.isFinite(d)
    ? Mode.ALL_BELOW
    : cpuLevelCode() === Cpu.V2
    ? Mode.TWO_ROUNDINGS
    : Mode.FMA;
  const [, dLo, dHi, dExp] = doubleParts(mode === Mode.ALL_BELOW ? 0 : d);
  const below = nextBelowF32(Math.fround(b));
  return [mode, f32Bits(a), f32Bits(b), below, ...doubleParts(a), dLo, dHi, dExp];
}

/**
 * q = d 2^-24 when every a + k q (0 <= k < 2^24) is 0 or a normal float32 and so exactly what
 * both double roundings and the float32 rounding give: d a power of two, a a multiple of q,
 * |a|, |b| <= d (so |a + k q| / q <= 2^24) and q >= 2^-126 (no subnormal, which a GPU may
 * flush). The CPU's clamp changes none of them. [0, 1), [-1, 1) and dropout's draws take this
 * path.
 */
function exactStep(a: number, d: number): number | undefined {
  const [, lo, hi] = doubleParts(d);
  const powerOfTwo = Number.isFinite(d) && lo === 0 && (hi & 0xfffff) === 0 && hi !== 0;
  const q = d * 2 ** -24;
  if (!powerOfTwo || q < 2 ** -126 || Math.abs(a) > d || Math.abs(a + d) > d || a % q !== 0) {
    return undefined;
  }
  return q;
}

/** Words of the int32 uniform: [a, span = b - a, Lemire's threshold 2^32 mod span]. */
function uniformI32Words(a: number, b: number): number[] {
  const span = b - a; // in [1, 2^32 - 1]: the threshold's modulo is computed here, never by 0
  return [a, span, (2 ** 32 - span) % span];
}

/**
 * Words of the int64 uniform: a (low, high), span = b - a (low, high) and Lemire's threshold
 * 2^64 mod span (low, high), computed exactly from the doubles a and b as the CPU does.
 */
function uniformI64Words(a: number, b: number): number[] {
  const lo = BigInt(a), span = BigInt(b) - lo; // span in [1, 2^64 - 1]
  return [...split64(lo), ...split64(span), ...split64((2n ** 64n - span) % span)];
}

// ---- WGSL --------------------------------------------------------------------------------

/** The parameter words, the output, the thread's block `blk`, and Philox. */
function prelude(outType: string): string {
  return `
@group(0) @binding(0) var<storage, read> p: array<i32>;
@group(0) @binding(1) var<storage, read_write> out: array<${outType}>;

// The 64-bit product a * b as (low word, high word), from 16-bit halves: each partial
// product of two halves fits a u32, and so does mid (three terms below 2^16 each).
fn mul_wide(a: u32, b: u32) -> vec2<u32> {
  let al = a & 0xffffu; let ah = a >> 16u;
  let bl = b & 0xffffu; let bh = b >> 16u;
  let lh = al * bh; let hl = ah * bl;
  let mid = ((al * bl) >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
  return vec2<u32>(a * b, ah * bh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u));
}

// Philox 4x32-10 of counter (blk, attempt, stream) under the key (the seed).
fn block_words(blk: u32, attempt: u32) -> vec4<u32> {
  var c = vec4<u32>(blk, attempt, bitcast<u32>(p[4]), bitcast<u32>(p[5]));
  var k = vec2<u32>(bitcast<u32>(p[2]), bitcast<u32>(p[3]));
  for (var round = 0; round < 10; round++) {
    let p0 = mul_wide(0xD2511F53u, c.x);
    let p1 = mul_wide(0xCD9E8D57u, c.z);
    c = vec4<u32>(p1.y ^ c.y ^ k.x, p1.x, p0.y ^ c.w ^ k.y, p0.x);
    k += vec2<u32>(0x9E3779B9u, 0xBB67AE85u);
  }
  return c;
}
`;
}

/**
 * The entry point: thread `blk` fills elements i0 .. i0 + m - 1 (m <= group: 4, or 2 for
 * 8-byte elements, which take two words each) with `body`.
 */
function entry(body: string, group = GROUP): string {
  return `
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let blk = id.x + id.y * groups.x * ${WORKGROUP}u;
  if (blk >= u32(p[1])) { return; }
  let i0 = blk * ${group}u;
  let m = min(${group}u, u32(p[0]) - i0);
  let w = block_words(blk, 0u);
  ${body}
}
`;
}

/** int32 uniforms on [a, a + span): Lemire's method, a rejected word redrawn. */
function uniformI32Shader(): string {
  return prelude("i32") + entry(`
  let a = bitcast<u32>(p[${HEAD}]);
  let span = bitcast<u32>(p[${HEAD + 1}]);
  let threshold = bitcast<u32>(p[${HEAD + 2}]);
  for (var j = 0u; j < m; j++) {
    var product = mul_wide(w[j], span);
    for (var attempt = 1u; product.x < threshold; attempt++) {
      product = mul_wide(block_words(blk, attempt)[j], span);
    }
    out[i0 + j] = bitcast<i32>(a + product.y); // a + high word < b: wraps back into int32
  }`);
}

/**
 * int64 uniforms on [a, a + span): Lemire's method on 64-bit words x = (w[2j + 1], w[2j]), as
 * random.c's uniform_i64: the 128-bit product x * span from four 32 x 32 products, its low
 * half against the threshold (a redraw reads the same slot of the next attempt's block), its
 * high half added to a with wrapping. Elements are (low, high) word pairs, as the device
 * stores int64.
 */
function uniformI64Shader(): string {
  return prelude("u32") + `
fn add_carry(a: u32, b: u32, carry: ptr<function, u32>) -> u32 {
  let s = a + b;
  *carry += select(0u, 1u, s < a);
  return s;
}
// x * s for 64-bit x and s given as (low, high): the product's four words, lowest first.
fn mul128(x: vec2<u32>, s: vec2<u32>) -> vec4<u32> {
  let p00 = mul_wide(x.x, s.x);
  let p01 = mul_wide(x.x, s.y);
  let p10 = mul_wide(x.y, s.x);
  let p11 = mul_wide(x.y, s.y);
  var c1 = 0u;
  let r1 = add_carry(add_carry(p00.y, p01.x, &c1), p10.x, &c1);
  var c2 = 0u;
  let r2 = add_carry(add_carry(add_carry(p01.y, p10.y, &c2), p11.x, &c2), c1, &c2);
  return vec4<u32>(p00.x, r1, r2, p11.y + c2);
}
` + entry(
    `
  let a = vec2<u32>(bitcast<u32>(p[${HEAD}]), bitcast<u32>(p[${HEAD + 1}]));
  let span = vec2<u32>(bitcast<u32>(p[${HEAD + 2}]), bitcast<u32>(p[${HEAD + 3}]));
  let threshold = vec2<u32>(bitcast<u32>(p[${HEAD + 4}]), bitcast<u32>(p[${HEAD + 5}]));
  for (var j = 0u; j < m; j++) {
    var product = mul128(vec2<u32>(w[2u * j], w[2u * j + 1u]), span);
    for (var attempt = 1u;
         product.y < threshold.y || (product.y == threshold.y && product.x < threshold.x);
         attempt++) {
      let retry = block_words(blk, attempt);
      product = mul128(vec2<u32>(retry[2u * j], retry[2u * j + 1u]), span);
    }
    let low = a.x + product.z;
    let high = a.y + product.w + select(0u, 1u, low < a.x);
    out[2u * (i0 + j)] = low;
    out[2u * (i0 + j) + 1u] = high;
  }`,
    2,
  );
}

/**
 * Exact binary arithmetic on 128-bit integers (vec4<u32>, least significant word first):
 * enough to redo the CPU's double arithmetic of the float32 uniform bit for bit.
 */
const SOFT_WGSL = `
// A value m * 2^e.
struct Soft { m: vec4<u32>, e: i32 }

// Shifts are vector selects (by 32 and 64 bits) and vector shifts, with no dynamic index.
// NOTE: a WGSL shift counts modulo 32, so x >> (32 - 0) is x: the selects keep bs = 0 apart.
fn shl128(v: vec4<u32>, s: u32) -> vec4<u32> { // s < 128
  let w1 = select(v, vec4<u32>(0u, v.xyz), (s & 32u) != 0u);
  let w = select(w1, vec4<u32>(0u, 0u, w1.xy), (s & 64u) != 0u);
  let bs = s & 31u;
  let carry = select(vec4<u32>(0u, w.xyz) >> vec4<u32>(32u - bs), vec4<u32>(0u), bs == 0u);
  return (w << vec4<u32>(bs)) | carry;
}

fn shr128(v: vec4<u32>, s: u32) -> vec4<u32> {
  if (s >= 128u) { return vec4<u32>(0u); }
  let w1 = select(v, vec4<u32>(v.yzw, 0u), (s & 32u) != 0u);
  let w = select(w1, vec4<u32>(w1.zw, 0u, 0u), (s & 64u) != 0u);
  let bs = s & 31u;
  let carry = select(vec4<u32>(w.yzw, 0u) << vec4<u32>(32u - bs), vec4<u32>(0u), bs == 0u);
  return (w >> vec4<u32>(bs)) | carry;
}

// Whether v mod 2^c is not zero.
fn low_bits_nonzero(v: vec4<u32>, c: u32) -> bool {
  let left = vec4<i32>(i32(min(c, 128u))) - vec4<i32>(0, 32, 64, 96); // bits of c in each word
  let part = (vec4<u32>(1u) << vec4<u32>(max(left, vec4<i32>(0)))) - vec4<u32>(1u);
  let mask = select(select(part, vec4<u32>(0u), left <= vec4<i32>(0)), vec4<u32>(0xffffffffu),
    left >= vec4<i32>(32));
  return any((v & mask) != vec4<u32>(0u));
}

fn bit_at(v: vec4<u32>, i: u32) -> u32 {
  if (i >= 128u) { return 0u; }
  return (shr128(v, i).x) & 1u;
}

fn bit_length(v: vec4<u32>) -> i32 {
  let len = vec4<i32>(32) - vec4<i32>(countLeadingZeros(v)) + vec4<i32>(0, 32, 64, 96);
  let top = select(vec4<i32>(0), len, v != vec4<u32>(0u));
  return max(max(top.x, top.y), max(top.z, top.w));
}

fn add128(a: vec4<u32>, b: vec4<u32>) -> vec4<u32> {
  var r = vec4<u32>(0u);
  var carry = 0u;
  for (var j = 0; j < 4; j++) {
    let s = a[j] + b[j];
    r[j] = s + carry;
    carry = select(0u, 1u, s < a[j] || r[j] < s);
  }
  return r;
}

fn sub128(a: vec4<u32>, b: vec4<u32>) -> vec4<u32> { // a >= b
  var r = vec4<u32>(0u);
  var borrow = 0u;
  for (var j = 0; j < 4; j++) {
    let d = a[j] - b[j];
    r[j] = d - borrow;
    borrow = select(0u, 1u, a[j] < b[j] || d < borrow);
  }
  return r;
}

fn less128(a: vec4<u32>, b: vec4<u32>) -> bool {
  for (var j = 3; j >= 0; j--) {
    if (a[j] != b[j]) { return a[j] < b[j]; }
  }
  return false;
}

// x rounded to nearest, ties to even, to prec significant bits, but never to a finer
// quantum than 2^min_e (the subnormals of the format).
fn round_to(x: Soft, prec: i32, min_e: i32) -> Soft {
  let drop = max(bit_length(x.m) - prec, min_e - x.e);
  if (drop <= 0) { return x; }
  let d = u32(min(drop, 256));
  var q = shr128(x.m, d);
  let half = d - 1u;
  if (bit_at(x.m, half) == 1u && (low_bits_nonzero(x.m, half) || (q.x & 1u) == 1u)) {
    q = add128(q, vec4<u32>(1u, 0u, 0u, 0u));
  }
  return Soft(q, x.e + drop);
}

// x aligned to the exponent base: shifted left, or right with the bits it loses ORed into
// bit 0 (a sticky bit).
fn align_to(x: Soft, base: i32) -> vec4<u32> {
  let s = x.e - base;
  if (s >= 0) { return shl128(x.m, u32(s)); }
  let sticky = select(0u, 1u, low_bits_nonzero(x.m, u32(-s)));
  return shr128(x.m, u32(-s)) | vec4<u32>(sticky, 0u, 0u, 0u);
}

struct Signed { v: Soft, negative: bool }

// (-1)^a_neg a + y for y >= 0, a.m and y.m below 2^77: exact but for a sticky bit. The larger
// operand's top bit goes to bit 126, so it keeps every bit and its bit 0 is 0; the smaller
// loses bits only when its top is 50 or more bits lower, and then the sum's top bit is 125 or
// 126 and any rounding to 53 bits or fewer has a quantum of 2^73 or more: the odd value the
// sticky bit makes lies strictly between the same two rounding boundaries as the exact sum.
// An exact zero is +0, as IEEE's round-to-nearest gives for x + (-x) and -0 + +0.
fn add_signed(a: Soft, a_neg: bool, y: Soft) -> Signed {
  let la = bit_length(a.m); let ly = bit_length(y.m);
  if (la == 0) { return Signed(y, false); }
  if (ly == 0) { return Signed(a, a_neg); }
  let base = max(a.e + la, y.e + ly) - 127;
  let am = align_to(a, base); let ym = align_to(y, base);
  if (!a_neg) { return Signed(Soft(add128(am, ym), base), false); }
  if (less128(ym, am)) { return Signed(Soft(sub128(am, ym), base), true); }
  return Signed(Soft(sub128(ym, am), base), false);
}

// The float32 bits of (-1)^negative v, v already rounded to 24 bits (and 2^-149).
fn f32_bits(v: Soft, negative: bool) -> u32 {
  let sign = select(0u, 0x80000000u, negative);
  var m = v.m.x; var e = v.e;
  if (m == 0u) { return sign; }
  let len = 32 - i32(countLeadingZeros(m));
  if (len > 24) { m = m >> 1u; e += 1; } // a rounding carried into 2^24
  let up = min(24 - len, e + 149);
  if (up > 0) { m = m << u32(up); e -= up; }
  if (m < 0x800000u) { return sign | m; } // subnormal: e is -149
  let biased = e + 150;
  if (biased >= 255) { return sign | 0x7f800000u; }
  return sign | (u32(biased) << 23u) | (m & 0x7fffffu);
}

// A float32's order key: ordered as the floats, -0 equal to +0 (no NaN reaches here).
fn order(bits: u32) -> i32 {
  let mag = i32(bits & 0x7fffffffu);
  return select(mag, -mag, bits >= 0x80000000u);
}
`;

/**
 * float32 uniforms on [a, b): (float)(a + d u) with d = b - a and u = (w >> 8) 2^-24, in
 * double as the CPU does, then clamped as the CPU does: v < hi ? max(v, lo) : below hi.
 */
function uniformF32Shader(): string {
  const q = (k: number) => `p[${HEAD + k}]`;
  return prelude("u32") + SOFT_WGSL + `
fn uniform_bits(word: u32) -> u32 {
  let mode = ${q(0)};
  let below = bitcast<u32>(${q(3)});
  if (mode == ${Mode.ALL_BELOW}) { return below; }
  // d k exactly: the 53-bit d times 24 bits is below 2^77.
  let k = word >> 8u;
  let lo = mul_wide(bitcast<u32>(${q(8)}), k);
  let hi = mul_wide(bitcast<u32>(${q(9)}), k);
  let mid = lo.y + hi.x;
  var y = Soft(vec4<u32>(lo.x, mid, hi.y + select(0u, 1u, mid < lo.y), 0u), ${q(10)} - 24);
  if (mode == ${Mode.TWO_ROUNDINGS}) { y = round_to(y, 53, -1074); }
  let a = Soft(vec4<u32>(bitcast<u32>(${q(5)}), bitcast<u32>(${q(6)}), 0u, 0u), ${q(7)});
  let s = add_signed(a, ${q(4)} != 0, y);
  let v = f32_bits(round_to(round_to(s.v, 53, -1074), 24, -149), s.negative);
  let lo_bits = bitcast<u32>(${q(1)}); let hi_bits = bitcast<u32>(${q(2)});
  if (order(v) >= order(hi_bits)) { return below; }
  return select(v, lo_bits, order(v) < order(lo_bits));
}
` + entry(`
  for (var j = 0u; j < m; j++) { out[i0 + j] = uniform_bits(w[j]); }`);
}

/** float32 uniforms a + k q where that is exact (see exactStep): the CPU's values, cheaply. */
function uniformStepShader(): string {
  return prelude("f32") + entry(`
  let a = bitcast<f32>(p[${HEAD}]);
  let q = bitcast<f32>(p[${HEAD + 1}]);
  for (var j = 0u; j < m; j++) { out[i0 + j] = a + f32(w[j] >> 8u) * q; }`);
}

/**
 * float32 normals: Box-Muller as the CPU's normal_pair_f32, with log, sin and cos of our own
 * (float32, within 1.3 ulps); truncated normals redraw |z| >= 2 from the next attempt's block.
 */
function normalShader(): string {
  return prelude("f32") + `
// log(x) for x in [2^-24, 1]: x = 2^k f with f in [sqrt(1/2), sqrt(2)), t = f - 1 exact and
// log(x) = k ln2_hi + t - t^2/2 + s (t^2/2 + R(s^2)) + k ln2_lo with s = t / (2 + t) (fdlibm's
// logf and its coefficients; k ln2_hi is exact). The large terms are summed with their
// rounding errors kept (t^2/2 from 12-bit halves of t, Fast2Sum for the two sums), which
// brings the share of results that differ from the correctly rounded ones from 7.2% to 0.55%
// (all 2^24 inputs a draw can give).
fn log_f32(x: f32) -> f32 {
  let bits = bitcast<u32>(x);
  var k = i32(bits >> 23u) - 127;
  var fbits = (bits & 0x7fffffu) | 0x3f800000u;
  if (fbits > 0x3fb504f3u) { fbits -= 0x00800000u; k += 1; }
  let t = bitcast<f32>(fbits) - 1.0;
  let s = t / (2.0 + t);
  let z = s * s; let w = z * z;
  let r = z * (0xaaaaaa.0p-24f + w * 0x91e9ee.0p-25f) + w * (0xccce13.0p-25f + w * 0xf89e26.0p-26f);
  let t_hi = bitcast<f32>(bitcast<u32>(t) & 0xfffff000u);
  let t_lo = t - t_hi;
  let half_hi = 0.5 * t_hi * t_hi; // exact: 12 bits squared
  let half_lo = t_lo * (t_hi + 0.5 * t_lo);
  let b = t - half_hi; // |t| > t^2/2: Fast2Sum
  let b_lo = (t - b) - half_hi;
  let dk = f32(k);
  let a = dk * bitcast<f32>(0x3f317180u); // ln2_hi, 17 bits
  let sum = a + b; // |a| >= 0.69 > |b|, or a = 0: Fast2Sum
  let sum_lo = (a - sum) + b;
  let tail = s * ((half_hi + half_lo) + r) + dk * bitcast<f32>(0x3717f7d1u); // ln2_lo
  return sum + (((sum_lo + b_lo) - half_lo) + tail);
}

// (sin x, cos x) for x in [0, 2 pi]: y = x - j pi/2 with pi/2 in four parts (Cody-Waite: the
// first two are short, so x - j p1 - j p2 is exact; j p3 is exact too, and p4 keeps y's
// relative error small where x is next to 3 pi/2), y = y + y_lo, then Taylor polynomials on
// [-pi/4, pi/4] (truncated below 0.05 ulp) with y and 1 - y^2/2 added last, their rounding
// errors kept. That brings the share of results that differ from the correctly rounded ones
// from about 25% to 3.4% (all 2^24 angles a draw can give).
fn sincos_f32(x: f32) -> vec2<f32> {
  let j = i32(floor(x * 0.636619772 + 0.5));
  let fj = f32(j);
  let y2 = (x - fj * 1.5703125) - fj * 4.837512969970703125e-4;
  let jc3 = fj * bitcast<f32>(0x33a22170u); // 20 bits: exact
  let jc4 = fj * bitcast<f32>(0xa967b967u);
  let q = jc3 + jc4;
  let y = y2 - q;
  let y_lo = ((y2 - y) - jc3) - jc4;
  let z = y * y;
  let ps = -1.0 / 6.0 + z * (1.0 / 120.0 + z * (-1.0 / 5040.0 + z * (1.0 / 362880.0)));
  let s = y + (y_lo + y * z * ps);
  let pc = 1.0 / 24.0 + z * (-1.0 / 720.0 + z * (1.0 / 40320.0 + z * (-1.0 / 3628800.0)));
  let hz = 0.5 * z;
  let w = 1.0 - hz; // in [0.69, 1]: w = W 2^-24 for an integer W
  // NOTE: 1 - w comes from W's bits: written (1.0 - w) - hz, llvmpipe folds it to 0.
  let wbits = bitcast<u32>(w);
  let big_w = select((wbits & 0x7fffffu) | 0x800000u, 0x1000000u, wbits == 0x3f800000u);
  // Exact: 1 - w is 0 or within a factor 2 of hz (Sterbenz).
  let w_error = f32(0x1000000u - big_w) * 0x1p-24f - hz;
  let c = w + ((w_error + z * z * pc) - y * y_lo);
  switch (j & 3) {
    case 0: { return vec2<f32>(s, c); }
    case 1: { return vec2<f32>(c, -s); }
    case 2: { return vec2<f32>(-s, -c); }
    default: { return vec2<f32>(-c, s); }
  }
}

// Two standard normals from two words: the radius from a uniform in (0, 1], so log never
// sees 0; 2 pi rounded to float32, as the CPU's 6.2831853...f.
fn normal_pair(w0: u32, w1: u32) -> vec2<f32> {
  let u1 = f32((w0 >> 8u) + 1u) * 0x1p-24f;
  let theta = bitcast<f32>(0x40c90fdbu) * (f32(w1 >> 8u) * 0x1p-24f);
  let r = sqrt(-2.0 * log_f32(u1));
  let sc = sincos_f32(theta);
  return vec2<f32>(r * sc.y, r * sc.x);
}

fn block_normals(w: vec4<u32>) -> vec4<f32> {
  return vec4<f32>(normal_pair(w.x, w.y), normal_pair(w.z, w.w));
}
` + entry(`
  let truncated = p[${HEAD}] != 0;
  let mean = bitcast<f32>(p[${HEAD + 1}]);
  let stddev = bitcast<f32>(p[${HEAD + 2}]);
  let first = block_normals(w);
  for (var j = 0u; j < m; j++) {
    var z = first[j];
    // As the CPU and TensorFlow's TruncatedNormal: keep |z| < 2, else redraw.
    for (var attempt = 1u; truncated && !(abs(z) < 2.0); attempt++) {
      z = block_normals(block_words(blk, attempt))[j];
    }
    out[i0 + j] = fma(stddev, z, mean); // the CPU's (float)a + (float)b * z, contracted
  }`);
}
