#!/usr/bin/env python3
"""c302's example networks in NEURON (jNeuroML's export) beside `celegans run`.

Two modes, sharing one way of running NEURON and of comparing:

    # Reference traces for tests/c302/all_examples.rs: NEURON at dt/10 on a grid of about
    # --samples times, the --columns most variable columns per OutputFile, and every voltage
    # column's spike times at dt and dt/10 (default: every configuration of EXAMPLES_DIR).
    python3 tools/c302_neuron.py reference EXAMPLES_DIR OUT_DIR [CONFIG ...]
        [--full-duration MS] [--samples N] [--columns K] [--cache DIR]

    # The table of every configuration (docs/c302-networks.md): accuracy against NEURON
    # at dt/10 (ours with backward Euler and Crank-Nicolson) and speed against NEURON
    # (simulate phase, and whole wall time including jNeuroML's export and nrnivmodl).
    # `table` appends rows (several can run side by side on disjoint CONFIG lists),
    # `render` writes the page from the rows files.
    python3 tools/c302_neuron.py table EXAMPLES_DIR ROWS [--celegans target/release/celegans]
        [--full-duration MS] [--cache DIR] [--timings FILE] [--repeat 3] [CONFIG ...]
    python3 tools/c302_neuron.py render docs/c302-networks.md ROWS [ROWS ...]

CONFIG is a name such as `c302_C_Syns` (the LEMS file is `LEMS_<CONFIG>.xml`).
Provenance: NEURON 9.0.2, pyNeuroML 1.3.22 (jNeuroML 0.14.0) from PyPI, OpenJDK 17.

Comparison rules (the same in `tests/c302/vs_neuron.rs`):
- voltages: RMS over the samples of each OutputFile's voltage columns, against NEURON at
  dt/10 (the converged reference), for ours at dt and for NEURON at dt;
- spikes: upward crossings of the cells' `spikeThresh` (the first sample above) in every
  voltage column at full resolution; counts against NEURON at dt/10, timing as the largest
  difference of matched spikes.
Nothing of NEURON's generated code is kept, only traces and spike times.
"""

import argparse
import datetime
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time


def output_files(lems_text):
    """[(file name, [quantity, ...])] of a LEMS file's OutputFiles."""
    out = []
    for m in re.finditer(r'<OutputFile[^>]*fileName="([^"]+)"[^>]*>(.*?)</OutputFile>', lems_text, re.S):
        out.append((m.group(1), re.findall(r'quantity="([^"]+)"', m.group(2))))
    return out


def simulation(lems_text):
    m = re.search(r'<Simulation[^>]*length="([0-9.]+)\s*ms"[^>]*step="([0-9.]+)\s*ms"', lems_text)
    return float(m.group(1)), float(m.group(2))


def spike_threshold(examples, config):
    """The first spikeThresh of the network (c302 gives every cell the same), else the first
    point cell's `thresh` (iafCell), else 0 mV, as jNeuroML's export gives its NetCons."""
    text = open(os.path.join(examples, config + ".net.nml")).read()
    m = re.search(r'<spikeThresh value="(-?[0-9.]+)\s*mV"', text) or re.search(r' thresh="(-?[0-9.]+)\s*mV"', text)
    return float(m.group(1)) if m else 0.0


def read_table(path):
    with open(path) as f:
        return [list(map(float, l.split())) for l in f if l.strip()]


