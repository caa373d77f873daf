/**
 * The end of Dense and Conv2D, `activation(z + bias)`, in one kernel over z's own buffer
 * (csrc/kernels/bias.c) when the activation is none or tf.nn.relu: where biasAdd and relu made two
 * more tensors the size of z (10 MB each for the MNIST model's first conv layer), the
 * layer keeps one. Other activations and shapes take the ops.
 * @module
 */
import { isFloat } from "../dtype.ts";
import { backendOf } from "../backend/backend.ts";
import { Activation as ActivationCode } from "../native/codes.ts";
import { Tensor } from "../tensor.ts";
import { active, record } from "../tape.ts";
import { relu, reluGrad } from "../ops/math.ts";
import { biasAdd } from "../ops/nn.ts";
import { reduceSum } from "../ops/reduce.ts";
import type { Activation } from "./layer.ts";

/**
 * activation(z + bias) with bias over z's last axis. NOTE: z must be the layer's own fresh
 * output (its conv or matmul), held by nothing but the tape, which keeps it as the output
 * of the op that made it; the backward rules of conv and matmul never read their output,
 * so overwriting it is safe.
 */
export function biasActivation(
  z: Tensor,
  bias: Tensor | undefined,
  activation: Activation | null,
): Tensor {
  const fusable = (activation === null || activation === relu) && z.contiguous &&
    isFloat(z.dtype) && z.rank >= 1 && z.offset === 0 &&
    (bias === undefined || (bias.dtype === z.dtype && bias.rank === 1 && bias.contiguous &&
      bias.shape[0] === z.shape[z.rank - 1]));
  if (!fusable || (bias === undefined && activation === null)) {
    const y = bias ? biasAdd(z, bias) : z;
    return activation ? activation(y) : y;
  }
  if (!bias) return relu(z);
  const cols = z.shape[z.rank - 1];
  const code = activation === relu ? ActivationCode.RELU : ActivationCode.NONE;
  backendOf("biasAdd", z, bias).biasActivation(
    "biasAdd",
    z,
    cols === 0 ? 0 : z.size / cols,
    cols,
    bias,
    code,
  );
  const y = new Tensor(z.storage, z.dtype, z.shape);
  if (active.length !== 0) {
    const batchAxes = [...Array(z.rank - 1).keys()];
    record("biasAdd", [z, bias], [y], ([dy]) => {
      const dz = code === ActivationCode.RELU ? reluGrad(dy, y) : dy;
      return [dz, reduceSum(dz, batchAxes)];
    });
  }
  return y;
}
