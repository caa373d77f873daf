/**
 * The WebGPU device's softmax, the layer epilogue (bias + activation) and the fused
 * optimizer updates, float32 only, with the CPU's arithmetic (csrc/kernels/softmax.c, bias.c,
 * optimizer.c) in float32 throughout.
 * @module
 */
import type { DType } from "../../dtype.ts";
import { Activation, Binary, Reduce, Unary, UpdateRule } from "../../native/codes.ts";
import { Tensor } from "../../tensor.ts";
import type { GpuStorage, WebGpuBackend } from "./backend.ts";
import { WORKGROUP } from "./elementwise.ts";

/** The shader header: parameters at binding 0, then `bindings`, and the thread index `i`. */
export function kernel(bindings: string[], body: string): string {
  return `
@group(0) @binding(0) var<storage, read> p: array<i32>;
${bindings.map((b, k) => b.replace("@@", `@group(0) @binding(${k + 1})`)).join("\n")}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = i32(id.x + id.y * groups.x * ${WORKGROUP}u);
${body}
}
`;
}

const OUT = "@@ var<storage, read_write> out: array<f32>;";
const X = "@@ var<storage, read> x: array<f32>;";

export function float32Only(gpu: WebGpuBackend, op: string, dtype: DType): void {
  if (dtype !== "float32") gpu.unsupported(op, `${dtype} ${op}`);
}

/**
 * Columns one thread takes (three loops over them). NOTE: llvmpipe stops an invocation's
 * loops after 65,535 iterations in all; longer rows go through the reduction and
 * elementwise kernels instead (`softmaxInSteps`).
 */
const ROW_COLS = 8192;

/** softmax (or log-softmax) of each row of the dense [rows, cols] x: one thread a row. */
export function softmaxRows(
  gpu: WebGpuBackend,
  op: string,
  x: Tensor,
  rows: number,
  cols: number,
  log: boolean,
  out: GpuStorage,
): void {
  float32Only(gpu, op, x.dtype);
  if (rows === 0 || cols === 0) return;
  if (cols > ROW_COLS) return softmaxInSteps(gpu, op, x, rows, cols, log, out);
  const result = log ? "v - top - log(total)" : "exp(v - top) / total";
  const source = () =>
    kernel(
      [OUT, X],
      `  let rows = p[0];
  let cols = p[1];
  if (i >= rows) { return; }
  let base = p[2] + i * cols;
  var top = bitcast<f32>(0xff800000u);
  for (var j = 0; j < cols; j++) { top = max(top, x[base + j]); }
  var total = 0.0;
  for (var j = 0; j < cols; j++) { total += exp(x[base + j] - top); }
  for (var j = 0; j < cols; j++) {
    let v = x[base + j];
    out[i * cols + j] = ${result};
  }`,
    );
  gpu.dispatch(`softmax${log}`, source, Int32Array.of(rows, cols, x.offset), rows, [
    out,
    x.storage as GpuStorage,
  ]);
}

/**
 * softmax as its steps: the row max (a reduction in passes), x - max, exp, the row sum, and
 * a division (or for log-softmax x - max - log(sum)); then a copy into out.
 */
