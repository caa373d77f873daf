/**
 * The WebGPU device's segment max, min and product (csrc/kernels/segment.c's semantics): one
 * thread an output element, folding the rows whose id is its segment in input order, so the
 * values are the CPU's bit for bit (a product's rounding follows the same order). Ids outside
 * [0, numSegments) are dropped; an empty segment holds the dtype's lowest (max), highest (min)
 * or 1 (prod), or 0 for the sorted segment ops (`emptyZero`). Max and min propagate NaN as the
 * CPU does: a NaN row replaces the running value and stays, tested by its bits since
 * llvmpipe folds NaN comparisons.
 * Rows go in passes of ROWS (llvmpipe stops a thread's loops after 65,535 iterations), each
 * pass starting from what the last one wrote.
 * @module
 */
import type { DType } from "../../dtype.ts";
import type { Tensor } from "../../tensor.ts";
import { Reduce } from "../../native/codes.ts";
import type { GpuStorage, WebGpuBackend } from "./backend.ts";
import { WORKGROUP } from "./elementwise.ts";
import { declare, load, PRELUDE, store, zero } from "./types.ts";

/** Rows a thread folds in one dispatch. */
const ROWS = 30_000;

/** Per dtype: the empty segment's value for max / min / prod, and a = op(a, v) in WGSL. */
const RULES: Partial<
  Record<DType, { init: [string, string, string]; fold: [string, string, string] }>
> = {
  float32: {
    init: ["bitcast<f32>(0xff7fffffu)", "bitcast<f32>(0x7f7fffffu)", "1.0"],
    fold: [
      "if (is_nan_f32(v) || (!is_nan_f32(a) && v > a)) { a = v; }",
      "if (is_nan_f32(v) || (!is_nan_f32(a) && v < a)) { a = v; }",
      "a = a * v;",
    ],
  },
  int32: {
    init: ["(-2147483647 - 1)", "2147483647", "1"],
    fold: ["a = max(a, v);", "a = min(a, v);", "a = a * v;"],
  },
  uint8: {
    init: ["0u", "255u", "1u"],
    fold: ["a = max(a, v);", "a = min(a, v);", "a = (a * v) & 0xffu;"],
  },
  int64: {
    init: ["vec2<i32>(0, -2147483647 - 1)", "vec2<i32>(-1, 2147483647)", "vec2<i32>(1, 0)"],
    fold: ["a = max64(a, v);", "a = min64(a, v);", "a = mul64(a, v);"],
  },
};

// p = [numSegments * inner, index words, inner, first row, end row, data offset, ids offset,
//      first pass]
function foldShader(dtype: DType, which: number): string {
  const rule = RULES[dtype]!;
  return `${PRELUDE}
@group(0) @binding(0) var<storage, read> p: array<i32>;
${declare(dtype, "out", 1, true)}
${declare(dtype, "data", 2)}
@group(0) @binding(3) var<storage, read> ids: array<i32>;
@group(0) @binding(4) var<storage, read_write> seen: array<atomic<u32>>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = i32(id.x + id.y * groups.x * ${WORKGROUP}u);
  if (i >= p[0]) { return; }
  let iw = p[1];
  let inner = p[2];
  let segment = i / inner;
  var a = ${load(dtype, "out", "i")};
  if (p[7] == 1) { a = ${rule.init[which]}; }
  var hit = false;
  for (var r = p[3]; r < p[4]; r++) {
    let at = iw * (p[6] + r);
    // An int64 id is in range only if its high word is 0.
    if (ids[at] == segment && (iw == 1 || ids[at + 1] == 0)) {
      let v = ${load(dtype, "data", "p[5] + r * inner + i % inner")};
      ${rule.fold[which]}
      hit = true;
    }
  }
  ${store(dtype, "out", "i", "a")}
  if (hit) { atomicStore(&seen[segment], 1u); }
}`;
}

// p = [numSegments * inner, inner]: empty segments become 0 (the sorted segment ops).
function zeroShader(dtype: DType): string {
  return `${PRELUDE}
@group(0) @binding(0) var<storage, read> p: array<i32>;
${declare(dtype, "out", 1, true)}
@group(0) @binding(2) var<storage, read> seen: array<u32>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = i32(id.x + id.y * groups.x * ${WORKGROUP}u);
  if (i >= p[0]) { return; }
  if (seen[i / p[1]] == 0u) { ${store(dtype, "out", "i", zero(dtype))} }
}`;
}

/** out [numSegments, inner] = max, min or prod (`code`) over the rows of each id. */
export function segmentReduce(
  gpu: WebGpuBackend,
  op: string,
  code: number,
  data: Tensor,
  ids: Tensor,
  [n, inner, numSegments]: readonly number[],
  emptyZero: boolean,
  out: GpuStorage,
): void {
  const which = [Reduce.MAX, Reduce.MIN, Reduce.PROD].indexOf(code as 2 | 3 | 4);
  if (which < 0 || !RULES[data.dtype]) gpu.unsupported(op, `${data.dtype} ${op}`);
  if (ids.dtype !== "int32" && ids.dtype !== "int64") gpu.unsupported(op, `${ids.dtype} ids`);
  const size = numSegments * inner;
  if (size === 0) return;
  const iw = ids.dtype === "int64" ? 2 : 1;
  const seen = gpu.allocate("int32", numSegments, op); // zeroed
  const fold = () => foldShader(data.dtype, which);
  // At least one pass, so that n = 0 still writes the empty segments' values.
  for (let first = 0; first === 0 || first < n; first += ROWS) {
    const words = Int32Array.of(
      size,
      iw,
      inner,
      first,
      Math.min(n, first + ROWS),
      data.offset,
      ids.offset,
      first === 0 ? 1 : 0,
    );
    gpu.dispatch(`segmentReduce ${which} ${data.dtype}`, fold, words, size, [
      out,
      data.storage as GpuStorage,
      ids.storage as GpuStorage,
      seen,
    ]);
  }
  if (emptyZero) {
    gpu.dispatch(
      `segmentReduce zero ${data.dtype}`,
      () => zeroShader(data.dtype),
      Int32Array.of(size, inner),
      size,
      [out, seen],
    );
  }
  gpu.free(seen);
}
