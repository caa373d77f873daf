/**
 * What the CPU backend's functions read of a tensor: its storage from an offset, its dtype,
 * and for strided walks its layout. A Tensor is each of these.
 * @module
 */
import type { DType, TypedArray } from "../../dtype.ts";
import type { Storage } from "../backend.ts";

/** Storage and the offset of the first element of a dense operand. */
export interface DenseOperand {
  readonly storage: Storage;
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

/**
 * The typed array of a CPU operand. NOTE: the cast is sound because the CPU backend only
 * receives its own operands (backendOf in src/backend/backend.ts sees to it), and CPU
 * storage is a TypedArray.
 */
export function host(x: DenseOperand): TypedArray {
  return x.storage as TypedArray;
}
