#!/usr/bin/env bash
# Issue 12's benchmark: does one adversarial participant spoil `coopt collab`? On the first 6,000
# Fashion-MNIST training images, per seed, four collaborations:
#   honest    the three shipped priors
#   noise     + a participant whose TorchScript prior returns fresh Gaussian noise
#   constant  + a participant whose prior returns the same vector for every image
#   copy      + a participant that brings a shipped prior again (its outputs copy participant 0's)
# and, when RUN names it, noisy_view: + a participant whose prior is a fixed random conv feature
# under noise ten times its size (mostly noise, but the others can predict a little of it).
# The adversarial priors come from scripts/make_adversarial_priors.py. Each fused dataset trains a
# convnet-s student ReLA->BYOL for the same number of epochs (a budget that does not depend on the
# machine's load), probed linearly on the full 60k/10k. scripts/summarize_adversarial_bench.py
# reads the results; the adversarial rows should lie within the honest row's seed spread.
#
#   SEEDS="0 1 2" EPOCHS=6 [RUN="honest noise constant copy noisy_view"] scripts/bench_adversarial.sh [OUT]
#
# COOPT may name another launcher (e.g. a frozen copy of the jar).
set -euo pipefail
OUT=${1:-runs/bench-adversarial}
SEEDS=${SEEDS:-"0 1 2"}
EPOCHS=${EPOCHS:-6}
RUN=${RUN:-"honest noise constant copy"}
LIMIT=${LIMIT:-6000}
PROBE_LIMIT=${PROBE_LIMIT:-0}
COOPT=${COOPT:-./coopt}
HONEST=${HONEST:-zoo:convnet-s-byol-300s,zoo:resnet-s-byol-90s,zoo:convnet-s-simclr-20s}
ADVERSARIAL=${ADVERSARIAL:-coopt-core/src/test/resources/priors/adversarial}
declare -A CONFIGS=(
  [honest]="$HONEST"
  [noise]="$HONEST,torchscript:$ADVERSARIAL/noise.pt"
  [constant]="$HONEST,torchscript:$ADVERSARIAL/constant.pt"
  [copy]="$HONEST,${HONEST%%,*}"
  [noisy_view]="$HONEST,torchscript:$ADVERSARIAL/noisy_view.pt"
)
mkdir -p "$OUT"
log() { echo "[$(date +%H:%M:%S)] $*" | tee -a "$OUT/bench.log" >&2; }
# results are written to NAME.tmp and renamed, so a killed run never leaves a file that looks finished
for seed in $SEEDS; do
  for config in $RUN; do
    d="collab-$config-s$seed"
    if [ ! -f "$OUT/$d.json" ]; then
      log "seed $seed: collab $config"
      $COOPT collab --data fashion-mnist --limit "$LIMIT" --priors "${CONFIGS[$config]}" --seed "$seed" \
        --out "$OUT/$d" --json > "$OUT/$d.json.tmp" 2> "$OUT/$d.err"
      mv "$OUT/$d.json.tmp" "$OUT/$d.json"
    fi
    s="student-$config-s$seed"
    if [ ! -f "$OUT/$s.probe.json" ]; then
      log "seed $seed: student on $config, $EPOCHS epochs"
      $COOPT train --data fashion-mnist --limit "$LIMIT" --arch convnet-s --method rela --then byol \
        --targets "$OUT/$d" --epochs "$EPOCHS" --seed "$seed" --out "$OUT/$s" --json > "$OUT/$s.train.json" 2> "$OUT/$s.err"
      log "seed $seed: probe $config"
      $COOPT eval linear --model "model:$OUT/$s" --train fashion-mnist --test fashion-mnist --limit "$PROBE_LIMIT" \
        --json > "$OUT/$s.probe.json.tmp" 2>> "$OUT/$s.err"
      mv "$OUT/$s.probe.json.tmp" "$OUT/$s.probe.json"
      rm -rf "$OUT/$s/checkpoints"
    fi
  done
done
python3 "$(dirname "$0")/summarize_adversarial_bench.py" "$OUT" > "$OUT/summary.md"
log "done: $OUT/summary.md"
