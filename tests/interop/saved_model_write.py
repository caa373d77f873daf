"""Writes SavedModels with TensorFlow 2 and runs them, for tf.savedModel.load's tests.

Usage: saved_model_write.py DIR
Writes under DIR: module/ (a tf.Module: relu(x @ w + b), signature input x [None, 4]),
convnet/ (the guide's MNIST convnet as a Keras model, exported), dense_bn/ (Keras Dense,
BatchNormalization with moved statistics, Dropout and softmax, exported), lstm/ (Keras LSTM and
Dense, exported: a While loop over TensorLists), resnet50/ (keras.applications.ResNet50 with
random weights, exported), cond/ (a tf.Module whose function branches with tf.cond: an If or
StatelessIf node), switch/ and switch_default/ (tf.switch_case: a Case node, run on an index in
range and on one past the branches, which runs the last). Prints JSON: for
each, the input it was run on and TensorFlow's outputs (name -> shape and flat values).
"""
import json
import sys

import keras
import numpy as np
import tensorflow as tf


class DenseRelu(tf.Module):
    def __init__(self):
        self.w = tf.Variable(tf.random.normal([4, 3], seed=1), name="w")
        self.b = tf.Variable(tf.constant([0.1, -0.2, 0.3]), name="b")

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="x")])
    def __call__(self, x):
        return {"y": tf.nn.relu(tf.matmul(x, self.w) + self.b)}


class Branching(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="x")])
    def __call__(self, x):
        y = tf.cond(tf.reduce_sum(x) > 0, lambda: tf.nn.relu(x) * 2.0, lambda: -x)
        return {"y": y}


class Switching(tf.Module):
    """tf.switch_case (a Case node) on an index read from the input: x[0, 0] as an integer."""

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="x")])
    def __call__(self, x):
        index = tf.cast(x[0, 0], tf.int32)
        y = tf.switch_case(index, [lambda: x * 2.0, lambda: -x, lambda: tf.nn.relu(x) + 1.0])
        return {"y": y}


def convnet():
    conv = {"padding": "same", "activation": "relu"}
    pool = {"pool_size": 2, "strides": 2, "padding": "same"}
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        keras.layers.Conv2D(8, 5, **conv),
        keras.layers.MaxPooling2D(**pool),
        keras.layers.Conv2D(16, 5, **conv),
        keras.layers.MaxPooling2D(**pool),
        keras.layers.Flatten(),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(10),
    ])


def dense_bn():
    model = keras.Sequential([
        keras.Input(shape=(6,)),
        keras.layers.Dense(5),
        keras.layers.BatchNormalization(),
        keras.layers.Activation("relu"),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(3, activation="softmax"),
    ])
    rng = np.random.default_rng(0)
    model(rng.normal(size=(16, 6)).astype(np.float32), training=True)  # moves the statistics
    return model


def lstm():
    return keras.Sequential([
        keras.Input(shape=(7, 3)),
        keras.layers.LSTM(6),
        keras.layers.Dense(2),
    ])


def run(fn, x):
    (name,) = fn.structured_input_signature[1].keys()
    out = fn(**{name: tf.constant(x)})
    return name, {k: {"shape": list(v.shape), "data": v.numpy().astype(np.float64).ravel().tolist()}
                  for k, v in out.items()}


def main(root):
    tf.random.set_seed(7)
    keras.utils.set_random_seed(7)
    rng = np.random.default_rng(1)
    result = {}
    module = DenseRelu()
    tf.saved_model.save(module, f"{root}/module", signatures=module.__call__)
    cases = [("module", rng.normal(size=(2, 4)).astype(np.float32))]
    convnet().export(f"{root}/convnet", verbose=False)
    cases.append(("convnet", rng.uniform(size=(3, 28, 28, 1)).astype(np.float32)))
    dense_bn().export(f"{root}/dense_bn", verbose=False)
    cases.append(("dense_bn", rng.normal(size=(4, 6)).astype(np.float32)))
    lstm().export(f"{root}/lstm", verbose=False)
    cases.append(("lstm", rng.normal(size=(2, 7, 3)).astype(np.float32)))
    branching = Branching()
    tf.saved_model.save(branching, f"{root}/cond", signatures=branching.__call__)
    cases.append(("cond", np.array([[1, -2, 3], [0.5, 1, -1]], dtype=np.float32)))
    switching = Switching()
    for name in ("switch", "switch_default"):
        tf.saved_model.save(switching, f"{root}/{name}", signatures=switching.__call__)
    # Index 1 picks the second branch; index 7 is out of range and runs the last one.
    cases.append(("switch", np.array([[1, -2, 3], [0.5, 1, -1]], dtype=np.float32)))
    cases.append(("switch_default", np.array([[7, -2, 3], [0.5, 1, -1]], dtype=np.float32)))
    keras.applications.ResNet50(weights=None).export(f"{root}/resnet50", verbose=False)
    cases.append(("resnet50", rng.uniform(size=(1, 224, 224, 3)).astype(np.float32)))
    for name, x in cases:
        loaded = tf.saved_model.load(f"{root}/{name}")
        key, outputs = run(loaded.signatures["serving_default"], x)
        result[name] = {
            "input": {"name": key, "shape": list(x.shape), "data": x.ravel().tolist()},
            "outputs": outputs,
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1])
