#!/usr/bin/env python3
"""Does the authors' Keras diverge where ours does? (#15, docs/keras-equivalence.md)

Trains the paper's Keras model (one recurrent layer with return_sequences=True and
TimeDistributed(Dense)) on one of our dataset files with the protocol `celegans train` uses
by default on it — per-channel standardisation from the training split (our `--scale
auto` on mV/pA data), Adam (learning rate, beta_1 0.9, beta_2 0.999, epsilon 1e-7), batches
of 32 shuffled every epoch, RMSE or MSE loss, Keras's initialisers — for several seeds,
and reports for each run whether and when the loss became NaN or infinite, the epoch of the
lowest validation loss and that epoch's test RMSE in the data's units (mV), as `celegans
train` reports it. One JSON line per run
is appended to OUT.

    python3 tools/keras_divergence.py DATA.h5 OUT.jsonl [--arch gru] [--hidden 32]
        [--lr 0.05] [--loss rmse|mse] [--epochs 1000] [--seeds 0,1,2]

Needs `pip install tensorflow-cpu h5py` (written with TensorFlow 2.21, Keras 3.15).
"""
import argparse
import json
import math
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

from keras_epoch import layer  # noqa: E402  (the paper's recurrent layer, as the epoch benchmark builds it)


def load(path):
    """Inputs (N, T, I), outputs (N, T, O) and the split (0 train, 1 valid, 2 test)."""
    with h5py.File(path, "r") as f:
        return (np.asarray(f["inputs"], "float32"), np.asarray(f["outputs"], "float32"),
                np.asarray(f["split"]))


def standardise(train, *others):
    """Per channel, mean and population standard deviation over the training split (ours)."""
    flat = train.reshape(-1, train.shape[-1]).astype("float64")
    mean = flat.mean(axis=0)
    std = np.sqrt(((flat - mean) ** 2).mean(axis=0))
    std[std <= 1e-12] = 1.0
    scale = lambda x: ((x - mean) / std).astype("float32")  # noqa: E731
    return [scale(train)] + [scale(o) for o in others], (mean, std)


class Watch(keras.callbacks.Callback):
    """Records the first non-finite training loss and the best validation epoch."""

    def __init__(self, valid, test):
        super().__init__()
        self.valid, self.test = valid, test
        self.nan_epoch = None
        self.best = (math.inf, None, None)

    def on_epoch_end(self, epoch, logs=None):
        loss = logs.get("loss")
        if (epoch + 1) % 50 == 0:
            print(f"epoch {epoch + 1}: loss {loss:.4g}, best valid {self.best[0]:.4g} at "
                  f"{self.best[1]}", flush=True)
        if loss is None or not math.isfinite(loss):
            self.nan_epoch = epoch + 1
            self.model.stop_training = True
            return
        v = logs.get("val_loss")
        if v is not None and math.isfinite(v) and v < self.best[0]:
            x, y, mean, std = self.test
            p = self.model.predict(x, verbose=0) * std + mean
            self.best = (v, epoch + 1, float(np.sqrt(np.mean((p - y) ** 2))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data")
    ap.add_argument("out")
    ap.add_argument("--arch", default="gru", choices=["gru", "lstm", "rnn"])
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--loss", default="rmse", choices=["rmse", "mse"])
    ap.add_argument("--epochs", type=int, default=1000)
    ap.add_argument("--seeds", default="0,1,2")
    a = ap.parse_args()

    x, y, split = load(a.data)
    (xt, xv, xs), _ = standardise(x[split == 0], x[split == 1], x[split == 2])
    (yt, yv, ys), (ymean, ystd) = standardise(y[split == 0], y[split == 1], y[split == 2])
    mse = keras.losses.MeanSquaredError()
    loss = mse if a.loss == "mse" else (lambda t, p: tf.sqrt(mse(t, p)))
    for seed in [int(s) for s in a.seeds.split(",")]:
        keras.utils.set_random_seed(seed)
        model = keras.Sequential([
            keras.Input((None, x.shape[2])),
            layer(a.arch, a.hidden),
            keras.layers.TimeDistributed(keras.layers.Dense(y.shape[2])),
        ])
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=a.lr), loss=loss)
        watch = Watch((xv, yv), (xs, y[split == 2], ymean, ystd))
        start = time.time()
        model.fit(xt, yt, batch_size=32, epochs=a.epochs, shuffle=True, verbose=0,
                  validation_data=(xv, yv), callbacks=[watch])
        seconds = time.time() - start
        best_v, best_epoch, best_test = watch.best
        row = {
            "tool": "keras", "tensorflow": tf.__version__, "keras": keras.__version__,
            "data": os.path.basename(a.data), "arch": a.arch, "hidden": a.hidden, "lr": a.lr,
            "loss": a.loss, "epochs": a.epochs, "seed": seed, "nan_epoch": watch.nan_epoch,
            "best_epoch": best_epoch, "best_valid_loss": best_v,
            "test_rmse": best_test, "seconds": seconds,
        }
        print(json.dumps(row), flush=True)
        with open(a.out, "a") as f:
            f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
