# The NumPy peer of `deno task bench`: answers each case the harness sends (see timing.py
# for the protocol and the timing rule). NumPy runs as its users run it: default threads.
import numpy as np

from timing import measure, result, serve

RNG = np.random.default_rng(0)
COLUMN = "numpy"


def uniform(shape):
    return RNG.random(shape, dtype=np.float32)


def small_add(p, budget):
    a, b = uniform(p["size"]), uniform(p["size"])
    return [result(COLUMN, measure(lambda: np.add(a, b), budget))]


def chain(p, budget):
    x, c = uniform(p["size"]), np.full(p["size"], 1.01, np.float32)
    length = p["length"]

    def run():
        y = x
        for i in range(length // 4):
            y = np.exp(np.tanh(np.add(np.multiply(y, c), c)))
        return y

    return [result(COLUMN, measure(run, budget))]


def matmul(p, budget):
    a, b = uniform((p["n"], p["n"])), uniform((p["n"], p["n"]))
    return [result(COLUMN, measure(lambda: np.matmul(a, b), budget))]


def add(p, budget):
    a, b = uniform(p["size"]), uniform(p["size"])
    return [result(COLUMN, measure(lambda: np.add(a, b), budget))]


def exp(p, budget):
    a = uniform(p["size"])
    return [result(COLUMN, measure(lambda: np.exp(a), budget))]


def reduce_sum(p, budget):
    a = uniform(p["size"])
    return [result(COLUMN, measure(lambda: np.sum(a), budget))]


def softmax(p, budget):
    x = uniform(tuple(p["shape"]))

    def run():
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    return [result(COLUMN, measure(run, budget), note="composed: exp(x - max) / sum")]


serve(COLUMN, {"numpy": np.__version__}, {
    "small_add": small_add,
    "chain": chain,
    "matmul": matmul,
    "add": add,
    "exp": exp,
    "reduce_sum": reduce_sum,
    "softmax": softmax,
})
