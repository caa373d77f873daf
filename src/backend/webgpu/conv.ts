/**
 * The WebGPU device's convolutions (NHWC x, HWIO filters, dense operands from their offsets),
 * with the CPU's semantics (csrc/kernels/conv.c; csrc/include/eager.h). Pooling is in
 * pool.ts. float32 only: WGSL has no f64.
 *
 * Every pass is a gather: one thread writes its output elements and no other thread touches
 * them (WGSL has no float atomics), so the gradients need no zeroed output either.
 * @module
 */
import type { DType } from "../../dtype.ts";
import type { Tensor } from "../../tensor.ts";
import type { ConvGeometry, ConvPass } from "../backend.ts";
import type { GpuStorage, WebGpuBackend } from "./backend.ts";
import { WORKGROUP } from "./elementwise.ts";

/** The error for a dtype other than float32, naming the op and the dtype. */
export function checkFloat32(gpu: WebGpuBackend, op: string, what: string, dtype: DType): void {
  if (dtype !== "float32") gpu.unsupported(op, `${what} in ${dtype}`);
}

/** The opening of every kernel here: the parameter words, the output, the inputs, and the
 * thread index `i` of a 1-D launch (the grid of `workgroups()`). */
export function kernelHead(inputs: readonly string[]): string {
  return `
@group(0) @binding(0) var<storage, read> p: array<i32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
${
    inputs.map((name, k) => `@group(0) @binding(${k + 2}) var<storage, read> ${name}: array<f32>;`)
      .join("\n")
  }
`;
}

/** The names of the geometry words, in order (see convWords). */
const CONV_NAMES = [
  "n",
  "h",
  "w",
  "c",
  "kh",
  "kw",
  "oc",
  "oh",
  "ow",
  "sh",
  "sw",
  "dh",
  "dw",
  "pt",
  "pl",
  "ao",
  "bo",
  "count",
] as const; // deno-fmt-ignore

/** `let` bindings of the named words, for a shader's body. */
export function unpack(names: readonly string[]): string {
  return names.map((name, k) => `let ${name} = p[${k}];`).join(" ");
}

/** The parameter words of a convolution pass over `count` threads; ao / bo are the
 * operands' offsets. */
function convWords(
  [xs, fs, g]: [readonly number[], readonly number[], ConvGeometry],
  a: Tensor,
  b: Tensor,
  count: number,
): Int32Array {
  const q = g.params;
  return Int32Array.from([
    ...xs,
    fs[0],
    fs[1],
    fs[3],
    g.out[1],
    g.out[2],
    q.strideH,
    q.strideW,
    q.dilationH,
    q.dilationW,
    q.padTop,
    q.padLeft,
    a.offset,
    b.offset,
    count,
  ]);
}

const INDEX = `let i = i32(id.x + id.y * groups.x * ${WORKGROUP}u);`;
const ENTRY = `@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  ${unpack(CONV_NAMES)}
  ${INDEX}
  if (i >= count) { return; }`;

/** y[b, oy, ox, o] = sum over (ky, kx, ci) of x[b, oy*sh - pt + ky*dh, ...] f[ky, kx, ci, o];
 * padding reads as zero. One thread an output element. */
function forwardShader(): string {
  return `${kernelHead(["x", "f"])}
${ENTRY}
  let o = i % oc;
  var r = i / oc;
  let ox = r % ow;
  r = r / ow;
  let oy = r % oh;
  let b = r / oh;
  var acc = 0.0;
  for (var ky = 0; ky < kh; ky++) {
    let iy = oy * sh - pt + ky * dh;
    if (iy < 0 || iy >= h) { continue; }
    for (var kx = 0; kx < kw; kx++) {
      let ix = ox * sw - pl + kx * dw;
      if (ix < 0 || ix >= w) { continue; }
      let xi = ao + ((b * h + iy) * w + ix) * c;
      let fi = bo + (ky * kw + kx) * c * oc + o;
      for (var ci = 0; ci < c; ci++) { acc += x[xi + ci] * f[fi + ci * oc]; }
    }
  }
  out[i] = acc;
}
`;
}

