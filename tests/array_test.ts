import * as tf from "../mod.ts";
import type { DType } from "../mod.ts";
import {
  assertArray,
  assertClose,
  assertEquals,
  assertSame,
  assertStrictEquals,
  assertThrowsMatch,
  deviceDTypes,
  numpyNow,
} from "./helpers.ts";

const ALL_DTYPES: DType[] = ["float32", "float64", "int32", "int64", "uint8", "bool"];

/** [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]] in the given dtype. */
function grid(dtype: DType = "float32"): tf.Tensor {
  return dtype === "bool"
    ? tf.constant(Array.from({ length: 12 }, (_, i) => i % 3 === 0)).reshape([3, 4])
    : tf.constant(Array.from({ length: 12 }, (_, i) => i), dtype).reshape([3, 4]);
}

Deno.test("reshape infers -1, copies only non-contiguous input, and checks sizes", () => {
  const x = tf.range(6);
  assertEquals(tf.reshape(x, [2, -1]).shape, [2, 3]);
  assertStrictEquals(tf.reshape(x, [3, 2]).storage, x.storage); // a view
  assertArray(tf.reshape(grid().transpose(), [-1]), [
    0,
    4,
    8,
    1,
    5,
    9,
    2,
    6,
    10,
    3,
    7,
    11,
  ]);
  assertEquals(tf.reshape(tf.zeros([0, 3]), [3, 0]).shape, [3, 0]);
  assertEquals(tf.reshape(tf.zeros([0, 3]), [-1, 3]).shape, [0, 3]);
  assertThrowsMatch(
    () => tf.reshape(x, [4, -1]),
    /reshape: cannot infer the -1 in \[4,-1\] for a tensor of shape \[6\]/,
  );
  assertThrowsMatch(() => tf.reshape(x, [4]), /reshape: cannot reshape a tensor of shape \[6\]/);
  assertThrowsMatch(() => tf.reshape(x, [-1, -1]), /more than one -1/);
  assertThrowsMatch(() => tf.reshape(x, Array(9).fill(1)), /rank 9 is above/);
});

Deno.test("expandDims, squeeze, transpose", () => {
  const x = grid();
  assertEquals(tf.expandDims(x, 0).shape, [1, 3, 4]);
  assertEquals(tf.expandDims(x, -1).shape, [3, 4, 1]);
  assertArray(tf.expandDims(x, 1), [[[0, 1, 2, 3]], [[4, 5, 6, 7]], [[8, 9, 10, 11]]]);
  assertEquals(tf.squeeze(tf.zeros([1, 3, 1])).shape, [3]);
  assertEquals(tf.squeeze(tf.zeros([1, 3, 1]), [2]).shape, [1, 3]);
  assertThrowsMatch(() => tf.squeeze(x, 0), /squeeze: cannot squeeze axis 0 of size 3/);
  assertArray(tf.transpose(x), [[0, 4, 8], [1, 5, 9], [2, 6, 10], [3, 7, 11]]);
  const y = tf.range(24).reshape([2, 3, 4]);
  assertEquals(tf.transpose(y, [1, 0, 2]).shape, [3, 2, 4]);
  assertArray(tf.transpose(y, [2, 0, 1]).slice([1, 1, 2], [1, 1, 1]), [[[21]]]);
  assertThrowsMatch(
    () => tf.transpose(y, [0, 0, 1]),
    /transpose: perm \[0,0,1\] is not a permutation/,
  );
});

