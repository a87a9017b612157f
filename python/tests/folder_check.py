#!/usr/bin/env python3
# Copyright the CoOpt authors. Licensed under the Apache License, Version 2.0.
"""How coopt.ImageFolder's listing and pixels compare with a pack that `coopt data pack --data folder:DIR` made of
the same folder, and whether TargetsDataset pairs the folder with an optimized dataset made from it, as one JSON
line for PythonPackageTest. Usage: folder_check.py FOLDER PACKED OPTIMIZED"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import coopt  # noqa: E402


def main(folder_dir, pack_dir, opt_dir):
    pack = coopt.PackedImages(pack_dir)
    folder = coopt.ImageFolder(folder_dir, pack.source["split"], image_size=pack.height)
    differ = 0
    worst = 0
    for i in range(pack.count):
        d = np.abs(folder.image(i).astype(np.int64) - pack.image(i).astype(np.int64))
        differ += int((d > 0).sum())
        worst = max(worst, int(d.max()))
    out = {"count": folder.count, "pack_count": pack.count, "channels": folder.channels,
           "pack_channels": pack.channels, "labels_equal": bool(np.array_equal(folder.labels, pack.labels)),
           "max_difference": worst, "values_differing": differ,
           "values": pack.count * pack.channels * pack.height * pack.width}
    try:
        from coopt.torch import TargetsDataset
    except ImportError:
        out["dataset_items"] = None
    else:
        ds = TargetsDataset(coopt.OptimizedDataset(opt_dir), coopt.ImageFolder(folder_dir, pack.source["split"]))
        out["dataset_items"] = len(ds)
        out["dataset_shape"] = list(ds[len(ds) - 1][0].shape)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
