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
 * Decisions, measured on llvmpipe (docs/webgpu.md):
 * - llvmpipe runs 8 threads per SIMD vector and loads storage one lane at a time (about 8
 *   cycles a lane), but loads a uniform buffer at a uniform index once. So the operand that is
 *   the same for a whole workgroup (the filter rows, or dy's rows for filterGrad) is staged,
 *   a chunk of reduction rows at a time, into one 64 KiB uniform buffer by a copy kernel, and
 *   the conv kernel of that chunk adds its part to the result: 2 dispatches a chunk.
 * - llvmpipe ends any invocation's loops after 65,535 iterations in all (its loop limiter),
 *   silently: a chunk bounds each thread's loops (at most 16,384 reduction rows).
 * - Strides and dilations are WGSL constants, so the divisions by them are cheap and never
 *   by zero; every other divisor is at least 1.
 * @module
 */
import type { DType } from "../../dtype.ts";
import type { Tensor } from "../../tensor.ts";
import type { ConvGeometry, ConvPass } from "../backend.ts";
import { GpuStorage, type WebGpuBackend } from "./backend.ts";
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
  switch (pass) {
    case "forward":
      return {
        rows: pixels(g.out),
        cols: oc,
        reduction: taps * c,
        uniform: b,
        rowWords: dense,
        gathered: a,
        channels: c,
      };
    case "inputGrad":
      // Staged row (tap, o) holds f[tap, ci, o] over ci.
      return {
        rows: pixels(xs),
        cols: c,
        reduction: taps * oc,
        uniform: a,
        rowWords: [oc, c * oc, 1, oc],
        gathered: b,
        channels: oc,
      };
    case "filterGrad":
      return {
        rows: taps * c,
        cols: oc,
        reduction: pixels(g.out),
        uniform: b,
        rowWords: dense,
        gathered: a,
        channels: c,
      };
  }
}

/** A shader's compile-time shape: P result rows and Q channels a thread; V channels a gathered
 * load (4: vec4 loads); U floats a uniform load (4 or 1); strides and dilations. */
interface Tile {
  pass: ConvPass;
  P: number;
  Q: number;
  V: 1 | 4;
  U: 1 | 4;
  strides: [number, number];
  dilations: [number, number];
}

/** NOTE: P and Q as measured fastest on the MNIST convs: each load feeds P (or Q) multiply-adds,
 * while llvmpipe still keeps most of the P x Q accumulators in registers. */
function tileOf(pass: ConvPass, l: Layout, { params: q }: ConvGeometry): Tile {
  const storage = l.gathered.storage as GpuStorage;
  const vec4 = l.channels % 4 === 0 && l.gathered.offset % 4 === 0 && storage.bytes >= 16;
  const Q = Math.min(Number(Deno.env.get(`TUNE_Q_${pass}`)) || 16, Math.ceil(l.cols / 4) * 4); // TUNE
  const V = vec4 && (pass === "filterGrad" || rowsPerChunk(l, Q) >= 4) ? 4 : 1;
  return {
    pass,
    P: Number(Deno.env.get(`TUNE_P_${pass}`)) || (pass === "filterGrad" ? 4 : Q <= 8 ? 8 : 7), // TUNE
    Q,
    V,
    U: l.cols % 4 === 0 ? 4 : 1,
    strides: [q.strideH, q.strideW],
    dilations: [q.dilationH, q.dilationW],
  };
}

/** Reduction rows a chunk stages: as many as fit, with a thread's channel overhang. */
function rowsPerChunk(l: Layout, Q: number): number {
  return Math.floor((UNIFORM_FLOATS - Q) / Math.max(l.cols, 1));
}

// ---- the shader ------------------------------------------------------------------------

const NAMES = [
  "n",
  "h",
  "w",
  "c",
  "kh",
  "kw",
  "oc",
  "oh",
  "ow",
  "pt",
  "pl",
  "so",
  "rows",
  "cols",
  "k0",
  "k1",
  "first",
  "len",
] as const; // deno-fmt-ignore

