#!/usr/bin/env python3
"""Reference throughput of the convnet-s network in PyTorch from Python.

This is the yardstick for `coopt bench throughput --arch convnet-s`: the same network,
batch, input, loss, optimiser and thread count, measured the same way (warm-up steps,
then timed steps; images per second = steps * batch / seconds).

Network: three conv3x3-BN-ReLU blocks with 32/64/128 channels, max-pool 2x2 after the
first two, global average pool, linear 128 -> 128. Loss: mean of 1 - cos(output, target)
(the ReLA regression loss). Optimiser: AdamW(lr=1e-3, weight_decay=0.01).

Usage: python3 scripts/bench_pytorch.py [--batch 256] [--threads 2] [--steps 30] [--json]
(Debian: apt-get install python3-torch; run with /usr/bin/python3.)
"""
import argparse
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def convnet_s(in_channels=1):
    def block(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

    return nn.Sequential(
        *block(in_channels, 32), nn.MaxPool2d(2),
        *block(32, 64), nn.MaxPool2d(2),
        *block(64, 128),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(128, 128),
    )


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = convnet_s()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    x = torch.randn(a.batch, 1, 28, 28)
    y = torch.randn(a.batch, 128)

    def train_step():
        opt.zero_grad(set_to_none=True)
        loss = (1 - F.cosine_similarity(model(x), y, dim=1)).mean()
        loss.backward()
        opt.step()

    model.train()
    for _ in range(a.warmup):
        train_step()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        train_step()
    train = a.steps * a.batch / (time.perf_counter() - t0)

    model.eval()
    with torch.inference_mode():
        for _ in range(a.warmup):
            model(x)
        t0 = time.perf_counter()
        for _ in range(a.steps):
            model(x)
        infer = a.steps * a.batch / (time.perf_counter() - t0)

    result = {"framework": "pytorch-python", "torch": torch.__version__, "threads": a.threads,
              "batch": a.batch, "train_img_per_s": round(train, 1), "infer_img_per_s": round(infer, 1)}
    if a.json:
        print(json.dumps(result))
    else:
        print(f"PyTorch {torch.__version__} ({a.threads} threads, batch {a.batch}): "
              f"train {train:.0f} img/s, infer {infer:.0f} img/s", file=sys.stderr)


if __name__ == "__main__":
    main()
