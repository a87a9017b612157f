#!/usr/bin/env python3
"""Reads a CoOpt packed-image directory (coopt-packed-images/1, written by `coopt data pack`) with the Python
standard library and numpy only, to show that the format needs no code from this project.

Reads manifest.json, then each shard by hand (8-byte little-endian header length, JSON header, raw data), checks
its SHA-256 against the manifest and its tensors against the manifest's shape, and prints one JSON line:
  {"count", "shape", "shards", "labelled", "sha256_ok", "ids_in_order", "pixel_sum", "label_sum"}
Exits 0 when the directory is sound; otherwise prints a message on stderr and exits 1.

Usage: python3 scripts/read_packed_images.py DIR
"""
import hashlib
import json
import os
import struct
import sys

import numpy as np

DTYPES = {"U8": np.dtype("u1"), "I64": np.dtype("<i8")}


def read_shard(path):
    with open(path, "rb") as f:
        data = f.read()
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + header_len].decode("utf-8"))
    body = memoryview(data)[8 + header_len:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        tensors[name] = np.frombuffer(body[begin:end], dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
    return tensors, hashlib.sha256(data).hexdigest()


def main(directory):
    with open(os.path.join(directory, "manifest.json")) as f:
        manifest = json.load(f)
    if manifest.get("format") != "coopt-packed-images/1":
        raise ValueError(f"{directory}: not a coopt-packed-images/1 directory")
    shape = [manifest["channels"], manifest["height"], manifest["width"]]
    sha_ok = True
    next_id = 0
    in_order = True
    pixel_sum = 0
    label_sum = 0
    for shard in manifest["shards"]:
        tensors, sha = read_shard(os.path.join(directory, shard["file"]))
        sha_ok &= sha == shard["sha256"]
        images = tensors["images"]
        if list(images.shape) != [shard["count"]] + shape:
            raise ValueError(f"{shard['file']}: images {list(images.shape)}, manifest says {[shard['count']] + shape}")
        ids = tensors["ids"]
        in_order &= bool(np.array_equal(ids, np.arange(next_id, next_id + shard["count"])))
        next_id += shard["count"]
        pixel_sum += int(images.sum(dtype=np.int64))
        if manifest["labelled"]:
            label_sum += int(tensors["labels"].sum())
    print(json.dumps({"count": next_id, "shape": shape, "shards": len(manifest["shards"]),
                      "labelled": manifest["labelled"], "sha256_ok": sha_ok, "ids_in_order": in_order,
                      "pixel_sum": pixel_sum, "label_sum": label_sum}))
    return 0 if sha_ok and in_order and next_id == manifest["count"] else 1


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: read_packed_images.py DIR", file=sys.stderr)
        sys.exit(2)
    try:
        sys.exit(main(sys.argv[1]))
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"read_packed_images: {e}", file=sys.stderr)
        sys.exit(1)
