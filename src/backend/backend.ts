/**
 * The seam between the ops and the kernels. An op computes shapes and checks its arguments
 * in TS, takes its backend from its inputs (`backendOf`), asks it for output storage and
 * calls one of its op families; the backend owns the storage and runs the kernel. A tensor
 * is a backend's storage plus a layout (dtype, shape, strides, offset).
 *
 * Invariants:
 * - A backend's methods only ever receive tensors and storage of that backend
 *   (`backendOf` raises for inputs on two devices: no silent copies).
 * - CPU storage is a TypedArray; any other backend's storage is a `DeviceBuffer` naming
 *   its backend, so a tensor's backend follows from its storage alone.
 * - Operands are tensors (views: shape, strides, offset); outputs are whole, dense
 *   storages that the op allocated from the same backend.
 * @module
 */
import type { DType, TypedArray } from "../dtype.ts";
import type { Tensor } from "../tensor.ts";
import type { ConvParams, PoolParams } from "../native/codes.ts";

/** The storage of a tensor on a backend other than the CPU. */
export interface DeviceBuffer {
  readonly backend: Backend;
}

/** What a tensor views: a TypedArray on the CPU, a backend's buffer elsewhere. */
export type Storage = TypedArray | DeviceBuffer;

/** A matrix operand of a product: the tensor and its row / column strides. */
export interface MatrixOperand {
  readonly t: Tensor;
  readonly rs: number;
  readonly cs: number;
}

/** The output geometry of a convolution and its kernel parameters. */
export interface ConvGeometry {
  readonly out: number[];
  readonly params: ConvParams;
}

/** The output geometry of a pooling and its kernel parameters. */
export interface PoolGeometry {
  readonly out: number[];
  readonly params: PoolParams;
}

/**
 * A sparse matrix in CSR form: row i's entries are index[start[i] .. start[i + 1]) with
 * their weights (the taps of an image resampling, src/ops/image/resample.ts).
 */
export interface ResampleTaps {
  readonly start: Int32Array;
  readonly index: Int32Array;
  readonly weight: Float64Array;
}

/** The three passes of a convolution: (x, filter) -> y, (filter, dy) -> dx, (x, dy) -> df. */
export type ConvPass = "forward" | "inputGrad" | "filterGrad";

/**
 * A device: its storage and its kernels. `S` is its storage type (TypedArray for the CPU).
 * NOTE: methods, not function-valued properties, so that a `Backend<TypedArray>` is a
 * `Backend` (method parameters are compared both ways).
 */
export interface Backend<S = Storage> {
  /** The canonical device name, as `tensor.device` reports it. */
  readonly device: string;
  /** Whether `dataSync()` works: false where the device can only be read asynchronously. */
  readonly readsSynchronously: boolean;
  /** Whether tensors of `dtype` can live here; absent: every dtype does. */
  holds?(dtype: DType): boolean;

  // --- storage
  /** n zero-filled elements of dtype. */
  allocate(dtype: DType, n: number, op: string): S;
  /** n elements of dtype whose contents are unspecified: the op's kernel writes them all. */
  allocateOutput(dtype: DType, n: number, op: string): S;
  /** Storage holding a copy of `values` (the CPU keeps the array itself: it is its storage). */
  upload(values: TypedArray, op: string): S;
  /** The elements of a view, dense row-major, converted to `dtype`, as a host array. */
  readSync(view: Tensor, dtype: DType, op: string): TypedArray;
  /** The same, without blocking (the only read some devices have). */
  read(view: Tensor, dtype: DType, op: string): Promise<TypedArray>;
  /** A tensor now views `storage` (counted, so that `release` knows when it is unused). */
  hold(storage: S): void;
  /** A tensor that viewed `storage` was disposed; the last one frees it. */
  release(storage: S): void;
  /** Frees `storage` now; the caller guarantees nothing else uses it. Returns whether it did. */
  free(storage: S): boolean;
  /**
   * The identity under which `storage` is recorded in release scopes
   * (src/backend/release_scope.ts), or undefined when it cannot be freed early (the CPU's
   * small buffers share slabs).
   */
  storageKey(storage: S): object | undefined;

