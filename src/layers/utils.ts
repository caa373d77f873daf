/**
 * Argument normalisation shared by the convolution and pooling layers, as TensorFlow's
 * layers/utils.py does it: data formats ("channels_last" / "channels_first"), padding
 * ("valid" / "same", any case) and spatial sizes (one integer or [height, width]).
 * @module
 */
import { describe } from "../shape.ts";
import type { DataFormat } from "../ops/conv_args.ts";

/** Where the channels are: "channels_last" (NHWC, the default) or "channels_first" (NCHW). */
export type LayerDataFormat = "channels_last" | "channels_first";
/** "valid" (no padding, the default) or "same"; any case is accepted, as in TensorFlow. */
export type LayerPadding = "valid" | "same" | "VALID" | "SAME";
/** One integer for both spatial dims, or [height, width]. */
export type Size2D = number | readonly [number, number] | readonly number[];

/** The op's data format for a layer's dataFormat option. */
export function normalizeDataFormat(op: string, format: unknown): DataFormat {
  const f = format ?? "channels_last";
  if (f === "channels_last") return "NHWC";
  if (f === "channels_first") return "NCHW";
  throw new TypeError(
    `${op}: dataFormat must be "channels_last" or "channels_first", got ${describe(f)}`,
  );
}

/** The op's padding for a layer's padding option. */
export function normalizePadding(op: string, padding: unknown): "VALID" | "SAME" {
  const p = typeof padding === "string" ? padding.toLowerCase() : padding ?? "valid";
  if (p === "valid") return "VALID";
  if (p === "same") return "SAME";
  throw new TypeError(`${op}: padding must be "valid" or "same", got ${describe(padding)}`);
}

/** [height, width] from one positive integer or a pair of them. */
export function normalizeSize(op: string, what: string, value: unknown): [number, number] {
  const pair = typeof value === "number" ? [value, value] : value;
  if (
    !Array.isArray(pair) || pair.length !== 2 ||
    !pair.every((v) => Number.isInteger(v) && v > 0)
  ) {
    throw new TypeError(
      `${op}: ${what} must be a positive integer or a pair of them, got ${describe(value)}`,
    );
  }
  return [pair[0], pair[1]];
}

/** The channel axis of a rank-4 tensor in this format. */
export function channelAxis(format: DataFormat): number {
  return format === "NCHW" ? 1 : 3;
}

/** A boolean option: `fallback` when undefined, else it must be a boolean. */
export function checkBoolean(op: string, what: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") {
    throw new TypeError(`${op}: ${what} must be a boolean, got ${describe(value)}`);
  }
  return value;
}
