# Copyright the CoOpt authors. Licensed under the Apache License, Version 2.0.
"""A folder of PNG/JPEG images read the way `folder:DIR` reads it in Java (ai.coopt.data.ImageFolderReader).

The listing: the split sub-folder (`train/`, and `test/` or else `val/`, when both exist; otherwise the whole
folder is the only split, train); class sub-folders in sorted name order give the labels 0, 1, ...; below each
class, every .png/.jpg/.jpeg file at any depth in sorted path order (paths compared byte by byte, as Java does);
hidden files and folders (a name starting with '.') skipped; loose image files and no class folders: unlabelled.
An image's id is its index in that listing, also when `limit` draws a subset of it (the subset `--limit N
--limit-seed S` draws in Java: coopt.subset.draw over the listing, stratified by class folder).

Decoding (PIL): the image is subsampled on decoding as Java does (every step-th pixel, step = shorter side //
(2 * size), when at least 2), turned upright by its EXIF orientation (JPEG only), converted to RGB (grayscale keeps
its values; 16-bit grayscale scaled to 8 bits with rounding), resized so that its shorter side is `size` with the
bilinear rule of Java2D's drawImage (no antialiasing filter) and centre-cropped to size x size. Images have one
channel when every image of the split is grayscale, else three.
"""
import os

import numpy as np

from .errors import CooptDataError
from .subset import draw

EXTENSIONS = (".png", ".jpg", ".jpeg")
DEFAULT_IMAGE_SIZE = 64
MAX_SOURCE_PIXELS = 1 << 28
MAX_SIDE = 4096
_GRAY_MODES = ("L", "LA", "I", "I;16", "I;16B", "I;16L", "La")


def _pil():
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("coopt.ImageFolder needs Pillow to decode images (pip install pillow, or apt-get install "
                          "python3-pil)") from None
    return Image


def _hidden(name):
    return name.startswith(".")


def _is_image(path):
    return path.lower().endswith(EXTENSIONS) and os.path.isfile(path)


def _bytes_key(path):
    return os.fsencode(path)


def split_dir(directory, split):
    if split not in ("train", "test"):
        raise CooptDataError(f"split must be train or test, not {split!r}")
    train = os.path.join(directory, "train")
    test = os.path.join(directory, "test")
    if not os.path.isdir(test):
        test = os.path.join(directory, "val")
    if os.path.isdir(train) and os.path.isdir(test):
        return train if split == "train" else test
    if split == "test":
        raise CooptDataError(f"{directory} has no train/ and test/ (or val/) sub-folders, so its only split is train")
    return directory


def listing(directory, split="train"):
    """(files, labels, classes) of one split in Java's order; labels is None for loose files."""
    if not os.path.isdir(directory):
        raise CooptDataError(f"{directory}: not a directory")
    root = split_dir(os.fspath(directory), split)
    entries = sorted((os.path.join(root, e) for e in os.listdir(root) if not _hidden(e)), key=_bytes_key)
    classes = [e for e in entries if os.path.isdir(e)]
    loose = [e for e in entries if not os.path.isdir(e) and _is_image(e)]
    if classes and loose:
        raise CooptDataError(f"{root} mixes image files ({os.path.basename(loose[0])}) with class sub-folders "
                             f"({os.path.basename(classes[0])}); use one or the other")
    if not classes:
        if not loose:
            raise CooptDataError(f"{root} holds no PNG or JPEG images")
        return loose, None, []
    files, labels = [], []
    for c, folder in enumerate(classes):
        below = []
        # os.walk does not descend into linked folders, as Java's Files.walk does not
        for here, dirs, names in os.walk(folder):
            dirs[:] = [d for d in dirs if not _hidden(d)]
            below.extend(os.path.join(here, n) for n in names if not _hidden(n) and _is_image(os.path.join(here, n)))
        if not below:
            raise CooptDataError(f"class folder {folder} holds no PNG or JPEG images")
        below.sort(key=_bytes_key)
        files.extend(below)
        labels.extend([c] * len(below))
    return files, np.array(labels, dtype=np.int64), [os.path.basename(c) for c in classes]


