"""Overhead of the Python package against the command line on the full 302-cell model: the
same request through `celegans.run_lems` / `Model.simulate` and through the CLI, each timed
whole (model read, build, run, results), best of N, printed with the ratio.

    python python/bench/overhead.py [--cli target/release/celegans] [--repeat 5]
"""
import argparse
import pathlib
import subprocess
import tempfile
import time

import celegans

ROOT = pathlib.Path(__file__).resolve().parents[2]


def best(f, n):
    times = []
    for _ in range(n):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", default=str(ROOT / "target/release/celegans"))
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    lems = ROOT / "models/c302_D1/LEMS_c302_D1.xml"
    scratch = tempfile.TemporaryDirectory(prefix="celegans-bench-")
    out = scratch.name
    quiet = dict(check=True, capture_output=True)
    rows = []
    # run_lems: the bundled model's LEMS file (302 cells), 200 ms at its dt, all outputs.
    cli = best(lambda: subprocess.run([a.cli, "run", str(lems), "--duration", "200",
                                       "--out-dir", out], **quiet), a.repeat)
    py = best(lambda: celegans.run_lems(lems, duration=200.0), a.repeat)
    rows.append(("run_lems, 200 ms", cli, py))
    # simulate: 500 ms at dt 0.1 ms, a step into PLM and AVB, every neuron recorded.
    args = ["simulate", "--stimulate", "PLML,PLMR,AVBL,AVBR", "--amplitude", "15", "--delay",
            "0", "--width", "500", "--dt", "0.1", "--duration", "500", "--record", "all",
            "--out", f"{out}/sim.h5"]
    cli = best(lambda: subprocess.run([a.cli, *args], **quiet), a.repeat)
    step = {n: 15.0 for n in ["PLML", "PLMR", "AVBL", "AVBR"]}
    py = best(lambda: celegans.Model.bundled().simulate(stimulus=step, dt=0.1, duration=500.0),
              a.repeat)
    rows.append(("Model.simulate, 500 ms, all 302 recorded", cli, py))
    print(f"{'request':44} {'CLI [s]':>8} {'Python [s]':>10} {'Python/CLI':>10}")
    for what, c, p in rows:
        print(f"{what:44} {c:8.3f} {p:10.3f} {p / c:10.3f}")
    scratch.cleanup()


if __name__ == "__main__":
    main()
