/**
 * tf.image.resize with TensorFlow 2's semantics: NHWC images ([batch, h, w, c] or one
 * [h, w, c] image), half-pixel centres for bilinear, nearest and bicubic (ResizeBilinear,
 * ResizeNearestNeighbor and ResizeBicubic with half_pixel_centers=True), ResizeArea for area,
 * ScaleAndTranslate (filters.ts) for lanczos3, lanczos5, gaussian, mitchellcubic and the
 * antialiased bilinear and bicubic. Every method but nearest returns float32 whatever the
 * input dtype, as TensorFlow does (float64 included); nearest keeps the dtype. Sample positions and weights are computed in float32 arithmetic
 * (Math.fround) as TensorFlow's kernels compute them, so the same input pixels are picked.
 *
 * All methods but nearest run the separable resampling kernel (resample.ts), so they need a
 * backend with `resample2d` (the CPU); nearest is two gathers and runs everywhere.
 * @module
 */
import type { ResampleTaps } from "../../backend/backend.ts";
import type { Tensor, TensorLike } from "../../tensor.ts";
import { checkSize, showShape } from "../../shape.ts";
import { castTensor } from "../cast.ts";
import { toTensor } from "../convert.ts";
import { gather } from "../gather_scatter.ts";
import { reshape } from "../views.ts";
import { resample, tapsFrom } from "./resample.ts";
import { bicubicTaps, FILTERS, roundHalfEven, scaleTaps } from "./filters.ts";

const f = Math.fround;

/** A resize method of tf.image.resize. */
export type ResizeMethod =
  | "bilinear"
  | "nearest"
  | "bicubic"
  | "area"
  | "lanczos3"
  | "lanczos5"
  | "gaussian"
  | "mitchellcubic";

const METHODS: readonly string[] = [
  "bilinear",
  "nearest",
  "bicubic",
  "area",
  "lanczos3",
  "lanczos5",
  "gaussian",
  "mitchellcubic",
];

/** Options of {@link resize}. */
export interface ResizeOptions {
  /** "bilinear" (default), "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian" or
   * "mitchellcubic". */
  method?: ResizeMethod;
  /** Scale to fit inside `size` keeping the aspect ratio (default false). */
  preserveAspectRatio?: boolean;
  /**
   * When downsampling, widen the filter by the scale so it low-pass filters (default false;
   * nearest and area ignore it, as in TensorFlow).
   */
  antialias?: boolean;
}

/** TensorFlow's scale of a half-pixel resize, in float32. */
function scaleOf(inSize: number, outSize: number): number {
  return f(inSize / outSize);
}

/** Bilinear taps of one axis: half-pixel sample positions, clamped neighbours. */
export function bilinearTaps(inSize: number, outSize: number): ResampleTaps {
  const scale = scaleOf(inSize, outSize);
  const lists: [number, number][][] = [];
  for (let i = 0; i < outSize; i++) {
    const at = f(f(f(i + 0.5) * scale) - 0.5);
    const low = Math.floor(at);
    const lerp = f(at - low);
    const lower = Math.max(low, 0), upper = Math.min(Math.ceil(at), inSize - 1);
    lists.push([[lower, f(1 - lerp)], [upper, lerp]]);
  }
  return tapsFrom(lists);
}

/** Area taps of one axis (ResizeArea): each input cell weighted by its overlap / scale. */
export function areaTaps(inSize: number, outSize: number, normalize: number): ResampleTaps {
  const scale = scaleOf(inSize, outSize);
  const lists: [number, number][][] = [];
  for (let i = 0; i < outSize; i++) {
    const a = f(i * scale), b = f((i + 1) * scale);
    const list: [number, number][] = [];
    for (let j = Math.floor(a); j < Math.ceil(b); j++) {
      const w = j < a ? (j + 1 > b ? scale : f(j + 1 - a)) : (j + 1 > b ? f(b - j) : 1);
      list.push([Math.min(j, inSize - 1), f(w * normalize)]);
    }
    lists.push(list);
  }
  return tapsFrom(lists);
}

/** Nearest-neighbour source indices of one axis (half-pixel centres). */
export function nearestIndices(inSize: number, outSize: number): Int32Array {
  const scale = scaleOf(inSize, outSize);
  const idx = new Int32Array(outSize);
  for (let i = 0; i < outSize; i++) {
    idx[i] = Math.max(0, Math.min(Math.floor(f(f(i + 0.5) * scale)), inSize - 1));
  }
  return idx;
}

