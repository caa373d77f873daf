/**
 * The WebGPU device's matrix product: batched, with batch broadcasting and any operand
 * strides (transposes are strides), float32 and int32.
 *
 * A workgroup of 64 threads computes a 64 x 64 tile of the output, each thread an 8 x 8 block
 * of it; the operands pass through workgroup memory 32 steps of k at a time, so each element
 * read from a buffer serves 32 products. Measured on llvmpipe (docs/webgpu.md, "Matmul"): a
 * thread an output with no tiles made 0.25 GFLOP/s; 4 x 4 blocks read straight from the
 * buffers made 1-3 GFLOP/s and depended on the operands' layouts.
 *
 * Parameters: [m, n, k, batchRank, aOffset, aRowStride, aColStride, bOffset, bRowStride,
 * bColStride, batch[0..7], aBatchStrides[0..7], bBatchStrides[0..7], accumulate].
 *
 * NOTE: llvmpipe stops an invocation's loops after 65,535 iterations in all, about 49 for
 * each 32 steps of k here: a longer k runs in pieces of K_PIECE, each adding to the output.
 * @module
 */
import { MAX_RANK, WORKGROUP } from "./elementwise.ts";

/** Output rows and columns of one workgroup's tile, and the steps of k it stages at once. */
export const TILE = 32;
/** Threads of a workgroup: 8 x 8, each computing a 4 x 4 block of the tile. */
export const TILE_THREADS = 64;
/** Steps of k one dispatch takes at most (see the note above). */
export const K_PIECE = 16384;
/** Output rows of a tile: each thread computes ROWS_PER_THREAD of them, by 4 columns. */
export const TILE_ROWS = 64;
const ROWS_PER_THREAD = TILE_ROWS / 8;
/** Output columns of a tile: each thread computes COLS_PER_THREAD of them, as vec4 groups. */
export const TILE_COLS = 64;
const COLS_PER_THREAD = TILE_COLS / 8;

/** WGSL of where batch entry `rest` starts in a (ai), b (bi) and the output (oi). */
const BATCH_OFFSETS = `var ai = p[4];
  var bi = p[7];
  var oi = 0;
  var size = 1;
  for (var d = p[3] - 1; d >= 0; d--) {
    let c = rest % p[10 + d];
    rest = rest / p[10 + d];
    ai += c * p[${10 + MAX_RANK} + d];
    bi += c * p[${10 + 2 * MAX_RANK} + d];
    oi += c * size;
    size *= p[10 + d];
  }
  oi *= m * n;`;

