/**
 * The WebGPU device's searchsorted: csrc/kernels/sort.c's lower / upper bound with the element
 * type's own `<`, one thread a probe. NOTE: float comparisons test NaN by its bits (llvmpipe
 * folds comparisons as if no NaN existed), so a NaN probe goes first (left) or last (right),
 * as on the CPU and in TensorFlow.
 * @module
 */
import type { DType } from "../../dtype.ts";
import type { Tensor } from "../../tensor.ts";
import type { GpuStorage, WebGpuBackend } from "./backend.ts";
import { WORKGROUP } from "./elementwise.ts";
import { declare, deviceType, load, PRELUDE, store } from "./types.ts";

/** a < b in dtype's order, as WGSL over loaded values. */
const LESS: Partial<Record<DType, string>> = {
  float32: "!is_nan_f32(a) && !is_nan_f32(b) && a < b",
  int32: "a < b",
  uint8: "a < b",
  int64: "lt64(a, b)",
};

// p = [rows * m, n, m, sortedOffset, valuesOffset, right]
function shader(dtype: DType, outDtype: DType, less: string): string {
  const value = deviceType(dtype)!.value;
  return `${PRELUDE}
@group(0) @binding(0) var<storage, read> p: array<i32>;
${declare(dtype, "seq", 1)}
${declare(dtype, "probe", 2)}
${declare(outDtype, "out", 3, true)}
fn less(a: ${value}, b: ${value}) -> bool { return ${less}; }

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = i32(id.x + id.y * groups.x * ${WORKGROUP}u);
  if (i >= p[0]) { return; }
  let n = p[1];
  let row = p[3] + (i / p[2]) * n;
  let v = ${load(dtype, "probe", "p[4] + i")};
  var lo = 0;
  var count = n;
  loop {
    if (count <= 0) { break; }
    let step = count / 2;
    let at = lo + step;
    let s = ${load(dtype, "seq", "row + at")};
    if (select(less(s, v), !less(v, s), p[5] == 1)) {
      lo = at + 1;
      count -= step + 1;
    } else {
      count = step;
    }
  }
  ${store(outDtype, "out", "i", outDtype === "int64" ? "vec2<i32>(lo, 0)" : "lo")}
}
`;
}

/** out [rows, m] = insertion points of values [rows, m] in the sorted rows [rows, n]. */
export function searchSorted(
  gpu: WebGpuBackend,
  op: string,
  sorted: Tensor,
  values: Tensor,
  [rows, n, m]: readonly number[],
  right: boolean,
  outDtype: DType,
  out: GpuStorage,
): void {
  const less = LESS[sorted.dtype];
  if (!less) gpu.unsupported(op, `${sorted.dtype} ${op}`);
  const threads = rows * m;
  if (threads === 0) return;
  const words = Int32Array.of(threads, n, m, sorted.offset, values.offset, right ? 1 : 0);
  gpu.dispatch(
    `searchSorted ${sorted.dtype} ${outDtype}`,
    () => shader(sorted.dtype, outDtype, less),
    words,
    threads,
    [sorted.storage as GpuStorage, values.storage as GpuStorage, out],
  );
}
