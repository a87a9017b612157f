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
    count; `source.subset`, when present, the record of a `--limit` draw); each shard's SHA-256 against the
    manifest; each shard's header (`ids` int64 [n], `labels` int64 [n] when labelled, `images` uint8 [n, C, H, W], in
    that order, nothing else, the file exactly that long); and that the ids strictly increase across the shards and
    stay below the source split's size (`source.subset.of`, else count + skipped_images). An id is the image's index
    in its whole split: a pack of a whole split holds ids 0, 1, 2, ...; one made with `--limit` holds the drawn ids.
    Images are memory-mapped, read on demand.

    Attributes: count, channels, height, width, labelled, manifest, source (spec, split, count, fingerprint, ...),
    subset (source.subset or None), id_bound (the split's size: ids are below it), ids (int64 array [count],
    ascending), labels (int64 array [count], in the order of ids, or None).
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
        self.subset = self.source.get("subset")
        skipped = self.source.get("skipped_images", 0)
        if type(skipped) is not int or skipped < 0:
            raise CooptDataError(f"{mpath}: source.skipped_images is {skipped!r}, expected a non-negative integer")
        if self.subset is None:
            self.id_bound = self.count + skipped
        else:
            of = self.subset.get("of") if isinstance(self.subset, dict) else None
            if type(of) is not int or of < self.count:
                raise CooptDataError(f"{mpath}: source.subset.of is {of!r}, expected the split's size (at least "
                                     f"count, {self.count})")
            self.id_bound = of
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
        ids = []
        first = 0
        for shard in shards:
            previous = int(ids[-1][-1]) if ids else -1
            images, shard_ids, shard_labels = self._open_shard(shard, previous, verify)
            self._starts.append(first)
            self._images.append(images)
            ids.append(shard_ids)
            if shard_labels is not None:
                labels.append(shard_labels)
            first += shard["count"]
        self.ids = np.concatenate(ids)
        self.labels = np.concatenate(labels) if self.labelled else None
        if self.labels is not None and (self.labels.min() < 0 or self.labels.max() > 2**31 - 1):
            raise CooptDataError(f"{self.directory}: a label is negative or too large")

    def _open_shard(self, shard, previous, verify):
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
        ids = np.array(safetensors.open_tensor(path, tensors["ids"], data_start))
        before = np.concatenate(([previous], ids[:-1]))
        wrong = np.nonzero((ids <= before) | (ids >= self.id_bound))[0]
        if len(wrong):
            k = int(wrong[0])
            raise CooptDataError(f"{path}: image {k} has id {int(ids[k])}, expected one above {int(before[k])} and "
                                 f"below {self.id_bound} (the shards hold the source's images in increasing id order)")
        labels = np.array(safetensors.open_tensor(path, tensors["labels"], data_start)) if self.labelled else None
        return safetensors.open_tensor(path, tensors["images"], data_start), ids, labels

    @property
    def fingerprint(self):
        return self.source["fingerprint"]

    def __len__(self):
        return self.count

    def positions(self, ids):
        """Where each of `ids` is in the pack (an int64 array: index into self.ids, self.labels); IndexError naming
        the first id the pack does not hold."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        at = np.minimum(np.searchsorted(self.ids, ids), self.count - 1)
        missing = np.nonzero(self.ids[at] != ids)[0]
        if len(missing):
            raise IndexError(f"{self.directory}: no image with id {int(ids[missing[0]])} (the pack holds "
                             f"{self.count} of the split's {self.id_bound} ids)")
        return at

    def image(self, id):
        """The image with this id (its index in the source split): uint8 [C, H, W], a copy."""
        at = int(self.positions([id])[0])
        s = bisect.bisect_right(self._starts, at) - 1
        return np.array(self._images[s][at - self._starts[s]])

    def label(self, id):
        """The label of the image with this id, or None when the pack is unlabelled."""
        return None if self.labels is None else int(self.labels[self.positions([id])[0]])

    def labels_of(self, ids):
        """The labels of the images with these ids (int64 array), or None when the pack is unlabelled."""
        return None if self.labels is None else self.labels[self.positions(ids)]

    def __repr__(self):
        return (f"PackedImages({self.directory!r}: {self.count} images of {self.channels}x{self.height}x{self.width}"
                f" from {self.source.get('spec')} {self.source.get('split')})")
