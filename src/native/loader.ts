/**
 * Finds and opens libeager. The order is fixed:
 * 1. `EAGER_LIB`, a path to the library;
 * 2. the local build, `zig-out/lib/libeager.so` beside this checkout (not inside a
 *    `deno compile` binary, where that path is in Deno's virtual file system);
 * 3. the prebuilt library, which `locateLibrary` finds (asynchronously: mod.ts awaits it):
 *    - in a `deno compile` binary, the library embedded with `--include`, copied to the
 *      user cache under its sha256 (the dynamic loader needs a real file);
 *    - for a `file:` import, `dist/<platform file>` beside the module, checked against the
 *      digest pinned in src/native/prebuilt.ts;
 *    - for an `http(s):` import, the user cache (`$XDG_CACHE_HOME/deno-eager/<version>/` or
 *      `~/.cache/...`), checked against the pinned digest on every load; when it is missing
 *      or damaged, `dist/<platform file>` is downloaded from beside the module once,
 *      checked, and cached.
 * Every file is checked to be a shared library for this OS and architecture before
 * Deno.dlopen sees it (library_file.ts). Nothing else in the project calls Deno.dlopen.
 * The output buffer helper, libeager_buffers (csrc/buffers/), is found the same way: beside
 * the library of steps 1-2 (`helperBeside`), or prebuilt in step 3 (`{ stem: BUFFERS }`). It
 * is optional: without it outputs are V8's zeroed buffers (src/native/buffers.ts).
 * @module
 */
import { applyCpuLevel } from "./cpu_level.ts";
import { env } from "../env.ts";
import { ABI_VERSION, symbols } from "./ffi.ts";
import { cachedDownload, cacheRoot, hasDigest, materializeLibrary } from "./library_cache.ts";
import { checkLibraryFile } from "./library_file.ts";
import {
  BUFFERS,
  buildName,
  KERNELS,
  type LibraryStem,
  platformLabel,
  type PrebuiltDigest,
  prebuiltName,
} from "./platform.ts";
import { PREBUILT, PREBUILT_VERSION } from "./prebuilt.ts";

type Symbols = Deno.DynamicLibrary<typeof symbols>["symbols"];
type WidenBigInt<T> = { [K in keyof T]: T[K] extends bigint ? number | bigint : T[K] };

/**
 * The opened library's functions. int64 parameters take JS numbers (exactly, below
 * 2^53) or bigints: see `lazySymbol`.
 */
export type Native = {
  [K in keyof Symbols]: Symbols[K] extends (...args: infer P) => infer R
    ? (...args: WidenBigInt<P>) => R
    : never;
};

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** A file path for a `file:` URL relative to this module, or undefined for a remote one. */
function localPath(relative: string, moduleUrl: string): string | undefined {
  const url = new URL(relative, moduleUrl);
  return url.protocol === "file:" ? decodeURIComponent(url.pathname) : undefined;
}

/** Whether this process is a `deno compile` binary. */
function standalone(): boolean {
  return Deno.build.standalone === true;
}

/**
 * Where the library is on disk without looking further than this checkout: `EAGER_LIB` or
 * the local build. `looked` lists the places, for the message when none has it.
 */
export function findLibrary(): { path?: string; looked: string } {
  const fromEnv = env("EAGER_LIB");
  if (fromEnv) {
    if (!exists(fromEnv)) throw new Error(`libeager: EAGER_LIB=${fromEnv} does not exist`);
    return { path: fromEnv, looked: fromEnv };
  }
  const local = standalone()
    ? undefined
    : localPath(`../../zig-out/lib/${buildName()}`, import.meta.url);
  if (local && exists(local)) return { path: local, looked: local };
  return { looked: `EAGER_LIB, ${local ?? "no local build"}` };
}

/** What locateLibrary works from; tests pass their own. */
export interface LocateOptions {
  /** The URL the library's files are relative to (default: this module's). */
  moduleUrl?: string;
  /** Whether this is a `deno compile` binary (default: Deno.build.standalone). */
  standalone?: boolean;
  /** The cache folder (default: cacheRoot()). */
  cacheRoot?: string;
  /** The pinned digests, by file name (default: src/native/prebuilt.ts). */
  prebuilt?: Readonly<Record<string, PrebuiltDigest>>;
  /** The cache's version folder (default: the release's version). */
  version?: string;
  /** Which library: the kernels (default) or the output buffer helper. */
  stem?: LibraryStem;
}

/**
 * The output buffer helper beside a kernels library found on disk (EAGER_LIB or the local
 * build): the same folder, named as that file is (built or prebuilt); undefined when absent.
 */
