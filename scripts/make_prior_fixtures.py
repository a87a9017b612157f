#!/usr/bin/env python3
"""Writes the tiny public-format prior models that TorchScriptPriorTest and OnnxPriorTest load,
and the outputs PyTorch computes for them, so the Java tests need no Python.

Run from the repository root (Debian's python3-torch 1.13, no `onnx` package needed):

    /usr/bin/python3 scripts/make_prior_fixtures.py [OUT_DIR]

OUT_DIR defaults to coopt-core/src/test/resources/priors. With torch.manual_seed(0) it writes:

- tiny_cnn.pt: a scripted TorchScript module, input N x 3 x 32 x 32 (any size works: the
  features are globally pooled). Conv 3->8 (3x3, padding 1), ReLU, global average pool, then
  `forward` projects linearly 8->16 and the exported method `encode_image` projects with a
  different linear layer 8->12.
- tiny_cnn.pt.json: its sidecar, input 3x32x32, mean 0.5 and std 0.25 per channel.
- tiny_cnn_bad.pt: a scripted module whose output is 4-D, N x 8 x 4 x 4 (not a valid prior).
- tiny_mnist.onnx: the same kind of network for N x 1 x 28 x 28 input (conv 1->8, linear 8->10),
  exported with opset 17, input "images" with a dynamic batch axis, output "embeddings".
- tiny_dynamic.onnx: conv 3->8, linear 8->6, exported with dynamic batch, height and width, so
  the ONNX file declares no image size.
- expected.json: for each model, the input batch and the outputs PyTorch computes for it.
  The input is rebuilt exactly from its formula: flat element i (row-major N x C x H x W) is
  float32(((i * 37) % 101) / 50.0 - 1.0), evaluated in double precision.

The script re-runs itself with PYTHONHASHSEED=0: TorchScript writes a module's constants in
set order, so only a fixed hash seed makes the .pt archives byte-identical from run to run.
"""
import json
import os
import sys

import torch
from torch import nn


class TinyEncoder(nn.Module):
    """Conv, ReLU, global average pool; `forward` and `encode_image` use different heads."""

    def __init__(self, channels: int, forward_dim: int, encode_dim: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, 8, kernel_size=3, padding=1)
        self.head = nn.Linear(8, forward_dim)
        self.image_head = nn.Linear(8, encode_dim)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.conv(x)).mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    @torch.jit.export
    def encode_image(self, x: torch.Tensor) -> torch.Tensor:
        return self.image_head(self.features(x))


class FeatureMap(nn.Module):
    """Returns a 4-D feature map instead of one vector per image."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, kernel_size=3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.adaptive_avg_pool2d(self.conv(x), 4)


def formula_input(batch, channels, height, width):
    n = batch * channels * height * width
    values = [((i * 37) % 101) / 50.0 - 1.0 for i in range(n)]
    return torch.tensor(values, dtype=torch.float32).reshape(batch, channels, height, width)


def rows(tensor):
    return [[float(v) for v in row] for row in tensor.tolist()]


def input_record(x):
    n, c, h, w = x.shape
    return {"batch": n, "channels": c, "height": h, "width": w,
            "formula": "float32(((i * 37) % 101) / 50.0 - 1.0) for flat index i"}


def export_onnx(model, example, path, dynamic_axes):
    torch.onnx.export(model, (example,), path, input_names=["images"], output_names=["embeddings"],
                      dynamic_axes=dynamic_axes, opset_version=17)


def output_dir(default, usage):
    """Re-runs the calling script with PYTHONHASHSEED=0 unless that is set, then returns (and creates) the one
    optional argument OUT_DIR, or `default`; exits with `usage` when given more."""
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable] + sys.argv)
    if len(sys.argv) > 2:
        sys.exit(usage)
    out = sys.argv[1] if len(sys.argv) == 2 else default
    os.makedirs(out, exist_ok=True)
    return out


def main():
    out = output_dir("coopt-core/src/test/resources/priors", __doc__)
    torch.manual_seed(0)
    expected = {}

    with torch.no_grad():
        cnn = torch.jit.script(TinyEncoder(3, 16, 12).eval())
        cnn.save(os.path.join(out, "tiny_cnn.pt"))
        x = formula_input(3, 3, 32, 32)
        expected["tiny_cnn.pt"] = {"input": input_record(x), "forward": rows(cnn(x)),
                                   "encode_image": rows(cnn.encode_image(x))}
        sidecar = {"input": {"channels": 3, "height": 32, "width": 32},
                   "normalization": {"mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}}
        with open(os.path.join(out, "tiny_cnn.pt.json"), "w") as f:
            json.dump(sidecar, f, indent=2)
            f.write("\n")

        torch.jit.script(FeatureMap().eval()).save(os.path.join(out, "tiny_cnn_bad.pt"))

        mnist = TinyEncoder(1, 10, 10).eval()
        x = formula_input(3, 1, 28, 28)
        export_onnx(mnist, x, os.path.join(out, "tiny_mnist.onnx"),
                    {"images": {0: "batch"}, "embeddings": {0: "batch"}})
        expected["tiny_mnist.onnx"] = {"input": input_record(x), "output": rows(mnist(x))}

        dynamic = TinyEncoder(3, 6, 6).eval()
        x = formula_input(2, 3, 20, 24)
        export_onnx(dynamic, x, os.path.join(out, "tiny_dynamic.onnx"),
                    {"images": {0: "batch", 2: "height", 3: "width"}, "embeddings": {0: "batch"}})
        expected["tiny_dynamic.onnx"] = {"input": input_record(x), "output": rows(dynamic(x))}

    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
