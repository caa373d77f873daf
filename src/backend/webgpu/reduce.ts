/**
 * WGSL for reductions on the WebGPU device.
 *
 * Reductions: one thread an output element loops over its reduced elements, walking any
 * layout. Parameters: [outputs, keepRank, rank, offset, shape[0..7], strides[0..7]], the
 * kept dims first (as the CPU's eager_reduce takes them).
 * @module
 */
import type { DType } from "../../dtype.ts";
import { Reduce } from "../../native/codes.ts";
import { MAX_RANK, WORKGROUP } from "./elementwise.ts";
import { declare, load, PRELUDE, store } from "./types.ts";

/** A reduction: the accumulator's WGSL type and start, its step by `v`, and the result from
 * `acc` and the count `m`. */
interface Reducer {
  readonly acc: string;
  readonly start: string;
  readonly step: string;
  readonly result: string;
  /** The output dtype when not the input's. */
  readonly out?: DType;
}

const F32_LOWEST = "bitcast<f32>(0xff800000u)", F32_HIGHEST = "bitcast<f32>(0x7f800000u)";

// NOTE: never an integer division by a count that can be 0, even in the branch not taken:
// select evaluates both sides, and llvmpipe traps on it (SIGFPE kills the process).
const REDUCERS: Partial<Record<DType, Partial<Record<number, Reducer>>>> = {
  float32: {
    [Reduce.SUM]: { acc: "f32", start: "0.0", step: "acc + v", result: "acc" },
    [Reduce.MEAN]: { acc: "f32", start: "0.0", step: "acc + v", result: "acc / f32(m)" },
    [Reduce.PROD]: { acc: "f32", start: "1.0", step: "acc * v", result: "acc" },
    // max and min propagate NaN, as the CPU's do.
    [Reduce.MAX]: {
      acc: "f32",
      start: F32_LOWEST,
      step: "select(acc, v, (v > acc || is_nan_f32(v)) && !is_nan_f32(acc))",
      result: "acc",
    },
    [Reduce.MIN]: {
      acc: "f32",
      start: F32_HIGHEST,
      step: "select(acc, v, (v < acc || is_nan_f32(v)) && !is_nan_f32(acc))",
      result: "acc",
    },
  },
  int32: {
    [Reduce.SUM]: { acc: "i32", start: "0", step: "acc + v", result: "acc" },
    [Reduce.MEAN]: { acc: "i32", start: "0", step: "acc + v", result: "div_i32(acc, m)" },
    [Reduce.PROD]: { acc: "i32", start: "1", step: "acc * v", result: "acc" },
    [Reduce.MAX]: { acc: "i32", start: "-2147483647 - 1", step: "max(acc, v)", result: "acc" },
    [Reduce.MIN]: { acc: "i32", start: "2147483647", step: "min(acc, v)", result: "acc" },
  },
  uint8: {
    [Reduce.SUM]: { acc: "u32", start: "0u", step: "acc + v", result: "acc & 0xffu" },
    [Reduce.MEAN]: {
      acc: "u32",
      start: "0u",
      step: "acc + v",
      result: "acc / u32(max(m, 1))",
    },
    [Reduce.PROD]: { acc: "u32", start: "1u", step: "(acc * v) & 0xffu", result: "acc" },
    [Reduce.MAX]: { acc: "u32", start: "0u", step: "max(acc, v)", result: "acc" },
    [Reduce.MIN]: { acc: "u32", start: "255u", step: "min(acc, v)", result: "acc" },
  },
  int64: {
    [Reduce.SUM]: { acc: "vec2<i32>", start: "vec2<i32>(0)", step: "add64(acc, v)", result: "acc" },
    [Reduce.MEAN]: {
      acc: "vec2<i32>",
      start: "vec2<i32>(0)",
      step: "add64(acc, v)",
      result: "div64_count(acc, m)",
    },
    [Reduce.PROD]: {
      acc: "vec2<i32>",
      start: "vec2<i32>(1, 0)",
      step: "mul64(acc, v)",
      result: "acc",
    },
    [Reduce.MAX]: {
      acc: "vec2<i32>",
      start: "vec2<i32>(0, -2147483647 - 1)",
      step: "max64(acc, v)",
      result: "acc",
    },
    [Reduce.MIN]: {
      acc: "vec2<i32>",
      start: "vec2<i32>(-1, 2147483647)",
      step: "min64(acc, v)",
      result: "acc",
    },
  },
  bool: {
    [Reduce.ALL]: { acc: "u32", start: "1u", step: "acc & v", result: "acc" },
    [Reduce.ANY]: { acc: "u32", start: "0u", step: "acc | v", result: "acc" },
  },
};