/** The WGSL of the tiled product over `type`. */
export function matmulShader(type: "f32" | "i32"): string {
  const lanes = [0, 1, 2, 3];
  const rows = [...Array(ROWS_PER_THREAD).keys()];
  const groups = [...Array(COLS_PER_THREAD / 4).keys()];
  const cells = rows.flatMap((r) => groups.flatMap((g) => lanes.map((c) => [r, g, c])));
  const zero = `${type}(0)`;
  const inside = (r: number, g: number, c: number) =>
    `row0 + ty + ${r} < m && col0 + tx + ${4 * g + c} < n`;
  const at = (r: number, g: number, c: number) =>
    `oi + (row0 + ty + ${r}) * n + col0 + tx + ${4 * g + c}`;
  return `
@group(0) @binding(0) var<storage, read> p: array<i32>;
@group(0) @binding(1) var<storage, read_write> out: array<${type}>;
@group(0) @binding(2) var<storage, read> a: array<${type}>;
@group(0) @binding(3) var<storage, read> b: array<${type}>;

var<workgroup> tileA: array<vec4<${type}>, ${TILE_ROWS * TILE / 4}>; // [row][4 steps of k]
var<workgroup> tileB: array<vec4<${type}>, ${TILE * TILE_COLS / 4}>; // [step of k][4 columns]

@compute @workgroup_size(${TILE_THREADS})
fn main(@builtin(workgroup_id) group: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) local: u32) {
  let m = p[0];
  let n = p[1];
  let k = p[2];
  let rowTiles = (m + ${TILE_ROWS - 1}) / ${TILE_ROWS};
  let colTiles = (n + ${TILE_COLS - 1}) / ${TILE_COLS};
  var tiles = rowTiles * colTiles;
  for (var d = 0; d < p[3]; d++) { tiles *= p[10 + d]; }
  let t = i32(group.x + group.y * groups.x);
  if (t >= tiles) { return; } // the whole workgroup: t is the same for all its threads
  let col0 = (t % colTiles) * ${TILE_COLS};
  let row0 = ((t / colTiles) % rowTiles) * ${TILE_ROWS};
  var rest = t / (rowTiles * colTiles);
  ${BATCH_OFFSETS}
  let ar = p[5];
  let ac = p[6];
  let br = p[8];
  let bc = p[9];
  let li = i32(local);
  let tx = (li % 8) * ${COLS_PER_THREAD};
  let ty = (li / 8) * ${ROWS_PER_THREAD};
  ${rows.flatMap((r) => groups.map((g) => `var c${r}_${g} = vec4<${type}>(${zero});`)).join(" ")}
  if (p[${10 + 3 * MAX_RANK}] != 0) { // a later piece of k: add to what the last one wrote
    ${
    cells.map(([r, g, c]) => `if (${inside(r, g, c)}) { c${r}_${g}[${c}] = out[${at(r, g, c)}]; }`)
      .join("\n    ")
  }
  }
  for (var k0 = 0; k0 < k; k0 += ${TILE}) {
    // Stage a [64 rows x 32 steps] and b [32 steps x 32 columns]; past an edge, zeros.
    for (var e = li; e < ${TILE_ROWS * TILE}; e += ${TILE_THREADS}) {
      let ra = row0 + e / ${TILE};
      let ka = k0 + e % ${TILE};
      let va = a[ai + min(ra, m - 1) * ar + min(ka, k - 1) * ac];
      tileA[e / 4][e % 4] = select(${zero}, va, ra < m && ka < k);
    }
    for (var e = li; e < ${TILE * TILE_COLS}; e += ${TILE_THREADS}) {
      let hi = e / ${TILE_COLS};
      let lo = e % ${TILE_COLS};
      let kb = k0 + hi;
      let cb = col0 + lo;
      let vb = b[bi + min(kb, k - 1) * br + min(cb, n - 1) * bc];
      tileB[e / 4][e % 4] = select(${zero}, vb, kb < k && cb < n);
    }
    workgroupBarrier();
    for (var s = 0; s < ${TILE / 4}; s++) {
      // Four steps of k at once: four rows of b's tile, and each row of a's as one vec4.
      ${
    lanes.flatMap((q) =>
      groups.map((g) =>
        `let y${q}_${g} = tileB[(s * 4 + ${q}) * ${TILE_COLS / 4} + tx / 4 + ${g}];`
      )
    ).join(" ")
  }
      ${
    rows.map((r) =>
      `let x${r} = tileA[(ty + ${r}) * ${TILE / 4} + s]; ` +
      groups.map((g) =>
        `c${r}_${g} += y0_${g} * x${r}.x + y1_${g} * x${r}.y + y2_${g} * x${r}.z + y3_${g} * x${r}.w;`
      ).join(" ")
    ).join("\n      ")
  }
    }
    workgroupBarrier();
  }
  ${
    cells.map(([r, g, c]) => `if (${inside(r, g, c)}) { out[${at(r, g, c)}] = c${r}_${g}[${c}]; }`)
      .join("\n  ")
  }
}
`;
}

/** Whether a product is too thin for 32 x 32 tiles (most of a tile would be wasted, or k is
 * too short to repay staging it): it runs `blockedMatmulShader` instead. Measured on llvmpipe:
 * 1 x 3136 x 1024 took 127 ms in tiles, 3136 x 1 x 1024 168 ms. */
export function isThin(m: number, n: number, k: number): boolean {
  return m < TILE || n < TILE || k < TILE;
}

