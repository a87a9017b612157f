#!/usr/bin/env bash
# Peak resident memory of a few training steps, per method and architecture, for one or more coopt builds side by
# side (BENCHMARKS.md, Table 3 on CIFAR-10, "BYOL's memory").
#
#   DATA=packed:DIR BUILDS="before=/tmp/old/coopt after=./coopt" scripts/bench_train_memory.sh [OUT]
#
# Each run: `coopt train --method M --arch A --data $DATA --limit $((STEPS * BATCH)) --epochs 1 --batch $BATCH
# --threads 1` under /usr/bin/time -v; one line per run: build, method, architecture, peak GB, wall time, exit status.
# RUNS lists "method:arch" pairs. The builds run one after the other, never two at once.
set -euo pipefail
OUT=${1:-runs/bench-train-memory}
DATA=${DATA:?DATA=SPEC, e.g. packed:DIR}
BUILDS=${BUILDS:-"coopt=./coopt"}
RUNS=${RUNS:-"byol:convnet-s byol:resnet18 simclr:mobilenetv2 byol:mobilenetv2 byol:resnet50 byol:efficientnet-b0 byol:vit-tiny"}
BATCH=${BATCH:-128}
STEPS=${STEPS:-10}
mkdir -p "$OUT"
for run in $RUNS; do
  method=${run%%:*}
  arch=${run#*:}
  for build in $BUILDS; do
    label=${build%%=*}
    cmd=${build#*=}
    dir="$OUT/$label-$method-$arch"
    rm -rf "$dir"
    # shellcheck disable=SC2086
    /usr/bin/time -v $cmd train --method "$method" --arch "$arch" --data "$DATA" --limit $((STEPS * BATCH)) \
      --epochs 1 --batch "$BATCH" --threads 1 --out "$dir" > "$dir.log" 2>&1 || true
    echo "$label $method $arch $(awk '/Maximum resident/ {printf "%.2f GB", $NF / 1e6}' "$dir.log")" \
      "$(awk '/Elapsed/ {print $NF}' "$dir.log") exit=$(awk '/Exit status/ {print $NF}' "$dir.log")" | tee -a "$OUT/peaks.txt"
  done
done
