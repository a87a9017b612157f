#!/usr/bin/env python3
"""coopt against PyTorch in training, both running at the same time, each on a core of its own.

This VM kind's speed drifts by 10-20% over tens of seconds, so two runs made one after the other (as
scripts/bench_compare.py makes them) differ by that much even when nothing else runs. Here coopt
(`coopt bench throughput`) and PyTorch (scripts/bench_pytorch.py, channels-last; under autocast bf16
for `--precision bf16`) train at the same time, pinned with taskset to different cores, with the cores
swapped between the two runs of a round. Both report every timed step's start and duration
(`train_steps`); the ratio is taken over the steps that fall inside the window both were timing, so a
drift that slows the machine slows both. Both sides share the L3 cache and the memory bandwidth, so the
absolute rates are lower than in runs alone; the ratio is what this measures.

The ratio is PyTorch's median step time over coopt's: above 1.0, coopt trains faster.

With --peer LAUNCHER the other side is a second coopt build instead of PyTorch, run the same way (the ratio is then
the peer's median step over --coopt's): a change measured against the build before it.

Usage: /usr/bin/python3 scripts/bench_concurrent.py --arch resnet-s,resnet18 --precision bf16 [--rounds 2]
       [--batch 128] [--size 32] [--channels 3] [--steps N] [--coopt ./coopt] [--peer /tmp/before/coopt]
       [--json FILE]
Needs Debian's python3-torch and two cores.
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_compare import ALLOC, STEPS  # noqa: E402  (the same allocator variables and step counts)

MIN_STEPS = 3  # steps of each side inside the shared window, or the run does not count


def launch(cmd, env, core):
    return subprocess.Popen(["taskset", "-c", str(core)] + cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(procs):
    """The JSON results of {name: process}, once all have ended; the first failure's last line ends the script."""
    outs = {name: proc.communicate() for name, proc in procs.items()}
    for name, proc in procs.items():
        if proc.returncode != 0:
            last = (outs[name][1].strip().splitlines() or ["no output"])[-1]
            sys.exit(f"{name} failed (exit {proc.returncode}): {last}")
    return [json.loads(out) for out, _ in outs.values()]


def shared(a, b):
    """The steps of a and of b (lists of [start ms, duration ms]) that lie inside the window both were timing."""
    lo = max(a[0][0], b[0][0])
    hi = min(a[-1][0] + a[-1][1], b[-1][0] + b[-1][1])
    def inside(steps):
        return [ms for start, ms in steps if start >= lo and start + ms <= hi]
    return inside(a), inside(b), max(0.0, hi - lo) / 1e3


def other_side(a):
    """The side coopt is compared with: a second coopt build (--peer) or PyTorch; lower-cased in JSON keys."""
    return "peer" if a.peer else "PyTorch"


def one_run(arch, a, steps, warmup, coopt_core):
    common = ["--batch", str(a.batch), "--size", str(a.size), "--channels", str(a.channels), "--threads", "1",
              "--json"]
    plain = {k: v for k, v in os.environ.items() if k not in ALLOC}
    def coopt_cmd(launcher):
        return [launcher, "bench", "throughput", "--arch", arch, "--steps", str(steps), "--warmup", str(warmup),
                "--precision", a.precision] + common
    if a.peer:
        other_cmd, other_env = coopt_cmd(a.peer), plain
    else:
        # PyTorch starts faster and steps faster: three times the steps keep it timing through coopt's whole window
        other_cmd = [sys.executable, "scripts/bench_pytorch.py", "--arch", arch, "--steps", str(3 * steps),
                     "--warmup", str(warmup), "--channels-last"]
        other_cmd += (["--bf16"] if a.precision == "bf16" else []) + common
        other_env = dict(plain, **ALLOC)
    label = other_side(a)
    cj, tj = finish({"coopt": launch(coopt_cmd(a.coopt), plain, coopt_core),
                     label: launch(other_cmd, other_env, 1 - coopt_core)})
    if tj.get("train_error"):
        return {"coopt_core": coopt_core, "error": f"{label} cannot train it: " + tj["train_error"]}
    cs, ts, window = shared(cj["train_steps"], tj["train_steps"])
    other = label.lower()
    run = {"coopt_core": coopt_core, "window_s": round(window, 1), "coopt_steps": len(cs), other + "_steps": len(ts)}
    if len(cs) < MIN_STEPS or len(ts) < MIN_STEPS:
        run["error"] = f"the runs shared too few steps ({len(cs)} of coopt's, {len(ts)} of the other side's)"
        return run
    run.update({"coopt_ms": round(statistics.median(cs), 1), other + "_ms": round(statistics.median(ts), 1)})
    run["ratio"] = round(run[other + "_ms"] / run["coopt_ms"], 3)
    return run


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--arch", default="resnet-s")
    p.add_argument("--precision", choices=("fp32", "bf16"), default="bf16")
    p.add_argument("--rounds", type=int, default=2, help="rounds of two runs, the cores swapped between them")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--channels", type=int, default=3)
    p.add_argument("--steps", type=int, default=0, help="coopt's timed steps (default: bench_compare's per arch)")
    p.add_argument("--coopt", default="./coopt", help="the coopt launcher")
    p.add_argument("--peer", metavar="LAUNCHER", help="another coopt build as the other side, instead of PyTorch")
    p.add_argument("--json", metavar="FILE")
    a = p.parse_args()
    if (os.cpu_count() or 1) < 2:
        sys.exit("bench_concurrent: needs two cores, one for each side")
    started = datetime.datetime.now(datetime.timezone.utc)
    results = []
    label = other_side(a)
    other = label.lower()
    print(f"| arch | precision | runs ({label} ms / coopt ms per step) | median ratio |")
    print("|---|---|---|---|")
    for arch in a.arch.split(","):
        default_steps, warmup = STEPS.get(arch, (20, 5))
        steps = a.steps or default_steps
        runs = []
        for r in range(a.rounds):
            for core in (0, 1):
                runs.append(one_run(arch, a, steps, warmup, core))
                print(f"{arch} round {r + 1}/{a.rounds}, coopt on core {core}: {runs[-1]}", file=sys.stderr)
        ratios = [x["ratio"] for x in runs if "ratio" in x]
        median = round(statistics.median(ratios), 3) if ratios else None
        results.append({"arch": arch, "precision": a.precision, "steps": steps, "warmup": warmup, "runs": runs,
                        "median_ratio": median})
        shown = ", ".join(f"{x[other + '_ms']}/{x['coopt_ms']}" if "ratio" in x else x["error"] for x in runs)
        print(f"| {arch} | {a.precision} | {shown} | {median if median is not None else 'none'} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"started": started.strftime("%Y-%m-%d %H:%M UTC"),
                       "finished": datetime.datetime.now(datetime.timezone.utc).strftime("%H:%M UTC"),
                       "batch": a.batch, "size": a.size, "channels": a.channels, "threads": 1,
                       "coopt": a.coopt, "peer": a.peer, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
