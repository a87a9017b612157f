#!/usr/bin/env bash
# Issue 13's "Table 1 in miniature": the seven SSL methods of the CoOpt paper's Table 1 (SimCLR, BYOL, DINO, MoCo v2,
# SimSiam, SwAV, DCL) from scratch, and ReLA -> BYOL on the fused dataset `./coopt demo` builds (three participants,
# the shipped priors, ridge alignment: the same `coopt collab` run), all on Fashion-MNIST with convnet-s, equal
# wall-clock training budgets, several seeds. Every method runs with its published defaults (see the config records in
# coopt-core/.../train/methods/*Config.java) and the loop's defaults (AdamW 1e-3, weight decay 0.01, batch 128).
# Outputs: final linear probe on the full 60k/10k split per run, curves (checkpoints probed on PROBE_LIMIT images per
# split), a Markdown summary with mean +- std and the time each method needs to reach BYOL's final accuracy.
#
#   BUDGET=180 SEEDS="0 1 2" PARALLEL=2 scripts/bench_table1.sh [OUT]
#
# PARALLEL runs train at once, each with 2/PARALLEL engine threads (all methods get the same), so 2 cores run two
# 1-thread trainings side by side. COOPT may name a frozen launcher so editing sources cannot trigger a rebuild.
set -euo pipefail
OUT=${1:-runs/bench-table1}
BUDGET=${BUDGET:-180}
SEEDS=${SEEDS:-"0 1 2"}
PARALLEL=${PARALLEL:-2}
PROBE_LIMIT=${PROBE_LIMIT:-10000}
FINAL_LIMIT=${FINAL_LIMIT:-0}
METHODS=${METHODS:-"simclr byol dino moco simsiam swav dcl rela"}
COOPT=${COOPT:-./coopt}
CORES=$(nproc)
THREADS=$(( CORES / PARALLEL > 0 ? CORES / PARALLEL : 1 ))
EVERY=$(python3 -c "print($BUDGET / 6)")
mkdir -p "$OUT"
log() { echo "[$(date +%H:%M:%S)] $*" | tee -a "$OUT/bench.log" >&2; }

log "fused dataset: coopt collab with the demo's three shipped priors"
[ -f "$OUT/fused/manifest.json" ] || $COOPT collab --data fashion-mnist \
  --priors zoo:convnet-s-byol-300s,zoo:resnet-s-byol-90s,zoo:convnet-s-simclr-20s --out "$OUT/fused" --json > "$OUT/fused.json"

one() {  # method seed
  local m=$1 s=$2 name
  if [ "$m" = rela ]; then name=rela-byol; else name=$m; fi
  local run="$OUT/$name-s$s"
  [ -f "$run/model.json" ] && return 0
  rm -rf "$run"
  local extra=()
  [ "$m" = rela ] && extra=(--then byol --targets "$OUT/fused")
  # a run that fails (e.g. a loss that diverges) is recorded as such and left out of the probes, not hidden
  $COOPT train --method "$m" "${extra[@]}" --data fashion-mnist --arch convnet-s --budget-seconds "$BUDGET" \
    --checkpoint-every-seconds "$EVERY" --seed "$s" --threads "$THREADS" --out "$run" --json > "$run.json" 2> "$run.err" \
    || { echo "[$(date +%H:%M:%S)] FAILED $m seed $s: $(tail -1 "$run.err")" | tee -a "$OUT/bench.log" >&2; }
}
export -f one
export OUT BUDGET EVERY THREADS COOPT

jobs=()
for s in $SEEDS; do for m in $METHODS; do jobs+=("$m $s"); done; done
log "training ${#jobs[@]} runs, $PARALLEL at a time, $THREADS engine thread(s) each, $BUDGET s each"
printf '%s\n' "${jobs[@]}" | xargs -P "$PARALLEL" -L 1 bash -c 'echo "[$(date +%H:%M:%S)] start $0 $1" >&2; one "$0" "$1"'

runs=()
for s in $SEEDS; do for m in $METHODS; do
  if [ "$m" = rela ]; then name=rela-byol; else name=$m; fi
  if [ -f "$OUT/$name-s$s/model.json" ]; then runs+=("$OUT/$name-s$s"); fi
done; done
log "final probe: every run on the full split (limit $FINAL_LIMIT)"
printf '%s\n' "${runs[@]}" | xargs -P "$PARALLEL" -I{} bash -c '[ -f "{}.probe.json" ] || '"$COOPT"' eval linear --model "model:{}" --train fashion-mnist --test fashion-mnist --limit '"$FINAL_LIMIT"' --threads '"$THREADS"' --json > "{}.probe.json"'
log "curves: every checkpoint on $PROBE_LIMIT images per split"
curve_args=()
for r in "${runs[@]}"; do curve_args+=(--run "$r"); done
$COOPT eval curve "${curve_args[@]}" --train fashion-mnist --test fashion-mnist --limit "$PROBE_LIMIT" --plot "$OUT/curves.png" --json > "$OUT/curves.json"
python3 "$(dirname "$0")/summarize_table1.py" "$OUT" > "$OUT/summary.md"
python3 "$(dirname "$0")/summarize_training_bench.py" "$OUT/curves.json" >> "$OUT/summary.md"
log "done: $OUT/summary.md, $OUT/curves.png"
