/**
 * einsum: values and gradients against TensorFlow (tests/fixtures/einsum.json), gradients
 * and a second derivative against finite differences, and malformed equations.
 */
import * as tf from "../mod.ts";
import { replay } from "./einsum_fixtures.ts";
import { assertClose, assertThrowsMatch } from "./helpers.ts";
import { checkGradients, checkSecondDerivative, rand } from "./grad_helpers.ts";

// int64 products: the WebGPU device has no int64 matmul yet.
replay({ einsum: (xs, a) => tf.einsum(a.equation as string, ...xs) }, undefined, ["int64"]);

Deno.test("einsum: gradients against finite differences (float64)", () => {
  const cases: [string, number[][]][] = [
    ["ij,jk->ik", [[2, 3], [3, 4]]],
    ["bij,bkj->bki", [[2, 2, 3], [2, 4, 3]]],
    ["...ij,...jk->...ik", [[2, 1, 2, 3], [3, 3, 2]]],
    ["ii->i", [[3, 3]]],
    ["iij->j", [[3, 3, 2]]],
    ["ij->", [[2, 3]]],
    ["i,j->ij", [[2], [3]]],
    ["ij,jk,kl->il", [[2, 3], [3, 2], [2, 2]]],
    ["ab,cd,bd->ac", [[2, 3], [2, 2], [3, 2]]],
    ["...i,...i->...", [[2, 1, 3], [4, 3]]],
  ];
  cases.forEach(([eq, shapes], n) => {
    checkGradients((...xs) => tf.einsum(eq, ...xs), shapes.map((s, i) => rand(s, 10 * n + i)));
  });
});

Deno.test("einsum: second derivative (float64)", () => {
  checkSecondDerivative((a, b) => tf.einsum("ij,jk->ik", tf.multiply(a, a), b), [
    rand([2, 3], 1),
    rand([3, 2], 2),
  ]);
  checkSecondDerivative((x) => tf.einsum("ii,ij->j", x, x), rand([3, 3], 3));
});

Deno.test("einsum: two-operand implicit ellipsis output keeps the broadcast dims (NumPy's rule)", () => {
  const a = rand([2, 3, 4], 1), b = rand([4, 5], 2);
  assertClose(tf.einsum("...ij,...jk", a, b), tf.matmul(a, b), { rtol: 1e-12, atol: 1e-12 });
});

Deno.test("einsum: a contraction equals matmul through transposes", () => {
  const a = rand([3, 5, 4], 4), b = rand([3, 6, 5], 5);
  const want = tf.transpose(tf.matmul(b, a), [0, 2, 1]);
  assertClose(tf.einsum("bji,bkj->bik", a, b), want, { rtol: 1e-12, atol: 1e-12 });
});

Deno.test("einsum: malformed equations and operands are errors naming einsum", () => {
  const m = tf.ones([2, 3]), v = tf.ones([3]);
  assertThrowsMatch(() => tf.einsum("ij,jk->ik", m), /^einsum: .*names 2 operand\(s\) but 1/);
  assertThrowsMatch(() => tf.einsum("ij->i", m, m), /^einsum: .*names 1 operand/);
  assertThrowsMatch(() => tf.einsum("i1->i", m), /^einsum: invalid character '1'/);
  assertThrowsMatch(() => tf.einsum("ij->i->j", m), /^einsum: more than one "->"/);
  assertThrowsMatch(() => tf.einsum("ijk->i", m), /^einsum: operand 0 has shape \[2,3\]/);
  assertThrowsMatch(() => tf.einsum("i->i", m), /^einsum: operand 0 has shape/);
  assertThrowsMatch(
    () => tf.einsum("ij,ij->i", m, tf.ones([3, 2])),
    /^einsum: index 'i' has inconsistent sizes 2 and 3/,
  );
  assertThrowsMatch(() => tf.einsum("ii->i", m), /^einsum: index 'i' has inconsistent sizes/);
  assertThrowsMatch(
    () => tf.einsum("ij,ij->ij", tf.ones([1, 3]), m),
    /^einsum: index 'i' has inconsistent sizes 1 and 2/,
  );
  assertThrowsMatch(() => tf.einsum("ij->k", m), /^einsum: output index 'k' is in no input/);
  assertThrowsMatch(() => tf.einsum("ij->ii", m), /^einsum: output index 'i' appears twice/);
  assertThrowsMatch(
    () => tf.einsum("......i->i", v),
    /^einsum: operand 0 has more than one ellipsis/,
  );
  assertThrowsMatch(() => tf.einsum("...i->i", m), /^einsum: the inputs have 1 ellipsis dim/);
  assertThrowsMatch(
    () => tf.einsum("...i,...i->...", tf.ones([2, 3]), tf.ones([4, 3])),
    /^einsum: an ellipsis dim has inconsistent sizes 2 and 4/,
  );
  assertThrowsMatch(
    () => tf.einsum("ij", tf.ones([2, 2], "bool")),
    /^einsum: not defined for bool/,
  );
  assertThrowsMatch(
    () => tf.einsum("i,i", v, tf.ones([3], "float64")),
    /^einsum: operands must share one dtype/,
  );
  assertThrowsMatch(() => tf.einsum("ij"), /^einsum: needs at least one operand/);
});
