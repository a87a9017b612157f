#!/usr/bin/env python3
# Copyright the CoOpt authors. Licensed under the Apache License, Version 2.0.
"""What the coopt package reads from an optimized dataset and packed directories that Java wrote, as one JSON line
for PythonPackageTest to compare with what Java reads: counts, ids, sums of targets and pixels, and, with torch,
what TargetsDataset yields over each pack. With --idx-labels FILE (an IDX label file, gzipped or not, of the
dataset's whole split), also Python's own draw of the manifest's --limit subset from those labels.
Usage: interop_check.py OPTIMIZED PACKED [PACKED ...] [--idx-labels FILE]"""
import gzip
import hashlib
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import coopt  # noqa: E402
from coopt.subset import draw, ids_sha256  # noqa: E402


def idx_labels(path):
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        data = f.read()
    if int.from_bytes(data[:4], "big") != 0x801:
        raise coopt.CooptDataError(f"{path}: not an IDX file of unsigned bytes in one dimension")
    n = int.from_bytes(data[4:8], "big")
    return np.frombuffer(data, np.uint8, n, 8).astype(np.int64)


def pack_summary(data, pack_dir):
    pack = coopt.PackedImages(pack_dir)
    out = {"fingerprint": pack.fingerprint, "count": pack.count, "id_bound": pack.id_bound,
           "ids_first": pack.ids[:5].tolist(), "subset": pack.subset,
           "shape": [pack.channels, pack.height, pack.width],
           "pixel_sum": int(sum(int(pack.image(i).sum(dtype=np.int64)) for i in pack.ids)),
           "label_sum": None if pack.labels is None else int(pack.labels.sum())}
    try:
        import torch
        from coopt.torch import TargetsDataset
    except ImportError:
        out["torch"] = None
        return out
    ds = TargetsDataset(data, pack)
    loader = torch.utils.data.DataLoader(ds, batch_size=64)
    images = targets = 0.0
    n = 0
    digest = hashlib.sha256()  # of every item, in order: the same items from two packs give the same digest
    for x, t in loader:
        pixels = (x.double() * 255).round()
        images += float(pixels.sum())
        targets += float(t.double().sum())
        n += x.shape[0]
        digest.update(pixels.to(torch.uint8).numpy().tobytes())
        digest.update(t.numpy().astype("<f4").tobytes())
    out["torch"] = {"items": n, "image_sum": images, "targets_sum": targets, "item_shape": list(ds[0][0].shape),
                    "label_sum": None if ds.labels is None else int(ds.labels.sum()), "items_sha256": digest.hexdigest()}
    return out


def main(opt_dir, pack_dirs, labels_file=None):
    data = coopt.OptimizedDataset(opt_dir)
    out = {
        "count": data.count, "dim": data.dim, "ids": data.ids.tolist(), "source_total": data.source_total,
        "targets_sum": float(np.asarray(data.targets, dtype=np.float64).sum()),
        "targets_first_row": [float(v) for v in data.targets[0]],
        "fingerprint": data.fingerprint, "ids_sha256": ids_sha256(np.sort(data.ids)),
        "packs": [pack_summary(data, p) for p in pack_dirs],
    }
    if labels_file is not None:
        labels = idx_labels(labels_file)
        subset = data.subset or {"limit": 0, "seed": 0}
        drawn = draw(len(labels), labels, subset["limit"], subset["seed"])
        out["draw"] = {"of": len(labels), "ids_sha256": ids_sha256(drawn.indices), "subset": drawn.subset,
                       "equals_ids": bool(np.array_equal(drawn.indices, np.sort(data.ids)))}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    args = sys.argv[1:]
    labels_file = None
    if "--idx-labels" in args:
        k = args.index("--idx-labels")
        labels_file = args[k + 1] if k + 1 < len(args) else None
        args = args[:k] + args[k + 2:]
    if len(args) < 2 or ("--idx-labels" in sys.argv and labels_file is None):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    try:
        sys.exit(main(args[0], args[1:], labels_file))
    except coopt.CooptDataError as e:
        print(f"interop_check: {e}", file=sys.stderr)
        sys.exit(1)
