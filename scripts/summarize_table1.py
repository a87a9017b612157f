#!/usr/bin/env python3
"""Summarises scripts/bench_table1.sh: per method, the final full-split linear probe (mean +- std over seeds), the
training steps and images per second each run reached in its budget (so a reader sees what the budget bought each
method), and its final phase.

Usage: python3 scripts/summarize_table1.py OUT
"""
import glob
import json
import os
import re
import statistics
import sys


def main():
    out = sys.argv[1]
    groups = {}
    for probe in sorted(glob.glob(os.path.join(out, "*-s*.probe.json"))):
        run = probe[: -len(".probe.json")]
        name = re.sub(r"-s\d+$", "", os.path.basename(run))
        train = json.load(open(run + ".json"))
        top1 = json.load(open(probe))["top1"]
        model = json.load(open(os.path.join(run, "model.json")))
        batch = model["provenance"]["hyper_parameters"]["batch"]
        groups.setdefault(name, []).append((top1, train["steps"], train["train_seconds"], batch, train["final_phase"]))
    print("| method | seeds | top-1, linear probe (%) | steps in budget | images/s (2 views) | final phase |")
    print("|---|---|---|---|---|---|")
    for name, rows in sorted(groups.items(), key=lambda kv: -statistics.mean(r[0] for r in kv[1])):
        acc = [r[0] for r in rows]
        sd = statistics.stdev(acc) if len(acc) > 1 else 0.0
        steps = statistics.mean(r[1] for r in rows)
        ips = statistics.mean(r[1] * r[3] / r[2] for r in rows)
        print(f"| {name} | {len(rows)} | {100 * statistics.mean(acc):.2f} +- {100 * sd:.2f} | {steps:.0f} | {ips:.0f} | "
              f"{', '.join(sorted(set(r[4] for r in rows)))} |")


if __name__ == "__main__":
    main()
