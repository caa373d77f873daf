/**
 * One rank of tests/distribute_test.ts's collective checks, started by mpirun: every
 * collective on every dtype and shape against values computed here, then calls the ranks
 * disagree on. Prints "ok rank R: N cases" or each failure, and exits 1 on any.
 * @module
 */
import * as tf from "../../mod.ts";
import { mpi } from "../../src/backend/cpu/mpi.ts";
import { Dtype, Reduce } from "../../src/native/codes.ts";
import { useWebGpu } from "../backends/webgpu.ts";

const { rank, size, threadLevel } = tf.distribute.init();
const failures: string[] = [];
let cases = 0;

type Value = number | bigint | boolean;

/** The value rank r holds at position i, exact in its dtype's arithmetic. */
function valueOf(dtype: tf.DType, r: number, i: number): Value {
  switch (dtype) {
    case "float32":
    case "float64":
      return (r + 1) * 0.5 + (i % 20);
    case "int32":
      return (r + 1) * 3 - (i % 25);
    case "int64":
      return BigInt((r + 1) * 3 - (i % 25)) * 1000000007n;
    case "uint8":
      return (r * 97 + i * 13) % 256;
    case "bool":
      return (r + i) % 2 === 0;
  }
}

function tensorOf(dtype: tf.DType, shape: number[], r: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: n }, (_, i) => valueOf(dtype, r, i));
  return tf.constant(values as number[], dtype, { shape });
}

/** The reduction of a and b as the dtype computes it (uint8 wraps, int64 is bigint). */
function combine(dtype: tf.DType, op: string, a: Value, b: Value): Value {
  if (dtype === "bool") return op === "max" ? (a || b) : (a && b);
  if (dtype === "int64") {
    const [x, y] = [a as bigint, b as bigint];
    const v = op === "max"
      ? (x > y ? x : y)
      : op === "min"
      ? (x < y ? x : y)
      : op === "prod"
      ? x * y
      : x + y;
    return BigInt.asIntN(64, v);
  }
  const [x, y] = [a as number, b as number];
  let v = op === "max"
    ? Math.max(x, y)
    : op === "min"
    ? Math.min(x, y)
    : op === "prod"
    ? x * y
    : x + y;
  if (dtype === "uint8") v = ((v % 256) + 256) % 256;
  if (dtype === "int32") v = v | 0;
  if (dtype === "float32") v = Math.fround(v);
  return v;
}

function check(
  what: string,
  got: tf.Tensor,
  dtype: tf.DType,
  shape: number[],
  want: (i: number) => Value,
) {
  cases++;
  const fail = (why: string) => failures.push(`${what}: ${why}`);
  if (got.dtype !== dtype) return fail(`dtype ${got.dtype}, wanted ${dtype}`);
  if (got.shape.join() !== shape.join()) return fail(`shape [${got.shape}], wanted [${shape}]`);
  const flat = got.dataSync();
  for (let i = 0; i < flat.length; i++) {
    const w = want(i);
    const g = dtype === "bool" ? flat[i] !== 0 : flat[i];
    if (g !== w) return fail(`element ${i} is ${g}, wanted ${w}`);
  }
}

const DTYPES: tf.DType[] = ["float32", "float64", "int32", "int64", "uint8", "bool"];
// [1000] and [5000] send a checked allReduce's data in several pieces with the ranks'
// signatures (csrc/mpi_exchange.c), [70001] after them, with MPI_Allreduce.
const SHAPES = [[], [0], [0, 3], [5], [2, 3], [4, 1, 3], [1000], [5000], [70001]];

