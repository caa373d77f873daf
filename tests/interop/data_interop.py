"""TensorFlow's and NumPy's side of tests/data_interop_test.ts.

usage:
  data_interop.py write_records DIR       TensorFlow writes TFRecord files of Examples and
                                          of raw records (plain, GZIP, ZLIB); prints what
                                          it wrote as JSON
  data_interop.py read_records JOBS_JSON  for each job {"path", "compression", "spec"},
                                          tf.data.TFRecordDataset reads our file and, with a
                                          spec, tf.io.parse_single_example its Examples;
                                          prints the features (or raw records, hex) as JSON
  data_interop.py write_npy DIR           NumPy writes .npy files (every dtype, C and
                                          Fortran order) and .npz (savez, savez_compressed)
  data_interop.py read_npy DIR            NumPy reads every .npy/.npz in DIR

JSON conventions: int64 values as decimal strings, bytes as hex, floats as numbers (a
float32 as the double it equals; non-finite ones as "inf", "-inf", "nan").
"""
import glob
import json
import os
import sys

import numpy as np

EXAMPLES = [
    {
        "floats": [0.5, -1.25, 3e-8, 1e30, float("inf")],
        "ints": [0, -1, 2**40, -(2**63), 2**63 - 1],
        "bytes": [b"hello", b"", bytes(range(20))],
        "label": [3],
    },
    {"floats": [], "ints": [7], "bytes": [b"\xff\xfe"], "label": [1]},
    {"floats": [i / 783 for i in range(784)], "ints": [], "bytes": [], "label": [9]},
]
RAW = [b"", b"abc", bytes(1000), b"\x00\x01\x02" * 50]
COMPRESSIONS = {"": "plain", "GZIP": "gz", "ZLIB": "zlib"}


def num(v):
    """A float for JSON: non-finite values as the strings "inf", "-inf", "nan"."""
    v = float(v)
    return v if np.isfinite(v) else str(v)


def f32(values):
    return [num(v) for v in np.asarray(values, dtype=np.float32)]


def example_json(e):
    return {
        "floats": f32(e["floats"]),
        "ints": [str(v) for v in e["ints"]],
        "bytes": [b.hex() for b in e["bytes"]],
        "label": [str(v) for v in e["label"]],
    }


def write_records(out_dir):
    import tensorflow as tf

    os.makedirs(out_dir, exist_ok=True)
    for compression, suffix in COMPRESSIONS.items():
        options = tf.io.TFRecordOptions(compression_type=compression)
        with tf.io.TFRecordWriter(os.path.join(out_dir, f"examples.{suffix}.tfrecord"), options) as w:
            for e in EXAMPLES:
                feature = {
                    "floats": tf.train.Feature(float_list=tf.train.FloatList(value=e["floats"])),
                    "ints": tf.train.Feature(int64_list=tf.train.Int64List(value=e["ints"])),
                    "bytes": tf.train.Feature(bytes_list=tf.train.BytesList(value=e["bytes"])),
                    "label": tf.train.Feature(int64_list=tf.train.Int64List(value=e["label"])),
                }
                example = tf.train.Example(features=tf.train.Features(feature=feature))
                w.write(example.SerializeToString())
        with tf.io.TFRecordWriter(os.path.join(out_dir, f"raw.{suffix}.tfrecord"), options) as w:
            for r in RAW:
                w.write(r)
    return {
        "tensorflow": tf.__version__,
        "examples": [example_json(e) for e in EXAMPLES],
        "raw": [r.hex() for r in RAW],
    }


def to_json(value, dtype):
    if dtype == "string":
        return [v.hex() for v in value]
    if dtype == "int64":
        return [str(int(v)) for v in value]
    return [num(v) for v in value]


def read_records(jobs_json):
    out = []
    for job in json.loads(jobs_json):
        if job["spec"] is None:
            out.append(read_raw(job["path"], job["compression"]))
        else:
            out.append(read_examples(job["path"], job["compression"], job["spec"]))
    return out


