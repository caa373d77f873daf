/**
 * `tf.random`: the seed and TensorFlow 2's short names of the random ops
 * (`tf.random.uniform` is tf.randomUniform, and so on).
 * @module
 */
export {
  randomNormal as normal,
  randomShuffle as shuffle,
  randomUniform as uniform,
  setSeed,
  truncatedNormal,
} from "../ops/random.ts";
// -- categorical, gamma, poisson, stateless (helper E) --
