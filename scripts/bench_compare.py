#!/usr/bin/env python3
"""Side-by-side throughput: `coopt bench throughput` against PyTorch from Python, per architecture.

For each architecture, runs every side in alternation (so load changes hit all alike), ROUNDS times
each, and reports the median training and inference images/s and the ratios coopt / PyTorch, as a
Markdown table on stdout (`--json FILE` keeps every run). PyTorch is scripts/bench_pytorch.py, which
builds the same networks as coopt-core/src/main/java/ai/coopt/nn/ (the parameter counts of both
sides are checked to be equal).

PyTorch is measured three times: as a user runs it (default allocator settings, `pytorch`), with the
same glibc allocator variables that ./coopt sets (`pytorch_alloc`), so the effect of the engine and
of the allocator can be told apart, and as a user who follows PyTorch's performance guide runs it: those allocator variables and the model and input in `torch.channels_last` (`pytorch_cl`; coopt
keeps its convolution weights channels-last). A fourth side is that last one in mixed precision: the forward passes
under torch.autocast("cpu", dtype=torch.bfloat16) (`pytorch_bf16`), the peer of coopt's `--precision bf16`
(measure coopt that way with `--coopt bf16=./coopt --precision bf16`). `--bases` picks the PyTorch sides to run.
Each coopt build is set against the PyTorch sides of its own precision. A bf16 build's runs time fp32 too, in a block
after the bf16 steps in the same process; that side is reported as `LABEL:fp32` (so one bf16 build measures both
precisions).
The 1-minute load average is recorded before every round.

Several coopt builds can be compared in the same sitting: `--coopt LABEL=PATH [EXTRA ARGS]`
(repeatable; PATH is a ./coopt launcher, EXTRA ARGS go after `bench throughput ...`), e.g.
`--coopt before=/tmp/coopt-base/coopt --coopt after=./coopt`.

Usage: /usr/bin/python3 scripts/bench_compare.py [--arch convnet-s,resnet-s,resnet18,mobilenetv2]
       [--size 32] [--channels 3] [--rounds 5] [--threads 2] [--batch 256] [--steps N] [--warmup N]
       [--coopt LABEL=PATH ...] [--bases pytorch,pytorch_alloc,pytorch_cl,pytorch_bf16] [--json FILE]
Needs Debian's python3-torch.
"""
import argparse
import datetime
import json
import os
import shlex
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ALLOC = {"MALLOC_MMAP_THRESHOLD_": "4294967296", "MALLOC_TRIM_THRESHOLD_": "17179869184",
         "MALLOC_TOP_PAD_": "268435456", "MALLOC_ARENA_MAX": "1"}
# timed steps and warm-up steps per architecture at batch 256 on 2 cores: roughly 5-20 s of timed work per run
# (resnet50, resnet101, efficientnet-b0 and vit-tiny: not yet measured here, set from their operation counts at 32 px
# relative to resnet18 and mobilenetv2)
STEPS = {"convnet-s": (40, 10), "resnet-s": (20, 5), "resnet18": (5, 2), "mobilenetv2": (8, 3),
         "resnet50": (10, 3), "resnet101": (6, 2), "efficientnet-b0": (6, 2), "vit-tiny": (5, 2)}


BASES = ("pytorch", "pytorch_alloc", "pytorch_cl", "pytorch_bf16")


def precision(base):
    """What a PyTorch side computes in."""
    return "bf16" if base == "pytorch_bf16" else "fp32"


def figure(value, spec=".0f"):
    """A number for the table, or "failed" where that side could not run it."""
    if value is None:
        return "failed"
    return format(value, spec)


def sides(builds, runs):
    """The coopt builds, each followed by its fp32 side where it measured one (LABEL:fp32)."""
    return [k for label in builds for k in (label, f"{label}:fp32") if k in runs]


def compared(label, runs, bases):
    """The PyTorch sides a coopt build is set against: those computing in its own precision (its runs say which)."""
    own = runs[label][0].get("infer_precision", "fp32")
    return [b for b in bases if precision(b) == own]


