/**
 * Indexing ops against straightforward reference loops on random inputs: every data
 * dtype, int32 and int64 indices, negative axes, batchDims, empty index lists,
 * non-contiguous params, duplicate scatter ids, range errors and thread-count
 * independence of the scatter-adds.
 */
import { AssertionError } from "node:assert";
import { arrayType, type DType } from "../src/dtype.ts";
import { native } from "../src/native/lib.ts";
import { denseStrides, sizeOf } from "../src/shape.ts";
import type { Tensor } from "../src/tensor.ts";
import { booleanMask, whereIndices } from "../src/ops/indexing.ts";
import { gather, gatherNd, scatterNd, unsortedSegmentSum } from "../src/ops/gather_scatter.ts";
import { oneHot } from "../src/ops/one_hot.ts";
import { device } from "../src/device.ts";
import {
  assertEquals,
  assertThrowsMatch,
  checkValues,
  deviceDTypes,
  ON_WEBGPU,
  readNow,
  rng,
  tensorFrom,
} from "./helpers.ts";

type Value = number | bigint;
type IndexDType = "int32" | "int64";

const DTYPES = deviceDTypes<DType>(["float32", "float64", "int32", "int64", "uint8", "bool"]);
const SCATTER_DTYPES = deviceDTypes<DType>(["float32", "float64", "int32", "int64"]);
const INDEX_DTYPES: IndexDType[] = ["int32", "int64"];

// ---- helpers ---------------------------------------------------------------------------

function randomValue(dtype: DType, next: () => number): Value {
  const r = next();
  switch (dtype) {
    case "float32":
    case "float64":
      return r * 20 - 10;
    case "int32":
      return Math.floor(r * 2000) - 1000;
    case "int64": // uses both 32-bit words
      return (BigInt(Math.floor(r * 2e6) - 1e6) << 20n) + 7n;
    case "uint8":
      return Math.floor(r * 256);
    case "bool":
      return r < 0.5 ? 1 : 0;
  }
}

/** A random tensor; `strided` makes a non-contiguous view (every other element, offset 1). */
function randomTensor(dtype: DType, shape: number[], seed: number, strided = false): Tensor {
  const n = sizeOf(shape);
  const next = rng(seed);
  const total = strided ? 2 * n + 1 : n;
  const data = new (arrayType(dtype))(total);
  for (let i = 0; i < total; i++) {
    (data as unknown as Value[])[i] = randomValue(dtype, next);
  }
  if (!strided) return tensorFrom(data, dtype, shape);
  const t = tensorFrom(data, dtype, shape, denseStrides(shape).map((s) => 2 * s), 1);
  if (n > 1 && t.contiguous) throw new AssertionError({ message: "expected a strided view" });
  return t;
}

function indexTensor(values: readonly number[], shape: number[], dtype: IndexDType): Tensor {
  const data = dtype === "int32" ? Int32Array.from(values) : BigInt64Array.from(values, BigInt);
  return tensorFrom(data, dtype, shape);
}

function randomInts(n: number, lo: number, hi: number, seed: number): number[] {
  const next = rng(seed);
  return Array.from({ length: n }, () => lo + Math.floor(next() * (hi - lo)));
}

function values(t: Tensor): Value[] {
  return Array.from(readNow(t) as ArrayLike<Value>);
}

function unravel(flat: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    index[d] = flat % shape[d];
    flat = Math.floor(flat / shape[d]);
  }
  return index;
}

function ravel(index: readonly number[], shape: readonly number[]): number {
  let flat = 0;
  for (let d = 0; d < shape.length; d++) flat = flat * shape[d] + index[d];
  return flat;
}

/** Exact comparison of shape and values. */
function assertTensor(
  actual: Tensor,
  dtype: DType,
  shape: readonly number[],
  expected: readonly Value[],
  what: string,
): void {
  if (actual.dtype !== dtype) {
    throw new AssertionError({ message: `${what}: dtype ${actual.dtype}, expected ${dtype}` });
  }
  if (actual.shape.join(",") !== shape.join(",")) {
    throw new AssertionError({
      message: `${what}: shape [${actual.shape}], expected [${shape}]`,
    });
  }
  checkValues(actual, (data) => {
    const got = Array.from(data as ArrayLike<Value>);
    if (got.length !== expected.length) {
      throw new AssertionError({ message: `${what}: ${got.length} values, ${expected.length}` });
    }
    for (let i = 0; i < got.length; i++) {
      if (got[i] !== expected[i] && !(Number.isNaN(got[i]) && Number.isNaN(expected[i]))) {
        throw new AssertionError({
          message: `${what}: element ${i} is ${got[i]}, expected ${expected[i]}`,
        });
      }
    }
  });
}

