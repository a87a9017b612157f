#!/usr/bin/env bash
# Issue 4's benchmark: students trained on optimized data (ReLA -> BYOL) against BYOL from scratch,
# on Fashion-MNIST with convnet-s, equal training budgets, several seeds; every run's checkpoints
# probed with the linear probe, curves plotted, and a summary table written.
#
#   BUDGET=240 PRIOR_BUDGET=300 SEEDS="0 1 2" scripts/bench_training.sh [OUT]
#
# COOPT may name another launcher (e.g. a frozen copy of the jar) so editing sources during a
# long run cannot trigger a rebuild.
set -euo pipefail
OUT=${1:-runs/bench-training}
BUDGET=${BUDGET:-240}
PRIOR_BUDGET=${PRIOR_BUDGET:-300}
SEEDS=${SEEDS:-"0 1 2"}
PROBE_LIMIT=${PROBE_LIMIT:-10000}
COOPT=${COOPT:-./coopt}
EVERY=$(python3 -c "print($BUDGET / 8)")
mkdir -p "$OUT"
log() { echo "[$(date +%H:%M:%S)] $*" | tee -a "$OUT/bench.log" >&2; }
train() { $COOPT train --data fashion-mnist --arch convnet-s --budget-seconds "$BUDGET" --checkpoint-every-seconds "$EVERY" --json "$@"; }

log "prior: BYOL pretraining, $PRIOR_BUDGET s, no labels"
[ -f "$OUT/prior-byol/model.json" ] || $COOPT prior pretrain --method byol --arch convnet-s --data fashion-mnist \
  --budget-seconds "$PRIOR_BUDGET" --seed 100 --out "$OUT/prior-byol" --json > "$OUT/prior-byol.json"
$COOPT eval linear --model "model:$OUT/prior-byol" --train fashion-mnist --test fashion-mnist --limit "$PROBE_LIMIT" --json > "$OUT/prior-byol-probe.json"
log "targets from the pretrained prior and from a random prior"
$COOPT optimize --data fashion-mnist --prior "model:$OUT/prior-byol" --out "$OUT/targets-pretrained" --json > "$OUT/targets-pretrained.json"
$COOPT optimize --data fashion-mnist --prior random:convnet-s:0 --out "$OUT/targets-random" --json > "$OUT/targets-random.json"

runs=()
for seed in $SEEDS; do
  log "seed $seed: BYOL from scratch"
  [ -f "$OUT/byol-s$seed/model.json" ] || train --method byol --seed "$seed" --out "$OUT/byol-s$seed" > "$OUT/byol-s$seed.json"
  log "seed $seed: ReLA->BYOL on pretrained-prior targets"
  [ -f "$OUT/rela-pretrained-s$seed/model.json" ] || train --method rela --then byol --targets "$OUT/targets-pretrained" --seed "$seed" --out "$OUT/rela-pretrained-s$seed" > "$OUT/rela-pretrained-s$seed.json"
  log "seed $seed: ReLA->BYOL on random-prior targets"
  [ -f "$OUT/rela-random-s$seed/model.json" ] || train --method rela --then byol --targets "$OUT/targets-random" --seed "$seed" --out "$OUT/rela-random-s$seed" > "$OUT/rela-random-s$seed.json"
  runs+=(--run "$OUT/byol-s$seed" --run "$OUT/rela-pretrained-s$seed" --run "$OUT/rela-random-s$seed")
done
log "probing every checkpoint (limit $PROBE_LIMIT per split)"
$COOPT eval curve "${runs[@]}" --train fashion-mnist --test fashion-mnist --limit "$PROBE_LIMIT" --plot "$OUT/curves.png" --json > "$OUT/curves.json"
python3 "$(dirname "$0")/summarize_training_bench.py" "$OUT/curves.json" > "$OUT/summary.md"
log "done: $OUT/summary.md, $OUT/curves.png"
