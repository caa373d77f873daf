/**
 * The optimizers' one kernel call: a fused, out-of-place update of a variable and
 * its slots (eager_apply_update), so a step over a 3-million-element kernel reads and
 * writes each array once instead of making a dozen intermediate tensors. The variable's
 * new value goes in with Variable.replaceOwned, which frees the previous one when nothing
 * outside the optimizer has seen it; slots nobody else has seen are updated in place.
 * @module
 */
import { backendOfAll } from "../backend/backend.ts";
import { Tensor } from "../tensor.ts";
import type { Variable } from "../variable.ts";

export { UpdateRule } from "../native/codes.ts";

const hyperBuffer = new Float64Array(4);

/**
 * Applies `rule` (eager_update_rule) with `hyper` to `variable`, given `grad` (its dtype
 * and shape; a strided one is copied by dataSync) and the rule's slots in order; assigns the new values to the
 * variable and the slots.
 */
export function applyUpdate(
  op: string,
  rule: number,
  hyper: readonly number[],
  variable: Variable,
  grad: Tensor,
  slots: readonly Variable[],
): void {
  const value = variable.updateInput(), n = value.size, dtype = value.dtype;
  hyperBuffer.fill(0);
  hyperBuffer.set(hyper);
  const slotIns = slots.map((s) => s.updateInput());
  const backend = backendOfAll(op, [value, grad, ...slotIns]);
  const out = backend.allocateOutput(dtype, n, op);
  // Slots nobody else has seen are updated in place (dense: the optimizer made them);
  // otherwise all go to fresh buffers.
  const inPlace = slots.every((s) => s.ownsValue());
  const slotOuts = slotIns.map((s) => inPlace ? s.storage : backend.allocateOutput(dtype, n, op));
  backend.fusedUpdate(op, rule, dtype, n, hyperBuffer, out, value, grad, slotOuts, slotIns);
  if (!inPlace) {
    slots.forEach((s, i) => s.replaceOwned(new Tensor(slotOuts[i], dtype, value.shape)));
  }
  variable.replaceOwned(new Tensor(out, dtype, value.shape));
}