Deno.test("slice and stridedSlice with masks", () => {
  const x = grid();
  assertArray(tf.slice(x, [1, 1], [2, -1]), [[5, 6, 7], [9, 10, 11]]);
  assertEquals(tf.slice(x, [0, 4], [3, 0]).shape, [3, 0]);
  assertThrowsMatch(
    () => tf.slice(x, [2, 0], [2, 1]),
    /slice: begin \[2,0\] and size \[2,1\] are out of bounds/,
  );
  const v = tf.range(6);
  assertArray(tf.stridedSlice(v, [5], [0], [-2]), [5, 3, 1]);
  assertArray(tf.stridedSlice(v, [-2], [100]), [4, 5]);
  assertArray(tf.stridedSlice(v, [0], [0], [-1], { beginMask: 1, endMask: 1 }), [
    5,
    4,
    3,
    2,
    1,
    0,
  ]);
  // x[1:, ::2]
  assertArray(tf.stridedSlice(x, [1, 0], [0, 0], [1, 2], { endMask: 3 }), [[4, 6], [
    8,
    10,
  ]]);
  // x[:, 2] (shrink)
  assertArray(
    tf.stridedSlice(x, [0, 2], [0, 3], [1, 1], { beginMask: 1, endMask: 1, shrinkAxisMask: 2 }),
    [2, 6, 10],
  );
  // x[..., 1] and x[None, 0]
  assertArray(
    tf.stridedSlice(x, [0, 1], [0, 2], [1, 1], { ellipsisMask: 1, shrinkAxisMask: 2 }),
    [1, 5, 9],
  );
  assertEquals(
    tf.stridedSlice(x, [0, 0], [0, 1], [1, 1], { newAxisMask: 1, shrinkAxisMask: 2 }).shape,
    [1, 4],
  );
  assertThrowsMatch(() => tf.stridedSlice(v, [0], [1], [0]), /stridedSlice: strides\[0\] is 0/);
  assertThrowsMatch(
    () => tf.stridedSlice(v, [9], [10], [1], { shrinkAxisMask: 1 }),
    /index 9 is out of bounds/,
  );
});

Deno.test("reverse and broadcastTo are views with the right values", () => {
  const x = grid();
  assertArray(tf.reverse(x, 1), [[3, 2, 1, 0], [7, 6, 5, 4], [11, 10, 9, 8]]);
  assertArray(tf.reverse(x, [0, 1]).slice([0, 0], [1, 2]), [[11, 10]]);
  assertArray(tf.broadcastTo([1, 2], [2, 2]), [[1, 2], [1, 2]]);
  assertArray(tf.broadcastTo(tf.constant([[1], [2]]), [2, 3]), [[1, 1, 1], [2, 2, 2]]);
  assertThrowsMatch(
    () => tf.broadcastTo([1, 2], [3]),
    /broadcastTo: cannot broadcast shape \[2\] to \[3\]/,
  );
});

Deno.test("concat, stack, unstack, split over every dtype", () => {
  for (const dtype of deviceDTypes(ALL_DTYPES)) {
    const x = grid(dtype);
    const rows = tf.unstack(x);
    assertEquals(rows.length, 3);
    assertArray(tf.stack(rows), numpyNow(x));
    assertArray(tf.concat(tf.split(x, 2, 1), 1), numpyNow(x));
    assertEquals(tf.concat([x, x], 0).shape, [6, 4]);
    assertArray(tf.stack(tf.unstack(x, 1), 1), numpyNow(x));
    assertSame(
      tf.concat([x.transpose(), x.transpose()], 1),
      tf.transpose(tf.concat([x, x], 0)),
    );
  }
  assertArray(tf.concat([[1], [2, 3]], 0), [1, 2, 3]);
  assertEquals(tf.concat([tf.constant([1], "int32"), tf.constant([0.5])], 0).dtype, "float32");
  const parts = tf.split([1, 2, 3, 4, 5, 6], [1, -1, 2]);
  [[1], [2, 3, 4], [5, 6]].forEach((want, k) => assertArray(parts[k], want));
  assertThrowsMatch(
    () => tf.concat([[[1, 2]], [[1, 2, 3]]], 0),
    /concat: shapes \[1,2\], \[1,3\] differ outside axis 0/,
  );
  assertThrowsMatch(
    () => tf.split([1, 2, 3], 2),
    /split: cannot split dimension 0 of size 3 into 2/,
  );
  assertThrowsMatch(() => tf.stack([[1, 2], [1]]), /stack: shapes/);
  assertThrowsMatch(() => tf.concat([]), /concat: expected a non-empty array/);
});

