#!/usr/bin/env python3
"""Writes the corrupt and hostile inputs that scripts/bad_input_sweep.sh feeds to coopt.

    bad_input_fixtures.py WORK_DIR GOOD_MODEL_DIR

Standard library only. Every fixture is small; the "huge" ones are sparse files or declare sizes they do not have.
"""
import hashlib
import json
import os
import shutil
import struct
import sys
import zlib

work, good_model = sys.argv[1], sys.argv[2]


def path(*parts):
    p = os.path.join(work, *parts)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    return p


def write(rel, data):
    with open(path(rel), "wb") as f:
        f.write(data)


def sparse(rel, size):
    with open(path(rel), "wb") as f:
        f.truncate(size)


def sha256(p):
    with open(p, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# ---- IDX ----
def idx_images(n, h=28, w=28, declared=None):
    return struct.pack(">IIII", 0x00000803, declared if declared is not None else n, h, w) + bytes(n * h * w)


def idx_labels(n, declared=None, value=0):
    return struct.pack(">II", 0x00000801, declared if declared is not None else n) + bytes([value]) * n


def idx_set(name, train_images, train_labels, test_images=None, test_labels=None):
    write(f"idx/{name}/train-images-idx3-ubyte", train_images)
    write(f"idx/{name}/train-labels-idx1-ubyte", train_labels)
    write(f"idx/{name}/t10k-images-idx3-ubyte", test_images if test_images is not None else idx_images(10))
    write(f"idx/{name}/t10k-labels-idx1-ubyte", test_labels if test_labels is not None else idx_labels(10))


idx_set("truncated-header", b"\x00\x00\x08", idx_labels(10))
idx_set("bad-magic", b"\x12\x34\x56\x78" + bytes(12 + 7840), idx_labels(10))
idx_set("count-beyond-data", idx_images(10, declared=1000), idx_labels(1000))
idx_set("labels-mismatch", idx_images(10), idx_labels(7))
idx_set("empty-images", b"", idx_labels(10))
idx_set("declared-2g", idx_images(0, declared=0x7FFFFFFF), idx_labels(0, declared=0x7FFFFFFF))
idx_set("zero-size", idx_images(10, h=0, w=0), idx_labels(10))
idx_set("label-255", idx_images(10), idx_labels(10, value=255))
os.makedirs(path("idx/corrupt-gz"), exist_ok=True)
write("idx/corrupt-gz/train-images-idx3-ubyte.gz", b"\x1f\x8b\x08\x00garbage that is not deflate")
write("idx/corrupt-gz/train-labels-idx1-ubyte.gz", b"\x1f\x8b\x08\x00more garbage")
write("idx/corrupt-gz/t10k-images-idx3-ubyte", idx_images(10))
write("idx/corrupt-gz/t10k-labels-idx1-ubyte", idx_labels(10))
os.makedirs(path("idx/empty-dir"), exist_ok=True)


# ---- CIFAR-10 ----
def cifar(name, batches, test=b"\x00" + bytes(3072)):
    for i, data in enumerate(batches, 1):
        write(f"cifar/{name}/data_batch_{i}.bin", data)
    write(f"cifar/{name}/test_batch.bin", test)


record = b"\x01" + bytes(3072)
cifar("empty-batch", [b"", record, record, record, record])
cifar("ragged", [record + b"\x00" * 100, record, record, record, record])
cifar("label-out-of-range", [b"\x0b" + bytes(3072), record, record, record, record])
cifar("missing-batch", [record, record, record, record])


# ---- image folders ----
def png(width, height):
    raw = b"".join(b"\x00" + bytes(width * 3) for _ in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


good_png = png(28, 28)
write("folders/truncated-png/a.png", good_png)
write("folders/truncated-png/b.png", good_png[: len(good_png) // 2])
write("folders/text-as-png/a.png", good_png)
write("folders/text-as-png/b.png", b"this is not an image\n")
write("folders/empty-jpeg/a.png", good_png)
write("folders/empty-jpeg/b.jpg", b"")
os.makedirs(path("folders/no-images"), exist_ok=True)
write("folders/no-images/readme.txt", b"nothing here")
write("folders/mixed/loose.png", good_png)
write("folders/mixed/class-a/x.png", good_png)
write("folders/empty-class/class-a/x.png", good_png)
os.makedirs(path("folders/empty-class/class-b"), exist_ok=True)
write("folders/one-pixel/a.png", png(1, 1))
write("folders/one-pixel/b.png", png(1, 1))
write("folders/declared-huge/a.png", good_png)
# a PNG header declaring 100000 x 100000 pixels with almost no data
huge = bytearray(png(1, 1))
huge[16:24] = struct.pack(">II", 100000, 100000)
huge[29:33] = struct.pack(">I", zlib.crc32(bytes(huge[12:29])) & 0xFFFFFFFF)
write("folders/declared-huge/b.png", bytes(huge))


# ---- model directories (copies of a good one, tampered, with the checksum updated so loading must catch it) ----
def read_safetensors(p):
    with open(p, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    return header, raw[8 + n:]


def write_safetensors(p, header, data):
    blob = json.dumps(header).encode()
    blob += b" " * ((8 - len(blob) % 8) % 8)
    with open(p, "wb") as f:
        f.write(struct.pack("<Q", len(blob)) + blob + data)


def model_copy(name, tensors=None, describe=None, fix_checksum=True):
    d = path("models", name, "x")[:-2]
    shutil.copytree(good_model, d, dirs_exist_ok=True)
    weights = os.path.join(d, "weights.safetensors")
    if tensors is not None:
        header, data = read_safetensors(weights)
        header, data = tensors(header, data)
        write_safetensors(weights, header, data)
    with open(os.path.join(d, "model.json")) as f:
        desc = json.load(f)
    if describe is not None:
        describe(desc)
    if fix_checksum:
        desc["weights"]["sha256"] = sha256(weights)
    with open(os.path.join(d, "model.json"), "w") as f:
        json.dump(desc, f)
    return d


def first(header):
    return next(k for k in header if k != "__metadata__")


def nan_first(header, data):
    b = header[first(header)]["data_offsets"][0]
    return header, data[:b] + struct.pack("<f", float("nan")) + data[b + 4:]


def drop_first(header, data):
    header = dict(header)
    del header[first(header)]
    return header, data


def extra_tensor(header, data):
    header = dict(header)
    header["surprise"] = {"dtype": "F32", "shape": [1], "data_offsets": [len(data), len(data) + 4]}
    return header, data + struct.pack("<f", 1.0)


def reshape_first(header, data):
    header = json.loads(json.dumps(header))
    t = header[first(header)]
    b, e = t["data_offsets"]
    t["shape"] = [(e - b) // 4]
    return header, data


def offsets_beyond(header, data):
    header = json.loads(json.dumps(header))
    header[first(header)]["data_offsets"][1] = len(data) + 1000
    return header, data


model_copy("nan-weights", tensors=nan_first)
model_copy("missing-tensor", tensors=drop_first)
model_copy("extra-tensor", tensors=extra_tensor)
model_copy("wrong-shape", tensors=reshape_first)
model_copy("offsets-beyond-file", tensors=offsets_beyond)
model_copy("feature-dim-999", describe=lambda j: j.update(feature_dim=999))
model_copy("other-arch", describe=lambda j: j.update(arch="resnet-s"))
model_copy("unknown-arch", describe=lambda j: j.update(arch="alexnet"))
model_copy("input-100000", describe=lambda j: j["input"].update(height=100000, width=100000))
model_copy("input-1x1", describe=lambda j: j["input"].update(height=1, width=1))
model_copy("channels-2", describe=lambda j: j["input"].update(channels=2))
model_copy("std-zero", describe=lambda j: j["normalization"].update(std=[0.0]))
model_copy("weights-outside", describe=lambda j: j["weights"].update(file="../weights.safetensors"), fix_checksum=False)
model_copy("checksum-mismatch", tensors=nan_first, fix_checksum=False)
model_copy("format-2", describe=lambda j: j.update(format="coopt-model/2"))
d = model_copy("not-json")
write(os.path.join(d, "model.json")[len(work) + 1:], b"{ this is not json")
d = model_copy("huge-header")
with open(os.path.join(d, "weights.safetensors"), "r+b") as f:
    f.write(struct.pack("<Q", 1 << 60))
d = model_copy("truncated-weights")
wfile = os.path.join(d, "weights.safetensors")
with open(wfile, "r+b") as f:
    f.truncate(os.path.getsize(wfile) // 2)
with open(os.path.join(d, "model.json")) as f:
    desc = json.load(f)
desc["weights"]["sha256"] = sha256(wfile)
with open(os.path.join(d, "model.json"), "w") as f:
    json.dump(desc, f)

# ---- files that claim to be models ----
write("files/not-a-model.pt", b"this is not a TorchScript archive\n")
write("files/not-a-model.onnx", b"this is not an ONNX model\n")
write("files/empty.pt", b"")
write("files/sidecar.pt", b"PK\x03\x04 not really a zip")
write("files/sidecar.pt.json", b'{"input": {"channels": 3, "height": 100000, "width": 224}}')
write("files/plain.txt", b"a file, not a directory\n")
