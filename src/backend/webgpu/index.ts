/**
 * The WebGPU device's gathers, scatters, segment sums and one-hot, with the CPU's layouts
 * (csrc/include/eager.h, "indexing").
 *
 * Decisions (docs/webgpu.md, "Indices"):
 * - An index out of range cannot be reported when the op is called: the device is read
 *   asynchronously. As TensorFlow's GPU kernels do, gather and gatherNd write 0 for it and
 *   scatterNd and the segment sum drop it; the methods return -1 (no bad index seen).
 * - Gathers move raw 32-bit words (an int64 element is two), so they take every dtype.
 * - Scatters and segment sums are written in gather form: each output element adds the rows
 *   aimed at it, in input order, as the CPU does, so float sums round as the CPU's do and no
 *   float atomics are needed. The cost is O(rows x outputs): fine for labels and gradients
 *   of small tables, slow for large embedding tables (a sort by index would fix that).
 * - Indices are int32 or int64 (the low word: no buffer holds 2^31 elements).
 * @module
 */
import type { DType } from "../../dtype.ts";
import { sizeOf } from "../../shape.ts";
import type { Tensor } from "../../tensor.ts";
import type { GpuStorage, WebGpuBackend } from "./backend.ts";
import { MAX_RANK, WORKGROUP } from "./elementwise.ts";
import { deviceType, PRELUDE } from "./types.ts";

/** The shader header: parameters, `out` as words, `src` as words, indices `idx` as i32. */
function kernel(outWord: string, srcWord: string, body: string, bindIdx = true): string {
  return `${PRELUDE}
@group(0) @binding(0) var<storage, read> p: array<i32>;
@group(0) @binding(1) var<storage, read_write> out: array<${outWord}>;
@group(0) @binding(2) var<storage, read> src: array<${srcWord}>;
${bindIdx ? "@group(0) @binding(3) var<storage, read> idx: array<i32>;" : ""}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = i32(id.x + id.y * groups.x * ${WORKGROUP}u);
  if (i >= p[0]) { return; }
  let iw = p[1]; // words an index takes: 1 (int32) or 2 (int64, low word first)
${body}
}
`;
}

/** Words an element of dtype takes on the device. */
function wordsOf(dtype: DType): number {
  return deviceType(dtype)!.words;
}

function indexWords(gpu: WebGpuBackend, op: string, idx: Tensor): number {
  if (idx.dtype !== "int32" && idx.dtype !== "int64") gpu.unsupported(op, `${idx.dtype} indices`);
  return wordsOf(idx.dtype);
}

/** out[b, o, j, :] = params[b, o, idx[b, j], :] (0 for an index out of range). */
export function gather(
  gpu: WebGpuBackend,
  op: string,
  params: Tensor,
  idx: Tensor,
  [batch, outer, axisLen, inner, picks]: readonly number[],
  out: GpuStorage,
): number {
  const iw = indexWords(gpu, op, idx), w = wordsOf(params.dtype);
  const rowWords = inner * w, n = batch * outer * picks * rowWords;
  if (n === 0) return -1;
  const source = () =>
    kernel(
      "u32",
      "u32",
      `  let row = p[2];
  let picks = p[3];
  let outer = p[4];
  let axis = p[5];
  let t = i % row;
  let j = (i / row) % picks;
  let bo = i / (row * picks);
  let b = bo / outer;
  let k = idx[iw * (p[7] + b * picks + j)];
  if (k < 0 || k >= axis) { out[i] = 0u; return; }
  out[i] = src[p[6] + (bo * axis + k) * row + t];`,
    );
  const words = Int32Array.of(
    n,
    iw,
    rowWords,
    picks,
    outer,
    axisLen,
    params.offset * w,
    idx.offset,
  );
  gpu.dispatch("gather", source, words, n, [
    out,
    params.storage as GpuStorage,
    idx.storage as GpuStorage,
  ]);
  return -1;
}

