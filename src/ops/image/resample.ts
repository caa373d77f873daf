/**
 * The separable resampling behind tf.image.resize: out[b, y, x, c] is the sum over the taps
 * of output row y and output column x of rowWeight * colWeight * images[b, row, col, c]. The
 * taps are two sparse matrices (CSR, {@link ResampleTaps}) built per call from the method:
 * bilinear has two taps per row and column, area one per overlapped input pixel.
 *
 * Resampling is linear in the images, so its gradient is the same resampling by the
 * transposed matrices (TensorFlow's ResizeBilinearGrad and the like), whose gradient is the
 * forward resampling again: derivatives of every order are recorded ops.
 * @module
 */
import type { ResampleTaps } from "../../backend/backend.ts";
import { kernelOf } from "../../backend/backend.ts";
import { Tensor } from "../../tensor.ts";
import { active, record1 } from "../../tape.ts";
import { contiguous } from "../cast.ts";

/** Taps from per-output lists of (index, weight), in output order. */
export function tapsFrom(lists: readonly (readonly [number, number])[][]): ResampleTaps {
  const start = new Int32Array(lists.length + 1);
  let n = 0;
  for (let i = 0; i < lists.length; i++) start[i + 1] = n += lists[i].length;
  const index = new Int32Array(n), weight = new Float64Array(n);
  let t = 0;
  for (const list of lists) {
    for (const [i, w] of list) (index[t] = i), (weight[t++] = w);
  }
  return { start, index, weight };
}

/** The transpose of taps over `inputs` columns: the taps of the gradient. */
export function transposeTaps(taps: ResampleTaps, inputs: number): ResampleTaps {
  const lists: [number, number][][] = Array.from({ length: inputs }, () => []);
  const rows = taps.start.length - 1;
  for (let r = 0; r < rows; r++) {
    for (let t = taps.start[r]; t < taps.start[r + 1]; t++) {
      lists[taps.index[t]].push([r, taps.weight[t]]);
    }
  }
  return tapsFrom(lists);
}

/**
 * images [batch, inH, inW, c] (float32 or float64) resampled to [batch, outH, outW, c] by
 * the row taps (outH rows over inH) and column taps (outW over inW). The caller checked the
 * rank, the dtype and that the taps match the shapes.
 */
export function resample(
  op: string,
  images: Tensor,
  rows: ResampleTaps,
  cols: ResampleTaps,
): Tensor {
  const x = contiguous(images, op);
  const [batch, inH, inW, ch] = x.shape;
  const outH = rows.start.length - 1, outW = cols.start.length - 1;
  const shape = [batch, outH, outW, ch];
  const kernel = kernelOf(op, x.backend, "resample2d");
  const out = x.backend.allocateOutput(x.dtype, batch * outH * outW * ch, op);
  kernel(op, x.dtype, [batch, inH, inW, ch, outH, outW], rows, cols, x, out);
  const result = new Tensor(out, x.dtype, shape);
  if (active.length !== 0) {
    record1(op, [images], result, (dy) => [
      () => resample(op, dy, transposeTaps(rows, inH), transposeTaps(cols, inW)),
    ]);
  }
  return result;
}
