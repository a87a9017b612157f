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
from coopt.subset import draw  # noqa: E402
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

    def refused(self, fragments, opt, images):
        with self.assertRaises(CooptDataError) as caught:
            TargetsDataset(opt, images)
        message = str(caught.exception)
        for fragment in fragments:
            self.assertIn(fragment, message)
        self.assertNotIn("\n", message)

    def items(self, ds):
        return [(np.asarray(x), t.numpy()) for x, t in (ds[i] for i in range(len(ds)))]

    def test_a_limit_draw_pairs_with_a_pack_of_the_same_draw_and_with_the_whole_split(self):
        drawn = draw(12, self.labels, 5, 3)
        ids = drawn.indices[::-1].copy()  # rows need not be in id order
        targets = np.arange(25, dtype=np.float32).reshape(5, 5)
        opt = os.path.join(self.tmp, "opt")
        write_optimized(opt, targets, ids, source_count=5, subset=drawn.subset, fingerprint="aa" * 32)
        same = os.path.join(self.tmp, "same")
        write_pack(same, self.images[drawn.indices], self.labels[drawn.indices], shard_images=2, ids=drawn.indices,
                   subset=drawn.subset, fingerprint="aa" * 32)
        whole = os.path.join(self.tmp, "whole")
        write_pack(whole, self.images, self.labels, fingerprint="bb" * 32)
        data = coopt.OptimizedDataset(opt)
        by_draw = TargetsDataset(data, coopt.PackedImages(same), transform=lambda a: a)
        by_split = TargetsDataset(data, coopt.PackedImages(whole), transform=lambda a: a)
        for (x, t), (y, u), id, row in zip(self.items(by_draw), self.items(by_split), ids, targets):
            np.testing.assert_array_equal(x, self.images[id])
            np.testing.assert_array_equal(y, self.images[id])
            np.testing.assert_array_equal(t, row)
            np.testing.assert_array_equal(u, row)
        np.testing.assert_array_equal(by_draw.labels, self.labels[ids])
        np.testing.assert_array_equal(by_split.labels, self.labels[ids])
        # not the split it was drawn from: another spec, or another size
        other = os.path.join(self.tmp, "other")
        write_pack(other, self.images, self.labels, fingerprint="cc" * 32, spec="elsewhere")
        self.refused(["cc" * 32, "aa" * 32, "elsewhere train, 12 samples", "--limit 5 --limit-seed 3 of 12",
                      "not the whole split"], data, coopt.PackedImages(other))
        write_pack(other, self.images[:11], self.labels[:11], fingerprint="cc" * 32)
        self.refused(["cc" * 32, "aa" * 32], data, coopt.PackedImages(other))
        # the same fingerprint, yet a target's id is not in the pack
        missing = int(np.setdiff1d(np.arange(12), drawn.indices)[0])
        write_optimized(opt, targets, np.concatenate(([missing], ids[1:])), source_count=5, subset=drawn.subset,
                        fingerprint="aa" * 32)
        self.refused([f"has a target for an image {same} does not hold", f"no image with id {missing}",
                      "holds 5 of the split's 12 ids"], coopt.OptimizedDataset(opt), coopt.PackedImages(same))

    @unittest.skipIf(Image is None, "Pillow is not installed: folders are not tested")
    def test_pairs_images_and_targets_over_a_folder(self):
        folder = os.path.join(self.tmp, "folder")
        for k in range(12):
            path = os.path.join(folder, f"class{self.labels[k]}", f"{k:02d}.png")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            Image.fromarray(self.images[k, 0]).save(path)
        listing = coopt.ImageFolder(folder)
        order = [int(os.path.basename(p)[:2]) for p in listing.files]  # class by class
        drawn = draw(12, listing.labels, 4, 1)
        self.assertEqual(sorted(listing.labels[drawn.indices].tolist()), [0, 0, 1, 2])  # 4/3 each: the tie to class 0
        ids = drawn.indices[[2, 0, 3, 1]]
        opt = os.path.join(self.tmp, "opt")
        write_optimized(opt, self.targets, ids, source_count=4, subset=drawn.subset)
        data = coopt.OptimizedDataset(opt)
        limited = coopt.ImageFolder(folder, limit=4, limit_seed=1)
        self.assertEqual((limited.count, limited.listed, limited.subset), (4, 12, drawn.subset))
        for images in (listing, limited):
            ds = TargetsDataset(data, images, transform=lambda a: a)
            for i, id in enumerate(ids):
                np.testing.assert_array_equal(ds[i][0], self.images[order[id]])
            np.testing.assert_array_equal(ds.labels, self.labels[[order[i] for i in ids]])
        self.refused([f"has a target for an image {folder} does not hold", "--limit 4 --limit-seed 2 drew 4"], data,
                     coopt.ImageFolder(folder, limit=4, limit_seed=2))
        # a folder that lists as many files but draws others (a file moved to another class) is refused
        write_optimized(opt, self.targets, ids, source_count=4, subset={**drawn.subset, "ids_sha256": "12" * 32})
        self.refused(["does not give the draw", f"ids_sha256 {drawn.subset['ids_sha256']}", "records " + "12" * 32],
                     coopt.OptimizedDataset(opt), listing)
        write_optimized(opt, self.targets, ids, source_count=13)
        self.refused(["lists 12 images, but", "split of 13"], coopt.OptimizedDataset(opt), coopt.ImageFolder(folder))


if __name__ == "__main__":
    unittest.main()
