# Copyright the CoOpt authors. Licensed under the Apache License, Version 2.0.
"""A PyTorch Dataset over an optimized dataset's targets and the images they were computed for."""
import re

import numpy as np
import torch
import torch.utils.data

from .errors import CooptDataError
from .folder import ImageFolder
from .optimized import OptimizedDataset
from .packed import PackedImages

_ADAPTATION = re.compile(r"^\s*(\d+)x(\d+)x(\d+)\s*->")


def check_match(optimized, images):
    """Raises one CooptDataError when `images` are not the samples `optimized` was computed for."""
    src = optimized.source
    if isinstance(images, PackedImages):
        if images.fingerprint != optimized.fingerprint:
            raise CooptDataError(
                f"{images.directory} is not the data {optimized.directory} was made from: the pack's source "
                f"fingerprint is {images.fingerprint} ({images.source.get('spec')} {images.source.get('split')}, "
                f"{images.count} images), the optimized dataset's is {optimized.fingerprint} ({src.get('spec')} "
                f"{src.get('split')}, {src.get('count')} samples)")
        total = images.count
    elif isinstance(images, ImageFolder):
        if src.get("split") not in (None, images.split):
            raise CooptDataError(f"{optimized.directory} was made from the {src.get('split')} split, the folder "
                                 f"{images.directory} was opened at {images.split}")
        total = images.count
        if total != optimized.source_total:
            raise CooptDataError(
                f"{images.directory} ({images.split}) lists {total} images, but {optimized.directory} was made from "
                f"a split of {optimized.source_total} ({src.get('spec')}); not the same folder, or it changed since")
    else:
        raise TypeError(f"images must be a coopt.PackedImages or coopt.ImageFolder, not {type(images).__name__}")
    high = int(optimized.ids.max())
    if high >= total:
        raise CooptDataError(f"{optimized.directory} has a target for id {high}, but {images.directory} holds only "
                             f"{total} images")


def source_shape(optimized):
    """(channels, side) of the images as Java read them, from the first participant's input adaptation
    ("CxHxW -> ..."), or (None, None) when the manifest does not say."""
    for p in optimized.manifest.get("participants") or []:
        m = _ADAPTATION.match(str((p.get("input") or {}).get("adaptation", "")))
        if m:
            c, h, w = (int(g) for g in m.groups())
            if h == w and c in (1, 3):
                return c, h
    return None, None


class TargetsDataset(torch.utils.data.Dataset):
    """Item i: (image, target) for the optimized dataset's i-th row: the image with id ids[i] from `images` as a
    float tensor [C, H, W] in [0, 1] (or whatever `transform` makes of the uint8 [C, H, W] numpy array it is given),
    and targets[i] as a float32 tensor [D]. `images` is a coopt.PackedImages (its source fingerprint must be the
    optimized dataset's) or a coopt.ImageFolder (its split must list as many images as the source split held, and
    it is read at the size and channels the manifest records when they were not given).

    Also: ids (the numpy ids), labels (the images' labels for the ids, or None), dim."""

    def __init__(self, optimized, images, transform=None):
        if not isinstance(optimized, OptimizedDataset):
            optimized = OptimizedDataset(optimized)
        check_match(optimized, images)
        if isinstance(images, ImageFolder):
            channels, side = source_shape(optimized)
            images.configure(side, channels)
        self.optimized = optimized
        self.images = images
        self.transform = transform
        self.ids = optimized.ids
        self.dim = optimized.dim
        self.labels = None if images.labels is None else np.asarray(images.labels)[self.ids]

    def __len__(self):
        return self.optimized.count

    def __getitem__(self, i):
        image = self.images.image(self.ids[i])
        if self.transform is not None:
            x = self.transform(image)
        else:
            x = torch.from_numpy(image).float().div_(255)
        return x, torch.from_numpy(np.array(self.optimized.targets[i]))
