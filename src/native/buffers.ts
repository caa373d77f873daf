/**
 * Uninitialised output buffers from the output buffer helper, libeager_buffers
 * (csrc/buffers/), a Node-API module of its own beside libeager.
 *
 * The garbage collector owns them as it owns `new ArrayBuffer(n)`, and frees them through
 * the helper's release callback; they differ only in skipping the zero-fill (and the helper
 * asks V8 for a collection when dropped outputs pile up). The helper is loaded with
 * process.dlopen, which needs the same --allow-ffi as Deno.dlopen. Where that fails (no
 * helper beside the library, a runtime without Node-API), `takeBuffer` returns undefined
 * and the caller allocates a zeroed buffer instead: slower, never wrong.
 * @module
 */
import { nodeProcess } from "../node_builtins.ts";
import { helperLibraryPath } from "./lib.ts";
import { checkLibraryFile } from "./library_file.ts";

type Take = (bytes: number) => ArrayBuffer;

let take: Take | null | undefined; // undefined: not tried yet; null: unavailable
let collect: (() => void) | undefined;
let forget: ((buffer: ArrayBuffer) => void) | undefined;

function load(): Take | null {
  const path = helperLibraryPath();
  if (!path) return null;
  try {
    checkLibraryFile(path);
    const module = {
      exports: {} as { take?: Take; collect?: () => void; forget?: (b: ArrayBuffer) => void },
    };
    nodeProcess().dlopen(module, path);
    collect = module.exports.collect;
    forget = module.exports.forget;
    return typeof module.exports.take === "function" ? module.exports.take : null;
  } catch {
    return null;
  }
}

/**
 * Asks V8 for one full garbage collection now (for memory it does not see: the GPU's);
 * returns whether it could (false without the helper).
 */
export function requestCollection(): boolean {
  if (take === undefined) take = load();
  if (!collect) return false;
  collect();
  return true;
}

/**
 * A fresh ArrayBuffer of `bytes` uninitialised bytes, or undefined when Node-API is not
 * available. Throws a RangeError when the memory cannot be had.
 */
export function takeBuffer(bytes: number): ArrayBuffer | undefined {
  if (take === undefined) take = load();
  return take ? take(bytes) : undefined;
}

/** The smallest block the helper watches (EAGER_LARGE_BLOCK_BYTES in
 * csrc/buffers/block_cache.h). */
const WATCHED_MIN_BYTES = 4 << 20;

/**
 * Tells the helper that `buffer` is about to be moved into another ArrayBuffer
 * (`buffer.transfer()`), so that it does not wait for its block to be freed when the old
 * buffer dies (csrc/buffers/napi_buffers.c, "Waiting for a block").
 */
export function movingBuffer(buffer: ArrayBuffer): void {
  if (forget && buffer.byteLength >= WATCHED_MIN_BYTES) forget(buffer);
}

/** The helper's path when it loaded (trying to load it if that had not happened yet). */
export function helperInUse(): string | undefined {
  if (take === undefined) take = load();
  return take ? helperLibraryPath() : undefined;
}
