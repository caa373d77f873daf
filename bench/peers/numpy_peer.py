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


def einsum(p):
    a, b = (uniform(tuple(s)) for s in p["shapes"])
    return [Timed(lambda: np.einsum(p["equation"], a, b, optimize=True), note="optimize=True")]


def top_k(p):
    x, k = uniform(p["size"]), p["k"]

    def run():
        part = np.argpartition(x, -k)[-k:]
        return part[np.argsort(-x[part], kind="stable")]

    return [Timed(run, note="argpartition, then argsort of the k")]


def sort(p):
    x = uniform(p["size"])
    return [Timed(lambda: np.sort(x))]


def cumsum(p):
    x = uniform(p["size"])
    return [Timed(lambda: np.cumsum(x))]


def spd(n):
    m = uniform((n, n))
    return (m @ m.T / n + np.eye(n, dtype=np.float32)).astype(np.float32)


def cholesky(p):
    a = spd(p["n"])
    return [Timed(lambda: np.linalg.cholesky(a))]


def solve(p):
    a, b = spd(p["n"]), uniform((p["n"], 1))
    return [Timed(lambda: np.linalg.solve(a, b))]


serve(COLUMN, {"numpy": np.__version__}, {
    "small_add": small_add,
    "chain": chain,
    "matmul": matmul,
    "add": add,
    "exp": exp,
    "reduce_sum": reduce_sum,
    "softmax": softmax,
    "einsum": einsum,
    "top_k": top_k,
    "sort": sort,
    "cumsum": cumsum,
    "cholesky": cholesky,
    "solve": solve,
})
