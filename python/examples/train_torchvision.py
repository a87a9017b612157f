#!/usr/bin/env python3
# Copyright the CoOpt authors. Licensed under the Apache License, Version 2.0.
"""Train a torchvision-defined network on a CoOpt optimized dataset's targets, then linear-probe it.

The regression is ReLA's, as `coopt train --method rela` does it: the backbone, then a linear transfer head with
bias (feature dim -> target dim), loss = mean over the batch of 1 - cos(head(backbone(view)), target), averaged
over two augmented views of each image (random crop from a reflect-padded image and horizontal flip). AdamW, a
constant learning rate, for a budget in seconds or epochs. Then the backbone is frozen, its features computed for
the probe's train split (the training images with their labels) and test split (--test-images), and a logistic
regression fitted on standardised features with torch (L-BFGS, L2-regularised). Prints one JSON line:
  {"top1", "steps", "epochs", "train_seconds", "probe_seconds", "wall_seconds", ...}

    PYTHONPATH=python python3 python/examples/train_torchvision.py --targets OPT --images PACK_OR_FOLDER \
        --test-images PACK_OR_FOLDER --seconds 60

--images / --test-images: a packed directory (`coopt data pack`) or an image folder (its train / test split).
--arch: resnet-small (torchvision BasicBlocks, widths 32-64-128, CIFAR stem; the default) or resnet18 (torchvision's,
with a 3x3 stride-1 stem and no max-pool, as for 32-px images).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

import coopt
from coopt.torch import TargetsDataset


def open_images(path, split):
    manifest = os.path.join(path, "manifest.json")
    if os.path.isfile(manifest):
        with open(manifest) as f:
            if json.load(f).get("format") == coopt.packed.FORMAT:
                return coopt.PackedImages(path)
    return coopt.ImageFolder(path, split)


class SmallResNet(nn.Module):
    """A CIFAR-style ResNet of torchvision BasicBlocks: 3x3 stem, three stages of two blocks, global average pool."""

    def __init__(self, channels, widths=(32, 64, 128)):
        super().__init__()
        Block = torchvision.models.resnet.BasicBlock
        self.stem = nn.Sequential(nn.Conv2d(channels, widths[0], 3, 1, 1, bias=False), nn.BatchNorm2d(widths[0]),
                                  nn.ReLU(inplace=True))
        layers, inplanes = [], widths[0]
        for i, w in enumerate(widths):
            stride = 1 if i == 0 else 2
            down = None
            if stride != 1 or inplanes != w:
                down = nn.Sequential(nn.Conv2d(inplanes, w, 1, stride, bias=False), nn.BatchNorm2d(w))
            layers += [Block(inplanes, w, stride, down), Block(w, w)]
            inplanes = w
        self.layers = nn.Sequential(*layers)
        self.feature_dim = inplanes

    def forward(self, x):
        return F.adaptive_avg_pool2d(self.layers(self.stem(x)), 1).flatten(1)


def backbone(arch, channels):
    if arch == "resnet-small":
        return SmallResNet(channels)
    if arch == "resnet18":
        net = torchvision.models.resnet18(num_classes=10)
        net.conv1 = nn.Conv2d(channels, 64, 3, 1, 1, bias=False)
        net.maxpool = nn.Identity()
        net.feature_dim = net.fc.in_features
        net.fc = nn.Identity()
        return net
    raise SystemExit(f"unknown --arch {arch}: resnet-small or resnet18")


class TwoViews:
    """uint8 [C, H, W] -> float [2, C, H, W]: two independent random crops (reflect padding of side/8) and flips,
    normalised with the training images' per-channel mean and std."""

    def __init__(self, mean, std, seed):
        self.mean, self.std = mean[:, None, None], std[:, None, None]
        self.rng = np.random.default_rng(seed)

    def view(self, image):
        c, h, w = image.shape
        pad = max(1, h // 8)
        padded = np.pad(image, ((0, 0), (pad, pad), (pad, pad)), mode="reflect")
        y, x = self.rng.integers(0, 2 * pad + 1, 2)
        out = padded[:, y:y + h, x:x + w]
        if self.rng.random() < 0.5:
            out = out[:, :, ::-1]
        return (out.astype(np.float32) / 255 - self.mean) / self.std

    def __call__(self, image):
        return torch.from_numpy(np.stack([self.view(image), self.view(image)]))


def channel_stats(images, ids):
    sample = np.stack([images.image(i) for i in ids[:1000]]).astype(np.float32) / 255
    return sample.mean(axis=(0, 2, 3)), sample.std(axis=(0, 2, 3)) + 1e-6


@torch.no_grad()
def features(net, images, ids, mean, std, batch):
    net.eval()
    out = []
    for start in range(0, len(ids), batch):
        x = np.stack([images.image(i) for i in ids[start:start + batch]]).astype(np.float32) / 255
        x = (x - mean[None, :, None, None]) / std[None, :, None, None]
        out.append(net(torch.from_numpy(x)))
    return torch.cat(out)


def linear_probe(train_x, train_y, test_x, test_y, l2, iterations):
    mu, sd = train_x.mean(0), train_x.std(0) + 1e-6
    train_x, test_x = (train_x - mu) / sd, (test_x - mu) / sd
    classes = int(max(train_y.max(), test_y.max())) + 1
    probe = nn.Linear(train_x.shape[1], classes)
    opt = torch.optim.LBFGS(probe.parameters(), lr=1, max_iter=iterations, history_size=20,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(probe(train_x), train_y) + l2 * probe.weight.pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        return (probe(test_x).argmax(1) == test_y).float().mean().item()


def export(net, channels, size, mean, std, path):
    """The backbone, traced in evaluation mode, as TorchScript at path, and path + '.json': the input shape and the
    per-channel normalisation (of 0..1 pixels) it was trained with, as coopt's torchscript: priors expect."""
    net.eval()
    with torch.no_grad():
        traced = torch.jit.trace(net, torch.zeros(1, channels, int(size[0]), int(size[1])))
    traced.save(path)
    with open(path + ".json", "w") as f:
        json.dump({"input": {"channels": int(channels), "height": int(size[0]), "width": int(size[1])},
                   "normalization": {"mean": [float(v) for v in np.ravel(mean)], "std": [float(v) for v in np.ravel(std)]}},
                  f, indent=1)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--targets", required=True, help="optimized dataset directory (coopt optimize --out)")
    p.add_argument("--images", required=True, help="the training images: packed directory or image folder")
    p.add_argument("--test-images", required=True, help="the probe's test split: packed directory or image folder")
    p.add_argument("--arch", default="resnet-small")
    p.add_argument("--seconds", type=float, default=None, help="training budget in seconds")
    p.add_argument("--epochs", type=int, default=None, help="training budget in epochs (default 10 without --seconds)")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0 = torch's default)")
    p.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    p.add_argument("--probe-l2", type=float, default=1e-4)
    p.add_argument("--probe-iterations", type=int, default=200)
    p.add_argument("--features-out", help="also write the frozen features and labels here (.npz)")
    p.add_argument("--torchscript-out", help="also write the trained backbone as TorchScript here, with the sidecar "
                                             "JSON coopt's torchscript: priors read (so `coopt eval linear --model "
                                             "torchscript:FILE` probes it exactly as it probes coopt's own students)")
    p.add_argument("--skip-probe", action="store_true", help="train (and export) only")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.seconds is None and args.epochs is None:
        args.epochs = 10
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    wall = time.monotonic()

    optimized = coopt.OptimizedDataset(args.targets)
    train_images = open_images(args.images, optimized.source.get("split", "train"))
    test_images = open_images(args.test_images, "test")
    mean, std = channel_stats(train_images, optimized.ids)
    data = TargetsDataset(optimized, train_images, transform=TwoViews(mean, std, args.seed))
    if data.labels is None or test_images.labels is None:
        raise SystemExit("the linear probe needs labelled images (class folders, or a labelled pack)")
    channels = train_images.image(int(optimized.ids[0])).shape[0]
    net = backbone(args.arch, channels)
    head = nn.Linear(net.feature_dim, optimized.dim)  # ReLA's transfer head: one linear layer with bias
    params = list(net.parameters()) + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=args.weight_decay)
    loader = torch.utils.data.DataLoader(data, batch_size=args.batch, shuffle=True, drop_last=len(data) > args.batch,
                                         num_workers=args.workers,
                                         generator=torch.Generator().manual_seed(args.seed))

    start = time.monotonic()
    steps, epochs, loss_value, done = 0, 0, float("nan"), False
    while not done:
        net.train()
        for views, targets in loader:
            x = views.flatten(0, 1)  # [2n, C, H, W], view 0 and 1 of each image adjacent
            y = targets.repeat_interleave(2, dim=0)
            loss = (1 - F.cosine_similarity(head(net(x)), y, dim=1)).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            steps += 1
            loss_value = loss.item()
            if args.seconds is not None and time.monotonic() - start >= args.seconds:
                done = True
                break
        else:
            epochs += 1
            if args.epochs is not None and epochs >= args.epochs:
                done = True
    train_seconds = time.monotonic() - start
    partial = 0 if not done or args.seconds is None else (steps * args.batch / len(data)) % 1

    if args.torchscript_out:
        export(net, channels, train_images.image(int(optimized.ids[0])).shape[1:], mean, std, args.torchscript_out)
    if args.skip_probe:
        print(json.dumps({"steps": steps, "epochs": round(epochs + partial, 3), "train_seconds": round(train_seconds, 1),
                          "final_loss": round(loss_value, 4), "arch": args.arch, "train_images": len(data),
                          "threads": torch.get_num_threads(), "torch": torch.__version__}))
        return 0
    probe_start = time.monotonic()
    test_ids = test_images.ids  # a pack made with --limit holds sparse ids
    train_x = features(net, train_images, optimized.ids, mean, std, 256)
    test_x = features(net, test_images, test_ids, mean, std, 256)
    train_y = torch.from_numpy(np.asarray(data.labels, dtype=np.int64))
    test_y = torch.from_numpy(np.asarray(test_images.labels_of(test_ids), dtype=np.int64))
    top1 = linear_probe(train_x, train_y, test_x, test_y, args.probe_l2, args.probe_iterations)
    if args.features_out:
        np.savez(args.features_out, train_x=train_x.numpy(), train_y=train_y.numpy(), test_x=test_x.numpy(),
                 test_y=test_y.numpy())
    print(json.dumps({
        "top1": round(top1, 4), "steps": steps, "epochs": round(epochs + partial, 3),
        "train_seconds": round(train_seconds, 1), "probe_seconds": round(time.monotonic() - probe_start, 1),
        "wall_seconds": round(time.monotonic() - wall, 1), "final_loss": round(loss_value, 4),
        "images_per_second": round(steps * args.batch / max(train_seconds, 1e-9), 1), "arch": args.arch,
        "train_images": len(data), "test_images": int(test_images.count), "target_dim": optimized.dim,
        "threads": torch.get_num_threads(), "torch": torch.__version__}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
