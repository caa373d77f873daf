"""Loads a SavedModel written by deno-eager with TensorFlow 2 and runs its signatures.

Usage: saved_model_load.py DIR INPUTS_JSON
INPUTS_JSON maps signature -> input name -> {"shape": [...], "dtype": "float32", "data": [...]}.
Prints JSON: the signatures TensorFlow sees, each signature's outputs (name -> flat values and
shape), what `saved_model_cli show --all` printed, and the checksums of fingerprint.pb as
written and as TensorFlow's own fingerprinting computes them from the files (decimal strings).
"""
import json
import os
import subprocess
import sys

import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import fingerprint_pb2
from tensorflow.python.saved_model.pywrap_saved_model import fingerprinting


def main(directory, inputs_path):
    with open(inputs_path) as f:
        inputs = json.load(f)
    loaded = tf.saved_model.load(directory)
    result = {"signatures": sorted(loaded.signatures.keys()), "outputs": {}}
    for name, feeds in inputs.items():
        fn = loaded.signatures[name]
        args = {
            key: tf.constant(np.array(v["data"], dtype=v["dtype"]).reshape(v["shape"]))
            for key, v in feeds.items()
        }
        outputs = fn(**args)
        result["outputs"][name] = {
            key: {"shape": list(t.shape), "data": t.numpy().astype(np.float64).ravel().tolist()}
            for key, t in outputs.items()
        }
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    shown = subprocess.run([cli, "show", "--dir", directory, "--all"],
                           capture_output=True, text=True, check=True)
    result["cli"] = shown.stdout
    written = tf.saved_model.experimental.read_fingerprint(directory)
    recomputed = fingerprint_pb2.FingerprintDef.FromString(
        fingerprinting.CreateFingerprintDef(directory))
    result["fingerprint"] = {
        "written": [str(written.saved_model_checksum), str(written.checkpoint_hash)],
        "tensorflow": [str(recomputed.saved_model_checksum), str(recomputed.checkpoint_hash)],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
