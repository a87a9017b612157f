#!/usr/bin/env python3
"""Reference throughput of the project's architectures in PyTorch from Python.

This is the yardstick for `coopt bench throughput --arch ARCH`: the same network, batch, input,
loss, optimiser and thread count, measured the same way (warm-up steps, then timed steps; images
per second = steps * batch / seconds).

The networks mirror coopt-core/src/main/java/ai/coopt/nn/ layer for layer (Layers.java,
ConvNetS.java, ResNet.java, MobileNetV2.java, EfficientNet.java, VisionTransformer.java), written the way torchvision writes them (in-place
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
  ReLU6, a last conv1x1-BN-ReLU6 to 1280, global average pool;
- resnet50 / resnet101: the ImageNet stem (conv7x7 stride 2-BN-ReLU, 3x3 stride-2 max-pool),
  bottleneck blocks (1x1, 3x3 with the stride, 1x1 to 4x the width) [3,4,6,3] / [3,4,23,3] with
  widths 64/128/256/512, a conv1x1-BN projection where the stride or width changes;
- efficientnet-b0: the B0 MBConv table with the small-image strides (stem and the 24-channel stage
  at stride 1), SiLU, squeeze-excitation to max(1, block input channels // 4) with biased 1x1
  convolutions, a last conv1x1-BN-SiLU to 1280, global average pool; no stochastic depth;
- vit-tiny: 4x4 stride-4 patch convolution with bias to 192, zero-initialised class token, fixed 2-D
  sine-cosine position embeddings for the input's grid, 12 pre-norm blocks (LayerNorm eps 1e-6,
  3-head attention with one qkv linear and one projection, MLP 768 with GELU), final LayerNorm,
  the class token's output.

Loss: mean of 1 - cos(output, target) (the ReLA regression loss). Optimiser: AdamW(lr=1e-3,
weight_decay=0.01). Inference: eval mode under torch.inference_mode().

Usage: python3 scripts/bench_pytorch.py [--arch convnet-s] [--batch 256] [--size 28]
       [--channels 1] [--threads 2] [--steps 30] [--warmup 10] [--channels-last] [--bf16] [--trace PREFIX] [--json]
--channels-last: the model's 4-D weights and the input in torch.channels_last (NHWC strides), as PyTorch's
performance guide advises for convolutional networks on CPU; coopt keeps convolution weights that way too.
--bf16: the forward passes under torch.autocast("cpu", dtype=torch.bfloat16), PyTorch's mixed precision on CPU
(float32 weights and optimiser; the loss on the float32 copy of the output), as coopt's --precision bf16 does.
--trace: after the timed steps, three more training and inference steps run under torch.profiler, written as
Chrome traces to PREFIX-train.json and PREFIX-infer.json (scripts/summarize_op_profile.py sums them).
(Debian: apt-get install python3-torch; run with /usr/bin/python3.)
"""
import argparse
import contextlib
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


class Bottleneck(nn.Module):
    def __init__(self, cin, width, stride):
        super().__init__()
        self.main = nn.Sequential(*conv_bn(cin, width, 1), nn.ReLU(inplace=True),
                                  *conv_bn(width, width, 3, stride), nn.ReLU(inplace=True),
                                  *conv_bn(width, width * 4, 1))
        self.shortcut = nn.Sequential(*conv_bn(cin, width * 4, 1, stride)) if stride != 1 or cin != width * 4 else None
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        out = self.main(x)
        out += x if self.shortcut is None else self.shortcut(x)
        return self.relu(out)


