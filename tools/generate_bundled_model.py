#!/usr/bin/env python3
"""Regenerate the bundled default model (models/c302_D1/) from c302.

Provenance: c302 0.12.1, pyNeuroML 1.3.22, libNeuroML 0.6.7 (PyPI), run with
CPython 3.11.7.  Command (from the repository root):

    pip install c302==0.12.1 pyneuroml==1.3.22
    python3 tools/generate_bundled_model.py models/c302_D1 D1

Parameter set D1, all 302 neurons, no stimulus inputs (scenarios add them),
500 ms at dt 0.1 ms in the LEMS file, recording every neuron's v and caConc as
c302 does.  c302 includes its own cell_C.xml and custom_synapses.xml by
absolute path; they are copied beside the model and the includes made
relative.

Optional third argument: a comma-separated list of cells for a small subset
network (used for the C1 / D test fixtures).
"""
import importlib
import os
import re
import shutil
import sys

import c302


def main():
    target = os.path.abspath(sys.argv[1])
    param_set = sys.argv[2] if len(sys.argv) > 2 else "D1"
    cells = sys.argv[3].split(",") if len(sys.argv) > 3 else None
    os.makedirs(os.path.join(target, "cells"), exist_ok=True)
    params = importlib.import_module("c302.parameters_%s" % param_set).ParameterisedModel()
    net_id = "c302_%s" % param_set if cells is None else "c302_%s_subset" % param_set
    cwd = os.getcwd()
    os.chdir(target)
    c302.generate(
        net_id,
        params,
        cells=cells,
        cells_to_plot=cells,
        cells_to_stimulate=[],
        duration=500,
        dt=0.1,
        target_directory="./",
        verbose=False,
    )
    os.chdir(cwd)
    c302_dir = os.path.dirname(os.path.abspath(c302.__file__))
    generated = [f for f in os.listdir(target) if f.endswith(".xml") or f.endswith(".nml")]
    for name in ("cell_C.xml", "custom_synapses.xml"):
        used = any(name in open(os.path.join(target, f)).read() for f in generated)
        if used:
            shutil.copy(os.path.join(c302_dir, name), os.path.join(target, name))
    for fname in os.listdir(target):
        if not (fname.endswith(".xml") or fname.endswith(".nml")):
            continue
        path = os.path.join(target, fname)
        with open(path) as f:
            text = f.read()
        new = re.sub(r'(href|file)="[^"]*/c302/(cell_C\.xml|custom_synapses\.xml)"', r'\1="\2"', text)
        new = new.replace(target + "/", "")
        if new != text:
            with open(path, "w") as f:
                f.write(new)


if __name__ == "__main__":
    main()
