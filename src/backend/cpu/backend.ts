/**
 * The CPU backend: libeager's kernels over TypedArray storage. Its methods are the functions
 * of this folder; src/backend/backend.ts states what each does.
 * @module
 */
import type { TypedArray } from "../../dtype.ts";
import type { Backend } from "../backend.ts";
import {
  allocate,
  allocateOutput,
  free,
  hold,
  letGo,
  releasableBuffer,
  RELEASE_MIN_BYTES,
} from "./storage.ts";
import { copyStrided, denseElements } from "./copy.ts";
import { binaryKernel, fusedElementwiseKernel, unaryKernel, whereKernel } from "./elementwise.ts";
import {
  batchNormGradRows,
  batchNormRows,
  biasActivationInPlace,
  fusedUpdateKernel,
  lstmStepGradRows,
  lstmStepRows,
  matmulInto,
  randomFill,
  reduceInto,
  softmaxRows,
  sparseXentGradRows,
} from "./math.ts";
import { convPass } from "./conv.ts";
import { depthwisePass } from "./depthwise.ts";
import { avgPoolGradPass, maxPoolGradPass, poolForward } from "./pool.ts";
import { gatherNdRows, gatherRows, oneHotRows, scatterNdRows, segmentSumRows } from "./index.ts";
import { scanInto, searchSortedRows, segmentReduceRows, sortRows, topKRows } from "./scan_sort.ts";
import { resample2dRows } from "./resize.ts";
import {
  choleskyInto,
  eighInto,
  lapackAvailable,
  qrInto,
  slogdetInto,
  solveInto,
  svdInto,
  triangularSolveInto,
} from "./linalg.ts";

/** The CPU's full name, as `tensor.device` reports it in TensorFlow. */
export const CPU_DEVICE = "/job:localhost/replica:0/task:0/device:CPU:0";

/** The CPU device. NOTE: the only backend whose storage JS can read without a copy. */
export const cpuBackend: Backend<TypedArray> = {
  device: CPU_DEVICE,
  readsSynchronously: true,
  allocate,
  allocateOutput,
  upload: (values) => values,
  readSync: denseElements,
  read: (view, dtype, op) => Promise.resolve(denseElements(view, dtype, op)),
  hold(storage) {
    if (storage.byteLength >= RELEASE_MIN_BYTES) hold(storage);
  },
  release(storage) {
    if (storage.byteLength >= RELEASE_MIN_BYTES) letGo(storage);
  },
  free,
  storageKey: releasableBuffer,
  copyStrided,
  unary: unaryKernel,
  binary: binaryKernel,
  fusedElementwise: fusedElementwiseKernel,
  where: whereKernel,
  reduce: reduceInto,
  matmul: matmulInto,
  softmax: softmaxRows,
  sparseXentGrad: sparseXentGradRows,
  randomFill,
  biasActivation: biasActivationInPlace,
  batchNorm: batchNormRows,
  batchNormGrad: batchNormGradRows,
  fusedUpdate: fusedUpdateKernel,
  lstmStep: lstmStepRows,
  lstmStepGrad: lstmStepGradRows,
  conv: convPass,
  depthwiseConv: depthwisePass,
  pool: poolForward,
  maxPoolGrad: maxPoolGradPass,
  avgPoolGrad: avgPoolGradPass,
  gather: gatherRows,
  gatherNd: gatherNdRows,
  scatterNd: scatterNdRows,
  segmentSum: segmentSumRows,
  oneHot: oneHotRows,
  scan: scanInto,
  sort: sortRows,
  topK: topKRows,
  searchSorted: searchSortedRows,
  segmentReduce: segmentReduceRows,
  resample2d: resample2dRows,
  lapackAvailable,
  cholesky: choleskyInto,
  solve: solveInto,
  slogdet: slogdetInto,
  triangularSolve: triangularSolveInto,
  qr: qrInto,
  eigh: eighInto,
  svd: svdInto,
};