/** Adds in the dtype's arithmetic (float32 rounding, int32/int64 wrapping). */
function adder(dtype: DType): (a: Value, b: Value) => Value {
  switch (dtype) {
    case "float32":
      return (a, b) => Math.fround((a as number) + (b as number));
    case "int32":
      return (a, b) => ((a as number) + (b as number)) | 0;
    case "int64":
      return (a, b) => BigInt.asIntN(64, (a as bigint) + (b as bigint));
    default:
      return (a, b) => (a as number) + (b as number);
  }
}

const zeroOf = (dtype: DType): Value => dtype === "int64" ? 0n : 0;

// ---- references ------------------------------------------------------------------------

function refGather(
  p: Tensor,
  idx: Tensor,
  axis: number,
  batchDims: number,
): { shape: number[]; values: Value[] } {
  const P = values(p), I = values(idx).map(Number);
  const iTail = idx.rank - batchDims;
  const shape = [
    ...p.shape.slice(0, axis),
    ...idx.shape.slice(batchDims),
    ...p.shape.slice(axis + 1),
  ];
  const out: Value[] = [];
  for (let f = 0; f < sizeOf(shape); f++) {
    const o = unravel(f, shape);
    const k = I[ravel([...o.slice(0, batchDims), ...o.slice(axis, axis + iTail)], idx.shape)];
    out.push(P[ravel([...o.slice(0, axis), k, ...o.slice(axis + iTail)], p.shape)]);
  }
  return { shape, values: out };
}

function refGatherNd(p: Tensor, idx: Tensor, batchDims: number) {
  const P = values(p), I = values(idx).map(Number);
  const depth = idx.shape[idx.rank - 1];
  const head = idx.shape.slice(0, -1);
  const shape = [...head, ...p.shape.slice(batchDims + depth)];
  const out: Value[] = [];
  for (let f = 0; f < sizeOf(shape); f++) {
    const o = unravel(f, shape);
    const row = ravel(o.slice(0, head.length), head);
    const coords = I.slice(row * depth, (row + 1) * depth);
    out.push(P[ravel([...o.slice(0, batchDims), ...coords, ...o.slice(head.length)], p.shape)]);
  }
  return { shape, values: out };
}

/** out[rows[i], :] += data[i, :] in input order; rows outside [0, segments) dropped. */
function refScatterRows(
  dtype: DType,
  data: readonly Value[],
  rows: readonly number[],
  segments: number,
  inner: number,
): Value[] {
  const add = adder(dtype);
  const out = new Array<Value>(segments * inner).fill(zeroOf(dtype));
  rows.forEach((s, i) => {
    if (s < 0 || s >= segments) return;
    for (let k = 0; k < inner; k++) {
      out[s * inner + k] = add(out[s * inner + k], data[i * inner + k]);
    }
  });
  return out;
}

function refScatterNd(idx: Tensor, updates: Tensor, shape: number[]): Value[] {
  const depth = idx.shape[idx.rank - 1];
  const I = values(idx).map(Number);
  const n = sizeOf(idx.shape.slice(0, -1));
  const rows = Array.from(
    { length: n },
    (_, r) => ravel(I.slice(r * depth, (r + 1) * depth), shape.slice(0, depth)),
  );
  return refScatterRows(
    updates.dtype,
    values(updates),
    rows,
    sizeOf(shape.slice(0, depth)),
    sizeOf(shape.slice(depth)),
  );
}

// ---- gather ----------------------------------------------------------------------------

Deno.test("gather matches a reference loop for every dtype, axis and batchDims", () => {
  const cases: { shape: number[]; idx: number[]; axis: number; batchDims?: number }[] = [
    { shape: [5], idx: [3], axis: 0 },
    { shape: [5], idx: [], axis: 0 },
    { shape: [4, 3], idx: [2, 2], axis: 0 },
    { shape: [4, 3], idx: [5], axis: 1 },
    { shape: [4, 3], idx: [2, 3], axis: -1 },
    { shape: [2, 3, 4], idx: [0], axis: -2 },
    { shape: [2, 3, 4], idx: [6], axis: 2 },
    { shape: [2, 3, 4], idx: [], axis: 0 },
    { shape: [2, 3, 4], idx: [2, 5], axis: 1, batchDims: 1 },
    { shape: [2, 3, 4], idx: [2, 5], axis: 2, batchDims: 1 },
    { shape: [2, 3, 4], idx: [2, 5], axis: -1, batchDims: -1 },
    { shape: [2, 3, 4, 5], idx: [2, 3, 6], axis: 3, batchDims: 2 },
    { shape: [2, 3, 4, 5], idx: [2, 3, 2, 2], axis: 2, batchDims: 2 },
    { shape: [3, 2], idx: [3, 0], axis: 1, batchDims: 1 },
  ];
  let seed = 1;
  for (const dtype of DTYPES) {
    for (const c of cases) {
      for (const indexDType of INDEX_DTYPES) {
        for (const strided of [false, true]) {
          const p = randomTensor(dtype, c.shape, seed++, strided);
          const batchDims = c.batchDims ?? 0;
          const bd = batchDims < 0 ? batchDims + c.idx.length : batchDims;
          const axis = c.axis < 0 ? c.axis + c.shape.length : c.axis;
          const idx = indexTensor(
            randomInts(sizeOf(c.idx), 0, c.shape[axis], seed++),
            c.idx,
            indexDType,
          );
          const want = refGather(p, idx, axis, bd);
          const got = gather(p, idx, { axis: c.axis, batchDims: c.batchDims });
          const what = `gather ${dtype} ${JSON.stringify(c)} ${indexDType} strided=${strided}`;
          assertTensor(got, dtype, want.shape, want.values, what);
        }
      }
    }
  }
});

