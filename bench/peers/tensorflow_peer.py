# The TensorFlow peer of `deno task bench` (CPU build from PyPI, oneDNN, default
# threads): eager ops, ops under tf.GradientTape, and the MNIST and LSTM language-model
# training steps both eager and inside tf.function. Protocol and timing rule: timing.py.
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tf_lstm_lm import train_step as lm_train_step, zero_state  # noqa: E402
from tf_mnist import train_step  # noqa: E402
from timing import Timed, serve  # noqa: E402

COLUMN = "tensorflow"
RNG = np.random.default_rng(0)


def uniform(shape):
    return tf.constant(RNG.random(shape, dtype=np.float32))


def small_add(p):
    a, b = uniform(p["size"]), uniform(p["size"])
    return [Timed(lambda: tf.add(a, b))]


def small_add_tape(p):
    a, b = uniform(p["size"]), uniform(p["size"])
    inner = p["inner"]

    def run():
        with tf.GradientTape() as tape:
            tape.watch(a)
            for _ in range(inner):
                tf.add(a, b)

    return [Timed(run, inner=inner, note=f"{inner} adds per tape")]


def chain(p):
    x, c = uniform(p["size"]), tf.fill([p["size"]], 1.01)
    length = p["length"]

    def run():
        y = x
        for _ in range(length // 4):
            y = tf.exp(tf.tanh(tf.add(tf.multiply(y, c), c)))
        return y

    return [Timed(run)]


def matmul(p):
    a, b = uniform((p["n"], p["n"])), uniform((p["n"], p["n"]))
    return [Timed(lambda: tf.matmul(a, b))]


def add(p):
    a, b = uniform(p["size"]), uniform(p["size"])
    return [Timed(lambda: tf.add(a, b))]


def exp(p):
    a = uniform(p["size"])
    return [Timed(lambda: tf.exp(a))]


def reduce_sum(p):
    a = uniform(p["size"])
    return [Timed(lambda: tf.reduce_sum(a))]


def softmax(p):
    x = uniform(tuple(p["shape"]))
    return [Timed(lambda: tf.nn.softmax(x))]


def conv_inputs(p):
    x, f = uniform(tuple(p["x"])), uniform(tuple(p["filter"]))
    y = tf.nn.conv2d(x, f, p["strides"], p["padding"])
    return x, f, uniform(tuple(y.shape))


def conv2d(p):
    x, f, _ = conv_inputs(p)
    return [Timed(lambda: tf.nn.conv2d(x, f, p["strides"], p["padding"]))]


def strides4(p):
    return [1, p["strides"], p["strides"], 1]


def conv2d_backprop_input(p):
    x, f, dy = conv_inputs(p)
    sizes = tf.constant(p["x"], tf.int32)
    return [Timed(lambda: tf.raw_ops.Conv2DBackpropInput(
        input_sizes=sizes, filter=f, out_backprop=dy, strides=strides4(p),
        padding=p["padding"]))]


def conv2d_backprop_filter(p):
    x, f, dy = conv_inputs(p)
    sizes = tf.constant(p["filter"], tf.int32)
    return [Timed(lambda: tf.raw_ops.Conv2DBackpropFilter(
        input=x, filter_sizes=sizes, out_backprop=dy, strides=strides4(p),
        padding=p["padding"]))]


def mnist_step(p):
    batch = p["batch"]
    images = uniform((batch, 784))
    labels = tf.constant(RNG.integers(0, 10, batch, dtype=np.int32))
    eager = train_step(p["learningRate"])
    graph = tf.function(train_step(p["learningRate"]))
    return [
        Timed(lambda: float(eager(images, labels)), note="Keras 3 layers, keras.optimizers.Adam"),
        Timed(lambda: float(graph(images, labels)), column="tf.function"),
    ]


def lstm_lm_step(p):
    shape = (p["batch"], p["steps"])
    ids = tf.constant(RNG.integers(0, p["vocab"], shape, dtype=np.int32))
    targets = tf.constant(RNG.integers(0, p["vocab"], shape[0] * shape[1], dtype=np.int32))
    eager, graph = lm_train_step(p), tf.function(lm_train_step(p))
    states = {"eager": zero_state(p), "graph": zero_state(p)}

    def run(which, step):
        # Truncated backprop through time: the final state is the next step's initial one.
        loss, states[which] = step(ids, targets, states[which])
        return float(loss)

    return [
        Timed(lambda: run("eager", eager), note="Keras 3 LSTM layers, keras.optimizers.SGD"),
        Timed(lambda: run("graph", graph), column="tf.function"),
    ]


def einsum(p):
    a, b = (uniform(tuple(s)) for s in p["shapes"])
    return [Timed(lambda: tf.einsum(p["equation"], a, b))]


def top_k(p):
    x, k = uniform(p["size"]), p["k"]
    return [Timed(lambda: tf.math.top_k(x, k=k).values)]


def sort(p):
    x = uniform(p["size"])
    return [Timed(lambda: tf.sort(x))]


def cumsum(p):
    x = uniform(p["size"])
    return [Timed(lambda: tf.cumsum(x))]


def spd(n):
    m = uniform((n, n))
    return tf.matmul(m, m, transpose_b=True) / n + tf.eye(n)


def cholesky(p):
    a = spd(p["n"])
    return [Timed(lambda: tf.linalg.cholesky(a))]


def solve(p):
    a, b = spd(p["n"]), uniform((p["n"], 1))
    return [Timed(lambda: tf.linalg.solve(a, b))]


def resize_bilinear(p):
    images = uniform(tuple(p["shape"]))
    return [Timed(lambda: tf.image.resize(images, p["size"], method="bilinear"))]


def depthwise_fwd_bwd(p):
    x, f = uniform(tuple(p["x"])), uniform(tuple(p["filter"]))
    strides = strides4(p)

    def run():
        with tf.GradientTape() as tape:
            tape.watch([x, f])
            loss = tf.reduce_sum(tf.nn.depthwise_conv2d(x, f, strides, p["padding"]))
        return tape.gradient(loss, [x, f])

    return [Timed(run)]


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
    "lstm_lm_step": lstm_lm_step,
    "einsum": einsum,
    "top_k": top_k,
    "sort": sort,
    "cumsum": cumsum,
    "cholesky": cholesky,
    "solve": solve,
    "resize_bilinear": resize_bilinear,
    "depthwise_fwd_bwd": depthwise_fwd_bwd,
})
