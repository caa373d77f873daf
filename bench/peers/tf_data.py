# TensorFlow's side of bench/cases/data.ts: seconds per record reading a TFRecord file of
# MNIST-sized Examples with tf.data (TFRecordDataset, batch, map(tf.io.parse_example) with
# AUTOTUNE parallel calls, prefetch), iterated eagerly, one pass per call. Prints one
# protocol line: `@@bench {"column": "tensorflow", "stats": ...}` (timing.py's rule).
#
# usage: tf_data.py FILE RECORDS BATCH BUDGET
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402

from timing import MARK, measure, result  # noqa: E402

path, records, batch, budget = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
features = {
    "image": tf.io.FixedLenFeature([784], tf.float32),
    "label": tf.io.FixedLenFeature([], tf.int64),
}
dataset = (
    tf.data.TFRecordDataset(path)
    .batch(batch)
    .map(lambda r: tf.io.parse_example(r, features), num_parallel_calls=tf.data.AUTOTUNE)
    .prefetch(tf.data.AUTOTUNE)
)


def read_all():
    n = 0
    for parsed in dataset:
        n += int(parsed["label"].shape[0])
    if n != records:
        raise SystemExit(f"read {n} records, expected {records}")


stats = measure(read_all, budget, records)
note = f"tf.data, batch {batch}, parse_example with AUTOTUNE parallel calls, prefetch"
print(MARK + json.dumps(result("tensorflow", stats, note=note)), flush=True)
