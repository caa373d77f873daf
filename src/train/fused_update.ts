/**
 * The optimizers' one call into libeager: a fused, out-of-place update of a variable and
 * its slots (eager_apply_update), so a step over a 3-million-element kernel reads and
 * writes each array once instead of making a dozen intermediate tensors. The variable's
 * new value goes in with Variable.replaceOwned, which frees the previous one when nothing
 * outside the optimizer has seen it; slots nobody else has seen are updated in place.
 * @module
 */
import { fusedUpdateKernel } from "../backend/cpu/math.ts";
import { allocateOutput } from "../backend/cpu/storage.ts";
import { Tensor } from "../tensor.ts";
import type { Variable } from "../variable.ts";

export { UpdateRule } from "../native/codes.ts";

const hyperBuffer = new Float64Array(4);
const unused = new Float64Array(1);

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
  const out = allocateOutput(dtype, n, op);
  const slotIns = slots.map((s) => s.updateInput().dataSync());
  // Slots nobody else has seen are updated in place; otherwise all go to fresh buffers.
  const inPlace = slots.every((s) => s.ownsValue());
  const slotOuts = inPlace ? slotIns : slots.map(() => allocateOutput(dtype, n, op));
  // grad.dataSync() is a copy when grad is strided.
  const arrays = [out, value.dataSync(), grad.dataSync()];
  fusedUpdateKernel(op, rule, dtype, hyperBuffer, arrays, slotOuts, slotIns, unused);
  if (!inPlace) {
    slots.forEach((s, i) => s.replaceOwned(new Tensor(slotOuts[i], dtype, value.shape)));
  }
  variable.replaceOwned(new Tensor(out, dtype, value.shape));
}
