/**
 * The few places outside src/graph/ that a trace must see as more than kernel calls. A trace
 * (src/graph/trace.ts) records the backend calls an eager run makes; what cannot be replayed
 * as those calls is reported here instead:
 * - a *host step*: code whose kernel calls depend on JS state that changes between calls (a
 *   random op's next seeds, an optimizer's step count and learning rate, a variable's
 *   assignment). It is recorded as one node that runs the code again, eagerly, at each call;
 * - a *variable access*: a variable's value is whatever it holds when the graph runs, not the
 *   storage it held while tracing.
 * With no trace active each hook is one property read. This module imports only types, so
 * that tensor.ts, variable.ts and the ops can use it.
 * @module
 */
import type { Tensor } from "../tensor.ts";

/** How a variable's value was taken: by `read()` (tapes see it), `peek()`, or internally. */
export type VariableAccess = "read" | "peek" | "internal";

/** What a host step promises about its inputs and results. */
export interface HostStepOptions {
  /**
   * Whether the step may keep a reference to an input's storage after it returns (a
   * variable's assignment keeps its value). Default true: such inputs get storage of their
   * own at every call instead of a reused buffer.
   */
  retainsInputs?: boolean;
  /** Whether the step has no effect but its results (a random draw): dropped when unused. */
  pure?: boolean;
}

/** A variable as a trace needs it: its current value under each access. */
export interface TracedVariable {
  readonly name: string;
  read(): Tensor;
  peek(): Tensor;
  updateInput(): Tensor;
}

/** The trace being recorded; see src/graph/trace.ts. */
export interface TraceHooks {
  hostStep(
    name: string,
    inputs: readonly Tensor[],
    run: (inputs: readonly Tensor[]) => Tensor[],
    options: HostStepOptions,
  ): Tensor[];
  variableValue(v: TracedVariable, value: Tensor, access: VariableAccess): Tensor;
  /** Called before JS reads `t`'s elements on the host (throws for a computed value). */
  hostRead(t: Tensor, op: string): void;
}

let active: TraceHooks | null = null;

/** The trace now recording, if any. */
export function activeTrace(): TraceHooks | null {
  return active;
}

/** Makes `hooks` the recording trace (null: none); returns the one it replaces. */
export function setActiveTrace(hooks: TraceHooks | null): TraceHooks | null {
  const previous = active;
  active = hooks;
  return previous;
}

/** Runs fn with no trace recording (a host step's own eager run). */
export function withoutTrace<T>(fn: () => T): T {
  const previous = setActiveTrace(null);
  try {
    return fn();
  } finally {
    setActiveTrace(previous);
  }
}

/**
 * Runs `run(inputs)` now; while a trace records, also records it as a host step that runs
 * again at every call of the graph (see the module comment).
 */
export function hostStep(
  name: string,
  inputs: readonly Tensor[],
  run: (inputs: readonly Tensor[]) => Tensor[],
  options: HostStepOptions = {},
): Tensor[] {
  return active === null ? run(inputs) : active.hostStep(name, inputs, run, options);
}

/** A host step of one result. */
export function hostStep1(
  name: string,
  inputs: readonly Tensor[],
  run: (inputs: readonly Tensor[]) => Tensor,
  options: HostStepOptions = {},
): Tensor {
  if (active === null) return run(inputs);
  return active.hostStep(name, inputs, (xs) => [run(xs)], options)[0];
}

/** `value`, the variable's current one, noted by a recording trace as that variable's. */
export function variableValue(v: TracedVariable, value: Tensor, access: VariableAccess): Tensor {
  return active === null ? value : active.variableValue(v, value, access);
}
