/**
 * Histogram buckets as TensorBoard 2.21's `tf.summary.histogram` computes them
 * (`tensorboard/plugins/histogram/summary_v2.py`, `_buckets`): `k` rows of
 * (left edge, right edge, count) in float64.
 * - no data, or k = 0: k rows of zeros;
 * - one distinct value v: k rows (v, v, 0), the last holding the count;
 * - otherwise k equal-width buckets from min to max; x goes to bucket
 *   min(floor((x - min) / width), k - 1), so max lands in the last one.
 * Decision: NaN and infinite values are left out (TensorFlow's result for them is
 * meaningless: every edge becomes NaN); only finite values are counted.
 * @module
 */

/** The [k, 3] buckets of `values`, row-major. */
export function histogramBuckets(values: ArrayLike<number>, k: number): Float64Array {
  const out = new Float64Array(k * 3);
  let min = Infinity, max = -Infinity, n = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (!Number.isFinite(x)) continue;
    if (x < min) min = x;
    if (x > max) max = x;
    n++;
  }
  if (n === 0 || k === 0) return out;
  if (min === max) {
    for (let b = 0; b < k; b++) out[b * 3] = out[b * 3 + 1] = max;
    out[k * 3 - 1] = n;
    return out;
  }
  // NOTE: halved when max - min overflows (e.g. -1e308 and 1e308), so it stays finite.
  const half = Number.isFinite(max - min) ? 1 : 0.5;
  const width = (max * half - min * half) / k;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (!Number.isFinite(x)) continue;
    const b = Math.min(Math.floor((x * half - min * half) / width), k - 1);
    out[b * 3 + 2]++;
  }
  // Edges as tf.linspace(min, max, k + 1) computes them, the last forced to max.
  const step = width / half;
  for (let b = 0; b < k; b++) {
    out[b * 3] = b === 0 ? min : min + b * step;
    out[b * 3 + 1] = b === k - 1 ? max : min + (b + 1) * step;
  }
  return out;
}
