/**
 * Variables: named, mutable state holding a tensor. A Variable is accepted wherever a
 * tensor is (its current value), has the tensor's method forms, and tells the active
 * gradient tapes when it is read, so `tf.implicitGradients` and GradientTape's
 * `watchAccessedVariables` find the trainable variables a computation used.
 * @module
 */
import { checkDType, type DType, type TypedArray } from "./dtype.ts";
import { describe, sameShape, showShape } from "./shape.ts";
import { type NestedArray, Tensor, type TensorLike, TO_TENSOR } from "./tensor.ts";
import { pin, unpin } from "./lifetime.ts";
import { notifyRead, type Watchable } from "./tape.ts";
import { castTensor, contiguous } from "./ops/cast.ts";
import { constant } from "./ops/convert.ts";
import { add, subtract } from "./ops/math.ts";
import { withPlacement } from "./backend/registry.ts";
import { activeTrace, hostStep, variableValue } from "./graph/hooks.ts";

/** Options of new tf.Variable. */
export interface VariableOptions {
  /** Base name; made unique as TensorFlow 1 does: weight, weight_1, weight_2, ... */
  name?: string;
  /** Whether optimizers and implicit gradients see it (default true). */
  trainable?: boolean;
  /** Element type (default: the initial value's). */
  dtype?: DType;
  /**
   * Use `name` exactly as given, not made unique (default false): for names that must be
   * fixed, such as `global_step`. The caller keeps such names unique.
   */
  exactName?: boolean;
}

const nameCounts = new Map<string, number>();
let serials = 0;

/**
 * Consulted by every new Variable once its name is fixed (tf.restoreVariablesOnCreate
 * installs one): the value to start from instead of the initial value, or undefined.
 */
export type CreationHook = (name: string, initial: Tensor) => Tensor | undefined;
let creationHook: CreationHook | null = null;

/** Installs the creation hook (null for none); returns the hook it replaces. */
export function setCreationHook(hook: CreationHook | null): CreationHook | null {
  const previous = creationHook;
  creationHook = hook;
  return previous;
}

/** `base`, or `base_N` for the N-th later variable of that base name. */
export function uniqueName(base: string): string {
  const count = nameCounts.get(base) ?? 0;
  nameCounts.set(base, count + 1);
  return count === 0 ? base : `${base}_${count}`;
}

/**
 * A mutable tensor-valued state.
 * @example
 * ```ts
 * import * as tf from "../mod.ts";
 * const w = new tf.Variable(5, { name: "weight" });
 * w.assignSub(1);
 * console.log(Number(w)); // 4
 * ```
 */
export class Variable implements Watchable {
  /** Unique name, e.g. "weight" or "weight_1". */
  readonly name: string;
  /** Whether gradients and optimizers consider it. */
  readonly trainable: boolean;
  /** Creation order (implicit gradients are listed in it). */
  readonly serial: number;
  #value: Tensor;
  /** Whether #value is an optimizer's private buffer not handed out since (replaceOwned). */
  #owned = false;
  /** Whether read() made a view of #value since replaceOwned: no update in place then. */
  #viewed = false;

