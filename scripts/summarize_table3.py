#!/usr/bin/env python3
"""Summarises scripts/bench_table3.sh: per student architecture, ReLA -> BYOL on the fused dataset against BYOL from
scratch (linear-probe top-1, mean +- std over seeds, and the paired difference), the untrained network probed the same
way, steps, and the training wall time each arm took on this machine.

Usage: python3 scripts/summarize_table3.py OUT
"""
import glob
import json
import os
import re
import statistics
import sys

ARMS = ("rela-byol", "byol")


def mean_sd(xs):
    return statistics.mean(xs), (statistics.stdev(xs) if len(xs) > 1 else 0.0)


def main():
    out = sys.argv[1]
    runs = {}
    for probe in sorted(glob.glob(os.path.join(out, "*-s*.probe.json"))):
        run = probe[: -len(".probe.json")]
        m = re.fullmatch(r"(.+?)-(" + "|".join(ARMS) + r")-s(\d+)", os.path.basename(run))
        if not m or not os.path.exists(run + ".json"):
            continue
        arch, arm, seed = m.group(1), m.group(2), int(m.group(3))
        try:
            train, top1 = json.load(open(run + ".json")), json.load(open(probe))["top1"]
        except (ValueError, KeyError):  # a run or probe still being written
            continue
        runs.setdefault(arch, {}).setdefault(arm, {})[seed] = {
            "top1": top1, "steps": train["steps"],
            "seconds": train["train_seconds"], "phase": train["final_phase"]}
    print("| student | seeds | ReLA -> BYOL on fused data (%) | BYOL from scratch (%) | paired difference (points) "
          "| untrained network (%) | steps | training wall s (ReLA / BYOL) | final phase (ReLA arm) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for arch, arms in runs.items():
        seeds = sorted(set(arms.get(ARMS[0], {})) & set(arms.get(ARMS[1], {})))
        if not seeds:
            continue
        rela, byol = ([arms[arm][s] for s in seeds] for arm in ARMS)
        r, rs = mean_sd([100 * x["top1"] for x in rela])
        b, bs = mean_sd([100 * x["top1"] for x in byol])
        d, ds = mean_sd([100 * (x["top1"] - y["top1"]) for x, y in zip(rela, byol)])
        untrained = os.path.join(out, f"{arch}-untrained.json")
        u = f"{100 * json.load(open(untrained))['top1']:.2f}" if os.path.exists(untrained) else "not measured"
        steps = "/".join(sorted({str(x["steps"]) for x in rela + byol}))
        secs = f"{statistics.mean(x['seconds'] for x in rela):.0f} / {statistics.mean(x['seconds'] for x in byol):.0f}"
        phases = ", ".join(sorted({x["phase"] for x in rela}))
        print(f"| {arch} | {len(seeds)} | {r:.2f} +- {rs:.2f} | {b:.2f} +- {bs:.2f} | {d:+.2f} +- {ds:.2f} | {u} | "
              f"{steps} | {secs} | {phases} |")


if __name__ == "__main__":
    main()
