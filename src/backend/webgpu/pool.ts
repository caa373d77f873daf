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
import type { Tensor } from "../../tensor.ts";
import type { PoolGeometry } from "../backend.ts";
import type { GpuStorage, WebGpuBackend } from "./backend.ts";
import { WORKGROUP } from "./elementwise.ts";
import { checkFloat32, unpack } from "./conv.ts";

type Shapes = [readonly number[], PoolGeometry];

/** The geometry words, in order (see poolWords); ao / bo: the offsets of the two operands. */
const NAMES = [
  "n",
  "h",
  "w",
  "c",
  "kh",
  "kw",
  "oh",
  "ow",
  "sh",
  "sw",
  "pt",
  "pl",
  "ao",
  "bo",
  "count",
] as const; // deno-fmt-ignore

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

/** A kernel over `count` threads: bindings (output first), helpers, then the body with the
 * words unpacked and (b, row, col, ch) of element i of an NHWC grid of rows x cols x c. */
function kernel(bindings: string[], rows: string, cols: string, body: string): string {
  return `
@group(0) @binding(0) var<storage, read> p: array<i32>;
${bindings.map((b, k) => `@group(0) @binding(${k + 1}) var<storage, ${b};`).join("\n")}

fn is_nan(v: f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u; }

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  ${unpack(NAMES)}
  let i = i32(id.x + id.y * groups.x * ${WORKGROUP}u);
  if (i >= count) { return; }
  let ch = i % c;
  let col = (i / c) % ${cols};
  let row = (i / (c * ${cols})) % ${rows};
  let b = i / (c * ${cols} * ${rows});
  ${body}
}
`;
}

/** The in-bounds window [y0, y1) x [x0, x1) of output pixel (row, col). */
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
function forwardShader(max: boolean): string {
  const reduce = max
    ? `var acc = bitcast<f32>(0xff800000u);
  for (var y = y0; y < y1; y++) {
    for (var x = x0; x < x1; x++) {
      let v = x_[base + (y * w + x) * c];
      if (!is_nan(acc) && (v > acc || is_nan(v))) { acc = v; }
    }
  }`
    : `var acc = 0.0;
  for (var y = y0; y < y1; y++) {
    for (var x = x0; x < x1; x++) { acc += x_[base + (y * w + x) * c]; }
  }
  let m = (y1 - y0) * (x1 - x0);
  if (m > 0) { acc *= 1.0 / f32(m); }`;
  return kernel(
    ["read_write> out: array<f32>", "read> x_: array<f32>"],
    "oh",
    "ow",
    `${WINDOW}\n  ${reduce}\n  out[i] = acc;`,
  );
}

/** Each window's argmax as the CPU's pool_argmax picks it (the first maximum in row-major
 * order, or the first NaN), as y * w + x; -1 for an empty window. */
const ARGMAX = kernel(
  ["read_write> out: array<i32>", "read> x_: array<f32>"],
  "oh",
  "ow",
  `${WINDOW}
  var at = -1;
  var best = 0.0;
  for (var y = y0; y < y1; y++) {
    for (var x = x0; x < x1; x++) {
      let v = x_[base + (y * w + x) * c];
      if (at < 0 || (!is_nan(best) && (v > best || is_nan(v)))) {
        best = v;
        at = y * w + x;
      }
    }
  }
  out[i] = at;`,
);

/** Max pooling's gradient from the argmaxes: dx sums dy over the windows won by its pixel. */
const MAX_GRAD = kernel(
  ["read_write> out: array<f32>", "read> arg: array<i32>", "read> dy: array<f32>"],
  "h",
  "w",
  `${COVERING}
  var acc = 0.0;
  for (var y = r0; y <= r1; y++) {
    for (var x = c0; x <= c1; x++) {
      let o = ((b * oh + y) * ow + x) * c + ch;
      if (arg[o] == row * w + col) { acc += dy[bo + o]; }
    }
  }
  out[i] = acc;`,
);

/** Max pooling's second-order gradient: ddx at each window's argmax (0 where empty). */
const MAX_GRAD_GRAD = kernel(
  ["read_write> out: array<f32>", "read> arg: array<i32>", "read> ddx: array<f32>"],
  "oh",
  "ow",
  `let at = arg[i];
  out[i] = select(0.0, ddx[bo + (b * h * w + max(at, 0)) * c + ch], at >= 0);`,
);

/** Average pooling's gradient: dx sums dy / (in-bounds window size) over the windows that
 * contain it (which are never empty). */
const AVG_GRAD = kernel(
  ["read_write> out: array<f32>", "read> dy: array<f32>"],
  "h",
  "w",
  `${COVERING}
  var acc = 0.0;
  for (var y = r0; y <= r1; y++) {
    for (var x = c0; x <= c1; x++) {
      let m = (min(y * sh - pt + kh, h) - max(y * sh - pt, 0)) *
        (min(x * sw - pl + kw, w) - max(x * sw - pl, 0));
      acc += dy[bo + ((b * oh + y) * ow + x) * c + ch] * (1.0 / f32(m));
    }
  }
  out[i] = acc;`,
);

const sizeOf = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

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
  checkFloat32(gpu, op, max ? "max pooling" : "average pooling", dtype);
  const count = sizeOf(shapes[1].out);
  if (count === 0) return;
  gpu.dispatch(
    max ? "maxpool" : "avgpool",
    () => forwardShader(max),
    poolWords(shapes, x.offset, 0, count),
    count,
    [
      result,
      x.storage as GpuStorage,
    ],
  );
}

/** Max pooling's gradient from (x, dy) into dx, or (secondOrder) its gradient from (x, ddx)
 * into a y-shaped result. */
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
  checkFloat32(gpu, op, "max pooling's gradient", dtype);
  const windows = sizeOf(shapes[1].out), count = secondOrder ? windows : sizeOf(shapes[0]);
  if (count === 0) return;
  const arg = gpu.allocateOutput("int32", windows, op);
  if (windows > 0) {
    gpu.dispatch("pool-argmax", () => ARGMAX, poolWords(shapes, x.offset, 0, windows), windows, [
      arg,
      x.storage as GpuStorage,
    ]);
  }
  const [key, source] = secondOrder
    ? ["maxpool-gradgrad", MAX_GRAD_GRAD]
    : ["maxpool-grad", MAX_GRAD];
  gpu.dispatch(key, () => source, poolWords(shapes, 0, other.offset, count), count, [
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
  checkFloat32(gpu, op, "average pooling's gradient", dtype);
  const count = sizeOf(shapes[0]);
  if (count === 0) return;
  gpu.dispatch("avgpool-grad", () => AVG_GRAD, poolWords(shapes, 0, dy.offset, count), count, [
    result,
    dy.storage as GpuStorage,
  ]);
}
