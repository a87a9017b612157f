#!/usr/bin/env python3
"""Summarise scripts/bench_collab.sh: markdown tables on stdout, and the same tables as JSON
(--checks-json) for the demo's report. Standard library only.

    python3 scripts/summarize_collab_bench.py runs/bench-collab --aligned-fraction 0.01 \
        --checks-json docs/benchmarks/issue5-checks.json > runs/bench-collab/summary.md
"""
import argparse
import glob
import json
import os
import re
import statistics


def load(path):
    with open(path) as f:
        return json.load(f)


def mean_std(xs, scale=1.0, digits=2, unit=""):
    xs = [scale * x for x in xs]
    if not xs:
        return "-"
    if len(xs) == 1:
        return f"{xs[0]:.{digits}f}{unit}"
    return f"{statistics.mean(xs):.{digits}f} ± {statistics.stdev(xs):.{digits}f}{unit}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--aligned-fraction", default="0.01")
    ap.add_argument("--checks-json")
    ap.add_argument("--timing", help="folder of collab/optimize JSONs re-measured on a quiet machine "
                    "(scripts/bench_collab_timing.sh); used for the wall times of checks 2 and 4")
    a = ap.parse_args()
    out = a.out
    top1 = {}
    train = {}
    for f in glob.glob(os.path.join(out, "student-*.probe.json")):
        name = os.path.basename(f)[: -len(".probe.json")]
        if os.path.getsize(f) == 0:  # a probe still running
            continue
        top1[name] = load(f)["top1"]
        train[name] = load(os.path.join(out, name + ".train.json"))
    seeds = sorted({int(m.group(1)) for n in top1 for m in [re.search(r"-s(\d+)$", n)] if m})
    fractions = sorted({m.group(1) for n in top1 for m in [re.search(r"ridge-f([0-9.]+)-s", n)] if m}, key=float)
    f_al = a.aligned_fraction

    def per_seed(prefix):
        return [top1[f"{prefix}-s{s}"] for s in seeds if f"{prefix}-s{s}" in top1]

    def collab(kind, s):
        p = os.path.join(out, f"collab-{kind}-s{s}.json")
        return load(p) if os.path.exists(p) else None

    checks = []
    md = []
    priors = []
    for f in sorted(glob.glob(os.path.join(out, "prior-*.probe.json"))):
        d = load(f)
        priors.append([os.path.basename(f)[len("prior-"): -len(".probe.json")], str(d["feature_dim"]),
                       f"{100 * d['top1']:.2f}%"])
    ranking = collab(f"ridge-f{f_al}", seeds[0]) if seeds else None
    uni = {r["prior"].replace("zoo:", ""): r["uniformity"] for r in ranking["ranking"]} if ranking else {}
    for row in priors:
        row.append(f"{uni[row[0]]:.4f}" if row[0] in uni else "-")
    checks.append({"title": "The three priors (linear probe of each prior's own features, full 60k/10k)",
                   "header": ["prior", "output width", "probe top-1", f"uniformity on S (seed {seeds[0] if seeds else '-'})"],
                   "rows": priors})

    # 1. aligned vs none
    al, no = per_seed(f"student-ridge-f{f_al}"), per_seed("student-none")
    gaps = [x - y for x, y in zip(al, no)]
    rows = [["ridge alignment (S = %s%%)" % (100 * float(f_al))] + [f"{100 * x:.2f}%" for x in al] + [mean_std(al, 100, unit="%")],
            ["--align none"] + [f"{100 * x:.2f}%" for x in no] + [mean_std(no, 100, unit="%")],
            ["gap (paired)"] + [f"{100 * g:+.2f}" for g in gaps] + [mean_std(gaps, 100)]]
    checks.append({"title": "1. Aligned fusion vs no alignment: student top-1",
                   "header": ["fused dataset"] + [f"seed {s}" for s in seeds] + ["mean ± std"], "rows": rows})

    # 2. collaborative vs centralized
    ce = per_seed("student-central")
    if a.timing:
        cols = [load(os.path.join(a.timing, f"collab-ridge-f{f_al}-r{r}.json")) for r in range(3)
                if os.path.exists(os.path.join(a.timing, f"collab-ridge-f{f_al}-r{r}.json"))]
        cens = [load(os.path.join(a.timing, f"central-r{r}.json")) for r in range(3)
                if os.path.exists(os.path.join(a.timing, f"central-r{r}.json"))]
    else:
        cols = [c for c in (collab(f"ridge-f{f_al}", s) for s in seeds) if c]
        cens = [load(os.path.join(out, f"central-s{s}.json")) for s in seeds if os.path.exists(os.path.join(out, f"central-s{s}.json"))]
    col_opt = [c["phase_seconds"]["optimization"] for c in cols]
    col_max = [max(r["optimization_seconds"] for r in c["ranking"]) for c in cols]
    col_total = [c["seconds"] for c in cols]
    cen_embed = [d["embed_seconds"] for d in cens]
    cen_total = [d["seconds"] for d in cens]
    rows = [["collaborative, K = 3 (ridge, S = %s%%)" % (100 * float(f_al)), mean_std(al, 100, unit="%"),
             mean_std(col_opt, digits=1, unit=" s"), mean_std(col_max, digits=1, unit=" s"), mean_std(col_total, digits=1, unit=" s")],
            ["centralized: best prior alone, all data", mean_std(ce, 100, unit="%"), mean_std(cen_embed, digits=1, unit=" s"),
             mean_std(cen_embed, digits=1, unit=" s"), mean_std(cen_total, digits=1, unit=" s")]]
    gaps_c = [x - y for x, y in zip(al, ce)]
    checks.append({"title": "2. Collaborative vs centralized: student top-1 and target-generation wall time",
                   "header": ["setting", "student top-1", "target generation, one machine", "… one machine per participant",
                              "whole command"], "rows": rows,
                   "finding": f"paired top-1 difference collaborative - centralized: {mean_std(gaps_c, 100)} points"
                              + ("; wall times re-measured on a quiet machine, 3 repeats" if a.timing else "")})

    # 3. shared-subset sweep
    rows = []
    for f in fractions:
        accs = per_seed(f"student-ridge-f{f}")
        res, sizes = [], set()
        for s in seeds:
            c = collab(f"ridge-f{f}", s)
            if c:
                res += [r["residual"] for r in c["ranking"] if r["participant"] != c["reference"]]
                d = os.path.join(out, f"collab-ridge-f{f}-s{s}", "manifest.json")
                if os.path.exists(d):
                    sizes.add(len(load(d)["alignment"]["shared_ids"]))
        rows.append([f"{100 * float(f):g}%", ",".join(str(x) for x in sorted(sizes)) or "-",
                     mean_std(res, digits=3), mean_std(accs, 100, unit="%")])
    checks.append({"title": "3. Size of the shared subset S: fit residual and student top-1",
                   "header": ["S / data", "samples in S", "fit residual of mapped priors", "student top-1"], "rows": rows})

    # 4. overhead
    rows = []
    train_s = statistics.median(t["train_seconds"] for t in train.values()) if train else float("nan")
    for f in fractions:
        if a.timing:
            cs = [load(os.path.join(a.timing, f"collab-ridge-f{f}-r{r}.json")) for r in range(3)
                  if os.path.exists(os.path.join(a.timing, f"collab-ridge-f{f}-r{r}.json"))]
        else:
            cs = [c for c in (collab(f"ridge-f{f}", s) for s in seeds) if c]
        al_s = [c["phase_seconds"]["alignment"] for c in cs]
        un_s = [c["uniformity_seconds"] for c in cs if "uniformity_seconds" in c]
        fr = [(c["phase_seconds"]["alignment"] + c.get("uniformity_seconds", 0)) / train_s for c in cs]
        rows.append([f"{100 * float(f):g}%", mean_std(al_s, digits=3, unit=" s"),
                     mean_std(un_s, digits=3, unit=" s") if un_s else "not recorded",
                     mean_std(fr, 100, digits=3, unit="%")])
    checks.append({"title": "4. Overhead: uniformity + alignment as a share of student training time",
                   "header": ["S / data", "alignment phase", "uniformity on S", "share of training"], "rows": rows,
                   "finding": f"student training time: median {train_s:.1f} s over all {len(train)} students"})

    steps = sorted({t["steps"] for t in train.values()})
    phases = sorted({t["final_phase"] for t in train.values()})
    setup = (f"Fashion-MNIST, convnet-s students trained ReLA->BYOL for the same number of steps ({', '.join(map(str, steps))}),"
             f" seeds {', '.join(map(str, seeds))}, final phase {', '.join(phases)}; linear probe on the full 60k/10k.")
    for c in checks:
        md.append(f"**{c['title']}**\n")
        md.append("| " + " | ".join(c["header"]) + " |")
        md.append("|" + "---|" * len(c["header"]))
        for r in c["rows"]:
            md.append("| " + " | ".join(r) + " |")
        if c.get("finding"):
            md.append("\n" + c["finding"])
        md.append("")
    print(setup + "\n")
    print("\n".join(md))
    if a.checks_json:
        with open(a.checks_json + ".tmp", "w") as f:
            json.dump({"setup": setup, "command": "SEEDS=\"0 1 2\" EPOCHS=2 scripts/bench_collab.sh (BENCHMARKS.md)",
                       "checks": checks}, f, indent=1, ensure_ascii=False)
        os.replace(a.checks_json + ".tmp", a.checks_json)


if __name__ == "__main__":
    main()
