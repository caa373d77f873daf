/**
 * `tf.math`: TensorFlow 2's math namespace. The elementwise ops and reductions of the top
 * level are here under their TensorFlow 2 names too, beside scans, sorting and selection,
 * segment reductions and counting.
 * @module
 */
export {
  abs,
  acos,
  add,
  addN,
  asin,
  atan,
  atan2,
  ceil,
  cos,
  cosh,
  divide,
  equal,
  erf,
  exp,
  expm1,
  floor,
  floorDiv as floordiv,
  greater,
  greaterEqual,
  isFinite,
  isInf,
  isNaN as isNan,
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
  mod as floormod,
  multiply,
  neg as negative,
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
} from "../ops/math.ts";
export {
  argMax as argmax,
  argMin as argmin,
  logSumExp as reduceLogsumexp,
  reduceAll,
  reduceAny,
  reduceMax,
  reduceMean,
  reduceMin,
  reduceProd,
  reduceStd,
  reduceSum,
  reduceVariance,
} from "../ops/reduce.ts";
export { unsortedSegmentSum } from "../ops/gather_scatter.ts";
// scans, sorting, segments, counting
export { cumprod, cumsum, cumulativeLogsumexp } from "../ops/scan.ts";
export { topK } from "../ops/sort.ts";
export {
  segmentMax,
  segmentMean,
  segmentMin,
  segmentProd,
  segmentSum,
  unsortedSegmentMax,
  unsortedSegmentMean,
  unsortedSegmentMin,
  unsortedSegmentProd,
} from "../ops/segment.ts";
export { bincount } from "../ops/counting.ts";
// activations
export { l2Normalize, logSigmoid, softsign } from "../ops/activations.ts";
export { softplus } from "../ops/math.ts";
