# Peak-memory case, TensorFlow eager: trains the same MNIST model (tf_mnist.py) for N
# steps (default 200) on fresh random batches of 100, then prints the peak resident set
# (VmHWM of /proc/self/status) of this whole process as `@@bench {"peakBytes", "seconds"}`.
import json
import os
import re
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402

from tf_mnist import train_step  # noqa: E402

steps = int(sys.argv[1]) if len(sys.argv) > 1 else 200
step = train_step(1e-4)
start = time.perf_counter()
for _ in range(steps):
    images = tf.random.uniform((100, 784))
    labels = tf.random.uniform((100,), maxval=10, dtype=tf.int32)
    float(step(images, labels))
seconds = time.perf_counter() - start
with open("/proc/self/status") as status:
    kib = int(re.search(r"^VmHWM:\s+(\d+) kB", status.read(), re.M).group(1))
print("@@bench " + json.dumps({"peakBytes": kib * 1024, "seconds": seconds}), flush=True)
