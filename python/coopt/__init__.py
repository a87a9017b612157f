# Copyright the CoOpt authors. Licensed under the Apache License, Version 2.0.
"""Read CoOpt optimized datasets and packed images with numpy; `coopt.torch` adds a PyTorch Dataset.

    import coopt
    data = coopt.OptimizedDataset("out/fmnist-opt")       # targets [N, D] float32, ids [N] int64, verified
    images = coopt.PackedImages("out/fmnist-pack")        # or coopt.ImageFolder("photos", "train")
    from coopt.torch import TargetsDataset                # needs torch; nothing else here does
    ds = TargetsDataset(data, images)                     # item i: (image tensor, target row)

An id is a sample's index in its whole split, also for a `--limit` draw (coopt.subset.draw gives the same draw).
"""
from .errors import CooptDataError
from .folder import ImageFolder
from .optimized import OptimizedDataset
from .packed import PackedImages
from . import subset

__all__ = ["CooptDataError", "OptimizedDataset", "PackedImages", "ImageFolder", "subset"]
__version__ = "0.1.0"
