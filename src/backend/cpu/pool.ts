/**
 * The CPU backend's pooling (csrc/kernels/pooling.c): max and average pooling, their
 * gradients and max pooling's second-order gradient, all NHWC and dense.
 * @module
 */
import { type DType, dtypeCode, type TypedArray } from "../../dtype.ts";
import { check, native } from "../../native/lib.ts";
import { int64s } from "../../native/args.ts";
import { type PoolParams, poolParamsFields } from "../../native/codes.ts";
import { type DenseOperand, host } from "./operand.ts";

/** Input shape (NHWC), output geometry. */
type PoolShapes = [readonly number[], { out: number[]; params: PoolParams }];

/** max (or average) pooling of x into `result`. */
export function poolForward(
  op: string,
  max: boolean,
  dtype: DType,
  [xs, g]: PoolShapes,
  result: TypedArray,
  x: DenseOperand,
): void {
  const kernel = max ? native.eager_max_pool2d : native.eager_avg_pool2d;
  const params = int64s(2, poolParamsFields(g.params));
  check(
    kernel(dtypeCode(dtype), int64s(0, xs), int64s(1, g.out), params, result, host(x), x.offset),
    op,
  );
}

/**
 * From x and a second operand (dy for the gradient, ddx for the gradient of the gradient):
 * max pooling's gradient (into an input-shaped `result`) or its second-order gradient
 * (into an output-shaped one).
 */
export function maxPoolGradPass(
  op: string,
  secondOrder: boolean,
  dtype: DType,
  [xs, g]: PoolShapes,
  result: TypedArray,
  x: DenseOperand,
  other: DenseOperand,
): void {
  const kernel = secondOrder ? native.eager_max_pool2d_grad_grad : native.eager_max_pool2d_grad;
  check(
    kernel(
      dtypeCode(dtype),
      int64s(0, xs),
      int64s(1, g.out),
      int64s(2, poolParamsFields(g.params)),
      result,
      host(x),
      x.offset,
      host(other),
      other.offset,
    ),
    op,
  );
}

/** Average pooling's gradient: dy spread over each window, into an input-shaped `result`. */
export function avgPoolGradPass(
  op: string,
  dtype: DType,
  [xs, g]: PoolShapes,
  result: TypedArray,
  dy: DenseOperand,
): void {
  const params = int64s(2, poolParamsFields(g.params));
  check(
    native.eager_avg_pool2d_grad(
      dtypeCode(dtype),
      int64s(0, xs),
      int64s(1, g.out),
      params,
      result,
      host(dy),
      dy.offset,
    ),
    op,
  );
}
