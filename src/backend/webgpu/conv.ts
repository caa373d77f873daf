/**
 * The WebGPU device's convolutions (NHWC x, HWIO filters, dense operands from their offsets),
 * with the CPU's semantics (csrc/kernels/conv.c; csrc/include/eager.h). Pooling is in
 * pool.ts. float32 only: WGSL has no f64.
 *
 * Each pass is a product of a gathered operand and a uniform one, summed over reduction rows:
 *   forward     y[pixel, o]   = sum over (tap, ci) of x at (pixel, tap)[ci] * f[tap, ci, o]
 *   inputGrad   dx[pixel, ci] = sum over (tap, o)  of dy at (pixel, tap)[o] * f[tap, ci, o]
 *   filterGrad  df[tap, ci, o] = sum over pixels r  of x at (r, tap)[ci]    * dy[r, o]
 * One thread computes a P x Q block of the result (P result rows, Q channels), so the result
 * is a gather (WGSL has no float atomics) and every element is written.
 *
 * Decisions, measured on llvmpipe (8 threads a SIMD vector, 2 cores here):
 * - Loads cost most: a scalar storage load about 4 cycles a lane, a vec4 one about 1.4 a
 *   float, a uniform-buffer load about 0.65 a float (vector gathers), uniform index or not;
 *   a multiply-add about 1-2.5 a vector with spills. So each thread holds a P x Q register
 *   block, the gathered operand is read as vec4 where its channels allow (V = 4), and the
 *   operand every thread reads (the filter rows, or dy's rows for filterGrad) is staged, a
 *   chunk of reduction rows at a time, into one 64 KiB uniform buffer by a copy kernel; the
 *   chunk's conv kernel then writes (first chunk) or adds its part of the result.
 * - llvmpipe runs a workgroup on one core, idle lanes included: a result of few rows splits
 *   its reduction across threads instead, into partial sums that one more kernel adds up.
 * - llvmpipe ends an invocation's loops after 65,535 iterations in all, silently (its loop
 *   limiter): a chunk bounds each thread's loops (at most 16,384 reduction rows).
 * - inputGrad's strides are WGSL constants, so its divisions by them are cheap and never by
 *   zero; every other divisor is at least 1. Other geometry is in the parameter words, since
 *   llvmpipe takes about a second to compile each kernel variant.
 * @module
 */
import type { DType } from "../../dtype.ts";
import type { Tensor } from "../../tensor.ts";
import type { ConvGeometry, ConvPass } from "../backend.ts";
import type { WebGpuBackend } from "./backend.ts";
import { GpuStorage } from "./storage.ts";
import { WORKGROUP } from "./elementwise.ts";

/** The error for a dtype other than float32, naming the op and the dtype. */
export function checkFloat32(gpu: WebGpuBackend, op: string, what: string, dtype: DType): void {
  if (dtype !== "float32") gpu.unsupported(op, `${what} in ${dtype}`);
}

/** `let` bindings of the named parameter words, for a shader's body. */
export function unpack(names: readonly string[]): string {
  return names.map((name, k) => `let ${name} = p[${k}];`).join(" ");
}

/** Floats in the staging buffer: 64 KiB, WebGPU's default maxUniformBufferBindingSize. */
const UNIFORM_FLOATS = 16384;

/** Each backend's staging buffer. NOTE: one is enough, reused by every chunk: the kernels of
 * a queue run in order, so a chunk's conv kernel reads it before the next copy writes it. */
const staging = new WeakMap<WebGpuBackend, GpuStorage>();

function stagingBuffer(gpu: WebGpuBackend): GpuStorage {
  let buffer = staging.get(gpu);
  if (!buffer) {
    const bytes = UNIFORM_FLOATS * 4;
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.UNIFORM;
    buffer = new GpuStorage(gpu, gpu.gpu.createBuffer({ size: bytes, usage }), bytes);
    staging.set(gpu, buffer);
  }
  return buffer;
}

/** The copy kernel: staged[i] = src[base + (k / a) * b + (k % a) * d + e * stride] for row
 * k = k0 + i / len, element e = i % len: rows of HWIO filters or of dy as they are (a = 1),
 * or the filter's (tap, o) rows over ci for inputGrad (a = oc). */
