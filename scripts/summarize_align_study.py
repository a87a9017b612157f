#!/usr/bin/env python3
"""Summarises scripts/bench_align_study.sh: per prior set, the student's probe top-1 after ridge / pca / none fusion
and after the best single prior centrally; the alignment fit residuals; and whether uniformity picks the best prior —
each prior's own probe against its uniformity on the first 3,000 images, uncentred (Wang & Isola as written) and
centred (what coopt ranks by since issue 14), with Spearman's rank correlation over all priors (more negative = lower
uniformity goes with a better probe). Markdown on stdout, OUT/summary.json.

Usage: python3 scripts/summarize_align_study.py OUT [--checks-json docs/benchmarks/issue14-checks.json]
"""
import glob
import json
import os
import statistics
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from read_optimized_dataset import read_safetensors  # noqa: E402
import checks_json  # noqa: E402

SETUP = ('Issue 14 (BENCHMARKS.md): the alignment study (prior sets that differ increasingly; ridge vs pca vs none vs the best single prior centrally; each followed by the same convnet-s ReLA->BYOL student) and continuous-optimization rounds from the shipped priors, on Fashion-MNIST.')
COMMAND = 'scripts/bench_align_study.sh OUT; scripts/bench_rounds.sh OUT (see BENCHMARKS.md for the settings)'

SETS = {"a": "three shipped priors", "b": "architectures and widths", "c": "training (BYOL, SimCLR, random)",
        "d": "cross-domain (UCI digits; FMNIST test split)", "e": "one broken prior (random efficientnet-b0)"}


def load(path):
    try:
        return json.load(open(path))
    except (OSError, ValueError):
        return None


def uniformity(x, t=2.0):
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-30)
    g = np.clip(2 - 2 * (x @ x.T), 0, None)
    e = -t * g[np.triu_indices(len(x), 1)]
    m = e.max()
    return float(m + np.log(np.mean(np.exp(e - m))))


def ranks(v):
    order = np.argsort(v)
    r = np.empty(len(v))
    r[order] = np.arange(len(v))
    return r


def spearman(a, b):
    ra, rb = ranks(np.asarray(a)), ranks(np.asarray(b))
    return float(np.corrcoef(ra, rb)[0, 1])


def main(out, checks=None):
    summary = {"sets": {}, "priors": {}}
    # priors: own probe, uniformity raw and centred on 1,000 of the first 3,000 images (seeded)
    rng = np.random.default_rng(0)
    pick = np.sort(rng.choice(3000, 1000, replace=False))
    for probe in sorted(glob.glob(os.path.join(out, "priors", "*.probe.json"))):
        name = os.path.basename(probe)[: -len(".probe.json")]
        raw = os.path.join(out, "priors", name, "raw_outputs.safetensors")
        if not os.path.exists(raw):
            continue
        t = read_safetensors(raw)
        x = np.asarray([v for v in t.values() if v.dtype == np.float32 and v.ndim == 2][0], dtype=np.float64)[pick]
        summary["priors"][name] = {"probe_top1": 100 * load(probe)["top1"], "uniformity_raw": uniformity(x),
                                   "uniformity_centred": uniformity(x - x.mean(0)),
                                   "mean_direction_norm": float(np.linalg.norm((x / np.linalg.norm(x, axis=1, keepdims=True)).mean(0)))}
    print("| prior | own probe top-1 | uniformity, uncentred | uniformity, centred | norm of the mean direction |")
    print("|---|---|---|---|---|")
    for n, p in sorted(summary["priors"].items(), key=lambda kv: -kv[1]["probe_top1"]):
        print(f"| {n} | {p['probe_top1']:.2f}% | {p['uniformity_raw']:.3f} | {p['uniformity_centred']:.3f} | "
              f"{p['mean_direction_norm']:.3f} |")
    ps = list(summary["priors"].values())
    if len(ps) > 2:
        sr = spearman([p["uniformity_raw"] for p in ps], [p["probe_top1"] for p in ps])
        sc = spearman([p["uniformity_centred"] for p in ps], [p["probe_top1"] for p in ps])
        summary["spearman_raw"], summary["spearman_centred"] = sr, sc
        print(f"\nSpearman (uniformity vs probe, {len(ps)} priors; -1 = uniformity ranks them exactly as the probe): "
              f"uncentred {sr:+.2f}, centred {sc:+.2f}\n")
    print("| set | priors | ridge | pca | none | best single prior centrally | ridge fit residuals | reference (most uniform trusted) |")
    print("|---|---|---|---|---|---|---|---|")
    for s, what in SETS.items():
        row = {}
        for v in ["ridge", "pca", "none", "central"]:
            accs = []
            for f in sorted(glob.glob(os.path.join(out, f"set-{s}-{v}-s*.probe.json"))):
                accs.append(100 * load(f)["top1"])
            row[v] = accs
        if not any(row.values()):
            continue
        collab = load(sorted(glob.glob(os.path.join(out, f"set-{s}-ridge-s*.json")))[0]) if glob.glob(
            os.path.join(out, f"set-{s}-ridge-s*.json")) else None
        residuals = [] if collab is None else [f"{r['prior'].split('/')[-1]} {r['residual']:.3f}" if r.get("residual") is not None
                                             else f"{r['prior'].split('/')[-1]} excluded" for r in collab["ranking"]]
        reference = "-" if collab is None else next(r["prior"].split("/")[-1] for r in collab["ranking"]
                                                    if r["participant"] == collab["reference"])
        priors = "-" if collab is None else ", ".join(r["prior"].split("/")[-1] for r in collab["ranking"])

        def fmt(a):
            if not a:
                return "-"
            return f"{statistics.mean(a):.2f}" + (f" ± {statistics.stdev(a):.2f}" if len(a) > 1 else "") + f"% (n={len(a)})"
        print(f"| {s}: {what} | {priors} | {fmt(row['ridge'])} | {fmt(row['pca'])} | {fmt(row['none'])} | "
              f"{fmt(row['central'])} | {'; '.join(residuals)} | {reference} |")
        summary["sets"][s] = {"what": what, "top1": row, "residuals": residuals, "reference": reference,
                              "cells": [f"{s}: {what}", fmt(row["ridge"]), fmt(row["pca"]), fmt(row["none"]),
                                        fmt(row["central"])]}
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    if checks:
        found = []
        if "spearman_centred" in summary:
            found.append({"title": "Does uniformity pick the best prior? Each prior's own probe against its uniformity",
                          "header": ["prior", "own probe top-1", "uniformity, uncentred", "uniformity, centred"],
                          "rows": [[n, f"{p['probe_top1']:.2f}%", f"{p['uniformity_raw']:.3f}", f"{p['uniformity_centred']:.3f}"]
                                   for n, p in sorted(summary["priors"].items(), key=lambda kv: -kv[1]["probe_top1"])],
                          "finding": f"Spearman rank correlation with the probe over {len(summary['priors'])} priors: "
                                     f"uncentred {summary['spearman_raw']:+.2f}, centred {summary['spearman_centred']:+.2f} "
                                     "(-1 = uniformity ranks them exactly as the probe). coopt ranks by the centred value."})
        found.append({"title": "Alignment study: student top-1 after fusing each prior set (ridge = the paper's alignment)",
                      "header": ["prior set", "ridge", "pca", "none", "best single prior centrally"],
                      "rows": [v["cells"] for v in summary["sets"].values()]})
        checks_json.merge(checks, SETUP, COMMAND, found)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[3] if len(sys.argv) > 3 and sys.argv[2] == "--checks-json" else None)
