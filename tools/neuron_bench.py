#!/usr/bin/env python3
"""NEURON's side of the simulator benchmark: the full c302 D1 model (302 cells) with
PLML, PLMR, AVBL, AVBR given 15 pA from 100 to 400 ms, exported by pyNeuroML to NEURON
and simulated for 500 ms at dt 0.1 ms. Prints one JSON object with NEURON's simulate
time (the `h.run()` phase, as the generated script reports it).

    pip install neuron==9.0.2 pyneuroml==1.3.22 c302==0.12.1
    python3 tools/neuron_bench.py [DT]

Used by `cargo bench -p simulator --bench full_model`.
"""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import neuron_reference as ref  # noqa: E402


def main():
    dt = float(sys.argv[1]) if len(sys.argv) > 1 else 0.1
    cells, stimulated = ref.CASES["full_D1_PLM_AVB"][:2]
    with tempfile.TemporaryDirectory() as tmp:
        ref.generate(tmp, "c302_D1_bench", cells, stimulated)
        ref.run_neuron(tmp, "c302_D1_bench", dt)
    print(json.dumps({"neuron_simulate_seconds": ref.run_neuron.last_simulate_seconds, "dt": dt, "versions": ref.versions()}))


if __name__ == "__main__":
    main()
