"""celegans from Python: read, simulate and learn the C. elegans connectome (NeuroML2/c302).

The same program as the ``celegans`` command line, as a library: NumPy arrays in and out,
errors as :class:`celegans.Error` with the command line's one-line messages, long runs
without holding the GIL.

>>> import celegans
>>> model = celegans.Model.bundled()                      # OpenWorm's c302 D1 connectome
>>> r = model.simulate(stimulus={"PLML": 15.0, "AVBL": 15.0}, record=["AVBL", "DB1"],
...                    dt=0.1, duration=500.0)
>>> r["time"].shape, r["v"].shape                          # ms; mV, one column per neuron
((5000,), (5000, 2))
"""
import json as _json
import os as _os
import shutil as _shutil
import tempfile as _tempfile

import numpy as _np

from . import dataset
from ._progress import Progress as _Progress
from ._celegans import Error, __version__
from ._celegans import Model as _NativeModel
from ._celegans import Surrogate as _NativeSurrogate
from ._celegans import evaluate as _evaluate
from ._celegans import train as _train
from ._celegans import dataset_to_nwb as _dataset_to_nwb
from ._celegans import recording_to_nwb as _recording_to_nwb
from ._celegans import run_lems as _run_lems

__all__ = ["Error", "Model", "Surrogate", "run_lems", "to_nwb", "dataset", "__version__"]


class Model:
    """A NeuroML2/LEMS network: the bundled c302 D1 connectome or a file of your own."""

    def __init__(self, native):
        self._native = native

    @classmethod
    def bundled(cls):
        """OpenWorm's c302 parameter set D1, the 302-neuron network the paper uses."""
        return cls(_NativeModel(None))

    @classmethod
    def load(cls, path):
        """A LEMS file (``LEMS_*.xml``) or a ``.net.nml`` network."""
        return cls(_NativeModel(_os.fspath(path)))

    @property
    def path(self):
        """The file the model was loaded from (None: the bundled model)."""
        return self._native.path

    @property
    def sha256(self):
        """SHA-256 of the model's files, as datasets record it."""
        return self._native.sha256

    def info(self):
        """Cells, compartments, channels, synapses, ... as ``celegans model info --json``."""
        return _json.loads(self._native.info())

    def simulate(self, stimulus=None, record=None, ablate=(), dt=0.1, duration=500.0,
                 settle=0.0, method=None):
        """Simulates the network with current inputs and records soma potentials.

        stimulus: {neuron: current in pA}, a number (a step over the whole run) or an array
            of duration/dt values (the current during each step).
        record: neurons whose potential is recorded (None or []: every neuron).
        ablate: neurons removed with their connections and inputs.
        dt, duration, settle: time step, recorded time and time run first with no input
            [ms]; method: "cn" (Crank–Nicolson, the default) or "be" (backward Euler).

        Returns {"time": (T,) ms, "v": (T, R) mV, "names": the R neurons, "inputs": (T, I)
        pA, "input_names": the I neurons, "dt": dt, "model_sha256": ...}, T = duration/dt
        samples from t = 0.
        """
        stimulus = stimulus or {}
        currents = []
        for neuron, current in stimulus.items():
            if _np.ndim(current) == 0:
                currents.append((str(neuron), float(current)))
            else:
                currents.append((str(neuron), _np.ascontiguousarray(current, dtype=_np.float64)))
        time, names, v, inputs, input_names = self._native.simulate(
            currents, list(record or []), list(ablate), float(dt), float(duration),
            float(settle), method)
        return {"time": time, "v": v, "names": names, "inputs": inputs,
                "input_names": input_names, "dt": float(dt), "model_sha256": self.sha256}

    def simulate_frame(self, *args, **kwargs):
        """:meth:`simulate` as a pandas DataFrame: index time [ms], one column per recorded
        neuron [mV]."""
        import pandas as pd

        r = self.simulate(*args, **kwargs)
        return pd.DataFrame(r["v"], index=pd.Index(r["time"], name="time_ms"),
                            columns=r["names"])

    def __repr__(self):
        return f"celegans.Model({self.path or 'bundled c302 D1'!s})"


def run_lems(path, dt=None, duration=None, method=None, rtol=None):
    """Runs a LEMS file's ``<Simulation>`` as ``celegans run`` (and pyNeuroML's
    ``run_lems_with_jneuroml_neuron``) would, without Java, NEURON or files.

    Returns {"time": seconds, quantity: values}: one entry per ``<OutputFile>`` column,
    keyed by its LEMS quantity (``"AVBL/0/AVBL/v"``), in SI units (V, mol/m³) as the
    output files hold them. ``dt`` and ``duration`` [ms] override the file's.
    ``rtol``: variable steps within this relative tolerance (``celegans run --dt auto
    --rtol``; graded networks), the outputs still sampled every ``dt``.
    """
    return _run_lems(_os.fspath(path), dt, duration, method, rtol)


