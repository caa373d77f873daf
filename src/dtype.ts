/**
 * Data types: their names, storage, native codes and the promotion rules.
 *
 * Promotion (docs/dtypes.md): two tensors of different dtypes meet at the higher of
 * bool < uint8 < int32 < int64 < float32 < float64, so an integer meeting a float
 * becomes that float (int64 with float32 gives float32, as in JAX). JS numbers,
 * booleans and arrays of them are "weak": they take the tensor's dtype when every value
 * fits it (an integer for integer dtypes), and are float32 otherwise.
 * @module
 */
import { Dtype } from "./native/codes.ts";
import { describe } from "./shape.ts";

/** The element types a Tensor can hold. */
export type DType = "float32" | "float64" | "int32" | "int64" | "uint8" | "bool";

/** A typed array that can back a tensor: int64 uses BigInt64Array, bool Uint8Array. */
export type TypedArray = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

/** Every dtype, in native code order (csrc/include/eager.h's eager_dtype). */
export const DTYPES: readonly DType[] = ["float32", "float64", "int32", "int64", "uint8", "bool"];

const CODES: Record<DType, number> = {
  float32: Dtype.F32,
  float64: Dtype.F64,
  int32: Dtype.I32,
  int64: Dtype.I64,
  uint8: Dtype.U8,
  bool: Dtype.BOOL,
};

const RANK: Record<DType, number> = {
  bool: 0,
  uint8: 1,
  int32: 2,
  int64: 3,
  float32: 4,
  float64: 5,
};

type TypedArrayConstructor = {
  new (length: number): TypedArray;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): TypedArray;
  readonly BYTES_PER_ELEMENT: number;
};

const ARRAYS: Record<DType, TypedArrayConstructor> = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  int64: BigInt64Array as unknown as TypedArrayConstructor,
  uint8: Uint8Array,
  bool: Uint8Array,
};

/** The native eager_dtype code of a dtype. */
export function dtypeCode(dtype: DType): number {
  return CODES[dtype];
}

/** The typed-array constructor that stores a dtype. */
export function arrayType(dtype: DType): TypedArrayConstructor {
  return ARRAYS[dtype];
}

/** Bytes per element. */
export function itemSize(dtype: DType): number {
  return ARRAYS[dtype].BYTES_PER_ELEMENT;
}

/** True for float32 and float64. */
export function isFloat(dtype: DType): boolean {
  return dtype === "float32" || dtype === "float64";
}

/** True for int32, int64 and uint8. */
export function isInteger(dtype: DType): boolean {
  return dtype === "int32" || dtype === "int64" || dtype === "uint8";
}

/** True when `value` names a dtype. */
export function isDType(value: unknown): value is DType {
  return typeof value === "string" && value in CODES;
}

/** Checks a user-supplied dtype, naming the op when it is not one. */
export function checkDType(op: string, value: unknown): DType {
  if (!isDType(value)) {
    throw new TypeError(
      `${op}: unknown dtype ${describe(value)}; expected one of ${DTYPES.join(", ")}`,
    );
  }
  return value;
}

/** The dtype two tensors meet at (see the module comment). */
export function promoteTypes(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

/** The dtype TypedArray input infers. */
export function dtypeOfArray(array: ArrayBufferView): DType | undefined {
  if (array instanceof Float32Array) return "float32";
  if (array instanceof Float64Array) return "float64";
  if (array instanceof Int32Array) return "int32";
  if (array instanceof BigInt64Array) return "int64";
  if (array instanceof Uint8Array || array instanceof Uint8ClampedArray) return "uint8";
  if (
    array instanceof Int8Array || array instanceof Int16Array || array instanceof Uint16Array
  ) return "int32";
  if (array instanceof Uint32Array || array instanceof BigUint64Array) return "int64";
  return undefined;
}

const INT_RANGES: Partial<Record<DType, [number, number]>> = {
  int32: [-2147483648, 2147483647],
  uint8: [0, 255],
  int64: [-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

/** Whether a JS number is exactly representable in an integer dtype (or any float). */
export function numberFits(value: number, dtype: DType): boolean {
  if (isFloat(dtype)) return true;
  if (dtype === "bool") return value === 0 || value === 1;
  const range = INT_RANGES[dtype]!;
  return Number.isInteger(value) && value >= range[0] && value <= range[1];
}
