/**
 * Run by tests/checkpoint_resume_test.ts as separate processes (a fresh process gives the
 * variables the same names as the run before it): the tfe guide's checkpointing example.
 * A ThreeLayerNet (a Network nesting a TwoLayerNet and a Dense), Adam and the global
 * step, created inside tf.restoreVariablesOnCreate(tf.train.latestCheckpoint(DIR)), train
 * STEPS steps and are saved to DIR; prints JSON: the step and model values found after
 * creation, and every saved variable's values after training.
 *
 * usage: checkpoint_resume.ts DIR STEPS
 */
import * as tf from "../../mod.ts";

class TwoLayerNet extends tf.Network {
  layer1 = this.trackLayer(new tf.layers.Dense(8, { activation: tf.nn.relu }));
  layer2 = this.trackLayer(new tf.layers.Dense(4));
  call(x: tf.Tensor) {
    return this.layer2.apply(this.layer1.apply(x));
  }
}

class ThreeLayerNet extends tf.Network {
  a = this.trackLayer(new TwoLayerNet());
  b = this.trackLayer(new tf.layers.Dense(1));
  call(x: tf.Tensor) {
    return this.b.apply(this.a.apply(x));
  }
}

const [dir, steps] = [Deno.args[0], Number(Deno.args[1])];
tf.random.setSeed(42);
const x = tf.randomUniform([16, 3], { minval: -1, maxval: 1 });
const y = tf.reduceSum(x.square(), 1, { keepDims: true });
const model = new ThreeLayerNet();
const optimizer = new tf.train.AdamOptimizer(0.01);
const values = (vars: tf.Variable[]) =>
  Object.fromEntries(vars.map((v) => [v.name, Array.from(v.dataSync(), Number)]));

const { start, initial, globalStep } = tf.restoreVariablesOnCreate(
  tf.train.latestCheckpoint(dir),
  () => {
    const globalStep = tf.train.getOrCreateGlobalStep();
    const start = Number(globalStep);
    model.apply(x); // creates (restores) the model's variables
    const initial = values(model.variables);
    for (let i = 0; i < steps; i++) {
      optimizer.minimize(() => tf.losses.meanSquaredError(y, model.apply(x)), { globalStep });
    }
    return { start, initial, globalStep };
  },
);
const all = [...model.variables, ...optimizer.variables(), globalStep];
const path = new tf.Saver(all).save(`${dir}/ckpt`, { globalStep });
console.log(JSON.stringify({ path, start, initial, final: values(all) }));
