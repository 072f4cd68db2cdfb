#!/usr/bin/env python3
"""Reference numbers from Keras for the surrogate's numerical-equivalence test.

For each recurrence (SimpleRNN, LSTM, GRU with reset_after=False, GRU with reset_after=True)
a small model of the paper's shape — one recurrent layer (return_sequences=True) and
TimeDistributed(Dense) — is built with fixed weights (drawn here from a seeded NumPy
generator, in the layout `weights.json` uses, which is Keras's) on fixed data. Written to
`surrogate/tests/fixtures/keras_reference.json`:

* the MSE loss of the first batch with the initial weights, and its gradient with respect to
  every weight array (tf.GradientTape);
* the weights after one epoch of Adam (learning rate 0.05, Keras's defaults otherwise:
  beta_1 0.9, beta_2 0.999, epsilon 1e-7) over the batches in order (no shuffling).

    python3 tools/keras_reference.py [OUT.json]

Needs `pip install tensorflow-cpu` (written with TensorFlow 2.21, Keras 3.15).
"""
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

HIDDEN, INPUTS, OUTPUTS, SEQUENCES, STEPS, BATCH, LR = 3, 2, 2, 4, 6, 2, 0.05
KINDS = {
    # name: (Keras layer, gates, has a recurrent bias)
    "rnn": (lambda: keras.layers.SimpleRNN(HIDDEN, return_sequences=True), 1, False),
    "lstm": (lambda: keras.layers.LSTM(HIDDEN, return_sequences=True), 4, False),
    "gru": (lambda: keras.layers.GRU(HIDDEN, return_sequences=True, reset_after=False), 3, False),
    "gru_reset_after": (lambda: keras.layers.GRU(HIDDEN, return_sequences=True, reset_after=True), 3, True),
}


def model_for(kind):
    layer, _, _ = KINDS[kind]
    m = keras.Sequential([
        keras.Input((STEPS, INPUTS)),
        layer(),
        keras.layers.TimeDistributed(keras.layers.Dense(OUTPUTS)),
    ])
    return m


def ours_to_keras(kind, w):
    """Our named arrays -> the Keras layer's weight list (same numbers, Keras's shapes)."""
    _, g, rb = KINDS[kind]
    width = g * HIDDEN
    kernel = np.array(w["kernel"], "float32").reshape(INPUTS, width)
    recurrent = np.array(w["recurrent"], "float32").reshape(HIDDEN, width)
    bias = np.array(w["bias"], "float32")
    if rb:
        bias = np.stack([bias, np.array(w["recurrent_bias"], "float32")])
    dense = np.array(w["dense"], "float32").reshape(HIDDEN, OUTPUTS)
    dense_bias = np.array(w["dense_bias"], "float32")
    return [kernel, recurrent, bias, dense, dense_bias]


def keras_to_ours(kind, arrays):
    _, _, rb = KINDS[kind]
    kernel, recurrent, bias, dense, dense_bias = [np.asarray(a, "float64") for a in arrays]
    out = {"kernel": kernel.ravel(), "recurrent": recurrent.ravel()}
    if rb:
        out["bias"], out["recurrent_bias"] = bias[0].ravel(), bias[1].ravel()
    else:
        out["bias"], out["recurrent_bias"] = bias.ravel(), np.zeros(0)
    out["dense"], out["dense_bias"] = dense.ravel(), dense_bias.ravel()
    return {k: [float(x) for x in v] for k, v in out.items()}


def main():
    out_path = sys.argv[1] if len(sys.argv) > 1 else "surrogate/tests/fixtures/keras_reference.json"
    rng = np.random.default_rng(302)
    x = rng.normal(0, 1, (SEQUENCES, STEPS, INPUTS)).astype("float32")
    y = rng.normal(0, 1, (SEQUENCES, STEPS, OUTPUTS)).astype("float32")
    cases = {}
    for kind, (_, g, rb) in KINDS.items():
        width = g * HIDDEN
        initial = {
            "kernel": rng.uniform(-0.6, 0.6, INPUTS * width),
            "recurrent": rng.uniform(-0.6, 0.6, HIDDEN * width),
            "bias": rng.uniform(-0.2, 0.2, width),
            "recurrent_bias": rng.uniform(-0.2, 0.2, width) if rb else np.zeros(0),
            "dense": rng.uniform(-0.6, 0.6, HIDDEN * OUTPUTS),
            "dense_bias": rng.uniform(-0.2, 0.2, OUTPUTS),
        }
        initial = {k: [float(np.float32(v)) for v in a] for k, a in initial.items()}
        model = model_for(kind)
        model.set_weights(ours_to_keras(kind, initial))
        mse = keras.losses.MeanSquaredError()
        with tf.GradientTape() as tape:
            loss = mse(y[:BATCH], model(x[:BATCH], training=True))
        grads = tape.gradient(loss, model.trainable_weights)
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=LR), loss="mse")
        model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
        cases[kind] = {
            "initial": initial,
            "first_batch_loss": float(loss),
            "first_batch_gradients": keras_to_ours(kind, [g.numpy() for g in grads]),
            "after_one_epoch": keras_to_ours(kind, model.get_weights()),
        }
    data = {
        "provenance": (
            f"tools/keras_reference.py, TensorFlow {tf.__version__}, Keras {keras.__version__}, "
            f"NumPy {np.__version__}; seed 302"
        ),
        "hidden": HIDDEN, "inputs": INPUTS, "outputs": OUTPUTS, "sequences": SEQUENCES,
        "steps": STEPS, "batch": BATCH, "learning_rate": LR,
        "x": [float(v) for v in x.ravel()], "y": [float(v) for v in y.ravel()],
        "cases": cases,
    }
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    with open(out_path, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    print(f"wrote {out_path}")


if __name__ == "__main__":
    main()
