#!/usr/bin/env python3
"""Compare the test RMSE of every model in two `celegans experiment all` reports.

    python3 tools/compare_reports.py OLD/REPORT.md NEW/REPORT.md

Prints, per experiment and model row, the test RMSE (mean ± std over the runs) of both, the
ratio new/old, and the diverged († k) and recovered (‡ k) runs of each: the measurement
behind a change of the training defaults (e.g. the learning rate on standardized data,
`docs/experiments/`). A bare † or ‡ (experiment 3 and 4 tables) counts as 1.
"""
import math
import re
import sys


def rows(path):
    """{(experiment, row label without marks): (test cell, diverged runs, recovered runs)}."""
    out = {}
    section = None
    header = None
    for line in open(path, encoding="utf-8"):
        m = re.match(r"## Experiment (\d)", line)
        if m:
            section, header = m.group(1), None
            continue
        if not line.startswith("|") or section is None:
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
            continue
        if set(cells[0]) <= set("-:"):
            continue
        if "test RMSE" not in header:
            continue
        test = cells[header.index("test RMSE")]
        first = next(i for i, h in enumerate(header) if "RMSE" in h)
        key_cells = [c for c, h in zip(cells[:first], header[:first])
                     if h != "params" and "training" not in h and "ms/epoch" not in h]
        counts = {"†": 0, "‡": 0}
        for i, c in enumerate(key_cells):
            # "(†2)", "(‡3)", "(†1, ‡2)", or bare " †" / " ‡".
            for mark, k in re.findall(r"([†‡])(\d*)", c):
                counts[mark] = int(k) if k else 1
            key_cells[i] = re.sub(r"\s*\([†‡\d, ]+\)|\s*[†‡]", "", c)
        out[(section, " ".join(key_cells))] = (test, counts["†"], counts["‡"])
    return out


def mean(cell):
    m = re.match(r"([0-9.e+-]+)", cell)
    return float(m.group(1)) if m else float("nan")


def main():
    old, new = rows(sys.argv[1]), rows(sys.argv[2])
    print("| experiment | model | old test RMSE | † | ‡ | new test RMSE | † | ‡ | new/old |")
    print("|---|---|---|---|---|---|---|---|---|")
    ratios = []
    for key in new:
        if key not in old:
            continue
        (o, od, orc), (n, nd, nrc) = old[key], new[key]
        r = mean(n) / mean(o)
        ratios.append(r)
        print(f"| {key[0]} | {key[1]} | {o} | {od or ''} | {orc or ''} | {n} | {nd or ''} "
              f"| {nrc or ''} | {r:.2f} |")
    better = sum(r < 1 for r in ratios)
    geometric = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    print(f"\n{len(ratios)} rows: new lower in {better}, higher in {len(ratios) - better}; "
          f"geometric mean of new/old {geometric:.3f}")


if __name__ == "__main__":
    main()
