/**
 * Counts and times every method call of the CPU backend while instrumented, for the
 * profiling scripts (bench/profile_*.ts): `const probe = instrumentBackend(); ...;
 * probe.restore()`, then `probe.calls` maps each method to [calls, milliseconds].
 * @module
 */
import { cpuBackend } from "../src/backend/cpu/backend.ts";

/** An instrumented CPU backend: its calls so far, and the way back. */
export interface BackendProbe {
  calls: Map<string, [number, number]>;
  restore(): void;
}

/** Wraps every method of the CPU backend to count and time it, until restore(). */
export function instrumentBackend(): BackendProbe {
  const calls = new Map<string, [number, number]>();
  const backend = cpuBackend as unknown as Record<string, unknown>;
  const saved = new Map<string, unknown>();
  for (const [name, method] of Object.entries(backend)) {
    if (typeof method !== "function") continue;
    saved.set(name, method);
    backend[name] = function (this: unknown, ...args: unknown[]) {
      const start = performance.now();
      try {
        return (method as (...a: unknown[]) => unknown).apply(this, args);
      } finally {
        const entry = calls.get(name) ?? [0, 0];
        entry[0]++;
        entry[1] += performance.now() - start;
        calls.set(name, entry);
      }
    };
  }
  return {
    calls,
    restore() {
      for (const [name, method] of saved) backend[name] = method;
    },
  };
}
