#!/usr/bin/env bash
# Issue 24, part 3, the alignment study on the CIFAR-10 JPEG copy: ridge (Table 1's fused sets and ReLA runs, reused)
# against pca and none, for Table 1's two sets of participants, where the priors truly differ:
#   (a) public:     ResNet-56 and ResNet-20 (supervised, 64-d) and the label-free resnet-s (BYOL, 192-d);
#   (b) label-free: the label-free resnet-s (192-d) and a random resnet-s (192-d).
# Each fused dataset is `coopt collab` over the whole train split with --align pca or none (otherwise the defaults),
# then the same resnet-s ReLA -> BYOL student as Table 1's ReLA arms (BUDGET s, the same seeds), probed as there
# (stratified 10k of train, the full 10k test).
#   CIFAR=DIR LABEL_FREE=DIR TABLE1=runs/cifar10/table1 [PRIORS=../shared/priors] [BUDGET=300] [SEEDS="0 1 2"] \
#     [PARALLEL=1] [THREADS=N] [SETS="a b"] [ALIGNS="pca none"] [COOPT=./coopt] scripts/bench_cifar10_align.sh [OUT]
#   (default OUT runs/cifar10/align). Resumable: finished datasets, runs and probes are kept.
# PARALLEL runs at a time, each with THREADS engine threads (default: the cores / PARALLEL, at least 1).
set -euo pipefail
OUT=${1:-runs/cifar10/align}
CIFAR=${CIFAR:?CIFAR=DIR: the unpacked cifar10-jpeg.tar.gz}
LABEL_FREE=${LABEL_FREE:?LABEL_FREE=DIR: the label-free prior (model directory)}
TABLE1=${TABLE1:-runs/cifar10/table1}
PRIORS=${PRIORS:-"$(dirname "$0")/../../shared/priors"}
BUDGET=${BUDGET:-300}
SEEDS=${SEEDS:-"0 1 2"}
PARALLEL=${PARALLEL:-1}
SETS=${SETS:-"a b"}
ALIGNS=${ALIGNS:-"pca none"}
PROBE_LIMIT=${PROBE_LIMIT:-10000}
COOPT=${COOPT:-"$(dirname "$0")/../coopt"}
THREADS=${THREADS:-$(( $(nproc) / PARALLEL > 0 ? $(nproc) / PARALLEL : 1 ))}
mkdir -p "$OUT"
log() { echo "[$(date +%H:%M:%S)] $*" | tee -a "$OUT/bench.log" >&2; }
DATA="folder:$CIFAR"
declare -A SET
SET[a]="onnx:$PRIORS/resnet56-cifar10.onnx,onnx:$PRIORS/resnet20-cifar10.onnx,model:$LABEL_FREE"
SET[b]="model:$LABEL_FREE,random:resnet-s:0"
fuse() {  # set align
  local d="$OUT/fused-$1-$2"
  [ -f "$d/manifest.json" ] && return 0
  log "fused-$1-$2: coopt collab --align $2 --priors ${SET[$1]}"
  "$COOPT" collab --data "$DATA" --priors "${SET[$1]}" --align "$2" --threads "$THREADS" --out "$d" --json \
    > "$d.json" 2> "$d.err" || { log "FAILED fused-$1-$2: $(tail -1 "$d.err")"; return 0; }
}
one() {  # set align seed
  local run="$OUT/rela-$1-$2-s$3"
  if [ ! -f "$run/model.json" ]; then
    [ -f "$OUT/fused-$1-$2/manifest.json" ] || return 0
    rm -rf "$run"
    echo "[$(date +%H:%M:%S)] start rela-$1-$2 seed $3" >> "$OUT/bench.log"
    "$COOPT" train --method rela --then byol --targets "$OUT/fused-$1-$2" --data "$DATA" --arch resnet-s \
      --budget-seconds "$BUDGET" --checkpoint-every-seconds "$BUDGET" --seed "$3" --threads "$THREADS" --out "$run" \
      --json > "$run.json" 2> "$run.err" || { echo "[$(date +%H:%M:%S)] FAILED rela-$1-$2 seed $3" >> "$OUT/bench.log"; return 0; }
  fi
  [ -f "$run.probe.json" ] || "$COOPT" eval linear --model "model:$run" --train "$DATA" --test "$DATA" \
    --limit "$PROBE_LIMIT" --threads "$THREADS" --json > "$run.probe.json.tmp" 2> "$run.probe.err" \
    && mv "$run.probe.json.tmp" "$run.probe.json"
}
export -f fuse one log
export OUT BUDGET THREADS COOPT DATA PROBE_LIMIT
export SET_a="${SET[a]}" SET_b="${SET[b]}"
jobs=()
for set in $SETS; do for align in $ALIGNS; do jobs+=("$set $align"); done; done
log "fusing ${#jobs[@]} datasets, $PARALLEL at a time, $THREADS engine thread(s) each"
printf '%s\n' "${jobs[@]}" | xargs -P "$PARALLEL" -L 1 bash -c 'declare -A SET=([a]="$SET_a" [b]="$SET_b"); fuse "$0" "$1"'
runs=()
for s in $SEEDS; do for set in $SETS; do for align in $ALIGNS; do runs+=("$set $align $s"); done; done; done
log "training and probing ${#runs[@]} students, $PARALLEL at a time, $BUDGET s each"
printf '%s\n' "${runs[@]}" | xargs -P "$PARALLEL" -L 1 bash -c 'one "$0" "$1" "$2"'
python3 - "$OUT" "$TABLE1" "$SEEDS" "$SETS" "$ALIGNS" > "$OUT/summary.md" <<'PY'
import json, os, statistics, sys
out, table1, seeds, sets, aligns = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4].split(), sys.argv[5].split()
def stat(v):
    return f"{100 * statistics.mean(v):.2f} +- {100 * (statistics.stdev(v) if len(v) > 1 else 0):.2f} (n={len(v)})" if v else "-"
print("| set | " + " | ".join(["ridge"] + aligns) + " |")
print("|---" * (len(aligns) + 2) + "|")
for s in sets:
    cells = []
    ridge = [json.load(open(f))["runs"][0]["points"][-1]["top1"]
             for f in (os.path.join(table1, f"rela-{s}-s{seed}.curve.json") for seed in seeds) if os.path.exists(f)]
    cells.append(stat(ridge))
    for a in aligns:
        v = [json.load(open(f))["top1"] for f in (os.path.join(out, f"rela-{s}-{a}-s{seed}.probe.json") for seed in seeds)
             if os.path.exists(f)]
        cells.append(stat(v))
    print(f"| ({s}) | " + " | ".join(cells) + " |")
PY
log "done: $OUT/summary.md"
