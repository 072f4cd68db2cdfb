#!/usr/bin/env python3
"""Keras/TensorFlow CPU epoch times on the authors' data, the yardstick of
`cargo bench -p paper --bench epoch`.

Usage: keras_epoch.py DAT_DIR EPOCHS ARCH-HIDDEN [ARCH-HIDDEN ...]
  DAT_DIR  folder of Sequence_NN.dat files (index, time, 4 outputs, 4 inputs) and split.json
  EPOCHS   epochs to time per model (after one untimed warm-up epoch)
Prints one JSON object per model: {"arch", "hidden", "params", "seconds_per_epoch"}.

The model is the paper's: one recurrent layer (SimpleRNN / LSTM / GRU with
reset_after=False, return_sequences=True) and TimeDistributed(Dense(4)); Adam, MSE loss,
batch 32, validation data evaluated every epoch (as the authors' ModelCheckpoint needs).
Needs `pip install tensorflow-cpu` (measured with TensorFlow 2.21, Keras 3.15).
"""
import glob
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import keras  # noqa: E402


def load(dat_dir):
    files = sorted(glob.glob(os.path.join(dat_dir, "*.dat")))
    data = np.stack([np.loadtxt(f) for f in files]).astype("float32")
    x, y = data[:, :, 6:10], data[:, :, 2:6]
    with open(os.path.join(dat_dir, "split.json")) as f:
        split = json.load(f)
    pick = lambda key: [n - 1 for n in split[key]]  # noqa: E731
    return (x[pick("train")], y[pick("train")]), (x[pick("valid")], y[pick("valid")])


class Timer(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self.start)


def layer(arch, hidden):
    if arch == "gru":
        return keras.layers.GRU(hidden, return_sequences=True, reset_after=False)
    if arch == "lstm":
        return keras.layers.LSTM(hidden, return_sequences=True)
    return keras.layers.SimpleRNN(hidden, return_sequences=True)


def main():
    dat_dir, epochs, models = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    (xt, yt), (xv, yv) = load(dat_dir)
    for spec in models:
        arch, hidden = spec.split("-")
        hidden = int(hidden)
        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [keras.Input(xt.shape[1:]), layer(arch, hidden), keras.layers.TimeDistributed(keras.layers.Dense(4))]
        )
        lr = 0.001 if arch == "rnn" else 0.05
        model.compile(optimizer=keras.optimizers.Adam(lr), loss="mean_squared_error")
        timer = Timer()
        model.fit(xt, yt, batch_size=32, epochs=epochs + 1, validation_data=(xv, yv), verbose=0, callbacks=[timer])
        per_epoch = float(np.median(timer.times[1:]))
        print(json.dumps({"arch": arch, "hidden": hidden, "params": model.count_params(), "seconds_per_epoch": per_epoch}),
              flush=True)


if __name__ == "__main__":
    main()