for (const dtype of DTYPES) {
  const ops = dtype === "bool" ? ["max", "min"] : ["sum", "max", "min", "prod"];
  if (dtype.startsWith("float")) ops.push("mean");
  for (const shape of SHAPES) {
    const x = tensorOf(dtype, shape, rank);
    for (const op of ops) {
      const got = tf.distribute.allReduce(x, op as tf.distribute.ReduceOp);
      const expected = (i: number) => {
        let v = valueOf(dtype, 0, i);
        for (let r = 1; r < size; r++) {
          v = combine(dtype, op === "mean" ? "sum" : op, v, valueOf(dtype, r, i));
        }
        if (op === "mean") {
          v = dtype === "float32" ? Math.fround((v as number) / size) : (v as number) / size;
        }
        return v;
      };
      check(`allReduce(${dtype} [${shape}], ${op})`, got, dtype, shape, expected);
    }
    for (let root = 0; root < size; root++) {
      const got = tf.distribute.broadcast(x, root);
      check(
        `broadcast(${dtype} [${shape}], ${root})`,
        got,
        dtype,
        shape,
        (i) => valueOf(dtype, root, i),
      );
    }
  }
  // allGather: rank r contributes r + 1 rows (rank 1 none when there are 3), or one scalar.
  const rows = (r: number) => (size === 3 && r === 1 ? 0 : r + 1);
  const mine = tensorOf(dtype, [rows(rank), 2], rank);
  const gathered = tf.distribute.allGather(mine);
  const owners: [number, number][] = [];
  for (let r = 0; r < size; r++) for (let i = 0; i < rows(r) * 2; i++) owners.push([r, i]);
  check(
    `allGather(${dtype} rows)`,
    gathered,
    dtype,
    [owners.length / 2, 2],
    (k) => valueOf(dtype, ...owners[k]),
  );
  const scalars = tf.distribute.allGather(tensorOf(dtype, [], rank));
  check(`allGather(${dtype} scalar)`, scalars, dtype, [size], (r) => valueOf(dtype, r, 0));
}

