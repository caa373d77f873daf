/**
 * tf.random.gamma and tf.random.poisson: rejection samplers run on the host over Philox
 * float64 uniforms from randomUniform (src/ops/random.ts, with the op's seed). Each output
 * element first reads its own block of uniforms, then, if its sampler needs more, a shared
 * overflow stream drawn on demand and read in element order, so the result depends only on
 * the seeds. gamma: Marsaglia–Tsang (2000), with u^(1/alpha) boosting for alpha < 1; poisson:
 * Knuth's product of uniforms for lam < 10, Hörmann's PTRS (1993) for lam >= 10. gamma has
 * TensorFlow's gradients: w.r.t. alpha by implicit reparameterisation (gamma_grad.ts), w.r.t.
 * beta through the division by it; poisson has none, as in TensorFlow.
 * @module
 */
import { checkDType, type DType, isFloat } from "../../dtype.ts";
import { hostStep1 } from "../../graph/hooks.ts";
import { broadcastShapes, checkShape, sizeOf } from "../../shape.ts";
import { Tensor, type TensorLike } from "../../tensor.ts";
import { placement, withPlacement } from "../../backend/registry.ts";
import { cpuBackend } from "../../backend/cpu/backend.ts";
import { placed, toTensor } from "../convert.ts";
import { cast, divide, multiply } from "../math.ts";
import { broadcastTo } from "../views.ts";
import { sumToShape } from "../sum_to_shape.ts";
import { record1 } from "../../tape.ts";
import { gammaSampleGrad } from "./gamma_grad.ts";
import { logGamma } from "./special.ts";
import { randomUniform, type Seed } from "../random.ts";
import { allocate } from "../../backend/cpu/storage.ts";

/** Uniforms in [0, 1) for n elements: `block` each, then a shared overflow stream. */
class Uniforms {
  private readonly pool: Float64Array;
  private overflow: Float64Array = new Float64Array(0);
  private overflowAt = 0;
  private element = 0;
  private at = 0;

  constructor(
    n: number,
    private readonly block: number,
    private readonly draw: (n: number) => Float64Array,
  ) {
    this.pool = n > 0 ? draw(n * block) : new Float64Array(0);
  }

  /** Starts element i. */
  start(i: number): void {
    this.element = i;
    this.at = 0;
  }

  next(): number {
    if (this.at < this.block) return this.pool[this.element * this.block + this.at++];
    if (this.overflowAt === this.overflow.length) {
      this.overflow = this.draw(4096);
      this.overflowAt = 0;
    }
    return this.overflow[this.overflowAt++];
  }
}

/** Uniforms drawn on the CPU, where the sampler runs, whatever the default device. */
function uniformSource(seed: Seed | undefined): (n: number) => Float64Array {
  return (n) =>
    withPlacement(cpuBackend, () => randomUniform([n], { dtype: "float64", seed }))
      .dataSync() as Float64Array;
}

/** A standard normal from two uniforms (Box–Muller; 1 - u keeps the log finite). */
function normal(u: Uniforms): number {
  return Math.sqrt(-2 * Math.log(1 - u.next())) * Math.cos(2 * Math.PI * u.next());
}

/** One Gamma(alpha, 1) draw; NaN for alpha <= 0 or NaN. */
function gammaDraw(alpha: number, u: Uniforms): number {
  if (!(alpha > 0)) return NaN;
  if (alpha === Infinity) return Infinity;
  const boost = alpha < 1 ? Math.pow(1 - u.next(), 1 / alpha) : 1;
  const d = (alpha < 1 ? alpha + 1 : alpha) - 1 / 3, c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = normal(u);
    const t = 1 + c * x;
    if (t <= 0) continue;
    const v = t * t * t;
    const w = 1 - u.next();
    if (Math.log(w) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v * boost;
  }
}

