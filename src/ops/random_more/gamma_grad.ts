/**
 * The derivative of a Gamma(alpha, 1) sample with respect to alpha, holding its quantile
 * fixed (implicit reparameterisation, TensorFlow's RandomGammaGrad): with P(a, x) the
 * regularised lower incomplete gamma function, dx/da = -(dP/da) / (dP/dx), and dP/dx is the
 * density x^(a-1) e^(-x) / Γ(a). dP/da comes from P's series (x <= 1 or x <= a) or from its
 * complement's continued fraction (otherwise), each differentiated term by term in float64.
 *
 * NOTE: the factor x^a e^(-x) / Γ(a) that P and the density share is cancelled before it is
 * computed, so samples far in a tail (alpha = 100, x = 1e-5) get their small true derivative
 * where TensorFlow's kernel underflows to 0. Edge values are TensorFlow's: x = 0 gives 0,
 * alpha = +Infinity or x = +Infinity gives 0, NaN or alpha <= 0 gives NaN.
 * @module
 */
import { digamma } from "./special.ts";

const EPSILON = 1e-16;
const MAX_TERMS = 2000;
const TINY = 1e-300;

/** (ln x - ψ(a)) S + dS/da for P = x^a e^-x / Γ(a) · S, S = Σ x^n / (a (a+1) ... (a+n)). */
function seriesLogDerivative(a: number, x: number, logX: number): number {
  let term = 1 / a, dTerm = -term / a, harmonic = 1 / a;
  let sum = term, dSum = dTerm;
  for (let n = 1; n < MAX_TERMS; n++) {
    term *= x / (a + n);
    harmonic += 1 / (a + n);
    dTerm = -term * harmonic;
    sum += term;
    dSum += dTerm;
    if (Math.abs(term) < EPSILON * Math.abs(sum) && Math.abs(dTerm) < EPSILON * Math.abs(dSum)) {
      break;
    }
  }
  return (logX - digamma(a)) * sum + dSum;
}

/**
 * -((ln x - ψ(a)) C + dC/da) for Q = 1 - P = x^a e^-x / Γ(a) · C, C the continued fraction
 * 1 / (x + 1 - a - 1 (1 - a) / (x + 3 - a - 2 (2 - a) / ...)), evaluated by the modified
 * Lentz method on (value, d/da) pairs. Negated: dP/da = -dQ/da.
 */
function fractionLogDerivative(a: number, x: number, logX: number): number {
  let b = x + 1 - a;
  const db = -1; // every b_i = x + 2i + 1 - a
  let c = 1 / TINY, dc = 0;
  let d = 1 / b, dd = -db / (b * b);
  let h = d, dh = dd;
  for (let i = 1; i < MAX_TERMS; i++) {
    const an = -i * (i - a), dan = i;
    b += 2;
    // d = 1 / (b + an d)
    let den = b + an * d;
    const dDen = db + dan * d + an * dd;
    if (Math.abs(den) < TINY) den = TINY;
    d = 1 / den;
    dd = -dDen * d * d;
    // c = b + an / c
    const cPrev = c, dcPrev = dc;
    c = b + an / cPrev;
    dc = db + (dan * cPrev - an * dcPrev) / (cPrev * cPrev);
    if (Math.abs(c) < TINY) c = TINY;
    const delta = c * d, dDelta = dc * d + c * dd;
    dh = dh * delta + h * dDelta;
    h *= delta;
    // both must settle: at a = 1 the value's fraction ends at its first term (a_1 = 0)
    // while the derivative's does not
    if (Math.abs(delta - 1) < EPSILON && Math.abs(h * dDelta) <= EPSILON * Math.abs(dh)) break;
  }
  return -((logX - digamma(a)) * h + dh);
}

/** dx/da for a Gamma(a, 1) sample x. */
export function gammaSampleGrad(a: number, x: number): number {
  if (x !== x) return NaN;
  if (x === 0) return 0; // even for a NaN or non-positive alpha, as TensorFlow
  if (!(a > 0)) return NaN;
  if (a === Infinity || x === Infinity) return 0;
  const logX = Math.log(x);
  // dP/da / (x^a e^-x / Γ(a)), then divided by the density over the same factor: 1 / x.
  const dP = x > 1 && x > a ? fractionLogDerivative(a, x, logX) : seriesLogDerivative(a, x, logX);
  return -dP * x;
}
