/**
 * Uninitialised output buffers from the output buffer helper, libeager_buffers
 * (csrc/buffers/), a Node-API module of its own beside libeager.
 *
 * The garbage collector owns them as it owns `new ArrayBuffer(n)`, and frees them through
 * the helper's release callback; they differ only in skipping the zero-fill (and the helper
 * asks V8 for a collection when dropped outputs pile up). The helper is loaded with
 * process.dlopen, which needs the same --allow-ffi as Deno.dlopen. Where that fails (no
 * helper beside the library, a runtime without Node-API), `takeBuffer` returns undefined
 * and the caller allocates a zeroed buffer instead: slower, never wrong. It also returns
 * undefined until a process's outputs add up to DEFERRED_MAX_BYTES, when the helper loads.
 * @module
 */
import { nodeProcess } from "../node_builtins.ts";
import { helperLibraryPath } from "./lib.ts";
import { checkLibraryFile } from "./library_file.ts";
import { env } from "../env.ts";

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
 * Outputs are asked for up to this many bytes in all before the helper loads; until then
 * takeBuffer returns undefined and they come zero-filled from V8. NOTE: loading it cost a
 * fresh process 20-33 ms at its first output of more than 256 bytes (Deno starts its Node
 * compatibility layer at the first read of `process`, 15-30 ms, then dlopen, 3-4 ms), far
 * more than zero-filling this much memory costs, so a short script never pays it. A program
 * that makes large outputs loads it at once (16M elements are 64 MiB). Under
 * EAGER_POISON_OUTPUTS=1 it loads at the first output, which it fills with NaN.
 */
const DEFERRED_MAX_BYTES = 32 << 20;
let deferredBytes = 0;
let poisoning: boolean | undefined;

/** Whether outputs are filled with NaN / -1 bytes (EAGER_POISON_OUTPUTS=1): the helper fills
 * the new ones, src/backend/cpu/storage.ts the reused ones. */
export function poisonsOutputs(): boolean {
  return poisoning ??= env("EAGER_POISON_OUTPUTS") === "1";
}

/**
 * A fresh ArrayBuffer of `bytes` uninitialised bytes, or undefined when Node-API is not
 * available or the helper is not loaded yet (DEFERRED_MAX_BYTES). Throws a RangeError when
 * the memory cannot be had.
 */
export function takeBuffer(bytes: number): ArrayBuffer | undefined {
  if (take === undefined) {
    deferredBytes += bytes;
    if (deferredBytes < DEFERRED_MAX_BYTES && !poisonsOutputs()) return undefined;
    take = load();
  }
  return take ? take(bytes) : undefined;
}

/** Whether the helper is loaded (without loading it), for tests and diagnostics. */
export function helperLoaded(): boolean {
  return typeof take === "function";
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