class ImageFolder:
    """One split of an image folder, ids = indices in the sorted listing (see the module's description).

    image_size: the side images become; None follows Java's default (the images' own shorter side when every drawn
    file declares the same size, either way round, else 64). channels: 1 or 3; None follows Java (1 when every image
    is grayscale, judged from the files' headers). Both are resolved on first use; TargetsDataset sets them from the
    optimized dataset's manifest when they were not given. limit, limit_seed: the images `--limit N --limit-seed S`
    reads (0: all of them).

    Attributes: files, labels (the whole listing's, by id; labels None for loose files), listed (the split's size:
    ids are below it), ids (the ids this folder offers, ascending: the draw, or every id), count (len(ids)), subset
    (the draw's record, as a manifest's source.subset holds it, or None).
    """

    def __init__(self, directory, split="train", image_size=None, channels=None, limit=0, limit_seed=0):
        self.directory = os.fspath(directory)
        self.split = split
        self.files, self.labels, self.classes = listing(self.directory, split)
        self.listed = len(self.files)
        if limit < 0:
            raise ValueError(f"limit must not be negative, not {limit}")
        self.ids, self.subset = draw(self.listed, self.labels, limit, limit_seed)
        self.count = len(self.ids)
        if image_size is not None and not 1 <= image_size <= MAX_SIDE:
            raise ValueError(f"image_size must be between 1 and {MAX_SIDE}, not {image_size}")
        if channels not in (None, 1, 3):
            raise ValueError(f"channels must be 1 or 3, not {channels}")
        self._size = image_size
        self._channels = channels
        self._headers = None

    def __len__(self):
        return self.count

    def _read_headers(self):
        if self._headers is None:
            Image = _pil()
            headers = []
            for f in (self.files[i] for i in self.ids):
                try:
                    with Image.open(f) as im:
                        headers.append((im.size, im.mode))
                except Exception:  # a file that cannot be opened is named when it is decoded
                    headers.append((None, None))
            self._headers = headers
        return self._headers

    @property
    def image_size(self):
        if self._size is None:
            sizes = {(min(s), max(s)) for s, _ in self._read_headers() if s is not None}
            side = next(iter(sizes))[0] if len(sizes) == 1 else DEFAULT_IMAGE_SIZE
            self._size = side if 1 <= side <= MAX_SIDE else DEFAULT_IMAGE_SIZE
        return self._size

    @property
    def channels(self):
        if self._channels is None:
            modes = [m for _, m in self._read_headers() if m is not None]
            self._channels = 1 if modes and all(m in _GRAY_MODES for m in modes) else 3
        return self._channels

    def configure(self, image_size=None, channels=None):
        """Sets the size and channels unless they were given when the folder was opened."""
        if self._size is None and image_size is not None:
            self._size = image_size
        if self._channels is None and channels is not None:
            self._channels = channels

    def positions(self, ids):
        """Where each of `ids` is in the listing (index into files, labels): the ids themselves, as an int64 array,
        once checked; IndexError naming the first this folder does not offer (outside the listing, or not drawn)."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if self.subset is None:
            bad = np.nonzero((ids < 0) | (ids >= self.listed))[0]
        else:
            at = np.minimum(np.searchsorted(self.ids, ids), self.count - 1)
            bad = np.nonzero(self.ids[at] != ids)[0]
        if len(bad):
            drawn = "" if self.subset is None else f", of which --limit {self.subset['limit']} --limit-seed " \
                                                   f"{self.subset['seed']} drew {self.count}"
            raise IndexError(f"{self.directory}: no image with id {int(ids[bad[0]])} (the {self.split} split lists "
                             f"{self.listed}{drawn})")
        return ids

    def image(self, id):
        """The image with this id: uint8 [C, H, W]."""
        id = int(self.positions([id])[0])
        rgb = decode(self.files[id], self.image_size)
        return rgb[:1].copy() if self.channels == 1 else rgb

    def label(self, id):
        return None if self.labels is None else int(self.labels[self.positions([id])[0]])

    def labels_of(self, ids):
        """The labels of the images with these ids (int64 array), or None for loose files."""
        return None if self.labels is None else self.labels[self.positions(ids)]

    def __repr__(self):
        drawn = "" if self.subset is None else f", {self.count} drawn with limit={self.subset['limit']}, " \
                                               f"limit_seed={self.subset['seed']}"
        return f"ImageFolder({self.directory!r}, {self.split!r}: {self.listed} images{drawn})"


def decode(path, side):
    """One file as Java's ImageFolderReader decodes it: uint8 [3, side, side] (R, G, B; equal for grayscale)."""
    Image = _pil()
    try:
        with Image.open(path) as im:
            w, h = im.size
            if w <= 0 or h <= 0 or w * h > MAX_SOURCE_PIXELS:
                raise CooptDataError(f"{path}: declares {w}x{h} pixels; at most {MAX_SOURCE_PIXELS} are read")
            im.load()
            orientation = 1
            if im.format == "JPEG":
                try:
                    orientation = int(im.getexif().get(0x0112, 1))
                except Exception:
                    orientation = 1
                if not 1 <= orientation <= 8:
                    orientation = 1
            mode = im.mode
            if mode in _GRAY_MODES:
                a = np.asarray(im.convert("I") if mode not in ("L", "LA", "La") else im.getchannel(0))
                if mode in ("L", "LA", "La"):
                    g = a.astype(np.uint8)
                else:
                    g = ((a.astype(np.int64) * 255 + 32767) // 65535).clip(0, 255).astype(np.uint8)
                rgb = np.stack([g, g, g], axis=-1)
            else:
                rgb = np.asarray(im.convert("RGB"))
    except CooptDataError:
        raise
    except Exception as e:
        raise CooptDataError(f"{path}: cannot decode: {e}") from None
    step = max(1, min(w, h) // (2 * side))
    if step > 1:
        rgb = rgb[::step, ::step]
    rgb = _orient(rgb, orientation)
    return np.ascontiguousarray(resize_crop(rgb, side).transpose(2, 0, 1))


def _orient(a, o):
    """EXIF orientation o applied to an [H, W, 3] array: what the camera saw, upright."""
    if o == 2:
        return a[:, ::-1]
    if o == 3:
        return a[::-1, ::-1]
    if o == 4:
        return a[::-1]
    if o == 5:
        return a.transpose(1, 0, 2)
    if o == 6:
        return a.transpose(1, 0, 2)[:, ::-1]
    if o == 7:
        return a.transpose(1, 0, 2)[::-1, ::-1]
    if o == 8:
        return a.transpose(1, 0, 2)[::-1]
    return a


def _java_div(a, b):
    """Java's integer division (truncates towards zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _axis(src, dst, offset, side):
    """For each of the `side` output pixels on one axis: the two source indices and the 8-bit weight of the second,
    for a source of `src` pixels drawn scaled to `dst` pixels at `offset` (Java2D's bilinear transform: pixel
    centres mapped back, half a pixel subtracted, the fraction kept to 8 bits, edges clamped)."""
    x = (np.arange(side) + 0.5 - offset) * (src / dst) - 0.5
    base = np.floor(x)
    frac = np.floor((x - base) * 256).astype(np.int64)
    i0 = base.astype(np.int64)
    i1 = i0 + 1
    i0c, i1c = np.clip(i0, 0, src - 1), np.clip(i1, 0, src - 1)
    return i0c, i1c, frac


def resize_crop(rgb, side):
    """[H, W, 3] uint8 resized by the shorter side to `side` and centre-cropped, as ImageFolderReader draws it."""
    h, w = rgb.shape[:2]
    scale = side / min(w, h)
    dw = max(side, int(np.floor(w * scale + 0.5)))
    dh = max(side, int(np.floor(h * scale + 0.5)))
    if dw == w and dh == h and w == side and h == side:
        return rgb
    x0, x1, fx = _axis(w, dw, _java_div(side - dw, 2), side)
    y0, y1, fy = _axis(h, dh, _java_div(side - dh, 2), side)
    a = rgb.astype(np.int64)
    fx = fx[None, :, None]
    top = (a[y0][:, x0] << 8) + (a[y0][:, x1] - a[y0][:, x0]) * fx
    bottom = (a[y1][:, x0] << 8) + (a[y1][:, x1] - a[y1][:, x0]) * fx
    v = (top << 8) + (bottom - top) * fy[:, None, None]
    return ((v + (1 << 15)) >> 16).clip(0, 255).astype(np.uint8)
