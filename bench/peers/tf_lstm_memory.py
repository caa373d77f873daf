# Peak-memory case of the LSTM language model, TensorFlow eager: N steps (default 50) of
# tf_lstm_lm.py's training step on fresh random batches in the PTB small configuration,
# the state carried on, then the peak resident set (VmHWM of /proc/self/status) of this
# whole process as `@@bench {"peakBytes", "seconds"}`.
import json
import os
import re
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402

from tf_lstm_lm import train_step, zero_state  # noqa: E402

steps = int(sys.argv[1]) if len(sys.argv) > 1 else 50
p = json.loads(sys.argv[2])
step, state = train_step(p), zero_state(p)
start = time.perf_counter()
for _ in range(steps):
    shape = (p["batch"], p["steps"])
    ids = tf.random.uniform(shape, maxval=p["vocab"], dtype=tf.int32)
    targets = tf.random.uniform((shape[0] * shape[1],), maxval=p["vocab"], dtype=tf.int32)
    loss, state = step(ids, targets, state)
    float(loss)
seconds = time.perf_counter() - start
with open("/proc/self/status") as status:
    kib = int(re.search(r"^VmHWM:\s+(\d+) kB", status.read(), re.M).group(1))
print("@@bench " + json.dumps({"peakBytes": kib * 1024, "seconds": seconds}), flush=True)
