# Copyright the CoOpt authors. Licensed under the Apache License, Version 2.0.
"""coopt.subset.draw against the draws Java's SubsetTest pins (theDocumentedAlgorithmGivesThesePinnedDraws)."""
import os
import sys
import unittest

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from coopt.subset import draw, ids_sha256  # noqa: E402

LABELS_37 = [i % 3 if i < 30 else 3 for i in range(37)]


class DrawTest(unittest.TestCase):
    def test_the_pinned_draws_of_javas_subset_test(self):
        plain = draw(20, None, 5, 0)
        self.assertEqual(plain.indices.tolist(), [0, 1, 14, 17, 18])
        self.assertEqual(plain.subset, {"limit": 5, "seed": 0, "of": 20, "stratified": False, "ids_sha256":
                                        "678e62d65f9fd69a1b2df7f3410ebbc1ffebf98f3fe6134ab517c013eb71cd07"})
        s42 = draw(37, LABELS_37, 11, 42)
        self.assertEqual(s42.indices.tolist(), [0, 3, 4, 5, 13, 14, 18, 25, 26, 31, 36])
        self.assertTrue(s42.subset["stratified"])
        self.assertEqual(s42.subset["ids_sha256"], "71b37bdbd67a0abc8fa3064b8815c7f0fdf20c9eabbbd217292aaf278b4fb00b")
        self.assertEqual(draw(37, np.array(LABELS_37), 11, -7).indices.tolist(), [0, 2, 7, 9, 10, 12, 14, 16, 23, 30, 34])

    def test_quotas_follow_the_classes_and_labels_need_not_be_sorted_or_small(self):
        labels = np.array([7, 100, 7, -3] * 25)  # strata -3, 7, 100 of 25, 50, 25 samples
        d = draw(100, labels, 10, 9)
        self.assertEqual(sorted(labels[d.indices].tolist()), [-3] * 3 + [7] * 5 + [100] * 2)  # 2.5, 5, 2.5: the tie to -3
        self.assertEqual(d.subset["ids_sha256"], ids_sha256(d.indices))
        self.assertTrue((np.diff(d.indices) > 0).all())

    def test_everything_is_taken_without_a_record(self):
        for limit in (0, 20, 25):
            d = draw(20, None, limit, 3)
            self.assertEqual(d.indices.tolist(), list(range(20)))
            self.assertIsNone(d.subset)
        with self.assertRaises(ValueError):
            draw(20, None, -1, 0)
        with self.assertRaises(ValueError):
            draw(20, [0] * 19, 5, 0)


if __name__ == "__main__":
    unittest.main()