def run_json(cmd, env):
    out = subprocess.run(cmd, env=env, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def load1():
    return round(os.getloadavg()[0], 2)


class ForeignCpu:
    """CPU time used by processes other than the benchmark's own runs, in cores, over an interval: all busy time
    in /proc/stat (user, nice, system, irq, softirq) minus the CPU time of this script's finished children."""

    def __init__(self):
        self.hz = os.sysconf("SC_CLK_TCK")
        self.start = self._sample()

    def _sample(self):
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        busy = (v[0] + v[1] + v[2] + v[5] + v[6]) / self.hz
        steal = v[7] / self.hz if len(v) > 7 else 0.0
        ru = os.times()
        return time.monotonic(), busy, steal, ru.children_user + ru.children_system

    def cores(self):
        t1, busy1, steal1, own1 = self._sample()
        t0, busy0, steal0, own0 = self.start
        wall = t1 - t0
        return round(max(0.0, (busy1 - busy0) - (own1 - own0)) / wall, 2), round((steal1 - steal0) / wall, 2)


def parse_coopt(specs):
    builds = {}
    for spec in specs or ["coopt=./coopt"]:
        label, _, command = spec.partition("=")
        words = shlex.split(command)
        if not label or not words:
            sys.exit(f"--coopt wants LABEL=PATH [ARGS], not {spec!r}")
        builds[label] = (words[0], words[1:])
    return builds


def measure(arch, a, builds, plain, tuned, log):
    steps, warmup = STEPS.get(arch, (20, 5))
    steps = a.steps or steps
    warmup = a.warmup if a.warmup is not None else warmup
    common = ["--batch", str(a.batch), "--size", str(a.size), "--channels", str(a.channels),
              "--steps", str(steps), "--warmup", str(warmup), "--threads", str(a.threads), "--json"]
    py = [sys.executable, "scripts/bench_pytorch.py", "--arch", arch] + common
    runs = {label: [] for label in builds}
    # the PyTorch sides, in BASES order: as a user runs it, with coopt's allocator variables, also channels-last,
    # and that in mixed precision; only those asked for
    pythons = dict(zip(BASES, [(py, plain), (py, tuned), (py + ["--channels-last"], tuned),
                               (py + ["--channels-last", "--bf16"], tuned)]))
    pythons = {k: v for k, v in pythons.items() if k in a.bases}
    runs.update({base: [] for base in pythons})
    loads = []
    foreign = []
    for r in range(a.rounds):
        loads.append(load1())
        meter = ForeignCpu()
        for label, (path, extra) in builds.items():
            runs[label].append(run_json([path, "bench", "throughput", "--arch", arch] + common + extra, plain))
        for base, (command, env) in pythons.items():
            runs[base].append(run_json(command, env))
        foreign.append(meter.cores())
        print(f"{arch} round {r + 1}/{a.rounds} (load {loads[-1]}, other processes {foreign[-1][0]} cores, "
              f"steal {foreign[-1][1]}): " + ", ".join(
            f"{k} {figure(v[-1]['train_img_per_s'])}/{figure(v[-1]['infer_img_per_s'])}" for k, v in runs.items()),
            file=sys.stderr)
    # a bf16 build's runs also time fp32, in a block after the bf16 steps in the same process: its fp32 side too
    for label in builds:
        if "train_fp32_img_per_s" in runs[label][0]:
            runs[f"{label}:fp32"] = [dict(x, train_img_per_s=x["train_fp32_img_per_s"],
                                          infer_img_per_s=x["infer_fp32_img_per_s"], infer_precision="fp32",
                                          train_precision="fp32") for x in runs[label]]
    # builds from before the count was reported have none to compare
    params = {k: v[0]["parameters"] for k, v in runs.items() if "parameters" in v[0]}
    if len(set(params.values())) != 1:
        sys.exit(f"{arch}: the sides build different networks, trainable parameters {params}")
    result = {"arch": arch, "parameters": next(iter(params.values())), "steps": steps, "warmup": warmup,
              "load1_before_rounds": loads, "foreign_cores": [f[0] for f in foreign],
              "steal_cores": [f[1] for f in foreign], "runs": runs}
    def median(v, key):
        # a side that could not train (its runs say why, in train_error) has no figure
        values = [x[key] for x in v if x.get(key) is not None]
        return statistics.median(values) if len(values) == len(v) else None

    for k, v in runs.items():
        result[k] = {"train_img_per_s": median(v, "train_img_per_s"), "infer_img_per_s": median(v, "infer_img_per_s")}
        if any("train_error" in x for x in v):
            result[k]["train_error"] = next(x["train_error"] for x in v if "train_error" in x)
    for label in sides(builds, runs):
        c = result[label]
        for base in compared(label, runs, pythons):
            result[f"{label}_vs_{base}"] = {
                phase: round(c[f"{phase}_img_per_s"] / result[base][f"{phase}_img_per_s"], 3)
                if c[f"{phase}_img_per_s"] and result[base][f"{phase}_img_per_s"] else None
                for phase in ("train", "infer")}
    result["coopt_sides"] = sides(builds, runs)
    first = next(iter(builds))
    result["matmul_peak_gflops"] = max(x["matmul_peak_gflops"] for x in runs[first])
    return result


def table(results, builds, bases):
    head = ["arch", "params"]
    coopt = results[0]["coopt_sides"]
    for k in coopt + list(bases):
        head += [f"{k} train", f"{k} infer"]
    pairs = [(label, base) for label in coopt for base in compared(label, results[0]["runs"], bases)]
    head += [f"{label}/{base} train / infer" for label, base in pairs]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        row = [r["arch"], f"{r['parameters']:,}"]
        for k in coopt + list(bases):
            row += [figure(r[k]["train_img_per_s"], ",.0f"), figure(r[k]["infer_img_per_s"], ",.0f")]
        for label, base in pairs:
            q = r[f"{label}_vs_{base}"]
            row.append(f"{figure(q['train'], '.2f')} / {figure(q['infer'], '.2f')}")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--arch", default="convnet-s,resnet-s,resnet18,mobilenetv2",
                   help="comma-separated architectures")
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--channels", type=int, default=3)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--steps", type=int, default=0, help="timed steps (default: per architecture)")
    p.add_argument("--warmup", type=int, default=None, help="warm-up steps (default: per architecture)")
    p.add_argument("--coopt", action="append", metavar="LABEL=PATH [ARGS]", help="a coopt build to measure")
    p.add_argument("--bases", default=",".join(BASES), help="comma-separated PyTorch sides to run: " + ", ".join(BASES))
    p.add_argument("--json", metavar="FILE", help="write every run and the medians here")
    a = p.parse_args()
    asked = a.bases.split(",")
    if not set(asked) <= set(BASES) or not asked:
        sys.exit(f"--bases: {a.bases!r} names other than {', '.join(BASES)}")
    a.bases = [b for b in BASES if b in asked]
    builds = parse_coopt(a.coopt)
    plain = {k: v for k, v in os.environ.items() if k not in ALLOC}
    tuned = dict(plain, **ALLOC)
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    results = []

    def save(finished):
        if a.json:
            with open(a.json, "w") as f:
                json.dump({"started": started, "finished": finished, "batch": a.batch, "size": a.size,
                           "channels": a.channels, "threads": a.threads, "rounds": a.rounds, "bases": a.bases,
                           "coopt": {k: [v[0]] + v[1] for k, v in builds.items()}, "results": results}, f, indent=1)

    for arch in a.arch.split(","):
        results.append(measure(arch, a, builds, plain, tuned, sys.stderr))
        save(None)  # what is measured so far survives an interrupted sitting
    finished = datetime.datetime.now(datetime.timezone.utc).strftime("%H:%M UTC")
    save(finished)
    loads = [x for r in results for x in r["load1_before_rounds"]]
    other = [x for r in results for x in r["foreign_cores"]]
    print(f"{started} - {finished}; batch {a.batch}, input {a.channels}x{a.size}x{a.size}, {a.threads} threads, "
          f"{a.rounds} alternating rounds, medians in img/s; 1-min load average before rounds "
          f"{min(loads)}-{max(loads)}; CPU used by other processes during rounds {min(other)}-{max(other)} cores "
          f"(median {statistics.median(other)})\n")
    print(table(results, builds, a.bases))
    for r in results:
        for k in r["coopt_sides"] + a.bases:
            if "train_error" in r[k]:
                print(f"\n{r['arch']}, {k}: training failed: {r[k]['train_error']}")


if __name__ == "__main__":
    main()
