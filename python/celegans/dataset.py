"""Stimulus/response datasets: generate them from a model, load them as NumPy arrays."""
import os as _os

from ._celegans import generate_dataset as _generate
from ._progress import Progress
from ._celegans import load_dataset as _load


def generate(scenario="fcm", dt=0.5, count=None, seed=0, path="dataset.h5", duration=500.0,
             settle=1000.0, method=None, model=None, progress=True):
    """Simulates a scenario (``fcm``, ``fcm16``, ``nictation``, ``fcm+nictation``,
    ``fcm-no-avb``, ``fcm-no-ava`` or a ``.toml`` file) with ``count`` seeded stimuli
    (default 40 per behaviour) and writes the dataset file ``path`` (HDF5), as
    ``celegans dataset generate`` does, showing its progress (``progress=False``: none).
    Returns ``path``."""
    with Progress("sequences", progress) as bar:
        _generate(str(scenario), _os.fspath(path), float(dt), count, int(seed), float(duration),
                  float(settle), method, None if model is None else _os.fspath(model), bar)
    return path


def load(path):
    """A dataset file as a dict: "inputs" (N, T, I) pA, "outputs" (N, T, O) mV, "time" (T,)
    ms, "split" (N labels: train, valid, test), "input_names", "output_names", units, "dt",
    "scenario", "seed", "model_sha256", "generator" (and "voltages", "cell_names" when
    every neuron was recorded), and "path"."""
    d = _load(_os.fspath(path))
    d["path"] = _os.fspath(path)
    return d
