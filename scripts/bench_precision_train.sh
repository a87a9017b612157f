#!/usr/bin/env bash
# Issue 26's accuracy check of bf16 training: a ReLA student and a BYOL student trained in bf16 and in fp32 at equal
# steps (EPOCHS over LIMIT images, batch 128, one engine thread), SEEDS seeds each, then probed (the full test split,
# PROBE_LIMIT training images). ReLA learns from one fp32 optimized dataset of PRIOR on the same LIMIT images, so only
# the student's precision differs. Finished runs and probes are kept: a stopped invocation resumes where it was.
#
#   DATA=fashion-mnist ARCH=resnet-s LIMIT=10000 EPOCHS=2 scripts/bench_precision_train.sh runs/precision-train
set -euo pipefail
OUT=${1:-runs/precision-train}
DATA=${DATA:-fashion-mnist}
ARCH=${ARCH:-resnet-s}
LIMIT=${LIMIT:-10000}
EPOCHS=${EPOCHS:-2}
SEEDS=${SEEDS:-"0 1 2"}
PRIOR=${PRIOR:-zoo:convnet-s-byol-300s}
PROBE_LIMIT=${PROBE_LIMIT:-10000}
COOPT=${COOPT:-./coopt}
mkdir -p "$OUT"
log() { echo "[$(date +%H:%M:%S)] $*" | tee -a "$OUT/bench.log" >&2; }

[ -f "$OUT/targets/manifest.json" ] || { log "targets: $PRIOR on $LIMIT images of $DATA";
  $COOPT optimize --data "$DATA" --limit "$LIMIT" --prior "$PRIOR" --threads 1 --out "$OUT/targets" --json > "$OUT/targets.json"; }
for seed in $SEEDS; do
  for method in rela byol; do
    for p in fp32 bf16; do
      run="$OUT/$method-$p-s$seed"
      if [ ! -f "$run/model.json" ]; then
        rm -rf "$run"
        extra=(--method "$method")
        [ "$method" = rela ] && extra+=(--targets "$OUT/targets")
        log "$method $p seed $seed"
        $COOPT train "${extra[@]}" --data "$DATA" --limit "$LIMIT" --arch "$ARCH" --epochs "$EPOCHS" --batch 128 \
          --seed "$seed" --threads 1 --precision "$p" --out "$run" --json > "$run.json" 2> "$run.err" \
          || { log "FAILED $method $p seed $seed: $(tail -1 "$run.err")"; continue; }
      fi
      [ -f "$run.probe.json" ] || $COOPT eval linear --model "model:$run" --train "$DATA" --test "$DATA" \
        --limit "$PROBE_LIMIT" --threads 1 --json > "$run.probe.json.tmp" 2> "$run.probe.err" \
        && mv "$run.probe.json.tmp" "$run.probe.json"
    done
  done
done
log "done: $OUT"
