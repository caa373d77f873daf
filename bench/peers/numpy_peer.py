# The NumPy peer of `deno task bench`: answers each case the harness sends (see timing.py
# for the protocol and the timing rule). NumPy runs as its users run it: default threads.
import numpy as np

from timing import Timed, serve

RNG = np.random.default_rng(0)
COLUMN = "numpy"


def uniform(shape):
    return RNG.random(shape, dtype=np.float32)


def small_add(p):
    a, b = uniform(p["size"]), uniform(p["size"])
    return [Timed(lambda: np.add(a, b))]


def chain(p):
    x, c = uniform(p["size"]), np.full(p["size"], 1.01, np.float32)
    length = p["length"]

    def run():
        y = x
        for i in range(length // 4):
            y = np.exp(np.tanh(np.add(np.multiply(y, c), c)))
        return y

    return [Timed(run)]


def matmul(p):
    a, b = uniform((p["n"], p["n"])), uniform((p["n"], p["n"]))
    return [Timed(lambda: np.matmul(a, b))]


def add(p):
    a, b = uniform(p["size"]), uniform(p["size"])
    return [Timed(lambda: np.add(a, b))]


def exp(p):
    a = uniform(p["size"])
    return [Timed(lambda: np.exp(a))]


def reduce_sum(p):
    a = uniform(p["size"])
    return [Timed(lambda: np.sum(a))]


def softmax(p):
    x = uniform(tuple(p["shape"]))

    def run():
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    return [Timed(run, note="composed: exp(x - max) / sum")]


serve(COLUMN, {"numpy": np.__version__}, {
    "small_add": small_add,
    "chain": chain,
    "matmul": matmul,
    "add": add,
    "exp": exp,
    "reduce_sum": reduce_sum,
    "softmax": softmax,
})