  constructor(initial: TensorLike, options: VariableOptions = {}) {
    if (options.dtype !== undefined) checkDType("Variable", options.dtype);
    if (options.name !== undefined && (typeof options.name !== "string" || options.name === "")) {
      throw new TypeError(
        `Variable: name must be a non-empty string, got ${describe(options.name)}`,
      );
    }
    const value = constant(initial, options.dtype);
    this.#value = contiguous(value, "Variable");
    const unique = uniqueName(options.name ?? "Variable");
    this.name = options.exactName && options.name !== undefined ? options.name : unique;
    if (creationHook) this.#value = creationHook(this.name, this.#value) ?? this.#value;
    pin(this.#value);
    this.trainable = options.trainable ?? true;
    this.serial = serials++;
  }

  /**
   * The current value; recorded as a read by active gradient tapes. NOTE: each read is a
   * tensor of its own over the value's storage, so that disposing it (tf.tidy does) leaves
   * the value alone, and an optimizer's update frees the previous value's memory once the
   * reads of it are disposed (replaceOwned), not only at a garbage collection.
   */
  read(): Tensor {
    const value = this.#value;
    this.#viewed = true;
    const view = new Tensor(value.storage, value.dtype, value.shape, undefined, value.offset);
    notifyRead(this, view);
    return variableValue(this, view, "read");
  }

  /** Same as read(). */
  value(): Tensor {
    return this.read();
  }

  [TO_TENSOR](): Tensor {
    return this.read();
  }

  /** The value without telling the tapes (for optimizers and checkpoints). */
  peek(): Tensor {
    this.#owned = false;
    return variableValue(this, this.#value, "peek");
  }

  /**
   * For optimizers: whether the value is a buffer replaceOwned set and nothing has read
   * since, so an update may overwrite it in place.
   */
  ownsValue(): boolean {
    return this.#owned && !this.#viewed;
  }

  /** For optimizers: the value, read by an update without handing it out (replaceOwned). */
  updateInput(): Tensor {
    return variableValue(this, this.#value, "internal");
  }

  /**
   * For optimizers: makes `next`, a tensor the caller allocated and shares with nobody,
   * the value, and disposes the previous value when it was such a tensor too and has not
   * been handed out since (by peek or dataSync): its memory goes at once, or when the last
   * read of it (a tensor of its own, see read) is disposed. Optimizer slots, which only
   * their optimizer reads, and the variables of a step run inside tf.tidy thus reuse
   * memory instead of leaving garbage every step.
   */
  replaceOwned(next: Tensor): void {
    const previous = this.#value, owned = this.#owned;
    this.#setValue(next);
    this.#owned = true;
    this.#viewed = false;
    if (owned) previous.dispose();
  }

  get dtype(): DType {
    return this.#value.dtype;
  }

  get shape(): readonly number[] {
    return this.#value.shape;
  }

  get rank(): number {
    return this.#value.rank;
  }

  get size(): number {
    return this.#value.size;
  }

  get device(): string {
    return this.#value.device;
  }

  /** The value as JS data, as Tensor.numpy(). */
  numpy(): NestedArray {
    return variableValue(this, this.#value, "peek").numpy();
  }

  /** The value as JS data, read without blocking, as Tensor.array(). */
  array(): Promise<NestedArray> {
    return variableValue(this, this.#value, "peek").array();
  }

  /** The value's flat typed array, as Tensor.dataSync(). */
  dataSync(): TypedArray {
    this.#owned = false;
    return variableValue(this, this.#value, "peek").dataSync();
  }

  /** The value's flat typed array, read without blocking, as Tensor.data(). */
  data(): Promise<TypedArray> {
    this.#owned = false;
    return variableValue(this, this.#value, "peek").data();
  }

  /** Replaces the value; the new one must have the variable's shape. Returns this. */
  assign(value: TensorLike): this {
    // The variable keeps its device, as in TensorFlow: JS values are made there, and a tensor
    // of another device is copied there (to() names toAsync where that cannot be done now).
    const here = this.#value.backend;
    const made = value instanceof Tensor ? value : withPlacement(here, () => constant(value));
    const t = made.backend === here ? made : made.to(this.device);
    // In a traced function the assignment runs again at each call, with that call's value.
    if (activeTrace() !== null) {
      hostStep(`${this.name}.assign`, [t], ([x]) => (this.assign(x), []));
      return this;
    }
    if (!sameShape(t.shape, this.shape)) {
      throw new RangeError(
        `Variable ${this.name}: cannot assign a value of shape ${showShape(t.shape)} to a ` +
          `variable of shape ${showShape(this.shape)}`,
      );
    }
    this.#setValue(contiguous(castTensor(t, this.dtype), "assign"));
    this.#owned = false;
    return this;
  }

  /** Makes `next` the value: pinned, so that no dispose() or tf.tidy frees it meanwhile. */
  #setValue(next: Tensor): void {
    unpin(this.#value);
    this.#value = next;
    pin(next);
  }

  /**
   * Frees the value's memory now (TensorFlow.js's Variable.dispose): afterwards reading
   * the variable is an error. For variables that are no longer needed; the garbage
   * collector frees them too.
   */
  dispose(): void {
    unpin(this.#value);
    this.#value.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /** this += delta. Returns this. */
  assignAdd(delta: TensorLike): this {
    return this.assign(add(this.updateInput(), delta));
  }

  /** this -= delta. Returns this. */
  assignSub(delta: TensorLike): this {
    return this.assign(subtract(this.updateInput(), delta));
  }

  /**
   * TensorFlow's layout: <tf.Variable 'weight:0' shape=() dtype=float32, numpy=5.0>.
   * NOTE: the value is printed as str() (as tf.Tensor prints it); TensorFlow prints NumPy's
   * repr() there for arrays (`array([1., 2.], dtype=float32)`).
   */
  toString(): string {
    const text = this.#value.toString();
    const numpy = text.slice("tf.Tensor(".length, text.lastIndexOf(", shape="));
    const shape = `(${this.shape.join(", ")}${this.rank === 1 ? "," : ""})`;
    return `<tf.Variable '${this.name}:0' shape=${shape} dtype=${this.dtype}, numpy=${numpy}>`;
  }

  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }

  [Symbol.toPrimitive](hint: string): number | string {
    return hint === "string" ? this.toString() : Number(this.read());
  }
}

/**
 * Gives Variable every method of Tensor, applied to the current value (a read). Called
 * by tensor_methods.ts once Tensor's method forms exist.
 */
export function delegateTensorMethods(): void {
  for (const name of Object.getOwnPropertyNames(Tensor.prototype)) {
    if (name === "constructor" || name in Variable.prototype) continue;
    const descriptor = Object.getOwnPropertyDescriptor(Tensor.prototype, name);
    if (!descriptor || typeof descriptor.value !== "function") continue;
    Object.defineProperty(Variable.prototype, name, {
      value: function (this: Variable, ...args: unknown[]) {
        return (descriptor.value as (...a: unknown[]) => unknown).apply(this.read(), args);
      },
      writable: true,
      configurable: true,
    });
  }
}

/** Tensor members a Variable defines itself or does not have. */
type OwnMembers =
  | "dtype"
  | "shape"
  | "rank"
  | "size"
  | "device"
  | "numpy"
  | "dataSync"
  | "toString"
  | "id"
  | "data"
  | "offset"
  | "contiguous"
  | "strides";

export interface Variable extends Omit<Tensor, OwnMembers> {}
