/**
 * A traced graph (src/graph/graph.ts) as a TensorFlow GraphDef: each kept backend call
 * becomes TensorFlow's own op (MatMul, Conv2D, BiasAdd, Relu, MaxPool, FusedBatchNormV3,
 * Softmax, SelectV2, Sum, ...), each variable read a ReadVariableOp of the variable's
 * VarHandleOp, each constant a Const.
 *
 * Our values are flat storages that kernels read through views and may write in place or in
 * parts; a GraphDef's tensors are written once. So each value has a *current* TensorFlow
 * tensor (and its shape), replaced when a kernel writes the value. A view of a value becomes
 * a Reshape when it is the value's elements in order, a Transpose when it is a permutation of
 * them, else a GatherV2 of the flat value at the view's element positions (any strides,
 * broadcasts included). A partial write (concat's pieces) is a TensorScatterUpdate.
 * Anything with no TensorFlow equivalent here is an error naming our op, raised before any
 * file is written.
 * @module
 */
import { arrayType, type DType, type TypedArray } from "../../dtype.ts";
import { denseStrides, sameShape, sizeOf } from "../../shape.ts";
import { Binary, type ConvParams, type PoolParams, Reduce, Unary } from "../../native/codes.ts";
import type { ConvGeometry, PoolGeometry } from "../../backend/backend.ts";
import { codeOfDType } from "../../train/bundle/protos.ts";
import type { ArgTemplate, Graph, KernelNode, OperandTemplate } from "../graph.ts";
import type { TracedVariable } from "../hooks.ts";
import type { AttrValue, NodeDef } from "./protos.ts";
import { DT_RESOURCE } from "./protos.ts";

const UNARY_OPS: Record<number, string> = {
  [Unary.NEG]: "Neg",
  [Unary.ABS]: "Abs",
  [Unary.SIGN]: "Sign",
  [Unary.EXP]: "Exp",
  [Unary.LOG]: "Log",
  [Unary.LOG1P]: "Log1p",
  [Unary.EXPM1]: "Expm1",
  [Unary.SQRT]: "Sqrt",
  [Unary.RSQRT]: "Rsqrt",
  [Unary.SQUARE]: "Square",
  [Unary.RECIPROCAL]: "Reciprocal",
  [Unary.SIN]: "Sin",
  [Unary.COS]: "Cos",
  [Unary.TAN]: "Tan",
  [Unary.ASIN]: "Asin",
  [Unary.ACOS]: "Acos",
  [Unary.ATAN]: "Atan",
  [Unary.SINH]: "Sinh",
  [Unary.COSH]: "Cosh",
  [Unary.TANH]: "Tanh",
  [Unary.SIGMOID]: "Sigmoid",
  [Unary.RELU]: "Relu",
  [Unary.RELU6]: "Relu6",
  [Unary.ELU]: "Elu",
  [Unary.SOFTPLUS]: "Softplus",
  [Unary.FLOOR]: "Floor",
  [Unary.CEIL]: "Ceil",
  [Unary.ROUND]: "Round",
  [Unary.ERF]: "Erf",
  [Unary.IS_NAN]: "IsNan",
  [Unary.IS_FINITE]: "IsFinite",
  [Unary.IS_INF]: "IsInf",
  [Unary.LOGICAL_NOT]: "LogicalNot",
};

const BINARY_OPS: Record<number, string> = {
  [Binary.ADD]: "AddV2",
  [Binary.SUB]: "Sub",
  [Binary.MUL]: "Mul",
  [Binary.DIV]: "RealDiv",
  [Binary.POW]: "Pow",
  [Binary.MAX]: "Maximum",
  [Binary.MIN]: "Minimum",
  [Binary.SQUARED_DIFFERENCE]: "SquaredDifference",
  [Binary.FLOOR_DIV]: "FloorDiv",
  [Binary.MOD]: "FloorMod",
  [Binary.ATAN2]: "Atan2",
  [Binary.EQUAL]: "Equal",
  [Binary.NOT_EQUAL]: "NotEqual",
  [Binary.LESS]: "Less",
  [Binary.LESS_EQUAL]: "LessEqual",
  [Binary.GREATER]: "Greater",
  [Binary.GREATER_EQUAL]: "GreaterEqual",
  [Binary.LOGICAL_AND]: "LogicalAnd",
  [Binary.LOGICAL_OR]: "LogicalOr",
  [Binary.LOGICAL_XOR]: "NotEqual", // on bools: TensorFlow's logical_xor is composed too
};

