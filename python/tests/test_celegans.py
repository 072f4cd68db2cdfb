"""The Python package against the command line: the same requests give the same numbers,
the same errors the same one-line messages.

    pytest python/tests            # with the wheel installed; CELEGANS_BIN: the CLI binary
"""
import hashlib
import json
import os
import pathlib
import subprocess

import h5py
import numpy as np
import pytest

import celegans

ROOT = pathlib.Path(__file__).resolve().parents[2]
CLI = os.environ.get("CELEGANS_BIN", str(ROOT / "target" / "release" / "celegans"))
SINGLE_AVBL = ROOT / "simulator/tests/reference/single_AVBL/model/LEMS_c302_D1_single_AVBL.xml"


def cli(*args, ok=True):
    r = subprocess.run([CLI, *map(str, args)], capture_output=True, text=True)
    if ok:
        assert r.returncode == 0, r.stderr
    return r


@pytest.fixture(scope="module")
def model():
    return celegans.Model.bundled()


def test_model_info_is_the_command_lines(model):
    info = model.info()
    expected = json.loads(cli("model", "info", "--json").stdout)
    for key in ("cells", "compartments", "chemical_synapses", "gap_junctions"):
        assert info[key] == expected[key], key
    assert info["cells"] == 302
    assert len(model.sha256) == 64


def test_simulate_gives_the_command_lines_traces(model, tmp_path):
    dt, duration = 0.1, 300.0
    steps = int(round(duration / dt))
    t_mid = (np.arange(steps) + 0.5) * dt
    pulse = np.where((t_mid >= 100.0) & (t_mid < 250.0), 15.0, 0.0)
    r = model.simulate(stimulus={"PLML": pulse, "AVBL": pulse}, record=["AVBL", "DB1", "VB1"],
                       dt=dt, duration=duration)
    assert r["time"].shape == (steps,) and r["v"].shape == (steps, 3)
    assert r["names"] == ["AVBL", "DB1", "VB1"]
    np.testing.assert_array_equal(r["inputs"][:, 0], pulse)
    csv = tmp_path / "sim.csv"
    cli("simulate", "--stimulate", "PLML,AVBL", "--amplitude", 15, "--delay", 100, "--width", 150,
        "--record", "AVBL,DB1,VB1", "--dt", dt, "--duration", duration, "--out", csv)
    table = np.loadtxt(csv, delimiter=",", skiprows=1)
    np.testing.assert_allclose(table[:steps, 0], r["time"], atol=1e-9)
    np.testing.assert_allclose(table[:steps, 1:], r["v"], atol=1e-6, rtol=0)
    # The stimulus moved the network.
    assert np.ptp(r["v"][:, 0]) > 5.0
    frame = model.simulate_frame(stimulus={"AVBL": 15.0}, record=["AVBL"], dt=dt, duration=50.0)
    assert list(frame.columns) == ["AVBL"] and len(frame) == 500


def test_run_lems_gives_the_command_lines_output_files(tmp_path):
    traces = celegans.run_lems(SINGLE_AVBL, duration=100.0)
    out = tmp_path / "run"
    cli("run", SINGLE_AVBL, "--duration", 100, "--out-dir", out)
    files = sorted(out.glob("*.dat"))
    assert files
    lems = SINGLE_AVBL.read_text()
    checked = 0
    for f in files:
        table = np.loadtxt(f)
        np.testing.assert_allclose(table[:, 0], traces["time"], rtol=1e-6)
        # The OutputFile's columns in document order, keyed by quantity.
        block = lems.split(f'fileName="{f.name}"')[1].split("</OutputFile>")[0]
        quantities = [q.split('"')[0] for q in block.split('quantity="')[1:]]
        for c, q in enumerate(quantities):
            np.testing.assert_allclose(table[:, c + 1], traces[q], rtol=1e-6, atol=1e-15)
            checked += 1
    assert checked >= 2
    assert any(abs(traces[q]).max() > 0.01 for q in traces if q.endswith("/v"))


def test_run_lems_takes_variable_steps_as_the_command_line(tmp_path):
    # 200 ms: AVBL's current step starts at 100 ms.
    fixed = celegans.run_lems(SINGLE_AVBL, duration=200.0)
    auto = celegans.run_lems(SINGLE_AVBL, duration=200.0, rtol=1e-6)
    out = tmp_path / "auto"
    cli("run", SINGLE_AVBL, "--duration", 200, "--dt", "auto", "--rtol", "1e-6", "--out-dir", out)
    np.testing.assert_allclose(auto["time"], fixed["time"], rtol=1e-9)
    voltages = [q for q in fixed if q.endswith("/v")]
    assert voltages
    for q in voltages:
        # Another integration of the same cell: near the fixed step's, not equal to it.
        assert 0.0 < np.abs(auto[q] - fixed[q]).max() < 5e-3  # V
    lems = SINGLE_AVBL.read_text()
    files = sorted(out.glob("*.dat"))
    assert files
    for f in files:
        table = np.loadtxt(f)
        block = lems.split(f'fileName="{f.name}"')[1].split("</OutputFile>")[0]
        quantities = [q.split('"')[0] for q in block.split('quantity="')[1:]]
        for c, q in enumerate(quantities):
            np.testing.assert_allclose(table[:, c + 1], auto[q], rtol=1e-6, atol=1e-15)


