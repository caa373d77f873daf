/**
 * Special functions on the host in float64, for the samplers and their gradients: log Γ and
 * the digamma function ψ = (log Γ)'.
 * @module
 */

/** log Γ(x) for x > 0: the Stirling series numpy's PTRS uses, after shifting x to 7 or more. */
export function logGamma(x: number): number {
  const a = [
    8.333333333333333e-2,
    -2.777777777777778e-3,
    7.936507936507937e-4,
    -5.952380952380952e-4,
    8.417508417508418e-4,
    -1.917526917526918e-3,
    6.41025641025641e-3,
    -2.955065359477124e-2,
    1.796443723688307e-1,
    -1.3924322169059,
  ];
  if (x === 1 || x === 2) return 0;
  let x0 = x, n = 0;
  if (x <= 7) (n = Math.floor(7 - x)), (x0 = x + n);
  const x2 = 1 / (x0 * x0);
  let g = a[9];
  for (let k = 8; k >= 0; k--) g = g * x2 + a[k];
  let gl = g / x0 + 0.5 * Math.log(2 * Math.PI) + (x0 - 0.5) * Math.log(x0) - x0;
  for (let k = 1; k <= n; k++) gl -= Math.log(--x0);
  return gl;
}

/** ψ(x) for x > 0: the recurrence ψ(x) = ψ(x + 1) - 1/x up to 6 or more, then the
 * asymptotic series (error below 1e-15 there). */
export function digamma(x: number): number {
  if (x !== x || x <= 0) return NaN;
  if (x === Infinity) return Infinity;
  let shift = 0;
  for (; x < 6; x++) shift -= 1 / x;
  const r = 1 / (x * x);
  const tail = r * (1 / 12 - r * (1 / 120 - r * (1 / 252 - r * (1 / 240 - r * (1 / 132)))));
  return shift + Math.log(x) - 0.5 / x - tail;
}