export function helperBeside(kernels: string): string | undefined {
  const dir = kernels.slice(0, kernels.lastIndexOf("/") + 1);
  const prebuilt = kernels.slice(dir.length) === prebuiltName();
  const path = dir +
    (prebuilt ? prebuiltName(undefined, undefined, BUFFERS) : buildName(undefined, BUFFERS));
  return exists(path) ? path : undefined;
}

function pinnedDigest(
  prebuilt: Readonly<Record<string, PrebuiltDigest>>,
  name: string,
): PrebuiltDigest {
  const digest = prebuilt[name];
  if (digest) return digest;
  const platforms = Object.keys(prebuilt).join(", ") || "none";
  throw new Error(
    `libeager: no prebuilt library for ${platformLabel()} (this release has: ${platforms}); ` +
      "build it from source (deno task build) and set EAGER_LIB to its path",
  );
}

function needCache(root: string | undefined): string {
  if (root) return root;
  throw new Error(
    "libeager: no cache folder for the prebuilt library: set XDG_CACHE_HOME or HOME " +
      "(and allow reading them: --allow-env)",
  );
}

/** Step 3 inside a `deno compile` binary: the embedded library, copied to a real file. */
async function embeddedLibrary(
  base: URL,
  cache: string | undefined,
  stem: LibraryStem,
): Promise<string> {
  const embedded = localPath(`zig-out/lib/${buildName(undefined, stem)}`, base.href)!;
  if (!exists(embedded)) {
    throw new Error(
      `libeager: this binary embeds no ${embedded}; compile it with ` +
        "--include zig-out/lib/ (deno task compile does)",
    );
  }
  return await materializeLibrary(embedded, needCache(cache), buildName(undefined, stem));
}

/** Step 3 for a `file:` import: dist/ beside the tree, used in place once it matches. */
async function besideLibrary(
  base: URL,
  prebuilt: Readonly<Record<string, PrebuiltDigest>>,
  stem: LibraryStem,
): Promise<string> {
  const name = prebuiltName(undefined, undefined, stem);
  const beside = localPath(`dist/${name}`, base.href)!;
  if (!exists(beside)) {
    const local = localPath(`zig-out/lib/${buildName(undefined, stem)}`, base.href);
    throw new Error(
      `libeager: the native library was not found (looked at EAGER_LIB, ${local} and ` +
        `${beside}); build it with \`deno task build\``,
    );
  }
  if (!await hasDigest(beside, pinnedDigest(prebuilt, name))) {
    throw new Error(
      `libeager: ${beside} does not match the sha256 pinned in src/native/prebuilt.ts`,
    );
  }
  return beside;
}

/**
 * The path of the prebuilt library for this platform (see the module's order, step 3),
 * downloading and caching it if need be. Throws an Error saying what was wrong.
 */
export async function locateLibrary(options: LocateOptions = {}): Promise<string> {
  const base = new URL("../../", options.moduleUrl ?? import.meta.url);
  const prebuilt = options.prebuilt ?? PREBUILT;
  const cache = options.cacheRoot ?? cacheRoot();
  const stem = options.stem ?? KERNELS;
  if (base.protocol === "file:") {
    return await (options.standalone ?? standalone()
      ? embeddedLibrary(base, cache, stem)
      : besideLibrary(base, prebuilt, stem));
  }
  if (base.protocol !== "http:" && base.protocol !== "https:") {
    throw new Error(`libeager: cannot fetch a prebuilt library for a module under ${base}`);
  }
  const name = prebuiltName(undefined, undefined, stem);
  const digest = pinnedDigest(prebuilt, name);
  const dir = `${needCache(cache)}/${options.version ?? PREBUILT_VERSION}`;
  return await cachedDownload(new URL(`dist/${name}`, base), digest, dir, name);
}

/**
 * The GEMM libraries' idle threads spin after each product before they sleep, and between
 * the GEMMs of a training step our own pool runs the conv and elementwise kernels: on a
 * machine with few cores the spinning threads take CPU from it. Both libraries read their
 * variable once, when they load (OpenBLAS at the first product, oneDNN's OpenMP runtime at
 * the first large float32 one: csrc/blas.c), so they are set here unless the user set them
 * (and left alone without env permission).
 * - OPENBLAS_THREAD_TIMEOUT: OpenBLAS spins (sched_yield) for 2^28 cycles, about 80 ms,
 *   by default. The MNIST step took 91 ms with that and 71 ms with 2^21 cycles (0.6 ms),
 *   while back-to-back GEMMs (the 256x256 matmul case) kept their speed.
 * - GOMP_SPINCOUNT: GNU OpenMP spins 300,000 rounds by default. The MNIST step took
 *   53-59 ms with that, 45-50 ms with 10,000 rounds; 1,000 left MNIST as it was and made the
 *   PTB step (small products on oneDNN between our kernels) 4-5% quicker (docs/design.md).
 */
