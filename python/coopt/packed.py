# Copyright the CoOpt authors. Licensed under the Apache License, Version 2.0.
"""Packed images (coopt-packed-images/1): the images of one split in safetensors shards, written by `coopt data pack`."""
import bisect
import os
import re

import numpy as np

from . import safetensors
from .errors import CooptDataError
from .manifest import field, read_manifest

FORMAT = "coopt-packed-images/1"
_SHA256 = re.compile(r"[0-9a-f]{64}")
#: The widest image side the project's networks take (ai.coopt.nn.Architectures.MAX_SIDE).
MAX_SIDE = 4096


def shard_name(index, shards):
    return f"images-{index + 1:05d}-of-{shards:05d}.safetensors"


class PackedImages:
    """Reads and verifies a packed-image directory.

    Checked on opening: the manifest (format, count, shape, source fingerprint, shard names and counts summing to
    count); each shard's SHA-256 against the manifest; each shard's header (`ids` int64 [n], `labels` int64 [n]
    when labelled, `images` uint8 [n, C, H, W], in that order, nothing else, the file exactly that long); and that
    the ids run 0, 1, 2, ... across the shards (the pack holds its source split's images in order, so id k is
    image k). Images are memory-mapped, read on demand.

    Attributes: count, channels, height, width, labelled, manifest, source (spec, split, count, fingerprint),
    labels (int64 array [count] or None).
    """

    def __init__(self, directory, verify=True):
        self.directory = os.fspath(directory)
        m, mpath = read_manifest(self.directory, FORMAT, "CoOpt packed-image directory")
        self.manifest = m
        self.count = field(mpath, m, "count", int)
        self.channels = field(mpath, m, "channels", int)
        self.height = field(mpath, m, "height", int)
        self.width = field(mpath, m, "width", int)
        self.labelled = field(mpath, m, "labelled", bool)
        self.source = field(mpath, m, "source", dict)
        shards = field(mpath, m, "shards", list)
        if self.count < 1:
            raise CooptDataError(f"{mpath}: count must be at least 1, found {self.count}")
        if self.channels not in (1, 3) or not 1 <= self.height <= MAX_SIDE or not 1 <= self.width <= MAX_SIDE:
            raise CooptDataError(f"{mpath}: image shape {self.channels}x{self.height}x{self.width} is not 1 or 3 "
                                 f"channels of at most {MAX_SIDE} pixels a side")
        fingerprint = self.source.get("fingerprint")
        if not isinstance(fingerprint, str) or not _SHA256.fullmatch(fingerprint):
            raise CooptDataError(f"{mpath}: source.fingerprint must be 64 lower-case hex digits")
        total = 0
        for s, shard in enumerate(shards):
            name = shard.get("file") if isinstance(shard, dict) else None
            if name != shard_name(s, len(shards)):
                raise CooptDataError(f"{mpath}: shard {s + 1} must be named {shard_name(s, len(shards))}, "
                                     f"found {name!r}")
            n, sha = shard.get("count"), shard.get("sha256")
            if type(n) is not int or n < 1 or not isinstance(sha, str) or not _SHA256.fullmatch(sha):
                raise CooptDataError(f"{mpath}: shard {name} needs a positive count and a sha256 of 64 lower-case "
                                     f"hex digits")
            total += n
        if total != self.count:
            raise CooptDataError(f"{mpath}: the shards hold {total} images, count says {self.count}")

        self._starts = []
        self._images = []
        labels = []
        first = 0
        for shard in shards:
            images, shard_labels = self._open_shard(shard, first, verify)
            self._starts.append(first)
            self._images.append(images)
            if shard_labels is not None:
                labels.append(shard_labels)
            first += shard["count"]
        self.labels = np.concatenate(labels) if self.labelled else None
        if self.labels is not None and (self.labels.min() < 0 or self.labels.max() > 2**31 - 1):
            raise CooptDataError(f"{self.directory}: a label is negative or too large")

    def _open_shard(self, shard, first, verify):
        path = os.path.join(self.directory, shard["file"])
        if not os.path.isfile(path):
            raise CooptDataError(f"{path}: missing (manifest.json lists it)")
        if verify:
            actual = safetensors.sha256_of(path)
            if actual != shard["sha256"]:
                raise CooptDataError(f"{path}: checksum mismatch: the shard was modified or is corrupt (sha256 "
                                     f"{actual}, manifest.json records {shard['sha256']})")
        tensors, _, data_start = safetensors.read_header(path)
        n = shard["count"]
        numbers = 8 * n * (2 if self.labelled else 1)
        expected = {"ids": ("I64", (n,), 0, 8 * n)}
        if self.labelled:
            expected["labels"] = ("I64", (n,), 8 * n, 16 * n)
        expected["images"] = ("U8", (n, self.channels, self.height, self.width), numbers,
                              numbers + n * self.channels * self.height * self.width)
        for name, (dtype, shape, begin, end) in expected.items():
            t = tensors.get(name)
            if t is None:
                raise CooptDataError(f"{path}: no tensor '{name}'")
            if (t.dtype, t.shape, t.begin, t.end) != (dtype, shape, begin, end):
                raise CooptDataError(f"{path}: tensor '{name}' is {t.dtype} {list(t.shape)} at [{t.begin},{t.end}]; "
                                     f"the manifest calls for {dtype} {list(shape)} at [{begin},{end}]")
        extra = set(tensors) - set(expected)
        if extra:
            raise CooptDataError(f"{path}: unexpected tensor(s) {sorted(extra)}"
                                 + (" (the manifest says the images are unlabelled)" if "labels" in extra else ""))
        size = os.path.getsize(path)
        if size != data_start + expected["images"][3]:
            raise CooptDataError(f"{path}: {size} bytes, its header describes {data_start + expected['images'][3]}")
        ids = safetensors.open_tensor(path, tensors["ids"], data_start)
        wrong = np.nonzero(np.asarray(ids) != np.arange(first, first + n))[0]
        if len(wrong):
            k = int(wrong[0])
            raise CooptDataError(f"{path}: image {k} has id {int(ids[k])}, expected {first + k} (the shards hold the "
                                 f"source's images in order)")
        labels = np.array(safetensors.open_tensor(path, tensors["labels"], data_start)) if self.labelled else None
        return safetensors.open_tensor(path, tensors["images"], data_start), labels

    @property
    def fingerprint(self):
        return self.source["fingerprint"]

    def __len__(self):
        return self.count

    def image(self, id):
        """The image with this id (its index in the source split): uint8 [C, H, W], a copy."""
        id = int(id)
        if not 0 <= id < self.count:
            raise IndexError(f"{self.directory}: no image with id {id} (the pack holds ids 0 to {self.count - 1})")
        s = bisect.bisect_right(self._starts, id) - 1
        return np.array(self._images[s][id - self._starts[s]])

    def label(self, id):
        """The label of the image with this id, or None when the pack is unlabelled."""
        return None if self.labels is None else int(self.labels[int(id)])

    def __repr__(self):
        return (f"PackedImages({self.directory!r}: {self.count} images of {self.channels}x{self.height}x{self.width}"
                f" from {self.source.get('spec')} {self.source.get('split')})")