def bottleneck_resnet(in_channels, depths):
    layers = [*conv_bn(in_channels, 64, 7, 2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for stage, (width, depth) in enumerate(zip((64, 128, 256, 512), depths)):
        for i in range(depth):
            layers.append(Bottleneck(cin, width, 2 if stage > 0 and i == 0 else 1))
            cin = width * 4
    return nn.Sequential(*layers, *head())


class SqueezeExcitation(nn.Module):
    def __init__(self, channels, squeezed):
        super().__init__()
        self.scale = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(channels, squeezed, 1), nn.SiLU(inplace=True),
                                   nn.Conv2d(squeezed, channels, 1), nn.Sigmoid())

    def forward(self, x):
        return x * self.scale(x)


class MBConv(nn.Module):
    def __init__(self, cin, cout, stride, expansion, kernel):
        super().__init__()
        hidden = cin * expansion
        layers = []
        if expansion != 1:
            layers += [*conv_bn(cin, hidden, 1), nn.SiLU(inplace=True)]
        layers += [*conv_bn(hidden, hidden, kernel, stride, groups=hidden), nn.SiLU(inplace=True),
                   SqueezeExcitation(hidden, max(1, cin // 4)), *conv_bn(hidden, cout, 1)]
        self.main = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        return x + self.main(x) if self.residual else self.main(x)


# expansion t, channels c, repeats n, stride s (small-image strides), kernel k, as in EfficientNet.java
EFFICIENTNET_B0_STAGES = [(1, 16, 1, 1, 3), (6, 24, 2, 1, 3), (6, 40, 2, 2, 5), (6, 80, 3, 2, 3), (6, 112, 3, 1, 5),
                          (6, 192, 4, 2, 5), (6, 320, 1, 1, 3)]


def efficientnet_b0(in_channels):
    layers = [*conv_bn(in_channels, 32, 3), nn.SiLU(inplace=True)]
    cin = 32
    for t, c, n, s, k in EFFICIENTNET_B0_STAGES:
        for i in range(n):
            layers.append(MBConv(cin, c, s if i == 0 else 1, t, k))
            cin = c
    return nn.Sequential(*layers, *conv_bn(cin, 1280, 1), nn.SiLU(inplace=True), *head())


def sincos_positions(rows, columns, width):
    """Row in the first half of the width, column in the second; each sin then cos, as VisionTransformer.java."""
    quarter = width // 4
    omega = 10000.0 ** (-torch.arange(quarter, dtype=torch.float64) / quarter)
    r = torch.arange(rows, dtype=torch.float64)[:, None].repeat(1, columns).reshape(-1, 1) * omega
    c = torch.arange(columns, dtype=torch.float64)[None, :].repeat(rows, 1).reshape(-1, 1) * omega
    return torch.cat([r.sin(), r.cos(), c.sin(), c.cos()], dim=1).float()


class SelfAttention(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.projection = nn.Linear(width, width)

    def forward(self, x):
        n, t, d = x.shape
        q, k, v = self.qkv(x).reshape(n, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        weights = ((q * (d // self.heads) ** -0.5) @ k.transpose(-2, -1)).softmax(-1)
        return self.projection((weights @ v).transpose(1, 2).reshape(n, t, d))


class EncoderBlock(nn.Module):
    def __init__(self, width, heads, mlp):
        super().__init__()
        self.norm1 = nn.LayerNorm(width, eps=1e-6)
        self.attention = SelfAttention(width, heads)
        self.norm2 = nn.LayerNorm(width, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(width, mlp), nn.GELU(), nn.Linear(mlp, width))

    def forward(self, x):
        x = x + self.attention(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class VisionTransformer(nn.Module):
    def __init__(self, in_channels, patch=4, width=192, depth=12, heads=3, mlp=768):
        super().__init__()
        self.patches = nn.Conv2d(in_channels, width, patch, stride=patch)
        self.class_token = nn.Parameter(torch.zeros(1, 1, width))
        self.blocks = nn.Sequential(*[EncoderBlock(width, heads, mlp) for _ in range(depth)])
        self.norm = nn.LayerNorm(width, eps=1e-6)

    def forward(self, x):
        p = self.patches(x)
        n, d, h, w = p.shape
        tokens = p.flatten(2).transpose(1, 2) + sincos_positions(h, w, d).to(p.device)
        x = torch.cat([self.class_token.expand(n, 1, d), tokens], dim=1)
        return self.norm(self.blocks(x))[:, 0]


ARCHS = {
    "convnet-s": (lambda c: convnet_s(c), 128),
    "resnet-s": (lambda c: resnet(c, (24, 48, 96, 192), (1, 1, 1, 1)), 192),
    "resnet18": (lambda c: resnet(c, (64, 128, 256, 512), (2, 2, 2, 2)), 512),
    "mobilenetv2": (lambda c: mobilenetv2(c), 1280),
    "resnet50": (lambda c: bottleneck_resnet(c, (3, 4, 6, 3)), 2048),
    "resnet101": (lambda c: bottleneck_resnet(c, (3, 4, 23, 3)), 2048),
    "efficientnet-b0": (lambda c: efficientnet_b0(c), 1280),
    "vit-tiny": (lambda c: VisionTransformer(c), 192),
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
    p.add_argument("--channels-last", action="store_true",
                   help="model and input in torch.channels_last, PyTorch's advice for convolutions on CPU")
    p.add_argument("--bf16", action="store_true",
                   help="forward passes under torch.autocast on the CPU in bfloat16 (mixed precision)")
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model, features = build(a.arch, a.channels)
    parameters = sum(t.numel() for t in model.parameters() if t.requires_grad)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    x = torch.randn(a.batch, a.channels, a.size, a.size)
    if a.channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randn(a.batch, features)

    def mixed():
        return torch.autocast("cpu", dtype=torch.bfloat16) if a.bf16 else contextlib.nullcontext()

    def train_step():
        opt.zero_grad(set_to_none=True)
        with mixed():
            out = model(x)
        loss = (1 - F.cosine_similarity(out.float(), y, dim=1)).mean()
        loss.backward()
        opt.step()

    model.train()
    train, train_error = None, None
    train_steps = []  # each timed step: [start, milliseconds since the epoch; duration, ms], as coopt's JSON has
    try:
        for _ in range(a.warmup):
            train_step()
        t0 = time.perf_counter()
        for _ in range(a.steps):
            start, s0 = time.time(), time.perf_counter()
            train_step()
            train_steps.append([round(start * 1e3), round((time.perf_counter() - s0) * 1e3, 2)])
        train = a.steps * a.batch / (time.perf_counter() - t0)
        if a.trace:
            traced(train_step, min(a.steps, 3), a.trace + "-train.json")
    except RuntimeError as e:
        # e.g. PyTorch 1.13 has no bfloat16 backward for ReLU6 (hardtanh) on the CPU: this side cannot train the network
        train_error = str(e).splitlines()[0]

    model.eval()
    with torch.inference_mode(), mixed():
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
              "channels_last": a.channels_last, "precision": "bf16" if a.bf16 else "fp32",
              "train_img_per_s": round(train, 1) if train is not None else None, "infer_img_per_s": round(infer, 1),
              "train_steps": train_steps}
    if train_error:
        result["train_error"] = train_error
    if a.json:
        print(json.dumps(result))
    else:
        trained = f"{train:.0f} img/s" if train is not None else f"failed ({train_error})"
        print(f"PyTorch {torch.__version__} {a.arch} ({parameters} parameters, {a.threads} threads, batch {a.batch}, "
              f"{result['input']}): train {trained}, infer {infer:.0f} img/s", file=sys.stderr)


if __name__ == "__main__":
    main()
