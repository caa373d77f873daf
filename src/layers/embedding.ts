/**
 * Embedding (Keras's, as TensorFlow 1 had it in tf.keras.layers): a lookup table.
 * @module
 */
import { describe } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import type { Variable } from "../variable.ts";
import { cast } from "../ops/math.ts";
import { gather } from "../ops/gather_scatter.ts";
import { type Initializer, randomUniform } from "./initializers.ts";
import { Layer, type LayerOptions } from "./layer.ts";

/** Options of Embedding. */
export interface EmbeddingOptions extends LayerOptions {
  /** Default uniform in [-0.05, 0.05) (Keras's "uniform"). */
  embeddingsInitializer?: Initializer;
}

function checkDim(op: string, what: string, value: unknown): number {
  if (!Number.isInteger(value) || (value as number) <= 0) {
    throw new TypeError(`${op}: ${what} must be a positive integer, got ${describe(value)}`);
  }
  return value as number;
}

/**
 * Maps integer ids in [0, inputDim) to rows of a trainable [inputDim, outputDim] table:
 * ids of shape S give S + [outputDim]. Float ids (JS numbers) are cast to int32.
 * Variable: `embeddings` (float32 unless dtype says otherwise).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const embed = new tf.layers.Embedding(1000, 64);
 * embed.apply([[4, 20, 7]]); // shape [1, 3, 64]
 * ```
 */
export class Embedding extends Layer {
  /** Variables go under the layer's unique name (`embedding_1/embeddings`), as in Keras. */
  protected static override readonly scopeFromName: boolean = true;
  /** Vocabulary size. */
  readonly inputDim: number;
  /** Embedding size. */
  readonly outputDim: number;
  readonly embeddingsInitializer: Initializer;
  /** [inputDim, outputDim]; created on the first apply. */
  embeddings: Variable | null = null;

  constructor(inputDim: number, outputDim: number, options: EmbeddingOptions = {}) {
    super({ ...options, dtype: options.dtype ?? "float32" });
    this.inputDim = checkDim(this.name, "inputDim", inputDim);
    this.outputDim = checkDim(this.name, "outputDim", outputDim);
    this.embeddingsInitializer = options.embeddingsInitializer ??
      randomUniform({ minval: -0.05, maxval: 0.05 });
  }

  override build(): void {
    this.embeddings = this.addWeight("embeddings", [this.inputDim, this.outputDim], {
      initializer: this.embeddingsInitializer,
    });
  }

  call(ids: Tensor): Tensor {
    const indices = ids.dtype === "int32" || ids.dtype === "int64" ? ids : cast(ids, "int32");
    try {
      return gather(this.embeddings!.read(), indices);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      throw new RangeError(
        `${this.name}: ids must be in [0, ${this.inputDim}) (${error.message})`,
        { cause: error },
      );
    }
  }
}