function softmaxInSteps(
  gpu: WebGpuBackend,
  op: string,
  x: Tensor,
  rows: number,
  cols: number,
  log: boolean,
  out: GpuStorage,
): void {
  const shape = [rows, cols], n = rows * cols;
  const matrix = (s: GpuStorage) => new Tensor(s, "float32", shape);
  const column = (s: GpuStorage) => new Tensor(s, "float32", [rows, 1]);
  const rowReduce = (code: number, t: Tensor) => {
    const result = gpu.allocateOutput("float32", rows, op);
    gpu.reduce(op, code, t, shape, [cols, 1], 1, result);
    return result;
  };
  const view = new Tensor(x.storage, "float32", shape, [cols, 1], x.offset);
  const top = rowReduce(Reduce.MAX, view);
  const shifted = gpu.binary(op, Binary.SUB, view, column(top), shape, n, "float32");
  const exps = gpu.unary(op, Unary.EXP, matrix(shifted), "float32");
  const total = rowReduce(Reduce.SUM, matrix(exps));
  const temps = [top, shifted, exps, total];
  let result: GpuStorage;
  if (log) {
    const logTotal = gpu.unary(op, Unary.LOG, column(total), "float32");
    temps.push(logTotal);
    result = gpu.binary(op, Binary.SUB, matrix(shifted), column(logTotal), shape, n, "float32");
  } else {
    result = gpu.binary(op, Binary.DIV, matrix(exps), column(total), shape, n, "float32");
  }
  temps.push(result);
  gpu.copyStrided(op, out, "float32", [cols, 1], 0, matrix(result));
  // The queue keeps order: the buffers go back to the pool after the kernels that read them.
  for (const storage of temps) gpu.free(storage);
}

/** z [rows, cols] = activation(z + bias), in place in z's storage. */
export function biasActivation(
  gpu: WebGpuBackend,
  op: string,
  z: Tensor,
  rows: number,
  cols: number,
  bias: Tensor,
  activation: number,
): void {
  float32Only(gpu, op, z.dtype);
  const n = rows * cols;
  if (n === 0) return;
  const relu = activation === Activation.RELU;
  const source = () =>
    kernel(
      ["@@ var<storage, read_write> z: array<f32>;", "@@ var<storage, read> bias: array<f32>;"],
      `  if (i >= p[0]) { return; }
  let v = z[p[2] + i] + bias[p[3] + i % p[1]];
  z[p[2] + i] = ${relu ? "max(v, 0.0)" : "v"};`,
    );
  gpu.dispatch(`bias${relu}`, source, Int32Array.of(n, cols, z.offset, bias.offset), n, [
    z.storage as GpuStorage,
    bias.storage as GpuStorage,
  ]);
}

/** Each rule's slots and its update of one element, as optimizer.c writes it. `h0`..`h3`
 * are the hyperparameters; `s0`..`s2` the slots read, `o0`..`o2` the slots written. */
const RULES: Record<number, { slots: number; body: string }> = {
  [UpdateRule.SGD]: { slots: 0, body: "out[i] = w - g * h0;" },
  [UpdateRule.MOMENTUM]: { slots: 1, body: "let a = s0 * h1 + g; o0[i] = a; out[i] = w - a * h0;" },
  [UpdateRule.NESTEROV]: {
    slots: 1,
    body: "let a = s0 * h1 + g; o0[i] = a; out[i] = w - (g * h0 + a * h1 * h0);",
  },
  [UpdateRule.ADAM]: {
    slots: 2,
    body: `let m = s0 + (g - s0) * (1.0 - h1);
    let v = s1 + (g * g - s1) * (1.0 - h2);
    o0[i] = m;
    o1[i] = v;
    out[i] = w - m * h0 / (sqrt(v) + h3);`,
  },
  [UpdateRule.ADAGRAD]: {
    slots: 1,
    body: "let a = s0 + g * g; o0[i] = a; out[i] = w - g * h0 * (1.0 / sqrt(a));",
  },
  [UpdateRule.RMSPROP]: {
    slots: 2,
    body: `let ms = s0 + (g * g - s0) * (1.0 - h1);
    o0[i] = ms;
    let mom = s1 * h2 + g * h0 / sqrt(ms + h3);
    o1[i] = mom;
    out[i] = w - mom;`,
  },
  [UpdateRule.CENTERED_RMSPROP]: {
    slots: 3,
    body: `let ms = s0 + (g * g - s0) * (1.0 - h1);
    o0[i] = ms;
    let mg = s2 + (g - s2) * (1.0 - h1);
    o2[i] = mg;
    let mom = s1 * h2 + g * h0 / sqrt(ms - mg * mg + h3);
    o1[i] = mom;
    out[i] = w - mom;`,
  },
};

