#!/usr/bin/env python3
"""Summarise scripts/bench_adversarial.sh: a markdown table on stdout. Standard library only.

    python3 scripts/summarize_adversarial_bench.py runs/bench-adversarial > runs/bench-adversarial/summary.md

An adversarial configuration counts as "within the honest seed spread" when its mean top-1 differs
from the honest-only mean by at most the honest-only standard deviation over the seeds.
"""
import glob
import json
import os
import re
import statistics
import sys

CONFIGS = ["honest", "noise", "constant", "copy", "noisy_view"]
LABELS = {"honest": "honest only (3 shipped priors)", "noise": "honest + noise.pt",
          "constant": "honest + constant.pt", "copy": "honest + a shipped prior twice (copy)",
          "noisy_view": "honest + noisy_view.pt"}
# Quoted from issue 12, not measured by this script: the same collaboration before screening, where
# the noise participant became the reference (a student trained 60 s, probed on 60k/10k).
OLD_BEHAVIOUR = ("honest + noise, before screening (quoted from issue 12, not re-measured)", "66.2%")


def load(path):
    with open(path) as f:
        return json.load(f)


def short(prior):
    """noise.pt for a TorchScript file, convnet-s-byol-300s for zoo: or a model: directory."""
    return os.path.basename(prior.split(":", 1)[1].rstrip("/")) if ":" in prior else prior


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    top1, collab = {}, {}
    for f in glob.glob(os.path.join(out, "student-*-s*.probe.json")):
        m = re.match(r"student-(\w+)-s(\d+)\.probe\.json$", os.path.basename(f))
        top1[(m.group(1), int(m.group(2)))] = load(f)["top1"]
    for f in glob.glob(os.path.join(out, "collab-*-s*.json")):
        m = re.match(r"collab-(\w+)-s(\d+)\.json$", os.path.basename(f))
        collab[(m.group(1), int(m.group(2)))] = load(f)
    seeds = sorted({s for _, s in top1})
    honest = [top1[("honest", s)] for s in seeds if ("honest", s) in top1]
    spread = statistics.stdev(honest) if len(honest) > 1 else float("nan")

    md = ["| fused dataset | " + " | ".join(f"seed {s}" for s in seeds)
          + " | mean ± std | Δ mean vs honest | within honest spread (±%.2f) | excluded (reason) | reference | reassigned shards |"
          % (100 * spread),
          "|---" * (len(seeds) + 7) + "|"]
    for c in CONFIGS:
        xs = [top1.get((c, s)) for s in seeds]
        got = [x for x in xs if x is not None]
        if not got:
            continue
        mean = statistics.mean(got)
        std = f" ± {100 * statistics.stdev(got):.2f}" if len(got) > 1 else ""
        delta = mean - statistics.mean(honest) if honest else float("nan")
        within = "-" if c == "honest" else ("yes" if abs(delta) <= spread else "**no**")
        runs = [collab[(c, s)] for s in seeds if (c, s) in collab]
        reasons = {}  # "prior (reason without numbers)" -> seeds
        for s in seeds:
            for e in collab[(c, s)]["excluded"] if (c, s) in collab else []:
                reason = re.sub(r" \([^)]*\)", "", e["reason"]).split(":")[0]
                reasons.setdefault(f"{short(e['prior'])} ({reason})", []).append(s)
        excluded = [k + ("" if len(v) == len(seeds) else f" in seed{'s' if len(v) > 1 else ''} " + ", ".join(map(str, v)) + " only")
                    for k, v in reasons.items()]
        references = sorted({short(next(p["prior"] for p in r["ranking"] if p["participant"] == r["reference"]))
                             for r in runs})
        reassigned = sorted({r["reassigned_shards"] for r in runs})
        md.append(f"| {LABELS[c]} | " + " | ".join("-" if x is None else f"{100 * x:.2f}%" for x in xs)
                  + f" | {100 * mean:.2f}{std}% | {'-' if c == 'honest' else f'{100 * delta:+.2f}'} | {within} | "
                  + ("; ".join(excluded) or "none") + f" | {', '.join(references)} | "
                  + ", ".join(map(str, reassigned)) + " |")
    md.append(f"| {OLD_BEHAVIOUR[0]} | " + " | ".join("" for _ in seeds) + f" | {OLD_BEHAVIOUR[1]} | | | noise elected the reference | noise | |")
    md.append("")
    if honest:
        md.append(f"Honest-only over {len(honest)} seeds: range {100 * min(honest):.2f}–{100 * max(honest):.2f}%, "
                  f"standard deviation {100 * spread:.2f} points.")
    for s in seeds:
        digests = {}
        for c in CONFIGS:
            manifest = os.path.join(out, f"collab-{c}-s{s}", "manifest.json")
            if os.path.exists(manifest):
                digests.setdefault(load(manifest)["targets_sha256"], []).append(c)
        md.append(f"Seed {s}, fused targets by sha256: "
                  + "; ".join(f"{d[:12]}… {', '.join(cs)}" for d, cs in digests.items()) + ".")
    print("\n".join(md))


if __name__ == "__main__":
    main()
