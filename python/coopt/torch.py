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
from .subset import draw

_ADAPTATION = re.compile(r"^\s*(\d+)x(\d+)x(\d+)\s*->")


def _describe(src, count):
    subset = src.get("subset")
    drawn = "" if not isinstance(subset, dict) else \
        f", --limit {subset.get('limit')} --limit-seed {subset.get('seed')} of {subset.get('of')}"
    return f"{src.get('spec')} {src.get('split')}, {count} samples{drawn}"


def check_match(optimized, images):
    """Raises one CooptDataError when `images` are not the samples `optimized` was computed for.

    A pack matches when its source fingerprint is the optimized dataset's (the same samples: the same draw, or the
    same whole split), or when it is the whole split the dataset's `--limit` draw was taken from (no subset, same
    spec and split, as many ids as the draw's `of`); either way every target id must be one of the pack's. A folder
    matches when its split lists as many files as the dataset's source split held (`subset.of`, else count +
    skipped images) and, for a draw, the folder's draw with the recorded limit and seed has the recorded
    ids_sha256 (the same files, in the same classes)."""
    src = optimized.source
    if not isinstance(images, (PackedImages, ImageFolder)):
        raise TypeError(f"images must be a coopt.PackedImages or coopt.ImageFolder, not {type(images).__name__}")
    if isinstance(images, PackedImages):
        whole_split = (images.subset is None and isinstance(optimized.subset, dict)
                       and (images.source.get("spec"), images.source.get("split")) == (src.get("spec"), src.get("split"))
                       and images.id_bound == optimized.source_total)
        if images.fingerprint != optimized.fingerprint and not whole_split:
            raise CooptDataError(
                f"{images.directory} is not the data {optimized.directory} was made from: the pack's source "
                f"fingerprint is {images.fingerprint} ({_describe(images.source, images.count)}), the optimized "
                f"dataset's is {optimized.fingerprint} ({_describe(src, src.get('count'))}), and the pack is not the "
                f"whole split the dataset's samples were drawn from")
    else:
        if src.get("split") not in (None, images.split):
            raise CooptDataError(f"{optimized.directory} was made from the {src.get('split')} split, the folder "
                                 f"{images.directory} was opened at {images.split}")
        if images.listed != optimized.source_total:
            raise CooptDataError(
                f"{images.directory} ({images.split}) lists {images.listed} images, but {optimized.directory} was "
                f"made from a split of {optimized.source_total} ({src.get('spec')}); not the same folder, or it "
                f"changed since")
        subset = optimized.subset  # checked on reading: limit, seed, ids_sha256 present
        if subset is not None:
            mine = draw(images.listed, images.labels, subset["limit"], subset["seed"]).subset
            if mine is None or mine["ids_sha256"] != subset["ids_sha256"]:
                raise CooptDataError(
                    f"{images.directory} ({images.split}) does not give the draw {optimized.directory} was made from: "
                    f"--limit {subset['limit']} --limit-seed {subset['seed']} of its {images.listed} files "
                    f"has ids_sha256 {None if mine is None else mine['ids_sha256']}, the manifest records "
                    f"{subset['ids_sha256']}; not the same folder (files or class folders differ), or it changed since")
    try:
        images.positions(optimized.ids)
    except IndexError as e:
        raise CooptDataError(f"{optimized.directory} has a target for an image {images.directory} does not hold: "
                             f"{e}") from None


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
    and targets[i] as a float32 tensor [D]. An id is a sample's index in its whole split, so `images` may be a
    coopt.PackedImages of the same samples (same source fingerprint) or of the whole split a `--limit` draw was
    taken from, or a coopt.ImageFolder of that split (read at the size and channels the manifest records when they
    were not given); see check_match.

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
        self.labels = images.labels_of(self.ids)

    def __len__(self):
        return self.optimized.count

    def __getitem__(self, i):
        image = self.images.image(self.ids[i])
        if self.transform is not None:
            x = self.transform(image)
        else:
            x = torch.from_numpy(image).float().div_(255)
        return x, torch.from_numpy(np.array(self.optimized.targets[i]))