const STAGE = `
@group(0) @binding(0) var<storage, read> p: array<i32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> src: array<f32>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  ${unpack(["count", "len", "k0", "base", "a", "b", "d", "stride"])}
  let i = i32(id.x + id.y * groups.x * ${WORKGROUP}u);
  if (i >= count) { return; }
  let k = k0 + i / max(len, 1);
  let e = i % max(len, 1);
  out[i] = src[base + (k / max(a, 1)) * b + (k % max(a, 1)) * d + e * stride];
}
`;

type Shapes = [readonly number[], readonly number[], ConvGeometry];

/** How a pass reads its operands (see the module's table). */
interface Layout {
  /** Result rows (pixels, or filter rows (tap, ci)) and channels; reduction rows. */
  rows: number;
  cols: number;
  reduction: number;
  /** The staged operand, its reduction rows of `cols` floats as STAGE's words a, b, d, stride. */
  uniform: Tensor;
  rowWords: [number, number, number, number];
  /** The gathered operand and its channels (x's c, or dy's oc). */
  gathered: Tensor;
  channels: number;
}

function layoutOf(pass: ConvPass, [xs, fs, g]: Shapes, a: Tensor, b: Tensor): Layout {
  const taps = fs[0] * fs[1], [c, oc] = [fs[2], fs[3]];
  const pixels = (shape: readonly number[]) => shape[0] * shape[1] * shape[2];
  const dense: Layout["rowWords"] = [1, oc, 0, 1];
  if (pass === "forward") {
    return layout([pixels(g.out), oc, taps * c], b, dense, a, c);
  }
  // Staged row (tap, o) of inputGrad holds f[tap, ci, o] over ci.
  if (pass === "inputGrad") {
    return layout([pixels(xs), c, taps * oc], a, [oc, c * oc, 1, oc], b, oc);
  }
  return layout([taps * c, oc, pixels(g.out)], b, dense, a, c);
}

function layout(
  [rows, cols, reduction]: number[],
  uniform: Tensor,
  rowWords: Layout["rowWords"],
  gathered: Tensor,
  channels: number,
): Layout {
  return { rows, cols, reduction, uniform, rowWords, gathered, channels };
}

/** A shader's compile-time shape: P result rows and Q channels a thread; V channels a gathered
 * load (4: vec4 loads); U floats a uniform load (4 or 1); inputGrad's strides. */
interface Tile {
  pass: ConvPass;
  P: number;
  Q: number;
  V: 1 | 4;
  U: 1 | 4;
  strides: [number, number];
}

/** NOTE: P x Q = 7 x 16 (filterGrad 8 or 4 x 16; Q = 4 for at most 4 channels), measured on
 * the MNIST convs: a bigger block feeds more multiply-adds from each load, which pays although
 * llvmpipe then spills accumulators to the stack; Q = 32 ran about 10% faster on the second
 * conv but took llvmpipe 2.5-3.3 s to compile a kernel instead of 0.7-0.9 s. */
function tileOf(pass: ConvPass, l: Layout, { params: q }: ConvGeometry): Tile {
  const storage = l.gathered.storage as GpuStorage;
  const vec4 = l.channels % 4 === 0 && l.gathered.offset % 4 === 0 && storage.bytes >= 16;
  const Q = l.cols <= 4 ? 4 : 16;
  const V = vec4 && (pass === "filterGrad" || rowsPerChunk(l, Q) >= 4) ? 4 : 1;
  return {
    pass,
    P: pass === "filterGrad" ? (V === 4 ? 8 : 4) : 7,
    Q,
    V,
    U: l.cols % 4 === 0 ? 4 : 1,
    strides: pass === "inputGrad" ? [q.strideH, q.strideW] : [0, 0],
  };
}

/** Reduction rows a chunk stages: as many as fit, with a thread's channel overhang. */
function rowsPerChunk(l: Layout, Q: number): number {
  return Math.floor((UNIFORM_FLOATS - Q) / Math.max(l.cols, 1));
}

// ---- the shader ------------------------------------------------------------------------

// deno-fmt-ignore
const NAMES = [
  "n", "h", "w", "c", "kh", "kw", "oc", "oh", "ow", "pt", "pl", "sh", "sw", "dh", "dw",
  "so", "rows", "cols", "k0", "k1", "first", "len", "splits", "per",
] as const;

const range = (n: number) => [...Array(n).keys()];

