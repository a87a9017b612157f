#!/usr/bin/env bash
# Issue 24, part 3, Table 2 on the CIFAR-10 JPEG copy: collaboration against centralized optimisation. For each set of
# participants of Table 1 (scripts/bench_cifar10_table1.sh, whose fused datasets and ReLA runs this reuses), the best
# single prior of the set (by its own linear probe, BENCHMARKS "CIFAR-10") optimizes ALL the data alone
# (`coopt optimize`), and a resnet-s student trains on it with ReLA -> BYOL on the same budget and seeds as Table 1's
# ReLA arms; probed the same way (stratified 10k of train, full 10k test).
#   CIFAR=DIR LABEL_FREE=DIR TABLE1=runs/cifar10/table1 [PRIORS=../shared/priors] [BUDGET=300] [SEEDS="0 1 2"] \
#     [PARALLEL=2] [SETS="a b"] [COOPT=./coopt] scripts/bench_cifar10_table2.sh [OUT]      (default runs/cifar10/table2)
set -euo pipefail
OUT=${1:-runs/cifar10/table2}
CIFAR=${CIFAR:?CIFAR=DIR: the unpacked cifar10-jpeg.tar.gz}
LABEL_FREE=${LABEL_FREE:?LABEL_FREE=DIR: the label-free prior (model directory)}
TABLE1=${TABLE1:-runs/cifar10/table1}
PRIORS=${PRIORS:-"$(dirname "$0")/../../shared/priors"}
BUDGET=${BUDGET:-300}
SEEDS=${SEEDS:-"0 1 2"}
PARALLEL=${PARALLEL:-2}
SETS=${SETS:-"a b"}
PROBE_LIMIT=${PROBE_LIMIT:-10000}
COOPT=${COOPT:-"$(dirname "$0")/../coopt"}
THREADS=$(( $(nproc) / PARALLEL > 0 ? $(nproc) / PARALLEL : 1 ))
mkdir -p "$OUT"
log() { echo "[$(date +%H:%M:%S)] $*" | tee -a "$OUT/bench.log" >&2; }
DATA="folder:$CIFAR"
central() {  # name prior
  [ -f "$OUT/central-$1/manifest.json" ] && return 0
  log "central-$1: coopt optimize --prior $2 (all the data, one prior)"
  "$COOPT" optimize --data "$DATA" --prior "$2" --threads "$THREADS" --out "$OUT/central-$1" --json > "$OUT/central-$1.json" \
    2> "$OUT/central-$1.err"
}
for set in $SETS; do
  case $set in
    a) central a "onnx:$PRIORS/resnet56-cifar10.onnx" & ;;
    b) central b "model:$LABEL_FREE" & ;;
  esac
done
wait
one() {  # set seed
  local run="$OUT/central-$1-rela-s$2"
  [ -f "$run/model.json" ] && return 0
  rm -rf "$run"
  echo "[$(date +%H:%M:%S)] start central-$1 seed $2" >> "$OUT/bench.log"
  "$COOPT" train --method rela --then byol --targets "$OUT/central-$1" --data "$DATA" --arch resnet-s \
    --budget-seconds "$BUDGET" --checkpoint-every-seconds "$BUDGET" --seed "$2" --threads "$THREADS" --out "$run" \
    --json > "$run.json" 2> "$run.err" || echo "[$(date +%H:%M:%S)] FAILED central-$1 seed $2" >> "$OUT/bench.log"
}
export -f one
export OUT BUDGET THREADS COOPT DATA
jobs=()
for s in $SEEDS; do for set in $SETS; do jobs+=("$set $s"); done; done
log "training ${#jobs[@]} runs, $PARALLEL at a time, $BUDGET s each"
printf '%s\n' "${jobs[@]}" | xargs -P "$PARALLEL" -L 1 bash -c 'one "$0" "$1"'
runs=()
for s in $SEEDS; do for set in $SETS; do [ -f "$OUT/central-$set-rela-s$s/model.json" ] && runs+=("$OUT/central-$set-rela-s$s"); done; done
printf '%s\n' "${runs[@]}" | xargs -P "$PARALLEL" -I{} bash -c '[ -f "{}.probe.json" ] || '"$COOPT"' eval linear --model "model:{}" --train "'"$DATA"'" --test "'"$DATA"'" --limit '"$PROBE_LIMIT"' --threads '"$THREADS"' --json > "{}.probe.json" 2> "{}.probe.err"'
python3 - "$OUT" "$TABLE1" "$SEEDS" > "$OUT/summary.md" <<'PY'
import json, os, statistics, sys
out, table1, seeds = sys.argv[1], sys.argv[2], sys.argv[3].split()
def stat(v):
    return f"{100 * statistics.mean(v):.2f} +- {100 * (statistics.stdev(v) if len(v) > 1 else 0):.2f}"
print("| set | collaboration: ReLA->BYOL on the fused data (%) | centralized: the best prior alone on all the data (%) | paired difference (points) |")
print("|---|---|---|---|")
for s, name in (("a", "(a) public"), ("b", "(b) label-free")):
    collab, central = [], []
    for seed in seeds:
        c = os.path.join(table1, f"rela-{s}-s{seed}.curve.json")
        p = os.path.join(out, f"central-{s}-rela-s{seed}.probe.json")
        if os.path.exists(c) and os.path.exists(p):
            collab.append(json.load(open(c))["runs"][0]["points"][-1]["top1"])
            central.append(json.load(open(p))["top1"])
    if collab:
        diff = [a - b for a, b in zip(collab, central)]
        print(f"| {name} | {stat(collab)} | {stat(central)} | {stat(diff)} |")
PY
log "done: $OUT/summary.md"
