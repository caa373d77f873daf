import * as tf from "../mod.ts";
import type { DType } from "../mod.ts";
import {
  assertArray,
  assertClose,
  assertEquals,
  assertThrowsMatch,
  ON_WEBGPU,
  randomValues,
  readNow,
} from "./helpers.ts";

/** Reference batched matmul on nested arrays (batch dims already equal). */
function matmulRef(a: number[][], b: number[][]): number[][] {
  return a.map((row) => b[0].map((_, j) => row.reduce((s, v, p) => s + v * b[p][j], 0)));
}

function matrix(rows: number, cols: number, seed: number): number[][] {
  const v = randomValues(rows * cols, seed);
  return Array.from({ length: rows }, (_, i) => v.slice(i * cols, (i + 1) * cols));
}

const transpose = (m: number[][]) => m[0].map((_, j) => m.map((row) => row[j]));

Deno.test("matmul matches the reference for every transpose combination and dtype", () => {
  let seed = 1;
  for (const [m, k, n] of [[1, 1, 1], [2, 3, 4], [5, 1, 3], [1, 7, 1], [17, 9, 13], [64, 33, 20]]) {
    const a = matrix(m, k, seed++), b = matrix(k, n, seed++);
    const want = matmulRef(a, b);
    for (const dtype of ["float32", "float64"] as DType[]) {
      const tol = dtype === "float32" ? { rtol: 1e-5, atol: 1e-5 } : { rtol: 1e-12, atol: 1e-12 };
      const A = tf.constant(a, dtype), B = tf.constant(b, dtype);
      const At = tf.constant(transpose(a), dtype), Bt = tf.constant(transpose(b), dtype);
      assertClose(tf.matmul(A, B), want, tol);
      assertClose(tf.matmul(At, B, { transposeA: true }), want, tol);
      assertClose(tf.matmul(A, Bt, { transposeB: true }), want, tol);
      assertClose(tf.matmul(At, Bt, { transposeA: true, transposeB: true }), want, tol);
      // Transposed views reach BLAS as flags; reversed views are copied first.
      assertClose(tf.matmul(At.transpose(), Bt.transpose()), want, tol);
      assertClose(tf.matmul(tf.reverse(tf.reverse(A, 1), 1), B), want, tol);
    }
  }
});

Deno.test("large batched outputs (zeroed before BLAS accumulates) match the reference", () => {
  // 2 x 130 x 127 float64 = 264 KB and float32 = 132 KB: past matmul.c's ZERO_FIRST_BYTES,
  // so BLAS adds into an output cleared by memset (the suite poisons fresh outputs).
  const [m, k, n] = [130, 9, 127];
  const a = [matrix(m, k, 41), matrix(m, k, 42)], b = [matrix(k, n, 43), matrix(k, n, 44)];
  const want = [matmulRef(a[0], b[0]), matmulRef(a[1], b[1])];
  for (const dtype of ["float32", "float64"] as DType[]) {
    const tol = dtype === "float32" ? { rtol: 1e-5, atol: 1e-5 } : { rtol: 1e-12, atol: 1e-12 };
    assertClose(tf.matmul(tf.constant(a, dtype), tf.constant(b, dtype)), want, tol);
    // One b for both batch entries (broadcast): each entry still starts from zero.
    assertClose(tf.matmul(tf.constant(a, dtype), tf.constant(b[0], dtype)), [
      want[0],
      matmulRef(a[1], b[0]),
    ], tol);
  }
});

Deno.test("float32 products over a short inner dim into a large output match the reference", () => {
  // k <= 128, n a multiple of 16 and an output of at least 1 MiB: csrc/kernels/matmul_short.c (as a
  // dense layer's weight gradient, x^T dy). 261 rows: a last block of 5; 1040 columns:
  // 32-column tiles and one of 16.
  const [m, k, n] = [261, 37, 1040];
  const a = matrix(m, k, 51), b = matrix(k, n, 52), a2 = matrix(m, k, 53);
  const want = matmulRef(a, b);
  const tol = { rtol: 1e-5, atol: 1e-5 };
  const A = tf.constant(a, "float32"), B = tf.constant(b, "float32");
  assertClose(tf.matmul(A, B), want, tol);
  assertClose(tf.matmul(tf.constant(transpose(a), "float32"), B, { transposeA: true }), want, tol);
  // A batch of two a's over one b (broadcast).
  assertClose(tf.matmul(tf.constant([a, a2], "float32"), B), [want, matmulRef(a2, b)], tol);
  // b as the left columns of a wider matrix: a row stride longer than its width.
  const wide = tf.constant(b.map((row, i) => [...row, ...matrix(1, 16, 60 + i)[0]]), "float32");
  assertClose(tf.matmul(A, tf.slice(wide, [0, 0], [k, n])), want, tol);
});

