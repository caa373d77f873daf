/**
 * Node's built-in modules, each loaded at its first use. NOTE: the first `node:` module a
 * process imports starts Deno's Node compatibility layer (17-20 ms on the 2-core EPYC, and
 * node:zlib 5-8 ms more), so a static import made every program pay it at `import`, whether
 * it compresses anything or loads the output buffer helper or not. `process` is Deno's global,
 * started at its first access.
 * @module
 */
type NodeProcess = typeof import("node:process");
type NodeZlib = typeof import("node:zlib");

/** Node's `process` (src/native/buffers.ts loads a Node-API module with it). */
export function nodeProcess(): NodeProcess {
  return globalThis.process as NodeProcess;
}

let zlib: NodeZlib | undefined;

/** node:zlib: deflate for PNG summaries, inflate for PNG decoding, zip and gzip files. */
export function nodeZlib(): NodeZlib {
  return zlib ??= nodeProcess().getBuiltinModule("node:zlib") as NodeZlib;
}