def test_dataset_generate_and_load_are_the_command_lines(tmp_path):
    ours = celegans.dataset.generate("fcm", dt=0.5, count=4, seed=3, duration=100.0, settle=50.0,
                                     path=tmp_path / "py.h5")
    cli("dataset", "generate", "--scenario", "fcm", "--dt", 0.5, "--count", 4, "--seed", 3,
        "--duration", 100, "--settle", 50, "--out", tmp_path / "cli.h5")
    sha = lambda p: hashlib.sha256(pathlib.Path(p).read_bytes()).hexdigest()  # noqa: E731
    assert sha(ours) == sha(tmp_path / "cli.h5")
    d = celegans.dataset.load(ours)
    assert d["inputs"].shape == (4, 200, 4) and d["outputs"].shape == (4, 200, 4)
    with h5py.File(ours, "r") as f:
        np.testing.assert_array_equal(d["inputs"], f["inputs"][:])
        np.testing.assert_array_equal(d["outputs"], f["outputs"][:])
    assert d["output_names"] == ["DB1", "LUAL", "PVR", "VB1"]
    assert d["input_unit"] == "pA" and d["output_unit"] == "mV" and d["dt"] == 0.5
    assert set(d["split"]) <= {"train", "valid", "test"} and len(d["split"]) == 4


def test_to_nwb_from_a_dataset_file_and_from_a_simulation(model, tmp_path):
    data = celegans.dataset.generate("fcm", count=2, duration=50.0, settle=10.0,
                                     path=tmp_path / "d.h5")
    nwb = celegans.to_nwb(data, tmp_path / "d.nwb", session_start="2026-12-07T10:00:00Z")
    with h5py.File(nwb, "r") as f, h5py.File(data, "r") as d:
        assert f.attrs["neurodata_type"] == "NWBFile"
        np.testing.assert_array_equal(f["acquisition/membrane_potential_1/data"][:],
                                      d["outputs"][0])
    r = model.simulate(stimulus={"AVBL": 20.0}, record=["AVBL", "DB1"], dt=0.1, duration=30.0)
    sim_nwb = celegans.to_nwb(r, tmp_path / "sim.nwb")
    with h5py.File(sim_nwb, "r") as f:
        stored = f["acquisition/membrane_potential_1/data"][:]
        np.testing.assert_allclose(stored, r["v"].astype(np.float32))
        assert f["acquisition/membrane_potential_1/data"].attrs["conversion"] == 1e-3
        np.testing.assert_allclose(f["stimulus/presentation/injected_current_1/data"][:], 20.0)


def test_errors_are_the_command_lines_one_line_messages(model, tmp_path):
    missing = tmp_path / "missing.xml"
    with pytest.raises(celegans.Error) as e:
        celegans.run_lems(missing)
    expected = cli("run", missing, ok=False).stderr.strip()
    assert expected == f"error: {e.value}"
    with pytest.raises(celegans.Error, match="no cell 'NOPE'"):
        model.simulate(stimulus={"NOPE": 1.0}, duration=10.0)
    with pytest.raises(celegans.Error, match="values for 100 steps"):
        model.simulate(stimulus={"AVBL": np.zeros(7)}, dt=0.1, duration=10.0)
    with pytest.raises(celegans.Error, match="unknown scenario"):
        celegans.dataset.generate("crawl", path=tmp_path / "x.h5")
    assert not (tmp_path / "x.h5").exists()