Deno.test("gather takes JS indices as int32, scalars and non-contiguous indices", () => {
  const p = randomTensor("float32", [4, 3], 7);
  const P = values(p);
  assertTensor(gather(p, 2), "float32", [3], P.slice(6, 9), "scalar index");
  assertTensor(gather(p, [[3], [0]]), "float32", [2, 1, 3], [
    ...P.slice(9, 12),
    ...P.slice(0, 3),
  ], "nested JS indices");
  assertTensor(gather([10, 20, 30], new Int32Array([2, 0])), "float32", [2], [30, 10], "typed");
  // Indices viewed with stride 2: [2, 0, 1] out of [2, 9, 0, 9, 1].
  const strided = tensorFrom(Int32Array.from([2, 9, 0, 9, 1]), "int32", [3], [2]);
  assertTensor(gather([10, 20, 30], strided), "float32", [3], [30, 10, 20], "strided indices");
  // Default axis follows batchDims, as in TensorFlow.
  assertTensor(gather([[1, 2], [3, 4]], [[1], [0]], { batchDims: 1 }), "float32", [2, 1], [
    2,
    3,
  ], "axis defaults to batchDims");
});

Deno.test("on WebGPU a bad index gathers 0 and scatters nothing, as TensorFlow's GPU kernels", {
  ignore: !ON_WEBGPU,
}, () => {
  // The device is read asynchronously, so no op can report a bad index when it is called
  // (docs/webgpu.md, "Indices").
  assertTensor(gather([1, 2, 3, 4, 5], [0, 7, -1]), "float32", [3], [1, 0, 0], "gather");
  assertTensor(gatherNd([[1, 2], [3, 4]], [[0, 1], [2, 0]]), "float32", [2], [2, 0], "gatherNd");
  assertTensor(scatterNd([[1], [4]], [5, 6], [4]), "float32", [4], [0, 5, 0, 0], "scatterNd");
  assertTensor(
    unsortedSegmentSum([1, 2, 3], [0, 3, -1], 2),
    "float32",
    [2],
    [1, 0],
    "unsortedSegmentSum",
  );
});

Deno.test(
  "gather rejects bad indices and arguments before the kernel",
  { ignore: ON_WEBGPU },
  () => {
    assertThrowsMatch(
      () => gather([1, 2, 3, 4, 5], [0, 7]),
      /^gather: indices\[1\] = 7 is not in \[0, 5\)$/,
    );
    assertThrowsMatch(
      () => gather([1, 2, 3, 4, 5], [[0], [-1]]),
      /^gather: indices\[1,0\] = -1 is not in \[0, 5\)$/,
    );
    assertThrowsMatch(
      () => gather([1, 2], indexTensor([0, 2], [2], "int64")),
      /^gather: indices\[1\] = 2 is not in \[0, 2\)$/,
    );
    assertThrowsMatch(() => gather([1, 2], 2), /^gather: indices = 2 is not in \[0, 2\)$/);
    assertThrowsMatch(() => gather([], [0]), /gather: indices\[0\] = 0 is not in \[0, 0\)/);
    assertThrowsMatch(
      () => gather([1, 2], [0.5]),
      /^gather: indices must be int32 or int64, got float32$/,
    );
    assertThrowsMatch(
      () => gather([1, 2], tensorFrom(Float64Array.from([0]), "float64", [1])),
      /gather: indices must be int32 or int64, got float64/,
    );
    assertThrowsMatch(
      () => gather([1, 2], [true]),
      /gather: indices must be int32 or int64, got bool/,
    );
    assertThrowsMatch(() => gather([1, 2], [0], { axis: 1 }), /gather: axis 1 is out of range/);
    assertThrowsMatch(() => gather(3, [0]), /gather: params must have rank >= 1/);
    assertThrowsMatch(
      () => gather([[1, 2], [3, 4]], [[0], [1]], { axis: 0, batchDims: 1 }),
      /gather: batchDims \(1\) must be <= axis \(0\)/,
    );
    assertThrowsMatch(
      () => gather([[1, 2], [3, 4]], [[0], [1], [1]], { axis: 1, batchDims: 1 }),
      /gather: params.shape\[0\] = 2 must equal indices.shape\[0\] = 3/,
    );
    assertThrowsMatch(
      () => gather([1, 2], [0], { batchDims: 2 }),
      /gather: batchDims 2 is out of range/,
    );
  },
);

