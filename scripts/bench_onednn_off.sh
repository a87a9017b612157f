#!/usr/bin/env bash
# What the safe path costs: every architecture's training and inference throughput with PyTorch's oneDNN backend on
# (the default where the CPU reports its caches) and off (COOPT_ONEDNN=off: what a VM that hides its cache sizes
# gets, engine.OneDnn), alternating on/off so that whatever else runs on the machine hits both sides alike.
# Usage: scripts/bench_onednn_off.sh OUT_DIR   (ARCHS, ROUNDS, BATCH, STEPS, THREADS override the defaults below;
# resumable: a finished measurement is not redone). Prints a table and writes OUT_DIR/summary.json.
set -euo pipefail
out="${1:?usage: $0 OUT_DIR}"
root="$(cd "$(dirname "$0")/.." && pwd)"
coopt="${COOPT:-$root/coopt}"
archs="${ARCHS:-convnet-s resnet-s resnet18 resnet50 resnet101 mobilenetv2 efficientnet-b0 vit-tiny}"
rounds="${ROUNDS:-2}"
batch="${BATCH:-32}"
steps="${STEPS:-5}"
threads="${THREADS:-1}"
mkdir -p "$out"
for arch in $archs; do
  for round in $(seq "$rounds"); do
    for mode in on off; do
      f="$out/$arch-$mode-$round.json"
      [ -s "$f" ] && continue
      echo "bench_onednn_off: $arch oneDNN $mode, round $round" >&2
      COOPT_ONEDNN=$mode "$coopt" bench throughput --arch "$arch" --channels 3 --size 32 --batch "$batch" \
        --warmup 2 --steps "$steps" --threads "$threads" --json >"$f.tmp"
      mv "$f.tmp" "$f"
    done
  done
done
python3 - "$out" <<'PY'
import glob, json, os, statistics, sys
out = sys.argv[1]
rows = {}
for f in sorted(glob.glob(os.path.join(out, "*-o*-*.json"))):
    arch, mode, _ = os.path.basename(f)[:-5].rsplit("-", 2)
    r = json.load(open(f))
    rows.setdefault(arch, {}).setdefault(mode, []).append((r["train_img_per_s"], r["infer_img_per_s"]))
summary = []
print("| arch | train on | train off | off/on | infer on | infer off | off/on |")
print("|---|---|---|---|---|---|---|")
for arch, m in rows.items():
    if "on" not in m or "off" not in m:
        continue
    med = lambda mode, i: statistics.median(x[i] for x in m[mode])
    t_on, t_off, i_on, i_off = med("on", 0), med("off", 0), med("on", 1), med("off", 1)
    summary.append(dict(arch=arch, train_on=t_on, train_off=t_off, infer_on=i_on, infer_off=i_off,
                        rounds=min(len(m["on"]), len(m["off"]))))
    print(f"| {arch} | {t_on:.1f} | {t_off:.1f} | {t_off / t_on:.2f} | {i_on:.1f} | {i_off:.1f} | {i_off / i_on:.2f} |")
json.dump(summary, open(os.path.join(out, "summary.json"), "w"), indent=1)
PY
