# Copyright the CoOpt authors. Licensed under the Apache License, Version 2.0.
"""An optimized dataset (coopt-optimized-dataset/1): representation targets for the samples of a dataset."""
import os
import re

import numpy as np

from . import safetensors
from .errors import CooptDataError
from .manifest import field, read_manifest

FORMAT = "coopt-optimized-dataset/1"
TARGETS_FILE = "targets.safetensors"


class OptimizedDataset:
    """Reads and verifies a directory written by `coopt optimize` (or `coopt collab`).

    Checked on opening: the manifest's format and fields; the SHA-256 of targets.safetensors against the
    manifest's `targets_sha256`; its header (sizes checked before anything is allocated); that it holds exactly
    `targets` float32 [count, dim] and `ids` int64 [count] with count and dim those of the manifest; that the
    ids are distinct, non-negative and below the source split's size. With check_finite (the default) every
    target is read once, a block of rows at a time, to refuse NaN or infinite values.

    Attributes: targets (float32 memmap [count, dim]; row i belongs to sample ids[i]), ids (int64 array
    [count]: each sample's index in the source split), count, dim, manifest (the dict), source (the manifest's
    source: spec, split, count, fingerprint, ...), source_total (how many samples the source split holds).
    """

    def __init__(self, directory, check_finite=True):
        self.directory = os.fspath(directory)
        manifest, mpath = read_manifest(self.directory, FORMAT, "CoOpt optimized dataset")
        self.manifest = manifest
        self.count = field(mpath, manifest, "count", int)
        self.dim = field(mpath, manifest, "dim", int)
        if self.count < 1 or self.dim < 1:
            raise CooptDataError(f"{mpath}: count {self.count} and dim {self.dim} must be positive")
        expected = field(mpath, manifest, "targets_sha256", str)
        self.source = field(mpath, manifest, "source", dict)
        field(mpath, self.source, "count", int, "source.")
        self.source_total = source_total(mpath, self.source)
        self.subset = self.source.get("subset")

        path = os.path.join(self.directory, TARGETS_FILE)
        if not os.path.isfile(path):
            raise CooptDataError(f"{path}: missing (manifest.json refers to it)")
        actual = safetensors.sha256_of(path)
        if actual != expected:
            raise CooptDataError(f"{self.directory}: checksum mismatch: {TARGETS_FILE} was modified or is corrupt "
                                 f"(sha256 {actual}, manifest.json records {expected})")
        tensors, _, data_start = safetensors.read_header(path)
        for name in tensors:
            if name not in ("targets", "ids"):
                raise CooptDataError(f"{path}: unexpected tensor '{name}' (an optimized dataset holds exactly "
                                     f"'targets' and 'ids')")
        t = safetensors.expect(path, tensors, "targets", "F32", 2, "[count, dim]")
        i = safetensors.expect(path, tensors, "ids", "I64", 1, "[count]")
        if t.shape != (self.count, self.dim):
            raise CooptDataError(f"{path}: tensor 'targets' has shape {list(t.shape)} but manifest.json records "
                                 f"count {self.count} and dim {self.dim}")
        if i.shape != (self.count,):
            raise CooptDataError(f"{path}: tensor 'ids' holds {i.shape[0]} ids but manifest.json records count "
                                 f"{self.count}")
        self.targets = safetensors.open_tensor(path, t, data_start)
        self.ids = np.array(safetensors.open_tensor(path, i, data_start))
        problem = ids_problem(self.ids, self.source_total)
        if problem:
            raise CooptDataError(f"{path}: {problem}")
        if check_finite:
            for start in range(0, self.count, 65536):
                block = np.asarray(self.targets[start:start + 65536])
                bad = np.argwhere(~np.isfinite(block))
                if len(bad):
                    row, col = int(bad[0][0]) + start, int(bad[0][1])
                    raise CooptDataError(f"{path}: targets row {row} (id {int(self.ids[row])}), column {col} is "
                                         f"{self.targets[row, col]}")
        self.targets_sha256 = actual

    @property
    def fingerprint(self):
        """The fingerprint of the exact samples the targets were computed for."""
        return self.source.get("fingerprint")

    def __len__(self):
        return self.count

    def __repr__(self):
        return (f"OptimizedDataset({self.directory!r}: {self.count} x {self.dim} targets for "
                f"{self.source.get('spec')} {self.source.get('split')})")


def source_total(mpath, source):
    """How many samples the source split holds: `source.subset.of` when the targets cover a `--limit` draw from it
    (a `subset` object {limit, seed, of, stratified, ids_sha256}), else `source.count` plus the files the reader
    skipped (`source.skipped_images`: a folder's ids are listing indices, kept across skipped files)."""
    subset = source.get("subset")
    if subset is not None:
        check_subset(mpath, subset, source["count"])
        return subset["of"]
    skipped = source.get("skipped_images", 0)
    if type(skipped) is not int or skipped < 0:
        raise CooptDataError(f"{mpath}: source.skipped_images is {skipped!r}, expected a non-negative integer")
    return source["count"] + skipped


def check_subset(mpath, subset, count):
    """A `source.subset` record as Java checks it: limit, seed and of integers with count <= limit <= of, stratified
    a boolean, ids_sha256 64 lower-case hex digits."""
    if not isinstance(subset, dict):
        raise CooptDataError(f"{mpath}: source.subset is {subset!r}, expected an object")
    for key in ("limit", "seed", "of"):
        field(mpath, subset, key, int, "source.subset.")
    field(mpath, subset, "stratified", bool, "source.subset.")
    if not count <= subset["limit"] <= subset["of"]:
        raise CooptDataError(f"{mpath}: source.subset draws limit {subset['limit']} of {subset['of']} samples; it "
                             f"must draw at least count ({count}) of at least limit samples")
    sha = subset.get("ids_sha256")
    if not isinstance(sha, str) or not re.fullmatch(r"[0-9a-f]{64}", sha):
        raise CooptDataError(f"{mpath}: source.subset.ids_sha256 is {sha!r}, expected 64 lower-case hex digits")


def ids_problem(ids, total):
    """The first thing wrong with ids (negative, not below total, repeated), or None."""
    if ids.size == 0:
        return None
    low, high = int(ids.min()), int(ids.max())
    if low < 0 or high >= total:
        k = int(np.argmax((ids < 0) | (ids >= total)))
        return f"ids[{k}] is {int(ids[k])}, outside the source's {total} samples"
    s = np.sort(ids)
    dup = np.nonzero(s[1:] == s[:-1])[0]
    if len(dup):
        return f"id {int(s[dup[0]])} appears more than once in ids"
    return None
