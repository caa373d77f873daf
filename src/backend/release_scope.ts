/**
 * Release scopes: proof that storage can be freed before a garbage collection. A scope
 * records the releasable storage that any backend allocated while it was open; the gradient
 * code (src/backprop.ts, src/train/optimizer.ts) frees a dead gradient's storage at once when
 * its scope saw it born, since nothing outside that computation can hold it. Backends call
 * `noteBorn` with their storage's identity (`Backend.storageKey`): the CPU's ArrayBuffer of a
 * large buffer, a device's buffer object. This module imports nothing at run time.
 * @module
 */
import type { Tensor } from "../tensor.ts";

/** Records the releasable storage allocated while it is open (see `inReleaseScope`). */
export class ReleaseScope {
  readonly born: Set<object> = new Set();
}

let openScopes: ReleaseScope[] = [];

/** Runs fn with `scope` recording the releasable storage allocated meanwhile. */
export function inReleaseScope<T>(scope: ReleaseScope, fn: () => T): T {
  const outer = openScopes;
  openScopes = [...outer, scope];
  try {
    return fn();
  } finally {
    openScopes = outer;
  }
}

/** Called by a backend for each releasable storage it allocates (its `storageKey`). */
export function noteBorn(key: object): void {
  for (const scope of openScopes) scope.born.add(key);
}

/** The identity of t's storage if its backend can free it early; undefined otherwise. */
export function releaseKey(t: Tensor): object | undefined {
  return t.backend.storageKey(t.storage);
}

/**
 * Frees t's storage now if `scope` saw it born, and returns whether it did. NOTE: the caller
 * guarantees that nothing else holds the storage: every view of it reads as empty afterwards.
 */
export function release(scope: ReleaseScope, t: Tensor): boolean {
  const key = releaseKey(t);
  return key !== undefined && scope.born.delete(key) && t.backend.free(t.storage);
}
