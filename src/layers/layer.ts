/**
 * The Layer base class (TensorFlow 1's tf.layers.Layer): a callable that owns variables,
 * creates them lazily in `build(inputShape)` on its first `apply`, and names them
 * `<scope>/<layer scope>/<weight>` (see scope.ts).
 * @module
 */
import { withoutTrace } from "../graph/hooks.ts";
import { type DType, isFloat } from "../dtype.ts";
import { describe, sameShape, showShape } from "../shape.ts";
import type { Tensor, TensorLike } from "../tensor.ts";
import { withoutRecording } from "../tape.ts";
import { Variable } from "../variable.ts";
import { toTensor } from "../ops/convert.ts";
import { glorotUniform, type Initializer } from "./initializers.ts";
import {
  checkName,
  claimScope,
  currentScope,
  joinScope,
  toSnakeCase,
  uniqueObjectName,
} from "./scope.ts";

/** An activation function such as tf.nn.relu. */
export type Activation = (x: Tensor) => Tensor;

/** An activation option, checked: a function, or null for none. */
export function checkActivation(op: string, activation: unknown): Activation | null {
  if (activation === undefined || activation === null) return null;
  if (typeof activation !== "function") {
    throw new TypeError(`${op}: activation must be a function such as tf.nn.relu`);
  }
  return activation as Activation;
}

/** Options every layer takes. */
export interface LayerOptions {
  /** The layer's name (default: its class in snake_case, made unique: dense, dense_1, ...). */
  name?: string;
  /** Whether its weights are trainable (default true). */
  trainable?: boolean;
  /** dtype of its weights (default: the first input's if floating, else float32). */
  dtype?: DType;
}

/** Options of Layer.apply. */
export interface ApplyOptions {
  /** Training mode (dropout active, batch statistics in BatchNormalization); default false. */
  training?: boolean;
}

/** Options of Layer.addWeight. */
export interface AddWeightOptions {
  /** Initial value maker (default glorotUniform, as tf.get_variable). */
  initializer?: Initializer;
  /** Whether optimizers see it (default true; always false in a non-trainable layer). */
  trainable?: boolean;
  /** Element type (default: the layer's dtype). */
  dtype?: DType;
}

/** What apply accepts: anything tensor-like for tensor inputs, else the input type. */
export type ApplyInput<In> = In | (In extends Tensor ? TensorLike : never);

/** A layer of any input and output type. */
// deno-lint-ignore no-explicit-any
export type AnyLayer = Layer<any, any>;

/** Per-layer naming and build state, shared with Network (not part of the public API). */
export interface LayerState {
  /** The name; null for a Network not named yet (see network.ts). */
  name: string | null;
  /** The class name in snake_case. */
  readonly base: string;
  /** Whether the user chose the name (Networks never rename those). */
  explicit: boolean;
  /** The first Network that tracked the layer; its variables go under that scope. */
  parent: AnyLayer | null;
  /** The full scope path, fixed on first use. */
  scope: string | null;
  /** Whether the scope takes the layer's unique name (see Layer.scopeFromName). */
  readonly scopeFromName: boolean;
  built: boolean;
  dtype: DType | undefined;
}

/** Key of a layer's LayerState. */
export const STATE: unique symbol = Symbol("deno-eager.layerState");

/**
 * The layer's scope path, fixing it on first use: the first parent network's scope (or
 * the current name scope) joined with the layer's name within that network, else (as
 * TensorFlow 1's tf.layers open `variable_scope(None, default_name=name or base name)`
 * when first built) with its explicit name or base name, made unique then: `Dense` layers
 * first applied in the order b, a get scopes `dense`, `dense_1` whatever their names.
 * Layers that set scopeFromName (Keras layers, networks) use their unique name instead.
 * An unnamed top-level network is named here from the global counters.
 */
export function fixScope(layer: AnyLayer): string {
  const s = layer[STATE];
  if (s.scope === null) {
    const prefix = s.parent ? fixScope(s.parent) : currentScope();
    s.name ??= uniqueObjectName(s.base);
    const own = s.parent !== null || s.explicit || s.scopeFromName ? s.name : s.base;
    s.scope = claimScope(joinScope(prefix, own));
  }
  return s.scope;
}