def read_examples(path, compression, spec):
    import tensorflow as tf

    dtypes = {"float32": tf.float32, "int64": tf.int64, "string": tf.string}
    features = {}
    for key, (kind, dtype, shape) in spec.items():
        if kind == "varlen":
            features[key] = tf.io.VarLenFeature(dtypes[dtype])
        else:
            features[key] = tf.io.FixedLenFeature(shape, dtypes[dtype])
    out = []
    for record in tf.data.TFRecordDataset(path, compression_type=compression):
        parsed = tf.io.parse_single_example(record, features)
        row = {}
        for key, (kind, dtype, _) in spec.items():
            value = parsed[key]
            if kind == "varlen":
                value = value.values
            row[key] = to_json(np.reshape(value.numpy(), [-1]), dtype)
        out.append(row)
    return out


def read_raw(path, compression):
    import tensorflow as tf

    return [r.numpy().hex() for r in tf.data.TFRecordDataset(path, compression_type=compression)]


def npy_arrays():
    """Name -> array: every dtype, shapes with 0, 1 and 3 dimensions, C and Fortran order."""
    arrays = {}
    for dtype in ["float32", "float64", "int32", "int64", "uint8", "bool"]:
        for i, shape in enumerate([(2, 3), (), (0,), (3, 1, 4)]):
            n = int(np.prod(shape))
            base = np.arange(n, dtype=np.float64) * 7.25 - 11
            if dtype == "bool":
                a = (np.arange(n) % 3 == 0).reshape(shape)
            elif dtype in ("float32", "float64"):
                a = base.astype(dtype).reshape(shape)
                if n > 2:
                    a.flat[0], a.flat[1] = np.finfo(dtype).max, -np.finfo(dtype).tiny
            else:
                info = np.iinfo(dtype)
                a = (np.arange(n) * 37 % 200).astype(dtype).reshape(shape)
                if n > 2:
                    a.flat[0], a.flat[1] = info.max, info.min
            arrays[f"{dtype}_{i}_c"] = np.ascontiguousarray(a)
            if len(shape) >= 2:
                arrays[f"{dtype}_{i}_f"] = np.asfortranarray(a)
    return arrays


def describe(a):
    flat = np.ravel(a, order="C")
    if a.dtype == np.bool_:
        values = [bool(v) for v in flat]
    elif a.dtype == np.int64:
        values = [str(int(v)) for v in flat]
    elif a.dtype.kind in "iu":
        values = [int(v) for v in flat]
    else:
        values = [num(v) for v in flat]
    fortran = bool(a.flags.f_contiguous and not a.flags.c_contiguous)
    return {"dtype": str(a.dtype), "shape": list(a.shape), "fortran": fortran, "values": values}


def write_npy(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    arrays = npy_arrays()
    for name, a in arrays.items():
        np.save(os.path.join(out_dir, f"{name}.npy"), a)
    small = {k: v for k, v in arrays.items() if k.endswith("_0_c") or k.endswith("_0_f")}
    np.savez(os.path.join(out_dir, "plain.npz"), **small)
    np.savez_compressed(os.path.join(out_dir, "compressed.npz"), **small)
    return {"numpy": np.__version__, "arrays": {k: describe(v) for k, v in arrays.items()},
            "npz": sorted(small)}


def read_npy(in_dir):
    out = {}
    for path in sorted(glob.glob(os.path.join(in_dir, "*.npy"))):
        out[os.path.basename(path)] = describe(np.load(path))
    for path in sorted(glob.glob(os.path.join(in_dir, "*.npz"))):
        with np.load(path) as z:
            out[os.path.basename(path)] = {k: describe(z[k]) for k in z.files}
    return out


def main():
    command, args = sys.argv[1], sys.argv[2:]
    result = {
        "write_records": lambda: write_records(args[0]),
        "read_records": lambda: read_records(args[0]),
        "write_npy": lambda: write_npy(args[0]),
        "read_npy": lambda: read_npy(args[0]),
    }[command]()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
