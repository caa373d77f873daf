/**
 * Inference-time folding of a convolution and the BatchNormalization after it (what
 * TensorFlow's graph optimiser does for tf.function): with the moving statistics,
 *
 *   bn(conv(x, W) + b) = conv(x, W * s) + (b - mean) * s + beta,  s = gamma / sqrt(var + eps)
 *
 * per output channel, so inference runs one convolution and the layers' epilogue (bias, and
 * relu when one follows) instead of the convolution, its bias, the normalisation and the
 * relu: three passes over the activations fewer. The folded weights are cached while the
 * six variables keep their values; a training step replaces those, and the next inference
 * folds again. Used only when nothing records (no active GradientTape): folding is not
 * differentiated with respect to the weights.
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { active, withoutRecording } from "../tape.ts";
import { keep } from "../tidy.ts";
import { add, multiply, relu, rsqrt, subtract } from "../ops/math.ts";
import { conv2d } from "../ops/conv.ts";
import { biasAdd } from "../ops/nn.ts";
import { biasActivation } from "../layers/epilogue.ts";
import type { Conv2D } from "../layers/convolutional.ts";
import type { BatchNormalization } from "../layers/normalization.ts";

/** A Conv2D and the BatchNormalization applied to its output, folded in inference. */
export class FoldedConvBn {
  #key: (Tensor | undefined)[] = [];
  #kernel: Tensor | null = null;
  #bias: Tensor | null = null;

  constructor(readonly conv: Conv2D, readonly bn: BatchNormalization) {}

  /** bn(conv(x)), then relu when `reluAfter`; folded unless recording or not yet built. */
  apply(x: Tensor, training: boolean, reluAfter: boolean): Tensor {
    const { conv, bn } = this;
    const foldable = !training && active.length === 0 && conv.built && bn.built &&
      conv.activation === null && bn.channelAxis === (conv.dataFormat === "channels_first" ? 1 : 3);
    if (!foldable) {
      const z = conv.apply(x);
      return reluAfter ? bn.applyWithRelu(z, { training }) : bn.apply(z, { training });
    }
    const [kernel, bias] = this.#folded();
    const format = conv.dataFormat === "channels_first" ? "NCHW" : "NHWC";
    const y = conv2d(x, kernel, conv.strides, conv.padding === "same" ? "SAME" : "VALID", {
      dataFormat: format,
      dilations: conv.dilationRate,
    });
    if (format === "NHWC") return biasActivation(y, bias, reluAfter ? relu : null);
    const z = biasAdd(y, bias, "NCHW");
    return reluAfter ? relu(z) : z;
  }

  /** The folded kernel and bias, recomputed when a variable's value changed. */
  #folded(): [Tensor, Tensor] {
    const { conv, bn } = this;
    const key = [
      conv.kernel!.peek(),
      conv.bias?.peek(),
      bn.gamma?.peek(),
      bn.beta?.peek(),
      bn.movingMean!.peek(),
      bn.movingVariance!.peek(),
    ];
    if (this.#kernel && key.every((t, i) => t === this.#key[i])) {
      return [this.#kernel, this.#bias!];
    }
    const [kernel, bias, gamma, beta, mean, variance] = key;
    withoutRecording(() => {
      let scale = rsqrt(add(variance!, bn.varianceEpsilon));
      if (gamma) scale = multiply(scale, gamma);
      const shifted = bias ? subtract(bias, mean!) : multiply(mean!, -1);
      const folded = multiply(shifted, scale);
      this.#kernel?.dispose();
      this.#bias?.dispose();
      this.#kernel = keep(multiply(kernel!, scale));
      this.#bias = keep(beta ? add(folded, beta) : folded);
    });
    this.#key = key;
    return [this.#kernel!, this.#bias!];
  }
}