// allReduceVariables: the first call puts the result in a new buffer the variable then owns,
// the second reduces that buffer in place (the same storage; "mean" divides into another).
// A tensor read in between keeps its values.
for (const dtype of DTYPES) {
  const ops = dtype === "bool" ? ["max", "min"] : ["sum", "max", "min", "prod"];
  if (dtype.startsWith("float")) ops.push("mean");
  for (const shape of [[], [0], [5], [2, 3], [70001]]) {
    for (const op of ops as tf.distribute.ReduceOp[]) {
      const what = `allReduceVariables(${dtype} [${shape}], ${op})`;
      const reduced = (each: (r: number, i: number) => Value) => (i: number) => {
        let v = each(0, i);
        for (let r = 1; r < size; r++) {
          v = combine(dtype, op === "mean" ? "sum" : op, v, each(r, i));
        }
        if (op !== "mean") return v;
        return dtype === "float32" ? Math.fround((v as number) / size) : (v as number) / size;
      };
      const first = reduced((r, i) => valueOf(dtype, r, i));
      const second = reduced((_, i) => first(i));
      const v = new tf.Variable(tensorOf(dtype, shape, rank), { dtype });
      tf.distribute.allReduceVariables([v], op);
      cases++;
      if (!v.ownsValue()) failures.push(`${what}: the variable does not own its result`);
      const storage = v.updateInput().storage;
      tf.distribute.allReduceVariables([v], op);
      cases++;
      if (op !== "mean" && v.updateInput().storage !== storage) {
        failures.push(`${what}: the second call was not in place`);
      }
      check(`${what}, second call`, v.read(), dtype, shape, second);
      const read = v.read(); // read now: the next call must leave it alone
      tf.distribute.allReduceVariables([v], op);
      check(`${what}, a read before the third call`, read, dtype, shape, second);
    }
  }
}
{
  // Several variables in one call, one of them read (not owned): each reduced.
  const a = new tf.Variable(tf.fill([3], rank + 1)), b = new tf.Variable(tf.fill([2, 2], rank));
  tf.distribute.allReduceVariables([a, b], "sum", { check: false });
  tf.distribute.allReduceVariables([a, b], "max");
  check("allReduceVariables [a, b] a", a.read(), "float32", [3], () => (size * (size + 1)) / 2);
  check("allReduceVariables [a, b] b", b.read(), "float32", [2, 2], () => (size * (size - 1)) / 2);
  // A checked call on variables of one dtype, at most 32 KiB in all, sends their values in the
  // check's own messages (src/distribute/variables.ts); each gets its part, in place where it
  // owns its value. Mixed dtypes, or more bytes, go after the check.
  const parts = [
    new tf.Variable(tf.fill([3], rank + 1)),
    new tf.Variable(tf.fill([2, 2], 2 * rank)),
    new tf.Variable(tf.fill([4000], rank)),
  ];
  tf.distribute.allReduceVariables(parts, "sum"); // each then owns a new buffer
  const sums = [(size * (size + 1)) / 2, size * (size - 1), (size * (size - 1)) / 2];
  const shapes = [[3], [2, 2], [4000]];
  parts.forEach((p, k) =>
    check(`riding variables, sum ${k}`, p.updateInput(), "float32", shapes[k], () => sums[k])
  );
  const storages = parts.map((p) => p.updateInput().storage);
  const held = parts[1].read(); // parts[1] no longer owns its value: it gets a new buffer
  tf.distribute.allReduceVariables(parts, "sum");
  parts.forEach((p, k) =>
    check(`riding variables, second sum ${k}`, p.read(), "float32", shapes[k], () => size * sums[k])
  );
  cases++;
  const inPlace = parts.map((p, k) => p.updateInput().storage === storages[k]).join();
  if (inPlace !== "true,false,true") failures.push(`riding variables in place: ${inPlace}`);
  check("riding variables, a value read before", held, "float32", [2, 2], () => sums[1]);
  parts.forEach((p, k) => p.assign(tf.fill(shapes[k], rank + k))); // assigned: not owned
  tf.distribute.allReduceVariables(parts, "mean");
  parts.forEach((p, k) =>
    check(`riding variables, mean ${k}`, p.read(), "float32", shapes[k], () => (size - 1) / 2 + k)
  );
  const mixed = [
    new tf.Variable(tf.fill([3], rank + 1)),
    new tf.Variable(tf.fill([2], rank + 1, "int32")),
  ];
  tf.distribute.allReduceVariables(mixed, "sum");
  check("mixed dtypes, float32", mixed[0].read(), "float32", [3], () => sums[0]);
  check("mixed dtypes, int32", mixed[1].read(), "int32", [2], () => sums[0]);
  const large = [new tf.Variable(tf.fill([9000], rank + 1)), new tf.Variable(tf.fill([2], rank))];
  tf.distribute.allReduceVariables(large, "sum");
  check("variables past 32 KiB, first", large[0].read(), "float32", [9000], () => sums[0]);
  check("variables past 32 KiB, second", large[1].read(), "float32", [2], () => sums[2]);
  // In a traced function each call reduces anew.
  const c = new tf.Variable([1]);
  const step = tf.function(() => {
    tf.distribute.allReduceVariables([c], "sum");
    return c.read();
  });
  step();
  check("tf.function allReduceVariables, second call", step(), "float32", [1], () => size * size);
}

// A strided view (a transpose) is sent as its values in row-major order.
const base = tensorOf("float32", [3, 2], rank);
const view = base.transpose();
const summed = tf.distribute.allReduce(view, "sum");
const dense = tf.distribute.allReduce(tf.constant(view.numpy() as number[][]), "sum");
check(
  "allReduce(transposed view)",
  summed,
  "float32",
  [2, 3],
  (i) => dense.dataSync()[i] as number,
);

// In a traced function each call communicates anew (a host step, not a constant).
const traced = tf.function((t: tf.Tensor) => tf.distribute.allReduce(t.mul(2), "sum"));
for (const k of [1, 5]) {
  const got = traced(tf.constant([k + rank]));
  let want = 0;
  for (let r = 0; r < size; r++) want += 2 * (k + r);
  check(`tf.function allReduce call ${k}`, got, "float32", [1], () => want);
}

