/**
 * The resampling taps of tf.image.resize's filter methods, as TensorFlow 2.21 computes them
 * (in float32, `Math.fround`): ResizeBicubic with half-pixel centres (Keys cubic, a = -0.5,
 * its 1024-entry coefficient table, out-of-image taps dropped and the rest renormalised) and
 * ScaleAndTranslate (the antialiased bilinear and bicubic, lanczos3, lanczos5, gaussian and
 * mitchellcubic): each output sample's span of input pixels weighted by the filter, widened
 * by the downscaling factor when antialiasing, and normalised to sum 1.
 * @module
 */
import type { ResampleTaps } from "../../backend/backend.ts";
import { tapsFrom } from "./resample.ts";

const f = Math.fround;

/** A filter of ScaleAndTranslate: its radius and its value at |x|. */
export interface Filter {
  readonly radius: number;
  at(x: number): number;
}

const PI = f(3.14159265359);

function lanczos(radius: number): Filter {
  return {
    radius,
    at: (x) => {
      if (x > radius) return 0;
      if (x <= 1e-3) return 1;
      return f(radius * Math.sin(PI * x) * Math.sin(PI * x / radius) / (PI * PI * x * x));
    },
  };
}

/** The filters by kernel name (scale_and_translate_op's kernel_type). */
export const FILTERS: Record<string, Filter> = {
  triangle: { radius: 1, at: (x) => (x < 1 ? f(1 - x) : 0) },
  keyscubic: {
    radius: 2,
    at: (x) =>
      x >= 2 ? 0 : x >= 1 ? f(((-0.5 * x + 2.5) * x - 4) * x + 2) : f((1.5 * x - 2.5) * x * x + 1),
  },
  lanczos3: lanczos(3),
  lanczos5: lanczos(5),
  gaussian: { radius: 1.5, at: (x) => (x >= 1.5 ? 0 : f(Math.exp(-x * x / (2 * 0.5 * 0.5)))) },
  mitchellcubic: {
    radius: 2,
    at: (x) =>
      x >= 2
        ? 0
        : x >= 1
        ? f((((-7 / 18) * x + 2) * x - 10 / 3) * x + 16 / 9)
        : f(((7 / 6) * x - 2) * x * x + 8 / 9),
  },
};

/** ScaleAndTranslate's taps of one axis (translation 0, scale outSize / inSize). */
export function scaleTaps(
  inSize: number,
  outSize: number,
  filter: Filter,
  antialias: boolean,
): ResampleTaps {
  const scale = f(outSize / inSize), invScale = f(1 / scale);
  const kernelScale = antialias ? Math.max(invScale, 1) : 1;
  const reach = f(filter.radius * kernelScale);
  // TensorFlow reads spanSize pixels from each span's start, with weight 0 past its end: so a
  // NaN there still spreads (0 * NaN), and here too.
  const spanSize = Math.min(2 * Math.ceil(reach) + 1, inSize);
  const lists: [number, number][][] = [];
  for (let x = 0; x < outSize; x++) {
    const sample = f(f(x + 0.5) * invScale);
    if (sample < 0 || sample > inSize) {
      lists.push([]);
      continue;
    }
    const clamp = (v: number) => Math.min(Math.max(v, 0), inSize - 1);
    const start = clamp(Math.ceil(f(f(sample - reach) - 0.5)));
    const end = clamp(Math.floor(f(f(sample + reach) - 0.5))) + 1;
    const list: [number, number][] = [];
    let total = 0;
    for (let source = start; source < end; source++) {
      const w = filter.at(Math.abs(f(f(f(source + 0.5) - sample) / kernelScale)));
      total = f(total + w);
      list.push([source, w]);
    }
    if (Math.abs(total) >= 1000 * 1.1754943508222875e-38) {
      const inv = f(1 / total);
      for (const tap of list) tap[1] = f(tap[1] * inv);
    } else {
      for (const tap of list) tap[1] = 0;
    }
    for (let source = end; source < start + spanSize && source < inSize; source++) {
      list.push([source, 0]);
    }
    lists.push(list);
  }
  return tapsFrom(lists);
}

const TABLE_SIZE = 1024;

/** Round half to even (lrintf's default rounding, tf.round). */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** ResizeBicubic's Keys coefficient table (a = -0.5): 2 entries per 1/1024 step. */
const COEFFS = (() => {
  const a = -0.5, table = new Float32Array((TABLE_SIZE + 1) * 2);
  for (let i = 0; i <= TABLE_SIZE; i++) {
    let x = i / TABLE_SIZE;
    table[i * 2] = ((a + 2) * x - (a + 3)) * x * x + 1;
    x += 1;
    table[i * 2 + 1] = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  }
  return table;
})();

/** ResizeBicubic's taps of one axis (half-pixel centres, Keys cubic). */
export function bicubicTaps(inSize: number, outSize: number): ResampleTaps {
  const scale = f(inSize / outSize);
  const lists: [number, number][][] = [];
  for (let i = 0; i < outSize; i++) {
    const at = f(f(f(i + 0.5) * scale) - 0.5);
    const low = Math.floor(at);
    const offset = roundHalfEven(f(f(at - low) * TABLE_SIZE)); // lrintf
    const coeffs = [
      COEFFS[offset * 2 + 1],
      COEFFS[offset * 2],
      COEFFS[(TABLE_SIZE - offset) * 2],
      COEFFS[(TABLE_SIZE - offset) * 2 + 1],
    ];
    const list: [number, number][] = [];
    let total = 0;
    for (let k = 0; k < 4; k++) {
      const index = low - 1 + k;
      // Taps outside the image get weight 0 (as ScaleAndTranslate), the rest renormalised.
      const w = index >= 0 && index < inSize ? coeffs[k] : 0;
      list.push([Math.min(Math.max(index, 0), inSize - 1), w]);
      total = f(total + w);
    }
    if (Math.abs(total) >= 1000 * 1.1754943508222875e-38) {
      const inv = f(1 / total);
      for (const tap of list) tap[1] = f(tap[1] * inv);
    }
    lists.push(list);
  }
  return tapsFrom(lists);
}
