/**
 * The WebGPU device's max and average pooling and their gradients (NHWC, dense operands from
 * their offsets), with the CPU's semantics (csrc/kernels/pooling.c): windows cover only
 * in-bounds elements; max takes the first maximum in row-major window order, or the first NaN
 * (an empty window gives -inf); average divides by the in-bounds count (an empty window gives
 * 0). float32 only.
 *
 * The gradients are gathers (WGSL has no float atomics): one thread an element of dx sums, in
 * row-major window order as the CPU adds them, the contributions of the windows that contain
 * it. Max pooling's gradient first writes each window's argmax (an int32 scratch shaped like
 * y), so a thread reads the windows covering it rather than recomputing each one's maximum.
 * @module
 */
import type { DType } from "../../dtype.ts";
import { sizeOf } from "../../shape.ts";
import type { Tensor } from "../../tensor.ts";
import type { PoolGeometry } from "../backend.ts";
import type { GpuStorage, WebGpuBackend } from "./backend.ts";
import { WORKGROUP } from "./elementwise.ts";
import { checkFloat32, unpack } from "./conv.ts";

type Shapes = [readonly number[], PoolGeometry];

/** The geometry words, in order (see poolWords); ao / bo: the offsets of the two operands. */
// deno-fmt-ignore
const NAMES = [
  "n", "h", "w", "c", "kh", "kw", "oh", "ow", "sh", "sw", "pt", "pl", "ao", "bo", "count",
] as const;

function poolWords([xs, g]: Shapes, ao: number, bo: number, count: number): Int32Array {
  const q = g.params;
  return Int32Array.of(
    ...xs,
    q.windowH,
    q.windowW,
    g.out[1],
    g.out[2],
    q.strideH,
    q.strideW,
    q.padTop,
    q.padLeft,
    ao,
    bo,
    count,
  );
}

/** The shaders' element types: V channels a thread (4 where the channels and offsets allow
 * vec4 loads, which llvmpipe does about 3x faster a float than scalar ones). */
interface Types {
  V: 1 | 4;
  F: string;
  I: string;
  U: string;
}

function typesOf(V: 1 | 4): Types {
  const vec = (t: string) => V === 4 ? `vec4<${t}>` : t;
  return { V, F: vec("f32"), I: vec("i32"), U: vec("u32") };
}

/** A kernel over `count` / V threads: bindings (output first), then the body with the words
 * unpacked, (b, row, col) of a pixel of an NHWC grid of rows x cols and its channels ch ..
 * ch + V - 1. `is_nan` tests the bits, since a compiler may fold v != v away. */
function kernel(t: Types, bindings: string[], rows: string, cols: string, body: string): string {
  return `
@group(0) @binding(0) var<storage, read> p: array<i32>;
${bindings.map((b, k) => `@group(0) @binding(${k + 1}) var<storage, ${b};`).join("\n")}

fn is_nan(v: ${t.F}) -> ${t.V === 4 ? "vec4<bool>" : "bool"} {
  return (bitcast<${t.U}>(v) & ${t.U}(0x7fffffffu)) > ${t.U}(0x7f800000u);
}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  ${unpack(NAMES)}
  let i = i32(id.x + id.y * groups.x * ${WORKGROUP}u);
  if (i >= count) { return; }
  let cv = c / ${t.V};
  let ch = (i % cv) * ${t.V};
  let col = (i / cv) % ${cols};
  let row = (i / (cv * ${cols})) % ${rows};
  let b = i / (cv * ${cols} * ${rows});
  ${body}
}
`;
}

/** The in-bounds window [y0, y1) x [x0, x1) of output pixel (row, col); `base`, the element
 * of channel ch of x's image b. */
const WINDOW = `let ys = row * sh - pt;
  let xs = col * sw - pl;
  let y0 = max(ys, 0); let y1 = min(ys + kh, h);
  let x0 = max(xs, 0); let x1 = min(xs + kw, w);
  let base = ao + b * h * w * c + ch;`;

/** The windows containing input pixel (row, col): output rows [r0, r1] and columns [c0, c1].
 * NOTE: sh, sw >= 1, so these divisions never trap; pt + row >= 0. */
const COVERING = `let r0 = select(0, (row + pt - kh + sh) / sh, row + pt - kh + 1 > 0);
  let r1 = min((row + pt) / sh, oh - 1);
  let c0 = select(0, (col + pl - kw + sw) / sw, col + pl - kw + 1 > 0);
  let c1 = min((col + pl) / sw, ow - 1);`;

