/**
 * tf.Network: the TensorFlow eager guide's TwoLayerNet and ThreeLayerNet, tfe.Network's
 * naming (see src/layers/network.ts), layer tracking, errors, and training a network.
 *
 * NOTE: top-level networks are named from process-wide counters, so the tests that check
 * exact names come first in this file and no network is made at module level.
 */
import * as tf from "../mod.ts";
import {
  assertClose,
  assertEquals,
  assertStrictEquals,
  assertThrowsMatch,
  flat,
} from "./helpers.ts";

class TwoLayerNet extends tf.Network {
  layer1 = this.trackLayer(new tf.layers.Dense(2, { activation: tf.nn.relu, useBias: false }));
  layer2 = this.trackLayer(new tf.layers.Dense(3, { useBias: false }));
  call(x: tf.Tensor) {
    return this.layer2.apply(this.layer1.apply(x));
  }
}

class ThreeLayerNet extends tf.Network {
  a = this.trackLayer(new TwoLayerNet());
  b = this.trackLayer(new tf.layers.Dense(4, { useBias: false }));
  call(x: tf.Tensor) {
    return this.b.apply(this.a.apply(x));
  }
}

/** A tensor's or variable's values as numbers. */
const nums = (t: tf.Tensor | tf.Variable) => flat(t instanceof tf.Variable ? t.read() : t).values;
const names = (net: tf.layers.AnyLayer) => net.variables.map((v) => v.name);
const shapes = (net: tf.layers.AnyLayer) => net.variables.map((v) => [...v.shape]);

Deno.test("the guide's TwoLayerNet: lazy variables, shapes, names", () => {
  // Layers made elsewhere do not shift the names inside a network.
  new tf.layers.Dense(1).apply([[1]]);
  new tf.layers.Dense(1);
  const net = new TwoLayerNet();
  // No variables created yet, and no name until the network is first applied.
  assertStrictEquals(net.variables.length, 0);
  assertStrictEquals(net.built, false);
  assertThrowsMatch(() => net.name, /^two_layer_net: this Network has no name yet/);
  // They are created on first input: [1, 1] @ [1, 2] @ [2, 3].
  const inp = tf.constant([[1]]);
  const out = net.apply(inp);
  assertEquals([...out.shape], [1, 3]);
  assertStrictEquals(net.built, true);
  assertStrictEquals(net.layer1.variables.length, 1);
  assertStrictEquals(net.layer2.variables.length, 1);
  assertStrictEquals(net.variables.length, 2);
  assertEquals(shapes(net), [[1, 2], [2, 3]]);
  assertStrictEquals(net.variables[0], net.layer1.kernel);
  assertStrictEquals(net.variables[1], net.layer2.kernel);
  assertStrictEquals(net.name, "two_layer_net");
  assertEquals([net.layer1.name, net.layer2.name], ["dense", "dense_1"]);
  assertEquals(names(net), ["two_layer_net/dense/kernel", "two_layer_net/dense_1/kernel"]);
  assertEquals(net.trainableVariables, net.variables);
  assertStrictEquals(net.nonTrainableVariables.length, 0);
  // The output is relu(x @ W1) @ W2.
  const expected = tf.matmul(tf.nn.relu(tf.matmul(inp, net.layer1.kernel!)), net.layer2.kernel!);
  assertClose(out, expected);
  net.layer1.kernel!.assign([[1, -1]]);
  net.layer2.kernel!.assign([[1, 2, 3], [4, 5, 6]]);
  assertClose(net.apply([[2]]), [[2, 4, 6]]);
  // Later applies create nothing new.
  net.apply(tf.ones([5, 1]));
  assertStrictEquals(net.variables.length, 2);

  // A second instance gets the next name; its layers are named within it.
  const second = new TwoLayerNet();
  second.apply(inp);
  assertStrictEquals(second.name, "two_layer_net_1");
  assertEquals(names(second), ["two_layer_net_1/dense/kernel", "two_layer_net_1/dense_1/kernel"]);
  assertStrictEquals(second.variables[0] === net.variables[0], false);
});

Deno.test("the guide's ThreeLayerNet nests a TwoLayerNet and a Dense", () => {
  const net = new ThreeLayerNet();
  assertStrictEquals(net.variables.length, 0);
  const inp = tf.constant([[1]]);
  const out = net.apply(inp);
  assertEquals([...out.shape], [1, 4]);
  assertStrictEquals(net.variables.length, 3);
  assertEquals(shapes(net), [[1, 2], [2, 3], [3, 4]]);
  assertStrictEquals(net.name, "three_layer_net");
  assertStrictEquals(net.a.name, "two_layer_net");
  assertStrictEquals(net.b.name, "dense");
  assertEquals(names(net), [
    "three_layer_net/two_layer_net/dense/kernel",
    "three_layer_net/two_layer_net/dense_1/kernel",
    "three_layer_net/dense/kernel",
  ]);
  assertStrictEquals(net.a.scopeName, "three_layer_net/two_layer_net");
  assertEquals(net.layers, [net.a, net.b]);
  assertEquals(net.variables, [...net.a.variables, ...net.b.variables]);
  const expected = tf.matmul(
    tf.matmul(tf.nn.relu(tf.matmul(inp, net.a.layer1.kernel!)), net.a.layer2.kernel!),
    net.b.kernel!,
  );
  assertClose(out, expected);

  const again = new ThreeLayerNet();
  again.apply(inp);
  assertEquals(names(again), [
    "three_layer_net_1/two_layer_net/dense/kernel",
    "three_layer_net_1/two_layer_net/dense_1/kernel",
    "three_layer_net_1/dense/kernel",
  ]);
});