const REDUCE_OPS: Record<number, string> = {
  [Reduce.SUM]: "Sum",
  [Reduce.MEAN]: "Mean",
  [Reduce.PROD]: "Prod",
  [Reduce.MAX]: "Max",
  [Reduce.MIN]: "Min",
  [Reduce.ALL]: "All",
  [Reduce.ANY]: "Any",
};

/** A TensorFlow tensor: "node:k", its dtype and shape. */
export interface TfTensor {
  readonly ref: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
}

/** The nodes of one GraphDef, shared by the signatures lowered into it. */
export class GraphDefBuilder {
  readonly nodes: NodeDef[] = [];
  readonly variables = new Map<TracedVariable, { handle: string; dtype: DType; shape: number[] }>();
  readonly #used = new Set<string>();
  readonly #counts = new Map<string, number>();

  /** Adds a node named `base`, else `base_1`, `base_2`, ...; returns its name. */
  add(
    base: string,
    op: string,
    inputs: readonly string[],
    attrs: Record<string, AttrValue>,
  ): string {
    let name = base, count = this.#counts.get(base) ?? 0;
    while (this.#used.has(name)) name = `${base}_${++count}`;
    this.#counts.set(base, count);
    this.#used.add(name);
    this.nodes.push({ name, op, inputs, attrs });
    return name;
  }

  /** A builder that continues this one's names and variables, with no nodes yet. */
  fork(): GraphDefBuilder {
    const f = new GraphDefBuilder();
    for (const name of this.#used) f.#used.add(name);
    for (const [k, v] of this.#counts) f.#counts.set(k, v);
    for (const [k, v] of this.variables) f.variables.set(k, v);
    return f;
  }

  /** Takes a fork's names and variables, and `nodes` (its nodes, perhaps rewritten). */
  adopt(fork: GraphDefBuilder, nodes: readonly NodeDef[]): void {
    for (const name of fork.#used) this.#used.add(name);
    for (const [k, v] of fork.#counts) this.#counts.set(k, v);
    for (const [k, v] of fork.variables) this.variables.set(k, v);
    this.nodes.push(...nodes);
  }
}

/** Error for what cannot be written as a GraphDef, naming the op. */
function unsupported(what: string): Error {
  return new TypeError(
    `tf.savedModel.save: ${what} has no TensorFlow equivalent in this library's export; ` +
      "run it outside the exported function",
  );
}

/** Lowers one traced graph into a GraphDefBuilder, its nodes' names under `scope`. */
export class Lowering {
  readonly #current = new Map<number, TfTensor>();
  readonly #graph: Graph;
  readonly #def: GraphDefBuilder;

  constructor(def: GraphDefBuilder, graph: Graph, readonly scope: string) {
    this.#def = def;
    this.#graph = graph;
  }

  get variables(): GraphDefBuilder["variables"] {
    return this.#def.variables;
  }

  /** Adds a node; returns its first output. */
  add(
    base: string,
    op: string,
    inputs: readonly string[],
    attrs: Record<string, AttrValue>,
    dtype: DType,
    shape: readonly number[],
  ): TfTensor {
    const name = this.#def.add(base, op, inputs, attrs);
    return { ref: `${name}:0`, dtype, shape };
  }

  constant(data: TypedArray, dtype: DType, shape: readonly number[]): TfTensor {
    const attrs = {
      dtype: { type: codeOfDType(dtype) },
      value: { tensor: { dtype, shape, data } },
    };
    return this.add(`${this.scope}/Const`, "Const", [], attrs, dtype, shape);
  }

  scalar(v: number, dtype: DType): TfTensor {
    const data = dtype === "int64"
      ? BigInt64Array.of(BigInt(v))
      : new (arrayType(dtype))(1).fill(v as never);
    return this.constant(data as TypedArray, dtype, []);
  }

  int32s(values: readonly number[]): TfTensor {
    return this.constant(Int32Array.from(values), "int32", [values.length]);
  }

  reshape(t: TfTensor, shape: readonly number[]): TfTensor {
    if (sameShape(t.shape, shape)) return t;
    return this.add(
      `${this.scope}/Reshape`,
      "Reshape",
      [t.ref, this.int32s(shape).ref],
      { T: type(t.dtype), Tshape: type("int32") },
      t.dtype,
      shape,
    );
  }

  /** A placeholder per argument, named and shaped as given. */
  placeholders(names: readonly string[], shapes: readonly (readonly number[])[]): TfTensor[] {
    return this.#graph.arguments.map((id, i) => {
      const v = this.#graph.values[id];
      const shape = shapes[i];
      const t = this.add(
        names[i],
        "Placeholder",
        [],
        {
          dtype: type(v.dtype),
          shape: { shape },
        },
        v.dtype,
        shape,
      );
      this.#current.set(id, t);
      return t;
    });
  }

  /** Lowers the nodes at `kept`; returns the result templates' tensors. */
  lower(kept: readonly number[], results: readonly OperandTemplate[]): TfTensor[] {
    for (const i of kept) {
      const node = this.#graph.nodes[i];
      if (node.kind === "host") throw unsupported(`${node.name} (it runs again at each call)`);
      if (node.kind === "variable") this.#variable(node.variable, node.output);
      else this.#kernel(node);
    }
    return results.map((r) => this.view(r));
  }

  #variable(v: TracedVariable, output: OperandTemplate): void {
    let entry = this.variables.get(v);
    if (entry === undefined) {
      const shape = [...output.shape];
      const handle = this.add(
        v.name,
        "VarHandleOp",
        [],
        {
          container: { s: "" },
          shared_name: { s: v.name },
          dtype: type(output.dtype),
          shape: { shape },
        },
        output.dtype,
        [],
      ).ref;
      entry = { handle, dtype: output.dtype, shape };
      this.variables.set(v, entry);
    }
    const read = this.add(
      `${v.name}/Read/ReadVariableOp`,
      "ReadVariableOp",
      [entry.handle],
      {
        dtype: type(output.dtype),
      },
      output.dtype,
      output.shape,
    );
    this.#current.set(output.id, read);
  }

  /** The current tensor of value `id` (a constant or a zero-filled allocation if new). */
  #valueTensor(id: number): TfTensor {
    const known = this.#current.get(id);
    if (known) return known;
    const v = this.#graph.values[id];
    let t: TfTensor;
    if (v.source.kind === "constant") {
      if (!ArrayBuffer.isView(v.source.storage)) throw unsupported("a constant off the CPU");
      const data = v.source.storage as TypedArray;
      t = this.constant(data, v.dtype, [
        data.length,
      ]);
    } else {
      const zero = this.scalar(0, v.dtype);
      t = this.add(
        `${this.scope}/zeros`,
        "Fill",
        [this.int32s([v.length]).ref, zero.ref],
        {
          T: type(v.dtype),
          index_type: type("int32"),
        },
        v.dtype,
        [v.length],
      );
    }
    this.#current.set(id, t);
    return t;
  }

  /** The tensor a kernel reads through operand template `o`. */
  view(o: OperandTemplate): TfTensor {
    const value = this.#valueTensor(o.id);
    const length = sizeOf(value.shape);
    const t = value.dtype === o.dtype ? value : this.cast(value, o.dtype);
    if (o.contiguous && o.offset === 0 && o.size === length) return this.reshape(t, o.shape);
    const perm = o.offset === 0 && o.size === length ? permutationOf(o.shape, o.strides) : null;
    if (perm) {
      const [base, order] = perm;
      return this.add(
        `${this.scope}/Transpose`,
        "Transpose",
        [
          this.reshape(t, base).ref,
          this.int32s(order).ref,
        ],
        { T: type(t.dtype), Tperm: type("int32") },
        t.dtype,
        o.shape,
      );
    }
    const positions = viewPositions(o);
    const flat = this.reshape(t, [length]);
    const gathered = this.add(
      `${this.scope}/GatherV2`,
      "GatherV2",
      [
        flat.ref,
        this.constant(positions, "int32", [positions.length]).ref,
        this.constant(Int32Array.of(0), "int32", []).ref,
      ],
      {
        Tparams: type(t.dtype),
        Tindices: type("int32"),
        Taxis: type("int32"),
        batch_dims: { i: 0 },
      },
      t.dtype,
      [positions.length],
    );
    return this.reshape(gathered, o.shape);
  }

  cast(t: TfTensor, dtype: DType): TfTensor {
    if (t.dtype === dtype) return t;
    return this.add(
      `${this.scope}/Cast`,
      "Cast",
      [t.ref],
      {
        SrcT: type(t.dtype),
        DstT: type(dtype),
        Truncate: { b: false },
      },
      dtype,
      t.shape,
    );
  }

  #set(id: number, t: TfTensor): void {
    this.#current.set(id, t);
  }

