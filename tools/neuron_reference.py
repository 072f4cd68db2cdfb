#!/usr/bin/env python3
"""Regenerate the NEURON reference traces the simulator is tested against.

Provenance: NEURON 9.0.2, pyNeuroML 1.3.22 (jNeuroML 0.14.0), c302 0.12.1,
libNeuroML 0.6.7 (PyPI), CPython 3.11.7, OpenJDK 17.

    pip install neuron==9.0.2 pyneuroml==1.3.22 c302==0.12.1
    python3 tools/neuron_reference.py simulator/tests/reference [CASE ...]

For every case this script

1. generates a c302 parameter-set-D1 network with `c302.generate` (the cells of
   the case, a 15 pA current step from 100 to 400 ms on the stimulated cells via
   c302's `unphysiological_offset_current`, 500 ms),
2. exports it to NEURON with `pynml LEMS_x.xml -neuron -nogui`, compiles the
   mechanisms with `nrnivmodl` and runs the generated script at each dt,
3. writes the recorded soma voltages (and calcium concentrations for the small
   cases) as a whitespace-separated table: `time_ms` then one column per
   quantity, in mV (and mM), subsampled, with a `#` header giving provenance.

The small cases also keep the c302 model files in `CASE/model/` (includes made
relative), so the tests simulate exactly the model NEURON ran.  The full
302-cell case needs no copy: it is the bundled `models/c302_D1` plus the
stimulus, which the tests add themselves.

The generated NEURON code is not kept (only the traces).
"""
import datetime
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

import c302
from c302 import parameters_D1

STIM = {
    "unphysiological_offset_current": "15pA",
    "unphysiological_offset_current_del": "100ms",
    "unphysiological_offset_current_dur": "300ms",
}

# name: (cells (None = all 302), stimulated cells, dts, keep model, subsample [ms], decimals, record ca)
CASES = {
    # One c302 cell with its channels (Leak, k_slow, k_fast, ca_boyle, CaPool).
    "single_AVBL": (["AVBL"], ["AVBL"], [0.1, 0.01], True, 0.2, 5, True),
    # Two cells joined only by a gap junction (no chemical synapse either way).
    "gap_pair_AIAL_AIAR": (["AIAL", "AIAR"], ["AIAL"], [0.1, 0.01], True, 0.2, 5, True),
    # ADEL -> AVL (excitatory gradedSynapse2) -> DA2 (inhibitory), no other links.
    "chain_ADEL_AVL_DA2": (["ADEL", "AVL", "DA2"], ["ADEL"], [0.1, 0.01], True, 0.2, 5, True),
    # The whole connectome with the forward-crawling inputs stimulated.
    "full_D1_PLM_AVB": (None, ["PLML", "PLMR", "AVBL", "AVBR"], [0.1, 0.01], False, 1.0, 2, False),
}


def versions():
    import neuron
    import pyneuroml

    return "NEURON %s, pyNeuroML %s, c302 %s" % (neuron.__version__, pyneuroml.__version__, c302.__version__)


def generate(workdir, name, cells, stimulated):
    os.makedirs(os.path.join(workdir, "cells"), exist_ok=True)
    cwd = os.getcwd()
    os.chdir(workdir)
    try:
        c302.generate(
            name,
            parameters_D1.ParameterisedModel(),
            cells=cells,
            cells_to_plot=cells,
            cells_to_stimulate=stimulated,
            param_overrides=STIM,
            duration=500,
            dt=0.1,
            target_directory="./",
            verbose=False,
        )
    finally:
        os.chdir(cwd)
    c302_dir = os.path.dirname(os.path.abspath(c302.__file__))
    for f in ("cell_C.xml", "custom_synapses.xml"):
        shutil.copy(os.path.join(c302_dir, f), os.path.join(workdir, f))
    for path in glob.glob(os.path.join(workdir, "*.xml")) + glob.glob(os.path.join(workdir, "*.nml")):
        text = open(path).read()
        new = re.sub(r'(href|file)="[^"]*/c302/(cell_C\.xml|custom_synapses\.xml)"', r'\1="\2"', text)
        new = new.replace(os.path.abspath(workdir) + "/", "")
        if new != text:
            open(path, "w").write(new)


