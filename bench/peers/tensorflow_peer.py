# The TensorFlow peer of `deno task bench` (CPU build from PyPI, oneDNN, default
# threads): eager ops, ops under tf.GradientTape, and the MNIST training step both
# eager and inside tf.function. Protocol and timing rule: timing.py.
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tf_mnist import train_step  # noqa: E402
from timing import measure, result, serve  # noqa: E402

COLUMN = "tensorflow"
RNG = np.random.default_rng(0)


def uniform(shape):
    return tf.constant(RNG.random(shape, dtype=np.float32))


def small_add(p, budget):
    a, b = uniform(p["size"]), uniform(p["size"])
    return [result(COLUMN, measure(lambda: tf.add(a, b), budget))]


def small_add_tape(p, budget):
    a, b = uniform(p["size"]), uniform(p["size"])
    inner = p["inner"]

    def run():
        with tf.GradientTape() as tape:
            tape.watch(a)
            for _ in range(inner):
                tf.add(a, b)

    return [result(COLUMN, measure(run, budget, inner), note=f"{inner} adds per tape")]


def chain(p, budget):
    x, c = uniform(p["size"]), tf.fill([p["size"]], 1.01)
    length = p["length"]

    def run():
        y = x
        for _ in range(length // 4):
            y = tf.exp(tf.tanh(tf.add(tf.multiply(y, c), c)))
        return y

    return [result(COLUMN, measure(run, budget))]


def matmul(p, budget):
    a, b = uniform((p["n"], p["n"])), uniform((p["n"], p["n"]))
    return [result(COLUMN, measure(lambda: tf.matmul(a, b), budget))]


def add(p, budget):
    a, b = uniform(p["size"]), uniform(p["size"])
    return [result(COLUMN, measure(lambda: tf.add(a, b), budget))]


def exp(p, budget):
    a = uniform(p["size"])
    return [result(COLUMN, measure(lambda: tf.exp(a), budget))]


def reduce_sum(p, budget):
    a = uniform(p["size"])
    return [result(COLUMN, measure(lambda: tf.reduce_sum(a), budget))]


def softmax(p, budget):
    x = uniform(tuple(p["shape"]))
    return [result(COLUMN, measure(lambda: tf.nn.softmax(x), budget))]


def conv_inputs(p):
    x, f = uniform(tuple(p["x"])), uniform(tuple(p["filter"]))
    y = tf.nn.conv2d(x, f, p["strides"], p["padding"])
    return x, f, uniform(tuple(y.shape))


def conv2d(p, budget):
    x, f, _ = conv_inputs(p)
    return [result(COLUMN, measure(lambda: tf.nn.conv2d(x, f, p["strides"], p["padding"]),
                                   budget))]


def strides4(p):
    return [1, p["strides"], p["strides"], 1]


def conv2d_backprop_input(p, budget):
    x, f, dy = conv_inputs(p)
    sizes = tf.constant(p["x"], tf.int32)
    return [result(COLUMN, measure(lambda: tf.raw_ops.Conv2DBackpropInput(
        input_sizes=sizes, filter=f, out_backprop=dy, strides=strides4(p),
        padding=p["padding"]), budget))]


def conv2d_backprop_filter(p, budget):
    x, f, dy = conv_inputs(p)
    sizes = tf.constant(p["filter"], tf.int32)
    return [result(COLUMN, measure(lambda: tf.raw_ops.Conv2DBackpropFilter(
        input=x, filter_sizes=sizes, out_backprop=dy, strides=strides4(p),
        padding=p["padding"]), budget))]


def mnist_step(p, budget):
    batch = p["batch"]
    images = uniform((batch, 784))
    labels = tf.constant(RNG.integers(0, 10, batch, dtype=np.int32))
    eager = train_step(p["learningRate"])
    graph = tf.function(train_step(p["learningRate"]))
    return [
        result(COLUMN, measure(lambda: float(eager(images, labels)), budget),
               note="Keras 3 layers, keras.optimizers.Adam"),
        result("tf.function", measure(lambda: float(graph(images, labels)), budget)),
    ]


serve(COLUMN, {"tensorflow": tf.__version__, "numpy": np.__version__}, {
    "small_add": small_add,
    "small_add_tape": small_add_tape,
    "chain": chain,
    "matmul": matmul,
    "add": add,
    "exp": exp,
    "reduce_sum": reduce_sum,
    "softmax": softmax,
    "conv2d": conv2d,
    "conv2d_backprop_input": conv2d_backprop_input,
    "conv2d_backprop_filter": conv2d_backprop_filter,
    "mnist_step": mnist_step,
})