  #kernel(node: KernelNode): void {
    const a = node.args;
    const lit = (k: number) => plain(a[k]);
    const operand = (k: number) => (a[k] as { operand: OperandTemplate }).operand;
    const storage = (k: number) => (a[k] as { id: number }).id;
    const op = String(lit(0));
    const s = this.scope;
    switch (node.method) {
      case "allocate":
      case "allocateOutput":
        return; // the value's first tensor is made when it is read (zeros)
      case "unary": {
        const tfOp = UNARY_OPS[lit(1) as number];
        const x = this.view(operand(2));
        const outDtype = lit(3) as DType;
        const y = this.add(`${s}/${tfOp}`, tfOp, [x.ref], { T: type(x.dtype) }, x.dtype, x.shape);
        const out = y.dtype === outDtype || isBoolOp(tfOp)
          ? { ...y, dtype: outDtype }
          : this.cast(y, outDtype);
        return this.#set(node.result!, out);
      }
      case "binary": {
        const tfOp = BINARY_OPS[lit(1) as number];
        if (!tfOp) throw unsupported(`${op} (binary code ${lit(1)})`);
        const x = this.view(operand(2)), y = this.view(operand(3));
        const shape = lit(4) as number[], outDtype = lit(6) as DType;
        return this.#set(
          node.result!,
          this.add(`${s}/${tfOp}`, tfOp, [x.ref, y.ref], { T: type(x.dtype) }, outDtype, shape),
        );
      }
      case "where": {
        const [c, x, y] = [this.view(operand(1)), this.view(operand(2)), this.view(operand(3))];
        const t = this.add(
          `${s}/SelectV2`,
          "SelectV2",
          [c.ref, x.ref, y.ref],
          { T: type(x.dtype) },
          x.dtype,
          lit(4) as number[],
        );
        return this.#set(storage(5), t);
      }
      case "copyStrided":
        return this.#copyStrided(
          storage(1),
          lit(2) as DType,
          lit(3) as number[],
          lit(4) as number,
          operand(5),
        );
      case "reduce":
        return this.#reduce(
          op,
          lit(1) as number,
          operand(2),
          lit(3) as number[],
          lit(4) as number[],
          lit(5) as number,
          storage(6),
        );
      case "matmul":
        return this.#matmul(node.args, storage(9));
      case "softmax": {
        const [rows, cols] = [lit(2) as number, lit(3) as number];
        const x = this.reshape(this.view(operand(1)), [rows, cols]);
        const tfOp = lit(4) ? "LogSoftmax" : "Softmax";
        return this.#set(
          storage(5),
          this.add(`${s}/${tfOp}`, tfOp, [x.ref], { T: type(x.dtype) }, x.dtype, [rows, cols]),
        );
      }
      case "biasActivation": {
        const z = operand(1);
        const [rows, cols] = [lit(2) as number, lit(3) as number];
        const x = this.reshape(this.view(z), [rows, cols]);
        const bias = this.reshape(this.view(operand(4)), [cols]);
        let y = this.add(
          `${s}/BiasAdd`,
          "BiasAdd",
          [x.ref, bias.ref],
          {
            T: type(x.dtype),
            data_format: { s: "NHWC" },
          },
          x.dtype,
          [rows, cols],
        );
        if (lit(5) !== 0) {
          y = this.add(`${s}/Relu`, "Relu", [y.ref], { T: type(y.dtype) }, y.dtype, y.shape);
        }
        return this.#set(z.id, y);
      }
      case "conv":
        return this.#conv(
          op,
          lit(1) as string,
          lit(3) as [number[], number[], ConvGeometry],
          storage(4),
          operand(5),
          operand(6),
        );
      case "pool":
        return this.#pool(
          op,
          lit(1) as boolean,
          lit(3) as [number[], PoolGeometry],
          storage(4),
          operand(5),
        );
      case "batchNorm":
        return this.#batchNorm(op, node.args);
      case "gather": {
        const [batch, outer, axisLen, inner, picks] = lit(3) as number[];
        const params = this.reshape(this.view(operand(1)), [batch, outer, axisLen, inner]);
        const idx = this.reshape(this.view(operand(2)), [batch, picks]);
        const t = this.add(
          `${s}/GatherV2`,
          "GatherV2",
          [params.ref, idx.ref, this.constant(Int32Array.of(2), "int32", []).ref],
          {
            Tparams: type(params.dtype),
            Tindices: type(idx.dtype),
            Taxis: type("int32"),
            batch_dims: { i: 1 },
          },
          params.dtype,
          [batch, outer, picks, inner],
        );
        return this.#set(storage(4), t);
      }
      case "oneHot": {
        const dtype = lit(1) as DType;
        const [outer, depth, inner] = lit(3) as number[];
        const [on, off] = lit(4) as number[];
        const idx = this.reshape(this.view(operand(2)), [outer, inner]);
        const scalar = (v: number) => this.scalar(v, dtype);
        const t = this.add(
          `${s}/OneHot`,
          "OneHot",
          [
            idx.ref,
            this.constant(Int32Array.of(depth), "int32", []).ref,
            scalar(on).ref,
            scalar(off).ref,
          ],
          {
            T: type(dtype),
            TI: type(idx.dtype),
            axis: { i: 1 },
          },
          dtype,
          [outer, depth, inner],
        );
        return this.#set(storage(5), t);
      }
      default:
        throw unsupported(`${op} (backend call ${node.method})`);
    }
  }

  #copyStrided(
    out: number,
    dtype: DType,
    strides: number[],
    offset: number,
    src: OperandTemplate,
  ): void {
    const length = this.#graph.values[out].length;
    const value = this.cast(this.view(src), dtype);
    if (offset === 0 && src.size === length && sameShape(strides, denseStrides(src.shape))) {
      return this.#set(out, value);
    }
    const target: OperandTemplate = { ...src, id: out, strides, offset, contiguous: false };
    const positions = viewPositions(target);
    const current = this.reshape(this.#valueTensor(out), [length]);
    const indices = this.constant(positions, "int32", [positions.length, 1]);
    const t = this.add(
      `${this.scope}/TensorScatterUpdate`,
      "TensorScatterUpdate",
      [
        this.cast(current, dtype).ref,
        indices.ref,
        this.reshape(value, [positions.length]).ref,
      ],
      { T: type(dtype), Tindices: type("int32") },
      dtype,
      [length],
    );
    this.#set(out, t);
  }

  #reduce(
    op: string,
    code: number,
    x: OperandTemplate,
    shape: number[],
    strides: number[],
    keepRank: number,
    out: number,
  ): void {
    const walked: OperandTemplate = {
      ...x,
      shape,
      strides,
      size: sizeOf(shape),
      contiguous: sameShape(strides, denseStrides(shape)),
    };
    const v = this.view(walked);
    const axes = this.int32s(shape.map((_, i) => i).slice(keepRank));
    const kept = shape.slice(0, keepRank);
    const outDtype = this.#graph.values[out].dtype;
    if (code === Reduce.ARGMAX || code === Reduce.ARGMIN) {
      if (shape.length - keepRank !== 1) throw unsupported(`${op} over several axes`);
      const tfOp = code === Reduce.ARGMAX ? "ArgMax" : "ArgMin";
      const t = this.add(
        `${this.scope}/${tfOp}`,
        tfOp,
        [v.ref, this.constant(Int32Array.of(keepRank), "int32", []).ref],
        {
          T: type(v.dtype),
          Tidx: type("int32"),
          output_type: type(outDtype),
        },
        outDtype,
        kept,
      );
      return this.#set(out, t);
    }
    const tfOp = REDUCE_OPS[code];
    if (!tfOp) throw unsupported(`${op} (reduction ${code})`);
    const attrs: Record<string, AttrValue> = { Tidx: type("int32"), keep_dims: { b: false } };
    if (tfOp !== "All" && tfOp !== "Any") attrs.T = type(v.dtype);
    this.#set(
      out,
      this.add(`${this.scope}/${tfOp}`, tfOp, [v.ref, axes.ref], attrs, v.dtype, kept),
    );
  }

  #matmul(args: readonly ArgTemplate[], out: number): void {
    const lit = (k: number) => plain(args[k]);
    const batch = lit(1) as number[],
      m = lit(2) as number,
      n = lit(3) as number,
      k = lit(4) as number;
    const side = (at: number, rows: number, cols: number, batchStrides: number[]) => {
      const entry = args[at] as { entries: readonly [string, ArgTemplate][] };
      const get = (key: string) => entry.entries.find(([name]) => name === key)![1];
      const t = (get("t") as { operand: OperandTemplate }).operand;
      const rs = plain(get("rs")) as number, cs = plain(get("cs")) as number;
      const shape = [...batch, rows, cols], strides = [...batchStrides, rs, cs];
      return this.view({
        ...t,
        shape,
        strides,
        size: sizeOf(shape),
        contiguous: sameShape(strides, denseStrides(shape)),
      });
    };
    const a = side(5, m, k, lit(6) as number[]), b = side(7, k, n, lit(8) as number[]);
    const shape = [...batch, m, n];
    // MatMul for one product, BatchMatMulV2 for a batch; transposes are already in the views.
    const [tfOp, flags] = batch.length === 0
      ? ["MatMul", ["transpose_a", "transpose_b"]]
      : ["BatchMatMulV2", ["adj_x", "adj_y"]];
    const attrs = { T: type(a.dtype), [flags[0]]: { b: false }, [flags[1]]: { b: false } };
    const t = this.add(`${this.scope}/${tfOp}`, tfOp, [a.ref, b.ref], attrs, a.dtype, shape);
    this.#set(out, t);
  }

  #conv(
    op: string,
    pass: string,
    [xs, fs, geometry]: [number[], number[], ConvGeometry],
    out: number,
    x: OperandTemplate,
    f: OperandTemplate,
  ): void {
    if (pass !== "forward") throw unsupported(`${op} (a convolution's gradient)`);
    const p: ConvParams = geometry.params;
    const input = this.reshape(this.view(x), xs), filter = this.reshape(this.view(f), fs);
    const t = this.add(
      `${this.scope}/Conv2D`,
      "Conv2D",
      [input.ref, filter.ref],
      {
        T: type(input.dtype),
        strides: { ints: [1, p.strideH, p.strideW, 1] },
        dilations: { ints: [1, p.dilationH, p.dilationW, 1] },
        padding: { s: "EXPLICIT" },
        explicit_paddings: { ints: [0, 0, p.padTop, p.padBottom, p.padLeft, p.padRight, 0, 0] },
        data_format: { s: "NHWC" },
        use_cudnn_on_gpu: { b: true },
      },
      input.dtype,
      geometry.out,
    );
    this.#set(out, t);
  }

  #pool(
    op: string,
    max: boolean,
    [xs, geometry]: [number[], PoolGeometry],
    out: number,
    x: OperandTemplate,
  ): void {
    const p: PoolParams = geometry.params;
    const padding = poolPadding(xs, p, geometry.out);
    if (padding === null) throw unsupported(`${op} with padding that is neither SAME nor VALID`);
    const input = this.reshape(this.view(x), xs);
    const tfOp = max ? "MaxPool" : "AvgPool";
    const t = this.add(
      `${this.scope}/${tfOp}`,
      tfOp,
      [input.ref],
      {
        T: type(input.dtype),
        ksize: { ints: [1, p.windowH, p.windowW, 1] },
        strides: { ints: [1, p.strideH, p.strideW, 1] },
        padding: { s: padding },
        data_format: { s: "NHWC" },
      },
      input.dtype,
      geometry.out,
    );
    this.#set(out, t);
  }

  #batchNorm(op: string, args: readonly ArgTemplate[]): void {
    const lit = (k: number) => plain(args[k]);
    const [outer, channels, inner] = lit(1) as number[];
    const epsilon = lit(2) as number, relu = lit(3) as boolean;
    const tensors = (args[4] as { items: readonly ArgTemplate[] }).items;
    const stats = (args[5] as { items: readonly ArgTemplate[] }).items;
    const given = stats[0] as { items?: readonly ArgTemplate[] };
    if (!given.items) throw unsupported(`${op} in training (batch statistics)`);
    const x = this.view((tensors[0] as { operand: OperandTemplate }).operand);
    const nhwc = inner === 1;
    const shape4 = nhwc ? [outer, 1, 1, channels] : [outer, channels, inner, 1];
    const perChannel = (t: ArgTemplate, fill: number) =>
      t.kind === "operand"
        ? this.reshape(this.view(t.operand), [channels])
        : this.constant(new (arrayType(x.dtype))(channels).fill(fill as never), x.dtype, [
          channels,
        ]);
    const inputs = [
      this.reshape(x, shape4).ref,
      perChannel(tensors[1], 1).ref,
      perChannel(tensors[2], 0).ref,
      perChannel(given.items[0], 0).ref,
      perChannel(given.items[1], 1).ref,
    ];
    let y = this.add(
      `${this.scope}/FusedBatchNormV3`,
      "FusedBatchNormV3",
      inputs,
      {
        T: type(x.dtype),
        U: type(x.dtype),
        epsilon: { f: epsilon },
        exponential_avg_factor: { f: 1 },
        data_format: { s: nhwc ? "NHWC" : "NCHW" },
        is_training: { b: false },
      },
      x.dtype,
      shape4,
    );
    if (relu) {
      y = this.add(`${this.scope}/Relu`, "Relu", [y.ref], { T: type(y.dtype) }, y.dtype, y.shape);
    }
    this.#set((args[6] as { id: number }).id, y);
  }
}

