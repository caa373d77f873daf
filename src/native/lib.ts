/**
 * The opened native library and the status check every kernel call goes through.
 * @module
 */
import { type Native, openLibrary } from "./loader.ts";

/** libeager's functions, opened once when the module loads. */
export const native: Native = await openLibrary();

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