class Neuron:
    """One configuration exported to NEURON and compiled once, run at any dt."""

    def __init__(self, examples, config):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        for f in os.listdir(examples):
            src = os.path.join(examples, f)
            (shutil.copytree if os.path.isdir(src) else shutil.copy)(src, os.path.join(self.dir, f))
        self.lems = "LEMS_%s.xml" % config
        start = time.time()
        subprocess.run(["pynml", self.lems, "-neuron", "-nogui"], cwd=self.dir, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.export_s = time.time() - start
        start = time.time()
        subprocess.run(["nrnivmodl"], cwd=self.dir, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.compile_s = time.time() - start
        self.mod_files = len([f for f in os.listdir(self.dir) if f.endswith(".mod")])
        self.script = open(os.path.join(self.dir, self.lems.replace(".xml", "_nrn.py"))).read()
        self.outputs = output_files(open(os.path.join(self.dir, self.lems)).read())

    def run(self, dt, duration):
        """{file name: rows} in SI units, the simulate phase's seconds and the run's wall seconds."""
        text, n = re.subn(r"NeuronSimulation\(tstop=[0-9.]+, dt=[0-9.e-]+",
                          "NeuronSimulation(tstop=%s, dt=%s" % (duration, dt), self.script)
        assert n == 1, "no NeuronSimulation(tstop=..., dt=...) in the generated script"
        script = "run_%s.py" % dt
        open(os.path.join(self.dir, script), "w").write(text)
        start = time.time()
        out = subprocess.run([sys.executable, script, "-nogui"], cwd=self.dir, check=True,
                             capture_output=True, text=True).stdout
        wall = time.time() - start
        m = re.search(r"Finished NEURON simulation in ([0-9.]+) seconds", out)
        data = {name: read_table(os.path.join(self.dir, name)) for name, _ in self.outputs}
        return data, float(m.group(1)) if m else float("nan"), wall


def run_ours(celegans, examples, config, dt, duration, method="be"):
    with tempfile.TemporaryDirectory() as out:
        start = time.time()
        p = subprocess.run([celegans, "run", os.path.join(examples, "LEMS_%s.xml" % config), "--dt", str(dt),
                            "--duration", str(duration), "--out-dir", out, "--method", method],
                           capture_output=True, text=True)
        wall = time.time() - start
        if p.returncode != 0:
            return None, p.stderr.strip().splitlines()[-1] if p.stderr.strip() else "exit %d" % p.returncode, wall
        m = re.search(r"simulated .* in ([0-9.]+) s", p.stderr)
        data = {name: read_table(os.path.join(out, name)) for name, _ in output_files(
            open(os.path.join(examples, "LEMS_%s.xml" % config)).read())}
        return data, float(m.group(1)), wall


def spikes(rows, column, threshold):
    return [r[0] * 1000 for p, r in zip(rows, rows[1:]) if p[column] * 1000 <= threshold < r[column] * 1000]


def on_grid(rows, every_ms):
    """Rows at multiples of `every_ms` (exactly, as the step divides it)."""
    out, next_t = [], 0.0
    for r in rows:
        if r[0] * 1000 >= next_t - 1e-9:
            out.append(r)
            next_t += every_ms
    return out


def compare(ours, neuron, reference, quantities, threshold, every_ms):
    """Per-file accuracy: RMS [mV] of ours and NEURON at dt against the reference, and spikes."""
    volt = [k for k, q in enumerate(quantities, start=1) if q.endswith("/v")]
    a, b, r = on_grid(ours, every_ms), on_grid(neuron, every_ms), on_grid(reference, every_ms)
    n = min(len(a), len(b), len(r))
    se_ours = se_neuron = count = 0
    for i in range(n):
        for k in volt:
            se_ours += ((a[i][k] - r[i][k]) * 1000) ** 2
            se_neuron += ((b[i][k] - r[i][k]) * 1000) ** 2
            count += 1
    result = {"rms_ours": math.sqrt(se_ours / max(count, 1)), "rms_neuron": math.sqrt(se_neuron / max(count, 1)),
              "spikes_ref": 0, "count_mismatch": 0, "timing_ours": 0.0, "timing_neuron": 0.0}
    for k in volt:
        so, sn, sr = spikes(ours, k, threshold), spikes(neuron, k, threshold), spikes(reference, k, threshold)
        result["spikes_ref"] += len(sr)
        if len(so) != len(sr):
            result["count_mismatch"] += 1
        else:
            result["timing_ours"] = max(result["timing_ours"], timing_error(so, sr))
        result["timing_neuron"] = max(result["timing_neuron"], timing_error(sn, sr))
    return result


def timing_error(times, reference):
    """Largest difference of the spikes both lists have, matched in order [ms]."""
    return max([0.0] + [abs(x - y) for x, y in zip(times, reference)])


def reference(a):
    """Per configuration, for `tests/c302/all_examples.rs`: NEURON at dt/10 (the converged
    reference) on a grid of about --samples times, up to --columns columns per OutputFile (the
    most variable ones), values rounded as written; `summary.txt` with the run (duration, dt,
    spike threshold), NEURON at dt's RMS error against those rounded samples per OutputFile,
    and the spike times of both NEURON runs in every voltage column at full resolution."""
    import neuron
    import pyneuroml
    versions = "NEURON %s, pyNeuroML %s (jNeuroML export)" % (neuron.__version__, pyneuroml.__version__)
    configs = a.configs or all_configs(a.examples)
    for config in configs:
        lems_text = open(os.path.join(a.examples, "LEMS_%s.xml" % config)).read()
        length, dt = simulation(lems_text)
        duration = min(length, a.full_duration) if config.endswith(LARGE) else length
        threshold = spike_threshold(a.examples, config)
        out = os.path.join(a.out, config)
        os.makedirs(out, exist_ok=True)
        nrn = neuron_runs(a, config, dt, duration)
        coarse, fine = nrn["coarse"], nrn["fine"]
        steps = max(1, math.ceil(duration / a.samples / dt - 1e-9))
        every = steps * dt
        today = datetime.date.today().isoformat()
        print("%s: %g ms at dt %g, samples every %g ms" % (config, duration, dt, every), flush=True)
        summary = [
            "# NEURON on c302's example %s: %s; %s; made by tools/c302_neuron.py reference" % (config, versions, today),
            "# run DURATION_MS DT_MS SPIKE_THRESHOLD_MV",
            "# rms FILE DT VALUE: NEURON at DT against the reference samples of FILE (v in mV, others in SI units)",
            "# voltage FILE COLUMNS: FILE's voltage columns (1 = the first after time)",
            "# spikes FILE DT COLUMN TIMES: upward crossings of the threshold in a voltage column, first "
            "sample above [ms], full resolution (no line: none)",
            "run %g %g %g" % (duration, dt, threshold),
        ]
        for name, quantities in nrn["outputs"]:
            grid_f, grid_c = on_grid(fine[name], every), on_grid(coarse[name], every)
            n = min(len(grid_f), len(grid_c))
            grid_f, grid_c = grid_f[:n], grid_c[:n]

            def spread(k):
                xs = [r[k] for r in grid_f]
                mean = sum(xs) / len(xs)
                return sum((x - mean) ** 2 for x in xs)

            keep = sorted(sorted(range(1, len(quantities) + 1), key=lambda k: -spread(k))[:a.columns])
            is_v = {k: quantities[k - 1].endswith("/v") for k in keep}
            # The reference as written: v in mV with 4 decimals, others in SI with 6 significant digits.
            written = lambda r, k: round(r[k] * 1000, 4) if is_v[k] else float("%.6e" % r[k])
            header = ["NEURON reference for c302's example %s: %s, fixed step %g ms (dt/10), %g ms; %s"
                      % (config, versions, dt / 10, duration, today),
                      "made by tools/c302_neuron.py reference; every %g ms; v in mV, others in SI units" % every]
            with open(os.path.join(out, "%s.neuron_dt%g.txt" % (name, dt / 10)), "w") as f:
                f.write("".join("# %s\n" % l for l in header))
                f.write("time_ms %s\n" % " ".join(quantities[k - 1] for k in keep))
                for r in grid_f:
                    f.write("%g %s\n" % (round(r[0] * 1000, 6), " ".join(
                        ("%.4f" if is_v[k] else "%.6e") % written(r, k) for k in keep)))
            se = [((c[k] * (1000 if is_v[k] else 1)) - written(f, k)) ** 2 for c, f in zip(grid_c, grid_f) for k in keep]
            summary.append("rms %s %g %.6g" % (name, dt, math.sqrt(sum(se) / len(se))))
            volt = [k for k, q in enumerate(quantities, start=1) if q.endswith("/v")]
            if volt:
                summary.append("voltage %s %s" % (name, ",".join(map(str, volt))))
            for step, data in ((dt, coarse), (dt / 10, fine)):
                for k in volt:
                    times = spikes(data[name], k, threshold)
                    if times:
                        summary.append("spikes %s %g %d %s" % (name, step, k, ",".join("%.4f" % t for t in times)))
        open(os.path.join(out, "summary.txt"), "w").write("\n".join(summary) + "\n")


def all_configs(examples):
    return sorted(f[5:-4] for f in os.listdir(examples) if f.startswith("LEMS_") and f.endswith(".xml"))


# The configurations with (nearly) all 302 cells, run shortened (--full-duration).
LARGE = ("_Full", "_FW", "_Muscles")


def neuron_runs(a, config, dt, duration):
    """NEURON's export, compile and runs at dt and dt/10, from the cache when there."""
    import pickle
    path = os.path.join(a.cache, "%s_%g_%g.pickle" % (config, dt, duration)) if a.cache else None
    if path and os.path.exists(path):
        return pickle.load(open(path, "rb"))
    nrn = Neuron(a.examples, config)
    coarse, simulate_s, wall_s = nrn.run(dt, duration)
    fine, _, _ = nrn.run(dt / 10, duration)
    result = {"outputs": nrn.outputs, "coarse": coarse, "fine": fine, "simulate_s": simulate_s,
              "whole_s": nrn.export_s + nrn.compile_s + wall_s, "mod_files": nrn.mod_files}
    if path:
        os.makedirs(a.cache, exist_ok=True)
        pickle.dump(result, open(path, "wb"))
    return result


def time_neuron(a):
    """NEURON's timings alone, one configuration at a time: jNeuroML's export, `nrnivmodl` and
    a run at the LEMS dt, appended to TIMINGS as JSON lines ({config, simulate_s, whole_s,
    mod_files}); `table --timings TIMINGS` uses them instead of the cache's."""
    import json
    configs = a.configs or all_configs(a.examples)
    done = set()
    if os.path.exists(a.timings):
        done = {json.loads(l)["config"] for l in open(a.timings) if l.strip()}
    for config in configs:
        if config in done:
            continue
        length, dt = simulation(open(os.path.join(a.examples, "LEMS_%s.xml" % config)).read())
        duration = min(length, a.full_duration) if config.endswith(LARGE) else length
        nrn = Neuron(a.examples, config)
        _, simulate_s, wall_s = nrn.run(dt, duration)
        row = {"config": config, "simulate_s": simulate_s, "whole_s": nrn.export_s + nrn.compile_s + wall_s,
               "mod_files": nrn.mod_files, "date": datetime.date.today().isoformat()}
        print(json.dumps(row), flush=True)
        with open(a.timings, "a") as f:
            f.write(json.dumps(row) + "\n")


def table(a):
    """Appends one Markdown row per configuration to OUT (see `render`)."""
    configs = a.configs or all_configs(a.examples)
    timed = {}
    if a.timings:
        import json
        timed = {t["config"]: t for t in (json.loads(l) for l in open(a.timings) if l.strip())}
    for config in configs:
        lems_text = open(os.path.join(a.examples, "LEMS_%s.xml" % config)).read()
        length, dt = simulation(lems_text)
        duration = min(length, a.full_duration) if config.endswith(LARGE) else length
        runs = {m: run_ours(a.celegans, a.examples, config, dt, duration, m) for m in ("be", "cn")}
        # Our timings: the fastest of --repeat runs (the outputs are the same every time;
        # a single run of a few tens of ms varies by tens of per cent on a shared machine).
        for _ in range(a.repeat - 1):
            if runs["cn"][0] is None:
                break
            _, sim, wall = run_ours(a.celegans, a.examples, config, dt, duration, "cn")
            runs["cn"] = (runs["cn"][0], min(runs["cn"][1], sim), min(runs["cn"][2], wall))
        if runs["be"][0] is None:
            message = runs["be"][1].replace(a.examples.rstrip("/") + "/", "").replace("|", "/")
            row = "| %s | %g / %g | not supported: %s | | | | | |" % (config, duration, dt, message)
        else:
            threshold = spike_threshold(a.examples, config)
            nrn = dict(neuron_runs(a, config, dt, duration))
            nrn.update({k: v for k, v in timed.get(config, {}).items() if k != "config"})
            every = max(dt, 0.1)
            stats = {}
            for m, (ours, _, _) in runs.items():
                st = {"rms_ours": 0.0, "rms_neuron": 0.0, "spikes_ref": 0, "count_mismatch": 0,
                      "timing_ours": 0.0, "timing_neuron": 0.0}
                for name, quantities in nrn["outputs"]:
                    c = compare(ours[name], nrn["coarse"][name], nrn["fine"][name], quantities, threshold, every)
                    for k in ("rms_ours", "rms_neuron", "timing_ours", "timing_neuron"):
                        st[k] = max(st[k], c[k])
                    st["spikes_ref"] += c["spikes_ref"]
                    st["count_mismatch"] += c["count_mismatch"]
                stats[m] = st
            be, cn = stats["be"], stats["cn"]
            mark = lambda st: "✓" if st["rms_ours"] <= st["rms_neuron"] else "✗"
            our_sim, our_wall = runs["cn"][1], runs["cn"][2]
            row = "| %s | %g / %g | %.4f %s / %.4f %s / %.4f | %d; %d / %d | %.3f / %.3f / %.3f | %.2f / %.2f = %.0f× | %.1f / %.2f = %.0f× | %d |" % (
                config, duration, dt, be["rms_ours"], mark(be), cn["rms_ours"], mark(cn), be["rms_neuron"],
                be["spikes_ref"], be["count_mismatch"], cn["count_mismatch"],
                be["timing_ours"], cn["timing_ours"], be["timing_neuron"],
                nrn["simulate_s"], our_sim, nrn["simulate_s"] / max(our_sim, 1e-9),
                nrn["whole_s"], our_wall, nrn["whole_s"] / max(our_wall, 1e-9), nrn["mod_files"])
        print(row, flush=True)
        with open(a.out, "a") as f:
            f.write(row + "\n")


def render(a):
    """The table's Markdown page from the rows files `table` wrote."""
    import neuron
    import pyneuroml
    rows = sorted(set(l.rstrip("\n") for f in a.rows for l in open(f) if l.startswith("| c302")))
    version = subprocess.run([a.celegans, "--version"], capture_output=True, text=True).stdout.strip()
    header = [
        "# c302's example networks: `celegans run` against NEURON",
        "",
        "Generated by `tools/c302_neuron.py time` (NEURON's timings), `table` (rows) and `render` (this "
        "page) on %s: NEURON %s, pyNeuroML %s (jNeuroML's NEURON export), %s; one core per simulator, "
        "each timed alone on the 2-core development machine (%s)."
        % (datetime.date.today().isoformat(), neuron.__version__, pyneuroml.__version__, version, a.timing_note),
        "Each configuration runs at its LEMS file's dt for its length (the Full, Muscles and FW networks, "
        "which hold most of the 302 cells, for their first %g ms)." % a.full_duration,
        "",
        "- **RMS [mV]**: the largest over the OutputFiles of the RMS voltage error against NEURON at dt/10 "
        "(the converged reference): ours with backward Euler (`--method be`) / ours with Crank–Nicolson "
        "(the default) / NEURON at dt; ✓ where ours is no larger than NEURON's.",
        "- **spikes**: upward crossings of the cells' spike threshold in the voltage columns of the reference; "
        "then the number of columns whose spike count differs from it, BE / CN.",
        "- **timing [ms]**: the largest difference of spike times matched in order with the reference, "
        "BE / CN / NEURON at dt (columns whose count differs are left out of ours).",
        "- **simulate [s]**: NEURON's simulate phase / ours (CN); **whole [s]**: NEURON's jNeuroML export + "
        "`nrnivmodl` + run / our whole `celegans run`; **mod**: `.mod` files NEURON compiles.",
        "",
        "| configuration | ms / dt | RMS BE / CN / NEURON [mV] | spikes; mismatched BE / CN | timing BE / CN / NEURON [ms] | simulate [s] | whole [s] | mod |",
        "|---|---|---|---|---|---|---|---:|",
    ]
    summary = open(a.summary).read().strip().split("\n") + [""] if a.summary else []
    header = header[:-2] + summary + header[-2:]
    open(a.out, "w").write("\n".join(header + rows) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="mode", required=True)
    r = sub.add_parser("reference")
    r.add_argument("examples")
    r.add_argument("out")
    r.add_argument("configs", nargs="*", help="default: every LEMS_*.xml of EXAMPLES")
    r.add_argument("--full-duration", type=float, default=200.0)
    r.add_argument("--samples", type=int, default=250, help="about this many reference samples per file")
    r.add_argument("--columns", type=int, default=3, help="at most this many columns per file")
    r.add_argument("--cache", help="folder keeping NEURON's results between runs (shared with table)")
    t = sub.add_parser("table")
    t.add_argument("examples")
    t.add_argument("out", help="rows file (appended)")
    t.add_argument("configs", nargs="*")
    t.add_argument("--celegans", default="target/release/celegans")
    t.add_argument("--full-duration", type=float, default=200.0)
    t.add_argument("--cache", help="folder keeping NEURON's results between runs")
    t.add_argument("--timings", help="NEURON's timings from `time` (else the cache's)")
    t.add_argument("--repeat", type=int, default=3, help="our Crank-Nicolson runs timed (the fastest kept)")
    m = sub.add_parser("time")
    m.add_argument("examples")
    m.add_argument("timings", help="JSON lines file (appended; configurations in it are skipped)")
    m.add_argument("configs", nargs="*")
    m.add_argument("--full-duration", type=float, default=200.0)
    d = sub.add_parser("render")
    d.add_argument("out")
    d.add_argument("rows", nargs="+")
    d.add_argument("--celegans", default="target/release/celegans")
    d.add_argument("--full-duration", type=float, default=200.0)
    d.add_argument("--summary", help="Markdown placed above the table")
    d.add_argument("--timing-note", default="timings are noisy", help="how the timings were taken")
    a = ap.parse_args()
    {"reference": reference, "table": table, "time": time_neuron, "render": render}[a.mode](a)


if __name__ == "__main__":
    main()
