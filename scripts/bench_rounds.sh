#!/usr/bin/env bash
# Rounds benchmark (issue 14): continuous optimization from the three shipped priors on Fashion-MNIST, the student
# of each round a prior of the next (--keep best: the 3 most uniform on S), per seed; then a per-round summary.
#   scripts/bench_rounds.sh OUT            env: SEEDS="0 1 2" ROUNDS=5 LIMIT=20000 EPOCHS=2 PROBE_LIMIT=10000
#                                               KEEP=best THREADS=1 COOPT=./coopt
# Resumable: run it again after an interruption and every seed continues where it stopped.
set -euo pipefail
OUT=${1:?usage: bench_rounds.sh OUT}
SEEDS=${SEEDS:-"0 1 2"}
ROUNDS=${ROUNDS:-5}
LIMIT=${LIMIT:-20000}
EPOCHS=${EPOCHS:-2}
PROBE_LIMIT=${PROBE_LIMIT:-10000}
KEEP=${KEEP:-best}
THREADS=${THREADS:-1}
COOPT=${COOPT:-"$(dirname "$0")/../coopt"}
mkdir -p "$OUT"
for seed in $SEEDS; do
  "$COOPT" rounds --data fashion-mnist --limit "$LIMIT" \
    --priors zoo:convnet-s-byol-300s,zoo:resnet-s-byol-90s,zoo:convnet-s-simclr-20s \
    --rounds "$ROUNDS" --keep "$KEEP" --student-arch convnet-s --student-epochs "$EPOCHS" \
    --probe-limit "$PROBE_LIMIT" --threads "$THREADS" --seed "$seed" --json \
    --out "$OUT/seed-$seed" > "$OUT/seed-$seed.json.tmp" 2> "$OUT/seed-$seed.err"
  mv "$OUT/seed-$seed.json.tmp" "$OUT/seed-$seed.json"
done
python3 "$(dirname "$0")/summarize_rounds.py" "$OUT"