// Gradients, as Horovod defines them: each rank's loss weighs the result by (rank + 1), so
// the summed upstream gradient is S = 1 + 2 + ... + size.
const S = (size * (size + 1)) / 2;
function gradientOf(f: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor): tf.Tensor {
  const tape = new tf.GradientTape();
  tape.watch(x);
  const loss = tape.record(() => f(x).mul(rank + 1).sum());
  return tape.gradient(loss, x)!;
}
const x2 = tf.constant([1, 2]).mul(rank + 1);
check(
  "d allReduce sum",
  gradientOf((x) => tf.distribute.allReduce(x, "sum"), x2),
  "float32",
  [2],
  () => S,
);
check(
  "d allReduce mean",
  gradientOf((x) => tf.distribute.allReduce(x, "mean"), x2),
  "float32",
  [2],
  () => Math.fround(S / size),
);
const last = size - 1;
check(
  "d broadcast",
  gradientOf((x) => tf.distribute.broadcast(x, last), x2),
  "float32",
  [2],
  () => (rank === last ? S : 0),
);
const rowsOf = (r: number) => r + 1;
const x3 = tf.ones([rowsOf(rank), 2]);
check("d allGather", gradientOf((x) => tf.distribute.allGather(x), x3), "float32", [
  rowsOf(rank),
  2,
], () => S);

// A tensor on a device read asynchronously (WebGPU; llvmpipe here) is refused with the way out.
if (await useWebGpu() > 0) {
  expectError(
    "a WebGPU tensor",
    () => tf.distribute.allReduce(tf.device("/gpu:0", () => tf.ones([2])), "sum"),
    [/^allReduce: the tensor is on \/job:localhost\/replica:0\/task:0\/device:GPU:0, which is read asynchronously.*await t\.cpuAsync\(\)/],
  );
}

// libeager's entry point given one buffer as send and receive reduces it in place (Open MPI
// itself aborts the job on aliased buffers).
const both = new Float32Array([rank, 1]);
cases++;
if (mpi.allreduce(Reduce.SUM, Dtype.F32, 2, both, both) !== 0 || both[1] !== size) {
  failures.push(`aliased send and receive: status or values wrong (${both})`);
}

tf.distribute.barrier();

/** Runs fn, which must throw on every rank with a message matching each of `patterns`. */
function expectError(what: string, fn: () => unknown, patterns: RegExp[]) {
  cases++;
  try {
    fn();
    failures.push(`${what}: no error`);
  } catch (error) {
    const message = (error as Error).message;
    for (const p of patterns) {
      if (!p.test(message)) failures.push(`${what}: "${message}" lacks ${p}`);
    }
  }
}

