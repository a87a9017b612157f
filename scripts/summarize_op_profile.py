#!/usr/bin/env python3
"""Where a training or inference step spends its time, from PyTorch profiler traces.

Reads Chrome traces written by `coopt bench throughput --trace PREFIX` (DJL's PyTorch profiler) or
`scripts/bench_pytorch.py --trace PREFIX` (torch.profiler), and prints, per trace, the self time of
every operator (time in the operator minus time in the operators it called) summed by group and per
step, and the time between top-level operators: what the caller (Java through JNI, or Python) spends
outside the engine, profiler overhead included.

Usage: /usr/bin/python3 scripts/summarize_op_profile.py --steps 3 TRACE.json [TRACE.json ...]
"""
import argparse
import collections
import json
import re

GROUPS = [
    ("convolution", r"convolution|conv2d|_conv|mkldnn_conv|thnn_conv|slow_conv"),
    ("batch norm", r"batch_norm"),
    ("relu / clamp", r"relu|threshold|clamp|hardtanh|minimum|maximum|clip"),
    ("pooling", r"pool"),
    ("optimizer", r"adam|addcmul|addcdiv|lerp|sqrt|_foreach|optimizer"),
    ("linear / matmul", r"addmm|linear|matmul|\bmm\b|::mm|bmm"),
    ("copy / layout", r"copy_|contiguous|clone|to_dense|reorder|_to_copy|::to$"),
    ("add / mul / sum", r"add|mul|sum|mean|div|sub|neg|norm|cosine|fill_|ones|zeros|where"),
    ("allocation / views", r"empty|resize_|view|reshape|transpose|permute|as_strided|expand|select|slice|squeeze|"
                           r"unsqueeze|flatten|t$|detach|alias|set_"),
]


def group(name):
    base = name.split("::")[-1]
    for label, pattern in GROUPS:
        if re.search(pattern, base):
            return label
    return "other"


def load(path):
    with open(path) as f:
        text = f.read().strip()
    data = json.loads(text if text.endswith("]") or text.endswith("}") else text.rstrip(",") + "]")
    events = data["traceEvents"] if isinstance(data, dict) else data
    return [e for e in events if e.get("ph") == "X" and "dur" in e and e.get("cat", "cpu_op") in ("cpu_op", "Operator",
                                                                                                  "python_function")]


def summarize(path, steps):
    events = load(path)
    by_thread = collections.defaultdict(list)
    for e in events:
        by_thread[e.get("tid")].append(e)
    self_time = collections.Counter()
    top_level = 0.0
    span_start, span_end = float("inf"), 0.0
    for evs in by_thread.values():
        evs.sort(key=lambda e: (float(e["ts"]), -float(e["dur"])))
        stack = []
        for e in evs:
            ts, dur = float(e["ts"]), float(e["dur"])
            while stack and ts >= stack[-1][0] + stack[-1][1] - 1e-3:
                stack.pop()
            if stack:
                stack[-1][2][0] -= dur
            else:
                top_level += dur
                span_start, span_end = min(span_start, ts), max(span_end, ts + dur)
            remaining = [dur]
            stack.append((ts, dur, remaining, e["name"]))
            e["_self"] = remaining
        for e in evs:
            self_time[e["name"]] += e["_self"][0]
    groups = collections.Counter()
    for name, t in self_time.items():
        groups[group(name)] += t
    span = span_end - span_start
    print(f"{path}: {span / steps / 1000:.1f} ms per step in the traced span, of which "
          f"{top_level / steps / 1000:.1f} ms inside engine operators and {(span - top_level) / steps / 1000:.1f} ms "
          f"between them")
    for label, t in groups.most_common():
        print(f"  {label:22s} {t / steps / 1000:8.1f} ms/step  {100 * t / top_level:5.1f}%")
    print("  top operators by self time:")
    for name, t in self_time.most_common(12):
        print(f"    {name:48s} {t / steps / 1000:8.1f} ms/step")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=3, help="steps in each trace")
    p.add_argument("traces", nargs="+")
    a = p.parse_args()
    for t in a.traces:
        summarize(t, a.steps)


if __name__ == "__main__":
    main()