/**
 * One fused optimizer update over n elements. A slot updated in place is bound once, read and
 * written through its output binding: WebGPU forbids binding one buffer as both a read-only
 * and a writable storage binding of a dispatch. Parameters: [n, var offset, grad offset,
 * slot-input offsets[3], hyper[4] as f32 bits].
 */
export function fusedUpdate(
  gpu: WebGpuBackend,
  op: string,
  rule: number,
  dtype: DType,
  n: number,
  hyper: Float64Array,
  varOut: GpuStorage,
  value: Tensor,
  grad: Tensor,
  slotOuts: readonly GpuStorage[],
  slotIns: readonly Tensor[],
): void {
  float32Only(gpu, op, dtype);
  const spec = RULES[rule] ?? gpu.unsupported(op, `update rule ${rule}`);
  if (n === 0) return;
  const inPlace = slotOuts.map((s, k) => s === slotIns[k].storage);
  const bindings = [
    OUT,
    "@@ var<storage, read> w_in: array<f32>;",
    "@@ var<storage, read> g_in: array<f32>;",
  ];
  const buffers = [varOut, value.storage as GpuStorage, grad.storage as GpuStorage];
  const reads: string[] = [];
  for (let k = 0; k < spec.slots; k++) {
    bindings.push(`@@ var<storage, read_write> o${k}: array<f32>;`);
    buffers.push(slotOuts[k]);
  }
  for (let k = 0; k < spec.slots; k++) {
    if (inPlace[k]) {
      reads.push(`let s${k} = o${k}[i];`);
    } else {
      bindings.push(`@@ var<storage, read> s${k}_in: array<f32>;`);
      buffers.push(slotIns[k].storage as GpuStorage);
      reads.push(`let s${k} = s${k}_in[p[${3 + k}] + i];`);
    }
  }
  const words = new Int32Array(10);
  words.set([n, value.offset, grad.offset, ...slotIns.map((s) => s.offset)]);
  new Float32Array(words.buffer, 24, 4).set(hyper.subarray(0, 4));
  const source = () =>
    kernel(
      bindings,
      `  if (i >= p[0]) { return; }
  let h0 = bitcast<f32>(p[6]);
  let h1 = bitcast<f32>(p[7]);
  let h2 = bitcast<f32>(p[8]);
  let h3 = bitcast<f32>(p[9]);
  _ = h1; _ = h2; _ = h3;
  let w = w_in[p[1] + i];
  let g = g_in[p[2] + i];
  ${reads.join("\n  ")}
  ${spec.body}`,
    );
  gpu.dispatch(`update${rule}:${inPlace.join()}`, source, words, n, buffers);
}

/**
 * out [rows, cols] = (exp(logp) - oneHot(labels)) * dy[row], one thread an element. int64
 * labels are i32 pairs (types.ts): the low word holds a label, the op having checked them.
 */
export function sparseXentGrad(
  gpu: WebGpuBackend,
  op: string,
  rows: number,
  cols: number,
  logp: Tensor,
  labels: Tensor,
  dy: Tensor,
  out: GpuStorage,
): void {
  float32Only(gpu, op, logp.dtype);
  const n = rows * cols;
  if (n === 0) return;
  const words = labels.dtype === "int64" ? 2 : 1;
  const source = () =>
    kernel(
      [
        OUT,
        "@@ var<storage, read> lp: array<f32>;",
        "@@ var<storage, read> labels: array<i32>;",
        "@@ var<storage, read> dy: array<f32>;",
      ],
      `  if (i >= p[0]) { return; }
  let r = i / p[1];
  let j = i - r * p[1];
  let label = labels[(p[3] + r) * ${words}];
  out[i] = (exp(lp[p[2] + i]) - select(0.0, 1.0, j == label)) * dy[p[4] + r];`,
    );
  gpu.dispatch(
    `sparseXentGrad${words}`,
    source,
    Int32Array.of(n, cols, logp.offset, labels.offset, dy.offset),
    n,
    [out, logp.storage as GpuStorage, labels.storage as GpuStorage, dy.storage as GpuStorage],
  );
}