const range = (n: number) => [...Array(n).keys()];

/** The staged floats of chunk row `row`, channels col0 + 4q .. + 3: one vec4 load where the
 * rows are vec4-aligned (U = 4), else four. */
function weights({ U }: Tile, row: string, q: number): string {
  if (Deno.env.get("ABL")?.includes("u")) return `vec4<f32>(f32(${row}) + ${q}.0)`;
  if (U === 4) return `u[(${row}) * len4 + c4 + ${q}]`;
  return `vec4<f32>(${range(4).map((e) => `ui((${row}) * len + col0 + ${4 * q + e})`).join(", ")})`;
}

/** For each channel group q: one uniform load of chunk row `row`, then the multiply-adds of
 * result rows `terms` ([accumulator row j, gathered value]). */
function multiplyAdds(tile: Tile, row: string, terms: [number, string][]): string {
  if (Deno.env.get("MAT") && tile.U === 4 && tile.Q % 16 === 0) {
    return range(tile.Q / 16).map((qq) =>
      `{ let m = u[((${row}) * len4 + c4) / 4 + ${qq}]; ${range(4).map((e) => terms.map(([j, v]) => `a${j}_${qq * 4 + e} += ${v} * m[${e}];`).join(" ")).join(" ")} }`
    ).join("\n      ");
  }
  return range(tile.Q / 4).map((q) =>
    `{ let f = ${weights(tile, row, q)}; ${
      terms.map(([j, v]) => `a${j}_${q} += ${v} * f;`).join(" ")
    } }`
  ).join("\n      ");
}