const each = (f: (r: number) => string) => Array.from({ length: size }, (_, r) => f(r)).join("; ");
expectError(
  "shapes that differ",
  () => tf.distribute.allReduce(tf.zeros([rank + 1]), "sum"),
  [
    /^allReduce: the ranks disagree/,
    new RegExp(each((r) => `rank ${r}: allReduce\\(float32 \\[${r + 1}\\], "sum"\\)`)),
  ],
);
expectError(
  "dtypes that differ",
  () => tf.distribute.allReduce(tf.zeros([2], rank === 0 ? "float32" : "int32"), "max"),
  [
    /^allReduce: the ranks disagree/,
    /rank 0: allReduce\(float32 \[2\], "max"\)/,
    /rank 1: allReduce\(int32 \[2\], "max"\)/,
  ],
);
expectError(
  "different collectives",
  () =>
    rank === 0 ? tf.distribute.broadcast(tf.zeros([2]), 0) : tf.distribute.allReduce(tf.zeros([2])),
  [
    /the ranks disagree/,
    /rank 0: broadcast\(float32 \[2\], root 0\)/,
    /rank 1: allReduce\(float32 \[2\], "sum"\)/,
  ],
);
// The ranks' data of other lengths (more pieces on some ranks, none on others) or of the same
// length but another shape: every rank still gets the error, and the job goes on below.
expectError(
  "data in more pieces on some ranks",
  () => tf.distribute.allReduce(tf.zeros([rank === 0 ? 1000 : 3000]), "sum"),
  [/^allReduce: the ranks disagree/, /rank 0: allReduce\(float32 \[1000\], "sum"\)/],
);
expectError(
  "data with the signatures on one rank, after them on the others",
  () => tf.distribute.allReduce(tf.zeros([rank === 0 ? 100 : 20000]), "sum"),
  [/^allReduce: the ranks disagree/, /rank 1: allReduce\(float32 \[20000\], "sum"\)/],
);
expectError(
  "the same length in another shape",
  () => tf.distribute.allReduce(tf.zeros(rank === 0 ? [2, 3] : [3, 2]), "sum"),
  [/^allReduce: the ranks disagree/, /rank 0: allReduce\(float32 \[2,3\], "sum"\)/],
);
expectError(
  "a collective of data against one of none",
  () =>
    rank === 0
      ? tf.distribute.allReduce(tf.zeros([3000]))
      : tf.distribute.broadcast(tf.zeros([3000])),
  [/the ranks disagree/, /rank 1: broadcast\(float32 \[3000\], root 0\)/],
);
expectError("an unknown op", () => tf.distribute.allReduce(tf.zeros([2]), "avg" as "sum"), [
  /^allReduce: op must be one of/,
]);
expectError("mean of integers", () => tf.distribute.allReduce(tf.zeros([2], "int32"), "mean"), [
  /"mean" needs a float tensor/,
]);
expectError("sum of bools", () => tf.distribute.allReduce(tf.zeros([2], "bool"), "sum"), [
  /bool tensor reduces with "max"/,
]);
expectError("a root past the ranks", () => tf.distribute.broadcast(tf.zeros([2]), size), [
  /root must be a rank in \[0, /,
]);
expectError(
  "allGather of other inner dims",
  () => tf.distribute.allGather(tf.zeros([1, rank + 1])),
  [/^allGather: the ranks disagree on the call, its dtype, rank or dims after the first/],
);
expectError(
  "variables that disagree",
  () => tf.distribute.allReduceVariables([new tf.Variable(tf.zeros([rank + 1]))], "sum"),
  [/^allReduceVariables: the ranks disagree/, /rank 0: variables\(1 tensors, 1 elements/],
);
{
  // The same number of bytes in another shape: the values ride and are summed, but only into
  // a scratch buffer, so the failed check leaves the variable as it was.
  const shape = rank === 0 ? [2, 3] : [3, 2];
  const kept = new tf.Variable(tf.fill(shape, rank + 1));
  tf.distribute.allReduceVariables([kept], "sum", { check: false }); // now it owns its value
  expectError(
    "variables of the same length in another shape",
    () => tf.distribute.allReduceVariables([kept], "sum"),
    [/^allReduceVariables: the ranks disagree/, /rank 0: variables\(1 tensors, 6 elements/],
  );
  const sum = (size * (size + 1)) / 2;
  check("a variable after a failed check", kept.read(), "float32", shape, () => sum);
}
expectError(
  "allReduceVariables of an int32 mean",
  () => tf.distribute.allReduceVariables([new tf.Variable([1], { dtype: "int32" })]),
  [/^allReduceVariables: "mean" needs a float tensor, got int32: use "sum" \(variable Variable(_\d+)?\)$/],
);
expectError(
  "allReduceVariables of tensors",
  () => tf.distribute.allReduceVariables([tf.ones([1])] as unknown as tf.Variable[]),
  [
    /^allReduceVariables: expected an array of Variables/,
  ],
);
// Gradients that disagree between ranks: DistributedOptimizer names the step's layouts.
const w = new tf.Variable(tf.zeros([rank + 2]), { name: "w" });
const opt = new tf.distribute.DistributedOptimizer(new tf.train.GradientDescentOptimizer(0.1));
expectError(
  "gradients that disagree",
  () => opt.applyGradients([[tf.onesLike(w.peek()), w]]),
  [
    /^DistributedOptimizer.applyGradients: the ranks disagree/,
    /rank 0: gradients\(1 tensors, 2 elements/,
  ],
);

// The job is still usable after every error above.
check(
  "allReduce after the errors",
  tf.distribute.allReduce(tf.ones([3]), "sum"),
  "float32",
  [3],
  () => size,
);
check(
  "allReduce in pieces after the errors",
  tf.distribute.allReduce(tf.fill([3000], rank + 1), "sum"),
  "float32",
  [3000],
  () => size * (size + 1) / 2,
);

if (failures.length > 0) {
  console.log(`FAILED rank ${rank}:\n${failures.join("\n")}`);
  Deno.exit(1);
}
console.log(`ok rank ${rank}: ${cases} cases, MPI thread level ${threadLevel}`);
