#!/usr/bin/env bash
# Issue 24, part 3, Table 1 on the CIFAR-10 JPEG copy: ReLA -> BYOL on fused data against BYOL, SimCLR, DCL, MoCo v2
# and SimSiam from scratch, resnet-s student, equal wall-clock budgets, several seeds, for two sets of participants:
#   (a) public:      onnx:resnet56-cifar10, onnx:resnet20-cifar10 (../shared/priors; trained WITH CIFAR-10 labels)
#                    and the label-free prior (scripts/bench_cifar10_priors.sh: BYOL, no labels);
#   (b) label-free:  the label-free prior and a random resnet-s (no prior saw a label).
# Each fused dataset is `coopt collab` over the whole train split (default settings: ridge alignment).
# Probe: one linear layer on frozen features, fitted on a stratified 10k of train (--limit 10000, seed 0) and scored
# on the full 10k test split; every checkpoint of the ReLA runs (the curve for "time to reach"), the final model of
# the others, and the untrained resnet-s (the floor).
#   CIFAR=DIR LABEL_FREE=DIR [PRIORS=../shared/priors] [BUDGET=300] [SEEDS="0 1 2"] [PARALLEL=2] [COOPT=./coopt] \
#     scripts/bench_cifar10_table1.sh [OUT]          (default runs/cifar10/table1)
# Resumable: finished runs and probes are kept. PARALLEL runs at a time, each with 2/PARALLEL engine threads.
set -euo pipefail
OUT=${1:-runs/cifar10/table1}
CIFAR=${CIFAR:?CIFAR=DIR: the unpacked cifar10-jpeg.tar.gz}
LABEL_FREE=${LABEL_FREE:?LABEL_FREE=DIR: the label-free prior (model directory)}
PRIORS=${PRIORS:-"$(dirname "$0")/../../shared/priors"}
BUDGET=${BUDGET:-300}
SEEDS=${SEEDS:-"0 1 2"}
PARALLEL=${PARALLEL:-2}
METHODS=${METHODS:-"rela-a rela-b byol simclr dcl moco simsiam"}
PROBE_LIMIT=${PROBE_LIMIT:-10000}
COOPT=${COOPT:-"$(dirname "$0")/../coopt"}
THREADS=$(( $(nproc) / PARALLEL > 0 ? $(nproc) / PARALLEL : 1 ))
EVERY=$(( BUDGET / 5 ))
mkdir -p "$OUT"
log() { echo "[$(date +%H:%M:%S)] $*" | tee -a "$OUT/bench.log" >&2; }
DATA="folder:$CIFAR"

fuse() {  # name priors
  [ -f "$OUT/fused-$1/manifest.json" ] && return 0
  log "fused-$1: coopt collab --priors $2"
  "$COOPT" collab --data "$DATA" --priors "$2" --threads "$THREADS" --out "$OUT/fused-$1" --json \
    > "$OUT/fused-$1.json" 2> "$OUT/fused-$1.err"
  log "fused-$1 done: $(python3 -c "import json;d=json.load(open('$OUT/fused-$1.json'));print(d['count'],'targets of dim',d['dim'],'in',round(d['seconds']),'s')")"
}
fuse a "onnx:$PRIORS/resnet56-cifar10.onnx,onnx:$PRIORS/resnet20-cifar10.onnx,model:$LABEL_FREE" &
fuse b "model:$LABEL_FREE,random:resnet-s:0" &
wait

one() {  # arm seed
  local arm=$1 s=$2 run="$OUT/$1-s$2" extra=() every=$BUDGET
  [ -f "$run/model.json" ] && return 0
  rm -rf "$run"
  case "$arm" in
    rela-a) extra=(--method rela --then byol --targets "$OUT/fused-a"); every=$EVERY ;;
    rela-b) extra=(--method rela --then byol --targets "$OUT/fused-b"); every=$EVERY ;;
    *) extra=(--method "$arm") ;;
  esac
  echo "[$(date +%H:%M:%S)] start $arm seed $s" >> "$OUT/bench.log"
  "$COOPT" train "${extra[@]}" --data "$DATA" --arch resnet-s --budget-seconds "$BUDGET" \
    --checkpoint-every-seconds "$every" --seed "$s" --threads "$THREADS" --out "$run" --json > "$run.json" 2> "$run.err" \
    || echo "[$(date +%H:%M:%S)] FAILED $arm seed $s: $(tail -1 "$run.err")" >> "$OUT/bench.log"
}
export -f one
export OUT BUDGET EVERY THREADS COOPT DATA
jobs=()
for s in $SEEDS; do for m in $METHODS; do jobs+=("$m $s"); done; done
log "training ${#jobs[@]} runs, $PARALLEL at a time, $THREADS engine thread(s) each, $BUDGET s each"
printf '%s\n' "${jobs[@]}" | xargs -P "$PARALLEL" -L 1 bash -c 'one "$0" "$1"'

log "probes: every checkpoint on a stratified $PROBE_LIMIT of train, the full test split"
probe_jobs=()
for s in $SEEDS; do for m in $METHODS; do [ -f "$OUT/$m-s$s/model.json" ] && probe_jobs+=("$OUT/$m-s$s"); done; done
printf '%s\n' "${probe_jobs[@]}" | xargs -P "$PARALLEL" -I{} bash -c '[ -f "{}.curve.json" ] || '"$COOPT"' eval curve --run "{}" --train "'"$DATA"'" --test "'"$DATA"'" --limit '"$PROBE_LIMIT"' --threads '"$THREADS"' --plot "{}.curve.png" --json > "{}.curve.json" 2> "{}.curve.err"'
[ -f "$OUT/untrained.probe.json" ] || "$COOPT" eval linear --model random:resnet-s:0 --train "$DATA" --test "$DATA" \
  --limit "$PROBE_LIMIT" --threads "$(nproc)" --json > "$OUT/untrained.probe.json"
python3 "$(dirname "$0")/summarize_cifar10_table1.py" "$OUT" > "$OUT/summary.md"
log "done: $OUT/summary.md"
