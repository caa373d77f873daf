# The ResNet-50 cases, TensorFlow's side (bench/cases/resnet50.ts): Keras's ResNet50
# (weights=None, classifier_activation=None: logits, as ours) on one fixed synthetic batch
# (uniform images, random labels of 1000 classes). "train": a step is forward in training
# mode, sparse softmax cross-entropy, backward and keras.optimizers.SGD(0.1, momentum=0.9);
# "infer": forward in inference mode. Eager, or inside tf.function with "graph". Prints
# `@@bench {"stepSeconds": [...], "peakBytes": ...}`: the time of every step (warm-up steps
# first) and the peak resident set (VmHWM) of this whole process.
#
#   python tf_resnet50.py train|infer eager|graph <steps> <batch> <size>
import json
import os
import re
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

mode, how = sys.argv[1], sys.argv[2]
steps, batch, size = (int(a) for a in sys.argv[3:6])
rng = np.random.default_rng(0)
images = tf.constant(rng.random((batch, size, size, 3), dtype=np.float32))
labels = tf.constant(rng.integers(0, 1000, batch, dtype=np.int32))
model = keras.applications.ResNet50(
    weights=None, classifier_activation=None, input_shape=(size, size, 3))
optimizer = keras.optimizers.SGD(0.1, momentum=0.9)


def train_step(x, y):
    with tf.GradientTape() as tape:
        logits = model(x, training=True)
        loss = tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return loss


def infer_step(x, y):
    return model(x, training=False)[0, 0]


step = train_step if mode == "train" else infer_step
if how == "graph":
    step = tf.function(step)
times = []
for _ in range(steps):
    start = time.perf_counter()
    float(step(images, labels))  # reading the value waits for the step
    times.append(time.perf_counter() - start)
with open("/proc/self/status") as status:
    kib = int(re.search(r"^VmHWM:\s+(\d+) kB", status.read(), re.M).group(1))
print("@@bench " + json.dumps({"stepSeconds": times, "peakBytes": kib * 1024}), flush=True)
