# Copyright the CoOpt authors. Licensed under the Apache License, Version 2.0.
"""coopt.torch.TargetsDataset over a packed directory and over an image folder; skipped when torch is absent."""
import os
import sys
import tempfile
import unittest

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import coopt  # noqa: E402
from coopt import CooptDataError  # noqa: E402
from fixtures import write_optimized, write_pack  # noqa: E402

try:
    import torch
    from coopt.torch import TargetsDataset
except ImportError:
    torch = None

try:
    from PIL import Image
except ImportError:
    Image = None


@unittest.skipIf(torch is None, "PyTorch is not installed: the torch Dataset is not tested (apt-get install "
                                 "python3-torch, or pip install torch)")
class TargetsDatasetTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.tmp = self._tmp.name
        rng = np.random.default_rng(3)
        self.images = rng.integers(0, 256, (12, 1, 4, 4), dtype=np.uint8)
        self.labels = np.arange(12) % 3
        self.ids = np.array([11, 0, 5, 7])
        self.targets = rng.standard_normal((4, 5)).astype(np.float32)

    def tearDown(self):
        self._tmp.cleanup()

    def test_pairs_images_and_targets_by_id_over_a_pack(self):
        pack = os.path.join(self.tmp, "pack")
        write_pack(pack, self.images, self.labels, fingerprint="ee" * 32)
        opt = os.path.join(self.tmp, "opt")
        write_optimized(opt, self.targets, self.ids, source_count=12, fingerprint="ee" * 32)
        ds = TargetsDataset(coopt.OptimizedDataset(opt), coopt.PackedImages(pack))
        self.assertEqual(len(ds), 4)
        for i, id in enumerate(self.ids):
            x, t = ds[i]
            self.assertEqual(x.dtype, torch.float32)
            torch.testing.assert_close(x, torch.from_numpy(self.images[id]).float() / 255)
            torch.testing.assert_close(t, torch.from_numpy(self.targets[i]))
        np.testing.assert_array_equal(ds.labels, self.labels[self.ids])
        batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=4)))
        self.assertEqual(tuple(batch[0].shape), (4, 1, 4, 4))
        raw = TargetsDataset(opt, coopt.PackedImages(pack), transform=lambda a: a)
        np.testing.assert_array_equal(raw[0][0], self.images[11])

    def test_another_pack_is_refused_naming_both_fingerprints(self):
        pack = os.path.join(self.tmp, "pack")
        write_pack(pack, self.images, self.labels, fingerprint="ee" * 32)
        opt = os.path.join(self.tmp, "opt")
        write_optimized(opt, self.targets, self.ids, source_count=12, fingerprint="ff" * 32)
        with self.assertRaises(CooptDataError) as caught:
            TargetsDataset(coopt.OptimizedDataset(opt), coopt.PackedImages(pack))
        message = str(caught.exception)
        self.assertIn("ee" * 32, message)
        self.assertIn("ff" * 32, message)
        self.assertNotIn("\n", message)

    @unittest.skipIf(Image is None, "Pillow is not installed: folders are not tested")
    def test_pairs_images_and_targets_over_a_folder(self):
        folder = os.path.join(self.tmp, "folder")
        for k in range(12):
            path = os.path.join(folder, f"class{self.labels[k]}", f"{k:02d}.png")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            Image.fromarray(self.images[k, 0]).save(path)
        listing = coopt.ImageFolder(folder)
        order = [int(os.path.basename(p)[:2]) for p in listing.files]  # class by class
        opt = os.path.join(self.tmp, "opt")
        write_optimized(opt, self.targets, self.ids, source_count=4,
                        subset={"limit": 4, "seed": 1, "of": 12, "stratified": False})
        ds = TargetsDataset(coopt.OptimizedDataset(opt), listing, transform=lambda a: a)
        for i, id in enumerate(self.ids):
            np.testing.assert_array_equal(ds[i][0], self.images[order[id]])
        np.testing.assert_array_equal(ds.labels, self.labels[[order[i] for i in self.ids]])
        write_optimized(opt, self.targets, self.ids, source_count=13)
        with self.assertRaises(CooptDataError) as caught:
            TargetsDataset(coopt.OptimizedDataset(opt), coopt.ImageFolder(folder))
        self.assertIn("lists 12 images, but", str(caught.exception))
        self.assertIn("split of 13", str(caught.exception))


if __name__ == "__main__":
    unittest.main()
