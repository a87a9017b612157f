# Copyright the CoOpt authors. Licensed under the Apache License, Version 2.0.
"""The numpy readers on small synthetic files: what they return, and what they refuse."""
import json
import os
import struct
import sys
import tempfile
import unittest

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import coopt  # noqa: E402
from coopt import CooptDataError  # noqa: E402
from fixtures import flip_bit, reseal, sha256, write_manifest, write_optimized, write_pack, write_safetensors  # noqa: E402


class TempDirTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.tmp = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def refused(self, fragment, fn, *args, **kwargs):
        with self.assertRaises(CooptDataError) as caught:
            fn(*args, **kwargs)
        self.assertIn(fragment, str(caught.exception))
        return str(caught.exception)


class OptimizedDatasetTest(TempDirTest):
    def make(self, **kwargs):
        rng = np.random.default_rng(1)
        self.targets = rng.standard_normal((6, 3)).astype(np.float32)
        self.ids = np.array([10, 2, 4, 6, 8, 0])
        d = os.path.join(self.tmp, "opt")
        write_optimized(d, self.targets, self.ids, **{"source_count": 20, **kwargs})
        return d

    def test_reads_targets_ids_and_manifest(self):
        data = coopt.OptimizedDataset(self.make())
        np.testing.assert_array_equal(data.targets, self.targets)
        np.testing.assert_array_equal(data.ids, self.ids)
        self.assertEqual((data.count, data.dim, data.source_total), (6, 3, 20))
        self.assertEqual(data.fingerprint, "ab" * 32)
        self.assertEqual(data.manifest["format"], "coopt-optimized-dataset/1")
        self.assertIsInstance(data.targets, np.memmap)

    def test_a_subset_counts_ids_against_the_whole_split(self):
        subset = {"limit": 6, "seed": 0, "of": 11, "stratified": True, "ids_sha256": "0f" * 32}
        data = coopt.OptimizedDataset(self.make(source_count=6, subset=subset))
        self.assertEqual((data.source_total, data.subset), (11, subset))
        d = self.make(source_count=6, subset={**subset, "of": 10})
        self.refused("outside the source's 10 samples", coopt.OptimizedDataset, d)
        for bad, fragment in [({**subset, "limit": 5}, "draws limit 5 of 11 samples"),
                              ({**subset, "of": 5}, "draws limit 6 of 5 samples"),
                              ({**subset, "ids_sha256": "0F" * 32}, "ids_sha256 is"),
                              ({**subset, "seed": "0"}, "source.subset.seed is '0'"), ([6, 11], "expected an object")]:
            self.refused(fragment, coopt.OptimizedDataset, self.make(source_count=6, subset=bad))
        # no draw: the ids are below count + the files a folder reader skipped
        d = self.make(source_count=10)
        self.refused("outside the source's 10 samples", coopt.OptimizedDataset, d)
        m = json.load(open(os.path.join(d, "manifest.json")))
        m["source"]["skipped_images"] = 1
        write_manifest(d, m)
        self.assertEqual(coopt.OptimizedDataset(d).source_total, 11)

    def test_a_flipped_byte_fails_the_checksum(self):
        d = self.make()
        flip_bit(os.path.join(d, "targets.safetensors"), -3, 1)
        self.refused("checksum mismatch", coopt.OptimizedDataset, d)

    def test_a_truncated_file_is_refused_even_with_a_matching_checksum(self):
        d = self.make()
        path = os.path.join(d, "targets.safetensors")
        data = open(path, "rb").read()
        open(path, "wb").write(data[:-8])
        self.refused("checksum mismatch", coopt.OptimizedDataset, d)
        reseal(d)
        self.refused("outside the", coopt.OptimizedDataset, d)
        open(path, "wb").write(data[:5])
        reseal(d)
        self.refused("too short", coopt.OptimizedDataset, d)

    def test_an_absurd_header_length_is_refused_before_allocating(self):
        d = self.make()
        path = os.path.join(d, "targets.safetensors")
        data = bytearray(open(path, "rb").read())
        for length in (2**63, 10**9, len(data)):
            data[:8] = struct.pack("<Q", length)
            open(path, "wb").write(data)
            reseal(d)
            self.refused("header length", coopt.OptimizedDataset, d)

    def test_hostile_header_entries(self):
        d = self.make()
        path = os.path.join(d, "targets.safetensors")
        cases = [
            ({"dtype": "F99", "shape": [6, 3], "data_offsets": [0, 72]}, "unknown dtype"),
            ({"dtype": "F32", "shape": [6, 3], "data_offsets": [0, 10**15]}, "outside"),
            ({"dtype": "F32", "shape": [2**40, 2**40], "data_offsets": [0, 72]}, "needs"),
            ({"dtype": "F32", "shape": [6, -3], "data_offsets": [0, 72]}, "non-negative"),
            ({"dtype": "F32", "shape": [6, 3], "data_offsets": [48, 120]}, "overlap"),
            ({"dtype": "I64", "shape": [9], "data_offsets": [0, 72]}, "expected F32"),
        ]
        body = open(path, "rb").read()
        for entry, fragment in cases:
            header = {"targets": entry, "ids": {"dtype": "I64", "shape": [6], "data_offsets": [72, 120]}}
            raw = json.dumps(header).encode()
            with open(path, "wb") as f:
                f.write(struct.pack("<Q", len(raw)) + raw + b"\0" * 200)
            reseal(d)
            self.refused(fragment, coopt.OptimizedDataset, d)
        open(path, "wb").write(body)

    def test_manifest_disagreements(self):
        d = self.make()
        m = json.load(open(os.path.join(d, "manifest.json")))
        for key, value, fragment in [("format", "coopt-optimized-dataset/2", "format"), ("dim", 4, "dim 4"),
                                     ("count", 7, "count 7"), ("count", "6", "expected int")]:
            write_manifest(d, {**m, key: value})
            self.refused(fragment, coopt.OptimizedDataset, d)
        self.refused("no such directory", coopt.OptimizedDataset, os.path.join(self.tmp, "nowhere"))
        self.refused("no manifest.json", coopt.OptimizedDataset, self.tmp)

    def test_bad_ids_and_values(self):
        d = os.path.join(self.tmp, "opt")
        t = np.zeros((3, 2), np.float32)
        write_optimized(d, t, [1, 1, 2], source_count=5)
        self.refused("id 1 appears more than once", coopt.OptimizedDataset, d)
        write_optimized(d, t, [0, -1, 2], source_count=5)
        self.refused("ids[1] is -1", coopt.OptimizedDataset, d)
        write_optimized(d, t, [0, 1, 5], source_count=5)
        self.refused("ids[2] is 5", coopt.OptimizedDataset, d)
        t[2, 1] = np.nan
        write_optimized(d, t, [0, 1, 2], source_count=5)
        self.refused("row 2 (id 2), column 1", coopt.OptimizedDataset, d)

    def test_reads_what_the_scripts_reader_reads(self):
        """The package and scripts/read_optimized_dataset.py agree on the same file."""
        d = self.make()
        scripts = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts")
        if not os.path.isfile(os.path.join(scripts, "read_optimized_dataset.py")):
            self.skipTest("not run from the repository")
        sys.path.insert(0, scripts)
        try:
            import read_optimized_dataset as script
        finally:
            sys.path.remove(scripts)
        summary = script.summarise(d)
        data = coopt.OptimizedDataset(d)
        self.assertEqual((summary["count"], summary["dim"], summary["ids_first"]), (data.count, data.dim, data.ids[0]))


