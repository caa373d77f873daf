/**
 * The CPU backend's depthwise convolution (csrc/kernels/depthwise.c): the forward pass and
 * its two gradients, NHWC and dense.
 * @module
 */
import { type DType, dtypeCode, type TypedArray } from "../../dtype.ts";
import { check, native } from "../../native/lib.ts";
import type { ConvPass } from "../backend.ts";
import { type DenseOperand, host } from "./operand.ts";

const PASS: Record<ConvPass, number> = { forward: 0, inputGrad: 1, filterGrad: 2 };

/**
 * One pass of a depthwise convolution, `geometry` being eager_depthwise_conv2d's 15 counts
 * (n, h, w, c, m, kh, kw, oh, ow, sh, sw, dh, dw, padTop, padLeft): writes `result` from
 * (x, filter), (filter, dy) or (x, dy).
 */
export function depthwisePass(
  op: string,
  pass: ConvPass,
  dtype: DType,
  geometry: readonly number[],
  result: TypedArray,
  a: DenseOperand,
  b: DenseOperand,
): void {
  check(
    native.eager_depthwise_conv2d(
      dtypeCode(dtype),
      PASS[pass],
      BigInt64Array.from(geometry, BigInt),
      result,
      host(a),
      a.offset,
      host(b),
      b.offset,
    ),
    op,
  );
}
