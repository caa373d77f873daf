/**
 * Tensor lifetimes beyond the garbage collector: the tidy scopes that record the tensors
 * made while they are open, and the tensors whose dispose() does nothing because
 * something long-lived holds them (a Variable's value). src/tidy.ts has the public
 * `tidy` and `keep`; this module imports nothing, so that tensor.ts can use it.
 * @module
 */

/** What a scope records: a tensor, as far as this module needs to know. */
export interface Disposable {
  dispose(): void;
}

/** The open tidy scopes, innermost last: each lists the tensors made while it is open. */
export const scopes: Disposable[][] = [];

/** Records a new tensor in the innermost open scope. */
export function track(t: Disposable): void {
  if (scopes.length !== 0) scopes[scopes.length - 1].push(t);
}

const pinned = new WeakSet<Disposable>();

/** Makes dispose() of `t` do nothing until unpinned: a Variable's current value. */
export function pin(t: Disposable): void {
  pinned.add(t);
}

export function unpin(t: Disposable): void {
  pinned.delete(t);
}

export function isPinned(t: Disposable): boolean {
  return pinned.has(t);
}
