/**
 * Reverse-mode accumulation over the nodes a tape kept (src/tape.ts), computed with the
 * ordinary ops, so that a tape recording meanwhile records it (higher derivatives).
 * Broadcasting is undone in one place (`sumToShape`), not in every rule. A module above
 * the ops: tape.ts, which the ops import, imports none of them.
 * @module
 */
import { isFloat } from "./dtype.ts";
import { sameShape } from "./shape.ts";
import { release, releaseKey, type ReleaseScope } from "./backend/release_scope.ts";
import type { Tensor } from "./tensor.ts";
import { active, CUSTOM_GRADIENT_OP, type TapeNode } from "./tape.ts";
import { castTensor } from "./ops/cast.ts";
import { zerosLike } from "./ops/creation.ts";
import { add } from "./ops/math.ts";
import { sumToShape } from "./ops/sum_to_shape.ts";

/** Ids of the tensors that depend on any of `sources` through the kept nodes. */
function dependents(nodes: readonly TapeNode[], sources: Iterable<number>): Set<number> {
  const reach = new Set(sources);
  for (const node of nodes) {
    if (node.inputs.some((x) => reach.has(x.id))) { for (const o of node.outputs) reach.add(o.id); }
  }
  return reach;
}

/**
 * Frees the gradients backprop is done with (see storage.ts): a buffer allocated in
 * `scope` that no pending gradient shares (add and reshape rules pass a gradient on
 * unchanged or as a view) and that no user code saw (a customGradient's gradFn could
 * keep its dy). Without a scope, or while an outer tape records the backward ops as
 * its own forward ops (higher derivatives), it frees nothing.
 */
class GradientReleaser {
  readonly #pinned = new Set<object>();
  readonly #finished: Tensor[] = [];
  readonly scope: ReleaseScope | undefined;
  constructor(scope: ReleaseScope | undefined, readonly grads: Map<number, Tensor>) {
    this.scope = active.some((tape) => !tape.paused) ? undefined : scope;
  }

  pin(ts: readonly (Tensor | undefined)[]): void {
    if (!this.scope) return;
    for (const t of ts) {
      const key = t && releaseKey(t);
      if (key) this.#pinned.add(key);
    }
  }

  /** Notes a gradient its consumer is done with; `flush` frees it if it is dead then. */
  done(t: Tensor): void {
    if (this.scope) this.#finished.push(t);
  }

  /** Call when the grads map holds every gradient still to be used. */
  flush(): void {
    const scope = this.scope;
    if (!scope) return;
    for (const t of this.#finished.splice(0)) {
      const key = releaseKey(t);
      if (!key || this.#pinned.has(key) || !scope.born.has(key)) continue;
      let shared = false;
      for (const g of this.grads.values()) if (releaseKey(g) === key) shared = true;
      if (!shared) release(scope, t);
    }
  }
}

/**
 * Reverse-mode accumulation over `nodes` from `targets` (seeded with `seeds`) back to
 * the tensors with ids `sourceIds`. Returns the gradient of each source id reached.
 * With a `scope` (see GradientReleaser) it frees intermediate gradients as it goes. With
 * `onFinal`, it reports each source id (once) as soon as no later step can add to its gradient,
 * so callers can start using it while the walk goes on; ids no node reads are not reported.
 */
export function backprop(
  nodes: readonly TapeNode[],
  targets: readonly Tensor[],
  seeds: readonly Tensor[],
  sourceIds: readonly number[],
  scope?: ReleaseScope,
  onFinal?: (id: number, gradient: Tensor | undefined) => void,
): Map<number, Tensor> {
  const reach = dependents(nodes, sourceIds);
  // A source's gradient is final once the backward walk has passed the first node that
  // reads it (nodes run in reverse); `finalAt` lists the sources each node finalises.
  const finalAt = new Map<number, number[]>();
  if (onFinal) {
    const seen = new Set<number>();
    const wanted = new Set(sourceIds);
    nodes.forEach((node, n) => {
      for (const x of node.inputs) {
        if (!wanted.has(x.id) || seen.has(x.id)) continue;
        seen.add(x.id);
        finalAt.set(n, [...(finalAt.get(n) ?? []), x.id]);
      }
    });
  }
  const grads = new Map<number, Tensor>();
  const releaser = new GradientReleaser(scope, grads);
  const accumulate = (id: number, g: Tensor) => {
    const previous = grads.get(id);
    if (!previous) return void grads.set(id, g);
    grads.set(id, add(previous, g));
    releaser.done(previous);
    releaser.done(g);
  };
  targets.forEach((t, i) => {
    if (reach.has(t.id)) accumulate(t.id, seeds[i]);
  });
  const keep = new Set(sourceIds);
  for (let n = nodes.length - 1; n >= 0; n--) {
    // Sources read first at node n + 1 are final now (`continue` below skips the end).
    for (const id of finalAt.get(n + 1) ?? []) onFinal!(id, grads.get(id));
    const node = nodes[n];
    if (!node.outputs.some((y) => grads.has(y.id))) continue;
    const needs = node.inputs.map((x) => reach.has(x.id) && isFloat(x.dtype));
    if (!needs.some(Boolean)) continue;
    const dys = node.outputs.map((y) => grads.get(y.id) ?? zerosLike(y));
    if (node.op === CUSTOM_GRADIENT_OP) releaser.pin(dys);
    const dxs = node.gradients(dys, needs);
    if (node.op === CUSTOM_GRADIENT_OP) releaser.pin(dxs);
    for (const y of node.outputs) if (!keep.has(y.id)) grads.delete(y.id);
    node.inputs.forEach((x, i) => {
      const given = dxs[i];
      if (!needs[i] || !given) return;
      let dx = given;
      if (!sameShape(dx.shape, x.shape)) dx = sumToShape(dx, x.shape);
      if (dx.dtype !== x.dtype) dx = castTensor(dx, x.dtype);
      accumulate(x.id, dx);
      if (dx !== given) releaser.done(given);
    });
    dys.forEach((dy, k) => {
      if (!keep.has(node.outputs[k].id)) releaser.done(dy);
    });
    releaser.flush();
  }
  for (const id of finalAt.get(0) ?? []) onFinal!(id, grads.get(id));
  return grads;
}