/** The staged floats of chunk row `row`, channels col0 + 4q .. + 3: one vec4 load where the
 * rows are vec4-aligned (U = 4), else four. */
function weights({ U }: Tile, row: string, q: number): string {
  if (U === 4) return `u[(${row}) * len4 + c4 + ${q}]`;
  return `vec4<f32>(${range(4).map((e) => `ui((${row}) * len + col0 + ${4 * q + e})`).join(", ")})`;
}

/** For each channel group q: one uniform load of chunk row `row`, then the multiply-adds of
 * result rows `terms` ([accumulator row j, gathered value]). */
function multiplyAdds(tile: Tile, row: string, terms: [number, string][]): string {
  return range(tile.Q / 4).map((q) =>
    `{ let f = ${weights(tile, row, q)}; ${
      terms.map(([j, v]) => `a${j}_${q} += ${v} * f;`).join(" ")
    } }`
  ).join("\n      ");
}

/** A gathered load of V channels from element `at` (zero where !ok). */
function gather({ V }: Tile, at: string, ok: string): string {
  return V === 4 ? `select(vec4<f32>(), g[(${at}) >> 2u], ${ok})` : `select(0.0, g[${at}], ${ok})`;
}

/** Component cc of a gathered value. */
const part = ({ V }: Tile, v: string, cc: number) => V === 4 ? `${v}[${cc}]` : v;

/** The result pixels (b{j}, y{j}, x{j}) of a thread's rows, in a grid of gh x gw, stepping
 * from row0 without divisions; rows past the end repeat the last image. */
function pixelRows({ P }: Tile, gh: string, gw: string): string {
  const first = `let p0 = min(row0, rows - 1);
  let x0 = p0 % ${gw}; let y0 = (p0 / ${gw}) % ${gh}; let b0 = p0 / (${gw} * ${gh});`;
  const next = range(P).slice(1).map((j) =>
    `let w${j} = x${j - 1} + 1 == ${gw};
  let x${j} = select(x${j - 1} + 1, 0, w${j});
  let v${j} = w${j} && y${j - 1} + 1 == ${gh};
  let y${j} = select(y${j - 1} + select(0, 1, w${j}), 0, v${j});
  let b${j} = min(b${j - 1} + select(0, 1, v${j}), n - 1);`
  );
  return [first, ...next].join("\n  ");
}

/** Where result pixel j reads at tap (ky, kx): ok{j}, and at{j}, its channel 0. */
function source(tile: Tile, j: number): string {
  if (tile.pass === "forward") {
    return `let iy${j} = y${j} * sh - pt + ky * dh; let ix${j} = x${j} * sw - pl + kx * dw;
    let ok${j} = iy${j} >= 0 && iy${j} < h && ix${j} >= 0 && ix${j} < w;
    let at${j} = select(0, so + ((b${j} * h + iy${j}) * w + ix${j}) * c, ok${j});`;
  }
  // inputGrad: dx pixel (y, x) meets dy pixel (ty / sh, tx / sw) at this tap, if whole.
  const [sh, sw] = tile.strides;
  return `let ty${j} = y${j} + pt - ky * dh; let tx${j} = x${j} + pl - kx * dw;
    let ok${j} = ty${j} >= 0 && tx${j} >= 0 && ty${j} % ${sh} == 0 && tx${j} % ${sw} == 0 &&
      ty${j} / ${sh} < oh && tx${j} / ${sw} < ow;
    let at${j} = select(0, so + ((b${j} * oh + ty${j} / ${sh}) * ow + tx${j} / ${sw}) * oc, ok${j});`;
}

/** forward and inputGrad: reduction rows k = tap * kc + channel, walked a tap at a time. */
function pixelLoop(tile: Tile): string {
  const [gh, gw, kc] = tile.pass === "forward" ? ["oh", "ow", "c"] : ["h", "w", "oc"];
  const js = range(tile.P);
  const adds = range(tile.V).map((cc) =>
    multiplyAdds(tile, `row + ${cc}`, js.map((j) => [j, part(tile, `g${j}`, cc)]))
  );
  return `${pixelRows(tile, gh, gw)}
  var k = kb;
  while (k < ke) {
    let tap = k / ${kc};
    let ky = tap / kw;
    let kx = tap - ky * kw;
    ${js.map((j) => source(tile, j)).join("\n    ")}
    let end = min(${kc}, ke - tap * ${kc});
    for (var ch = k - tap * ${kc}; ch < end; ch += ${tile.V}) {
      ${js.map((j) => `let g${j} = ${gather(tile, `at${j} + ch`, `ok${j}`)};`).join(" ")}
      let row = tap * ${kc} + ch - k0;
      ${adds.join("\n      ")}
    }
    k = tap * ${kc} + end;
  }`;
}

