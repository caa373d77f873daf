/**
 * Uninitialised output buffers from libeager through Node-API (csrc/napi_buffers.c).
 *
 * The garbage collector owns them as it owns `new ArrayBuffer(n)`, and frees them through
 * the library's release callback; they differ only in skipping the zero-fill. Node-API
 * is reached by loading libeager a second time with process.dlopen, which needs the same
 * --allow-ffi as Deno.dlopen. Where that fails (a library without the Node-API entry
 * point, a runtime without Node-API), `takeBuffer` returns undefined and the caller
 * allocates a zeroed buffer instead: slower, never wrong.
 * @module
 */
import process from "node:process";
import { libraryPath } from "./lib.ts";

type Take = (bytes: number) => ArrayBuffer;

let take: Take | null | undefined; // undefined: not tried yet; null: unavailable

function load(): Take | null {
  const path = libraryPath();
  if (!path) return null;
  try {
    const module = { exports: {} as { take?: Take } };
    process.dlopen(module, path);
    return typeof module.exports.take === "function" ? module.exports.take : null;
  } catch {
    return null;
  }
}

/**
 * A fresh ArrayBuffer of `bytes` uninitialised bytes, or undefined when Node-API is not
 * available. Throws a RangeError when the memory cannot be had.
 */
export function takeBuffer(bytes: number): ArrayBuffer | undefined {
  if (take === undefined) take = load();
  return take ? take(bytes) : undefined;
}
