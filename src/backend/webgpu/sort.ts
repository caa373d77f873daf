/**
 * The WebGPU device's sort, argsort and topK along the last axis of dense rows: a bitonic
 * sort of (key, position) pairs per row, padded to a power of two, then a gather.
 *
 * Same results as the CPU (csrc/kernels/sort.c), bit for bit:
 * - each element's key is the CPU's: floats by their bits with the sign flipped, -0 as +0,
 *   every NaN above +inf; int32 and int64 with the sign bit flipped; uint8 as is; a
 *   descending sort complements the key. Keys are two words (high, low; low is 0 for 32-bit
 *   dtypes), so int64 sorts too.
 * - pairs compare by key, then by position, so the order is the stable one (ties keep input
 *   order; topK's ties put the lower position first), whatever the bitonic network does.
 *   Padding sorts after everything: the largest key and positions past the row.
 * - values are gathered from the input by the sorted positions, so -0 and NaN payloads keep
 *   their bits, in stable order, as the CPU restores them.
 * Cost: log2(P) (log2(P) + 1) / 2 kernels over rows x P / 2 threads for rows padded to P.
 * @module
 */
import type { DType } from "../../dtype.ts";
import type { Tensor } from "../../tensor.ts";
import type { GpuStorage, WebGpuBackend } from "./backend.ts";
import { WORKGROUP } from "./elementwise.ts";
import { declare, load, PRELUDE, store } from "./types.ts";

/** WGSL of a value `v` of dtype as its (high, low) key words before the direction's flip. */
const KEY: Partial<Record<DType, string>> = {
  float32: `float_key(v)`,
  int32: `vec2<u32>(bitcast<u32>(v) ^ 0x80000000u, 0u)`,
  uint8: `vec2<u32>(v, 0u)`,
  int64: `vec2<u32>(bitcast<u32>(v.y) ^ 0x80000000u, bitcast<u32>(v.x))`,
};

const FLOAT_KEY = `
fn float_key(v: f32) -> vec2<u32> {
  var b = bitcast<u32>(v);
  if (b == 0x80000000u) { b = 0u; }
  if ((b & 0x7fffffffu) > 0x7f800000u) { return vec2<u32>(0xffffffffu, 0u); }
  if ((b & 0x80000000u) != 0u) { return vec2<u32>(~b, 0u); }
  return vec2<u32>(b | 0x80000000u, 0u);
}`;

const MAIN = `@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = i32(id.x + id.y * groups.x * ${WORKGROUP}u);
  if (i >= p[0]) { return; }`;

// p = [rows * P, n, P, x offset, flip]: keys and positions of every padded slot.
function keysShader(dtype: DType): string {
  return `${PRELUDE}${FLOAT_KEY}
@group(0) @binding(0) var<storage, read> p: array<i32>;
${declare(dtype, "x", 1)}
@group(0) @binding(2) var<storage, read_write> keys: array<u32>;
@group(0) @binding(3) var<storage, read_write> pos: array<u32>;
${MAIN}
  let n = p[1];
  let c = i % p[2];
  var k = vec2<u32>(0xffffffffu, 0xffffffffu);
  if (c < n) {
    let v = ${load(dtype, "x", "p[3] + (i / p[2]) * n + c")};
    k = ${KEY[dtype]} ^ vec2<u32>(u32(p[4]));
  }
  keys[2 * i] = k.x;
  keys[2 * i + 1] = k.y;
  pos[i] = u32(c);
}`;
}

// p = [rows * P / 2, P, block, stride]: one compare-exchange step of the bitonic network.
const STEP_SHADER = `
@group(0) @binding(0) var<storage, read> p: array<i32>;
@group(0) @binding(1) var<storage, read_write> keys: array<u32>;
@group(0) @binding(2) var<storage, read_write> pos: array<u32>;
fn before(a: i32, b: i32) -> bool {
  if (keys[2 * a] != keys[2 * b]) { return keys[2 * a] < keys[2 * b]; }
  if (keys[2 * a + 1] != keys[2 * b + 1]) { return keys[2 * a + 1] < keys[2 * b + 1]; }
  return pos[a] < pos[b];
}
${MAIN}
  let half = p[1] / 2;
  let j = p[3];
  let c = i % half;
  let lo = 2 * j * (c / j) + c % j;
  let base = (i / half) * p[1];
  let a = base + lo;
  let b = a + j;
  let ascending = (lo & p[2]) == 0;
  if (before(b, a) == ascending) {
    let ka = vec2<u32>(keys[2 * a], keys[2 * a + 1]);
    keys[2 * a] = keys[2 * b];
    keys[2 * a + 1] = keys[2 * b + 1];
    keys[2 * b] = ka.x;
    keys[2 * b + 1] = ka.y;
    let pa = pos[a];
    pos[a] = pos[b];
    pos[b] = pa;
  }
}`;

