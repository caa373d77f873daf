# Writes a checkpoint of TensorFlow 2.21 Keras LSTM and GRU layers for
# tests/recurrent_interop_test.ts: random weights (seeded), saved in the tensor-bundle format
# under each variable's Keras path ("lstm/lstm_cell/kernel", ...), and the layers' outputs
# and final states for a fixed input, as JSON on stdout.
#
#   python recurrent_checkpoint.py <prefix>
import json
import sys

import numpy as np
import tensorflow as tf

prefix = sys.argv[1]
rng = np.random.default_rng(7)
x = rng.uniform(-1, 1, size=(2, 6, 3)).astype(np.float32)
lstm = tf.keras.layers.LSTM(5, return_sequences=True, return_state=True)
gru = tf.keras.layers.GRU(4, return_sequences=True, return_state=True)
lstm(x)
gru(x)
variables = lstm.weights + gru.weights
for v in variables:
    v.assign(rng.uniform(-0.5, 0.5, size=v.shape).astype(np.float32))
tf.raw_ops.SaveV2(
    prefix=prefix,
    tensor_names=[v.path for v in variables],
    shape_and_slices=[""] * len(variables),
    tensors=[tf.convert_to_tensor(v) for v in variables],
)
lstm_out, lstm_h, lstm_c = lstm(x)
gru_out, gru_h = gru(x)
print(json.dumps({
    "x": x.tolist(),
    "paths": [v.path for v in variables],
    "lstm": [t.numpy().tolist() for t in (lstm_out, lstm_h, lstm_c)],
    "gru": [t.numpy().tolist() for t in (gru_out, gru_h)],
}))