/** The row and column taps of a method other than nearest. */
function tapsOf(
  method: ResizeMethod,
  [inH, inW]: number[],
  [outH, outW]: number[],
  antialias: boolean,
): [ResampleTaps, ResampleTaps] {
  if (method === "area") {
    const normalize = f(1 / f(scaleOf(inH, outH) * scaleOf(inW, outW)));
    return [areaTaps(inH, outH, 1), areaTaps(inW, outW, normalize)];
  }
  if (method === "bilinear" && !antialias) {
    return [bilinearTaps(inH, outH), bilinearTaps(inW, outW)];
  }
  if (method === "bicubic" && !antialias) return [bicubicTaps(inH, outH), bicubicTaps(inW, outW)];
  const filter =
    FILTERS[method === "bilinear" ? "triangle" : method === "bicubic" ? "keyscubic" : method];
  // ScaleAndTranslate: bilinear and bicubic come here only antialiased.
  return [scaleTaps(inH, outH, filter, antialias), scaleTaps(inW, outW, filter, antialias)];
}

function checkNewSize(op: string, size: unknown): [number, number] {
  if (
    !Array.isArray(size) || size.length !== 2 ||
    !size.every((d) => Number.isInteger(d) && d > 0 && d < 2 ** 31)
  ) {
    throw new RangeError(
      `${op}: size must be [height, width] of positive integers, got ${
        Array.isArray(size) ? `[${size.join(", ")}]` : String(size)
      }`,
    );
  }
  return [size[0], size[1]];
}

/**
 * Images resized to `size` = [height, width] (tf.image.resize). `images` is
 * [batch, h, w, c] or [h, w, c] of any numeric dtype. With `preserveAspectRatio` the result
 * fits inside `size` (each side scaled by the smaller of the two ratios, rounded).
 * Every method has a gradient: the transposed resampling (TensorFlow's ResizeBilinearGrad,
 * ResizeBicubicGrad and ScaleAndTranslateGrad), nearest's through its gathers.
 * @example
 * ```ts
 * import * as tf from "../../../mod.ts";
 * const img = tf.reshape(tf.range(0, 16), [4, 4, 1]);
 * tf.image.resize(img, [2, 2]); // [[[2.5], [4.5]], [[10.5], [12.5]]]
 * tf.image.resize(img, [8, 8], { method: "nearest" });
 * tf.image.resize(img, [2, 2], { method: "lanczos3", antialias: true });
 * ```
 */
export function resize(
  images: TensorLike,
  size: readonly number[],
  options: ResizeOptions = {},
): Tensor {
  const op = "resize";
  const x = toTensor(op, images);
  if (x.rank !== 3 && x.rank !== 4) {
    throw new RangeError(
      `${op}: images must be [batch, height, width, channels] or [height, width, channels], ` +
        `got shape ${showShape(x.shape)}`,
    );
  }
  const method = options.method ?? "bilinear";
  if (!METHODS.includes(method)) {
    throw new RangeError(
      `${op}: method must be one of ${METHODS.join(", ")}, got ${String(method)}`,
    );
  }
  const antialias = options.antialias ?? false;
  if (x.dtype === "bool") throw new TypeError(`${op}: images must be numeric, got bool`);
  let [outH, outW] = checkNewSize(op, size);
  const batched = x.rank === 4 ? x : reshape(x, [1, ...x.shape]);
  const [, inH, inW, ch] = batched.shape;
  if (inH === 0 || inW === 0) {
    throw new RangeError(
      `${op}: images must have non-zero height and width, got shape ${showShape(x.shape)}`,
    );
  }
  if (options.preserveAspectRatio) {
    const s = Math.min(f(outH / inH), f(outW / inW));
    outH = roundHalfEven(f(s * inH));
    outW = roundHalfEven(f(s * inW));
    if (outH === 0 || outW === 0) {
      throw new RangeError(
        `${op}: preserveAspectRatio gives the empty size [${outH}, ${outW}] for an image of ` +
          `height ${inH} and width ${inW}`,
      );
    }
  }
  checkSize(op, [batched.shape[0], outH, outW, ch]);
  let y: Tensor;
  if (method === "nearest") {
    const rows = gather(batched, nearestIndices(inH, outH), { axis: 1 });
    y = gather(rows, nearestIndices(inW, outW), { axis: 2 });
  } else {
    const [rows, cols] = tapsOf(method, [inH, inW], [outH, outW], antialias);
    y = resample(op, castTensor(batched, "float32"), rows, cols);
  }
  return x.rank === 4 ? y : reshape(y, [outH, outW, ch]);
}
