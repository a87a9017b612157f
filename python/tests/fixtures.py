# Copyright the CoOpt authors. Licensed under the Apache License, Version 2.0.
"""Small synthetic files written the way the Java side writes them, for the tests."""
import hashlib
import json
import os
import struct

import numpy as np

NAMES = {np.dtype("<f4"): "F32", np.dtype("<i8"): "I64", np.dtype("u1"): "U8"}


def write_safetensors(path, tensors, header_len=None):
    header, offset, blobs = {}, 0, []
    for name, a in tensors.items():
        a = np.ascontiguousarray(a)
        b = a.tobytes()
        header[name] = {"dtype": NAMES[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw) if header_len is None else header_len))
        f.write(raw)
        for b in blobs:
            f.write(b)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def write_optimized(directory, targets, ids, source_count=None, subset=None, fingerprint="ab" * 32,
                    spec="synthetic", split="train"):
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "targets.safetensors")
    write_safetensors(path, {"targets": np.asarray(targets, "<f4"), "ids": np.asarray(ids, "<i8")})
    source = {"spec": spec, "split": split, "count": source_count if source_count is not None else len(ids),
              "fingerprint": fingerprint, "skipped_images": 0}
    if subset is not None:
        source["subset"] = subset
    manifest = {"format": "coopt-optimized-dataset/1", "count": len(ids), "dim": int(np.shape(targets)[1]),
                "targets_sha256": sha256(path), "source": source, "participants": [], "alignment": None}
    write_manifest(directory, manifest)
    return manifest


def write_manifest(directory, manifest):
    with open(os.path.join(directory, "manifest.json"), "w") as f:
        json.dump(manifest, f)


def flip_bit(path, offset, mask):
    data = bytearray(open(path, "rb").read())
    data[offset] ^= mask
    with open(path, "wb") as f:
        f.write(data)


def reseal(directory):
    """Records the current checksum of targets.safetensors, so a damaged file reaches the structural checks."""
    with open(os.path.join(directory, "manifest.json")) as f:
        manifest = json.load(f)
    manifest["targets_sha256"] = sha256(os.path.join(directory, "targets.safetensors"))
    write_manifest(directory, manifest)


def write_pack(directory, images, labels=None, shard_images=4, fingerprint="cd" * 32, spec="synthetic", ids=None,
               subset=None, skipped=0):
    """A pack of `images` with ids 0, 1, ... or `ids` (a pack made with --limit: give its `subset` record too)."""
    os.makedirs(directory, exist_ok=True)
    n = len(images)
    ids = np.arange(n) if ids is None else np.asarray(ids)
    shards = (n + shard_images - 1) // shard_images
    entries = []
    for s in range(shards):
        lo, hi = s * shard_images, min(n, (s + 1) * shard_images)
        name = f"images-{s + 1:05d}-of-{shards:05d}.safetensors"
        tensors = {"ids": np.asarray(ids[lo:hi], "<i8")}
        if labels is not None:
            tensors["labels"] = np.asarray(labels[lo:hi], "<i8")
        tensors["images"] = np.asarray(images[lo:hi], "u1")
        write_safetensors(os.path.join(directory, name), tensors)
        entries.append({"file": name, "count": hi - lo, "sha256": sha256(os.path.join(directory, name))})
    c, h, w = np.shape(images)[1:]
    manifest = {"format": "coopt-packed-images/1", "count": n, "channels": c, "height": h, "width": w,
                "labelled": labels is not None,
                "source": {"spec": spec, "split": "train", "count": n, "fingerprint": fingerprint,
                           "skipped_images": skipped},
                "shards": entries}
    if subset is not None:
        manifest["source"]["subset"] = subset
    write_manifest(directory, manifest)
    return manifest
