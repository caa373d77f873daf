/**
 * tf.savedModel.load: a SavedModel written by TensorFlow 2 (or by tf.savedModel.save) run
 * for inference. saved_model.pb is decoded (decode.ts); before anything runs, every node the
 * signatures and the restore op can reach, through the function library, is checked to use
 * an op of tf_ops.ts (else an error naming the op and the node). Then the SaverDef's restore
 * op runs on `variables/variables`, which assigns every variable (TensorFlow 2's restore
 * function, or TensorFlow 1's save/restore_all), and each signature becomes a JS function
 * of named tensors that evaluates its outputs eagerly with this library's ops.
 * @module
 */
import { arrayType, type DType, type TypedArray } from "../../dtype.ts";
import { Tensor, type TensorLike } from "../../tensor.ts";
import { Variable } from "../../variable.ts";
import { constant, toTensor } from "../../ops/convert.ts";
import { castTensor } from "../../ops/cast.ts";
import { loadCheckpoint } from "../../train/checkpoint_utils.ts";
import { ProtobufError } from "../../io/protobuf.ts";
import { type DecodedTensor, decodeSavedModel, type MetaGraph, type Node } from "./decode.ts";
import { dtypeOfCode } from "../../train/bundle/protos.ts";
import { fingerprint64 } from "../../io/farmhash.ts";
import { decodeFingerprint, savedModelChecksum } from "./fingerprint.ts";
import { OUTPUT_ARGS, type Strings, TF_OPS, type Value, VariableHandle } from "./tf_ops.ts";

/** A loaded SavedModel. */
export interface LoadedModel {
  /** Each signature: named inputs (as the signature names them) to named outputs. */
  readonly signatures: Record<
    string,
    (inputs: Record<string, TensorLike>) => Record<string, Tensor>
  >;
  /** The restored variables. */
  readonly variables: Variable[];
}

/** Node outputs, evaluated once each, within the outer graph or one function call. */
class Frame {
  readonly #nodes = new Map<string, Node>();
  readonly #done = new Map<string, Value[]>();
  readonly #running = new Set<string>();

  constructor(
    readonly model: Model,
    nodes: readonly Node[],
    readonly args: Map<string, Value> | null, // a function's arguments; null: the outer graph
    readonly feeds: Map<string, Value> = new Map(),
  ) {
    for (const n of nodes) this.#nodes.set(n.name, n);
  }

  /** The value an input reference names: "node", "node:k", or in a function "arg", "node:out:k". */
  value(ref: string): Value {
    if (this.args !== null && this.args.has(ref)) return this.args.get(ref)!;
    const parts = ref.split(":");
    const node = parts[0];
    const outputs = this.outputs(node);
    let k = 0;
    if (parts.length === 2) k = Number(parts[1]);
    else if (parts.length === 3) {
      const names = OUTPUT_ARGS[this.#nodes.get(node)!.op];
      k = (names ? Math.max(0, names.indexOf(parts[1])) : 0) + Number(parts[2]);
    }
    if (k >= outputs.length) {
      throw new Error(
        `${this.model.what}: ${ref} names output ${k} of a node with ${outputs.length}`,
      );
    }
    return outputs[k];
  }

  outputs(name: string): Value[] {
    const fed = this.feeds.get(name);
    if (fed !== undefined) return [fed];
    const known = this.#done.get(name);
    if (known) return known;
    const node = this.#nodes.get(name);
    if (!node) throw new Error(`${this.model.what}: no node ${name}`);
    if (this.#running.has(name)) {
      throw new Error(`${this.model.what}: node ${name} depends on itself`);
    }
    this.#running.add(name);
    const inputs: Value[] = [];
    for (const input of node.inputs) {
      if (input.startsWith("^")) this.outputs(input.slice(1));
      else inputs.push(this.value(input));
    }
    const outputs = this.model.run(node, inputs);
    this.#running.delete(name);
    this.#done.set(name, outputs);
    return outputs;
  }
}

/** The decoded model and its variables. */
class Model {
  readonly handles = new Map<string, VariableHandle>();

  constructor(readonly what: string, readonly meta: MetaGraph, readonly variablesPrefix: string) {}

  run(node: Node, inputs: Value[]): Value[] {
    if (node.op === "Placeholder") {
      throw new Error(`${this.what}: placeholder ${node.name} is not fed`);
    }
    if (node.op === "Const") {
      return [constantOf(node.attrs.get("value"), `${this.what}: node ${node.name}`)];
    }
    if (node.op === "VarHandleOp") {
      const attr = node.attrs.get("shared_name");
      const shared = attr && "s" in attr ? new TextDecoder().decode(attr.s) : node.name;
      let h = this.handles.get(shared || node.name);
      if (!h) this.handles.set(shared || node.name, h = new VariableHandle(shared || node.name));
      return [h];
    }
    const impl = TF_OPS[node.op];
    return impl({
      name: node.name,
      op: node.op,
      inputs,
      attr: (name) => node.attrs.get(name),
      call: (fn, args) => this.call(fn, args),
      assign: (h, value) => {
        if (h.variable) h.variable.assign(value);
        else h.variable = new Variable(value, { name: h.name, exactName: true });
      },
      restore: (prefix, keys, dtypes) => this.restore(prefix, keys, dtypes),
    });
  }

