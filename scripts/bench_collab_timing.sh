#!/usr/bin/env bash
# Wall times for issue 5's checks 2 and 4, measured on a quiet machine (the accuracy runs of
# scripts/bench_collab.sh share the machine with whatever else runs): the collaboration at every
# shared-subset size, the centralized optimization, and two participants at once (--threads 1).
# Three repeats each.
#
#   scripts/bench_collab_timing.sh [OUT]     (then: summarize_collab_bench.py ... --timing OUT)
set -euo pipefail
OUT=${1:-runs/bench-collab-timing}
FRACTIONS=${FRACTIONS:-"0.0005 0.002 0.01 0.05"}
COOPT=${COOPT:-./coopt}
PRIORS=${PRIORS:-zoo:convnet-s-byol-300s,zoo:resnet-s-byol-90s,zoo:convnet-s-simclr-20s}
BEST=${BEST:-zoo:convnet-s-byol-300s}
mkdir -p "$OUT"
for r in 0 1 2; do
  for f in $FRACTIONS; do
    $COOPT collab --data fashion-mnist --priors "$PRIORS" --shared-fraction "$f" --out "$OUT/fused" --json \
      > "$OUT/collab-ridge-f$f-r$r.json" 2>/dev/null
  done
  $COOPT collab --data fashion-mnist --priors "$PRIORS" --shared-fraction 0.01 --threads 1 --out "$OUT/fused" --json \
    > "$OUT/collab-ridge-f0.01-threads1-r$r.json" 2>/dev/null
  $COOPT optimize --data fashion-mnist --prior "$BEST" --out "$OUT/central" --json > "$OUT/central-r$r.json" 2>/dev/null
done
echo "timings in $OUT" >&2
