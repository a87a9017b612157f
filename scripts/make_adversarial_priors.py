#!/usr/bin/env python3
"""Writes small TorchScript "priors" that a broken or malicious participant could bring to
`coopt collab` or the platform (issue 12), so that tests and scripts/bench_adversarial.sh can
check that the screening excludes them.

Run from the repository root (Debian's python3-torch 1.13):

    /usr/bin/python3 scripts/make_adversarial_priors.py [OUT_DIR]

OUT_DIR defaults to coopt-core/src/test/resources/priors/adversarial. Every model takes
N x 1 x 28 x 28 images (Fashion-MNIST); each has a sidecar NAME.pt.json with that input size and
Fashion-MNIST's normalisation (mean 0.2860, std 0.3530). With torch.manual_seed(0) it writes:

- noise.pt: returns fresh Gaussian noise, N x 64, on every call (torch.randn inside forward), so
  its outputs are not even reproducible: what a participant that uploads noise sends.
- constant.pt: returns the same 64-vector (a fixed N(0, 1) draw) for every image.
- noisy_view.pt: a fixed random conv feature of the image (conv 1->16, 5x5, stride 2, ReLU,
  global average pool, linear 16->64) plus fresh Gaussian noise ten times its typical size:
  mostly noise, with a little of the image left in it.

The script re-runs itself with PYTHONHASHSEED=0: TorchScript writes a module's constants in
set order, so only a fixed hash seed makes the .pt archives byte-identical from run to run. Their
debug information records this script's absolute path and line numbers, so a run from another
checkout, or after editing the script, changes those bytes but not the models.
"""
import json
import os

import torch
from torch import nn

from make_prior_fixtures import output_dir

DIM = 64
MEAN = 0.2860
STD = 0.3530


class Noise(nn.Module):
    """Fresh N(0, 1) noise for every image and every call; the image is not looked at."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.randn(x.shape[0], 64, dtype=x.dtype, device=x.device)


class Constant(nn.Module):
    """The same vector for every image."""

    def __init__(self):
        super().__init__()
        self.value = nn.Parameter(torch.randn(DIM), requires_grad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.value.unsqueeze(0).repeat(x.shape[0], 1)


class NoisyView(nn.Module):
    """A fixed random conv feature plus noise ten times the feature's typical size."""

    def __init__(self, scale: float):
        super().__init__()
        self.conv = nn.Conv2d(1, 16, kernel_size=5, stride=2)
        self.head = nn.Linear(16, DIM)
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feature = self.head(torch.relu(self.conv(x)).mean(dim=(2, 3)))
        return feature + self.scale * torch.randn(feature.shape, dtype=feature.dtype, device=feature.device)


def save(module, out, name):
    torch.jit.script(module.eval()).save(os.path.join(out, name))
    sidecar = {"input": {"channels": 1, "height": 28, "width": 28},
               "normalization": {"mean": [MEAN], "std": [STD]}}
    with open(os.path.join(out, name + ".json"), "w") as f:
        json.dump(sidecar, f, indent=2)
        f.write("\n")


def main():
    out = output_dir("coopt-core/src/test/resources/priors/adversarial", __doc__)
    torch.manual_seed(0)
    with torch.no_grad():
        save(Noise(), out, "noise.pt")
        save(Constant(), out, "constant.pt")
        view = NoisyView(1.0)
        # noise ten times the feature's typical spread around its mean, measured on a fixed batch
        # of normalised random images
        probe = (torch.rand(256, 1, 28, 28) - MEAN) / STD
        feature = view.head(torch.relu(view.conv(probe)).mean(dim=(2, 3)))
        view.scale = float(10 * feature.std(dim=0).mean())
        save(view, out, "noisy_view.pt")


if __name__ == "__main__":
    main()