Deno.test("integer matmul", () => {
  const a = tf.constant([[1, 2], [3, 4]], "int32");
  assertArray(tf.matmul(a, a), [[7, 10], [15, 22]]);
  assertArray(tf.matmul(a, a, { transposeA: true }), [[10, 14], [14, 20]]);
  // int64 products are the CPU's only (the WebGPU device names the op and dtype).
  if (ON_WEBGPU) {
    assertThrowsMatch(() => tf.matmul(tf.constant([[2n]]), tf.constant([[3n]])), /int64 matmul/);
  } else {
    assertArray(tf.matmul(tf.constant([[2n]]), tf.constant([[3n]])), [[6n]]);
  }
  assertThrowsMatch(() => tf.matmul([[true]], [[true]]), /matmul: not defined for bool/);
});

Deno.test("batched matmul broadcasts batch dims", () => {
  const a = randomValues(2 * 3 * 4, 5), b = randomValues(4 * 5, 6);
  const A = tf.constant(a).reshape([2, 3, 4]), B = tf.constant(b).reshape([4, 5]);
  const out = tf.matmul(A, B);
  assertEquals(out.shape, [2, 3, 5]);
  for (let i = 0; i < 2; i++) {
    assertClose(
      out.slice([i, 0, 0], [1, -1, -1]).reshape([3, 5]),
      tf.matmul(A.slice([i, 0, 0], [1, -1, -1]).reshape([3, 4]), B),
      { rtol: 1e-6 },
    );
  }
  const C = tf.constant(randomValues(3 * 1 * 2 * 4, 7)).reshape([3, 1, 2, 4]);
  const D = tf.constant(randomValues(5 * 4 * 6, 8)).reshape([5, 4, 6]);
  const cd = tf.matmul(C, D);
  assertEquals(cd.shape, [3, 5, 2, 6]);
  assertClose(
    cd.slice([2, 4, 0, 0], [1, 1, -1, -1]).reshape([2, 6]),
    tf.matmul(
      C.slice([2, 0, 0, 0], [1, 1, -1, -1]).reshape([2, 4]),
      D.slice([4, 0, 0], [1, -1, -1]).reshape([4, 6]),
    ),
    { rtol: 1e-6 },
  );
  assertEquals(tf.matmul(tf.zeros([0, 2, 3]), tf.zeros([3, 4])).shape, [0, 2, 4]);
  assertClose(tf.matmul(tf.ones([2, 0]), tf.ones([0, 3])), [[0, 0, 0], [0, 0, 0]]);
});

Deno.test("matmul errors name the op and shapes", () => {
  assertThrowsMatch(
    () => tf.matmul(tf.zeros([2, 3]), tf.zeros([4, 5])),
    /matmul: inner dimensions differ: \[2,3\] x \[4,5\]/,
  );
  assertThrowsMatch(() => tf.matmul([1, 2], [[1], [2]]), /matmul: both operands need rank >= 2/);
  assertThrowsMatch(
    () => tf.matmul(tf.zeros([2, 2, 3]), tf.zeros([3, 3, 1])),
    /matmul: shapes \[2\] and \[3\] cannot be broadcast/,
  );
});

Deno.test("tensordot", () => {
  assertClose(tf.tensordot([[1, 2], [3, 4]], [1, 1], 1), [3, 7]);
  const a = tf.constant(randomValues(24, 9)).reshape([2, 3, 4]);
  const b = tf.constant(randomValues(12, 10)).reshape([4, 3]);
  const got = tf.tensordot(a, b, [[1, 2], [1, 0]]);
  assertEquals(got.shape, [2]);
  const want = [0, 1].map((i) => {
    let s = 0;
    for (let j = 0; j < 3; j++) {
      for (let k = 0; k < 4; k++) {
        s += (readNow(a) as Float32Array)[(i * 3 + j) * 4 + k] *
          (readNow(b) as Float32Array)[k * 3 + j];
      }
    }
    return s;
  });
  assertClose(got, want, { rtol: 1e-5 });
  assertClose(tf.tensordot([1, 2], [3, 4], 0), [[3, 4], [6, 8]]);
  assertThrowsMatch(() => tf.tensordot([1, 2], [1, 2, 3], 1), /tensordot: dimension 0/);
});