/** The training flag of apply's options, checked. */
export function trainingOf(layer: AnyLayer, options: ApplyOptions): boolean {
  const label = layer[STATE].name ?? layer[STATE].base;
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${label}: apply options must be an object like { training: true }`);
  }
  const training = options.training ?? false;
  if (typeof training !== "boolean") {
    throw new TypeError(`${label}: training must be a boolean, got ${typeof training}`);
  }
  return training;
}

/**
 * Base class of layers. Subclasses create weights in `build(inputShape)` with
 * `addWeight` and compute in `call(x, training)`; users call `apply(x, { training })`.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * class Scale extends tf.layers.Layer {
 *   scale!: tf.Variable;
 *   override build(inputShape: readonly number[]) {
 *     this.scale = this.addWeight("scale", [inputShape[inputShape.length - 1]], {
 *       initializer: tf.initializers.ones,
 *     });
 *   }
 *   call(x: tf.Tensor) {
 *     return x.mul(this.scale);
 *   }
 * }
 * const layer = new Scale();
 * layer.apply([[1, 2]]); // creates "scale/scale" on first use
 * ```
 */
export abstract class Layer<In = Tensor, Out = Tensor> {
  /** Whether the layer's weights are trainable. */
  readonly trainable: boolean;
  /** Naming and build state (internal). */
  readonly [STATE]: LayerState;
  #trainableWeights: Variable[] = [];
  #nonTrainableWeights: Variable[] = [];

  /** Networks are named when tracked or first applied, not when constructed. */
  protected static readonly namedLater: boolean = false;

  /**
   * Whether a top-level layer's variables go under its unique name (`embedding_1/...`,
   * as Keras layers do) rather than under its base name made unique when first built
   * (TensorFlow 1's tf.layers; see fixScope).
   */
  protected static readonly scopeFromName: boolean = false;

  constructor(options: LayerOptions = {}) {
    const kind = new.target as unknown as {
      name: string;
      namedLater: boolean;
      scopeFromName: boolean;
    };
    const base = toSnakeCase(kind.name || "layer");
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`${base}: options must be an object`);
    }
    const explicit = options.name === undefined ? undefined : checkName(base, options.name);
    if (options.trainable !== undefined && typeof options.trainable !== "boolean") {
      throw new TypeError(`${base}: trainable must be a boolean`);
    }
    this.trainable = options.trainable ?? true;
    this[STATE] = {
      name: explicit ?? (kind.namedLater ? null : uniqueObjectName(base)),
      base,
      explicit: explicit !== undefined,
      parent: null,
      scope: null,
      scopeFromName: kind.scopeFromName,
      built: false,
      dtype: options.dtype === undefined ? undefined : checkFloat(base, options.dtype),
    };
  }

  /** The layer's name: dense, dense_1, ... (unique within its network once tracked). */
  get name(): string {
    const s = this[STATE];
    if (s.name === null) {
      throw new Error(
        `${s.base}: this Network has no name yet: a Network is named when another Network ` +
          `tracks it or when it is first applied`,
      );
    }
    return s.name;
  }

  /**
   * The variable-name prefix, fixed on first use: `<enclosing networks>/<name>` in a
   * network, else `<name scope>/<base name, made unique>` as TensorFlow 1 (see fixScope).
   */
  get scopeName(): string {
    return fixScope(this);
  }

  /** Whether the first apply has run (weights exist). */
  get built(): boolean {
    return this[STATE].built;
  }

  /** The weights' dtype (undefined until the first apply when not given). */
  get dtype(): DType | undefined {
    return this[STATE].dtype;
  }

  /** Trainable weights in creation order. */
  get trainableVariables(): Variable[] {
    return [...this.#trainableWeights];
  }

  /** Non-trainable weights (e.g. moving averages) in creation order. */
  get nonTrainableVariables(): Variable[] {
    return [...this.#nonTrainableWeights];
  }

  /** All weights: the trainable ones, then the others (TensorFlow's `weights` order). */
  get variables(): Variable[] {
    return [...this.trainableVariables, ...this.nonTrainableVariables];
  }

  /** Creates the weights for an input of this shape; called once, by the first apply. */
  build(_inputShape: readonly number[]): void {}

  /** The computation; `training` is apply's option. */
  abstract call(inputs: In, training: boolean): Out;

  /**
   * Runs the layer: builds it on the first call, then `call(x, training)`.
   * @example
   * ```ts
   * import * as tf from "../../mod.ts";
   * const dense = new tf.layers.Dense(3);
   * dense.apply([[1, 2]]); // shape [1, 3]
   * ```
   */
  apply(inputs: ApplyInput<In>, options: ApplyOptions = {}): Out {
    const training = trainingOf(this, options);
    const [value, x] = this.prepareInputs(inputs);
    this.buildFor(x.shape, x.dtype);
    try {
      return this.call(value, training);
    } catch (error) {
      throw withLayerName(this.name, error);
    }
  }

  /**
   * Builds the layer for inputs of this shape and dtype unless it is built (apply does
   * this on the first call); a failed build leaves no weights behind.
   */
  protected buildFor(shape: readonly number[], dtype: DType): void {
    const s = this[STATE];
    if (s.built) return;
    s.dtype ??= isFloat(dtype) ? dtype : "float32";
    fixScope(this);
    try {
      this.build(shape);
    } catch (error) {
      this.#trainableWeights = [];
      this.#nonTrainableWeights = [];
      throw withLayerName(this.name, error);
    }
    s.built = true;
  }

  /**
   * Converts apply's inputs for `call` and picks the tensor whose shape and dtype `build`
   * and the weights' default dtype come from: by default the input made a tensor.
   * Layers whose input is not one tensor (recurrent cells: `[x, states]`) override it.
   */
  protected prepareInputs(inputs: ApplyInput<In>): [In, Tensor] {
    const x = toTensor(this.name, inputs as TensorLike);
    return [x as In, x];
  }

  /**
   * Creates a variable named `<scopeName>/<name>` holding `initializer(shape, dtype)`.
   * Call it from `build`.
   */
  addWeight(name: string, shape: readonly number[], options: AddWeightOptions = {}): Variable {
    const op = `${this.name}.addWeight`;
    checkName(op, name);
    const dtype = options.dtype ?? this.dtype ?? "float32";
    const initializer = options.initializer ?? glorotUniform;
    if (typeof initializer !== "function") {
      throw new TypeError(`${op}: initializer of ${name} must be a function (shape, dtype)`);
    }
    // A weight's initial value is made outside any tape and any trace (TensorFlow's
    // init_scope): a layer built inside a traced function draws it once, not at every call.
    const value = withoutRecording(() =>
      withoutTrace(() => toTensor(op, initializer([...shape], dtype)))
    );
    if (!sameShape(value.shape, shape)) {
      throw new RangeError(
        `${op}: the initializer of ${name} gave shape ${showShape(value.shape)}, expected ${
          showShape(shape)
        }`,
      );
    }
    const trainable = (options.trainable ?? true) && this.trainable;
    const variable = new Variable(value, {
      name: `${fixScope(this)}/${name}`,
      trainable,
      dtype,
    });
    (trainable ? this.#trainableWeights : this.#nonTrainableWeights).push(variable);
    return variable;
  }

  /** `<Dense 'dense_1'>`, with " (not built)" before the first apply. */
  toString(): string {
    const s = this[STATE];
    const kind = this.constructor.name || "Layer";
    return `<${kind} '${s.name ?? "(unnamed)"}'${s.built ? "" : " (not built)"}>`;
  }
}

/**
 * An error from a layer's build or call, its message prefixed with the layer's name
 * (`conv2d_1: conv2d: strides > 1 together with dilations > 1 ...`) unless it names the
 * layer already. Only plain Error, TypeError and RangeError are rewritten (the original
 * is the cause); other errors pass unchanged.
 */
export function withLayerName(name: string, error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const message = error.message;
  if (message.startsWith(`${name}:`) || message.startsWith(`${name}.`)) return error;
  const kind = error.constructor;
  if (kind !== Error && kind !== TypeError && kind !== RangeError) return error;
  return new (kind as ErrorConstructor)(`${name}: ${message}`, { cause: error });
}

function checkFloat(op: string, dtype: DType): DType {
  if (!isFloat(dtype)) {
    throw new TypeError(`${op}: dtype must be float32 or float64, got ${describe(dtype)}`);
  }
  return dtype;
}
