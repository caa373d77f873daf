# The PTB language model of examples/ptb_model.ts in TensorFlow 2 (Keras 3 layers, as TF
# 2.21 users write it): embedding, a stack of Keras LSTM layers carrying their state from
# step to step (truncated backprop through time), dense over the vocabulary; the cost is
# the mean cross-entropy times the steps (ptb_word_lm's), gradients clipped by global norm
# 5, SGD. Shared by the TensorFlow peer (one training step, eager and tf.function) and
# tf_lstm_memory.py (peak memory).
import keras
import tensorflow as tf


class LanguageModel:
    def __init__(self, vocab, hidden, layers, init_scale):
        init = keras.initializers.RandomUniform(-init_scale, init_scale)
        weights = {"kernel_initializer": init, "bias_initializer": init}
        self.hidden = hidden
        self.embedding = keras.layers.Embedding(vocab, hidden, embeddings_initializer=init)
        self.lstms = [
            keras.layers.LSTM(hidden, return_sequences=True, return_state=True,
                              recurrent_initializer=init, unit_forget_bias=False, **weights)
            for _ in range(layers)
        ]
        self.dense = keras.layers.Dense(vocab, **weights)

    def __call__(self, ids, state):
        x = self.embedding(ids)
        final = []
        for i, lstm in enumerate(self.lstms):
            x, h, c = lstm(x, initial_state=state[2 * i:2 * i + 2])
            final += [h, c]
        return self.dense(tf.reshape(x, [-1, self.hidden])), final

    @property
    def trainable_variables(self):
        layers = [self.embedding, *self.lstms, self.dense]
        return [v for layer in layers for v in layer.trainable_variables]


def train_step(p):
    """A new model and optimizer; returns step(ids, targets, state) -> (loss, state)."""
    model = LanguageModel(p["vocab"], p["hidden"], p["layers"], 0.1)
    optimizer = keras.optimizers.SGD(float(p["learningRate"]))
    steps = p["steps"]

    def step(ids, targets, state):
        with tf.GradientTape() as tape:
            logits, final = model(ids, state)
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits))
            cost = loss * steps
        variables = model.trainable_variables
        grads, _ = tf.clip_by_global_norm(tape.gradient(cost, variables), p["clip"])
        optimizer.apply_gradients(zip(grads, variables))
        return loss, final

    return step


def zero_state(p):
    return [tf.zeros([p["batch"], p["hidden"]]) for _ in range(2 * p["layers"])]
