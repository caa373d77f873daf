/** The CPU backend's CRC-32C (csrc/crc32c.c), for src/io/crc32c.ts. @module */
import { native } from "../../native/lib.ts";

/** CRC-32C of the non-empty `bytes`, continuing from `crc`. */
export function crc32cUpdate(crc: number, bytes: Uint8Array): number {
  return native.eager_crc32c(crc >>> 0, bytes, 0, bytes.length) >>> 0;
}
