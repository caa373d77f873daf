/**
 * The small network of the memory probes (training_memory.ts on the CPU,
 * webgpu_training_memory.ts on the GPU): dense 64 with ReLU, dropout 0.2, dense 10.
 * @module
 */
import * as tf from "../../mod.ts";

export class Mlp extends tf.Network {
  hidden = this.trackLayer(new tf.layers.Dense(64, { activation: tf.nn.relu }));
  dropout = this.trackLayer(new tf.layers.Dropout(0.2));
  logits = this.trackLayer(new tf.layers.Dense(10));
  call(x: tf.Tensor, training: boolean) {
    return this.logits.apply(this.dropout.apply(this.hidden.apply(x), { training }));
  }
}