def to_nwb(source, path, session_start=None):
    """Writes a dataset file (a path) or a :meth:`Model.simulate` result as an NWB 2 file.

    session_start: the session's start (RFC 3339, e.g. "2026-12-07T10:00:00Z"; None: now).
    """
    if isinstance(source, dict):
        _recording_to_nwb(source["dt"], _np.ascontiguousarray(source["inputs"], _np.float64),
                          list(source["input_names"]),
                          _np.ascontiguousarray(source["v"], _np.float64), list(source["names"]),
                          source["model_sha256"], _os.fspath(path), session_start)
    else:
        _dataset_to_nwb(_os.fspath(source), _os.fspath(path), session_start)
    return path


def _data_path(data):
    """A dataset file's path, from a path or a :func:`celegans.dataset.load` dict."""
    if isinstance(data, dict):
        if "path" not in data:
            raise Error("data: a dataset file's path or the dict celegans.dataset.load returns")
        return data["path"]
    return _os.fspath(data)


class Surrogate:
    """A recurrent surrogate of a dataset's input→output behaviour (the paper's RNN, LSTM
    or GRU with a dense read-out), as ``celegans train`` makes it."""

    def __init__(self, path, report=None, _keep=None):
        self._path = _os.fspath(path)
        self._native = _NativeSurrogate(self._path)
        self._keep = _keep  # a temporary directory that holds the model, if any
        #: What ``celegans train --json`` reports (runs, RMSE per split, time), after train.
        self.report = report

    @classmethod
    def train(cls, data, arch="gru", hidden=4, epochs=1000, runs=1, seed=0, lr=None, batch=32,
              loss="rmse", scale="auto", reset_after=False, out=None, progress=True,
              recoveries=8):
        """Trains ``runs`` runs of ``epochs`` epochs on a dataset (a file or the dict of
        :func:`celegans.dataset.load`) and keeps the best on validation. Defaults are the
        paper's protocol (Adam, batches of 32; lr 0.001 for RNN, for LSTM/GRU 0.05 on
        unscaled data and 0.02 on standardized data, where 0.05 diverges);
        ``out``: the model directory to write (default: a temporary one; see :meth:`save`);
        ``progress``: show the epochs as they pass; ``recoveries``: how many times a run
        whose gradients explode is restored to its best epoch and continued at half the
        rate (0: such a run is an error). The report lists each run's recoveries."""
        keep = None
        if out is None:
            keep = _tempfile.TemporaryDirectory(prefix="celegans-surrogate-")
            out = _os.path.join(keep.name, "model")
        with _Progress("epochs", progress) as bar:
            report = _json.loads(_train(_data_path(data), str(arch), int(hidden),
                                        _os.fspath(out), int(epochs), int(runs), int(seed), lr,
                                        int(batch), str(loss), str(scale), bool(reset_after),
                                        int(recoveries), bar))
        return cls(out, report=report, _keep=keep)

    @classmethod
    def load(cls, path):
        """A model directory written by ``celegans train`` or :meth:`save`."""
        return cls(path)

    @property
    def input_names(self):
        return self._native.input_names

    @property
    def output_names(self):
        return self._native.output_names

    @property
    def model(self):
        """The model directory's ``model.json``: architecture, names, units, scaling, ..."""
        return _json.loads(self._native.model_json())

    def predict(self, inputs):
        """Outputs for inputs in the model's input order and units: (N, T, I) → (N, T, O),
        or (T, I) → (T, O)."""
        x = _np.ascontiguousarray(inputs, dtype=_np.float32)
        if x.ndim == 2:
            return self._native.predict(x[None])[0]
        if x.ndim != 3:
            raise Error(f"inputs: shape {x.shape}, expected (N, T, I) or (T, I)")
        return self._native.predict(x)

    def evaluate(self, data):
        """RMSE per split (and per output) on a dataset, as ``celegans evaluate --json``."""
        return _json.loads(_evaluate(self._path, _data_path(data)))

    def save(self, path):
        """Copies the model directory to ``path`` (replacing it whole); returns ``path``."""
        path = _os.fspath(path)
        partial = path.rstrip("/") + ".partial"
        _shutil.rmtree(partial, ignore_errors=True)
        _shutil.copytree(self._path, partial)
        _shutil.rmtree(path, ignore_errors=True)
        _os.replace(partial, path)
        return path

    def __repr__(self):
        m = self.model["architecture"]
        return f"celegans.Surrogate({m.get('cell', '?')}-{m.get('hidden', '?')}, {self._path})"
