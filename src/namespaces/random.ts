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
// categorical, gamma, poisson, stateless
export { categorical, statelessCategorical } from "../ops/random_more/categorical.ts";
export type {
  CategoricalOptions,
  StatelessCategoricalOptions,
} from "../ops/random_more/categorical.ts";
export { gamma, poisson } from "../ops/random_more/gamma_poisson.ts";
export type { GammaOptions, PoissonOptions } from "../ops/random_more/gamma_poisson.ts";
export { statelessNormal, statelessUniform } from "../ops/random_more/stateless.ts";
export type {
  SeedPair,
  StatelessNormalOptions,
  StatelessUniformOptions,
} from "../ops/random_more/stateless.ts";
