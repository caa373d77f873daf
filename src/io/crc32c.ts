/**
 * CRC-32C and TensorFlow's masked form, the checksums of tensor bundles (checkpoints),
 * TFRecord files and TensorBoard event files. The checksum itself runs in libeager.
 * @module
 */
import { crc32cUpdate } from "../backend/cpu/checksum.ts";

/**
 * CRC-32C of `bytes`, continuing from `crc` (0 to start).
 * @example
 * ```ts
 * crc32c(new TextEncoder().encode("123456789")); // 0xe3069283
 * ```
 */
export function crc32c(bytes: Uint8Array, crc = 0): number {
  if (bytes.length === 0) return crc >>> 0;
  return crc32cUpdate(crc, bytes);
}

const MASK_DELTA = 0xa282ead8;

/** TensorFlow's masked CRC: rotate right by 15 bits, add a constant (crc32c::Mask). */
export function maskCrc(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + MASK_DELTA) >>> 0;
}

/** The inverse of maskCrc. */
export function unmaskCrc(masked: number): number {
  const rotated = (masked - MASK_DELTA) >>> 0;
  return ((rotated >>> 17) | (rotated << 15)) >>> 0;
}

/** The masked CRC-32C of `bytes`, as record and bundle files store it. */
export function maskedCrc32c(bytes: Uint8Array): number {
  return maskCrc(crc32c(bytes));
}