// ---- gatherNd --------------------------------------------------------------------------

Deno.test("gatherNd matches a reference loop for every dtype, depth and batchDims", () => {
  const cases: { shape: number[]; idx: number[]; batchDims?: number }[] = [
    { shape: [5], idx: [1] },
    { shape: [5], idx: [3, 1] },
    { shape: [4, 3], idx: [6, 2] },
    { shape: [4, 3], idx: [2, 2, 1] },
    { shape: [4, 3], idx: [0, 2] },
    { shape: [4, 3], idx: [3, 0] },
    { shape: [2, 3, 4], idx: [5, 3] },
    { shape: [2, 3, 4], idx: [2, 2] },
    { shape: [2, 3, 4], idx: [2, 1], batchDims: 1 },
    { shape: [2, 3, 4], idx: [2, 4, 2], batchDims: 1 },
    { shape: [2, 3, 4, 5], idx: [2, 3, 7, 1], batchDims: 2 },
    { shape: [2, 3, 4, 5], idx: [2, 3, 2], batchDims: 2 },
  ];
  let seed = 1000;
  for (const dtype of DTYPES) {
    for (const c of cases) {
      for (const indexDType of INDEX_DTYPES) {
        for (const strided of [false, true]) {
          const bd = c.batchDims ?? 0;
          const p = randomTensor(dtype, c.shape, seed++, strided);
          const depth = c.idx[c.idx.length - 1];
          const n = sizeOf(c.idx.slice(0, -1));
          const raw: number[] = [];
          const next = rng(seed++);
          for (let r = 0; r < n; r++) {
            for (let k = 0; k < depth; k++) raw.push(Math.floor(next() * c.shape[bd + k]));
          }
          const idx = indexTensor(raw, c.idx, indexDType);
          const want = refGatherNd(p, idx, bd);
          const got = gatherNd(p, idx, { batchDims: c.batchDims });
          const what = `gatherNd ${dtype} ${JSON.stringify(c)} ${indexDType} strided=${strided}`;
          assertTensor(got, dtype, want.shape, want.values, what);
        }
      }
    }
  }
});