  call(name: string, args: readonly Value[]): Value[] {
    const fn = this.meta.functions.get(name);
    if (!fn) throw new Error(`${this.what}: no function ${name} in the library`);
    const frame = new Frame(
      this,
      fn.nodes,
      new Map(fn.inputs.map((arg, i) => [arg, args[i] ?? null])),
    );
    return fn.outputs.map((out) => frame.value(fn.ret.get(out) ?? ""));
  }

  restore(prefix: string, keys: readonly string[], dtypes: readonly (DType | null)[]): Value[] {
    const reader = loadCheckpoint(prefix);
    return keys.map((key, i) => {
      const dtype = dtypes[i];
      if (dtype === null) return { strings: [], shape: [] }; // the object graph: not needed
      const t = reader.getTensor(key);
      return t.dtype === dtype ? t : castTensor(t, dtype);
    });
  }
}

function constantOf(attr: unknown, what: string): Value {
  const t = (attr as { tensor?: DecodedTensor } | undefined)?.tensor;
  if (!t) throw new TypeError(`${what}: a Const without a value`);
  if (t.dtype === "string") return { strings: t.strings, shape: t.shape } as Strings;
  const size = t.shape.reduce((p, d) => p * d, 1);
  if (t.content) return viewBytes(t.content.slice(), t.dtype, t.shape, what);
  const values = Array.from(t.values as ArrayLike<number>, Number);
  const filled = values.length === size
    ? values
    : Array.from({ length: size }, () => values[values.length - 1] ?? 0);
  return constant(filled, t.dtype === "int64" ? "int64" : t.dtype).reshape(t.shape);
}

function viewBytes(bytes: Uint8Array, dtype: DType, shape: number[], what: string): Tensor {
  const T = arrayType(dtype) as unknown as {
    new (buffer: ArrayBuffer): TypedArray;
    BYTES_PER_ELEMENT: number;
  };
  const size = shape.reduce((p, d) => p * d, 1);
  if (bytes.length !== size * T.BYTES_PER_ELEMENT) {
    throw new TypeError(
      `${what}: a ${dtype} constant of shape [${shape}] with ${bytes.length} bytes`,
    );
  }
  return constant(new T(bytes.buffer as ArrayBuffer), dtype, { shape });
}

/** Every op that the signatures and the restore op can reach must be one we run. */
function checkOps(meta: MetaGraph, roots: readonly string[], what: string): void {
  const outer = new Map(meta.nodes.map((n) => [n.name, n]));
  const seenFunctions = new Set<string>();
  const check = (nodes: Map<string, Node>, start: readonly string[], where: string) => {
    const seen = new Set<string>();
    const stack = [...start];
    while (stack.length) {
      const name = stack.pop()!.replace(/^\^/, "").split(":")[0];
      if (seen.has(name)) continue;
      seen.add(name);
      const node = nodes.get(name);
      if (!node) continue; // a function argument
      const known = node.op in TF_OPS || ["Placeholder", "Const", "VarHandleOp"].includes(node.op);
      if (!known) {
        throw new TypeError(
          `tf.savedModel.load: ${what}: node ${node.name}${where} uses op ${node.op}, which this library cannot run`,
        );
      }
      for (const f of node.attrs.values()) {
        // f, a While's cond and body, an If's branches, or a Case's list of branches
        const called = "func" in f ? [f.func] : "list" in f ? f.list.func : [];
        for (const name of called) {
          if (seenFunctions.has(name)) continue;
          seenFunctions.add(name);
          const fn = meta.functions.get(name);
          if (!fn) continue;
          const nodes = new Map(fn.nodes.map((n) => [n.name, n]));
          check(nodes, [...fn.ret.values()], ` (in function ${fn.name})`);
        }
      }
      stack.push(...node.inputs);
    }
  };
  check(outer, roots, "");
}

/**
 * Loads the SavedModel in `dir` for inference (see the module comment).
 * @example
 * ```ts
 * import * as tf from "../../../mod.ts";
 * const dense = new tf.layers.Dense(2);
 * const dir = Deno.makeTempDirSync();
 * tf.savedModel.save(dense, `${dir}/m`, { signatures: { fn: (x) => dense.apply(x), inputs: [{ shape: [1, 3] }] } });
 * const loaded = tf.savedModel.load(`${dir}/m`);
 * loaded.signatures.serving_default({ x: [[1, 2, 3]] }).output_0;
 * ```
 */
export function load(dir: string): LoadedModel {
  const path = `${dir.replace(/\/+$/, "")}/saved_model.pb`;
  const what = path;
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(path);
  } catch (error) {
    throw new Error(`tf.savedModel.load: cannot read ${path}: ${(error as Error).message}`);
  }
  let meta: MetaGraph;
  try {
    meta = decodeSavedModel(bytes, what);
    checkFingerprint(dir.replace(/\/+$/, ""), bytes);
  } catch (error) {
    const reason = error instanceof ProtobufError || error instanceof TypeError
      ? error.message
      : String(error);
    throw new Error(`tf.savedModel.load: ${path} is not a valid SavedModel: ${reason}`);
  }
  const signatures = [...meta.signatures].filter(([name]) => !name.startsWith("__"));
  if (signatures.length === 0) throw new Error(`tf.savedModel.load: ${path} has no signatures`);
  const restoreOp = meta.saver?.restoreOp;
  const roots = [
    ...signatures.flatMap(([, s]) => [...s.outputs.values()]),
    ...(restoreOp ? [restoreOp] : []),
  ];
  checkOps(meta, roots, path);
  const model = new Model(what, meta, `${dir.replace(/\/+$/, "")}/variables/variables`);
  if (restoreOp && meta.saver) {
    const filename = meta.saver.filenameTensor.split(":")[0];
    const feeds = new Map<string, Value>([[filename, {
      strings: [model.variablesPrefix],
      shape: [],
    }]]);
    try {
      new Frame(model, meta.nodes, null, feeds).outputs(restoreOp.split(":")[0]);
    } catch (error) {
      throw new Error(
        `tf.savedModel.load: ${path}: restoring the variables failed: ${(error as Error).message}`,
      );
    }
  }
  const out: LoadedModel["signatures"] = {};
  for (const [name, signature] of signatures) {
    out[name] = (inputs) => {
      const feeds = new Map<string, Value>();
      for (const [key, ref] of signature.inputs) {
        if (!(key in inputs)) {
          throw new TypeError(
            `${name}: missing input ${key} (the signature takes ${
              [...signature.inputs.keys()].join(", ")
            })`,
          );
        }
        const placeholder = meta.nodes.find((n) => n.name === ref.split(":")[0]);
        const dtypeAttr = placeholder?.attrs.get("dtype");
        const t = toTensor(name, inputs[key]);
        const wanted =
          (dtypeAttr && "type" in dtypeAttr ? dtypeOfCode(dtypeAttr.type) : undefined) ?? t.dtype;
        feeds.set(ref.split(":")[0], t.dtype === wanted ? t : castTensor(t, wanted));
      }
      const frame = new Frame(model, meta.nodes, null, feeds);
      const result: Record<string, Tensor> = {};
      for (const [key, ref] of signature.outputs) {
        const value = frame.value(ref);
        if (!(value instanceof Tensor)) throw new Error(`${name}: output ${key} is not a tensor`);
        result[key] = value;
      }
      return result;
    };
  }
  const variables = [...model.handles.values()].flatMap((h) => (h.variable ? [h.variable] : []));
  return { signatures: out, variables };
}