/** out[i, :] = params[idx[i, 0..depth), ...] (0 for an index out of range). */
export function gatherNd(
  gpu: WebGpuBackend,
  op: string,
  params: Tensor,
  paramsShape: readonly number[],
  idx: Tensor,
  rows: number,
  depth: number,
  out: GpuStorage,
): number {
  const iw = indexWords(gpu, op, idx), w = wordsOf(params.dtype);
  const inner = sizeOf(paramsShape.slice(depth));
  const rowWords = inner * w, n = rows * rowWords;
  if (n === 0) return -1;
  const source = () =>
    kernel(
      "u32",
      "u32",
      `  let row = p[2];
  let depth = p[3];
  let r = i / row;
  var at = 0;
  for (var d = 0; d < depth; d++) {
    let k = idx[iw * (p[5] + r * depth + d)];
    if (k < 0 || k >= p[8 + d]) { out[i] = 0u; return; }
    at = at * p[8 + d] + k;
  }
  out[i] = src[p[4] + at * row + i % row];`,
    );
  const words = new Int32Array(8 + MAX_RANK);
  words.set([n, iw, rowWords, depth, params.offset * w, idx.offset]);
  words.set(paramsShape.slice(0, depth), 8);
  gpu.dispatch("gatherNd", source, words, n, [
    out,
    params.storage as GpuStorage,
    idx.storage as GpuStorage,
  ]);
  return -1;
}

/**
 * Rows one dispatch of a scatter or segment sum walks at most (times the index depth plus
 * one): llvmpipe stops an invocation's loops after 65,535 iterations in all. Longer inputs
 * take several dispatches, each adding its rows, in order, to what the last one wrote.
 */
const ROW_BUDGET = 30_000;

/** WGSL of the accumulator (its type, its start from `out`, its step by element `at_src` of
 * src), for dtype. */
function accumulate(gpu: WebGpuBackend, op: string, dtype: DType): [string, string, string] {
  switch (dtype) {
    case "float32":
      return ["f32", "bitcast<f32>(out[i])", "acc += bitcast<f32>(src[at_src]);"];
    case "int32":
      return ["i32", "bitcast<i32>(out[i])", "acc += bitcast<i32>(src[at_src]);"];
    case "int64":
      return [
        "vec2<i32>",
        "vec2<i32>(bitcast<i32>(out[2 * i]), bitcast<i32>(out[2 * i + 1]))",
        "acc = add64(acc, vec2<i32>(bitcast<i32>(src[2 * at_src]), bitcast<i32>(src[2 * at_src + 1])));",
      ];
    default:
      return gpu.unsupported(op, `${dtype} ${op}`);
  }
}

/** Writes the accumulator into out as words. */
function storeAcc(dtype: DType): string {
  return dtype === "int64"
    ? "out[2 * i] = u32(acc.x); out[2 * i + 1] = u32(acc.y);"
    : "out[i] = bitcast<u32>(acc);";
}

/** out (zeroed) += updates[i, :] at idx[i, ...]: each output element adds its rows in order. */
export function scatterNd(
  gpu: WebGpuBackend,
  op: string,
  updates: Tensor,
  idx: Tensor,
  outShape: readonly number[],
  rows: number,
  depth: number,
  out: GpuStorage,
): number {
  const iw = indexWords(gpu, op, idx);
  const [acc, start, add] = accumulate(gpu, op, updates.dtype);
  const inner = sizeOf(outShape.slice(depth));
  const n = sizeOf(outShape);
  if (n === 0 || rows === 0) return -1;
  const source = () =>
    kernel(
      "u32",
      "u32",
      `  let inner = p[2];
  let depth = p[3];
  let dest = i / inner;
  var acc: ${acc} = ${start};
  for (var r = p[4]; r < p[7]; r++) {
    var at = 0;
    var inside = true;
    for (var d = 0; d < depth; d++) {
      let k = idx[iw * (p[6] + r * depth + d)];
      inside = inside && k >= 0 && k < p[8 + d];
      at = at * p[8 + d] + k;
    }
    if (inside && at == dest) {
      let at_src = p[5] + r * inner + i % inner;
      ${add}
    }
  }
  ${storeAcc(updates.dtype)}`,
    );
  const step = Math.max(1, Math.floor(ROW_BUDGET / (depth + 1)));
  for (let first = 0; first < rows; first += step) {
    const words = new Int32Array(8 + MAX_RANK);
    words.set([
      n,
      iw,
      inner,
      depth,
      first,
      updates.offset,
      idx.offset,
      Math.min(rows, first + step),
    ]);
    words.set(outShape.slice(0, depth), 8);
    gpu.dispatch(`scatterNd${updates.dtype}`, source, words, n, [
      out,
      updates.storage as GpuStorage,
      idx.storage as GpuStorage,
    ]);
  }
  return -1;
}

