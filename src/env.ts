/**
 * Environment reads for the library's settings (the loader's, the WebGPU device's): a
 * variable, or undefined when it is unset or when the process may not read it (no
 * --allow-env), which are treated alike.
 * @module
 */

/** The value of environment variable `name`, or undefined (unset, or not permitted). */
export function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // no --allow-env: behave as if unset
  }
}
