/**
 * tf.savedModel.save: functions traced on example inputs, written as a SavedModel that
 * TensorFlow 2 loads with `tf.saved_model.load` (and `saved_model_cli show` lists):
 * - saved_model.pb: one MetaGraphDef tagged "serve" whose GraphDef holds each signature's
 *   graph (src/graph/saved_model/lower.ts) with placeholders named `<signature>_<input>`, the
 *   variables as VarHandleOps, and TensorFlow 1's save/restore subgraph (SaveV2, RestoreV2 and
 *   an AssignVariableOp per variable) named by the SaverDef: TensorFlow 2 loads such a model
 *   (one without an object graph) by running that restore op on `variables/variables`;
 * - variables/: the variables' values in the tensor bundle format of our checkpoints, keyed
 *   by variable name;
 * - fingerprint.pb: TensorFlow's checksums of saved_model.pb and the variables' index
 *   (fingerprint.ts), which tf.savedModel.load checks.
 * Unknown dimensions (null) are found by tracing twice (unknown_dims.ts).
 * Everything is checked and encoded before anything is written; the directory is written
 * beside its place and renamed into it, so a failed save leaves no half-written model.
 * @module
 */
import type { DType } from "../../dtype.ts";
import type { Tensor } from "../../tensor.ts";
import { zeros } from "../../ops/creation.ts";
import { withoutRecording } from "../../tape.ts";
import { describe } from "../../shape.ts";
import { codeOfDType } from "../../train/bundle/protos.ts";
import { dataFilename, encodeBundle, indexFilename } from "../../train/bundle/bundle.ts";
import { dirname, syncDirectory, writeFileAtomic } from "../../io/atomic_file.ts";
import { encodeFingerprint } from "./fingerprint.ts";
import type { OperandTemplate, ResultTemplate } from "../graph.ts";
import type { TracedVariable } from "../hooks.ts";
import { traceRun } from "../trace.ts";
import { keptNodes } from "../replay.ts";
import { withoutDuplicates } from "../duplicates.ts";
import { GraphDefBuilder, Lowering, type TfTensor } from "./lower.ts";
import { DT_STRING, encodeSavedModel, type Signature, type TensorInfo } from "./protos.ts";
import { mergeDims, mergeProbes, PROBES } from "./unknown_dims.ts";

/**
 * An input of a signature: its shape (null or -1 for a size known only at run time, such as
 * the batch), dtype (default float32) and name (default x, x_1, ...).
 */
export interface TensorSpec {
  shape: readonly (number | null)[];
  dtype?: DType;
  name?: string;
}

/** A function to export and the inputs it is traced with. */
export interface SignatureFunction {
  fn: (...inputs: Tensor[]) => unknown;
  inputs: readonly TensorSpec[];
}

/** Options of tf.savedModel.save. */
export interface SaveOptions {
  /** One function (exported as "serving_default") or functions by signature name. */
  signatures: SignatureFunction | Record<string, SignatureFunction>;
}

/** GraphDef producer version: TensorFlow 2.21's GRAPH_DEF_VERSION. */
const PRODUCER = 2474;
const PREDICT = "tensorflow/serving/predict";

/**
 * Writes `signatures` as a SavedModel in `dir` (see the module comment). `obj` is the model
 * the signatures belong to, as TensorFlow's first argument (its variables are those the
 * signatures read).
 * @example
 * ```ts
 * import * as tf from "../../../mod.ts";
 * const dense = new tf.layers.Dense(2);
 * const dir = Deno.makeTempDirSync();
 * tf.savedModel.save(dense, `${dir}/model`, {
 *   signatures: { fn: (x) => dense.apply(x), inputs: [{ shape: [1, 3], name: "x" }] },
 * });
 * ```
 */
export function save(obj: unknown, dir: string, options: SaveOptions): void {
  const op = "tf.savedModel.save";
  if (typeof dir !== "string" || dir === "") throw new TypeError(`${op}: dir must be a path`);
  const signatures = namedSignatures(op, options?.signatures);
  const def = new GraphDefBuilder();
  const written: Record<string, Signature> = {};
  for (const [name, signature] of Object.entries(signatures)) {
    written[name] = lowerSignature(op, def, name, signature);
  }
  const variables = [...def.variables].sort(([a], [b]) => (a.name < b.name ? -1 : 1));
  const saver = saverGraph(def, variables);
  const pb = encodeSavedModel({
    tags: ["serve"],
    nodes: def.nodes,
    producer: PRODUCER,
    tensorflowVersion: "", // not written: we are not a TensorFlow version
    saver,
    signatures: written,
  });
  const bundle = encodeBundle(new Map(variables.map(([v]) => [v.name, v.peek()])));
  void obj;
  writeDirectory(dir, pb, bundle);
}

