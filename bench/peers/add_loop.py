"""The fresh-process 16M add (issue 17), NumPy's: as bench/procs/add_loop_ours.ts."""
import json
import sys
import time

import numpy as np

MARK = sys.argv[1]
rng = np.random.default_rng(1)
a = rng.random(16 << 20, dtype=np.float32)
b = rng.random(16 << 20, dtype=np.float32)
first_ten = 0.0
for i in range(100):
    start = time.perf_counter()
    np.add(a, b)
    if i < 10:
        first_ten += time.perf_counter() - start
with open("/proc/self/status") as status:
    kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(MARK + json.dumps({"firstTen": first_ten, "peakBytes": kib * 1024}))
