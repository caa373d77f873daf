/**
 * The WebGPU device's image resampling: csrc/kernels/resize.c's separable weighted sum in
 * float32, behind every tf.image.resize method and its gradient (the gradient resamples dy
 * with transposed taps, src/ops/image/resample.ts). One thread an output element of
 * [batch, outH, outW, c]: the sum over its column taps of (column weight x the sum over its
 * row taps), the CPU kernel's order (rows combined first, then columns).
 * @module
 */
import type { DType } from "../../dtype.ts";
import type { Tensor } from "../../tensor.ts";
import type { ResampleTaps } from "../backend.ts";
import type { GpuStorage, WebGpuBackend } from "./backend.ts";
import { float32Only, kernel } from "./nn.ts";

/**
 * Row taps x column taps one output may read at most. NOTE: llvmpipe stops an invocation's
 * loops after 65,535 iterations in all; an antialiased shrink by a large factor (thousands of
 * taps) is refused with an error naming the op instead of summing part of them.
 */
const MAX_TAP_PAIRS = 32768;

/** The most taps any output of `taps` has. */
function widest(taps: ResampleTaps): number {
  let most = 0;
  for (let k = 0; k + 1 < taps.start.length; k++) {
    most = Math.max(most, taps.start[k + 1] - taps.start[k]);
  }
  return most;
}

// p = [n, inH, inW, ch, outH, outW, xOffset, colsStart, rowsIndex, colsIndex, colsWeight]
// t: rows.start, cols.start, rows.index, cols.index (int32); w: rows.weight, cols.weight.
const BODY = `  if (i >= p[0]) { return; }
  let ch = p[3];
  let c = i % ch;
  var r = i / ch;
  let ow = r % p[5];
  r = r / p[5];
  let oh = r % p[4];
  let b = r / p[4];
  let image = p[6] + b * p[1] * p[2] * ch + c;
  var acc = 0.0;
  for (var q = t[p[7] + ow]; q < t[p[7] + ow + 1]; q++) {
    let column = image + t[p[9] + q] * ch;
    var sum = 0.0;
    for (var a = t[oh]; a < t[oh + 1]; a++) {
      sum += w[a] * x[column + t[p[8] + a] * p[2] * ch];
    }
    acc += w[p[10] + q] * sum;
  }
  out[i] = acc;`;

/** out [batch, outH, outW, c] = dense x [batch, inH, inW, c] resampled by the taps. */
export function resample2d(
  gpu: WebGpuBackend,
  op: string,
  dtype: DType,
  dims: readonly number[],
  rows: ResampleTaps,
  cols: ResampleTaps,
  x: Tensor,
  out: GpuStorage,
): void {
  float32Only(gpu, op, dtype);
  const [batch, inH, inW, ch, outH, outW] = dims;
  const n = batch * outH * outW * ch;
  if (n === 0) return;
  const pairs = widest(rows) * widest(cols);
  if (pairs > MAX_TAP_PAIRS) {
    gpu.unsupported(
      op,
      `a resampling reading ${pairs} pixels an output (at most ${MAX_TAP_PAIRS})`,
    );
  }
  const ints = new Int32Array(
    rows.start.length + cols.start.length + rows.index.length + cols.index.length,
  );
  const colsStart = rows.start.length, rowsIndex = colsStart + cols.start.length;
  const colsIndex = rowsIndex + rows.index.length;
  ints.set(rows.start, 0);
  ints.set(cols.start, colsStart);
  ints.set(rows.index, rowsIndex);
  ints.set(cols.index, colsIndex);
  const weights = new Float32Array(rows.weight.length + cols.weight.length);
  weights.set(rows.weight, 0);
  weights.set(cols.weight, rows.weight.length);
  // Taps are small host arrays made per call; their buffers go back to the pool once the
  // kernel is recorded (the queue runs it before any later use of those buffers).
  const taps = gpu.upload(ints, op), tapWeights = gpu.upload(weights, op);
  const words = Int32Array.of(
    n,
    inH,
    inW,
    ch,
    outH,
    outW,
    x.offset,
    colsStart,
    rowsIndex,
    colsIndex,
    rows.weight.length,
  );
  const source = () =>
    kernel(
      [
        "@@ var<storage, read> x: array<f32>;",
        "@@ var<storage, read> t: array<i32>;",
        "@@ var<storage, read> w: array<f32>;",
        "@@ var<storage, read_write> out: array<f32>;",
      ],
      BODY,
    );
  gpu.dispatch("resample2d", source, words, n, [x.storage as GpuStorage, taps, tapWeights, out]);
  gpu.free(taps);
  gpu.free(tapWeights);
}
