#!/usr/bin/env python3
"""PyTorch's twin of scripts/BatchNormBench.java: batch norm's bf16 training pass (float32 weight, bias and running
statistics) at batch 128, for each width, on channels-last and NCHW input, alternated; median forward and backward
times (the backward includes the cast to float32 and the product with a fixed upstream gradient), in ms and ns per
element.

Usage: taskset -c 0 /usr/bin/python3 scripts/bench_batchnorm.py [--reps 21] [--size 32] [--widths 16,24,32,40,48,64]
Needs Debian's python3-torch.
"""
import argparse
import time

import torch

BATCH = 128
WARMUP = 3


def time_both_layouts(c, size, reps):
    ms = [[] for _ in range(4)]
    inp = torch.randn(BATCH, c, size, size)
    upstream_nchw = torch.randn(BATCH, c, size, size)
    # in each input's own layout: a product across two memory orders runs without vectors
    upstream_channels_last = upstream_nchw.contiguous(memory_format=torch.channels_last)
    for r in range(WARMUP + reps):
        for layout in range(2):
            fmt = torch.channels_last if layout == 0 else torch.contiguous_format
            upstream = upstream_channels_last if layout == 0 else upstream_nchw
            x = inp.to(dtype=torch.bfloat16, memory_format=fmt).requires_grad_()
            gamma = torch.ones(c, requires_grad=True)
            beta = torch.zeros(c, requires_grad=True)
            running_mean, running_var = torch.zeros(c), torch.ones(c)
            t0 = time.perf_counter()
            y = torch.batch_norm(x, gamma, beta, running_mean, running_var, True, 0.1, 1e-5, False)
            t1 = time.perf_counter()
            loss = (y.float() * upstream).sum()
            t2 = time.perf_counter()
            loss.backward()
            t3 = time.perf_counter()
            if r >= WARMUP:
                ms[2 * layout].append((t1 - t0) * 1e3)
                ms[2 * layout + 1].append((t3 - t2) * 1e3)
    return [sorted(a) for a in ms]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=21)
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--widths", default="16,24,32,40,48,64")
    a = p.parse_args()
    torch.set_num_threads(1)
    print(f"PyTorch {torch.__version__}, bf16 input, batch {BATCH}, {a.size}x{a.size}, medians of {a.reps}")
    for c in [int(w) for w in a.widths.split(",")]:
        ms = time_both_layouts(c, a.size, a.reps)
        elements = BATCH * c * a.size * a.size
        for layout in range(2):
            f, b = ms[2 * layout][a.reps // 2], ms[2 * layout + 1][a.reps // 2]
            name = "channels-last" if layout == 0 else "NCHW"
            print(f"width {c:4d} {name:<13s} forward {f:7.3f} ms {f * 1e6 / elements:5.2f} ns/el, "
                  f"backward {b:7.3f} ms {b * 1e6 / elements:5.2f} ns/el")


if __name__ == "__main__":
    main()