/** A template that holds no tensor, as the value it was recorded from. */
function plain(t: ArgTemplate): unknown {
  switch (t.kind) {
    case "literal":
      return t.value;
    case "array":
      return t.items.map(plain);
    case "object":
      return Object.fromEntries(t.entries.map(([k, v]) => [k, plain(v)]));
    default:
      throw new Error(`tf.savedModel.save: internal: expected a literal argument, got ${t.kind}`);
  }
}

function type(dtype: DType): AttrValue {
  return { type: codeOfDType(dtype) };
}

/** Handle dtype code for a variable's VarHandleOp output. */
export const RESOURCE: AttrValue = { type: DT_RESOURCE };

function isBoolOp(tfOp: string): boolean {
  return tfOp === "IsNan" || tfOp === "IsFinite" || tfOp === "IsInf" || tfOp === "LogicalNot";
}

/** The flat positions of a view's elements, in row-major order of its shape. */
function viewPositions(o: OperandTemplate): Int32Array {
  const out = new Int32Array(o.size);
  const rank = o.shape.length;
  const index = new Array(rank).fill(0);
  for (let k = 0; k < o.size; k++) {
    let p = o.offset;
    for (let d = 0; d < rank; d++) p += index[d] * o.strides[d];
    out[k] = p;
    for (let d = rank - 1; d >= 0; d--) {
      if (++index[d] < o.shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

/**
 * [base shape, perm] when a view of all a value's elements is a transpose of it: the dims
 * sorted by stride are dense. Transpose(reshape(value, base), perm) is then the view.
 */
function permutationOf(
  shape: readonly number[],
  strides: readonly number[],
): [number[], number[]] | null {
  const order = shape.map((_, i) => i).filter((i) => shape[i] !== 1)
    .sort((i, j) => strides[j] - strides[i]);
  const base = order.map((i) => shape[i]);
  const dense = denseStrides(base);
  if (!order.every((i, j) => strides[i] === dense[j])) return null;
  // Size-1 dims are placed after the others in the base; a Reshape then restores them.
  const ones = shape.map((_, i) => i).filter((i) => shape[i] === 1);
  const full = [...order, ...ones];
  const fullBase = full.map((i) => shape[i]);
  return [fullBase, shape.map((_, i) => full.indexOf(i))];
}

/** SAME or VALID when a pooling's padding and output are TensorFlow's for it, else null. */
function poolPadding(
  xs: readonly number[],
  p: PoolParams,
  out: readonly number[],
): "SAME" | "VALID" | null {
  const unpadded = p.padTop === 0 && p.padBottom === 0 && p.padLeft === 0 && p.padRight === 0;
  const validH = Math.floor((xs[1] - p.windowH) / p.strideH) + 1;
  const validW = Math.floor((xs[2] - p.windowW) / p.strideW) + 1;
  if (unpadded && out[1] === validH && out[2] === validW) return "VALID";
  const same = (size: number, window: number, stride: number) => {
    const out = Math.ceil(size / stride);
    const total = Math.max((out - 1) * stride + window - size, 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  };
  const [top, bottom] = same(xs[1], p.windowH, p.strideH);
  const [left, right] = same(xs[2], p.windowW, p.strideW);
  if (p.padTop === top && p.padBottom === bottom && p.padLeft === left && p.padRight === right) {
    return "SAME";
  }
  return null;
}
