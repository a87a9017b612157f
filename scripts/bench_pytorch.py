#!/usr/bin/env python3
"""Reference throughput of the project's architectures in PyTorch from Python.

This is the yardstick for `coopt bench throughput --arch ARCH`: the same network, batch, input,
loss, optimiser and thread count, measured the same way (warm-up steps, then timed steps; images
per second = steps * batch / seconds).

The networks mirror coopt-core/src/main/java/ai/coopt/nn/ layer for layer (Layers.java,
ConvNetS.java, ResNet.java, MobileNetV2.java), written the way torchvision writes them (in-place
ReLU/ReLU6, in-place residual sum), so that `parameters` equals the trainable parameter count
that `coopt bench throughput --json` reports:

- every convolution is bias-free with "same" padding k // 2, followed by BatchNorm2d(eps 1e-5,
  momentum 0.1, which is DJL's 0.9 in PyTorch's convention);
- convnet-s: conv3x3-BN-ReLU 32/64/128, 2x2 max-pool after the first two, global average pool,
  linear 128 -> 128;
- resnet-s / resnet18: conv3x3(stride 1)-BN-ReLU stem, no max-pool, basic blocks (widths
  24/48/96/192 x [1,1,1,1] and 64/128/256/512 x [2,2,2,2]), stride 2 in the first block of stages
  2-4, a conv1x1-BN projection where the stride or width changes, global average pool;
- mobilenetv2: width 1.0 with the small-image strides (stem and the 24-channel stage at stride 1),
  ReLU6, a last conv1x1-BN-ReLU6 to 1280, global average pool.

Loss: mean of 1 - cos(output, target) (the ReLA regression loss). Optimiser: AdamW(lr=1e-3,
weight_decay=0.01). Inference: eval mode under torch.inference_mode().

Usage: python3 scripts/bench_pytorch.py [--arch convnet-s] [--batch 256] [--size 28]
       [--channels 1] [--threads 2] [--steps 30] [--warmup 10] [--trace PREFIX] [--json]
--trace: after the timed steps, three more training and inference steps run under torch.profiler, written as
Chrome traces to PREFIX-train.json and PREFIX-infer.json (scripts/summarize_op_profile.py sums them).
(Debian: apt-get install python3-torch; run with /usr/bin/python3.)
"""
import argparse
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_bn(cin, cout, kernel, stride=1, groups=1):
    return [nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, groups=groups, bias=False),
            nn.BatchNorm2d(cout, eps=1e-5, momentum=0.1)]


def head():
    return [nn.AdaptiveAvgPool2d(1), nn.Flatten()]


def convnet_s(in_channels):
    return nn.Sequential(
        *conv_bn(in_channels, 32, 3), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        *conv_bn(32, 64, 3), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        *conv_bn(64, 128, 3), nn.ReLU(inplace=True),
        *head(),
        nn.Linear(128, 128),
    )


class BasicBlock(nn.Module):
    def __init__(self, cin, width, stride):
        super().__init__()
        self.conv1, self.bn1 = conv_bn(cin, width, 3, stride)
        self.relu = nn.ReLU(inplace=True)
        self.conv2, self.bn2 = conv_bn(width, width, 3)
        self.shortcut = nn.Sequential(*conv_bn(cin, width, 1, stride)) if stride != 1 or cin != width else None

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += x if self.shortcut is None else self.shortcut(x)
        return self.relu(out)


def resnet(in_channels, widths, depths):
    layers = [*conv_bn(in_channels, widths[0], 3), nn.ReLU(inplace=True)]
    cin = widths[0]
    for stage, (width, depth) in enumerate(zip(widths, depths)):
        for i in range(depth):
            layers.append(BasicBlock(cin, width, 2 if stage > 0 and i == 0 else 1))
            cin = width
    return nn.Sequential(*layers, *head())


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expansion):
        super().__init__()
        hidden = cin * expansion
        layers = []
        if expansion != 1:
            layers += [*conv_bn(cin, hidden, 1), nn.ReLU6(inplace=True)]
        layers += [*conv_bn(hidden, hidden, 3, stride, groups=hidden), nn.ReLU6(inplace=True), *conv_bn(hidden, cout, 1)]
        self.main = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        return x + self.main(x) if self.residual else self.main(x)


# expansion t, channels c, repeats n, stride s (small-image strides), as in MobileNetV2.java
MOBILENET_SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 1), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                      (6, 320, 1, 1)]


def mobilenetv2(in_channels):
    layers = [*conv_bn(in_channels, 32, 3), nn.ReLU6(inplace=True)]
    cin = 32
    for t, c, n, s in MOBILENET_SETTINGS:
        for i in range(n):
            layers.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
            cin = c
    return nn.Sequential(*layers, *conv_bn(cin, 1280, 1), nn.ReLU6(inplace=True), *head())


ARCHS = {
    "convnet-s": (lambda c: convnet_s(c), 128),
    "resnet-s": (lambda c: resnet(c, (24, 48, 96, 192), (1, 1, 1, 1)), 192),
    "resnet18": (lambda c: resnet(c, (64, 128, 256, 512), (2, 2, 2, 2)), 512),
    "mobilenetv2": (lambda c: mobilenetv2(c), 1280),
}


def build(arch, channels):
    make, features = ARCHS[arch]
    return make(channels), features


def traced(step, steps, path):
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        for _ in range(steps):
            step()
    prof.export_chrome_trace(path)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--arch", default="convnet-s", choices=sorted(ARCHS))
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--size", type=int, default=28)
    p.add_argument("--channels", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--trace", metavar="PREFIX")
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model, features = build(a.arch, a.channels)
    parameters = sum(t.numel() for t in model.parameters() if t.requires_grad)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    x = torch.randn(a.batch, a.channels, a.size, a.size)
    y = torch.randn(a.batch, features)

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
    if a.trace:
        traced(train_step, min(a.steps, 3), a.trace + "-train.json")

    model.eval()
    with torch.inference_mode():
        for _ in range(a.warmup):
            model(x)
        t0 = time.perf_counter()
        for _ in range(a.steps):
            model(x)
        infer = a.steps * a.batch / (time.perf_counter() - t0)
        if a.trace:
            traced(lambda: model(x), min(a.steps, 3), a.trace + "-infer.json")

    result = {"framework": "pytorch-python", "torch": torch.__version__, "arch": a.arch, "threads": a.threads,
              "batch": a.batch, "input": f"{a.channels}x{a.size}x{a.size}", "parameters": parameters,
              "train_img_per_s": round(train, 1), "infer_img_per_s": round(infer, 1)}
    if a.json:
        print(json.dumps(result))
    else:
        print(f"PyTorch {torch.__version__} {a.arch} ({parameters} parameters, {a.threads} threads, batch {a.batch}, "
              f"{result['input']}): train {train:.0f} img/s, infer {infer:.0f} img/s", file=sys.stderr)


if __name__ == "__main__":
    main()