/** out[s, :] = the sum of data[i, :] over ids[i] == s, in input order. */
export function segmentSum(
  gpu: WebGpuBackend,
  op: string,
  data: Tensor,
  ids: Tensor,
  inner: number,
  numSegments: number,
  out: GpuStorage,
): void {
  const iw = indexWords(gpu, op, ids);
  const [acc, start, add] = accumulate(gpu, op, data.dtype);
  const n = numSegments * inner;
  if (n === 0) return;
  const source = () =>
    kernel(
      "u32",
      "u32",
      `  let inner = p[2];
  let segment = i / inner;
  var acc: ${acc} = ${start};
  for (var r = p[3]; r < p[6]; r++) {
    if (idx[iw * (p[5] + r)] == segment) {
      let at_src = p[4] + r * inner + i % inner;
      ${add}
    }
  }
  ${storeAcc(data.dtype)}`,
    );
  for (let first = 0; first < ids.size; first += ROW_BUDGET) {
    const last = Math.min(ids.size, first + ROW_BUDGET);
    const words = Int32Array.of(n, iw, inner, first, data.offset, ids.offset, last);
    gpu.dispatch(`segmentSum${data.dtype}`, source, words, n, [
      out,
      data.storage as GpuStorage,
      ids.storage as GpuStorage,
    ]);
  }
}

/** out[o, d, i] = idx[o, i] == d ? on : off, the values converted to dtype on the host. */
export function oneHot(
  gpu: WebGpuBackend,
  op: string,
  dtype: DType,
  idx: Tensor,
  [outer, depth, inner]: readonly number[],
  [on, off]: readonly number[],
  out: GpuStorage,
): void {
  const iw = indexWords(gpu, op, idx), w = wordsOf(dtype);
  const n = outer * depth * inner * w;
  if (n === 0) return;
  const source = () =>
    kernel(
      "i32",
      "i32",
      `  let w = p[2];
  let depth = p[3];
  let inner = p[4];
  let e = i / w;
  let k = src[iw * (p[5] + (e / (depth * inner)) * inner + e % inner)];
  out[i] = select(p[8 + i % w], p[6 + i % w], k == (e / inner) % depth);`,
      false,
    );
  const words = new Int32Array(10);
  words.set([n, iw, w, depth, inner, idx.offset]);
  words.set(elementWords(dtype, on), 6);
  words.set(elementWords(dtype, off), 8);
  // The indices are this shader's `src`.
  gpu.dispatch(`oneHot${w}`, source, words, n, [out, idx.storage as GpuStorage]);
}

/** A float64 value converted to dtype as the CPU's casts do, as the device's words. */
function elementWords(dtype: DType, v: number): Int32Array {
  const words = new Int32Array(2);
  const truncated = Number.isNaN(v) ? 0 : Math.trunc(v);
  switch (dtype) {
    case "float32":
      new Float32Array(words.buffer)[0] = v;
      break;
    case "int32":
      words[0] = Math.max(-2147483648, Math.min(2147483647, truncated));
      break;
    case "uint8":
      words[0] = Math.max(0, Math.min(255, truncated));
      break;
    case "bool":
      words[0] = v !== 0 ? 1 : 0;
      break;
    case "int64":
      new BigInt64Array(words.buffer)[0] = BigInt(
        Math.max(-(2 ** 63), Math.min(2 ** 63 - 1024, truncated)),
      );
      break;
  }
  return words;
}
