#!/usr/bin/env python3
"""NEURON's converged spike times for c302's own OMV regression tests.

c302's OMV tests (`test.phar<SET>.jnmlnrn.omt` + `test.pharyngeal<SET>.mep` in c302's
`examples/`) expect spike times that NEURON produced at the LEMS file's dt (0.01 ms), with
that step's discretisation error. This script runs each test's target through jNeuroML's
NEURON export at a finer dt (default 0.001 ms), detects spikes exactly as OMV does
(upward crossings of the test's threshold in the test's column, time of the first sample
above), and writes one line per experiment:

    SET EXPERIMENT COLUMN THRESHOLD_mV expected=T1,T2,... neuron_dt<DT>=T1,T2,...

    pip install neuron==9.0.2 pyneuroml==1.3.22
    python3 tools/c302_omv_reference.py EXAMPLES_DIR OUT_FILE [--dt 0.001] [SET ...]

Nothing of NEURON's generated code is kept, only the spike times.
"""

import argparse
import datetime
import os
import re
import shutil
import subprocess
import sys
import tempfile


def parse_omt(path):
    """(target, [(experiment, column, threshold)]) of an .omt file."""
    text = open(path).read()
    target = re.search(r"target:\s*(\S+)", text).group(1)
    experiments = []
    for block in re.split(r"\n  (?=\w[\w ]*:\s*\n)", text.split("experiments:", 1)[1]):
        name = re.match(r"\s*(\w+):", block)
        column = re.search(r"columns:\s*\[0,\s*(\d+)\]", block)
        threshold = re.search(r"threshold:\s*(-?[0-9.]+)", block)
        if name and column and threshold:
            experiments.append((name.group(1), int(column.group(1)), float(threshold.group(1))))
    return target, experiments


def parse_mep(path):
    """{experiment: [expected spike times]} of a .mep file."""
    text = open(path).read().split("experiments:", 1)[1]
    out = {}
    for m in re.finditer(r"(\w+):\s*\n\s*expected:\s*\n\s*spike times:\s*\[([^\]]*)\]", text):
        out[m.group(1)] = [float(x) for x in m.group(2).split(",") if x.strip()]
    return out


def spikes(rows, column, threshold):
    out = []
    for prev, row in zip(rows, rows[1:]):
        if prev[column] * 1000 <= threshold < row[column] * 1000:
            out.append(round(row[0] * 1000, 6))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("examples")
    ap.add_argument("out")
    ap.add_argument("--dt", type=float, default=0.001)
    ap.add_argument("sets", nargs="*", default=["A", "B", "C", "C0", "C1"])
    a = ap.parse_args()
    import neuron
    import pyneuroml

    lines = [
        "# NEURON's spike times for c302's OMV tests (Pharyngeal networks), made by",
        "# tools/c302_omv_reference.py on %s: NEURON %s, pyNeuroML %s (jNeuroML export), fixed step %s ms."
        % (datetime.date.today().isoformat(), neuron.__version__, pyneuroml.__version__, a.dt),
        "# Spike detection as OMV's: upward crossing of the threshold, time of the first sample above.",
        "# set experiment column threshold_mV expected=... neuron_dt%s=..." % a.dt,
    ]
    for s in a.sets:
        target, experiments = parse_omt(os.path.join(a.examples, "test.phar%s.jnmlnrn.omt" % s))
        expected = parse_mep(os.path.join(a.examples, "test.pharyngeal%s.mep" % s))
        with tempfile.TemporaryDirectory() as tmp:
            for f in os.listdir(a.examples):
                src = os.path.join(a.examples, f)
                (shutil.copytree if os.path.isdir(src) else shutil.copy)(src, os.path.join(tmp, f))
            subprocess.run(["pynml", target, "-neuron", "-nogui"], cwd=tmp, check=True, stdout=subprocess.DEVNULL)
            subprocess.run(["nrnivmodl"], cwd=tmp, check=True, stdout=subprocess.DEVNULL)
            script = os.path.join(tmp, target.replace(".xml", "_nrn.py"))
            text = open(script).read()
            text, n = re.subn(r"(NeuronSimulation\(tstop=[0-9.]+, dt=)[0-9.e-]+", r"\g<1>%s" % a.dt, text)
            assert n == 1, "dt not found in the generated script"
            open(script, "w").write(text)
            subprocess.run([sys.executable, script, "-nogui"], cwd=tmp, check=True, stdout=subprocess.DEVNULL)
            dat = os.path.join(tmp, "c302_%s_Pharyngeal.dat" % s)
            rows = [list(map(float, l.split())) for l in open(dat)]
        for name, column, threshold in experiments:
            ours = spikes(rows, column, threshold)
            lines.append(
                "%s %s %d %g expected=%s neuron_dt%s=%s"
                % (s, name, column, threshold, ",".join("%g" % x for x in expected.get(name, [])), a.dt,
                   ",".join("%g" % x for x in ours))
            )
            print(lines[-1], flush=True)
    open(a.out, "w").write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
