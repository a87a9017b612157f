#!/usr/bin/env python3
"""Summarises scripts/bench_rounds.sh: student probe top-1 per round (mean ± std over the seeds that reached it),
the priors each round fused and its reference, as a Markdown table on stdout and OUT/summary.json.

Usage: python3 scripts/summarize_rounds.py OUT [--checks-json docs/benchmarks/issue14-checks.json]
"""
import glob
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks_json  # noqa: E402

SETUP = ('Issue 14 (BENCHMARKS.md): the alignment study (prior sets that differ increasingly; ridge vs pca vs none vs the best single prior centrally; each followed by the same convnet-s ReLA->BYOL student) and continuous-optimization rounds from the shipped priors, on Fashion-MNIST.')
COMMAND = 'scripts/bench_align_study.sh OUT; scripts/bench_rounds.sh OUT (see BENCHMARKS.md for the settings)'


def labels(path="/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz"):
    import gzip
    import numpy as np
    with gzip.open(path) as f:
        data = f.read()
    return np.frombuffer(data, dtype=np.uint8, offset=8)


def targets_probe(dataset, y):
    """How much of the labels a round's fused targets carry: a ridge classifier (least squares onto one-hot labels,
    closed form) fitted on the targets of the first half of the ids and scored on the second half."""
    import numpy as np
    from read_optimized_dataset import read_safetensors
    t = read_safetensors(os.path.join(dataset, "targets.safetensors"))
    ids = np.asarray(t["ids"])
    x = np.asarray(t["targets"], dtype=np.float64)
    x = np.hstack([x, np.ones((len(x), 1))])
    half = len(x) // 2
    onehot = np.eye(int(y.max()) + 1)[y[ids[:half]]]
    a = x[:half]
    w = np.linalg.solve(a.T @ a + 1e-3 * np.eye(a.shape[1]), a.T @ onehot)
    return float(np.mean(np.argmax(x[half:] @ w, axis=1) == y[ids[half:]]))


def main(out, checks=None):
    per_round = {}
    for seed_dir in sorted(glob.glob(os.path.join(out, "seed-*"))):
        if not os.path.isdir(seed_dir):
            continue
        seed = seed_dir.rsplit("-", 1)[1]
        for f in sorted(glob.glob(os.path.join(seed_dir, "round-*", "round.json"))):
            r = json.load(open(f))
            per_round.setdefault(r["round"], []).append((seed, r))
    rows = []
    try:
        y = labels()
    except OSError:
        y = None
    print("| round | seeds | student top-1 | targets' own ridge probe | priors fused (seed 0) | reference (seed 0) | steps | round wall time |")
    print("|---|---|---|---|---|---|---|---|")
    for k in sorted(per_round):
        runs = per_round[k]
        acc = [100 * r["probe_top1"] for _, r in runs]
        mean = statistics.mean(acc)
        std = statistics.stdev(acc) if len(acc) > 1 else 0.0
        first = runs[0][1]
        tp = [] if y is None else [100 * targets_probe(os.path.join(out, f"seed-{sd}", r["dataset"]), y) for sd, r in runs]
        tps = f"{statistics.mean(tp):.2f} ± {statistics.stdev(tp) if len(tp) > 1 else 0:.2f}%" if tp else "-"
        priors = [p["prior"] for p in first["participants"]]
        ref = next((p["prior"] for p in first["participants"] if p["reference"]), "-")
        print(f"| {k} | {len(runs)} | {mean:.2f} ± {std:.2f}% ({', '.join(f'{a:.2f}' for a in acc)}) | {tps} | "
              f"{', '.join(priors)} | {ref} | {first['student_steps']} | {first['seconds']:.0f} s |")
        rows.append({"round": k, "seeds": [s for s, _ in runs], "top1": acc, "mean": mean, "std": std,
                     "priors_seed0": priors, "reference_seed0": ref, "targets_probe": tp})
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(rows, f, indent=1)
    if checks:
        checks_json.merge(checks, SETUP, COMMAND, [{
            "title": "Rounds: student linear-probe top-1 per round (the student of each round a prior of the next)",
            "header": ["round", "seeds", "top-1 (mean ± std)", "targets' own ridge probe", "priors fused (seed 0)"],
            "rows": [[str(r["round"]), str(len(r["seeds"])), f"{r['mean']:.2f} ± {r['std']:.2f}%",
                      f"{statistics.mean(r['targets_probe']):.2f}%" if r["targets_probe"] else "-",
                      ", ".join(p.split("/")[-1] for p in r["priors_seed0"])] for r in rows]}])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[3] if len(sys.argv) > 3 and sys.argv[2] == "--checks-json" else None)