/** argmax / argmin: whether v beats best (the first extreme wins; the first NaN wins). */
const ARG_BETTER: Partial<Record<DType, [string, string]>> = {
  float32: ["v > best || is_nan_f32(v)", "v < best || is_nan_f32(v)"],
  int32: ["v > best", "v < best"],
  uint8: ["v > best", "v < best"],
  int64: ["lt64(best, v)", "lt64(v, best)"],
};

/** The body of an argmax / argmin: an int64 index into out. */
function argBody(dtype: DType, better: string): Reducer & { first: string } {
  return {
    acc: "i32",
    start: "first", // the chunk's first index (0 unless the reduction runs in chunks)
    first: `var best = ${load(dtype, "x", "xi")};`,
    // Once best is NaN it stays (floats only: other types have no NaN).
    step: `select(acc, j, (${better})${dtype === "float32" ? " && !is_nan_f32(best)" : ""})`,
    result: "vec2<i32>(acc, 0)",
    out: "int64",
  };
}

/** Whether the device has reduction `code` over dtype (without building its shader). */
export function hasReducer(code: number, dtype: DType): boolean {
  const arg = code === Reduce.ARGMAX || code === Reduce.ARGMIN;
  return arg ? ARG_BETTER[dtype]?.[code - Reduce.ARGMAX] !== undefined : !!REDUCERS[dtype]?.[code];
}

/**
 * Elements one thread reduces at most. NOTE: llvmpipe stops an invocation's loops silently
 * after 65,535 iterations in all (a sum of 70,000 ones gave 21,844): a longer reduction runs
 * in passes, each thread of the first reducing a chunk into a partial (see `reducePasses`).
 */
export const REDUCE_CHUNK = 4096;

/**
 * The shader of reduction `code` over dtype, or undefined where the device has none.
 * `partial`: write each chunk's accumulator (a pass before the last) instead of the result.
 * Thread i reduces chunk i % parts of output i / parts; the reduced elements are walked with
 * an odometer over the reduced dims (about two loop iterations an element).
 */
