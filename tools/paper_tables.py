#!/usr/bin/env python3
"""Reproduce the paper's Tables 1 and 2 on the authors' own data with `celegans train`.

Usage: paper_tables.py DAT_DIR OUT_DIR [MODEL ...] [-- TRAIN_OPTION ...]
  DAT_DIR  the authors' Dataset1 (Sequence_NN.dat + split.json), e.g.
           ../shared/reference/paper-fcm-0.5ms
  OUT_DIR  where the imported dataset, the model directories and the JSON results go
  MODEL    e.g. gru-4 lstm-8 rnn-16 (default: every model of Tables 1 and 2)
  TRAIN_OPTION  passed on to every `celegans train`, e.g. `-- --adam-epsilon keras --loss mse`
           (the authors' Keras exactly); use a separate OUT_DIR per set of options
Then writes OUT_DIR/TABLE.md from every OUT_DIR/*.json present (models already trained are
not trained again). Needs `cargo build --release` first. Each model: 10 runs x 1000 epochs,
the paper's protocol (Adam, lr 0.05 for LSTM/GRU and 0.001 for RNN, batch 32, best epoch on
validation loss, no scaling of the data).
"""
import json
import os
import subprocess
import sys

# Paper, mean of 10 runs (train, valid, test): Table 1 and Table 2 (README of the reference data).
PAPER = {
    "rnn-16": (1.0444e-01, 1.2986e-01, 1.3406e-01),
    "lstm-8": (9.9371e-03, 3.6109e-02, 1.4904e-02),
    "gru-8": (7.7912e-03, 3.4760e-02, 1.0005e-02),
    "rnn-64": (6.2831e-02, 8.8764e-02, 9.5476e-02),
    "lstm-32": (7.6058e-03, 3.6437e-02, 1.5230e-02),
    "gru-32": (6.7129e-03, 3.5098e-02, 1.2384e-02),
    "gru-2": (4.2999e-02, 5.3732e-02, 6.0047e-02),
    "gru-4": (1.0525e-02, 3.4800e-02, 1.1771e-02),
    "gru-16": (6.7886e-03, 3.4961e-02, 9.3625e-03),
    "gru-64": (5.8068e-03, 3.6230e-02, 1.6841e-02),
}
ORDER = ["gru-4", "gru-8", "lstm-8", "rnn-16", "gru-2", "gru-16", "gru-32", "lstm-32", "rnn-64", "gru-64"]


def main():
    args = sys.argv[1:]
    extra = args[args.index("--") + 1:] if "--" in args else []
    args = args[:args.index("--")] if "--" in args else args
    dat_dir, out_dir = args[0], args[1]
    models = args[2:] or ORDER
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    exe = os.path.join(repo, "target", "release", "celegans")
    os.makedirs(out_dir, exist_ok=True)
    data = os.path.join(out_dir, "paper.h5")
    if not os.path.exists(data):
        subprocess.run([exe, "dataset", "import-dat", dat_dir, "--inputs", "PLML,PLMR,AVBL,AVBR", "--outputs",
                        "DB1,LUAL,PVR,VB1", "--split", os.path.join(dat_dir, "split.json"), "--out", data], check=True)
    for model in models:
        result = os.path.join(out_dir, model + ".json")
        if os.path.exists(result):
            continue
        arch, hidden = model.split("-")
        cmd = [exe, "train", "--data", data, "--arch", arch, "--hidden", hidden, "--runs", "10", "--epochs", "1000",
               "--scale", "none", "--out", os.path.join(out_dir, model), "--json"] + extra
        print(" ".join(cmd), flush=True)
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        with open(result, "w") as f:
            f.write(out)
    write_table(out_dir)


def write_table(out_dir):
    rows = []
    for model in ORDER:
        path = os.path.join(out_dir, model + ".json")
        if not os.path.exists(path):
            continue
        with open(path) as f:
            r = json.load(f)
        mean, std = r["rmse_mean"], r["rmse_std"]
        ours = " / ".join(f"{mean[k]:.3e} ± {std[k]:.1e}" for k in ("train", "valid", "test"))
        paper = " / ".join(f"{v:.3e}" for v in PAPER[model])
        test_ratio = mean["test"] / PAPER[model][2]
        rows.append(f"| {model.upper()} | {r['params']} | {ours} | {paper} | {test_ratio:.2f} | "
                    f"{r['seconds_per_epoch'] * 1e3:.1f} |")
    head = ("| model | params | ours: train / valid / test RMSE (mean ± std, 10 runs) | paper: train / valid / test "
            "| test ours/paper | ms per epoch |\n|---|---|---|---|---|---|")
    with open(os.path.join(out_dir, "TABLE.md"), "w") as f:
        f.write(head + "\n" + "\n".join(rows) + "\n")
    print(head + "\n" + "\n".join(rows))


if __name__ == "__main__":
    main()
