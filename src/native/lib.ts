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
import { findLibrary, helperBeside, locateLibrary, type Native, openLibrary } from "./loader.ts";
import { BUFFERS } from "./platform.ts";

const found = findLibrary();

function missing(): never {
  throw new Error(
    `libeager: the native library was not found (looked at ${found.looked}).` +
      " Build it with `deno task build`, or import mod.ts, which also looks for a prebuilt one.",
  );
}

let openedPath = found.path;
let helperPath = found.path ? helperBeside(found.path) : undefined;

/** libeager's functions. Until the library is open, any call raises a clear error. */
export let native: Native = found.path
  ? openLibrary(found.path)
  : new Proxy({} as Native, { get: missing });

/** Where the open library is on disk: always a real file, never a virtual one. */
export function libraryPath(): string | undefined {
  return openedPath;
}

/** Where the output buffer helper is on disk, if it was found (src/native/buffers.ts). */
export function helperLibraryPath(): string | undefined {
  return helperPath;
}

/**
 * Opens the prebuilt library when `EAGER_LIB` and the local build had none (loader.ts), and
 * finds its output buffer helper, which is optional: a release without one for this
 * platform, or a damaged one, leaves outputs to V8's zeroed buffers.
 */
export async function ensureLibrary(): Promise<void> {
  if (openedPath) return;
  const path = await locateLibrary();
  native = openLibrary(path);
  openedPath = path;
  helperPath = await locateLibrary({ stem: BUFFERS }).catch(() => undefined);
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