def test_surrogate_trains_predicts_and_evaluates_as_the_command_line(tmp_path):
    data = celegans.dataset.generate("fcm", dt=0.5, count=8, seed=1, duration=100.0,
                                     settle=50.0, path=tmp_path / "d.h5")
    s = celegans.Surrogate.train(celegans.dataset.load(data), arch="gru", hidden=2, epochs=15,
                                 runs=1, seed=4)
    assert s.report["arch"] == "gru" and s.report["hidden"] == 2
    assert s.input_names == ["PLML", "PLMR", "AVBL", "AVBR"]
    cli("train", "--data", data, "--arch", "gru", "--hidden", 2, "--epochs", 15, "--runs", 1,
        "--seed", 4, "--out", tmp_path / "cli_model")
    # Same seed, same model: the predictions agree with the command line's to the digit.
    d = celegans.dataset.load(data)
    y = s.predict(d["inputs"])
    assert y.shape == (8, 200, 4) and np.isfinite(y).all()
    cli("predict", "--model", tmp_path / "cli_model", "--data", data, "--out", tmp_path / "p.csv")
    table = np.loadtxt(tmp_path / "p.csv", delimiter=",", skiprows=1)
    np.testing.assert_allclose(table[:, 2:], y.reshape(-1, 4), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(s.predict(d["inputs"][0]), y[0])
    e = s.evaluate(data)
    expected = json.loads(cli("evaluate", "--model", tmp_path / "cli_model", "--data", data,
                              "--json").stdout)
    assert e["rmse"] == pytest.approx(expected["rmse"])
    saved = s.save(tmp_path / "saved")
    again = celegans.Surrogate.load(saved)
    np.testing.assert_array_equal(again.predict(d["inputs"]), y)
    with pytest.raises(celegans.Error, match="the model takes 4"):
        s.predict(np.zeros((1, 10, 3), np.float32))


def interrupt_after(seconds):
    """Sends this process SIGINT after `seconds`, with Python's handler replaced by one that
    only counts (so that pytest is not interrupted); returns the count and a restore."""
    import signal
    import threading

    hits = []
    previous = signal.signal(signal.SIGINT, lambda *_: hits.append(1))
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()

    def restore():
        timer.cancel()
        signal.signal(signal.SIGINT, previous)

    return hits, restore


def test_ctrl_c_stops_a_long_simulation_and_a_long_training(model, tmp_path):
    import time

    hits, restore = interrupt_after(1.0)
    start = time.time()
    try:
        with pytest.raises(celegans.Error, match="interrupted at t = "):
            # Minutes uninterrupted.
            model.simulate(stimulus={"AVBL": 15.0}, record=["AVBL"], dt=0.05, duration=1e5)
    finally:
        restore()
    assert time.time() - start < 10 and hits == [1]
    data = celegans.dataset.generate("fcm", count=4, duration=100.0, settle=10.0,
                                     path=tmp_path / "d.h5")
    hits, restore = interrupt_after(1.0)
    start = time.time()
    try:
        # About 20 s uninterrupted.
        with pytest.raises(celegans.Error, match="interrupted in run 1, epoch"):
            celegans.Surrogate.train(data, hidden=4, epochs=10**5)
    finally:
        restore()
    assert time.time() - start < 10 and hits == [1]
    # The next call runs normally.
    r = model.simulate(stimulus={"AVBL": 15.0}, record=["AVBL"], dt=0.1, duration=10.0)
    assert r["v"].shape == (100, 1)


def test_long_calls_report_their_progress(tmp_path, capsys):
    celegans.dataset.generate("fcm", count=3, duration=50.0, settle=10.0, path=tmp_path / "d.h5")
    s = celegans.Surrogate.train(tmp_path / "d.h5", hidden=2, epochs=7, runs=2)
    err = capsys.readouterr().err
    # A tqdm bar, or without tqdm a line on stderr, that reaches the total.
    assert "sequences" in err and "3/3" in err and "epochs" in err and "14/14" in err, err
    celegans.Surrogate.train(tmp_path / "d.h5", hidden=2, epochs=3, progress=False)
    assert "epochs" not in capsys.readouterr().err
    assert s.report["runs"][1]["seed"] == 1


def test_nwb_files_read_back_with_pynwb_and_pass_nwbinspector(model, tmp_path):
    from nwbinspector import Importance, inspect_nwbfile
    from pynwb import NWBHDF5IO

    r = model.simulate(stimulus={"AVBL": 20.0, "PLML": 10.0}, record=["AVBL", "DB1", "VB1"],
                       dt=0.1, duration=50.0)
    path = celegans.to_nwb(r, tmp_path / "sim.nwb", session_start="2026-12-07T10:00:00Z")
    with NWBHDF5IO(str(path), "r") as io:
        f = io.read()
        v = f.acquisition["membrane_potential_1"]
        np.testing.assert_allclose(v.data[:], r["v"].astype(np.float32))
        assert v.conversion == 1e-3 and v.rate == 10000.0 and "AVBL, DB1, VB1" in v.description
        i = f.stimulus["injected_current_1"]
        np.testing.assert_allclose(i.data[:], r["inputs"].astype(np.float32))
        assert f.subject.species == "Caenorhabditis elegans"
        assert json.loads(f.notes)["model_sha256"] == model.sha256
    serious = [m for m in inspect_nwbfile(nwbfile_path=str(path))
               if m.importance != Importance.BEST_PRACTICE_SUGGESTION]
    assert serious == [], serious
