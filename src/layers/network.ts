/**
 * Network (the tfe guide's tfe.Network): a layer composed of tracked layers.
 *
 * Naming follows tfe.Network:
 * - a Network is named its class in snake_case (`TwoLayerNet` -> `two_layer_net`), made
 *   unique among top-level networks when first applied (`two_layer_net_1`), or among
 *   its parent's layers when tracked by another Network;
 * - a layer tracked by a Network (unbuilt, not tracked before, not explicitly named) is
 *   renamed to be unique within that Network, so layers built elsewhere do not shift
 *   its variable names: the two Dense layers of every TwoLayerNet are `dense` and
 *   `dense_1`, with variables `two_layer_net/dense/kernel`, ...;
 * - a layer shared by several networks keeps the scope of the first one.
 * @module
 */
import { describe } from "../shape.ts";
import { type Tensor, TO_TENSOR } from "../tensor.ts";
import type { Variable } from "../variable.ts";
import { toTensor } from "../ops/convert.ts";
import {
  type AnyLayer,
  type ApplyInput,
  type ApplyOptions,
  fixScope,
  Layer,
  STATE,
  trainingOf,
} from "./layer.ts";
import { uniqueObjectName, withScopePath } from "./scope.ts";

/** Options of Network. */
export interface NetworkOptions {
  /** An explicit name (kept as given); default: the class name in snake_case, made unique. */
  name?: string;
}

/** Numbers, nested number arrays, typed arrays and Variables: data apply turns into a tensor. */
function isPlainData(x: unknown): boolean {
  if (typeof x === "number" || typeof x === "boolean" || typeof x === "bigint") return true;
  if (ArrayBuffer.isView(x)) return true;
  if (typeof x === "object" && x !== null && TO_TENSOR in x) return true;
  let probe: unknown = x;
  while (Array.isArray(probe) && probe.length > 0) probe = probe[0];
  return Array.isArray(x) && (Array.isArray(probe) || isScalar(probe));
}

function isScalar(x: unknown): boolean {
  return typeof x === "number" || typeof x === "boolean" || typeof x === "bigint";
}

function distinct(variables: Variable[]): Variable[] {
  return [...new Set(variables)];
}

/**
 * A composition of layers. Subclasses create their layers in the constructor, register
 * each with `trackLayer`, and implement `call(x, training)`; variables are created on the
 * first `apply` and listed by `variables` (tracking order, then creation order).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * class TwoLayerNet extends tf.Network {
 *   layer1 = this.trackLayer(new tf.layers.Dense(2, { activation: tf.nn.relu, useBias: false }));
 *   layer2 = this.trackLayer(new tf.layers.Dense(3, { useBias: false }));
 *   call(x: tf.Tensor) {
 *     return this.layer2.apply(this.layer1.apply(x));
 *   }
 * }
 * const net = new TwoLayerNet();
 * net.apply([[1]]); // shape [1, 3]
 * net.variables.map((v) => v.name); // ["two_layer_net/dense/kernel", "two_layer_net/dense_1/kernel"]
 * ```
 */
export abstract class Network<In = Tensor, Out = Tensor> extends Layer<In, Out> {
  protected static override readonly namedLater: boolean = true;
  protected static override readonly scopeFromName: boolean = true;
  #layers: AnyLayer[] = [];
  #uids = new Map<string, number>();
  #owned = new Map<string, AnyLayer>();

  constructor(options: NetworkOptions | string = {}) {
    const name = typeof options === "string" ? options : options?.name;
    if (typeof options !== "string" && (typeof options !== "object" || options === null)) {
      throw new TypeError(`Network: options must be { name } or a name, got ${describe(options)}`);
    }
    super(name === undefined ? {} : { name });
  }

  /** The layers tracked, in tracking order. */
  get layers(): AnyLayer[] {
    return [...this.#layers];
  }

  /**
   * Registers a layer (or a Network) whose variables belong to this network, naming it
   * within the network (see the module comment). Returns the layer.
   */
  trackLayer<L extends AnyLayer>(layer: L): L {
    const op = `${this.#label()}.trackLayer`;
    if (!(layer instanceof Layer)) {
      throw new TypeError(
        `${op}: expected a tf.layers.Layer or a tf.Network, got ${describe(layer)}`,
      );
    }
    if (layer === (this as AnyLayer) || (layer instanceof Network && layer.#contains(this))) {
      throw new Error(`${op}: a Network cannot contain itself`);
    }
    const s = layer[STATE];
    if (s.scope === null && s.parent === null) {
      if (layer instanceof Network) s.name ??= uniqueObjectName(s.base, this.#uids, this.#owned);
      else if (!s.explicit) s.name = uniqueObjectName(s.base, this.#uids, this.#owned);
      s.parent = this;
    }
    if (s.scope === null && s.parent === this) {
      const other = this.#owned.get(s.name!);
      if (other !== undefined && other !== layer) {
        throw new Error(`${op}: this Network already has a layer named '${s.name}'`);
      }
      this.#owned.set(s.name!, layer);
    }
    if (!this.#layers.includes(layer)) this.#layers.push(layer);
    return layer;
  }

  /**
   * A tracked layer by name (the first with that name) or by tracking index.
   * @example
   * ```ts
   * net.getLayer("dense_1"); net.getLayer(0);
   * ```
   */
  getLayer(nameOrIndex: string | number): AnyLayer {
    const op = `${this.#label()}.getLayer`;
    if (typeof nameOrIndex === "number") {
      const layer = this.#layers[nameOrIndex];
      if (!Number.isInteger(nameOrIndex) || layer === undefined) {
        throw new RangeError(
          `${op}: no layer at index ${nameOrIndex} (the network has ${this.#layers.length})`,
        );
      }
      return layer;
    }
    const layer = this.#layers.find((l) => l[STATE].name === nameOrIndex);
    if (layer === undefined) throw new RangeError(`${op}: no layer named '${nameOrIndex}'`);
    return layer;
  }

  override get trainableVariables(): Variable[] {
    return distinct([
      ...super.trainableVariables,
      ...this.#layers.flatMap((l) => l.trainableVariables),
    ]);
  }

  override get nonTrainableVariables(): Variable[] {
    return distinct([
      ...super.nonTrainableVariables,
      ...this.#layers.flatMap((l) => l.nonTrainableVariables),
    ]);
  }

  /**
   * Runs `call(x, training)` inside the network's scope (fixing its name on the first
   * call). Numeric data (arrays, typed arrays, Variables) becomes a tensor; anything else
   * (tensors, tuples, objects) reaches call unchanged.
   */
  override apply(inputs: ApplyInput<In>, options: ApplyOptions = {}): Out {
    const training = trainingOf(this, options);
    const scope = fixScope(this);
    const x = isPlainData(inputs) ? toTensor(this.name, inputs as Tensor) : inputs;
    const out = withScopePath(scope, () => this.call(x as In, training));
    this[STATE].built = true;
    return out;
  }

  #label(): string {
    return this[STATE].name ?? this[STATE].base;
  }

  #contains(other: AnyLayer): boolean {
    return this.#layers.some((l) => l === other || (l instanceof Network && l.#contains(other)));
  }
}
