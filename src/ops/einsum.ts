/**
 * einsum: Einstein summation, written with transpose, reshape, gather, reduceSum and the
 * batched matmul, so every contraction reaches GEMM and the gradient (of any order) comes
 * from those ops.
 *
 * Plan, as TensorFlow's: diagonals of repeated indices first, then each index that only
 * one operand has and the output lacks is summed away, then the operands are contracted
 * pairwise from left to right; an index shared by the pair stays a batch dim when the
 * output or a later operand still needs it, and is contracted otherwise.
 * @module
 */
import { sizeOf } from "../shape.ts";
import type { Tensor, TensorLike } from "../tensor.ts";
import { gather } from "./gather_scatter.ts";
import { matmul } from "./matmul.ts";
import { reduceSum } from "./reduce.ts";
import { identity, reshape, transpose } from "./views.ts";
import { type Label, parseEquation } from "./einsum_parse.ts";
import { toTensor } from "./convert.ts";

/** A tensor with one label per dim. */
interface Term {
  t: Tensor;
  labels: Label[];
}

const isIdentity = (perm: readonly number[]) => perm.every((p, i) => p === i);

/** t with its dims in `order` (a list of its labels); no copy when already in order. */
function arrange(term: Term, order: readonly Label[]): Tensor {
  const perm = order.map((l) => term.labels.indexOf(l));
  return isIdentity(perm) ? term.t : transpose(term.t, perm);
}

/** reshape that is skipped when the shape does not change (a strided view stays a view). */
function reshapeTo(t: Tensor, shape: readonly number[]): Tensor {
  const same = shape.length === t.rank && shape.every((n, i) => n === t.shape[i]);
  return same ? t : reshape(t, shape);
}

/** The diagonal over each label repeated within the term (`ii->i`), by one gather each. */
function takeDiagonals(term: Term): Term {
  for (;;) {
    const dup = term.labels.find((l, i) => term.labels.indexOf(l) !== i);
    if (dup === undefined) return term;
    const rest = term.labels.filter((l) => l !== dup);
    const axes = term.labels.flatMap((l, i) => l === dup ? [i] : []);
    const n = term.t.shape[axes[0]], r = axes.length;
    const others = term.labels.flatMap((l, i) => l === dup ? [] : [i]);
    const moved = transpose(term.t, [...others, ...axes]);
    const flat = reshape(moved, [...others.map((i) => term.t.shape[i]), n ** r]);
    // Position of (i, i, ..., i) in the flattened n^r block: i * (1 + n + ... + n^(r-1)).
    let step = 0;
    for (let p = 0; p < r; p++) step += n ** p;
    const idx = toTensor(
      "einsum",
      Int32Array.from({ length: n }, (_, i) => i * step),
      "int32",
      term.t.backend,
    );
    term = { t: gather(flat, idx, { axis: -1 }), labels: [...rest, dup] };
  }
}

/** Sums the dims whose labels `keep` rejects. */
function sumAway(term: Term, keep: (l: Label) => boolean): Term {
  const axes = term.labels.flatMap((l, i) => keep(l) ? [] : [i]);
  if (axes.length === 0) return term;
  return { t: reduceSum(term.t, axes), labels: term.labels.filter(keep) };
}

/** A and B contracted over their shared labels not in `needed`; shared needed ones batch. */
function contract(a: Term, b: Term, needed: Set<Label>): Term {
  const inB = new Set(b.labels);
  const shared = a.labels.filter((l) => inB.has(l));
  const batch = shared.filter((l) => needed.has(l));
  const summed = shared.filter((l) => !needed.has(l));
  // A contracted dim broadcast from size 1 on one side: sum the other side over it first.
  const size = (t: Term, l: Label) => t.t.shape[t.labels.indexOf(l)];
  for (const l of summed) {
    if (size(a, l) === size(b, l)) continue;
    const big = size(a, l) === 1 ? b : a, axis = big.labels.indexOf(l);
    big.t = reshapeTo(reduceSum(big.t, axis), big.t.shape.map((n, i) => i === axis ? 1 : n));
  }
  const freeA = a.labels.filter((l) => !inB.has(l));
  const freeB = b.labels.filter((l) => !a.labels.includes(l));
  const dims = (t: Term, ls: Label[]) => ls.map((l) => size(t, l));
  const m = sizeOf(dims(a, freeA)), n = sizeOf(dims(b, freeB)), k = sizeOf(dims(a, summed));
  const left = reshapeTo(arrange(a, [...batch, ...freeA, ...summed]), [...dims(a, batch), m, k]);
  const right = reshapeTo(arrange(b, [...batch, ...summed, ...freeB]), [...dims(b, batch), k, n]);
  const product = matmul(left, right);
  const batchShape = product.shape.slice(0, batch.length);
  return {
    t: reshapeTo(product, [...batchShape, ...dims(a, freeA), ...dims(b, freeB)]),
    labels: [...batch, ...freeA, ...freeB],
  };
}

/**
 * Einstein summation over the operands, as TensorFlow 2's tf.einsum: explicit (`ij,jk->ik`)
 * or implicit (`ij,jk`: the indices seen once, sorted) output, batch dims, broadcasting
 * ellipsis (`...ij,...jk->...ik`), diagonals of repeated indices (`ii->i`, `ii->`), sums
 * (`ij->i`), outer products (`i,j->ij`), any number of operands (contracted pairwise, left
 * to right). Numeric dtypes except uint8 (bool and uint8 cannot reach matmul).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.einsum("ij,jk->ik", [[1, 2], [3, 4]], [[1], [1]]); // [[3], [7]]
 * tf.einsum("ii", [[1, 2], [3, 4]]); // 5 (the trace)
 * ```
 */
export function einsum(equation: string, ...operands: TensorLike[]): Tensor {
  const op = "einsum";
  if (operands.length === 0) throw new RangeError(`${op}: needs at least one operand`);
  const tensors = operands.map((x) => toTensor(op, x));
  const dtype = tensors[0].dtype;
  for (const t of tensors) {
    if (t.dtype !== dtype) {
      throw new TypeError(`${op}: operands must share one dtype, got ${dtype} and ${t.dtype}`);
    }
  }
  if (dtype === "bool" || dtype === "uint8") {
    throw new TypeError(`${op}: not defined for ${dtype} tensors; cast to float32 or int32`);
  }
  const { inputs, output } = parseEquation(equation, tensors.map((t) => t.shape));
  const out = new Set(output);
  const terms = tensors.map((t, i) => takeDiagonals({ t, labels: inputs[i] }));
  const uses = (from: number) =>
    new Set([...output, ...terms.slice(from).flatMap((t) => t.labels)]);
  // An index that only its own operand has and the output lacks is summed before any product.
  for (let i = 0; i < terms.length; i++) {
    const elsewhere = new Set([...out, ...terms.flatMap((t, j) => j === i ? [] : t.labels)]);
    terms[i] = sumAway(terms[i], (l) => elsewhere.has(l));
  }
  let acc = terms[0];
  for (let i = 1; i < terms.length; i++) acc = contract(acc, terms[i], uses(i + 1));
  acc = sumAway(acc, (l) => out.has(l));
  const result = arrange(acc, output);
  // A fresh tensor even when nothing was computed (`ij->ij`), as TensorFlow.
  return result === tensors[0] ? identity(result) : result;
}