const SPIN_LIMITS: Record<string, string> = {
  OPENBLAS_THREAD_TIMEOUT: "21",
  GOMP_SPINCOUNT: "1000",
};

function limitIdleSpinning(): void {
  for (const [variable, value] of Object.entries(SPIN_LIMITS)) {
    try {
      if (Deno.permissions.querySync({ name: "env", variable }).state !== "granted") continue;
      if (Deno.env.get(variable) === undefined) Deno.env.set(variable, value);
    } catch {
      // Permission APIs unavailable: keep the library's default.
    }
  }
}

/**
 * Every library opened, kept reachable for the life of the process so that nothing closes it
 * while its functions are in use. NOTE: libeager also pins itself once its pool threads start
 * (csrc/thread_pool.c): Deno closes its libraries at exit, and unmapping the code those threads
 * live in crashed about 1 exit in 15 (SIGSEGV at an unmapped address).
 */
const openLibraries: Deno.DynamicLibrary<Record<string, Deno.ForeignFunction>>[] = [];

/**
 * Opens the library at `path` and checks that it speaks this ABI. Its functions are bound
 * one by one, each at its first call (`lazySymbols`).
 */
export function openLibrary(path: string): Native {
  limitIdleSpinning();
  checkLibraryFile(path);
  let probe: Deno.DynamicLibrary<Pick<typeof symbols, "eager_abi_version">>;
  try {
    probe = Deno.dlopen(path, { eager_abi_version: symbols.eager_abi_version });
  } catch (cause) {
    throw new Error(`libeager: cannot open ${path}: ${(cause as Error).message}`, { cause });
  }
  // Kept open like every binding below: closing the last handle would unload the library.
  openLibraries.push(probe);
  const abi = probe.symbols.eager_abi_version();
  if (abi !== ABI_VERSION) {
    throw new Error(
      `libeager: ${path} has ABI version ${abi}, this module needs ${ABI_VERSION}; rebuild it`,
    );
  }
  const native = lazySymbols(path);
  applyCpuLevel(native, path);
  return native;
}

/**
 * Every function of the symbol table as a stub that binds it (a Deno.dlopen of that one
 * symbol) at its first call. NOTE: Deno compiles a fast-call trampoline for every symbol it
 * binds, about 0.45 ms each here: binding all 69 at once took 31 ms of a fresh process's
 * 100-150 ms import (70-75 ms without it; 45-51 ms with Node's modules loaded at first use
 * too, src/node_builtins.ts), and a script calls a few of them. Each stub stays in the
 * table for good (replacing it made V8 treat the table's fields as mutable: 100 one-element
 * unary ops 10-15% slower), so it must cost nothing once bound: see `lazySymbol`.
 */
function lazySymbols(path: string): Native {
  const table: Record<string, unknown> = {};
  for (const name of Object.keys(symbols) as (keyof typeof symbols)[]) {
    table[name] = lazySymbol(symbols[name].parameters, () => bindSymbol(path, name));
  }
  return table as Native;
}

function bindSymbol(path: string, name: keyof typeof symbols): unknown {
  let library: Deno.DynamicLibrary<Record<string, Deno.ForeignFunction>>;
  try {
    library = Deno.dlopen(path, { [name]: symbols[name] as Deno.ForeignFunction });
  } catch (cause) {
    throw new Error(`libeager: cannot bind ${name} in ${path}: ${(cause as Error).message}`, {
      cause,
    });
  }
  openLibraries.push(library);
  return library.symbols[name];
}

const WIDE = new Set(["i64", "u64", "isize", "usize"]);

/**
 * A function of exactly the symbol's arity that binds it at the first call and then calls
 * it. NOTE: generated code, so that the call has a fixed argument count (no spread), which
 * keeps it on Deno's fast path; and 64-bit integer parameters are converted with BigInt():
 * the fast path takes them as bigints, and a JS number there sends the whole call down the
 * slow path (a one-element eager_unary_flat: 208 ns with numbers, 79 ns converting them,
 * 52 ns with bigint constants).
 */
function lazySymbol(parameters: readonly string[], bind: () => unknown): unknown {
  const names = parameters.map((_, i) => `a${i}`);
  const args = parameters.map((p, i) => (WIDE.has(p) ? `BigInt(a${i})` : `a${i}`));
  return new Function(
    "bind",
    `let f; return (${names.join(", ")}) => (f ??= bind())(${args.join(", ")});`,
  )(bind);
}