  // --- op families (codes: the enums of src/native/codes.ts)
  /** Copies `src` (any layout) into the strided region (src's shape) of `out`, converting. */
  copyStrided(
    op: string,
    out: S,
    outDtype: DType,
    strides: readonly number[],
    offset: number,
    src: Tensor,
  ): void;
  /**
   * Unary `code` of x into new dense storage of x's size, as `outDtype`. NOTE: the
   * elementwise families allocate their own output: one call per small op, not two.
   * `into`: storage to write instead (a traced graph's planned buffer; only the CPU's graphs
   * pass it).
   */
  unary(op: string, code: number, x: Tensor, outDtype: DType, into?: S): S;
  /** Binary `code` of x and y, broadcast to `shape` (n elements), into new dense storage. */
  binary(
    op: string,
    code: number,
    x: Tensor,
    y: Tensor,
    shape: readonly number[],
    n: number,
    outDtype: DType,
    into?: S,
  ): S;
  /**
   * A chain of elementwise steps over n elements in one pass (a traced graph's fusion,
   * src/graph/fusion.ts): `program` holds 4 int32 a step (kind 0 unary / 1 binary, op code,
   * operand a, operand b; operand k < inputs.length is input k, else step k - inputs.length's
   * result); inputs are dense, of n elements or one; step s writes outputs[outputSlots[s]]
   * when that is >= 0. Every step computes as its own kernel would. Optional.
   */
  fusedElementwise?(
    op: string,
    dtype: DType,
    n: number,
    program: Int32Array,
    inputs: readonly Tensor[],
    outputs: readonly S[],
    outputSlots: Int32Array,
  ): void;
  /** out (dense, `shape`) = cond ? a : b, broadcast. */
  where(op: string, cond: Tensor, a: Tensor, b: Tensor, shape: readonly number[], out: S): void;
  /** Reduces x walked as shape / strides (kept dims first, `keepRank` of them) into out. */
  reduce(
    op: string,
    code: number,
    x: Tensor,
    shape: readonly number[],
    strides: readonly number[],
    keepRank: number,
    out: S,
  ): void;
  /** out [batch..., m, n] = a [batch..., m, k] . b [batch..., k, n]. */
  matmul(
    op: string,
    batch: readonly number[],
    m: number,
    n: number,
    k: number,
    a: MatrixOperand,
    aBatchStrides: readonly number[],
    b: MatrixOperand,
    bBatchStrides: readonly number[],
    out: S,
  ): void;
  /** softmax (or log-softmax) of each row of the dense [rows, cols] x into out. */
  softmax(op: string, x: Tensor, rows: number, cols: number, log: boolean, out: S): void;
  /** Fills out with Philox draws of `dist` (params a, b) from seeds [key, counter]. */
  randomFill(
    op: string,
    dist: number,
    dtype: DType,
    seeds: readonly bigint[],
    params: readonly number[],
    out: S,
    n: number,
  ): void;
  /**
   * out [rows, cols] = (exp(logp) - oneHot(labels)) * dy[row]: sparse softmax
   * cross-entropy's gradient from the log-probabilities (labels in range: the op checked).
   */
  sparseXentGrad(
    op: string,
    rows: number,
    cols: number,
    logp: Tensor,
    labels: Tensor,
    dy: Tensor,
    out: S,
  ): void;
  /** z [rows, cols] = activation(z + bias), in place in z's storage (z dense, unshared). */
  biasActivation(
    op: string,
    z: Tensor,
    rows: number,
    cols: number,
    bias: Tensor,
    activation: number,
  ): void;
  /**
   * One LSTM step (Keras's gate order i, f, c, o) over dense rows: from z [rows, 4 units]
   * and c [rows, units] into hOut and cOut ([rows, units]); z and c are dense.
   */
  lstmStep(
    op: string,
    rows: number,
    units: number,
    forgetBias: number,
    z: Tensor,
    c: Tensor,
    hOut: S,
    cOut: S,
  ): void;
  /** lstmStep's gradient from dense dh and dcNext: dzOut [rows, 4 units], dcOut [rows, units]. */
  lstmStepGrad(
    op: string,
    rows: number,
    units: number,
    forgetBias: number,
    tensors: readonly [z: Tensor, c: Tensor, dh: Tensor, dcNext: Tensor],
    dzOut: S,
    dcOut: S,
  ): void;
  /**
   * Batch normalisation of dense x viewed as `dims` [outer, channels, inner], per channel:
   * `y = (x - mean) * scale / sqrt(variance + epsilon) + offset` (then relu, with `relu`) into
   * yOut. With
   * `stats[0]` (given) the mean and variance are read from it; otherwise the batch's (biased)
   * ones are computed into meanOut and varianceOut. Optional: a backend without it runs the
   * op-by-op form (src/ops/batch_norm.ts).
   */
  batchNorm?(
    op: string,
    dims: readonly [number, number, number],
    epsilon: number,
    relu: boolean,
    tensors: readonly [x: Tensor, scale: Tensor | null, offset: Tensor | null],
    stats: readonly [
      given: readonly [mean: Tensor, variance: Tensor] | null,
      meanOut: S,
      varianceOut: S,
    ],
    yOut: S,
  ): void;
  /**
   * batchNorm's gradient from dy: dx, dscale, doffset; `training` says whether mean and
   * variance were the batch's; reluOutput is y of a relu-fused batchNorm (dy counts where it
   * is > 0). Optional, with batchNorm.
   */
  batchNormGrad?(
    op: string,
    dims: readonly [number, number, number],
    epsilon: number,
    training: boolean,
    tensors: readonly [
      x: Tensor,
      dy: Tensor,
      scale: Tensor | null,
      mean: Tensor,
      variance: Tensor,
      reluOutput: Tensor | null,
    ],
    outs: readonly [dx: S, dscale: S, doffset: S],
  ): void;
  /**
   * One fused optimizer update of `rule` over n elements: the variable's `value` and `grad`
   * into varOut, each slot from slotIns[i] into slotOuts[i] (a slot's own storage for an
   * update in place). `hyper`: the rule's hyperparameters.
   */
  fusedUpdate(
    op: string,
    rule: number,
    dtype: DType,
    n: number,
    hyper: Float64Array,
    varOut: S,
    value: Tensor,
    grad: Tensor,
    slotOuts: readonly S[],
    slotIns: readonly Tensor[],
  ): void;
  /** One pass of a convolution (NHWC x of shape xs, HWIO filters fs) writing `result`. */
  conv(
    op: string,
    pass: ConvPass,
    dtype: DType,
    shapes: [readonly number[], readonly number[], ConvGeometry],
    result: S,
    a: Tensor,
    b: Tensor,
  ): void;
  /**
   * One pass of a depthwise convolution (NHWC, dense; geometry: n, h, w, c, m, kh, kw, oh, ow,
   * sh, sw, dh, dw, padTop, padLeft) from (x, filter), (filter, dy) or (x, dy). Optional.
   */
  depthwiseConv?(
    op: string,
    pass: ConvPass,
    dtype: DType,
    geometry: readonly number[],
    result: S,
    a: Tensor,
    b: Tensor,
  ): void;
  /** Max (or average) pooling of x (NHWC shape xs) into `result`. */
  pool(
    op: string,
    max: boolean,
    dtype: DType,
    shapes: [readonly number[], PoolGeometry],
    result: S,
    x: Tensor,
  ): void;
  /** Max pooling's gradient from (x, dy), or its second-order gradient from (x, ddx). */
  maxPoolGrad(
    op: string,
    secondOrder: boolean,
    dtype: DType,
    shapes: [readonly number[], PoolGeometry],
    result: S,
    x: Tensor,
    other: Tensor,
  ): void;
  /** Average pooling's gradient: dy spread over each window into an input-shaped result. */
  avgPoolGrad(
    op: string,
    dtype: DType,
    shapes: [readonly number[], PoolGeometry],
    result: S,
    dy: Tensor,
  ): void;
  /** out[b, o, j, :] = params[b, o, idx[b, j], :]; -1, or the position of a bad index. */
  gather(
    op: string,
    params: Tensor,
    idx: Tensor,
    dims: readonly number[],
    out: S,
  ): number;
  /** out[i, :] = params[idx[i, 0..depth), ...]; -1, or the position of a bad index. */
  gatherNd(
    op: string,
    params: Tensor,
    paramsShape: readonly number[],
    idx: Tensor,
    rows: number,
    depth: number,
    out: S,
  ): number;
  /** out (zeroed) += updates[i, :] at idx[i, ...]; -1, or the position of a bad index. */
  scatterNd(
    op: string,
    updates: Tensor,
    idx: Tensor,
    outShape: readonly number[],
    rows: number,
    depth: number,
    out: S,
  ): number;
  /** out[s, :] (zeroed) = sum of data[i, :] over ids[i] == s. */
  segmentSum(
    op: string,
    data: Tensor,
    ids: Tensor,
    inner: number,
    numSegments: number,
    out: S,
  ): void;
  /**
   * out [batch, outH, outW, c] (dims: batch, inH, inW, c, outH, outW) = sum of
   * rows.weight * cols.weight * x[b, row index, column index, c] over each output pixel's taps;
   * x dense, float. Optional (helper E).
   */
  resample2d?(
    op: string,
    dtype: DType,
    dims: readonly number[],
    rows: ResampleTaps,
    cols: ResampleTaps,
    x: Tensor,
    out: S,
  ): void;
  /** out [outer, n, inner] = a scan (eager_scan_op `code`) of dense x along n. Optional. */
  scan?(
    op: string,
    code: number,
    x: Tensor,
    dims: readonly number[],
    flags: readonly [exclusive: boolean, reverse: boolean],
    out: S,
  ): void;
  /** Stable sort of each row of dense x [rows, n]: values and / or int32 indices. Optional. */
  sort?(
    op: string,
    x: Tensor,
    dims: readonly number[],
    descending: boolean,
    values: S | null,
    indices: S | null,
  ): void;
  /** The k largest of each row of dense x (dims rows, n, k), int32 positions. Optional. */
  topK?(op: string, x: Tensor, dims: readonly number[], values: S, indices: S): void;
  /** out [rows, m] = insertion points of values in sorted rows (dims rows, n, m). Optional. */
  searchSorted?(
    op: string,
    sorted: Tensor,
    values: Tensor,
    dims: readonly number[],
    right: boolean,
    outDtype: DType,
    out: S,
  ): void;
  /** out [numSegments, inner] = max, min or prod (`code`) over the rows of each id. Optional. */
  segmentReduce?(
    op: string,
    code: number,
    data: Tensor,
    ids: Tensor,
    dims: readonly number[],
    emptyZero: boolean,
    out: S,
  ): void;
  /** Whether a LAPACK was found for the linalg kernels below (helper C). Optional. */
  lapackAvailable?(): boolean;
  /** out = lower Cholesky factors of x (dims batch, n), NaN where not PD; first such or -1. */
  cholesky?(op: string, x: Tensor, dims: readonly number[], out: S): number;
  /** out = a^-1 rhs (dims batch, n, k; a^T with adjoint); first singular matrix or -1. */
  solve?(
    op: string,
    a: Tensor,
    rhs: Tensor,
    dims: readonly number[],
    adjoint: boolean,
    out: S,
  ): number;
  /** sign and log|det| of dense square x (dims batch, n). Optional. */
  slogdet?(op: string, x: Tensor, dims: readonly number[], sign: S, logAbs: S): void;
  /** out = a^-1 rhs for triangular a (dims batch, n, k; flags lower, adjoint). Optional. */
  triangularSolve?(
    op: string,
    a: Tensor,
    rhs: Tensor,
    dims: readonly number[],
    flags: readonly [lower: boolean, adjoint: boolean],
    out: S,
  ): void;
  /** q [batch, m, c], r [batch, c, n] of dense x (dims batch, m, n). Optional. */
  qr?(op: string, x: Tensor, dims: readonly number[], full: boolean, q: S, r: S): void;
  /** Ascending eigenvalues and eigenvectors (or null) of symmetric x; first failure or -1. */
  eigh?(op: string, x: Tensor, dims: readonly number[], e: S, v: S | null): number;
  /** s, u, v of x (dims batch, m, n, mode 0 none / 1 reduced / 2 full); failure or -1. */
  svd?(op: string, x: Tensor, dims: readonly number[], s: S, u: S | null, v: S | null): number;
  /** out[o, d, i] = idx[o, i] == d ? on : off. */
  oneHot(
    op: string,
    dtype: DType,
    idx: Tensor,
    dims: readonly number[],
    values: readonly number[],
    out: S,
  ): void;
}