Deno.test("explicit names are kept; applying a tracked layer names its network", () => {
  class Named extends tf.Network {
    logits = this.trackLayer(new tf.layers.Dense(2, { name: "logits" }));
    hidden = this.trackLayer(new tf.layers.Dense(2));
    call(x: tf.Tensor) {
      return this.logits.apply(this.hidden.apply(x));
    }
  }
  const byOption = new Named({ name: "my_net" });
  assertStrictEquals(byOption.name, "my_net");
  byOption.apply([[1, 2]]);
  assertEquals(names(byOption), [
    "my_net/logits/kernel",
    "my_net/logits/bias",
    "my_net/dense/kernel",
    "my_net/dense/bias",
  ]);
  const byString = new Named("other_net");
  byString.apply([[1, 2]]);
  assertStrictEquals(byString.variables[0].name, "other_net/logits/kernel");

  // Building one tracked layer on its own fixes the network's name and scope first.
  const net = new Named();
  net.hidden.apply([[1, 2, 3]]);
  assertStrictEquals(net.name, "named");
  assertEquals(names(net), ["named/dense/kernel", "named/dense/bias"]);
  net.apply([[1, 2, 3]]);
  assertStrictEquals(net.variables.length, 4);
  assertStrictEquals(net.variables[0].name, "named/logits/kernel");
});

Deno.test("getLayer finds tracked layers by name or index", () => {
  const net = new TwoLayerNet();
  assertStrictEquals(net.getLayer("dense"), net.layer1);
  assertStrictEquals(net.getLayer("dense_1"), net.layer2);
  assertStrictEquals(net.getLayer(0), net.layer1);
  assertStrictEquals(net.getLayer(1), net.layer2);
  assertThrowsMatch(
    () => net.getLayer(2),
    /^two_layer_net\.getLayer: no layer at index 2 \(the network has 2\)/,
  );
  assertThrowsMatch(() => net.getLayer(0.5), /getLayer: no layer at index 0.5/);
  assertThrowsMatch(() => net.getLayer("dense_2"), /^two_layer_net\.getLayer: no layer named/);
  const outer = new ThreeLayerNet();
  assertStrictEquals(outer.getLayer("two_layer_net"), outer.a);
  assertStrictEquals(outer.getLayer("dense"), outer.b);
});

Deno.test("trackLayer rejects non-layers, itself, cycles and duplicate names", () => {
  class Empty extends tf.Network {
    call(x: tf.Tensor) {
      return x;
    }
  }
  const net = new Empty();
  assertThrowsMatch(
    () => net.trackLayer({} as never),
    /^empty\.trackLayer: expected a tf\.layers\.Layer or a tf\.Network/,
  );
  assertThrowsMatch(() => net.trackLayer(tf.ones([1]) as never), /trackLayer: expected/);
  assertThrowsMatch(() => net.trackLayer(null as never), /trackLayer: expected/);
  assertThrowsMatch(
    () => net.trackLayer(net),
    /^empty\.trackLayer: a Network cannot contain itself/,
  );
  const inner = new Empty();
  net.trackLayer(inner);
  assertThrowsMatch(() => inner.trackLayer(net), /a Network cannot contain itself/);
  net.trackLayer(new tf.layers.Dense(1, { name: "out" }));
  assertThrowsMatch(
    () => net.trackLayer(new tf.layers.Dense(1, { name: "out" })),
    /trackLayer: this Network already has a layer named 'out'/,
  );
  // Tracking the same layer twice lists it once.
  const dense = new tf.layers.Dense(1);
  net.trackLayer(dense);
  net.trackLayer(dense);
  assertStrictEquals(net.layers.filter((l) => l === dense).length, 1);
  assertThrowsMatch(
    () => new (Empty as never as new (o: unknown) => Empty)(3),
    /^Network: options/,
  );
  assertThrowsMatch(() => new Empty({ name: "a/b" }), /name must be a non-empty string/);
  // Options must be an object; training a boolean.
  assertThrowsMatch(() => net.apply([1], { training: 1 as never }), /training must be a boolean/);
});

