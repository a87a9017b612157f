#!/usr/bin/env python3
"""Reads a CoOpt optimized dataset with the Python standard library and numpy only, to show that the
format needs no code from this project (and no safetensors package).

Parses targets.safetensors by hand (8-byte little-endian header length, JSON header, raw little-endian
data) and maps its tensors with numpy.memmap, so a file larger than memory is read a block of rows at a
time; checks its SHA-256 against manifest.json (streamed), and prints one JSON line:
  {"count", "dim", "ids_dtype", "targets_dtype", "finite", "mean_abs_max", "std_min", "std_max",
   "ids_first", "ids_last", "sha256_ok"}
mean_abs_max is the largest |mean| of a target column; std_min/std_max bound the columns' (population)
standard deviations. Exits 0 when the dataset is sound; otherwise prints a message on stderr and exits 1
(after the JSON line when the file could be read but its checksum or values are wrong).

Usage: python3 scripts/read_optimized_dataset.py DIR
"""
import hashlib
import json
import os
import struct
import sys

import numpy as np

DTYPES = {"F32": np.dtype("<f4"), "I64": np.dtype("<i8"), "I32": np.dtype("<i4")}


class DatasetError(Exception):
    pass


def read_safetensors(path):
    """Returns {name: array} for the tensors of a safetensors file, memory-mapped (nothing is read yet)."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        start = f.read(8)
        if len(start) < 8:
            raise DatasetError(f"{path}: too short for a safetensors file ({size} bytes)")
        (header_len,) = struct.unpack("<Q", start)
        if header_len > size - 8 or header_len > 100 << 20:
            raise DatasetError(f"{path}: header length {header_len} is impossible for a file of {size} bytes")
        try:
            header = json.loads(f.read(header_len).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise DatasetError(f"{path}: header is not valid JSON ({e})")
    body = size - 8 - header_len
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype = DTYPES[info["dtype"]]
            begin, end = info["data_offsets"]
            shape = tuple(int(d) for d in info["shape"])
        except (KeyError, TypeError, ValueError):
            raise DatasetError(f"{path}: tensor '{name}' has a malformed or unsupported header entry: {info!r}")
        if not 0 <= begin <= end <= body or end - begin != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
            raise DatasetError(f"{path}: tensor '{name}' data_offsets [{begin}, {end}] do not fit the data")
        if end == begin:
            tensors[name] = np.zeros(shape, dtype=dtype)
        else:
            tensors[name] = np.memmap(path, dtype=dtype, mode="r", offset=8 + header_len + begin, shape=shape)
    return tensors


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def column_stats(targets, rows_per_block=65536):
    """Column means and population standard deviations in float64, and whether every value is finite,
    over blocks of rows (two passes), so memory stays at one block whatever the file's size."""
    n, d = targets.shape
    total = np.zeros(d)
    finite = True
    for start in range(0, n, rows_per_block):
        block = np.asarray(targets[start:start + rows_per_block], dtype=np.float64)
        finite = finite and bool(np.isfinite(block).all())
        total += block.sum(axis=0)
    mean = total / n
    squares = np.zeros(d)
    for start in range(0, n, rows_per_block):
        block = np.asarray(targets[start:start + rows_per_block], dtype=np.float64) - mean
        squares += (block * block).sum(axis=0)
    return mean, np.sqrt(squares / n), finite


def summarise(directory):
    manifest_path = os.path.join(directory, "manifest.json")
    targets_path = os.path.join(directory, "targets.safetensors")
    try:
        with open(manifest_path, "rb") as f:
            manifest = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise DatasetError(f"{manifest_path}: cannot read: {e}")
    try:
        tensors = read_safetensors(targets_path)
    except OSError as e:
        raise DatasetError(f"{targets_path}: cannot read: {e}")
    for name in ("targets", "ids"):
        if name not in tensors:
            raise DatasetError(f"{targets_path}: no tensor named '{name}'")
    targets, ids = tensors["targets"], tensors["ids"]
    if targets.ndim != 2 or ids.ndim != 1 or ids.shape[0] != targets.shape[0] or targets.size == 0:
        raise DatasetError(f"{targets_path}: shapes {targets.shape} and {ids.shape} are not [N, D] and [N], N, D > 0")
    mean, std, finite = column_stats(targets)
    return {
        "count": int(targets.shape[0]),
        "dim": int(targets.shape[1]),
        "ids_dtype": str(ids.dtype),
        "targets_dtype": str(targets.dtype),
        "finite": finite,
        "mean_abs_max": float(np.abs(mean).max()),
        "std_min": float(std.min()),
        "std_max": float(std.max()),
        "ids_first": int(ids[0]),
        "ids_last": int(ids[-1]),
        "sha256_ok": sha256_of(targets_path) == manifest.get("targets_sha256"),
    }


def main(argv):
    if len(argv) != 2:
        print("usage: read_optimized_dataset.py DIR", file=sys.stderr)
        return 1
    try:
        summary = summarise(argv[1])
    except DatasetError as e:
        print(e, file=sys.stderr)
        return 1
    print(json.dumps(summary))
    if not summary["sha256_ok"]:
        print(f"{argv[1]}: targets.safetensors does not match the sha256 in manifest.json", file=sys.stderr)
        return 1
    if not summary["finite"]:
        print(f"{argv[1]}: targets hold NaN or infinite values", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