Deno.test("gatherNd rejects bad indices and arguments", { ignore: ON_WEBGPU }, () => {
  assertThrowsMatch(
    () => gatherNd([[1, 2], [3, 4]], [[0, 1], [2, 0]]),
    /^gatherNd: indices\[1\] = \[2, 0\] does not index into param shape \[2,2\]$/,
  );
  assertThrowsMatch(
    () => gatherNd([[1, 2], [3, 4]], indexTensor([0, -1], [1, 2], "int64")),
    /^gatherNd: indices\[0\] = \[0, -1\] does not index into param shape \[2,2\]$/,
  );
  // With batch dims the kernel sees rows prefixed by their batch: the message names the row
  // of the caller's indices. An empty output is checked all the same.
  assertThrowsMatch(
    () => gatherNd([[1, 2, 3], [4, 5, 6]], [[1], [5]], { batchDims: 1 }),
    /^gatherNd: indices\[1\] = \[5\] does not index into param shape \[3\]$/,
  );
  assertThrowsMatch(
    () => gatherNd(tensorFrom(new Float32Array(0), "float32", [2, 0]), [[1], [2]]),
    /^gatherNd: indices\[1\] = \[2\] does not index into param shape \[2,0\]$/,
  );
  assertThrowsMatch(
    () => gather([[1, 2, 3], [4, 5, 6]], [[0], [4]], { batchDims: 1, axis: 1 }),
    /^gather: indices\[1,0\] = 4 is not in \[0, 3\)$/,
  );
  assertThrowsMatch(() => gatherNd([1, 2], [[0.5]]), /gatherNd: indices must be int32 or int64/);
  assertThrowsMatch(() => gatherNd([1, 2], 0), /gatherNd: indices must have rank >= 1/);
  assertThrowsMatch(() => gatherNd([1, 2], [[0, 0]]), /gatherNd: indices' last dim \(2\)/);
  assertThrowsMatch(
    () => gatherNd([[1, 2], [3, 4]], [[1]], { batchDims: 1 }),
    /gatherNd: params.shape\[0\] = 2 must equal indices.shape\[0\] = 1/,
  );
  assertThrowsMatch(() => gatherNd([[1, 2]], [[0]], { batchDims: 2 }), /gatherNd: batchDims 2/);
});

// ---- whereIndices, booleanMask ---------------------------------------------------------

Deno.test("whereIndices and booleanMask of a WebGPU tensor name the asynchronous read", {
  ignore: !ON_WEBGPU,
}, () => {
  const mask = tensorFrom(Uint8Array.from([1, 0, 1]), "bool", [3]);
  assertThrowsMatch(() => whereIndices(mask), /^whereIndices: the output's shape depends on/);
  assertThrowsMatch(
    () => booleanMask(tensorFrom(Float32Array.of(1, 2, 3), "float32", [3]), mask),
    /^booleanMask: the output's shape depends on the values of a tensor on .*GPU:0/,
  );
});

/** fn's tensors on the CPU in the WebGPU run (host data there), on the test device elsewhere. */
const onHost = <T>(fn: () => T): T => ON_WEBGPU ? device("/cpu:0", fn) : fn();

// The output's shape depends on the mask's values: the CPU's (and the stand-in GPU's) only.
Deno.test("whereIndices lists the coordinates of true elements", { ignore: ON_WEBGPU }, () => {
  for (const shape of [[7], [3, 4], [2, 3, 4], [0, 3], []]) {
    for (const dtype of ["bool", "float32", "int64", "uint8"] as DType[]) {
      for (const strided of [false, true]) {
        const t = randomTensor(dtype, shape, 77 + shape.length, strided);
        const want: Value[] = [];
        const T = values(t);
        let n = 0;
        for (let f = 0; f < t.size; f++) {
          if (Number(T[f]) === 0) continue;
          n++;
          for (const c of unravel(f, shape)) want.push(BigInt(c));
        }
        assertTensor(whereIndices(t), "int64", [n, shape.length], want, `where ${shape} ${dtype}`);
      }
    }
  }
  assertTensor(
    whereIndices([[true, false], [false, true]]),
    "int64",
    [2, 2],
    [0n, 0n, 1n, 1n],
    "js",
  );
  assertTensor(whereIndices([NaN, 0, -1]), "int64", [2, 1], [0n, 2n], "NaN counts as true");
  assertTensor(whereIndices([false, false]), "int64", [0, 1], [], "none true");
});

// The mask sizes the output, so it is host data: on the WebGPU device a CPU tensor.
Deno.test("booleanMask keeps the masked elements and slices", () => {
  let seed = 300;
  const cases: { shape: number[]; mask: number[]; axis?: number }[] = [
    { shape: [6], mask: [6] },
    { shape: [4, 3], mask: [4] },
    { shape: [4, 3], mask: [4, 3] },
    { shape: [2, 3, 4], mask: [3], axis: 1 },
    { shape: [2, 3, 4], mask: [3, 4], axis: 1 },
    { shape: [2, 3, 4], mask: [2, 3] },
    { shape: [0, 3], mask: [0] },
  ];
  for (const dtype of DTYPES) {
    for (const c of cases) {
      for (const strided of [false, true]) {
        const x = randomTensor(dtype, c.shape, seed++, strided);
        const mask = onHost(() => randomTensor("bool", c.mask, seed++, strided));
        const axis = c.axis ?? 0;
        const X = values(x), M = values(mask);
        const pre = sizeOf(c.shape.slice(0, axis));
        const post = sizeOf(c.shape.slice(axis + c.mask.length));
        const kept = M.flatMap((m, i) => m ? [i] : []);
        const want: Value[] = [];
        for (let a = 0; a < pre; a++) {
          for (const k of kept) {
            for (let b = 0; b < post; b++) want.push(X[(a * mask.size + k) * post + b]);
          }
        }
        const shape = [
          ...c.shape.slice(0, axis),
          kept.length,
          ...c.shape.slice(axis + c.mask.length),
        ];
        const got = booleanMask(x, mask, { axis: c.axis });
        assertTensor(got, dtype, shape, want, `booleanMask ${dtype} ${JSON.stringify(c)}`);
      }
    }
  }
  assertTensor(booleanMask([1, 2, 3], [true, false, true]), "float32", [2], [1, 3], "js");
  assertThrowsMatch(
    () => booleanMask([1, 2, 3], [1, 0, 1]),
    /booleanMask: mask must be bool, got float32/,
  );
  assertThrowsMatch(
    () => booleanMask([1, 2, 3], [true, false]),
    /booleanMask: mask shape \[2\] does not match/,
  );
  assertThrowsMatch(() => booleanMask([1, 2, 3], true), /booleanMask: mask cannot be a scalar/);
  assertThrowsMatch(
    () => booleanMask([1, 2], [true, false], { axis: 1 }),
    /booleanMask: a mask of shape/,
  );
});

// ---- oneHot ----------------------------------------------------------------------------

Deno.test("oneHot matches a reference loop for every dtype and axis", () => {
  const cases: { shape: number[]; depth: number; axis?: number }[] = [
    { shape: [5], depth: 4 },
    { shape: [5], depth: 4, axis: 0 },
    { shape: [3, 4], depth: 3, axis: 1 },
    { shape: [3, 4], depth: 5, axis: -1 },
    { shape: [2, 3, 2], depth: 3, axis: 0 },
    { shape: [2, 3, 2], depth: 3, axis: -2 },
    { shape: [], depth: 3 },
    { shape: [0], depth: 3 },
    { shape: [4], depth: 0 },
  ];
  let seed = 500;
  for (const dtype of DTYPES) {
    for (const c of cases) {
      for (const indexDType of INDEX_DTYPES) {
        // Some indices fall outside [0, depth): their rows are all off.
        const raw = randomInts(sizeOf(c.shape), -1, c.depth + 2, seed++);
        const idx = indexTensor(raw, c.shape, indexDType);
        const rank = c.shape.length + 1;
        const axis = (c.axis ?? -1) < 0 ? (c.axis ?? -1) + rank : c.axis!;
        const shape = [...c.shape.slice(0, axis), c.depth, ...c.shape.slice(axis)];
        const on = dtype === "bool" ? 1 : 3, off = dtype === "bool" ? 0 : 2;
        const cast = (v: number): Value => dtype === "int64" ? BigInt(v) : v;
        const want: Value[] = [];
        for (let f = 0; f < sizeOf(shape); f++) {
          const o = unravel(f, shape);
          const d = o.splice(axis, 1)[0];
          want.push(cast(raw[ravel(o, c.shape)] === d ? on : off));
        }
        const got = oneHot(idx, c.depth, { onValue: on, offValue: off, axis: c.axis, dtype });
        assertTensor(got, dtype, shape, want, `oneHot ${dtype} ${JSON.stringify(c)} ${indexDType}`);
      }
    }
  }
});

Deno.test("oneHot defaults, value conversion and errors", () => {
  assertTensor(
    oneHot([0, 2, -1, 3], 3),
    "float32",
    [4, 3],
    [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0],
    "defaults",
  );
  assertTensor(oneHot([1], 2, { onValue: 2.7, offValue: -1.5, dtype: "int32" }), "int32", [1, 2], [
    -1,
    2,
  ], "float values truncate into int32 as a cast does");
  assertTensor(oneHot([1], 2, { onValue: true, offValue: false, dtype: "bool" }), "bool", [1, 2], [
    0,
    1,
  ], "bool");
  assertThrowsMatch(() => oneHot([0.5], 2), /oneHot: indices must be int32 or int64, got float32/);
  assertThrowsMatch(() => oneHot([0], -1), /oneHot: depth must be a non-negative integer/);
  assertThrowsMatch(() => oneHot([0], 2, { axis: 2 }), /oneHot: axis 2 is out of range/);
  assertThrowsMatch(() => oneHot([0], 2, { dtype: "int8" as DType }), /oneHot: unknown dtype/);
});

// ---- scatterNd, unsortedSegmentSum -----------------------------------------------------

Deno.test("scatterNd adds duplicates and matches a reference loop", () => {
  const cases: { shape: number[]; idx: number[] }[] = [
    { shape: [6], idx: [10, 1] },
    { shape: [4, 3], idx: [9, 1] },
    { shape: [4, 3], idx: [9, 2] },
    { shape: [4, 3], idx: [3, 3, 2] },
    { shape: [2, 3, 4], idx: [12, 2] },
    { shape: [2, 3, 4], idx: [5, 0] },
    { shape: [2, 3], idx: [3, 0] },
    { shape: [0, 3], idx: [0, 1] },
  ];
  let seed = 700;
  for (const dtype of SCATTER_DTYPES) {
    for (const c of cases) {
      for (const indexDType of INDEX_DTYPES) {
        for (const strided of [false, true]) {
          const depth = c.idx[c.idx.length - 1];
          const n = sizeOf(c.idx.slice(0, -1));
          const next = rng(seed++);
          const raw: number[] = [];
          for (let r = 0; r < n; r++) {
            for (let k = 0; k < depth; k++) raw.push(Math.floor(next() * c.shape[k]));
          }
          const idx = indexTensor(raw, c.idx, indexDType);
          const updates = randomTensor(
            dtype,
            [...c.idx.slice(0, -1), ...c.shape.slice(depth)],
            seed++,
            strided,
          );
          const got = scatterNd(idx, updates, c.shape);
          const what = `scatterNd ${dtype} ${JSON.stringify(c)} ${indexDType} strided=${strided}`;
          assertTensor(got, dtype, c.shape, refScatterNd(idx, updates, c.shape), what);
        }
      }
    }
  }
  assertTensor(scatterNd([[1], [3], [1]], [9, 10, 11], [4]), "float32", [4], [0, 20, 0, 10], "js");
});

Deno.test("scatterNd rejects bad indices, shapes and dtypes", { ignore: ON_WEBGPU }, () => {
  assertThrowsMatch(
    () => scatterNd([[1], [4]], [1, 2], [4]),
    /^scatterNd: indices\[1\] = \[4\] does not index into shape \[4\]$/,
  );
  assertThrowsMatch(
    () => scatterNd(indexTensor([0, 0, 1, -2], [2, 2], "int64"), [1, 2], [2, 2]),
    /^scatterNd: indices\[1\] = \[1, -2\] does not index into shape \[2,2\]$/,
  );
  assertThrowsMatch(
    () => scatterNd([[0.5]], [1], [4]),
    /scatterNd: indices must be int32 or int64/,
  );
  assertThrowsMatch(
    () => scatterNd([[1]], [1, 2], [4]),
    /scatterNd: updates shape \[2\] must be \[1\]/,
  );
  assertThrowsMatch(
    () => scatterNd([[1]], [true], [4]),
    /scatterNd: updates must be float32, float64/,
  );
  assertThrowsMatch(() => scatterNd([[1, 1]], [1], [4]), /scatterNd: indices' last dim \(2\)/);
  assertThrowsMatch(() => scatterNd([[1]], [1], [-4]), /scatterNd: shape \[-4\] has an invalid/);
});

Deno.test("unsortedSegmentSum adds duplicates and drops out-of-range ids", () => {
  const cases: { shape: number[]; idRank: number; segments: number }[] = [
    { shape: [10], idRank: 1, segments: 4 },
    { shape: [10, 3], idRank: 1, segments: 4 },
    { shape: [4, 5, 3], idRank: 2, segments: 6 },
    { shape: [4, 5], idRank: 2, segments: 3 },
    { shape: [0, 3], idRank: 1, segments: 2 },
    { shape: [5, 2], idRank: 1, segments: 0 },
  ];
  let seed = 900;
  for (const dtype of SCATTER_DTYPES) {
    for (const c of cases) {
      for (const indexDType of INDEX_DTYPES) {
        for (const strided of [false, true]) {
          const idShape = c.shape.slice(0, c.idRank);
          // Ids from -2 to segments + 1: some fall outside and are dropped.
          const raw = randomInts(sizeOf(idShape), -2, c.segments + 2, seed++);
          const ids = indexTensor(raw, idShape, indexDType);
          const data = randomTensor(dtype, c.shape, seed++, strided);
          const inner = sizeOf(c.shape.slice(c.idRank));
          const want = refScatterRows(dtype, values(data), raw, c.segments, inner);
          const got = unsortedSegmentSum(data, ids, c.segments);
          const what = `unsortedSegmentSum ${dtype} ${JSON.stringify(c)} ${indexDType}`;
          assertTensor(got, dtype, [c.segments, ...c.shape.slice(c.idRank)], want, what);
        }
      }
    }
  }
  assertTensor(unsortedSegmentSum([1, 2, 3, 4], [0, 1, 0, 1], 2), "float32", [2], [4, 6], "js");
  assertTensor(unsortedSegmentSum([1, 2, 3], [-1, 5, 0], 2), "float32", [2], [3, 0], "dropped");
  assertThrowsMatch(
    () => unsortedSegmentSum([1, 2, 3], [0, 1], 2),
    /unsortedSegmentSum: segmentIds shape \[2\] must be a prefix of data shape \[3\]/,
  );
  assertThrowsMatch(
    () => unsortedSegmentSum([1, 2], [0.5, 1], 2),
    /unsortedSegmentSum: segmentIds must be int32/,
  );
  assertThrowsMatch(
    () => unsortedSegmentSum([true], [0], 2),
    /unsortedSegmentSum: data must be float32/,
  );
  assertThrowsMatch(
    () => unsortedSegmentSum([1], [0], -1),
    /unsortedSegmentSum: numSegments must be a non-negative/,
  );
});

// ---- threads and the kernels' own checks -----------------------------------------------

function withThreads<T>(n: number, fn: () => T): T {
  native.eager_set_num_threads(n);
  try {
    return fn();
  } finally {
    native.eager_set_num_threads(0);
  }
}

// The CPU kernels' thread pool (EAGER_NUM_THREADS), below: the CPU's own property.
Deno.test("scatter-adds give bitwise the same result for any thread count", {
  ignore: ON_WEBGPU,
}, () => {
  const runs: { name: string; run: () => Tensor; want: () => Value[] }[] = [];
  // Few columns: the kernel splits output segments.
  const narrowIds = randomInts(200_000, -1, 50, 1);
  const narrow = randomTensor("float32", [200_000, 4], 2);
  runs.push({
    name: "segment sum, narrow rows",
    run: () => unsortedSegmentSum(narrow, indexTensor(narrowIds, [200_000], "int32"), 50),
    want: () => refScatterRows("float32", values(narrow), narrowIds, 50, 4),
  });
  // Wide rows: the kernel splits columns.
  const wideIds = randomInts(5000, 0, 7, 3);
  const wide = randomTensor("float64", [5000, 256], 4);
  runs.push({
    name: "segment sum, wide rows",
    run: () => unsortedSegmentSum(wide, indexTensor(wideIds, [5000], "int64"), 7),
    want: () => refScatterRows("float64", values(wide), wideIds, 7, 256),
  });
  const ndIdx = indexTensor(randomInts(2 * 100_000, 0, 3, 5), [100_000, 2], "int32");
  const ndUpdates = randomTensor("float32", [100_000, 8], 6);
  runs.push({
    name: "scatterNd",
    run: () => scatterNd(ndIdx, ndUpdates, [3, 3, 8]),
    want: () => refScatterNd(ndIdx, ndUpdates, [3, 3, 8]),
  });
  for (const { name, run, want } of runs) {
    const expected = want();
    const one = withThreads(1, run);
    assertTensor(one, one.dtype, one.shape, expected, `${name}, 1 thread`);
    for (const n of [2, 3, 4]) {
      assertTensor(withThreads(n, run), one.dtype, one.shape, expected, `${name}, ${n} threads`);
    }
  }
});

Deno.test("large gather and oneHot agree across thread counts", { ignore: ON_WEBGPU }, () => {
  const p = randomTensor("int64", [1000, 33], 8);
  const idx = indexTensor(randomInts(40_000, 0, 1000, 9), [40_000], "int32");
  const want = refGather(p, idx, 0, 0);
  for (const n of [1, 2, 4]) {
    assertTensor(
      withThreads(n, () => gather(p, idx)),
      "int64",
      want.shape,
      want.values,
      `gather ${n}`,
    );
  }
  const cols = indexTensor(randomInts(100_000, 0, 10, 10), [100_000], "int64");
  const hot = withThreads(1, () => oneHot(cols, 10, { axis: 0 }));
  for (const n of [2, 4]) {
    assertTensor(
      withThreads(n, () => oneHot(cols, 10, { axis: 0 })),
      "float32",
      hot.shape,
      values(hot),
      `oneHot ${n}`,
    );
  }
});

Deno.test("the kernels check indices and report the first bad one (EAGER_ERR_INDEX = 5)", () => {
  const out = new Float32Array(4);
  const params = Float32Array.from([1, 2, 3]);
  const bad = new BigInt64Array(1);
  // dtype f32 = 0, index dtypes i32 = 2 and i64 = 3.
  const bad32 = Int32Array.from([0, 3]);
  const bad64 = BigInt64Array.from([-1n, 0n]);
  const gatherStatus = (idx: Int32Array | BigInt64Array, code: number) =>
    native.eager_gather(0, code, 1, 1, 3, 1, 2, out, params, 0, idx, 0, bad);
  assertEquals([gatherStatus(bad32, 2), bad[0]], [5, 1n]);
  assertEquals([gatherStatus(bad64, 3), bad[0]], [5, 0n]);
  // An empty output (inner = 0) still checks: index 1 of [0, 3, 7] is the first bad one.
  const three = Int32Array.from([0, 3, 7]);
  assertEquals([native.eager_gather(0, 2, 1, 1, 3, 0, 3, out, params, 0, three, 0, bad), bad[0]], [
    5,
    1n,
  ]);
  const shape = BigInt64Array.from([3n]);
  bad[0] = -1n;
  const nd = native.eager_gather_nd(0, 2, 1, shape, 2, 1, out, params, 0, bad32, 0, bad);
  assertEquals([nd, bad[0]], [5, 1n]);
  const sc = native.eager_scatter_nd(0, 3, 1, shape, 2, 1, out, params, 0, bad64, 0, bad);
  assertEquals([sc, bad[0]], [5, 0n]);
  // The first bad one whatever the thread count: 40,000 rows, bad from position 30,001 on.
  const many = new Int32Array(40000).fill(1);
  many.fill(9, 30001);
  const wide = new Float32Array(40000 * 64);
  const big = new Float32Array(3 * 64);
  for (const n of [1, 2, 3]) {
    const status = withThreads(
      n,
      () => native.eager_gather(0, 2, 1, 1, 3, 64, 40000, wide, big, 0, many, 0, bad),
    );
    assertEquals([status, bad[0]], [5, 30001n]);
  }
  // A bool scatter is a dtype error (2), an unknown index dtype an argument error (1).
  const seg = native.eager_unsorted_segment_sum(5, 2, 1, 1, 1, out, params, 0, bad32, 0);
  const badIndexDType = native.eager_gather(0, 0, 1, 1, 3, 1, 2, out, params, 0, bad32, 0, bad);
  if (seg !== 2 || badIndexDType !== 1) {
    throw new AssertionError({ message: `segment sum gave ${seg}, gather gave ${badIndexDType}` });
  }
});
