/**
 * deno-eager: TensorFlow's eager execution for Deno. Import this module as `tf`.
 *
 * @example
 * ```ts
 * import * as tf from "./mod.ts";
 * const x = tf.constant([[1, 2], [3, 4]], "int32");
 * console.log(x.matmul(x).toString());
 * // tf.Tensor(
 * // [[ 7 10]
 * //  [15 22]], shape=(2, 2), dtype=int32)
 * ```
 * @module
 */
import "./src/tensor_methods.ts";
import { ensureLibrary } from "./src/backend/cpu/runtime_info.ts";

await ensureLibrary();

export { Tensor } from "./src/tensor.ts";
export { Variable } from "./src/variable.ts";
export { keep, tidy } from "./src/tidy.ts";
export { tfFunction as defun, tfFunction as function } from "./src/graph/function.ts";
export type { FunctionOptions, TracedFunction } from "./src/graph/function.ts";
export type { GraphStats } from "./src/graph/replay.ts";
export type { VariableOptions } from "./src/variable.ts";
export {
  customGradient,
  gradientsFunction,
  GradientTape,
  implicitGradients,
  implicitValueAndGradients,
  valueAndGradientsFunction,
} from "./src/gradients.ts";
export type {
  CustomGradientContext,
  CustomGradResult,
  GradientOptions,
  GradientTapeOptions,
  Source,
  UpstreamGradient,
} from "./src/gradients.ts";
export type { NestedArray, Scalar, TensorLike } from "./src/tensor.ts";
export type { DType, TypedArray } from "./src/dtype.ts";
export { setNumThreads } from "./src/backend/cpu/runtime_info.ts";
export { runtimeInfo } from "./src/backend/cpu/runtime_info.ts";
export type { RuntimeInfo } from "./src/backend/cpu/runtime_info.ts";
export type { CpuLevel } from "./src/native/cpu_level.ts";
export { device, numGpus } from "./src/device.ts";
export {
  getMemoryInfo,
  initGpus,
  type MemoryInfo,
  setGpuMemoryLimit,
} from "./src/backend/webgpu/discovery.ts";
export { GpuMemoryError } from "./src/backend/webgpu/memory.ts";
export { constant } from "./src/ops/convert.ts";
export type { ConstantOptions } from "./src/ops/convert.ts";
export {
  abs,
  acos,
  add,
  addN,
  asin,
  atan,
  atan2,
  cast,
  ceil,
  clipByValue,
  cos,
  cosh,
  divide,
  equal,
  erf,
  exp,
  expm1,
  floor,
  floorDiv,
  greater,
  greaterEqual,
  isFinite,
  isInf,
  isNaN,
  less,
  lessEqual,
  log,
  log1p,
  logicalAnd,
  logicalNot,
  logicalOr,
  logicalXor,
  maximum,
  minimum,
  mod,
  multiply,
  neg,
  notEqual,
  pow,
  reciprocal,
  round,
  rsqrt,
  sigmoid,
  sign,
  sin,
  sinh,
  sqrt,
  square,
  squaredDifference,
  subtract,
  tan,
  tanh,
  where,
} from "./src/ops/math.ts";
export {
  argMax,
  argMin,
  logSumExp,
  norm,
  reduceAll,
  reduceAny,
  reduceMax,
  reduceMean,
  reduceMin,
  reduceProd,
  reduceStd,
  reduceSum,
  reduceVariance,
} from "./src/ops/reduce.ts";
export type { ArgOptions, Axis, NormOptions, ReduceOptions } from "./src/ops/reduce.ts";
export { clipByGlobalNorm, clipByNorm, globalNorm } from "./src/ops/clip.ts";
export { matmul, tensordot } from "./src/ops/matmul.ts";
export type { MatmulOptions } from "./src/ops/matmul.ts";
export {
  broadcastTo,
  expandDims,
  identity,
  reshape,
  reverse,
  slice,
  squeeze,
  stopGradient,
  stridedSlice,
  transpose,
} from "./src/ops/views.ts";
export type { StridedSliceOptions } from "./src/ops/views.ts";
export { concat, pad, split, stack, unstack } from "./src/ops/array.ts";
export { tile } from "./src/ops/tile.ts";
export type { PadOptions } from "./src/ops/array.ts";
export {
  eye,
  fill,
  linspace,
  ones,
  onesLike,
  range,
  zeros,
  zerosLike,
} from "./src/ops/creation.ts";
export type { EyeOptions } from "./src/ops/creation.ts";
export { booleanMask, whereIndices } from "./src/ops/indexing.ts";
export type { BooleanMaskOptions } from "./src/ops/indexing.ts";
export { gather, gatherNd, scatterNd, unsortedSegmentSum } from "./src/ops/gather_scatter.ts";
export type { GatherNdOptions, GatherOptions } from "./src/ops/gather_scatter.ts";
export { oneHot } from "./src/ops/one_hot.ts";
export type { OneHotOptions } from "./src/ops/one_hot.ts";
export { randomNormal, randomShuffle, randomUniform, truncatedNormal } from "./src/ops/random.ts";
export type {
  DropoutOptions,
  RandomNormalOptions,
  RandomShuffleOptions,
  RandomUniformOptions,
  Seed,
} from "./src/ops/random.ts";
export type { Conv2DOptions, DataFormat, Padding } from "./src/ops/conv.ts";
// scans, sorting, segments
export { cumsum } from "./src/ops/scan.ts";
export type { ScanOptions } from "./src/ops/scan.ts";
export { argsort, searchsorted, sort, unique } from "./src/ops/sort.ts";
export type {
  ArgsortOptions,
  SearchSortedOptions,
  SortOptions,
  TopK,
  TopKOptions,
  Unique,
  UniqueOptions,
} from "./src/ops/sort.ts";
export { histogramFixedWidth, meshgrid } from "./src/ops/counting.ts";
export type { BincountOptions, HistogramOptions, MeshgridOptions } from "./src/ops/counting.ts";
// einsum, structure, activations
export { einsum } from "./src/ops/einsum.ts";
export type { MatvecOptions } from "./src/ops/linalg_structure.ts";
export type {
  EmbeddingLookupOptions,
  GeluOptions,
  L2NormalizeOptions,
  LeakyReluOptions,
  SiluOptions,
} from "./src/ops/activations.ts";
// convolutions
export type { Conv1DOptions, DataFormat1D } from "./src/ops/conv1d.ts";
export type { Conv3DOptions, DataFormat3D } from "./src/ops/conv3d.ts";
export type { PoolOptions } from "./src/ops/pool.ts";
export * as nn from "./src/namespaces/nn.ts";
export * as math from "./src/namespaces/math.ts";
export * as linalg from "./src/namespaces/linalg.ts";
export * as image from "./src/namespaces/image.ts";
export * as random from "./src/namespaces/random.ts";
export * as layers from "./src/namespaces/layers.ts";
export * as applications from "./src/namespaces/applications.ts";
export * as initializers from "./src/layers/initializers.ts";
export { Network } from "./src/layers/network.ts";
export type { NetworkOptions } from "./src/layers/network.ts";
export * as train from "./src/namespaces/train.ts";
export * as savedModel from "./src/namespaces/saved_model.ts";
export * as distribute from "./src/namespaces/distribute.ts";
export * as losses from "./src/namespaces/losses.ts";
export * as summary from "./src/summary/mod.ts";
export * as metrics from "./src/metrics/mod.ts";
export {
  restoreVariablesOnCreate,
  type SaveOptions,
  Saver,
  type SaverOptions,
} from "./src/train/saver.ts";
export * as data from "./src/data/mod.ts";
export { DatasetIterator as Iterator } from "./src/data/iterator.ts";
export * as io from "./src/io/mod.ts";
