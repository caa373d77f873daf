/**
 * What the CPU backend's functions read of a tensor: its storage from an offset, its dtype,
 * and for strided walks its layout. A Tensor is each of these.
 * @module
 */
import type { DType, TypedArray } from "../../dtype.ts";

/** Storage and the offset of the first element of a dense operand. */
export interface DenseOperand {
  readonly data: TypedArray;
  readonly offset: number;
}

/** A dense operand and its dtype. */
export interface Operand extends DenseOperand {
  readonly dtype: DType;
}

/** An operand of any layout: shape and element strides from its offset. */
export interface StridedView extends Operand {
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly size: number;
}