/** filterGrad: a thread's rows are P taps (tap, ci), V of them a gathered load; the reduction
 * rows are dy's pixels, walked an output row (b, oy) at a time. */
function filterLoop(tile: Tile): string {
  const loads = range(tile.P / tile.V);
  const taps = loads.map((t) =>
    `let t${t} = min(row0 + ${t * tile.V}, rows - ${tile.V});
  let ci${t} = t${t} % c; let ky${t} = (t${t} / c) / kw; let kx${t} = (t${t} / c) % kw;`
  );
  const rowStarts = loads.map((t) =>
    `let iy${t} = oy * sh - pt + ky${t} * dh;
    let line${t} = so + (b * h + iy${t}) * w * c + ci${t};
    let oky${t} = iy${t} >= 0 && iy${t} < h;`
  );
  const gathers = loads.map((t) =>
    `let ix${t} = ox * sw - pl + kx${t} * dw;
      let ok${t} = oky${t} && ix${t} >= 0 && ix${t} < w;
      let g${t} = ${gather(tile, `select(0, line${t} + ix${t} * c, ok${t})`, `ok${t}`)};`
  );
  const terms = loads.flatMap((t) =>
    range(tile.V).map((cc): [number, string] => [t * tile.V + cc, part(tile, `g${t}`, cc)])
  );
  return `${taps.join("\n  ")}
  var r = kb;
  while (r < ke) {
    let b = r / (oh * ow);
    let oy = (r / ow) % oh;
    let x0 = r % ow;
    let end = min(ke, r - x0 + ow);
    ${rowStarts.join("\n    ")}
    for (var ox = x0; ox < x0 + end - r; ox++) {
      ${gathers.join("\n      ")}
      let row = r - k0 + ox - x0;
      ${multiplyAdds(tile, "row", terms)}
    }
    r = end;
  }`;
}

/** Writes (first chunk) or adds (later chunks) each accumulator whose row and channel exist. */
function store({ P, Q }: Tile): string {
  return range(P).map((j) =>
    `if (row0 + ${j} < rows && split < splits) {${
      range(Q).map((e) => {
        const [q, comp] = [Math.floor(e / 4), e % 4];
        return `
    if (col0 + ${e} < cols) { let i = (split * rows + row0 + ${j}) * cols + col0 + ${e}; ` +
          `out[i] = select(out[i], 0.0, first == 1) + a${j}_${q}[${comp}]; }`;
      }).join("")
    }
  }`
  ).join("\n  ");
}

/** The conv kernel of a tile: a P x Q block of the result a thread, from chunk [k0, k1). */
function convShader(tile: Tile): string {
  const { P, Q, V } = tile;
  const accumulators = range(P).map((j) =>
    range(Q / 4).map((q) => `var a${j}_${q} = vec4<f32>();`).join(" ")
  );
  return `
@group(0) @binding(0) var<storage, read> p: array<i32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<${V === 4 ? "vec4<f32>" : "f32"}>;
@group(0) @binding(3) var<uniform> u: array<vec4<f32>, ${UNIFORM_FLOATS / 4}>;

fn ui(i: i32) -> f32 { return u[i >> 2u][i & 3]; }

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u,
        @builtin(num_workgroups) groups: vec3u) {
  ${unpack(NAMES)}
  let blocks = (cols + ${Q - 1}) / ${Q};
  let threads = (rows + ${P - 1}) / ${P};
  let t = i32(wid.x + wid.y * groups.x) * ${WORKGROUP} + i32(lid.x);
  let col0 = (t % blocks) * ${Q};
  let row0 = ((t / blocks) % threads) * ${P};
  let split = t / (blocks * threads);
  let kb = min(k1, k0 + split * per);
  let ke = min(k1, kb + per);
  let len4 = len / 4;
  let c4 = col0 / 4;
  ${accumulators.join("\n  ")}
  ${tile.pass === "filterGrad" ? filterLoop(tile) : pixelLoop(tile)}
  ${store(tile)}
}
`;
}

