# The NumPy side of bench/bench.ts: the same three measurements, printed as JSON.
# Run by bench/bench.ts inside the venv it creates (.venv-bench).
import json
import time

import numpy as np


def best(fn, repeats, rounds=5):
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeats):
            fn()
        times.append((time.perf_counter() - start) / repeats)
    return min(times)


one_a = np.ones(1, np.float32)
one_b = np.ones(1, np.float32)
small = best(lambda: np.add(one_a, one_b), 200_000)

m = np.random.default_rng(0).random((1024, 1024), dtype=np.float32)
np.matmul(m, m)
mm = best(lambda: np.matmul(m, m), 10)

big_a = np.ones(16 << 20, np.float32)
big_b = np.ones(16 << 20, np.float32)
big = best(lambda: np.add(big_a, big_b), 5)

print(json.dumps({
    "numpy": np.__version__,
    "small_add_us": small * 1e6,
    "matmul_gflops": 2 * 1024**3 / mm / 1e9,
    "add16m_gbps": 3 * 4 * (16 << 20) / big / 1e9,
}))
