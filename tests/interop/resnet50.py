# Writes a checkpoint of TensorFlow 2.21 Keras's ResNet50 for tests/resnet50_interop_test.ts,
# and what the model computes on a fixed batch, as JSON on stdout.
#
#   python resnet50.py <prefix> <batch> <size> <classes>
#
# The model is ResNet50(weights=None, classifier_activation=None) with seeded random weights.
# So that inference exercises every weight at a sane scale, BatchNormalization's gamma, beta
# and the convolutions' biases are randomised, and the moving statistics are set to the
# statistics of a calibration batch (one training-mode call with momentum 0). The variables
# are saved in the tensor-bundle format under their Keras paths ("conv1_conv/kernel", ...).
# Then, on a different fixed batch (other mean and spread): the inference-mode logits; and after one training-mode
# call, its logits and the moving statistics of a few BatchNormalization layers.
import json
import sys

import numpy as np
import tensorflow as tf

prefix = sys.argv[1]
batch, size, classes = (int(a) for a in sys.argv[2:5])
tf.keras.utils.set_random_seed(1)
rng = np.random.default_rng(1)
model = tf.keras.applications.ResNet50(
    weights=None, classifier_activation=None, input_shape=(size, size, 3), classes=classes)
bns = [layer for layer in model.layers if isinstance(layer, tf.keras.layers.BatchNormalization)]
for layer in bns:
    layer.gamma.assign(rng.uniform(0.8, 1.2, layer.gamma.shape).astype(np.float32))
    layer.beta.assign(rng.uniform(-0.1, 0.1, layer.beta.shape).astype(np.float32))
for layer in model.layers:
    if isinstance(layer, (tf.keras.layers.Conv2D, tf.keras.layers.Dense)):
        layer.bias.assign(rng.uniform(-0.05, 0.05, layer.bias.shape).astype(np.float32))
calibration = rng.normal(size=(4, size, size, 3)).astype(np.float32)
for layer in bns:
    layer.momentum = 0.0
model(calibration, training=True)
for layer in bns:
    layer.momentum = 0.99

variables = model.variables
tf.raw_ops.SaveV2(
    prefix=prefix,
    tensor_names=[v.path for v in variables],
    shape_and_slices=[""] * len(variables),
    tensors=[tf.convert_to_tensor(v) for v in variables],
)
# Shifted and wider than the calibration batch, so that one update moves every statistic.
x = rng.normal(0.3, 1.5, size=(batch, size, size, 3)).astype(np.float32)
inference = model(x, training=False).numpy()
training = model(x, training=True).numpy()
watched = ["conv1_bn", "conv2_block1_0_bn", "conv3_block2_2_bn", "conv4_block6_3_bn", "conv5_block3_3_bn"]
moving = {
    name: {
        "moving_mean": model.get_layer(name).moving_mean.numpy().tolist(),
        "moving_variance": model.get_layer(name).moving_variance.numpy().tolist(),
    }
    for name in watched
}
print(json.dumps({
    "x": x.tolist(),
    "paths": [v.path for v in variables],
    "trainable": len(model.trainable_variables),
    "inference": inference.tolist(),
    "training": training.tolist(),
    "moving": moving,
}))
