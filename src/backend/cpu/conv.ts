/**
 * The CPU backend's convolutions: conv2d and its two gradients (csrc/kernels/conv.c), all
 * NHWC / HWIO and dense.
 * @module
 */
import { type DType, dtypeCode, type TypedArray } from "../../dtype.ts";
import { check, native } from "../../native/lib.ts";
import { int64s } from "../../native/args.ts";
import { type ConvParams, convParamsFields } from "../../native/codes.ts";
import { type DenseOperand, host } from "./operand.ts";

/** The kernel of each pass. NOTE: looked up at each call, since `native` is replaced once a
 * prebuilt library has been opened (src/native/lib.ts). */
const KERNELS = {
  forward: () => native.eager_conv2d, // (x, filter) -> y
  inputGrad: () => native.eager_conv2d_backprop_input, // (filter, dy) -> dx
  filterGrad: () => native.eager_conv2d_backprop_filter, // (x, dy) -> dfilter
};

/**
 * One pass of a convolution of x (NHWC shape `xs`) with filters (HWIO shape `fs`) giving
 * `out` (shape `outShape`): writes `result` from operands `a` and `b` (see KERNELS).
 */
export function convPass(
  op: string,
  pass: keyof typeof KERNELS,
  dtype: DType,
  [xs, fs, g]: [readonly number[], readonly number[], { out: number[]; params: ConvParams }],
  result: TypedArray,
  a: DenseOperand,
  b: DenseOperand,
): void {
  check(
    KERNELS[pass]()(
      dtypeCode(dtype),
      int64s(0, xs),
      int64s(1, fs),
      int64s(2, g.out),
      int64s(3, convParamsFields(g.params)),
      result,
      host(a),
      a.offset,
      host(b),
      b.offset,
    ),
    op,
  );
}