/** One Poisson(lam) draw; NaN for lam < 0 or NaN. */
function poissonDraw(lam: number, u: Uniforms): number {
  if (!(lam >= 0) || lam === Infinity) return NaN;
  if (lam < 10) {
    const limit = Math.exp(-lam);
    let k = 0, p = u.next();
    while (p > limit) (p *= u.next()), k++;
    return k;
  }
  const slam = Math.sqrt(lam), loglam = Math.log(lam);
  const b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
  const invAlpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const U = u.next() - 0.5, V = u.next();
    const us = 0.5 - Math.abs(U);
    const k = Math.floor((2 * a / us + b) * U + lam + 0.43);
    if (us >= 0.07 && V <= vr) return k;
    if (k < 0 || (us < 0.013 && V > us)) continue;
    const lhs = Math.log(V) + Math.log(invAlpha) - Math.log(a / (us * us) + b);
    if (lhs <= -lam + k * loglam - logGamma(k + 1)) return k;
  }
}

/**
 * Parameters broadcast together, read on the host as float64. A parameter on a device read
 * asynchronously (WebGPU) is an error naming the op: the samplers run on the host (as
 * TensorFlow's, which have CPU kernels only).
 */
function hostParams(op: string, params: Tensor[]): [number[], Float64Array[]] {
  const far = params.find((p) => !p.backend.readsSynchronously);
  if (far) {
    throw new Error(
      `${op}: runs on the host (as TensorFlow's, a CPU kernel), and a parameter is on ` +
        `${far.device}, which is read asynchronously: move it to the CPU first ` +
        "(`await t.cpuAsync()`)",
    );
  }
  const shape = params.reduce<number[]>((s, p) => broadcastShapes(op, s, p.shape), []);
  const values = params.map((p) =>
    cast(broadcastTo(p, shape), "float64").dataSync() as Float64Array
  );
  return [shape, values];
}

function sample(
  op: string,
  shape: number[],
  params: TensorLike[],
  dtype: DType,
  block: number,
  seed: Seed | undefined,
  each: (u: Uniforms, p: number[]) => number,
): Tensor {
  const s = checkShape(op, shape);
  const inputs = params.map((p) => toTensor(op, p, "float32"));
  for (const t of inputs) {
    if (t.dtype === "bool") throw new TypeError(`${op}: parameters must be numeric, got bool`);
  }
  return hostStep1(op, inputs, (ts) => {
    const [pShape, pValues] = hostParams(op, [...ts]);
    const outShape = [...s, ...pShape];
    const m = sizeOf(pShape), n = sizeOf(outShape);
    const u = new Uniforms(n, block, uniformSource(seed));
    const out = allocate(dtype, n, op);
    const p = new Array<number>(pValues.length);
    for (let i = 0; i < n; i++) {
      u.start(i);
      for (let j = 0; j < p.length; j++) p[j] = pValues[j][i % m];
      const v = each(u, p);
      if (dtype === "int64") (out as BigInt64Array)[i] = BigInt(Number.isFinite(v) ? v : 0);
      else (out as Float64Array)[i] = v;
    }
    return placed(op, out, dtype, outShape, ts[0].backend);
  }, { pure: true });
}

/** Options of {@link gamma}. */
export interface GammaOptions {
  /** Inverse scale (rate), broadcast against alpha (default 1). */
  beta?: TensorLike;
  /** float32 (default) or float64. */
  dtype?: DType;
  /** Op seed (see src/ops/random.ts). */
  seed?: Seed;
}

/**
 * Gamma(alpha, beta) draws (tf.random.gamma): shape `shape + broadcast(alpha, beta).shape`,
 * density x^(alpha-1) e^(-beta x) beta^alpha / Γ(alpha); mean alpha / beta. alpha <= 0
 * gives NaN.
 * @example
 * ```ts
 * import * as tf from "../../../mod.ts";
 * tf.random.gamma([10], [0.5, 2], { beta: 2, seed: 1 }); // shape [10, 2]
 * ```
 */