function namedSignatures(
  op: string,
  given: SaveOptions["signatures"] | undefined,
): Record<string, SignatureFunction> {
  if (given === undefined || given === null || typeof given !== "object") {
    throw new TypeError(`${op}: options.signatures must be { fn, inputs } or such objects by name`);
  }
  const named = "fn" in given && typeof given.fn === "function"
    ? { serving_default: given as SignatureFunction }
    : given as Record<string, SignatureFunction>;
  for (const [name, s] of Object.entries(named)) {
    if (typeof s?.fn !== "function" || !Array.isArray(s.inputs)) {
      throw new TypeError(`${op}: signature ${name} must be { fn, inputs: TensorSpec[] }`);
    }
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) {
      throw new TypeError(
        `${op}: signature name ${JSON.stringify(name)} must match [A-Za-z0-9_.-]+`,
      );
    }
  }
  return named;
}

/**
 * Traces one signature on zeros of its specs and lowers it into `def`; returns its
 * SignatureDef. With unknown dimensions it is traced at both probe sizes (unknown_dims.ts).
 */
function lowerSignature(
  op: string,
  def: GraphDefBuilder,
  name: string,
  signature: SignatureFunction,
): Signature {
  const specs = signature.inputs.map((spec, i) => checkSpec(op, name, spec, i));
  if (!specs.some((s) => s.shape.includes(null))) {
    return lowerAt(op, def, name, signature, specs, 0);
  }
  const [a, b] = [def.fork(), def.fork()];
  const sa = lowerAt(op, a, name, signature, specs, PROBES[0]);
  const sb = lowerAt(op, b, name, signature, specs, PROBES[1]);
  def.adopt(a, mergeProbes(name, a.nodes, b.nodes));
  const merge = (x: Record<string, TensorInfo>, y: Record<string, TensorInfo>) =>
    Object.fromEntries(
      Object.entries(x).map(([key, info]) => {
        const dims = mergeDims(info.shape, y[key].shape);
        if (!dims) {
          throw new TypeError(`${op}: ${name}: output ${key}'s rank depends on the unknown size`);
        }
        return [key, { ...info, shape: dims }];
      }),
    );
  return {
    inputs: merge(sa.inputs, sb.inputs),
    outputs: merge(sa.outputs, sb.outputs),
    methodName: PREDICT,
  };
}

/** lowerSignature at one size of the unknown dimensions. */
function lowerAt(
  op: string,
  def: GraphDefBuilder,
  name: string,
  signature: SignatureFunction,
  specs: { shape: (number | null)[]; dtype: DType; name: string }[],
  unknownSize: number,
): Signature {
  const shapes = specs.map((s) => s.shape.map((d) => d ?? unknownSize));
  const examples = specs.map((s, i) => zeros(shapes[i], s.dtype));
  const traced = withoutRecording(() => traceRun(examples, () => signature.fn(...examples)));
  const { graph } = withoutDuplicates(traced.graph);
  const outputs = resultOperands(op, name, graph.result);
  const lowering = new Lowering(def, graph, name);
  const placeholders = lowering.placeholders(specs.map((s) => `${name}_${s.name}`), shapes);
  const results = lowering.lower(keptNodes(graph), outputs.map(([, o]) => o));
  const info = (t: TfTensor): TensorInfo => ({
    name: t.ref,
    dtype: codeOfDType(t.dtype),
    shape: t.shape,
  });
  const inputs = Object.fromEntries(specs.map((s, i) => [s.name, info(placeholders[i])]));
  const outputsInfo = Object.fromEntries(outputs.map(([key], i) => {
    const t = results[i];
    const node = def.add(`${name}/${key}`, "Identity", [t.ref], {
      T: { type: codeOfDType(t.dtype) },
    });
    return [key, info({ ...t, ref: `${node}:0` })];
  }));
  return { inputs, outputs: outputsInfo, methodName: PREDICT };
}

function checkSpec(
  op: string,
  signature: string,
  spec: TensorSpec,
  i: number,
): { shape: (number | null)[]; dtype: DType; name: string } {
  const shape = spec?.shape;
  const dim = (d: unknown) => d === null || d === -1 || (Number.isInteger(d) && (d as number) >= 0);
  if (!Array.isArray(shape) || !shape.every(dim)) {
    throw new TypeError(
      `${op}: input ${i} of ${signature} needs a shape of non-negative integers and null ` +
        `(or -1) for unknown sizes, got ${describe(shape)}`,
    );
  }
  const name = spec.name ?? (i === 0 ? "x" : `x_${i}`);
  if (!/^[A-Za-z0-9_]+$/.test(name)) {
    throw new TypeError(`${op}: input name ${JSON.stringify(name)} must match [A-Za-z0-9_]+`);
  }
  return { shape: shape.map((d) => (d === -1 ? null : d)), dtype: spec.dtype ?? "float32", name };
}

