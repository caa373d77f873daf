/**
 * The WebGPU device's LSTM step and its gradient (csrc/kernels/lstm.c's arithmetic in
 * float32): one thread an element of [rows, units], Keras's gate order i, f, c, o.
 * @module
 */
import type { Tensor } from "../../tensor.ts";
import type { GpuStorage, WebGpuBackend } from "./backend.ts";
import { float32Only, kernel } from "./nn.ts";
import { floatFunctions } from "./elementwise.ts";

const read = (name: string) => `@@ var<storage, read> ${name}: array<f32>;`;
const write = (name: string) => `@@ var<storage, read_write> ${name}: array<f32>;`;

/** The gates of element i (row r, unit j) from z and c: p = [n, units, forget bias bits, offsets...]. */
const GATES = `  if (i >= p[0]) { return; }
  let u = p[1];
  let r = i / u;
  let j = i - r * u;
  let zr = p[3] + r * 4 * u + j;
  let fb = bitcast<f32>(p[2]);
  let ig = sigmoid(z[zr]);
  let fg = sigmoid(z[zr + u] + fb);
  let g = tanh_f32(z[zr + 2 * u]);
  let og = sigmoid(z[zr + 3 * u]);
  let cp = c[p[4] + i];
  let cn = fg * cp + ig * g;
  let tc = tanh_f32(cn);`;

// tanh_f32 as the elementwise tanh computes it (elementwise.ts), so that the fused step
// equals its ops bit for bit, as on the CPU.
const SIGMOID = floatFunctions("tanh_f32") +
  "fn sigmoid(a: f32) -> f32 { return 1.0 / (1.0 + exp(-a)); }";

function params(n: number, units: number, forgetBias: number, offsets: number[]): Int32Array {
  const bits = new Int32Array(new Float32Array([forgetBias]).buffer)[0];
  return Int32Array.of(n, units, bits, ...offsets);
}

/** One LSTM step: h and c' of each element. */
export function lstmStep(
  gpu: WebGpuBackend,
  op: string,
  rows: number,
  units: number,
  forgetBias: number,
  z: Tensor,
  c: Tensor,
  hOut: GpuStorage,
  cOut: GpuStorage,
): void {
  float32Only(gpu, op, z.dtype);
  const n = rows * units;
  if (n === 0) return;
  const source = () =>
    SIGMOID + kernel(
      [read("z"), read("c"), write("h"), write("c2")],
      `${GATES}
  c2[i] = cn;
  h[i] = og * tc;`,
    );
  gpu.dispatch("lstmStep", source, params(n, units, forgetBias, [z.offset, c.offset]), n, [
    z.storage as GpuStorage,
    c.storage as GpuStorage,
    hOut,
    cOut,
  ]);
}

/** The LSTM step's gradient: dz (four gates) and dc of each element. */
export function lstmStepGrad(
  gpu: WebGpuBackend,
  op: string,
  rows: number,
  units: number,
  forgetBias: number,
  [z, c, dh, dcNext]: readonly [Tensor, Tensor, Tensor, Tensor],
  dzOut: GpuStorage,
  dcOut: GpuStorage,
): void {
  float32Only(gpu, op, z.dtype);
  const n = rows * units;
  if (n === 0) return;
  const source = () =>
    SIGMOID + kernel(
      [read("z"), read("c"), read("dh"), read("dcn"), write("dz"), write("dc")],
      `${GATES}
  let dhi = dh[p[5] + i];
  let dcell = dcn[p[6] + i] + dhi * og * (1.0 - tc * tc);
  let zo = r * 4 * u + j;
  dz[zo] = dcell * g * ig * (1.0 - ig);
  dz[zo + u] = dcell * cp * fg * (1.0 - fg);
  dz[zo + 2 * u] = dcell * ig * (1.0 - g * g);
  dz[zo + 3 * u] = dhi * tc * og * (1.0 - og);
  dc[i] = dcell * fg;`,
    );
  const offsets = [z.offset, c.offset, dh.offset, dcNext.offset];
  gpu.dispatch("lstmStepGrad", source, params(n, units, forgetBias, offsets), n, [
    z.storage as GpuStorage,
    c.storage as GpuStorage,
    dh.storage as GpuStorage,
    dcNext.storage as GpuStorage,
    dzOut,
    dcOut,
  ]);
}
