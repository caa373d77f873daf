/**
 * Duplicate work removed from a traced graph: an elementwise call (unary or binary) with the
 * same operands, layouts and parameters as an earlier one gives the same values, so its
 * result is replaced by the earlier result everywhere after it. Small constants with equal
 * values (a scalar `1` written twice) are one value first, so calls on them compare equal. Sound only when nothing
 * writes those values again: every operand and the earlier result must have one writer at
 * most (their own definition), which rules out values a kernel updates in place.
 * The duplicate stays in the node list with nothing to write, so dead-work removal drops it
 * and node indices (which values record) do not move.
 * @module
 */
import {
  type ArgTemplate,
  type Graph,
  type Node,
  nodeReads,
  nodeWrites,
  type OperandTemplate,
  type ResultTemplate,
} from "./graph.ts";

const ELEMENTWISE = new Set(["unary", "binary"]);

/** The graph with duplicate elementwise calls folded into their first occurrence. */
export function withoutDuplicates(graph: Graph): { graph: Graph; removed: number } {
  const writers = new Map<number, number>();
  for (const node of graph.nodes) {
    for (const id of nodeWrites(node)) writers.set(id, (writers.get(id) ?? 0) + 1);
  }
  const single = (id: number) => (writers.get(id) ?? 0) <= 1;
  const replace = sameConstants(graph, writers);
  const seen = new Map<string, number>();
  let removed = 0;
  const nodes: Node[] = graph.nodes.map((original) => {
    const node = replace.size ? remapNode(original, replace) : original;
    if (node.kind !== "kernel" || !ELEMENTWISE.has(node.method) || node.result === undefined) {
      return node;
    }
    if (!single(node.result) || !nodeReads(node).every(single)) return node;
    const key = `${node.method}:${JSON.stringify(node.args, keyOf)}`;
    const first = seen.get(key);
    if (first === undefined) {
      seen.set(key, node.result);
      return node;
    }
    replace.set(node.result, first);
    removed++;
    return { ...node, result: undefined, writes: [], reads: [] };
  });
  if (removed === 0 && replace.size === 0) return { graph, removed };
  return {
    graph: { ...graph, nodes, result: remapResult(graph.result, replace) },
    removed,
  };
}

/**
 * Small constants uploaded while tracing (never written) with the same values on the same
 * device: one each.
 */
function sameConstants(graph: Graph, writers: Map<number, number>): Map<number, number> {
  const replace = new Map<number, number>();
  const first = new Map<string, number>();
  for (const v of graph.values) {
    const source = v.source;
    if (source.kind !== "constant" || !source.values || writers.has(v.id)) continue;
    const values = Array.from(source.values as unknown as ArrayLike<number | bigint>, String);
    const key = `${v.backend.device}:${source.values.constructor.name}:${values.join(",")}`;
    const known = first.get(key);
    if (known === undefined) first.set(key, v.id);
    else replace.set(v.id, known);
  }
  return replace;
}

/** JSON of a template: bigints and typed arrays as text (they appear in literals). */
function keyOf(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return `${value}n`;
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number>);
  return value;
}

function remapOperand(o: OperandTemplate, replace: Map<number, number>): OperandTemplate {
  const id = replace.get(o.id);
  return id === undefined ? o : { ...o, id };
}

function remapArg(t: ArgTemplate, replace: Map<number, number>): ArgTemplate {
  switch (t.kind) {
    case "operand":
      return { kind: "operand", operand: remapOperand(t.operand, replace) };
    case "storage":
      return { kind: "storage", id: replace.get(t.id) ?? t.id };
    case "array":
      return { kind: "array", items: t.items.map((item) => remapArg(item, replace)) };
    case "object":
      return { kind: "object", entries: t.entries.map(([k, v]) => [k, remapArg(v, replace)]) };
    default:
      return t;
  }
}

function remapNode(node: Node, replace: Map<number, number>): Node {
  const id = (x: number) => replace.get(x) ?? x;
  if (node.kind === "kernel") {
    return {
      ...node,
      args: node.args.map((a) => remapArg(a, replace)),
      reads: node.reads.map(id),
      writes: node.writes.map(id),
    };
  }
  if (node.kind === "host") {
    return { ...node, inputs: node.inputs.map((o) => remapOperand(o, replace)) };
  }
  return node;
}

function remapResult(t: ResultTemplate, replace: Map<number, number>): ResultTemplate {
  switch (t.kind) {
    case "tensor":
      return { kind: "tensor", operand: remapOperand(t.operand, replace) };
    case "array":
      return { kind: "array", items: t.items.map((item) => remapResult(item, replace)) };
    case "object":
      return { kind: "object", entries: t.entries.map(([k, v]) => [k, remapResult(v, replace)]) };
    default:
      return t;
  }
}