/** A result's tensors with their output names: output_0, ... or the object's keys. */
function resultOperands(
  op: string,
  signature: string,
  result: ResultTemplate,
): [string, OperandTemplate][] {
  if (result.kind === "tensor") return [["output_0", result.operand]];
  const entries: [string, ResultTemplate][] = result.kind === "array"
    ? result.items.map((item, i) => [`output_${i}`, item])
    : result.kind === "object"
    ? [...result.entries]
    : [];
  if (entries.length === 0 || entries.some(([, r]) => r.kind !== "tensor")) {
    throw new TypeError(
      `${op}: ${signature} must return a tensor, an array of tensors or an object of tensors`,
    );
  }
  return entries.map(([key, r]) => [key, (r as { operand: OperandTemplate }).operand]);
}

/**
 * TensorFlow 1's save/restore subgraph: save/Const (the checkpoint prefix), SaveV2 of every
 * variable read, and RestoreV2 assigned to every variable, grouped by save/restore_all.
 */
function saverGraph(
  def: GraphDefBuilder,
  variables: [TracedVariable, { handle: string; dtype: DType; shape: number[] }][],
): { filenameTensor: string; saveTensor: string; restoreOp: string } {
  const names = { strings: variables.map(([v]) => v.name), shape: [variables.length] };
  const slices = { strings: variables.map(() => ""), shape: [variables.length] };
  const stringConst = (base: string, value: { strings: string[]; shape: number[] }) =>
    def.add(base, "Const", [], { dtype: { type: DT_STRING }, value: { tensor: value } });
  const prefix = stringConst("save/Const", { strings: ["model"], shape: [] });
  const dtypes = { types: variables.map(([, e]) => codeOfDType(e.dtype)) };
  const reads = variables.map(([, e], i) =>
    def.add(`save/Read_${i}`, "ReadVariableOp", [e.handle], {
      dtype: { type: codeOfDType(e.dtype) },
    })
  );
  const saveOp = def.add("save/SaveV2", "SaveV2", [
    prefix,
    stringConst("save/SaveV2/tensor_names", names),
    stringConst("save/SaveV2/shape_and_slices", slices),
    ...reads,
  ], { dtypes });
  const saved = def.add("save/control_dependency", "Identity", [prefix, `^${saveOp}`], {
    T: { type: DT_STRING },
  });
  const restore = def.add("save/RestoreV2", "RestoreV2", [
    prefix,
    stringConst("save/RestoreV2/tensor_names", names),
    stringConst("save/RestoreV2/shape_and_slices", slices),
  ], { dtypes });
  const assigns = variables.map(([, e], i) =>
    def.add(`save/AssignVariableOp_${i}`, "AssignVariableOp", [e.handle, `${restore}:${i}`], {
      dtype: { type: codeOfDType(e.dtype) },
    })
  );
  const restoreAll = def.add("save/restore_all", "NoOp", assigns.map((a) => `^${a}`), {});
  return { filenameTensor: `${prefix}:0`, saveTensor: `${saved}:0`, restoreOp: restoreAll };
}

/** Writes the model into a fresh sibling directory, then renames it into place. */
function writeDirectory(
  dir: string,
  pb: Uint8Array,
  bundle: { index: Uint8Array; data: Uint8Array[] },
): void {
  const trimmed = dir.replace(/\/+$/, "");
  const staging = `${trimmed}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  const old = `${trimmed}.old-${crypto.randomUUID().slice(0, 8)}`;
  const fingerprint = encodeFingerprint(pb, bundle.index, `${trimmed}/saved_model.pb`);
  try {
    Deno.mkdirSync(`${staging}/variables`, { recursive: true });
    const prefix = `${staging}/variables/variables`;
    writeFileAtomic(dataFilename(prefix), bundle.data);
    writeFileAtomic(indexFilename(prefix), [bundle.index]);
    writeFileAtomic(`${staging}/saved_model.pb`, [pb]);
    writeFileAtomic(`${staging}/fingerprint.pb`, [fingerprint]);
    let replaced = false;
    try {
      Deno.renameSync(trimmed, old);
      replaced = true;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    Deno.renameSync(staging, trimmed);
    if (replaced) Deno.removeSync(old, { recursive: true });
    syncDirectory(dirname(trimmed));
  } catch (error) {
    try {
      Deno.removeSync(staging, { recursive: true });
    } catch {
      // Nothing was made, or it is gone already.
    }
    throw new Error(`tf.savedModel.save: cannot write ${dir}: ${(error as Error).message}`);
  }
}