/**
 * The backend an op runs on: its inputs'. Inputs on two devices are an error naming both:
 * nothing is copied between devices behind the user's back. NOTE: fixed arity (no rest
 * array) because every binary op calls it; backendOfAll takes a list.
 */
export function backendOf(op: string, a: Tensor, b: Tensor, c?: Tensor): Backend {
  const backend = a.backend;
  if (b.backend !== backend) throw twoDevices(op, a, b);
  if (c !== undefined && c.backend !== backend) throw twoDevices(op, a, c);
  return backend;
}

/** The widest float dtype tensors on `backend` can have: float64, or float32 where float64
 * cannot live (WebGPU), for computations that want float64 where there is one. */
export function widestFloat(backend: Backend): "float32" | "float64" {
  return backend.holds?.("float64") === false ? "float32" : "float64";
}

/** backendOf for any number of inputs (at least one). */
export function backendOfAll(op: string, ts: readonly Tensor[]): Backend {
  const backend = ts[0].backend;
  for (const t of ts) if (t.backend !== backend) throw twoDevices(op, ts[0], t);
  return backend;
}

/** The methods of Backend that a backend may lack (kernels added after the WebGPU device). */
type OptionalKernel = {
  [K in keyof Backend]-?: undefined extends Backend[K] ? K : never;
}[keyof Backend];

/**
 * `backend`'s optional kernel `name`, bound to it, or an Error naming the op and the device
 * that lacks it. NOTE: never a silent copy to the CPU: the user moves the tensor.
 */
export function kernelOf<K extends OptionalKernel>(
  op: string,
  backend: Backend,
  name: K,
): NonNullable<Backend[K]> {
  const method = backend[name];
  if (typeof method !== "function") {
    throw new Error(
      `${op}: not available on ${backend.device} yet; move the tensor with .cpu() first`,
    );
  }
  return method.bind(backend) as NonNullable<Backend[K]>;
}

function twoDevices(op: string, a: Tensor, b: Tensor): Error {
  return new Error(
    `${op}: inputs are on two devices, ${a.device} and ${b.device}; ` +
      "move one with .cpu() or .gpu() (no copies are made between devices implicitly)",
  );
}