/** Max (NaN wins, -inf where empty) or average (0 where empty) of each window. */
function forwardShader(t: Types, max: boolean): string {
  const reduce = max
    ? `var acc = ${t.F}(bitcast<f32>(0xff800000u));
  for (var y = y0; y < y1; y++) {
    for (var x = x0; x < x1; x++) {
      let v = x_[(base + (y * w + x) * c) / ${t.V}];
      acc = select(acc, v, !is_nan(acc) & (v > acc | is_nan(v)));
    }
  }`
    : `var acc = ${t.F}(0.0);
  for (var y = y0; y < y1; y++) {
    for (var x = x0; x < x1; x++) { acc += x_[(base + (y * w + x) * c) / ${t.V}]; }
  }
  let m = (y1 - y0) * (x1 - x0);
  if (m > 0) { acc *= 1.0 / f32(m); }`;
  return kernel(
    t,
    [`read_write> out: array<${t.F}>`, `read> x_: array<${t.F}>`],
    "oh",
    "ow",
    `${WINDOW}\n  ${reduce}\n  out[i] = acc;`,
  );
}

/** Each window's argmax as the CPU's pool_argmax picks it (the first maximum in row-major
 * order, or the first NaN), as y * w + x; -1 for an empty window. */
function argmaxShader(t: Types): string {
  return kernel(
    t,
    [`read_write> out: array<${t.I}>`, `read> x_: array<${t.F}>`],
    "oh",
    "ow",
    `${WINDOW}
  var at = ${t.I}(-1);
  var best = ${t.F}(0.0);
  for (var y = y0; y < y1; y++) {
    for (var x = x0; x < x1; x++) {
      let v = x_[(base + (y * w + x) * c) / ${t.V}];
      let take = at < ${t.I}(0) | (!is_nan(best) & (v > best | is_nan(v)));
      best = select(best, v, take);
      at = select(at, ${t.I}(y * w + x), take);
    }
  }
  out[i] = at;`,
  );
}

/** Max pooling's gradient from the argmaxes: dx sums dy over the windows its pixel won. */
function maxGradShader(t: Types): string {
  return kernel(
    t,
    [`read_write> out: array<${t.F}>`, `read> arg: array<${t.I}>`, `read> dy: array<${t.F}>`],
    "h",
    "w",
    `${COVERING}
  var acc = ${t.F}(0.0);
  for (var y = r0; y <= r1; y++) {
    for (var x = c0; x <= c1; x++) {
      let o = ((b * oh + y) * ow + x) * c + ch;
      acc += select(${t.F}(0.0), dy[(bo + o) / ${t.V}], arg[o / ${t.V}] == ${t.I}(row * w + col));
    }
  }
  out[i] = acc;`,
  );
}

/** Max pooling's second-order gradient: ddx at each window's argmax, 0 where the window is
 * empty; read a float at a time, since the argmaxes of a thread's channels differ. */
function maxGradGradShader(t: Types): string {
  const at = (e: number) => t.V === 4 ? `at[${e}]` : "at";
  const load = (e: number) => `ddx[bo + (b * h * w + max(${at(e)}, 0)) * c + ch + ${e}]`;
  const value = t.V === 4 ? `vec4<f32>(${[0, 1, 2, 3].map(load).join(", ")})` : load(0);
  return kernel(
    t,
    [`read_write> out: array<${t.F}>`, `read> arg: array<${t.I}>`, "read> ddx: array<f32>"],
    "oh",
    "ow",
    `let at = arg[i];
  out[i] = select(${t.F}(0.0), ${value}, at >= ${t.I}(0));`,
  );
}

/** Average pooling's gradient: dx sums dy / (in-bounds window size) over the windows that
 * contain it (which are never empty). */
function avgGradShader(t: Types): string {
  return kernel(
    t,
    [`read_write> out: array<${t.F}>`, `read> dy: array<${t.F}>`],
    "h",
    "w",
    `${COVERING}
  var acc = ${t.F}(0.0);
  for (var y = r0; y <= r1; y++) {
    for (var x = c0; x <= c1; x++) {
      let m = (min(y * sh - pt + kh, h) - max(y * sh - pt, 0)) *
        (min(x * sw - pl + kw, w) - max(x * sw - pl, 0));
      acc += dy[(bo + ((b * oh + y) * ow + x) * c + ch) / ${t.V}] * (1.0 / f32(m));
    }
  }
  out[i] = acc;`,
  );
}

