#!/usr/bin/env python3
"""Summarises scripts/bench_cifar10_table1.sh: per arm, the final linear probe (the last checkpoint of each run; mean
+- std over seeds), the steps, epochs and images/s its budget bought, and, for each ReLA arm, the training time it
needs to reach each other arm's final accuracy (linear interpolation between its checkpoints, per seed, then the
mean; "not within the budget" when a seed never gets there).

Usage: python3 scripts/summarize_cifar10_table1.py OUT [TRAIN_IMAGES]    (TRAIN_IMAGES default 50000)
"""
import glob
import json
import os
import re
import statistics
import sys

NAMES = {"rela-a": "ReLA->BYOL, fused (a) public", "rela-b": "ReLA->BYOL, fused (b) label-free",
         "byol": "BYOL", "simclr": "SimCLR", "dcl": "DCL", "moco": "MoCo v2", "simsiam": "SimSiam"}


def reach(points, target):
    """Training seconds at which the curve first reaches target, or None."""
    prev = None
    for p in points:
        if p["top1"] >= target:
            if prev is None:
                return p["seconds"]
            f = (target - prev["top1"]) / (p["top1"] - prev["top1"])
            return prev["seconds"] + f * (p["seconds"] - prev["seconds"])
        prev = p
    return None


def main():
    out = sys.argv[1]
    images = int(sys.argv[2]) if len(sys.argv) > 2 else 50000
    arms = {}
    for curve in sorted(glob.glob(os.path.join(out, "*-s*.curve.json"))):
        run = curve[: -len(".curve.json")]
        arm = re.sub(r"-s\d+$", "", os.path.basename(run))
        points = json.load(open(curve))["runs"][0]["points"]
        train = json.load(open(run + ".json"))
        model = json.load(open(os.path.join(run, "model.json")))
        batch = model["provenance"]["hyper_parameters"]["batch"]
        arms.setdefault(arm, []).append({"points": points, "final": points[-1]["top1"], "steps": train["steps"],
                                         "seconds": train["train_seconds"], "batch": batch,
                                         "phase": train.get("final_phase", "")})
    floor = None
    if os.path.exists(os.path.join(out, "untrained.probe.json")):
        floor = json.load(open(os.path.join(out, "untrained.probe.json")))["top1"]
    print("| arm | seeds | top-1 (%), mean +- std | steps | epochs | images/s | training s | final phase |")
    print("|---|---|---|---|---|---|---|---|")
    order = sorted(arms, key=lambda a: -statistics.mean(r["final"] for r in arms[a]))
    for arm in order:
        rows = arms[arm]
        acc = [r["final"] for r in rows]
        sd = statistics.stdev(acc) if len(acc) > 1 else 0.0
        steps = statistics.mean(r["steps"] for r in rows)
        epochs = statistics.mean(r["steps"] * r["batch"] / images for r in rows)
        ips = statistics.mean(r["steps"] * r["batch"] / r["seconds"] for r in rows)
        secs = statistics.mean(r["seconds"] for r in rows)
        print(f"| {NAMES.get(arm, arm)} | {len(rows)} | {100 * statistics.mean(acc):.2f} +- {100 * sd:.2f} | "
              f"{steps:.0f} | {epochs:.2f} | {ips:.0f} | {secs:.0f} | {', '.join(sorted(set(r['phase'] for r in rows)))} |")
    if floor is not None:
        print(f"| untrained resnet-s (the floor) | 1 | {100 * floor:.2f} | 0 | 0 | | | |")
    for rela in [a for a in order if a.startswith("rela")]:
        print()
        print(f"{NAMES.get(rela, rela)}: training seconds to reach each arm's final mean accuracy (per seed, then mean)")
        print()
        print("| arm | its final top-1 (%) | its training s | ReLA reaches it after (s) | share of that arm's time |")
        print("|---|---|---|---|---|")
        for arm in order:
            if arm == rela:
                continue
            target = statistics.mean(r["final"] for r in arms[arm])
            own = statistics.mean(r["seconds"] for r in arms[arm])
            times = [reach(r["points"], target) for r in arms[rela]]
            if any(t is None for t in times):
                got = f"not within the budget ({sum(t is not None for t in times)} of {len(times)} seeds reach it)"
                share = ""
            else:
                mean = statistics.mean(times)
                got = f"{mean:.0f} ({', '.join(f'{t:.0f}' for t in times)})"
                share = f"{100 * mean / own:.0f}%"
            print(f"| {NAMES.get(arm, arm)} | {100 * target:.2f} | {own:.0f} | {got} | {share} |")


if __name__ == "__main__":
    main()