/** A gathered load of V channels from element `at` (zero where !ok). */
function gather({ V }: Tile, at: string, ok: string): string {
  if (Deno.env.get("ABL")?.includes("g")) return V === 4 ? `select(vec4<f32>(0.5), vec4<f32>(f32(${at})), ${ok})` : `select(0.5, f32(${at}), ${ok})`;
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
  const [sh, sw] = tile.strides, [dh, dw] = tile.dilations;
  if (tile.pass === "forward") {
    return `let iy${j} = y${j} * ${sh} - pt + ky * ${dh}; let ix${j} = x${j} * ${sw} - pl + kx * ${dw};
    let ok${j} = iy${j} >= 0 && iy${j} < h && ix${j} >= 0 && ix${j} < w;
    let at${j} = select(0, so + ((b${j} * h + iy${j}) * w + ix${j}) * c, ok${j});`;
  }
  // inputGrad: dx pixel (y, x) meets dy pixel (ty / sh, tx / sw) at this tap, if whole.
  return `let ty${j} = y${j} + pt - ky * ${dh}; let tx${j} = x${j} + pl - kx * ${dw};
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
  var k = k0;
  while (k < k1) {
    let tap = k / ${kc};
    let ky = tap / kw;
    let kx = tap - ky * kw;
    ${js.map((j) => source(tile, j)).join("\n    ")}
    let end = min(${kc}, k1 - tap * ${kc});
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
  const [sh, sw] = tile.strides, [dh, dw] = tile.dilations;
  const loads = range(tile.P / tile.V);
  const taps = loads.map((t) =>
    `let t${t} = min(row0 + ${t * tile.V}, rows - ${tile.V});
  let ci${t} = t${t} % c; let ky${t} = (t${t} / c) / kw; let kx${t} = (t${t} / c) % kw;`
  );
  const rowStarts = loads.map((t) =>
    `let iy${t} = oy * ${sh} - pt + ky${t} * ${dh};
    let line${t} = so + (b * h + iy${t}) * w * c + ci${t};
    let oky${t} = iy${t} >= 0 && iy${t} < h;`
  );
  const gathers = loads.map((t) =>
    `let ix${t} = ox * ${sw} - pl + kx${t} * ${dw};
      let ok${t} = oky${t} && ix${t} >= 0 && ix${t} < w;
      let g${t} = ${gather(tile, `select(0, line${t} + ix${t} * c, ok${t})`, `ok${t}`)};`
  );
  const terms = loads.flatMap((t) =>
    range(tile.V).map((cc): [number, string] => [t * tile.V + cc, part(tile, `g${t}`, cc)])
  );
  return `${taps.join("\n  ")}
  var r = k0;
  while (r < k1) {
    let b = r / (oh * ow);
    let oy = (r / ow) % oh;
    let x0 = r % ow;
    let end = min(k1, r - x0 + ow);
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
    `if (row0 + ${j} < rows) {${
      range(Q).map((e) => {
        const [q, comp] = [Math.floor(e / 4), e % 4];
        return `
    if (col0 + ${e} < cols) { let i = (row0 + ${j}) * cols + col0 + ${e}; ` +
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
@group(0) @binding(3) var<uniform> u: ${Deno.env.get("MAT") ? `array<mat4x4<f32>, ${UNIFORM_FLOATS / 16}>` : `array<vec4<f32>, ${UNIFORM_FLOATS / 4}>`};

fn ui(i: i32) -> f32 { return ${Deno.env.get("MAT") ? "0.0" : "u[i >> 2u][i & 3]"}; }

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u,
        @builtin(num_workgroups) groups: vec3u) {
  ${unpack(NAMES)}
  let blocks = (cols + ${Q - 1}) / ${Q};
  let group = i32(wid.x + wid.y * groups.x);
  let col0 = (group % blocks) * ${Q};
  let row0 = ((group / blocks) * ${WORKGROUP} + i32(lid.x)) * ${P};
  let len4 = len / 4;
  let c4 = col0 / 4;
  ${accumulators.join("\n  ")}
  ${tile.pass === "filterGrad" ? filterLoop(tile) : pixelLoop(tile)}
  ${store(tile)}
  if (row0 < -5) { out[0] = ${V === 4 ? "g[0][0]" : "g[0]"} + ${Deno.env.get("MAT") ? "u[0][0].x" : "u[0][0]"}; }
}
`;
}

// ---- the pass --------------------------------------------------------------------------

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
  if (l.rows * l.cols === 0) return;
  const tile = tileOf(pass, l, shapes[2]);
  const chunk = Math.floor(rowsPerChunk(l, tile.Q) / tile.V) * tile.V;
  if (chunk < 1) {
    gpu.unsupported(op, `conv2d with ${l.cols} channels (at most ${UNIFORM_FLOATS - 16})`);
  }
  const key =
    `conv-${pass}-${tile.P}x${tile.Q}-${tile.V}${tile.U}-${tile.strides}-${tile.dilations}`;
  const staged = stagingBuffer(gpu);
  const threads = Math.ceil(l.rows / (WORKGROUP * tile.P)) * Math.ceil(l.cols / tile.Q) * WORKGROUP;
  const [xs, fs, g] = shapes, q = g.params;
  const geometry = [...xs, fs[0], fs[1], fs[3], g.out[1], g.out[2], q.padTop, q.padLeft];
  // One chunk at least: an empty reduction writes zeros.
  for (let k0 = 0; k0 < l.reduction || k0 === 0; k0 += chunk) {
    const k1 = Math.min(l.reduction, k0 + chunk);
    if (k1 > k0) {
      const words = Int32Array.of((k1 - k0) * l.cols, l.cols, k0, l.uniform.offset, ...l.rowWords);
      gpu.dispatch("conv-stage", () => STAGE, words, (k1 - k0) * l.cols, [
        staged,
        l.uniform.storage as GpuStorage,
      ]);
    }
    const words = Int32Array.of(
      ...geometry,
      l.gathered.offset,
      l.rows,
      l.cols,
      k0,
      k1,
      k0 === 0 ? 1 : 0,
      l.cols,
    );
    gpu.dispatch(key, () => convShader(tile), words, threads, [
      result,
      l.gathered.storage as GpuStorage,
      staged,
    ]);
    if (k1 === 0) break;
  }
}