/** dx[b, iy, ix, ci] = sum of dy[b, oy, ox, o] f[ky, kx, ci, o] over the taps that read
 * (iy, ix): oy*sh - pt + ky*dh == iy. One thread an element of dx. NOTE: sh, sw >= 1, so the
 * divisions by them never trap. */
function inputGradShader(): string {
  return `${kernelHead(["f", "dy"])}
${ENTRY}
  let ci = i % c;
  var r = i / c;
  let ix = r % w;
  r = r / w;
  let iy = r % h;
  let b = r / h;
  var acc = 0.0;
  for (var ky = 0; ky < kh; ky++) {
    let ty = iy + pt - ky * dh;
    if (ty < 0 || ty % sh != 0 || ty / sh >= oh) { continue; }
    for (var kx = 0; kx < kw; kx++) {
      let tx = ix + pl - kx * dw;
      if (tx < 0 || tx % sw != 0 || tx / sw >= ow) { continue; }
      let di = bo + ((b * oh + ty / sh) * ow + tx / sw) * oc;
      let fi = ao + ((ky * kw + kx) * c + ci) * oc;
      for (var o = 0; o < oc; o++) { acc += dy[di + o] * f[fi + o]; }
    }
  }
  out[i] = acc;
}
`;
}

/** df[ky, kx, ci, o] = sum over (b, oy, ox) of x[b, oy*sh - pt + ky*dh, ...] dy[b, oy, ox, o].
 * One thread an element of df. */
function filterGradShader(): string {
  return `${kernelHead(["x", "dy"])}
${ENTRY}
  let o = i % oc;
  var r = i / oc;
  let ci = r % c;
  r = r / c;
  let kx = r % kw;
  let ky = r / kw;
  var acc = 0.0;
  for (var b = 0; b < n; b++) {
    for (var oy = 0; oy < oh; oy++) {
      let iy = oy * sh - pt + ky * dh;
      if (iy < 0 || iy >= h) { continue; }
      for (var ox = 0; ox < ow; ox++) {
        let ix = ox * sw - pl + kx * dw;
        if (ix < 0 || ix >= w) { continue; }
        acc += x[ao + ((b * h + iy) * w + ix) * c + ci] * dy[bo + ((b * oh + oy) * ow + ox) * oc + o];
      }
    }
  }
  out[i] = acc;
}
`;
}

const SHADERS: Record<ConvPass, () => string> = {
  forward: forwardShader,
  inputGrad: inputGradShader,
  filterGrad: filterGradShader,
};

/** The element count of each pass's result: y, dx or df. */
function resultSize(
  pass: ConvPass,
  [xs, fs, g]: [readonly number[], readonly number[], ConvGeometry],
) {
  const shape = pass === "forward" ? g.out : pass === "inputGrad" ? xs : fs;
  return shape.reduce((p, d) => p * d, 1);
}

/**
 * One pass of a convolution: "forward" (a = x, b = filter) -> y, "inputGrad" (a = filter,
 * b = dy) -> dx, "filterGrad" (a = x, b = dy) -> df, written whole into `result`.
 */
export function convPass(
  gpu: WebGpuBackend,
  op: string,
  pass: ConvPass,
  dtype: DType,
  shapes: [readonly number[], readonly number[], ConvGeometry],
  result: GpuStorage,
  a: Tensor,
  b: Tensor,
): void {
  checkFloat32(gpu, op, "conv2d", dtype);
  const count = resultSize(pass, shapes);
  if (count === 0) return;
  gpu.dispatch(`conv-${pass}`, SHADERS[pass], convWords(shapes, a, b, count), count, [
    result,
    a.storage as GpuStorage,
    b.storage as GpuStorage,
  ]);
}
