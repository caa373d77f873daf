/**
 * The WebGPU device's scans (cumsum, cumprod, cumulativeLogsumexp) of a dense
 * [outer, n, inner] tensor along n, float32, int32 and uint8, in csrc/kernels/scan.c's three passes:
 * each block of SCAN_BLOCK positions (in scan order) is totalled, a line's totals become each
 * block's carry-in, and each block is scanned from its carry. One thread a block (a line when
 * it has one block). NOTE: the blocks keep every invocation's loops under llvmpipe's limit of
 * 65,535 iterations; a line may have up to 65,535 blocks (268 million elements).
 * @module
 */
import type { DType } from "../../dtype.ts";
import type { Tensor } from "../../tensor.ts";
import { Scan } from "../../native/codes.ts";
import type { GpuStorage, WebGpuBackend } from "./backend.ts";
import { kernel } from "./nn.ts";
import { floatFunctions } from "./elementwise.ts";

const SCAN_BLOCK = 4096;
const MAX_BLOCKS = 65535;

/** The WGSL element type, identity and combination of scan `code` over dtype. */
function rule(code: number, dtype: DType): { type: string; id: string; op: string } | undefined {
  if (dtype === "float32") {
    if (code === Scan.SUM) return { type: "f32", id: "0.0", op: "a + b" };
    if (code === Scan.PROD) return { type: "f32", id: "1.0", op: "a * b" };
    // TensorFlow's max + log1p(exp(min - max)) with its comparisons (scan.c's lse_f32).
    if (code === Scan.LOGSUMEXP) return { type: "f32", id: NEG_INF, op: "lse(a, b)" };
  }
  if (dtype === "int32" && code !== Scan.LOGSUMEXP) {
    return {
      type: "i32",
      id: code === Scan.SUM ? "0" : "1",
      op: code === Scan.SUM ? "a + b" : "a * b",
    };
  }
  if (dtype === "uint8" && code !== Scan.LOGSUMEXP) { // one u32 word an element, wrapping
    return {
      type: "u32",
      id: code === Scan.SUM ? "0u" : "1u",
      op: code === Scan.SUM ? "(a + b) & 0xffu" : "(a * b) & 0xffu",
    };
  }
  return undefined;
}

const NEG_INF = "bitcast<f32>(0xff800000u)";
// log1p_f32 (elementwise.ts): WGSL has none, and log(1 + z) loses z's digits near 0.
const LSE = `${floatFunctions("log1p_f32")}
fn lse(a: f32, b: f32) -> f32 {
  let ma = select(a, b, a < b);
  let mi = select(a, b, b < a);
  if (ma == ${NEG_INF}) { return ma; }
  return ma + log1p_f32(exp(mi - ma));
}`;

// p = [lines * blocks (threads), n, inner, blocks, exclusive, reverse, xOffset, pass]
// Thread i: line = i / blocks (o = line / inner, c = line % inner), block = i % blocks.
// Position k of a line (scan order) is element o * n * inner + (reverse ? n-1-k : k) * inner + c.
function body(r: { type: string; id: string; op: string }): string {
  return `  if (i >= p[0]) { return; }
  let n = p[1];
  let inner = p[2];
  let blocks = p[3];
  let line = i / blocks;
  let block = i - line * blocks;
  let o = line / inner;
  let base = o * n * inner + (line - o * inner);
  let first = block * ${SCAN_BLOCK};
  let last = min(n, first + ${SCAN_BLOCK});
  if (p[7] == 1) {
    // the carries: line's block totals (in carry) turned into carry-ins, one thread a line
    if (block != 0) { return; }
    var run: ${r.type} = ${r.id};
    for (var q = 0; q < blocks; q++) {
      let a = run;
      let b = carry[line * blocks + q];
      carry[line * blocks + q] = run;
      run = ${r.op};
    }
    return;
  }
  var acc: ${r.type} = ${r.id};
  if (p[7] == 2 && blocks > 1) { acc = carry[i]; }
  for (var k = first; k < last; k++) {
    let at = p[6] + base + select(k, n - 1 - k, p[5] == 1) * inner;
    let a = acc;
    let b = x[at];
    if (p[7] == 2 && p[4] == 1) { out[at - p[6]] = acc; }
    acc = ${r.op};
    if (p[7] == 2 && p[4] == 0) { out[at - p[6]] = acc; }
  }
  if (p[7] == 0) { carry[i] = acc; }`;
}

/** out = the scan `code` of dense x [outer, n, inner] along n. */
export function scan(
  gpu: WebGpuBackend,
  op: string,
  code: number,
  x: Tensor,
  dims: readonly number[],
  [exclusive, reverse]: readonly [boolean, boolean],
  out: GpuStorage,
): void {
  const r = rule(code, x.dtype);
  if (!r) gpu.unsupported(op, `${x.dtype} ${op}`);
  const [outer, n, inner] = dims;
  const lines = outer * inner;
  if (lines === 0 || n === 0) return;
  const blocks = Math.ceil(n / SCAN_BLOCK);
  if (blocks > MAX_BLOCKS) {
    gpu.unsupported(op, `a scan of ${n} elements (at most ${MAX_BLOCKS * SCAN_BLOCK})`);
  }
  const threads = lines * blocks;
  const carry = gpu.allocateOutput(x.dtype, threads, op);
  const type = r.type;
  const source = () =>
    (code === Scan.LOGSUMEXP ? LSE : "") + kernel(
      [
        `@@ var<storage, read> x: array<${type}>;`,
        `@@ var<storage, read_write> carry: array<${type}>;`,
        `@@ var<storage, read_write> out: array<${type}>;`,
      ],
      body(r),
    );
  const key = `scan ${code} ${x.dtype}`;
  const words = (pass: number) =>
    Int32Array.of(threads, n, inner, blocks, exclusive ? 1 : 0, reverse ? 1 : 0, x.offset, pass);
  const buffers = [x.storage as GpuStorage, carry, out];
  if (blocks > 1) {
    gpu.dispatch(key, source, words(0), threads, buffers); // block totals
    gpu.dispatch(key, source, words(1), threads, buffers); // carries (block 0's thread a line)
  }
  gpu.dispatch(key, source, words(2), threads, buffers);
  gpu.free(carry);
}
