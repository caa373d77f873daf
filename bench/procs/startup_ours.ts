/**
 * Start-up case, ours: import the library and print the first matmul result: of
 * [[1, 2], [3, 4]], or with an argument n, of an n x n matrix of 0.5s.
 * @module
 */
import * as tf from "../../mod.ts";

const n = Number(Deno.args[0] ?? 2);
const a = n === 2 ? tf.constant([[1, 2], [3, 4]]) : tf.fill([n, n], 0.5);
console.log(tf.matmul(a, a).dataSync()[0]);
