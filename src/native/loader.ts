/**
 * Finds and opens libeager. The order is fixed (DESIGN.md section 2):
 * 1. `EAGER_LIB`, a path to the library;
 * 2. the local build, `zig-out/lib/libeager.so` beside this checkout;
 * 3. the user cache, `$XDG_CACHE_HOME/deno-eager/<version>/` (or ~/.cache/...);
 *    when the module was imported from a URL and the cache is empty, the prebuilt
 *    library published beside the module is downloaded once, its sha256 checked
 *    against the published digest, and cached.
 * Nothing else in the project calls Deno.dlopen.
 * @module
 */
import { applyCpuLevel } from "./cpu_level.ts";
import { ABI_VERSION, symbols } from "./ffi.ts";

type Symbols = Deno.DynamicLibrary<typeof symbols>["symbols"];
type WidenBigInt<T> = { [K in keyof T]: T[K] extends bigint ? number | bigint : T[K] };

/**
 * The opened library's functions. int64 parameters take JS numbers (exactly, below
 * 2^53) or bigints: see `withBigIntArgs`.
 */
export type Native = {
  [K in keyof Symbols]: Symbols[K] extends (...args: infer P) => infer R
    ? (...args: WidenBigInt<P>) => R
    : never;
};

const VERSION = "0.1.0";
const LIB_NAME = Deno.build.os === "darwin"
  ? "libeager.dylib"
  : Deno.build.os === "windows"
  ? "eager.dll"
  : "libeager.so";

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // no --allow-env: behave as if unset
  }
}

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function cacheDir(): string | undefined {
  const base = env("XDG_CACHE_HOME") ?? (env("HOME") ? `${env("HOME")}/.cache` : undefined);
  return base ? `${base}/deno-eager/${VERSION}` : undefined;
}

function localBuild(): string | undefined {
  const url = new URL(`../../zig-out/lib/${LIB_NAME}`, import.meta.url);
  return url.protocol === "file:" ? decodeURIComponent(url.pathname) : undefined;
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Downloads the prebuilt library published beside a URL import, once. */
async function fetchPrebuilt(dir: string): Promise<string> {
  const name = `libeager-${Deno.build.os}-${Deno.build.arch}.so`;
  const url = new URL(`../../dist/${name}`, import.meta.url);
  const [lib, sum] = await Promise.all([fetch(url), fetch(`${url}.sha256`)]);
  if (!lib.ok || !sum.ok) {
    throw new Error(`libeager: cannot download ${url} (HTTP ${lib.status}/${sum.status})`);
  }
  const bytes = new Uint8Array(await lib.arrayBuffer());
  const expected = (await sum.text()).trim().split(/\s+/)[0];
  const actual = await sha256Hex(bytes);
  if (actual !== expected) {
    throw new Error(`libeager: ${url} has sha256 ${actual}, expected ${expected}; not cached`);
  }
  Deno.mkdirSync(dir, { recursive: true });
  const path = `${dir}/${LIB_NAME}`;
  const temporary = `${path}.${crypto.randomUUID()}.tmp`;
  Deno.writeFileSync(temporary, bytes, { mode: 0o755 });
  Deno.renameSync(temporary, path);
  return path;
}

/** Where the library is on disk (EAGER_LIB, local build, cache), or why not. */
export function findLibrary(): { path?: string; looked: string } {
  const fromEnv = env("EAGER_LIB");
  if (fromEnv) {
    if (!exists(fromEnv)) throw new Error(`libeager: EAGER_LIB=${fromEnv} does not exist`);
    return { path: fromEnv, looked: fromEnv };
  }
  const local = localBuild();
  const cached = cacheDir() && `${cacheDir()}/${LIB_NAME}`;
  const looked = `EAGER_LIB, ${local ?? "-"} and ${cached ?? "-"}`;
  for (const path of [local, cached]) if (path && exists(path)) return { path, looked };
  return { looked };
}

/** Whether this module was imported from a URL, so a prebuilt library can be fetched. */
export function canFetchPrebuilt(): boolean {
  return /^https?:$/.test(new URL(import.meta.url).protocol) && cacheDir() !== undefined;
}

/** Downloads (once) and returns the path of the prebuilt library for a URL import. */
export function downloadPrebuilt(): Promise<string> {
  return fetchPrebuilt(cacheDir()!);
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
 *   53-59 ms with that, 45-50 ms with 10,000 rounds (docs/design.md has the runs).
 */
const SPIN_LIMITS: Record<string, string> = {
  OPENBLAS_THREAD_TIMEOUT: "21",
  GOMP_SPINCOUNT: "10000",
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

/** Opens the library at `path` and checks that it speaks this ABI. */
export function openLibrary(path: string): Native {
  let library: Deno.DynamicLibrary<typeof symbols>;
  limitIdleSpinning();
  try {
    library = Deno.dlopen(path, symbols);
  } catch (cause) {
    throw new Error(`libeager: cannot open ${path}: ${(cause as Error).message}`, { cause });
  }
  const abi = library.symbols.eager_abi_version();
  if (abi !== ABI_VERSION) {
    library.close();
    throw new Error(
      `libeager: ${path} has ABI version ${abi}, this module needs ${ABI_VERSION}; rebuild it`,
    );
  }
  try {
    applyCpuLevel(library.symbols, path);
  } catch (error) {
    library.close();
    throw error;
  }
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(library.symbols)) {
    wrapped[name] = withBigIntArgs(fn, symbols[name as keyof typeof symbols].parameters);
  }
  return wrapped as Native;
}

/**
 * Deno's fast FFI path takes 64-bit integer arguments as bigints; a JS number there sends
 * the whole call down the slow path (a one-element eager_unary_flat: 208 ns with numbers,
 * 79 ns converting them with BigInt() first, 52 ns with bigint constants). So each symbol
 * with such parameters gets a wrapper of its exact arity that converts them.
 */
function withBigIntArgs(fn: unknown, parameters: readonly string[]): unknown {
  const wide = new Set(["i64", "u64", "isize", "usize"]);
  if (!parameters.some((p) => wide.has(p))) return fn;
  const names = parameters.map((_, i) => `a${i}`);
  const args = parameters.map((p, i) => (wide.has(p) ? `BigInt(a${i})` : `a${i}`));
  // NOTE: generated code, so each wrapper calls with a fixed argument count (no spread),
  // which keeps the call eligible for the fast path.
  return new Function("f", `return (${names.join(", ")}) => f(${args.join(", ")});`)(fn);
}