export function gamma(shape: number[], alpha: TensorLike, options: GammaOptions = {}): Tensor {
  const op = "gamma";
  const dtype = checkDType(op, options.dtype ?? "float32");
  if (!isFloat(dtype)) throw new TypeError(`${op}: dtype must be float32 or float64, got ${dtype}`);
  return onHost([alpha, options.beta], () => {
    const [a, b] = [alpha, options.beta ?? 1].map((p) => numericParameter(op, p, dtype));
    // As TensorFlow: Gamma(alpha, 1) draws for alpha broadcast against beta, divided by beta.
    const aB = broadcastTo(a, broadcastShapes(op, a.shape, b.shape));
    const standard = sample(op, shape, [aB], dtype, 8, options.seed, (u, [x]) => gammaDraw(x, u));
    record1(op, [aB], standard, (dy) => [
      () => sumToShape(multiply(dy, randomGammaGrad(aB, standard)), aB.shape),
    ]);
    return divide(standard, b);
  });
}

/**
 * A host sampler's result: made on the CPU when every parameter is a JS value (host data)
 * and copied to the default device if that is another (a tf.device scope); with tensor
 * parameters, where they are (sample() refuses a device read asynchronously).
 */
function onHost(params: readonly unknown[], run: () => Tensor): Tensor {
  if (params.some((p) => p instanceof Tensor)) return run();
  const target = placement();
  const result = withPlacement(cpuBackend, run);
  return target === cpuBackend ? result : result.to(target.device);
}

/** A distribution parameter as a tensor of the sample's float dtype (cast: differentiable). */
function numericParameter(op: string, p: TensorLike, dtype: DType): Tensor {
  const t = toTensor(op, p, dtype);
  if (t.dtype === "bool") throw new TypeError(`${op}: parameters must be numeric, got bool`);
  return t.dtype === dtype ? t : cast(t, dtype);
}

/**
 * d sample / d alpha of Gamma(alpha, 1) samples at fixed quantile (TensorFlow's
 * RandomGammaGrad), alpha broadcast against sample; the gradient of tf.random.gamma w.r.t.
 * alpha. It has no gradient of its own, as in TensorFlow.
 */
export function randomGammaGrad(alpha: Tensor, sample: Tensor): Tensor {
  const op = "randomGammaGrad";
  return hostStep1(op, [alpha, sample], (ts) => {
    const [shape, [a, x]] = hostParams(op, [...ts]);
    const out = allocate(sample.dtype, x.length, op) as Float32Array | Float64Array;
    for (let i = 0; i < x.length; i++) out[i] = gammaSampleGrad(a[i], x[i]);
    return placed(op, out, sample.dtype, shape, ts[0].backend);
  }, { pure: true });
}

/** Options of {@link poisson}. */
export interface PoissonOptions {
  /** float32 (default), float64, int32 or int64. */
  dtype?: DType;
  /** Op seed (see src/ops/random.ts). */
  seed?: Seed;
}

/**
 * Poisson(lam) draws (tf.random.poisson): shape `shape + lam.shape`; mean and variance lam.
 * lam < 0 gives NaN (0 for integer dtypes).
 * @example
 * ```ts
 * import * as tf from "../../../mod.ts";
 * tf.random.poisson([4], [1, 50], { dtype: "int32", seed: 3 }); // shape [4, 2]
 * ```
 */
export function poisson(shape: number[], lam: TensorLike, options: PoissonOptions = {}): Tensor {
  const op = "poisson";
  const dtype = checkDType(op, options.dtype ?? "float32");
  if (dtype === "bool" || dtype === "uint8") {
    throw new TypeError(`${op}: dtype must be float32, float64, int32 or int64, got ${dtype}`);
  }
  return onHost(
    [lam],
    () => sample(op, shape, [lam], dtype, 16, options.seed, (u, [l]) => poissonDraw(l, u)),
  );
}
