# Copyright the CoOpt authors. Licensed under the Apache License, Version 2.0.
"""safetensors with numpy alone: 8-byte little-endian header length, a JSON header, raw little-endian data.

Every size is checked before anything is allocated (header length bounded, offsets inside the file, dtype known,
shape product equal to the byte length, tensors not overlapping); tensors are numpy.memmap views, so a file larger
than memory is fine.
"""
import hashlib
import json
import os
import struct

import numpy as np

from .errors import CooptDataError

#: The largest header accepted (the format's own reference reader uses the same bound).
MAX_HEADER = 100 * 1000 * 1000

DTYPES = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"), "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"), "U32": np.dtype("<u4"), "U16": np.dtype("<u2"), "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}


class Tensor:
    """One entry of a header: its dtype name, shape and byte range within the data."""

    def __init__(self, name, dtype, shape, begin, end):
        self.name, self.dtype, self.shape, self.begin, self.end = name, dtype, shape, begin, end


def read_header(path):
    """Returns (tensors: {name: Tensor}, metadata: dict, data_start: int) after checking every entry."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            start = f.read(8)
            if len(start) < 8:
                raise CooptDataError(f"{path}: {size} bytes, too short for a safetensors file")
            (header_len,) = struct.unpack("<Q", start)
            if header_len < 2 or header_len > MAX_HEADER or header_len > size - 8:
                raise CooptDataError(f"{path}: not a safetensors file (header length {header_len} in a file of "
                                     f"{size} bytes; at most {MAX_HEADER} is accepted)")
            raw = f.read(header_len)
    except OSError as e:
        raise CooptDataError(f"{path}: cannot read: {e.strerror or e}") from None
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise CooptDataError(f"{path}: the header is not valid JSON ({e})") from None
    if not isinstance(header, dict):
        raise CooptDataError(f"{path}: the header is not a JSON object")
    data_start = 8 + header_len
    body = size - data_start
    metadata = header.get("__metadata__") or {}
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        tensors[name] = _entry(path, name, info, body)
    spans = sorted((t.begin, t.end, t.name) for t in tensors.values() if t.end > t.begin)
    for (_, end_a, a), (begin_b, _, b) in zip(spans, spans[1:]):
        if begin_b < end_a:
            raise CooptDataError(f"{path}: tensors '{a}' and '{b}' overlap")
    return tensors, metadata, data_start


def _entry(path, name, info, body):
    def bad(why):
        return CooptDataError(f"{path}: tensor '{name}': {why}")

    if not isinstance(info, dict):
        raise bad("header entry is not an object")
    dtype = info.get("dtype")
    if dtype not in DTYPES:
        raise bad(f"unknown dtype {dtype!r}")
    shape = info.get("shape")
    if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape):
        raise bad(f"shape {shape!r} is not a list of non-negative integers")
    offsets = info.get("data_offsets")
    if (not isinstance(offsets, list) or len(offsets) != 2 or not all(type(o) is int for o in offsets)):
        raise bad(f"data_offsets {offsets!r} are not two integers")
    begin, end = offsets
    if not 0 <= begin <= end <= body:
        raise bad(f"data_offsets [{begin}, {end}] are outside the {body} bytes of data")
    elements = 1
    for d in shape:
        elements *= d  # Python integers: no overflow however large the header claims
    if elements * DTYPES[dtype].itemsize != end - begin:
        raise bad(f"shape {shape} of {dtype} needs {elements * DTYPES[dtype].itemsize} bytes, data_offsets give "
                  f"{end - begin}")
    return Tensor(name, dtype, tuple(shape), begin, end)


def open_tensor(path, tensor, data_start):
    """A read-only numpy.memmap of one tensor (an ordinary empty array when it holds no bytes)."""
    dtype = DTYPES[tensor.dtype]
    if tensor.end == tensor.begin:
        return np.zeros(tensor.shape, dtype=dtype)
    return np.memmap(path, dtype=dtype, mode="r", offset=data_start + tensor.begin, shape=tensor.shape)


def load(path):
    """{name: memmap} for every tensor of a safetensors file, after the header checks of read_header."""
    tensors, _, data_start = read_header(path)
    return {name: open_tensor(path, t, data_start) for name, t in tensors.items()}


def sha256_of(path):
    """SHA-256 of a file in lower-case hex, streamed a megabyte at a time."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except OSError as e:
        raise CooptDataError(f"{path}: cannot read: {e.strerror or e}") from None
    return digest.hexdigest()


def expect(path, tensors, name, dtype, ndim, what):
    """The entry `name`, checked to be of `dtype` and rank `ndim`; `what` describes the shape in messages."""
    t = tensors.get(name)
    if t is None:
        raise CooptDataError(f"{path}: no tensor named '{name}'")
    if t.dtype != dtype or len(t.shape) != ndim:
        raise CooptDataError(f"{path}: tensor '{name}' is {t.dtype} {list(t.shape)}, expected {dtype} {what}")
    return t
