#!/usr/bin/env bash
# Scale benchmark of issue 10: optimize at 100k / 300k / 1M packed images, collab with K = 4 on 1M, and one epoch of
# ReLA training reading the 1M pack and its targets from disk against one epoch on in-memory Fashion-MNIST.
# Every command runs under /usr/bin/time -v; a markdown table (wall, peak RSS, images/s) goes to stdout.
#
#   java scripts/MakeBenchData.java idx WORK/big1m 1000000
#   ./coopt data pack --data idx:WORK/big1m --out WORK/pack1m --shard-images 50000
#   scripts/bench_scale.sh WORK [STEP ...]      STEP: opt-100000 opt-300000 opt-1000000 collab train-pack train-memory
#
# Outputs and logs go to WORK/runs/. Needs about 6 GB of disk for the 1M outputs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(cd "$1" && pwd)"; shift
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(opt-100000 opt-300000 opt-1000000 collab train-pack train-memory)
runs="$work/runs"
mkdir -p "$runs"
coopt="$root/coopt"
pack="packed:$work/pack1m"

timed() {  # NAME CMD...: runs CMD under time -v, JSON to runs/NAME.json, stderr to runs/NAME.err
  local name="$1"; shift
  /usr/bin/time -v "$@" --json > "$runs/$name.json" 2> "$runs/$name.err"
}

for step in "${steps[@]}"; do
  echo "bench_scale: $step ($(date -u +%H:%M:%S), load $(cut -d' ' -f1 /proc/loadavg))" >&2
  case "$step" in
    opt-*)
      n="${step#opt-}"; rm -rf "$runs/o-$n"
      timed "$step" "$coopt" optimize --data "$pack" --limit "$n" --prior random:convnet-s:1 --out "$runs/o-$n" ;;
    collab)
      rm -rf "$runs/collab"
      timed collab "$coopt" collab --data "$pack" --participants 4 \
        --priors random:convnet-s:1,random:convnet-s:2,random:convnet-s:3,random:convnet-s:4 --out "$runs/collab" ;;
    train-pack)
      [ -d "$runs/o-1000000" ] || { echo "bench_scale: train-pack needs opt-1000000 first" >&2; exit 2; }
      rm -rf "$runs/t-pack"
      timed train-pack "$coopt" train --method rela --then none --data "$pack" --targets "$runs/o-1000000" \
        --arch convnet-s --epochs 1 --out "$runs/t-pack" ;;
    train-memory)
      rm -rf "$runs/o-fm" "$runs/t-memory"
      "$coopt" optimize --data fashion-mnist --prior random:convnet-s:1 --out "$runs/o-fm" --json > /dev/null 2>&1
      timed train-memory "$coopt" train --method rela --then none --data fashion-mnist --targets "$runs/o-fm" \
        --arch convnet-s --epochs 1 --out "$runs/t-memory" ;;
    *) echo "bench_scale: unknown step $step" >&2; exit 2 ;;
  esac
done

python3 - "$runs" <<'PY'
import glob, json, os, re, sys
runs = sys.argv[1]
print("| step | images | wall s | peak RSS | images/s | notes |")
print("|---|---|---|---|---|---|")
for err in sorted(glob.glob(os.path.join(runs, "*.err"))):
    name = os.path.basename(err)[:-4]
    text = open(err).read()
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", text)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    if not wall or not rss:
        continue
    parts = [float(p) for p in wall.group(1).split(":")]
    seconds = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
    try:
        j = json.load(open(os.path.join(runs, name + ".json")))
    except (OSError, ValueError):
        j = {}
    if name.startswith("train"):
        images = j.get("steps", 0) * 128
        rate = images / j["train_seconds"] if j.get("train_seconds") else 0
        note = f"{j.get('steps')} steps in {j.get('train_seconds', 0):.1f} s of training"
    else:
        images = j.get("count", 0)
        rate = j.get("images_per_s") or (images / j["phase_seconds"]["optimization"] if "phase_seconds" in j else 0)
        note = f"dim {j.get('dim')}" + (f", PCA {j['pca_seconds']:.1f} s" if "pca_seconds" in j else "")
        if "phase_seconds" in j:
            note += ", phases " + ", ".join(f"{k} {v:.1f} s" for k, v in j["phase_seconds"].items())
    print(f"| {name} | {images:,} | {seconds:.1f} | {int(rss.group(1)) / 1048576:.2f} GiB | {rate:,.0f} | {note} |")
PY
