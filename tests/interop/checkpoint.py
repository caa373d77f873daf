"""Checkpoints between deno-eager and TensorFlow (tests/checkpoint_interop_test.ts).

usage:
  checkpoint.py read DIR PREFIX...  TensorFlow reads checkpoints we wrote; prints JSON with
                                    latest_checkpoint(DIR), get_checkpoint_state(DIR)'s
                                    paths and, per PREFIX, list_variables, the dtypes and
                                    every value (dtype, shape, hex of its little-endian
                                    bytes) from load_checkpoint
  checkpoint.py write DIR           TensorFlow writes DIR/v1/model.ckpt-1 with TensorFlow 1's
                                    Saver (see tests/fixtures/make_checkpoint_fixture.py) and
                                    DIR/v2/ckpt-1 with TensorFlow 2's tf.train.Checkpoint
                                    (keys such as w/.ATTRIBUTES/VARIABLE_VALUE and a string
                                    object graph), each with values.json; prints JSON of both
                                    prefixes
"""
import json
import os
import sys

import numpy as np
import tensorflow as tf

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from make_checkpoint_fixture import write_v1  # noqa: E402


def describe(value):
    value = np.asarray(value)
    return {"dtype": str(value.dtype), "shape": list(value.shape), "hex": value.tobytes("C").hex()}


def read_one(prefix):
    reader = tf.train.load_checkpoint(prefix)
    names = tf.train.list_variables(prefix)
    return {
        "variables": [[name, list(shape)] for name, shape in names],
        "dtypes": {k: v.name for k, v in reader.get_variable_to_dtype_map().items()},
        "values": {name: describe(reader.get_tensor(name)) for name, _ in names},
    }


def read(directory, prefixes):
    state = tf.train.get_checkpoint_state(directory)
    return {
        "latest": tf.train.latest_checkpoint(directory),
        "state": None if state is None else {
            "model_checkpoint_path": state.model_checkpoint_path,
            "all_model_checkpoint_paths": list(state.all_model_checkpoint_paths),
        },
        "checkpoints": {prefix: read_one(prefix) for prefix in prefixes},
    }


def write_v2(directory):
    step = tf.Variable(41, dtype=tf.int64)
    w = tf.Variable(np.arange(6, dtype=np.float32).reshape(2, 3) / 7)
    d = tf.Variable(np.array([np.pi, -1e-310], np.float64))
    checkpoint = tf.train.Checkpoint(step=step, w=w, d=d)
    step.assign_add(1)
    os.makedirs(directory, exist_ok=True)
    prefix = checkpoint.save(os.path.join(directory, "ckpt"))
    reader = tf.train.load_checkpoint(prefix)
    values = {}
    for name, _ in tf.train.list_variables(prefix):
        if reader.get_variable_to_dtype_map()[name] != tf.string:
            values[name] = describe(reader.get_tensor(name))
    with open(os.path.join(directory, "values.json"), "w") as f:
        json.dump(values, f)
    return prefix


def main():
    command = sys.argv[1]
    if command == "read":
        print(json.dumps(read(sys.argv[2], sys.argv[3:])))
    elif command == "write":
        directory = sys.argv[2]
        v1 = write_v1(os.path.join(directory, "v1"))
        v2 = write_v2(os.path.join(directory, "v2"))
        print(json.dumps({"v1": v1, "v2": v2}))
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main()
