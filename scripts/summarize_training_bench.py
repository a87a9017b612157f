#!/usr/bin/env python3
"""Summarises `coopt eval curve --json` output of scripts/bench_training.sh as a Markdown table.

Runs are grouped by their directory name without the `-sSEED` suffix (byol, rela-pretrained,
rela-random). For each group: linear-probe top-1 at the end of the budget (mean +- std over
seeds), the mean curve at each checkpoint time, the training time the group's mean curve needs to
reach BYOL's end-of-budget mean (linear interpolation between checkpoints), and where each ReLA
group's mean curve crosses BYOL's, if it does.

Usage: python3 scripts/summarize_training_bench.py CURVES.json
"""
import json
import re
import statistics
import sys


def group_name(label):
    return re.sub(r"-s\d+$", "", label)


def mean_curve(runs):
    """Mean top-1 at each checkpoint index (runs share the budget's checkpoint schedule)."""
    n = min(len(r["points"]) for r in runs)
    return [(statistics.mean(r["points"][i]["seconds"] for r in runs),
             statistics.mean(r["points"][i]["top1"] for r in runs)) for i in range(n)]


def time_to_reach(curve, level):
    for (t0, a0), (t1, a1) in zip(curve, curve[1:]):
        if a0 >= level:
            return t0
        if a1 >= level:
            return t0 + (t1 - t0) * (level - a0) / (a1 - a0)
    return curve[-1][0] if curve and curve[-1][1] >= level else None


def crossings(a, b):
    """Times after the start where curve a - curve b changes sign (same checkpoint schedule; runs of
    one seed share their initialisation, so the curves always meet at 0 s)."""
    out = []
    for (t0, x0), (t1, x1), (_, y0), (_, y1) in zip(a, a[1:], b, b[1:]):
        d0, d1 = x0 - y0, x1 - y1
        if d0 == 0 and t0 > 0:
            out.append(t0)
        elif d0 * d1 < 0:
            out.append(t0 + (t1 - t0) * d0 / (d0 - d1))
    return out


def pct(x):
    return f"{100 * x:.2f}"


def main():
    data = json.load(open(sys.argv[1]))
    groups = {}
    for run in data["runs"]:
        groups.setdefault(group_name(run["label"]), []).append(run)
    lines = ["| runs | seeds | top-1 at end of budget (%) | mean curve: seconds -> top-1 (%) |", "|---|---|---|---|"]
    curves = {}
    finals = {}
    for name, runs in sorted(groups.items()):
        final = [r["points"][-1]["top1"] for r in runs]
        finals[name] = final
        curves[name] = mean_curve(runs)
        sd = statistics.stdev(final) if len(final) > 1 else 0.0
        series = ", ".join(f"{t:.0f}s {pct(a)}" for t, a in curves[name])
        lines.append(f"| {name} | {len(runs)} | {pct(statistics.mean(final))} +- {pct(sd)} | {series} |")
    print("\n".join(lines))
    if "byol" in curves:
        target = statistics.mean(finals["byol"])
        budget = curves["byol"][-1][0]
        print()
        print(f"BYOL's end-of-budget mean: {pct(target)}% at {budget:.0f} s of training.")
        for name in sorted(curves):
            if name == "byol":
                continue
            gap = statistics.mean(finals[name]) - target
            reach = time_to_reach(curves[name], target)
            when = "never within the budget" if reach is None else f"{reach:.0f} s ({100 * reach / budget:.0f}% of BYOL's time)"
            cross = crossings(curves[name], curves["byol"])
            quarter = [a - b for (t, a), (_, b) in zip(curves[name], curves["byol"]) if 0 < t <= budget / 4 + 1e-9]
            print(f"- {name}: {gap * 100:+.2f} points vs BYOL at the end; reaches BYOL's final top-1 after {when}; "
                  f"ahead of BYOL during the first quarter: {'yes' if quarter and min(quarter) > 0 else 'no'} "
                  f"(differences {', '.join(f'{100 * d:+.2f}' for d in quarter)}); "
                  f"curves cross after the start at: {', '.join(f'{t:.0f} s' for t in cross) if cross else 'never'}")


if __name__ == "__main__":
    main()
