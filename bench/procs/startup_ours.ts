/** Start-up case, ours: import the library and print the first matmul result. @module */
import * as tf from "../../mod.ts";

const a = tf.constant([[1, 2], [3, 4]]);
console.log(tf.matmul(a, a).dataSync()[0]);
