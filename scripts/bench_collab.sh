#!/usr/bin/env bash
# Issue 5's benchmark: the four checks of the CoOpt method on Fashion-MNIST with convnet-s students
# and the three shipped priors (well / briefly / barely pre-trained, two architectures).
#   1. aligned fusion (ridge) vs --align none
#   2. collaborative (K = 3) vs centralized (the best prior alone over all data): accuracy and
#      target-generation time
#   3. shared-subset size sweep
#   4. uniformity + alignment time as a fraction of student training time
# Every student trains ReLA->BYOL for the same number of epochs (an equal compute budget that
# does not depend on what else runs on the machine), then a linear probe on the full 60k/10k.
#
#   SEEDS="0 1 2" EPOCHS=2 scripts/bench_collab.sh [OUT]
#
# COOPT may name another launcher (e.g. a frozen copy of the jar).
set -euo pipefail
OUT=${1:-runs/bench-collab}
SEEDS=${SEEDS:-"0 1 2"}
EPOCHS=${EPOCHS:-2}
FRACTIONS=${FRACTIONS:-"0.0005 0.002 0.01 0.05"}
ALIGNED_FRACTION=${ALIGNED_FRACTION:-0.01}
PROBE_LIMIT=${PROBE_LIMIT:-0}
COOPT=${COOPT:-./coopt}
PRIORS=${PRIORS:-zoo:convnet-s-byol-300s,zoo:resnet-s-byol-90s,zoo:convnet-s-simclr-20s}
BEST=${BEST:-zoo:convnet-s-byol-300s}
mkdir -p "$OUT"
log() { echo "[$(date +%H:%M:%S)] $*" | tee -a "$OUT/bench.log" >&2; }
# results are written to NAME.tmp and renamed, so a killed run never leaves a file that looks finished
probe() { $COOPT eval linear --model "$1" --train fashion-mnist --test fashion-mnist --limit "$PROBE_LIMIT" --json > "$2.tmp" && mv "$2.tmp" "$2"; }
student() { # NAME TARGETS SEED
  [ -f "$OUT/$1.probe.json" ] && return 0
  $COOPT train --data fashion-mnist --arch convnet-s --method rela --then byol --targets "$2" --epochs "$EPOCHS" \
    --seed "$3" --out "$OUT/$1" --json > "$OUT/$1.train.json"
  probe "model:$OUT/$1" "$OUT/$1.probe.json"
  rm -rf "$OUT/$1/checkpoints"
}

log "probing the priors themselves"
for p in ${PRIORS//,/ }; do
  name=${p#zoo:}
  [ -f "$OUT/prior-$name.probe.json" ] || probe "$p" "$OUT/prior-$name.probe.json"
done

for seed in $SEEDS; do
  for f in $FRACTIONS; do
    d="collab-ridge-f$f-s$seed"
    log "seed $seed: collab, ridge alignment, shared fraction $f"
    [ -f "$OUT/$d.json" ] || { $COOPT collab --data fashion-mnist --priors "$PRIORS" --shared-fraction "$f" --seed "$seed" \
      --out "$OUT/$d" --json > "$OUT/$d.json.tmp" && mv "$OUT/$d.json.tmp" "$OUT/$d.json"; }
    student "student-ridge-f$f-s$seed" "$OUT/$d" "$seed"
  done
  d="collab-none-s$seed"
  log "seed $seed: collab, no alignment"
  [ -f "$OUT/$d.json" ] || { $COOPT collab --data fashion-mnist --priors "$PRIORS" --shared-fraction "$ALIGNED_FRACTION" \
    --align none --seed "$seed" --out "$OUT/$d" --json > "$OUT/$d.json.tmp" && mv "$OUT/$d.json.tmp" "$OUT/$d.json"; }
  student "student-none-s$seed" "$OUT/$d" "$seed"
  d="central-s$seed"
  log "seed $seed: centralized, $BEST over all data"
  [ -f "$OUT/$d.json" ] || { $COOPT optimize --data fashion-mnist --prior "$BEST" --seed "$seed" --out "$OUT/$d" --json > "$OUT/$d.json.tmp" && mv "$OUT/$d.json.tmp" "$OUT/$d.json"; }
  student "student-central-s$seed" "$OUT/$d" "$seed"
done
python3 "$(dirname "$0")/summarize_collab_bench.py" "$OUT" --aligned-fraction "$ALIGNED_FRACTION" \
  --checks-json "$OUT/checks.json" > "$OUT/summary.md"
log "done: $OUT/summary.md"
