#!/usr/bin/env python3
"""Writes the UCI optical-recognition handwritten digits (bundled with scikit-learn) as an
MNIST-format (IDX) folder, to exercise `--data idx:DIR` on a second real dataset.

1,797 real 8x8 grayscale digits, values 0..16 scaled to 0..255. Split: a fixed seeded
permutation, 1,500 train and 297 test. Files: train-images-idx3-ubyte, train-labels-idx1-ubyte,
t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (uncompressed).

Usage: /usr/bin/python3 scripts/make_digits_idx.py OUT_DIR   (Debian: apt-get install python3-sklearn)
"""
import os
import struct
import sys

import numpy as np
from sklearn.datasets import load_digits


def write_images(path, images):
    n, h, w = images.shape
    with open(path, "wb") as f:
        f.write(struct.pack(">IIII", 0x00000803, n, h, w))
        f.write(images.astype(np.uint8).tobytes())


def write_labels(path, labels):
    with open(path, "wb") as f:
        f.write(struct.pack(">II", 0x00000801, len(labels)))
        f.write(labels.astype(np.uint8).tobytes())


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    digits = load_digits()
    images = np.rint(digits.images * (255.0 / 16.0))
    order = np.random.default_rng(0).permutation(len(images))
    train, test = order[:1500], order[1500:]
    write_images(os.path.join(out, "train-images-idx3-ubyte"), images[train])
    write_labels(os.path.join(out, "train-labels-idx1-ubyte"), digits.target[train])
    write_images(os.path.join(out, "t10k-images-idx3-ubyte"), images[test])
    write_labels(os.path.join(out, "t10k-labels-idx1-ubyte"), digits.target[test])
    print(out)


if __name__ == "__main__":
    main()