Deno.test("tile and pad", () => {
  assertArray(tf.tile([1, 2], [3]), [1, 2, 1, 2, 1, 2]);
  assertArray(tf.tile([[1, 2], [3, 4]], [2, 2]), [
    [1, 2, 1, 2],
    [3, 4, 3, 4],
    [1, 2, 1, 2],
    [3, 4, 3, 4],
  ]);
  assertEquals(tf.tile(tf.constant([[true]]), [1, 0]).shape, [1, 0]);
  assertArray(tf.tile(grid().transpose(), [1, 2]).slice([0, 0], [1, -1]), [[
    0,
    4,
    8,
    0,
    4,
    8,
  ]]);
  assertThrowsMatch(
    () => tf.tile([1, 2], [1, 2]),
    /tile: multiples must have one entry per dimension/,
  );
  assertArray(tf.pad([[1, 2]], [[1, 0], [0, 1]]), [[0, 0, 0], [1, 2, 0]]);
  assertArray(tf.pad(tf.constant([1], "int64"), [[1, 1]], { constantValue: 7 }), [
    7n,
    1n,
    7n,
  ]);
  const m = tf.constant([[1, 2, 3], [4, 5, 6]]);
  assertArray(tf.pad(m, [[1, 1], [2, 2]], { mode: "REFLECT" }), [
    [6, 5, 4, 5, 6, 5, 4],
    [3, 2, 1, 2, 3, 2, 1],
    [6, 5, 4, 5, 6, 5, 4],
    [3, 2, 1, 2, 3, 2, 1],
  ]);
  assertArray(tf.pad(m, [[1, 1], [2, 2]], { mode: "SYMMETRIC" }), [
    [2, 1, 1, 2, 3, 3, 2],
    [2, 1, 1, 2, 3, 3, 2],
    [5, 4, 4, 5, 6, 6, 5],
    [5, 4, 4, 5, 6, 6, 5],
  ]);
  assertThrowsMatch(
    () => tf.pad(m, [[0, 0], [3, 0]], { mode: "REFLECT" }),
    /REFLECT padding \[3, 0\] is too large/,
  );
  assertThrowsMatch(() => tf.pad(m, [[0, 0]]), /pad: paddings must be 2 pairs/);
});

Deno.test("identity and stopGradient keep values in new tensor objects", () => {
  const x = tf.constant([1, 2]);
  const y = tf.identity(x), z = tf.stopGradient(x);
  assertClose(y, [1, 2]);
  assertClose(z, [1, 2]);
  if (y === x || y.id === x.id) throw new Error("identity must return a new tensor");
});

Deno.test("creation ops", () => {
  assertArray(tf.zeros([2]), [0, 0]);
  assertArray(tf.ones([2], "int64"), [1n, 1n]);
  assertArray(tf.fill([2], 7), [7, 7]);
  assertArray(tf.fill([1], true), [true]);
  assertEquals(tf.zerosLike(tf.constant([1, 2], "int32")).dtype, "int32");
  assertArray(tf.onesLike([1, 2], "bool"), [true, true]);
  assertArray(tf.range(5), [0, 1, 2, 3, 4]);
  assertEquals(tf.range(5).dtype, "int32");
  assertArray(tf.range(1, 2, 0.25), [1, 1.25, 1.5, 1.75]);
  assertArray(tf.range(5, 0, -2), [5, 3, 1]);
  assertArray(tf.range(0, 3, 1, "int64"), [0n, 1n, 2n]);
  assertArray(tf.linspace(0, 1, 5), [0, 0.25, 0.5, 0.75, 1]);
  assertArray(tf.linspace(2, 2, 1), [2]);
  assertArray(tf.eye(2, 3), [[1, 0, 0], [0, 1, 0]]);
  assertArray(tf.eye(2, undefined, { batchShape: [2], dtype: "int32" }), [
    [[1, 0], [0, 1]],
    [[1, 0], [0, 1]],
  ]);
  assertThrowsMatch(() => tf.zeros([-1]), /zeros: shape \[-1\] has an invalid dimension -1/);
  assertThrowsMatch(() => tf.zeros([2 ** 20, 2 ** 20]), /zeros: shape .* more than/);
  assertThrowsMatch(() => tf.range(0, 1, 0), /range: delta must not be 0/);
  assertThrowsMatch(() => tf.ones([1], "half" as DType), /ones: unknown dtype/);
});
