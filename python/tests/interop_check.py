#!/usr/bin/env python3
# Copyright the CoOpt authors. Licensed under the Apache License, Version 2.0.
"""What the coopt package reads from an optimized dataset and a packed directory that Java wrote, as one JSON
line for PythonPackageTest to compare with what Java reads: counts, ids, sums of targets and pixels, and, with
torch, what TargetsDataset yields. Usage: interop_check.py OPTIMIZED PACKED"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import coopt  # noqa: E402


def main(opt_dir, pack_dir):
    data = coopt.OptimizedDataset(opt_dir)
    pack = coopt.PackedImages(pack_dir)
    out = {
        "count": data.count, "dim": data.dim, "ids": data.ids.tolist(),
        "targets_sum": float(np.asarray(data.targets, dtype=np.float64).sum()),
        "targets_first_row": [float(v) for v in data.targets[0]],
        "fingerprint": data.fingerprint, "pack_fingerprint": pack.fingerprint,
        "pack_count": pack.count, "pack_shape": [pack.channels, pack.height, pack.width],
        "pixel_sum": int(sum(int(pack.image(i).sum(dtype=np.int64)) for i in range(pack.count))),
        "label_sum": None if pack.labels is None else int(pack.labels.sum()),
    }
    try:
        import torch
        from coopt.torch import TargetsDataset
    except ImportError:
        out["torch"] = None
    else:
        ds = TargetsDataset(data, pack)
        loader = torch.utils.data.DataLoader(ds, batch_size=64)
        images = targets = 0.0
        n = 0
        for x, t in loader:
            images += float((x.double() * 255).round().sum())
            targets += float(t.double().sum())
            n += x.shape[0]
        out["torch"] = {"items": n, "image_sum": images, "targets_sum": targets,
                        "item_shape": list(ds[0][0].shape)}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    try:
        sys.exit(main(sys.argv[1], sys.argv[2]))
    except coopt.CooptDataError as e:
        print(f"interop_check: {e}", file=sys.stderr)
        sys.exit(1)
