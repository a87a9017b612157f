#!/usr/bin/env bash
# Issue 26's "Precision" checks of bf16 inference against fp32 on this machine, one engine thread each:
#  1. `coopt bench throughput --precision bf16` per architecture: the folded network's inference in bf16 and in fp32,
#     step by step in turn in one process, and how far bf16's features are from fp32's;
#  2. `coopt optimize` end to end (decode, prior, uniformity, PCA, write) in fp32 and in bf16, alternated by farm-bench
#     (RUNS pairs), on LIMIT images of DATA with a random prior of each architecture;
#  3. the linear probe of one trained prior (PROBE_MODEL) in fp32 and in bf16 on PROBE_LIMIT images of each split.
#
#   DATA=folder:/work/data/cifar10 LIMIT=5000 PROBE_MODEL=model:runs/cifar10/priors/resnet-s-byol-cifar10 \
#     scripts/bench_precision.sh runs/precision
set -euo pipefail
OUT=${1:-runs/precision}
DATA=${DATA:-folder:/work/data/cifar10}
LIMIT=${LIMIT:-5000}
RUNS=${RUNS:-3}
ARCHS=${ARCHS:-"resnet-s resnet18 resnet50 convnet-s mobilenetv2 efficientnet-b0 vit-tiny"}
E2E_ARCHS=${E2E_ARCHS:-"resnet-s resnet18 resnet50"}
PROBE_MODEL=${PROBE_MODEL:-}
PROBE_LIMIT=${PROBE_LIMIT:-10000}
COOPT=${COOPT:-./coopt}
mkdir -p "$OUT"
log() { echo "[$(date +%H:%M:%S)] $*" | tee -a "$OUT/bench.log" >&2; }

for arch in $ARCHS; do
  [ -f "$OUT/throughput-$arch.json" ] && continue
  log "bench throughput $arch"
  $COOPT bench throughput --arch "$arch" --batch 128 --size 32 --channels 3 --steps 10 --warmup 3 --threads 1 \
    --precision bf16 --json > "$OUT/throughput-$arch.json.tmp" 2> "$OUT/throughput-$arch.err" \
    && mv "$OUT/throughput-$arch.json.tmp" "$OUT/throughput-$arch.json"
done

for arch in $E2E_ARCHS; do
  [ -f "$OUT/optimize-$arch.txt" ] && continue
  log "optimize end to end, $arch: bf16 (A) against fp32 (B), $RUNS pairs"
  args="optimize --data $DATA --limit $LIMIT --prior random:$arch --threads 1 --dim 64 --json"
  farm-bench -n "$RUNS" --warmup 1 --timeout 3000 \
    --vs "$COOPT $args --out $OUT/work-$arch-fp32 --precision fp32" \
    -- $COOPT $args --out "$OUT/work-$arch-bf16" --precision bf16 > "$OUT/optimize-$arch.txt.tmp" 2>&1 \
    && mv "$OUT/optimize-$arch.txt.tmp" "$OUT/optimize-$arch.txt"
done

if [ -n "$PROBE_MODEL" ]; then
  for p in fp32 bf16; do
    [ -f "$OUT/probe-$p.json" ] && continue
    log "linear probe of $PROBE_MODEL in $p"
    $COOPT eval linear --model "$PROBE_MODEL" --train "$DATA" --test "$DATA" --limit "$PROBE_LIMIT" --threads 1 \
      --precision "$p" --json > "$OUT/probe-$p.json.tmp" 2> "$OUT/probe-$p.err" && mv "$OUT/probe-$p.json.tmp" "$OUT/probe-$p.json"
  done
fi
log "done: $OUT"