/** Loop iterations an invocation may run in all: llvmpipe ends its loops there, silently. */
const LOOP_LIMIT = 65535;

/**
 * Checks the dtype and the window (a thread loops over a window, or over the windows that
 * cover a pixel, which must stay under LOOP_LIMIT); returns the element types: 4 channels a
 * thread where every operand allows vec4 loads, else 1.
 */
function prepare(
  gpu: WebGpuBackend,
  op: string,
  what: string,
  dtype: DType,
  shapes: Shapes,
  operands: Tensor[],
): Types {
  checkFloat32(gpu, op, what, dtype);
  const { windowH: kh, windowW: kw, strideH: sh, strideW: sw } = shapes[1].params;
  const covering = (Math.ceil(kh / sh) + 1) * (Math.ceil(kw / sw) + 1);
  if (Math.max(kh * (kw + 1), covering) >= LOOP_LIMIT) {
    gpu.unsupported(op, `${what} over ${kh}x${kw} windows (llvmpipe ends longer loops early)`);
  }
  const aligned = (t: Tensor) => t.offset % 4 === 0 && (t.storage as GpuStorage).bytes >= 16;
  return typesOf(shapes[0][3] % 4 === 0 && operands.every(aligned) ? 4 : 1);
}

/** Max (or average) pooling of x into `result` [N, OH, OW, C]. */
export function poolForward(
  gpu: WebGpuBackend,
  op: string,
  max: boolean,
  dtype: DType,
  shapes: Shapes,
  result: GpuStorage,
  x: Tensor,
): void {
  const t = prepare(gpu, op, max ? "max pooling" : "average pooling", dtype, shapes, [x]);
  const threads = sizeOf(shapes[1].out) / t.V;
  if (threads === 0) return;
  const words = poolWords(shapes, x.offset, 0, threads);
  const key = `${max ? "maxpool" : "avgpool"}${t.V}`;
  gpu.dispatch(key, () => forwardShader(t, max), words, threads, [result, x.storage as GpuStorage]);
}

/** Max pooling's gradient from (x, dy) into dx, or (secondOrder) its gradient from (x, ddx)
 * into a y-shaped result; both from an int32 scratch of each window's argmax. */
export function maxPoolGradPass(
  gpu: WebGpuBackend,
  op: string,
  secondOrder: boolean,
  dtype: DType,
  shapes: Shapes,
  result: GpuStorage,
  x: Tensor,
  other: Tensor,
): void {
  const t = prepare(gpu, op, "max pooling's gradient", dtype, shapes, [x, other]);
  // Never 0 while x is not empty: a window always fits the padded input.
  const windows = sizeOf(shapes[1].out) / t.V;
  const threads = secondOrder ? windows : sizeOf(shapes[0]) / t.V;
  if (threads === 0) return;
  const arg = gpu.allocateOutput("int32", windows * t.V, op);
  const argWords = poolWords(shapes, x.offset, 0, windows);
  gpu.dispatch(`pool-argmax${t.V}`, () => argmaxShader(t), argWords, windows, [
    arg,
    x.storage as GpuStorage,
  ]);
  const [key, source] = secondOrder
    ? ["maxpool-gradgrad", maxGradGradShader]
    : ["maxpool-grad", maxGradShader];
  const words = poolWords(shapes, 0, other.offset, threads);
  gpu.dispatch(`${key}${t.V}`, () => source(t), words, threads, [
    result,
    arg,
    other.storage as GpuStorage,
  ]);
  gpu.free(arg); // the queue keeps order: a later kernel reusing the buffer runs after these
}

/** Average pooling's gradient: dy spread over each window into dx [N, H, W, C]. */
export function avgPoolGradPass(
  gpu: WebGpuBackend,
  op: string,
  dtype: DType,
  shapes: Shapes,
  result: GpuStorage,
  dy: Tensor,
): void {
  const t = prepare(gpu, op, "average pooling's gradient", dtype, shapes, [dy]);
  const threads = sizeOf(shapes[0]) / t.V;
  if (threads === 0) return;
  const words = poolWords(shapes, 0, dy.offset, threads);
  gpu.dispatch(`avgpool-grad${t.V}`, () => avgGradShader(t), words, threads, [
    result,
    dy.storage as GpuStorage,
  ]);
}