/**
 * Checks saved_model.pb, and variables/variables.index, against the checksums TensorFlow
 * wrote into fingerprint.pb (when there is one: TensorFlow 2.11 on writes it, and so does
 * tf.savedModel.save), so a changed or damaged file is an error rather than a model that
 * loads with wrong values. A model without fingerprint.pb is loaded unchecked.
 */
function checkFingerprint(dir: string, pb: Uint8Array): void {
  const path = `${dir}/fingerprint.pb`;
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw new TypeError(`cannot read ${path}: ${(error as Error).message}`);
  }
  const stored = decodeFingerprint(bytes, path);
  const damaged = (file: string) =>
    new TypeError(
      `${file} does not match the checksum in ${path}: it was changed or damaged after it was written`,
    );
  if (stored.savedModelChecksum !== 0n) {
    if (savedModelChecksum(pb, `${dir}/saved_model.pb`) !== stored.savedModelChecksum) {
      throw damaged(`${dir}/saved_model.pb`);
    }
  }
  if (stored.checkpointHash !== 0n) {
    const index = `${dir}/variables/variables.index`;
    let data: Uint8Array | undefined;
    try {
      data = Deno.readFileSync(index);
    } catch {
      // No checkpoint: restoring reports it, naming the file.
    }
    if (data !== undefined && fingerprint64(data) !== stored.checkpointHash) throw damaged(index);
  }
}
