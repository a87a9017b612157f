#!/usr/bin/env python3
"""Which oneDNN kernel ran each primitive, and for how long, from ONEDNN_VERBOSE=1 output.

Reads the `exec` lines oneDNN prints with ONEDNN_VERBOSE=1 (oneDNN 2.x's and 3.x's formats both) and prints, per
primitive kind, propagation kind and problem shape, the implementation oneDNN chose and the median time of its calls.
Two runs side by side show where the same layer takes a different kernel: coopt's libtorch 2.7.1 against Debian's
PyTorch 1.13, for instance.

Usage:
  ONEDNN_VERBOSE=1 ./coopt bench throughput --arch resnet-s ... 2>/dev/null | scripts/summarize_onednn_verbose.py
  ONEDNN_VERBOSE=1 python3 scripts/bench_pytorch.py --arch resnet-s ... 2>&1 | scripts/summarize_onednn_verbose.py
Options: --primitive convolution (the default; "all" for every kind), --dtype bf16 (keep primitives whose source is
of this type; "all" for any).
"""
import argparse
import collections
import statistics
import sys


def parse(line):
    """(primitive, implementation, propagation, source type, shape, ms) of one exec line, or None."""
    fields = line.strip().split(",")
    if "exec" not in fields:
        return None
    i = fields.index("exec")
    # 2.x: onednn_verbose,exec,cpu,PRIM,IMPL,PROP,DESCS,ATTRS,ALG,SHAPE,MS
    # 3.x: onednn_verbose,v1,primitive,exec,cpu,PRIM,IMPL,PROP,DESCS,ATTRS,ALG,SHAPE,MS
    try:
        primitive, impl, prop, descs = fields[i + 2], fields[i + 3], fields[i + 4], fields[i + 5]
        ms = float(fields[-1])
    except (IndexError, ValueError):
        return None
    src = descs.split()[0] if descs else ""
    # "src_bf16::blocked:..." (2.x) or "src:bf16::blocked:..." (3.x)
    dtype = src.replace("src_", "src:").split(":")[1] if src.startswith("src") else ""
    return primitive, impl, prop, dtype, fields[-2], ms


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--primitive", default="convolution")
    ap.add_argument("--dtype", default="bf16")
    a = ap.parse_args()
    calls = collections.defaultdict(list)
    impls = {}
    for line in sys.stdin:
        p = parse(line)
        if p is None:
            continue
        primitive, impl, prop, dtype, shape, ms = p
        if a.primitive != "all" and primitive != a.primitive:
            continue
        if a.dtype != "all" and dtype != a.dtype:
            continue
        key = (primitive, prop, shape)
        calls[key].append(ms)
        impls.setdefault(key, collections.Counter())[impl] += 1
    if not calls:
        print("no matching exec lines (was ONEDNN_VERBOSE=1 set, and stderr piped?)", file=sys.stderr)
        return 1
    for key in sorted(calls):
        primitive, prop, shape = key
        impl = ", ".join(f"{k} ×{v}" for k, v in impls[key].most_common())
        print(f"{primitive:12s} {prop:17s} {shape:50s} median {statistics.median(calls[key]):7.2f} ms  "
              f"n={len(calls[key]):<3d} {impl}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
