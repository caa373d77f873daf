# The seed's MNIST model in TensorFlow 2 (Keras 3 layers, as TF 2.21 users write it):
# conv 5x5x32, pool, conv 5x5x64, pool, dense 1024, dropout 0.5, dense 10; Adam.
# Shared by the TensorFlow peer (one training step) and tf_memory.py (peak memory).
import keras
import tensorflow as tf


def mnist_model():
    conv = {"padding": "same", "activation": "relu"}
    pool = {"pool_size": 2, "strides": 2, "padding": "same"}
    return keras.Sequential([
        keras.Input(shape=(784,)),
        keras.layers.Reshape((28, 28, 1)),
        keras.layers.Conv2D(32, 5, **conv),
        keras.layers.MaxPooling2D(**pool),
        keras.layers.Conv2D(64, 5, **conv),
        keras.layers.MaxPooling2D(**pool),
        keras.layers.Flatten(),
        keras.layers.Dense(1024, activation="relu"),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(10),
    ])


def train_step(learning_rate):
    """A new model and optimizer; returns step(images, labels) -> loss (eager)."""
    model = mnist_model()
    optimizer = keras.optimizers.Adam(learning_rate)

    def step(images, labels):
        with tf.GradientTape() as tape:
            logits = model(images, training=True)
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    return step