// p = [rows * w, n, P, w, x offset]: the first w of each sorted row, values and positions.
// NOTE: x is bound only when values are wanted ("auto" layouts leave unused bindings out).
function gatherShader(dtype: DType, values: boolean, indices: boolean): string {
  return `${PRELUDE}
@group(0) @binding(0) var<storage, read> p: array<i32>;
@group(0) @binding(1) var<storage, read> pos: array<u32>;
${values ? `${declare(dtype, "x", 2)}\n${declare(dtype, "out", 3, true)}` : ""}
${indices ? `@group(0) @binding(${values ? 4 : 2}) var<storage, read_write> idx: array<i32>;` : ""}
${MAIN}
  let w = p[3];
  let row = i / w;
  let source = i32(pos[row * p[2] + i % w]);
  ${values ? store(dtype, "out", "i", load(dtype, "x", "p[4] + row * p[1] + source")) : ""}
  ${indices ? "idx[i] = source;" : ""}
}`;
}

/**
 * Sorts each row of dense x [rows, n] (stable; descending complements the keys) and writes
 * the first `width` of each sorted row: values and / or int32 positions.
 */
function sortRows(
  gpu: WebGpuBackend,
  op: string,
  x: Tensor,
  [rows, n, width]: readonly number[],
  descending: boolean,
  values: GpuStorage | null,
  indices: GpuStorage | null,
): void {
  if (!KEY[x.dtype]) gpu.unsupported(op, `${x.dtype} ${op}`);
  if (rows * width === 0 || (!values && !indices)) return;
  let padded = 1;
  while (padded < n) padded *= 2;
  const slots = rows * padded;
  const keys = gpu.allocateOutput("int32", 2 * slots, op);
  const pos = gpu.allocateOutput("int32", slots, op);
  const xs = x.storage as GpuStorage;
  gpu.dispatch(
    `sort keys ${x.dtype}`,
    () => keysShader(x.dtype),
    Int32Array.of(slots, n, padded, x.offset, descending ? -1 : 0),
    slots,
    [xs, keys, pos],
  );
  for (let block = 2; block <= padded; block *= 2) {
    for (let stride = block / 2; stride >= 1; stride /= 2) {
      gpu.dispatch(
        "sort step",
        () => STEP_SHADER,
        Int32Array.of(slots / 2, padded, block, stride),
        slots / 2,
        [keys, pos],
      );
    }
  }
  const bound = [...(values ? [xs, values] : []), ...(indices ? [indices] : [])];
  gpu.dispatch(
    `sort gather ${x.dtype} ${values !== null} ${indices !== null}`,
    () => gatherShader(x.dtype, values !== null, indices !== null),
    Int32Array.of(rows * width, n, padded, width, x.offset),
    rows * width,
    [pos, ...bound],
  );
  // Recorded kernels run in order, so the scratch may be reused by what comes next.
  gpu.free(keys);
  gpu.free(pos);
}

/** Stable sort of each row of dense x [rows, n]: values and / or int32 positions. */
export function sort(
  gpu: WebGpuBackend,
  op: string,
  x: Tensor,
  [rows, n]: readonly number[],
  descending: boolean,
  values: GpuStorage | null,
  indices: GpuStorage | null,
): void {
  sortRows(gpu, op, x, [rows, n, n], descending, values, indices);
}

/** The k largest of each row of dense x [rows, n], largest first, lower position first. */
export function topK(
  gpu: WebGpuBackend,
  op: string,
  x: Tensor,
  [rows, n, k]: readonly number[],
  values: GpuStorage,
  indices: GpuStorage,
): void {
  sortRows(gpu, op, x, [rows, n, k], true, values, indices);
}