/** Rows and columns of the block a thread of `blockedMatmulShader` computes. */
export function blockOf(m: number, n: number): [number, number] {
  return [m < 4 ? 1 : 4, n < 4 ? 1 : 4];
}

/**
 * The product without workgroup memory: one thread an R x C block of outputs, reading R
 * elements of a and C of b for each step of k straight from the buffers. Rows and columns
 * past an edge read a clamped element and store nothing. Same parameters as matmulShader.
 */
export function blockedMatmulShader(type: "f32" | "i32", [R, C]: readonly number[]): string {
  const rows = [...Array(R).keys()], cols = [...Array(C).keys()];
  const pairs = rows.flatMap((r) => cols.map((c) => [r, c]));
  const zero = `${type}(0)`;
  const at = (r: number, c: number) => `oi + (row + ${r}) * n + col + ${c}`;
  const inside = (r: number, c: number) => `row + ${r} < m && col + ${c} < n`;
  return `
@group(0) @binding(0) var<storage, read> p: array<i32>;
@group(0) @binding(1) var<storage, read_write> out: array<${type}>;
@group(0) @binding(2) var<storage, read> a: array<${type}>;
@group(0) @binding(3) var<storage, read> b: array<${type}>;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = i32(id.x + id.y * groups.x * ${WORKGROUP}u);
  let m = p[0];
  let n = p[1];
  let k = p[2];
  let rowBlocks = (m + ${R - 1}) / ${R};
  let colBlocks = (n + ${C - 1}) / ${C};
  var blocks = rowBlocks * colBlocks;
  for (var d = 0; d < p[3]; d++) { blocks *= p[10 + d]; }
  if (i >= blocks) { return; }
  let col = (i % colBlocks) * ${C};
  let row = ((i / colBlocks) % rowBlocks) * ${R};
  var rest = i / (rowBlocks * colBlocks);
  ${BATCH_OFFSETS}
  let ac = p[6];
  let br = p[8];
  ${rows.map((r) => `var a${r} = ai + min(row + ${r}, m - 1) * p[5];`).join(" ")}
  ${cols.map((c) => `var b${c} = bi + min(col + ${c}, n - 1) * p[9];`).join(" ")}
  ${pairs.map(([r, c]) => `var c${r}${c}: ${type} = ${zero};`).join(" ")}
  if (p[${10 + 3 * MAX_RANK}] != 0) { // a later piece of k: add to what the last one wrote
    ${pairs.map(([r, c]) => `if (${inside(r, c)}) { c${r}${c} = out[${at(r, c)}]; }`).join(" ")}
  }
  for (var j = 0; j < k; j++) {
    ${rows.map((r) => `let x${r} = a[a${r}]; a${r} += ac;`).join(" ")}
    ${cols.map((c) => `let y${c} = b[b${c}]; b${c} += br;`).join(" ")}
    ${pairs.map(([r, c]) => `c${r}${c} += x${r} * y${c};`).join(" ")}
  }
  ${pairs.map(([r, c]) => `if (${inside(r, c)}) { out[${at(r, c)}] = c${r}${c}; }`).join("\n  ")}
}
`;
}

/** The parameter words of a matrix product (see matmulShader). */
export function matmulWords(
  batch: readonly number[],
  [m, n, k]: readonly number[],
  a: { offset: number; rs: number; cs: number; batchStrides: readonly number[] },
  b: { offset: number; rs: number; cs: number; batchStrides: readonly number[] },
  accumulate = false,
): Int32Array {
  const words = new Int32Array(11 + 3 * MAX_RANK);
  words.set([m, n, k, batch.length, a.offset, a.rs, a.cs, b.offset, b.rs, b.cs]);
  words[10 + 3 * MAX_RANK] = accumulate ? 1 : 0;
  words.set(batch, 10);
  words.set(a.batchStrides, 10 + MAX_RANK);
  words.set(b.batchStrides, 10 + 2 * MAX_RANK);
  return words;
}