class PackedImagesTest(TempDirTest):
    def make(self, labels=True):
        rng = np.random.default_rng(2)
        self.images = rng.integers(0, 256, (10, 3, 5, 4), dtype=np.uint8)
        self.labels = rng.integers(0, 4, 10)
        d = os.path.join(self.tmp, "pack")
        write_pack(d, self.images, self.labels if labels else None)
        return d

    def test_reads_images_by_id_across_shards(self):
        p = coopt.PackedImages(self.make())
        self.assertEqual((p.count, p.channels, p.height, p.width, p.labelled), (10, 3, 5, 4, True))
        for i in range(10):
            np.testing.assert_array_equal(p.image(i), self.images[i])
            self.assertEqual(p.label(i), self.labels[i])
        with self.assertRaises(IndexError):
            p.image(10)
        self.assertIsNone(coopt.PackedImages(self.make(labels=False)).labels)

    def test_a_pack_drawn_with_limit_keeps_the_splits_ids(self):
        rng = np.random.default_rng(4)
        images = rng.integers(0, 256, (6, 1, 2, 2), dtype=np.uint8)
        ids = [3, 4, 9, 12, 20, 21]
        subset = {"limit": 6, "seed": 0, "of": 22, "stratified": False, "ids_sha256": "00" * 32}
        d = os.path.join(self.tmp, "drawn")
        write_pack(d, images, [5, 6, 7, 8, 9, 10], shard_images=4, ids=ids, subset=subset)
        p = coopt.PackedImages(d)
        self.assertEqual((p.count, p.id_bound, p.ids.tolist()), (6, 22, ids))
        for k, id in enumerate(ids):
            np.testing.assert_array_equal(p.image(id), images[k])
            self.assertEqual(p.label(id), 5 + k)
        np.testing.assert_array_equal(p.labels_of([21, 3]), [10, 5])
        for absent in (0, 5, 22, -1):
            with self.assertRaises(IndexError) as caught:
                p.image(absent)
            self.assertIn(f"no image with id {absent} (the pack holds 6 of the split's 22 ids)", str(caught.exception))
        # the ids must increase across shards too, and stay below the split's size
        write_pack(d, images, None, shard_images=4, ids=[3, 4, 9, 12, 11, 21], subset=subset)
        self.refused("image 0 has id 11, expected one above 12 and below 22", coopt.PackedImages, d)
        write_pack(d, images, None, shard_images=4, ids=[3, 4, 9, 12, 20, 22], subset=subset)
        self.refused("image 1 has id 22, expected one above 20 and below 22", coopt.PackedImages, d)
        # a whole split: ids 0 to count - 1, or up to count + skipped_images when the reader skipped files
        write_pack(d, images, None, ids=[0, 1, 2, 3, 4, 6])
        self.refused("image 1 has id 6, expected one above 4 and below 6", coopt.PackedImages, d)
        write_pack(d, images, None, ids=[0, 1, 2, 3, 4, 6], skipped=1)
        self.assertEqual(coopt.PackedImages(d).id_bound, 7)
        bad = {**subset, "of": 5}
        write_pack(d, images, None, ids=ids, subset=bad)
        self.refused("source.subset.of is 5", coopt.PackedImages, d)

    def test_a_modified_shard_is_refused(self):
        d = self.make()
        flip_bit(os.path.join(d, "images-00002-of-00003.safetensors"), -1, 0x80)
        self.refused("images-00002-of-00003.safetensors: checksum mismatch", coopt.PackedImages, d)

    def test_structure_is_checked(self):
        d = self.make()
        m = json.load(open(os.path.join(d, "manifest.json")))
        shard = os.path.join(d, "images-00001-of-00003.safetensors")
        # ids out of order, checksum recorded: refused for the order
        write_safetensors(shard, {"ids": np.array([0, 2, 1, 3], "<i8"), "labels": self.labels[:4],
                                  "images": self.images[:4]})
        m["shards"][0]["sha256"] = sha256(shard)
        write_manifest(d, m)
        self.refused("image 2 has id 1, expected one above 2 and below 10", coopt.PackedImages, d)
        write_manifest(d, {**m, "channels": 2})
        self.refused("is not 1 or 3 channels", coopt.PackedImages, d)
        write_manifest(d, {**m, "count": 11})
        self.refused("the shards hold 10 images, count says 11", coopt.PackedImages, d)
        write_manifest(d, {**m, "labelled": False})
        self.refused("tensor 'images'", coopt.PackedImages, d)
        bad = json.loads(json.dumps(m))
        bad["shards"][1]["file"] = "../../etc/passwd"
        write_manifest(d, bad)
        self.refused("must be named images-00002-of-00003", coopt.PackedImages, d)


