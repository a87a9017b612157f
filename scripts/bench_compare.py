#!/usr/bin/env python3
"""Side-by-side throughput: `coopt bench throughput --arch convnet-s` against PyTorch from Python.

Runs both in alternation (so load changes hit both alike), ROUNDS times each, and reports the
median images/s, the ratio coopt / PyTorch, and GFLOP/s against this machine's measured
single-precision matrix-multiply peak, as `coopt bench throughput` measures it with the project's
engine (2048x2048, same thread count; Debian's torch links the generic reference BLAS, so its
own matmul rate would understate the machine).

PyTorch is measured twice: as a user runs it (default allocator settings) and with the same
glibc allocator variables that ./coopt sets, so the effect of the engine and of the allocator
can be told apart.

Usage: /usr/bin/python3 scripts/bench_compare.py [--rounds 5] [--threads 2] [--batch 256]
Needs Debian's python3-torch.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ALLOC = {"MALLOC_MMAP_THRESHOLD_": "4294967296", "MALLOC_TRIM_THRESHOLD_": "17179869184",
         "MALLOC_TOP_PAD_": "268435456"}


def convnet_s_forward_flops(size=28, channels=1):
    """Multiply-adds x 2 of one forward pass of convnet-s (convolutions and the linear layer)."""
    macs = 0
    h = size
    cin = channels
    for i, cout in enumerate((32, 64, 128)):
        macs += h * h * cout * cin * 9
        cin = cout
        if i < 2:
            h //= 2
    macs += 128 * 128
    return 2 * macs


def run_json(cmd, env):
    out = subprocess.run(cmd, env=env, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--steps", type=int, default=40)
    a = p.parse_args()
    plain = {k: v for k, v in os.environ.items() if k not in ALLOC}
    tuned = dict(plain, **ALLOC)
    common = ["--batch", str(a.batch), "--steps", str(a.steps), "--threads", str(a.threads), "--json"]
    runs = {"coopt": [], "pytorch": [], "pytorch_alloc": []}
    for r in range(a.rounds):
        runs["coopt"].append(run_json(["./coopt", "bench", "throughput", "--arch", "convnet-s"] + common, plain))
        py = [sys.executable, "scripts/bench_pytorch.py"] + common
        runs["pytorch"].append(run_json(py, plain))
        runs["pytorch_alloc"].append(run_json(py, tuned))
        print(f"round {r + 1}/{a.rounds}: " + ", ".join(
            f"{k} {v[-1]['train_img_per_s']:.0f}/{v[-1]['infer_img_per_s']:.0f}" for k, v in runs.items()),
            file=sys.stderr)
    peak = max(x["matmul_peak_gflops"] for x in runs["coopt"])
    fwd = convnet_s_forward_flops()
    result = {"threads": a.threads, "batch": a.batch, "rounds": a.rounds, "matmul_peak_gflops": round(peak, 1),
              "forward_mflop_per_img": round(fwd / 1e6, 2)}
    for k, v in runs.items():
        train = statistics.median(x["train_img_per_s"] for x in v)
        infer = statistics.median(x["infer_img_per_s"] for x in v)
        result[k] = {"train_img_per_s": train, "infer_img_per_s": infer,
                     "train_gflops": round(train * 3 * fwd / 1e9, 1), "infer_gflops": round(infer * fwd / 1e9, 1)}
    c = result["coopt"]
    for base in ("pytorch", "pytorch_alloc"):
        result[f"ratio_vs_{base}"] = {
            "train": round(c["train_img_per_s"] / result[base]["train_img_per_s"], 3),
            "infer": round(c["infer_img_per_s"] / result[base]["infer_img_per_s"], 3)}
    result["coopt_system_cpu_s_median"] = statistics.median(x["train_cpu_system_s"] for x in runs["coopt"])
    result["coopt_user_cpu_s_median"] = statistics.median(x["train_cpu_user_s"] for x in runs["coopt"])
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
