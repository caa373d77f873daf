/**
 * The opened native library and the status check every kernel call goes through.
 *
 * NOTE: the library opens synchronously when this module loads (no top-level await:
 * the op modules import each other, and top-level await inside an import cycle can
 * stall module loading) when `EAGER_LIB` or the local build has it. The prebuilt library
 * (embedded in a `deno compile` binary, beside the module in dist/, or downloaded for a URL
 * import) takes asynchronous work: mod.ts awaits ensureLibrary() for that case.
 * @module
 */
import { findLibrary, locateLibrary, type Native, openLibrary } from "./loader.ts";

const found = findLibrary();

function missing(): never {
  throw new Error(
    `libeager: the native library was not found (looked at ${found.looked}).` +
      " Build it with `deno task build`, or import mod.ts, which also looks for a prebuilt one.",
  );
}

let openedPath = found.path;

/** libeager's functions. Until the library is open, any call raises a clear error. */
export let native: Native = found.path
  ? openLibrary(found.path)
  : new Proxy({} as Native, { get: missing });

/** Where the open library is on disk: always a real file, never a virtual one. */
export function libraryPath(): string | undefined {
  return openedPath;
}

/** Opens the prebuilt library when `EAGER_LIB` and the local build had none (loader.ts). */
export async function ensureLibrary(): Promise<void> {
  if (openedPath) return;
  const path = await locateLibrary();
  native = openLibrary(path);
  openedPath = path;
}

const messages = new Map<number, string>();

function statusMessage(status: number): string {
  let message = messages.get(status);
  if (message === undefined) {
    const pointer = native.eager_status_message(status);
    message = pointer ? new Deno.UnsafePointerView(pointer).getCString() : "unknown status";
    messages.set(status, message);
  }
  return message;
}

/** Throws an Error naming the op when a kernel returned a non-zero status. */
export function check(status: number, op: string): void {
  if (status !== 0) throw new Error(`${op}: ${statusMessage(status)}`);
}

/** Threads the kernels use (OpenBLAS keeps its own for matmul). */
export function setNumThreads(n: number): number {
  return native.eager_set_num_threads(n);
}
