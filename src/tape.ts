/**
 * The gradient tape. Ops report themselves with `record` after they run; a tape keeps
 * an op only while it is active and one of the op's inputs is watched (a source, or the
 * output of an op it kept). With no tape active an op pays one property read.
 *
 * Gradients are computed with the ordinary ops, so a tape active while another one
 * computes a gradient records that computation: nested tapes give higher derivatives.
 * Broadcasting is undone in one place (`sumToShape` in src/backprop.ts), not in every rule.
 * @module
 */
import { isFloat } from "./dtype.ts";
import { Tensor } from "./tensor.ts";

/** Maps the gradients of an op's outputs to the gradients of the inputs that need one. */
export type Backward = (
  dys: readonly Tensor[],
  needs: readonly boolean[],
) => readonly (Tensor | undefined)[];

/** Gives one gradient thunk per input of a single-output op (undefined: no gradient). */
export type Rule = (dy: Tensor) => readonly ((() => Tensor) | undefined)[];

/** One op kept by a tape: a multi-output `backward`, or a single-output `rule`. */
export class TapeNode {
  constructor(
    readonly op: string,
    readonly inputs: readonly Tensor[],
    readonly outputs: readonly Tensor[],
    readonly backward: Backward | undefined,
    readonly rule: Rule | undefined,
  ) {}

  /** Input gradients from output gradients, computing only the needed ones. */
  gradients(dys: readonly Tensor[], needs: readonly boolean[]): readonly (Tensor | undefined)[] {
    if (this.backward) return this.backward(dys, needs);
    const thunks = this.rule!(dys[0]);
    return thunks.map((thunk, i) => (needs[i] && thunk ? thunk() : undefined));
  }
}

/** Something whose reads a tape can watch: a Variable (see variable.ts). */
export interface Watchable {
  readonly trainable: boolean;
  /** Creation order, used to list implicit gradients in a stable order. */
  readonly serial: number;
}

/** The state of one tape; GradientTape wraps it with the public API. */
export class TapeRecord {
  readonly watched: Set<number> = new Set();
  nodes: TapeNode[] = [];
  /** Variables whose reads this tape watches, with the tensors read from each. */
  readonly variables: Map<Watchable, Tensor[]> = new Map();
  paused = false;
  constructor(readonly watchAccessedVariables: boolean) {}

  watchTensor(t: Tensor): void {
    this.watched.add(t.id);
  }

  watchVariable(v: Watchable, value?: Tensor): void {
    let reads = this.variables.get(v);
    if (!reads) this.variables.set(v, reads = []);
    if (value && !reads.includes(value)) {
      reads.push(value);
      this.watched.add(value.id);
    }
  }
}

/** The tapes now recording, innermost last. `active.length` is the hot-path check. */
export const active: TapeRecord[] = [];

/** Runs fn with `record` pushed as the innermost active tape. */
export function withTape<T>(record: TapeRecord, fn: () => T): T {
  active.push(record);
  try {
    return fn();
  } finally {
    const i = active.lastIndexOf(record);
    if (i >= 0) active.splice(i, 1);
  }
}

/** Runs fn with every active tape paused (nothing fn does is recorded). */
export function withoutRecording<T>(fn: () => T): T {
  if (active.length === 0) return fn(); // nothing to pause: no array to make and restore
  const saved = active.splice(0, active.length);
  try {
    return fn();
  } finally {
    active.unshift(...saved);
  }
}

function watches(tape: TapeRecord, inputs: readonly Tensor[]): boolean {
  if (tape.paused) return false;
  for (let i = 0; i < inputs.length; i++) if (tape.watched.has(inputs[i].id)) return true;
  return false;
}

function keep(node: TapeNode, tape: TapeRecord): void {
  tape.nodes.push(node);
  for (const o of node.outputs) tape.watched.add(o.id);
}

/**
 * Reports an op that ran. Kept by each active, unpaused tape that watches one of its
 * inputs; outputs that cannot carry a gradient (integer, bool) are never kept.
 */
export function record(
  op: string,
  inputs: readonly Tensor[],
  outputs: readonly Tensor[],
  backward: Backward,
): void {
  if (!outputs.some((o) => isFloat(o.dtype))) return;
  let node: TapeNode | undefined;
  for (const tape of active) {
    if (!watches(tape, inputs)) continue;
    keep(node ??= new TapeNode(op, inputs, outputs, backward, undefined), tape);
  }
}

/**
 * Reports a single-output op whose rule gives one gradient thunk per input. This is the
 * hot path of recording: no allocation unless a tape keeps the op.
 */
export function record1(op: string, inputs: readonly Tensor[], output: Tensor, rule: Rule): void {
  if (output.dtype !== "float32" && output.dtype !== "float64") return;
  let node: TapeNode | undefined;
  for (let t = 0; t < active.length; t++) {
    const tape = active[t];
    if (!watches(tape, inputs)) continue;
    keep(node ??= new TapeNode(op, inputs, [output], undefined, rule), tape);
  }
}

/** Tells the active tapes that a variable was read, so they can watch it. */
export function notifyRead(v: Watchable, value: Tensor): void {
  for (const tape of active) {
    if (tape.paused) continue;
    if (tape.variables.has(v) || (tape.watchAccessedVariables && v.trainable)) {
      tape.watchVariable(v, value);
    }
  }
}

/** The op name customGradient records (its gradFn is user code). */
export const CUSTOM_GRADIENT_OP = "customGradient";

/** True for values a gradient can be taken with respect to. */
export function differentiable(t: Tensor): boolean {
  return t instanceof Tensor && isFloat(t.dtype);
}
