# Copyright the CoOpt authors. Licensed under the Apache License, Version 2.0.
"""The samples `--limit N` draws from a split, as Java's ai.coopt.data.Subset draws them (same N, seed and split:
same samples, in any language).

For a split of `of` samples: strata, one per distinct label in increasing label order (each holding its sample
indices in increasing order), or one stratum of every index when the split is unlabelled; stratum c of n_c samples
gets floor(N * n_c / of), and the N - sum left over go one each to the strata with the largest remainders
N * n_c mod of, ties to the earlier stratum; within stratum k (0-based), a SplitMix64 generator whose state starts
at seed + 0x9E3779B97F4A7C15 * (k + 1) (64-bit wrap-around) runs a partial Fisher-Yates shuffle: for i in
0..quota-1, j = i + (next() mod (n_c - i)) (unsigned), swap; the first quota are taken. The union, ascending.
"""
import collections
import hashlib

import numpy as np

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15

#: indices: the chosen sample indices, ascending (int64); subset: the record a manifest keeps of the draw
#: ({"limit", "seed", "of", "stratified", "ids_sha256"}), or None when every sample is taken.
Drawn = collections.namedtuple("Drawn", ["indices", "subset"])


def ids_sha256(ids):
    """SHA-256 (hex) of ids as int64 little-endian, in the given order: what `ids_sha256` records of a draw."""
    return hashlib.sha256(np.ascontiguousarray(ids, dtype="<i8").tobytes()).hexdigest()


def draw(of, labels, limit, seed=0):
    """The `limit` of `of` samples that `--limit limit --limit-seed seed` takes; `labels` (one per sample) or None
    for an unlabelled split. Every sample (and subset None) when limit is 0 or at least `of`."""
    of, limit, seed = int(of), int(limit), int(seed)
    if limit < 0:
        raise ValueError(f"limit {limit}")
    if labels is not None:
        labels = np.asarray(labels).reshape(-1)
        if len(labels) != of:
            raise ValueError(f"{len(labels)} labels for {of} samples")
    if limit == 0 or limit >= of:
        return Drawn(np.arange(of, dtype=np.int64), None)
    if labels is None:
        strata = [np.arange(of, dtype=np.int64)]
    else:
        order = np.argsort(labels, kind="stable")  # by label, indices ascending within each
        _, sizes = np.unique(labels[order], return_counts=True)
        strata = np.split(order.astype(np.int64), np.cumsum(sizes)[:-1])
    quota = [limit * len(a) // of for a in strata]
    remainder = [limit * len(a) % of for a in strata]
    for c in sorted(range(len(strata)), key=lambda c: (-remainder[c], c))[:limit - sum(quota)]:
        quota[c] += 1
    chosen = []
    for c, a in enumerate(strata):
        a = a.copy()
        n = len(a)
        state = (seed + _GOLDEN * (c + 1)) & _MASK
        for i in range(quota[c]):
            state = (state + _GOLDEN) & _MASK
            z = state
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
            z ^= z >> 31
            j = i + z % (n - i)
            a[i], a[j] = a[j], a[i]
        chosen.append(a[:quota[c]])
    indices = np.sort(np.concatenate(chosen))
    return Drawn(indices, {"limit": limit, "seed": seed, "of": of, "stratified": labels is not None,
                           "ids_sha256": ids_sha256(indices)})