// ---- the pass --------------------------------------------------------------------------

/** out[i] = the sum over s < splits of parts[s * count + i]. */
const SUM = `
@group(0) @binding(0) var<storage, read> p: array<i32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> parts: array<f32>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  ${unpack(["count", "splits"])}
  let i = i32(id.x + id.y * groups.x * ${WORKGROUP}u);
  if (i >= count) { return; }
  var acc = 0.0;
  for (var s = 0; s < splits; s++) { acc += parts[s * count + i]; }
  out[i] = acc;
}
`;

/** Threads a pass wants at least. NOTE: llvmpipe runs a workgroup of 64 on one core, lanes
 * past the result's end included: a result of few rows (filterGrad's 25 x 32 for the MNIST
 * model's first conv) splits its reduction across threads instead, into partial sums. */
const MIN_THREADS = 256;
/** Reduction rows a split takes from a chunk, at least. */
const MIN_SPLIT_ROWS = 16;

/**
 * One pass of a convolution: "forward" (a = x, b = filter) -> y, "inputGrad" (a = filter,
 * b = dy) -> dx, "filterGrad" (a = x, b = dy) -> df, written whole into `result`.
 */
export function convPass(
  gpu: WebGpuBackend,
  op: string,
  pass: ConvPass,
  dtype: DType,
  shapes: Shapes,
  result: GpuStorage,
  a: Tensor,
  b: Tensor,
): void {
  checkFloat32(gpu, op, "conv2d", dtype);
  const l = layoutOf(pass, shapes, a, b);
  const size = l.rows * l.cols;
  if (size === 0) return;
  const tile = tileOf(pass, l, shapes[2]);
  const chunk = Math.floor(rowsPerChunk(l, tile.Q) / tile.V) * tile.V;
  if (chunk < 1) {
    gpu.unsupported(op, `conv2d with ${l.cols} channels (at most ${UNIFORM_FLOATS - 16})`);
  }
  const blocks = Math.ceil(l.rows / tile.P) * Math.ceil(l.cols / tile.Q);
  const most = Math.floor(Math.min(chunk, l.reduction) / MIN_SPLIT_ROWS);
  const splits = Math.max(1, Math.min(Math.ceil(MIN_THREADS / blocks), most));
  const per = Math.ceil(Math.ceil(Math.min(chunk, l.reduction) / splits) / tile.V) * tile.V;
  const out = splits > 1 ? gpu.allocateOutput("float32", splits * size, op) : result;
  const key = `conv-${pass}-${tile.P}x${tile.Q}-${tile.V}${tile.U}-${tile.strides}`;
  const [xs, fs, g] = shapes, q = g.params;
  const geometry = [...xs, fs[0], fs[1], fs[3], g.out[1], g.out[2], q.padTop, q.padLeft];
  geometry.push(q.strideH, q.strideW, q.dilationH, q.dilationW);
  const staged = stagingBuffer(gpu);
  // One chunk at least: an empty reduction writes zeros.
  const chunks = Math.max(1, Math.ceil(l.reduction / chunk));
  for (let k0 = 0; k0 < chunks * chunk; k0 += chunk) {
    const k1 = Math.min(l.reduction, k0 + chunk);
    if (k1 > k0) {
      const words = Int32Array.of((k1 - k0) * l.cols, l.cols, k0, l.uniform.offset, ...l.rowWords);
      gpu.dispatch("conv-stage", () => STAGE, words, (k1 - k0) * l.cols, [
        staged,
        l.uniform.storage as GpuStorage,
      ]);
    }
    const chunkWords = [k0, k1, k0 === 0 ? 1 : 0, l.cols, splits, per];
    const words = Int32Array.of(...geometry, l.gathered.offset, l.rows, l.cols, ...chunkWords);
    gpu.dispatch(key, () => convShader(tile), words, blocks * splits, [
      out,
      l.gathered.storage as GpuStorage,
      staged,
    ]);
  }
  if (out !== result) {
    gpu.dispatch("conv-sum", () => SUM, Int32Array.of(size, splits), size, [result, out]);
    gpu.free(out); // the queue keeps order: a later kernel reusing the buffer runs after these
  }
}
