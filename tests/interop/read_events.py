"""Reads an event directory written by deno-eager with TensorBoard's and TensorFlow's own
readers and prints what they saw as JSON (compared by tests/summary_interop_test.ts).

usage: read_events.py LOGDIR [HISTOGRAM_DATA_JSON]

- TensorBoard: the data provider its dashboards use (EventMultiplexer +
  MultiplexerDataProvider): read_scalars for "scalars", read_tensors for "histograms" and
  "text", read_blob_sequences + read_blob for "images" (PNGs decoded by tf.io.decode_png).
- TensorFlow: tf.compat.v1.train.summary_iterator (events, steps, tags) and
  tf.data.TFRecordDataset (the record framing and checksums).
- With HISTOGRAM_DATA_JSON ({"tag": [values...]}), TensorBoard's own bucketing of those
  values (tf.summary.histogram's _buckets, 30 buckets) for comparison.
"""
import glob
import json
import os
import sys

import numpy as np
import tensorflow as tf
from tensorboard import context
from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
from tensorboard.plugins.histogram import summary_v2 as histogram_v2


def main():
    logdir = sys.argv[1]
    out = {}
    files = sorted(glob.glob(os.path.join(logdir, "*tfevents*")))
    out["files"] = [os.path.basename(f) for f in files]
    out["summary_iterator"] = []
    out["tfrecord_count"] = 0
    for path in files:
        for event in tf.compat.v1.train.summary_iterator(path):
            entry = {"step": event.step, "wall_time": event.wall_time}
            if event.HasField("file_version"):
                entry["file_version"] = event.file_version
            if event.HasField("summary"):
                entry["tags"] = [v.tag for v in event.summary.value]
                entry["plugins"] = [v.metadata.plugin_data.plugin_name for v in event.summary.value]
            out["summary_iterator"].append(entry)
        out["tfrecord_count"] += sum(1 for _ in tf.data.TFRecordDataset(path))

    multiplexer = plugin_event_multiplexer.EventMultiplexer()
    multiplexer.AddRunsFromDirectory(logdir)
    multiplexer.Reload()
    provider = data_provider.MultiplexerDataProvider(multiplexer, logdir)
    eid = ""
    ctx = context.RequestContext()
    out["plugins"] = sorted(provider.list_plugins(ctx, experiment_id=eid))

    def by_tag(result):
        return {tag: data for run in result.values() for tag, data in run.items()}

    scalars = by_tag(provider.read_scalars(ctx, experiment_id=eid, plugin_name="scalars", downsample=10000))
    out["scalars"] = {t: [[d.step, d.value] for d in data] for t, data in scalars.items()}

    hist = by_tag(provider.read_tensors(ctx, experiment_id=eid, plugin_name="histograms", downsample=10000))
    out["histograms"] = {t: [[d.step, d.numpy.tolist()] for d in data] for t, data in hist.items()}

    text = by_tag(provider.read_tensors(ctx, experiment_id=eid, plugin_name="text", downsample=10000))
    out["text"] = {
        t: [[d.step, list(d.numpy.shape), [s.decode("utf-8") for s in d.numpy.flatten()]] for d in data]
        for t, data in text.items()
    }

    blobs = by_tag(provider.read_blob_sequences(ctx, experiment_id=eid, plugin_name="images", downsample=10000))
    out["images"] = {}
    for tag, data in blobs.items():
        series = []
        for datum in data:
            values = [provider.read_blob(ctx, blob_key=ref.blob_key) for ref in datum.values]
            width, height = (v.decode("ascii") for v in values[:2])
            images = [tf.io.decode_png(png, channels=0).numpy() for png in values[2:]]
            series.append([datum.step, width, height, [[list(i.shape), i.flatten().tolist()] for i in images]])
        out["images"][tag] = series

    if len(sys.argv) > 2:
        with open(sys.argv[2]) as f:
            data = json.load(f)
        out["reference_buckets"] = {
            tag: histogram_v2._buckets(tf.constant(np.array(values, dtype=np.float64)), 30).numpy().tolist()
            for tag, values in data.items()
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