def run_neuron(workdir, name, dt):
    lems = "LEMS_%s.xml" % name
    script = "LEMS_%s_nrn.py" % name
    if not os.path.exists(os.path.join(workdir, script)):
        subprocess.run(["pynml", lems, "-neuron", "-nogui"], cwd=workdir, check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["nrnivmodl"], cwd=workdir, check=True, stdout=subprocess.DEVNULL)
    text = open(os.path.join(workdir, script)).read()
    text = re.sub(r"NeuronSimulation\(tstop=500, dt=[0-9.e-]+", "NeuronSimulation(tstop=500, dt=%s" % dt, text)
    run_script = "run_dt%s.py" % dt
    with open(os.path.join(workdir, run_script), "w") as f:
        f.write(text)
    out = subprocess.run(
        [sys.executable, run_script, "-nogui"], cwd=workdir, check=True, capture_output=True, text=True
    ).stdout
    sim = re.search(r"Finished NEURON simulation in ([0-9.]+) seconds", out)
    print("  dt %s: NEURON simulate %s s" % (dt, sim.group(1) if sim else "?"))
    run_neuron.last_simulate_seconds = float(sim.group(1)) if sim else float("nan")
    with open(os.path.join(workdir, "%s.dat" % name)) as f:
        v = [list(map(float, l.split())) for l in f]
    with open(os.path.join(workdir, "%s.activity.dat" % name)) as f:
        ca = [list(map(float, l.split())) for l in f]
    return v, ca


def columns(workdir, name):
    """Quantities of the two output files, in order."""
    lems = open(os.path.join(workdir, "LEMS_%s.xml" % name)).read()
    out = {}
    for block in re.finditer(r'<OutputFile id="(\w+)"[^>]*>(.*?)</OutputFile>', lems, re.S):
        out[block.group(1)] = re.findall(r'quantity="([^"]+)"', block.group(2))
    return out["neurons_v"], out["neurons_activity"]


def fmt(name, x, decimals):
    return "%.5e" % x if name.endswith("caConc") else "%.*f" % (decimals, x)


def write_table(path, header, names, rows, every, decimals):
    with open(path, "w") as f:
        for line in header:
            f.write("# %s\n" % line)
        f.write("time_ms %s\n" % " ".join(names))
        for i in range(0, len(rows), every):
            f.write("%g %s\n" % (round(rows[i][0] * 1000, 6), " ".join(fmt(n, x, decimals) for n, x in zip(names, rows[i][1:]))))


def main():
    out_dir = os.path.abspath(sys.argv[1])
    wanted = sys.argv[2:] or list(CASES)
    date = datetime.date.today().isoformat()
    ver = versions()
    for case in wanted:
        cells, stimulated, dts, keep, sub, decimals, record_ca = CASES[case]
        name = "c302_D1_%s" % case
        print(case)
        with tempfile.TemporaryDirectory() as tmp:
            generate(tmp, name, cells, stimulated)
            vq, caq = columns(tmp, name)
            case_dir = os.path.join(out_dir, case)
            os.makedirs(case_dir, exist_ok=True)
            if keep:
                model_dir = os.path.join(case_dir, "model")
                shutil.rmtree(model_dir, ignore_errors=True)
                os.makedirs(os.path.join(model_dir, "cells"))
                for f in os.listdir(tmp):
                    if f.endswith(".xml") or f.endswith(".nml"):
                        shutil.copy(os.path.join(tmp, f), model_dir)
                for f in os.listdir(os.path.join(tmp, "cells")):
                    shutil.copy(os.path.join(tmp, "cells", f), os.path.join(model_dir, "cells"))
            for dt in dts:
                v, ca = run_neuron(tmp, name, dt)
                every = int(round(sub / dt))
                rows = [[r[0]] + [x * 1000 for x in r[1:]] for r in v]
                names = [q.replace("/0/", "/").split("/")[0] + "/v" for q in vq]
                if record_ca:
                    rows = [r + c[1:] for r, c in zip(rows, ca)]
                    names += [q.split("/")[0] + "/caConc" for q in caq]
                header = [
                    "NEURON reference: c302 parameter set D1, cells %s, 15 pA on %s from 100 to 400 ms"
                    % ("all 302" if cells is None else ",".join(cells), ",".join(stimulated)),
                    "%s; jNeuroML NEURON export (pynml -neuron), fixed step dt = %s ms; %s" % (ver, dt, date),
                    "made by tools/neuron_reference.py; soma v in mV, caConc in mM; every %s ms" % sub,
                ]
                fname = "neuron-9.0.2_dt%s.txt" % dt
                write_table(os.path.join(case_dir, fname), header, names, rows, every, decimals)


if __name__ == "__main__":
    main()
