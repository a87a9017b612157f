#!/usr/bin/env python3
# Copyright the CoOpt authors. Licensed under the Apache License, Version 2.0.
"""How coopt.ImageFolder's listing and pixels compare with a pack that `coopt data pack --data folder:DIR` made of
the same folder, and whether TargetsDataset pairs the folder with an optimized dataset made from it (and with one
made with --limit, the folder opened whole and with the limit and seed its manifest records), as one JSON line for
PythonPackageTest. Usage: folder_check.py FOLDER PACKED OPTIMIZED [OPTIMIZED_WITH_LIMIT]"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import coopt  # noqa: E402


def main(folder_dir, pack_dir, opt_dir, limited_dir=None):
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
        if limited_dir is not None:
            limited = coopt.OptimizedDataset(limited_dir)
            subset = limited.subset
            drawn = coopt.ImageFolder(folder_dir, pack.source["split"], limit=subset["limit"], limit_seed=subset["seed"])
            whole = TargetsDataset(limited, coopt.ImageFolder(folder_dir, pack.source["split"]), transform=lambda a: a)
            by_draw = TargetsDataset(limited, drawn, transform=lambda a: a)
            out["limited"] = {
                "items": len(by_draw), "ids": limited.ids.tolist(), "folder_ids": drawn.ids.tolist(),
                "folder_subset": drawn.subset,
                "same_items": all(np.array_equal(whole[i][0], by_draw[i][0]) for i in range(len(whole))),
                "labels": by_draw.labels.tolist()}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