Deno.test("shared and pre-built layers keep their first scope", () => {
  const shared = new tf.layers.Dense(2, { useBias: false });
  class Uses extends tf.Network {
    constructor(readonly inner: tf.layers.Dense) {
      super();
      this.trackLayer(inner);
    }
    call(x: tf.Tensor) {
      return this.inner.apply(x);
    }
  }
  const first = new Uses(shared);
  const second = new Uses(shared);
  first.apply([[1, 2]]);
  second.apply([[3, 4]]);
  assertStrictEquals(shared.scopeName, `${first.name}/dense`);
  assertEquals(second.variables, first.variables);
  assertStrictEquals(second.variables[0].name, `${first.name}/dense/kernel`);

  // A layer built before it is tracked keeps its top-level scope and name.
  const built = new tf.layers.Dense(2, { useBias: false });
  built.apply([[1]]);
  const scope = built.scopeName;
  const wraps = new Uses(built);
  wraps.apply([[2]]);
  assertStrictEquals(built.scopeName, scope);
  assertEquals(wraps.variables, built.variables);
});

Deno.test("networks pass the training flag and list non-trainable variables", () => {
  class Net extends tf.Network {
    dense = this.trackLayer(new tf.layers.Dense(3));
    norm = this.trackLayer(new tf.layers.BatchNormalization());
    drop = this.trackLayer(new tf.layers.Dropout(0.5));
    call(x: tf.Tensor, training: boolean) {
      return this.drop.apply(this.norm.apply(this.dense.apply(x), { training }), { training });
    }
  }
  const net = new Net();
  const x = tf.randomNormal([64, 4]);
  const inference = net.apply(x);
  assertClose(net.apply(x, { training: false }), inference);
  assertClose(net.norm.movingMean!.read(), [0, 0, 0]);
  const trained = net.apply(x, { training: true });
  // Dropout zeroed about half of the outputs; BatchNormalization updated its averages.
  const zeros = nums(tf.equal(trained, 0)).filter(Boolean).length;
  if (!(zeros > 60 && zeros < 132)) throw new Error(`${zeros} of 192 outputs dropped`);
  assertStrictEquals(nums(net.norm.movingMean!).some((v) => v !== 0), true);
  const local = (vs: tf.Variable[]) => vs.map((v) => v.name.slice(net.name.length + 1));
  assertEquals(local(net.trainableVariables), [
    "dense/kernel",
    "dense/bias",
    "batch_normalization/gamma",
    "batch_normalization/beta",
  ]);
  assertEquals(local(net.nonTrainableVariables), [
    "batch_normalization/moving_mean",
    "batch_normalization/moving_variance",
  ]);
  assertEquals(net.variables, [...net.trainableVariables, ...net.nonTrainableVariables]);
});

Deno.test("apply passes tensors and structures to call; numeric data becomes a tensor", () => {
  class Pair extends tf.Network<[tf.Tensor, tf.Tensor], tf.Tensor> {
    dense = this.trackLayer(new tf.layers.Dense(1, { kernelInitializer: tf.initializers.ones }));
    call([a, b]: [tf.Tensor, tf.Tensor]) {
      return this.dense.apply(tf.concat([a, b], 1));
    }
  }
  const pair = new Pair();
  assertClose(pair.apply([tf.constant([[1]]), tf.constant([[2, 3]])]), [[6]]);
  class Echo extends tf.Network {
    call(x: tf.Tensor) {
      assertStrictEquals(x instanceof tf.Tensor, true);
      return x.mul(2);
    }
  }
  const echo = new Echo();
  assertClose(echo.apply([[1, 2]]), [[2, 4]]);
  assertClose(echo.apply(new tf.Variable([3])), [6]);
  assertClose(echo.apply(new Float32Array([1.5])), [3]);
});

Deno.test("training a Network with GradientDescentOptimizer.minimize reduces the loss", () => {
  tf.random.setSeed(42);
  class Regressor extends tf.Network {
    hidden = this.trackLayer(new tf.layers.Dense(8, { activation: tf.nn.tanh }));
    out = this.trackLayer(new tf.layers.Dense(1));
    call(x: tf.Tensor) {
      return this.out.apply(this.hidden.apply(x));
    }
  }
  const net = new Regressor();
  const x = tf.randomUniform([64, 2], { minval: -1, maxval: 1 });
  const y = tf.add(tf.matmul(x, tf.constant([[2], [-3]])), 0.5);
  const loss = () => tf.losses.meanSquaredError(y, net.apply(x));
  const optimizer = new tf.train.GradientDescentOptimizer(0.1);
  const first = Number(optimizer.minimize(loss));
  const before = net.variables.map((v) => nums(v));
  let last = first;
  for (let step = 0; step < 300; step++) last = Number(optimizer.minimize(loss));
  if (!(first > 1 && last < first / 50)) throw new Error(`loss went from ${first} to ${last}`);
  // Every variable of the network moved.
  net.variables.forEach((v, i) => {
    const now = nums(v);
    assertStrictEquals(now.some((value, j) => value !== before[i][j]), true, v.name);
  });
  // minimize with varList trains only those variables.
  const frozen = nums(net.hidden.kernel!);
  optimizer.minimize(loss, { varList: net.out.trainableVariables });
  assertEquals(nums(net.hidden.kernel!), frozen);
});