class ImageFolderTest(TempDirTest):
    def save(self, relative, array):
        from PIL import Image
        path = os.path.join(self.tmp, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        Image.fromarray(np.asarray(array, np.uint8)).save(path)
        return path

    def setUp(self):
        super().setUp()
        try:
            import PIL  # noqa: F401
        except ImportError:
            self.skipTest("Pillow is not installed; folder reading needs it")

    def test_listing_order_labels_and_what_is_skipped(self):
        g = np.zeros((6, 6))
        for rel in ["f/train/b/z.png", "f/train/b/sub/a.PNG", "f/train/b/a.png", "f/train/a/x.jpg",
                    "f/train/.hidden/q.png", "f/train/b/.h/q.png", "f/train/b/.q.png", "f/val/a/y.png",
                    "f/val/b/y.png"]:
            self.save(rel, g)
        open(os.path.join(self.tmp, "f/train/b/notes.txt"), "w").write("not an image")
        folder = coopt.ImageFolder(os.path.join(self.tmp, "f"), "train")
        names = [os.path.relpath(p, os.path.join(self.tmp, "f/train")) for p in folder.files]
        # "a.png" < "sub/a.PNG" < "z.png" byte by byte, as Java sorts paths
        self.assertEqual(names, ["a/x.jpg", "b/a.png", "b/sub/a.PNG", "b/z.png"])
        self.assertEqual(folder.labels.tolist(), [0, 1, 1, 1])
        self.assertEqual(folder.classes, ["a", "b"])
        self.assertEqual(len(coopt.ImageFolder(os.path.join(self.tmp, "f"), "test")), 2)

    def test_loose_files_are_unlabelled_and_mixing_is_refused(self):
        for rel in ["l/2.png", "l/1.png"]:
            self.save(rel, np.zeros((4, 4)))
        folder = coopt.ImageFolder(os.path.join(self.tmp, "l"))
        self.assertIsNone(folder.labels)
        self.assertEqual([os.path.basename(p) for p in folder.files], ["1.png", "2.png"])
        self.refused("only split is train", coopt.ImageFolder, os.path.join(self.tmp, "l"), "test")
        self.save("l/c/3.png", np.zeros((4, 4)))
        self.refused("mixes image files", coopt.ImageFolder, os.path.join(self.tmp, "l"))

    def test_size_channels_and_pixels(self):
        gray = np.arange(64).reshape(8, 8) * 3
        self.save("g/a/0.png", gray)
        self.save("g/a/1.png", gray.T)
        folder = coopt.ImageFolder(os.path.join(self.tmp, "g"))
        self.assertEqual((folder.image_size, folder.channels), (8, 1))
        np.testing.assert_array_equal(folder.image(1)[0], gray.T)
        self.save("g/b/2.png", np.full((10, 20, 3), 77))
        folder = coopt.ImageFolder(os.path.join(self.tmp, "g"))
        self.assertEqual((folder.image_size, folder.channels), (64, 3))
        flat = folder.image(2)
        self.assertEqual(flat.shape, (3, 64, 64))
        self.assertTrue((flat == 77).all())
        small = coopt.ImageFolder(os.path.join(self.tmp, "g"), image_size=4, channels=1).image(0)
        self.assertEqual(small.shape, (1, 4, 4))


if __name__ == "__main__":
    unittest.main()