export function reduceShader(code: number, dtype: DType, partial = false): string | undefined {
  const arg = code === Reduce.ARGMAX || code === Reduce.ARGMIN;
  const better = arg ? ARG_BETTER[dtype]?.[code - Reduce.ARGMAX] : undefined;
  const rule = arg ? (better ? argBody(dtype, better) : undefined) : REDUCERS[dtype]?.[code];
  if (!rule) return undefined;
  // A chunk of an argmax writes its index (int32; argChooseShader picks among them).
  const out = partial ? (arg ? "int32" : dtype) : rule.out ?? dtype;
  // argmax keeps `best` beside the index: each step that moves the index moves it too.
  const keepBest = arg ? "if (acc == j) { best = v; }" : "";
  const S = 4 + MAX_RANK; // where the strides start
  return `${PRELUDE}
@group(0) @binding(0) var<storage, read> p: array<i32>;
${declare(out, "out", 1, true)}
${declare(dtype, "x", 2)}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = i32(id.x + id.y * groups.x * ${WORKGROUP}u);
  if (i >= p[0]) { return; }
  let keep = p[1];
  let rank = p[2];
  let parts = p[${S + MAX_RANK}];
  let chunk = p[${S + MAX_RANK + 1}];
  let m = p[${S + MAX_RANK + 2}]; // the count a mean divides by: the first pass's
  var rest = i / parts;
  var base = p[3];
  for (var d = keep - 1; d >= 0; d--) {
    base += (rest % p[4 + d]) * p[${S} + d];
    rest = rest / p[4 + d];
  }
  var count = 1;
  for (var d = keep; d < rank; d++) { count *= p[4 + d]; }
  let first = (i % parts) * chunk;
  let last = min(count, first + chunk);
  var at: array<i32, ${MAX_RANK}>;
  var r = first;
  var xi = base;
  for (var d = rank - 1; d >= keep; d--) {
    at[d] = r % p[4 + d];
    r = r / p[4 + d];
    xi += at[d] * p[${S} + d];
  }
  var acc: ${rule.acc} = ${rule.start};
  ${"first" in rule ? rule.first : ""}
  for (var j = first; j < last; j++) {
    let v = ${load(dtype, "x", "xi")};
    acc = ${rule.step};
    ${keepBest}
    var d = rank - 1;
    loop {
      if (d < keep) { break; }
      at[d] += 1;
      xi += p[${S} + d];
      if (at[d] < p[4 + d]) { break; }
      xi -= at[d] * p[${S} + d];
      at[d] = 0;
      d -= 1;
    }
  }
  ${store(out, "out", "i", partial ? "acc" : rule.result)}
}
`;
}

/**
 * The last pass of an argmax / argmin in chunks: thread o reads the index each chunk of
 * output o chose (`idx`, [outputs, parts]), looks up its value in x (same parameters as the
 * first pass) and keeps the best, the earlier chunk winning ties, as the first index does in
 * one pass. Undefined where the device has no argmax of dtype.
 */
export function argChooseShader(code: number, dtype: DType): string | undefined {
  const better = ARG_BETTER[dtype]?.[code - Reduce.ARGMAX];
  if (!better) return undefined;
  const S = 4 + MAX_RANK;
  const stillNumber = dtype === "float32" ? " && !is_nan_f32(best)" : "";
  return `${PRELUDE}
@group(0) @binding(0) var<storage, read> p: array<i32>;
${declare("int64", "out", 1, true)}
${declare(dtype, "x", 2)}
@group(0) @binding(3) var<storage, read> idx: array<i32>;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = i32(id.x + id.y * groups.x * ${WORKGROUP}u);
  if (i >= p[0]) { return; }
  let keep = p[1];
  let rank = p[2];
  let parts = p[${S + MAX_RANK}];
  var rest = i;
  var base = p[3];
  for (var d = keep - 1; d >= 0; d--) {
    base += (rest % p[4 + d]) * p[${S} + d];
    rest = rest / p[4 + d];
  }
  var acc = 0;
  var best = ${load(dtype, "x", "base")};
  for (var q = 0; q < parts; q++) {
    let j = idx[i * parts + q];
    var r = j;
    var xi = base;
    for (var d = rank - 1; d >= keep; d--) {
      xi += (r % p[4 + d]) * p[${S} + d];
      r = r / p[4 + d];
    }
    let v = ${load(dtype, "x", "xi")};
    if (q == 0 || ((${better})${stillNumber})) {
      acc = j;
      best = v;
    }
  }
  ${store("int64", "out", "i", "vec2<i32>(acc, 0)")}
}
`;
}

/** The parameter words of a reduction (see reduceShader). */
export function reduceWords(
  threads: number,
  keepRank: number,
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
  [parts, chunk, divisor]: readonly number[],
): Int32Array {
  const words = new Int32Array(4 + 2 * MAX_RANK + 3);
  words.set([threads, keepRank, shape.length, offset]);
  words.set(shape, 4);
  words.set(strides, 4 + MAX_RANK);
  words.set([parts, chunk, divisor], 4 + 2 * MAX_RANK);
  return words;
}
