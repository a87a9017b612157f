#!/usr/bin/env bash
# Issue 13's "Table 3 in miniature": students of the CoOpt paper's Table 3 architectures trained with ReLA -> BYOL on
# the fused dataset `./coopt demo` builds (made here by the same `coopt collab` run) against BYOL from scratch, equal
# wall-clock budgets, Fashion-MNIST. Three seeds for the architectures in MANY (default resnet18 and mobilenetv2), one
# for the others. Per run: the final linear probe (full 60k/10k split unless FINAL_LIMIT), training images/s, steps;
# per architecture also the untrained network, probed the same way.
#
#   BUDGET=180 ARCHS="resnet18 resnet50 resnet101 mobilenetv2 efficientnet-b0 vit-tiny" MANY="resnet18 mobilenetv2" \
#     scripts/bench_table3.sh [OUT]
#
# The probe embeds 70,000 images with each student: on a 2-core CPU that is minutes per large network, so the
# default budget and probe are sized for a machine with more cores or a GPU (--device, DEVICE=gpu).
#
# RATIO=R replaces the wall-clock budget by an equal amount of data: one epoch over a fresh random share R of the
# training set for both arms (the same number of steps: a comparison at equal epochs).
# Step counts do not depend on what else the machine runs; BYOL's steps cost more than ReLA's, so BYOL gets the
# longer wall time.
# TRAIN_ARGS adds options to both arms' `coopt train` (e.g. a warm-up: "--lr-schedule cosine --warmup 0.1").
#
# Other data (issue 24's Table 3 on CIFAR-10): DATA=SPEC with TARGETS=DIR, an optimized dataset of that data made
# beforehand (e.g. scripts/bench_cifar10_table1.sh's fused-a); EPOCHS=N with RATIO for N epochs of that share;
# THREADS=T engine threads per run. Runs keep a resumable checkpoint every CHECKPOINT seconds (default 600): a run
# stopped half-way is continued with --resume on the next invocation, finished runs and probes are kept. Two
# invocations with disjoint ARCHS may share one OUT and run side by side.
#   DATA=folder:DIR TARGETS=runs/cifar10/table1/fused-a RATIO=0.5 EPOCHS=1 FINAL_LIMIT=10000 THREADS=1 \
#     ARCHS="resnet18 mobilenetv2" MANY="" scripts/bench_table3.sh runs/cifar10/table3
set -euo pipefail
OUT=${1:-runs/bench-table3}
BUDGET=${BUDGET:-180}
RATIO=${RATIO:-}
read -r -a train_args <<< "${TRAIN_ARGS:-}"
ARCHS=${ARCHS:-"resnet18 resnet50 resnet101 mobilenetv2 efficientnet-b0 vit-tiny"}
MANY=${MANY-"resnet18 mobilenetv2"}
SEEDS_MANY=${SEEDS_MANY:-"0 1 2"}
FINAL_LIMIT=${FINAL_LIMIT:-0}
DATA=${DATA:-fashion-mnist}
TARGETS=${TARGETS:-}
EPOCHS=${EPOCHS:-1}
THREADS=${THREADS:-0}
CHECKPOINT=${CHECKPOINT:-600}
BATCH=${BATCH:-128}
DEVICE=${DEVICE:-cpu}
COOPT=${COOPT:-./coopt}
mkdir -p "$OUT"
log() { echo "[$(date +%H:%M:%S)] $*" | tee -a "$OUT/bench.log" >&2; }
# probe MODEL NAME: the linear probe of MODEL into NAME.json, skipped when that exists; written under another name
# first, so that a probe stopped half-way is not taken for a finished one on rerun
probe() {
  [ -f "$2.json" ] && return 0
  $COOPT eval linear --model "$1" --train "$DATA" --test "$DATA" --limit "$FINAL_LIMIT" --device "$DEVICE" \
    --threads "$THREADS" --json > "$2.json.tmp" 2> "$2.err" && mv "$2.json.tmp" "$2.json" || log "FAILED probe of $1: $(tail -1 "$2.err")"
}

if [ -z "$TARGETS" ]; then
  [ "$DATA" = fashion-mnist ] || { echo "TARGETS=DIR: an optimized dataset of $DATA" >&2; exit 2; }
  TARGETS=$OUT/fused
  log "fused dataset: coopt collab with the demo's three shipped priors"
  [ -f "$TARGETS/manifest.json" ] || $COOPT collab --data fashion-mnist \
    --priors zoo:convnet-s-byol-300s,zoo:resnet-s-byol-90s,zoo:convnet-s-simclr-20s --out "$TARGETS" --json > "$OUT/fused.json"
fi

for arch in $ARCHS; do
  seeds=0
  for m in $MANY; do [ "$m" = "$arch" ] && seeds=$SEEDS_MANY; done
  # the untrained network (the students' initialisation at seed 0) probed the same way: what training added
  probe "random:$arch:0" "$OUT/$arch-untrained"
  for s in $seeds; do
    for method in rela-byol byol; do
      run="$OUT/$arch-$method-s$s"
      if [ ! -f "$run/model.json" ]; then
        resume=()
        if compgen -G "$run/checkpoints/step-*/model.json" > /dev/null; then resume=(--resume); else rm -rf "$run"; fi
        budget=(--budget-seconds "$BUDGET")
        [ -n "$RATIO" ] && budget=(--epochs "$EPOCHS" --data-ratio "$RATIO")
        log "$arch $method seed $s: ${budget[*]} ${resume[*]}"
        extra=(--method byol)
        [ "$method" = rela-byol ] && extra=(--method rela --then byol --targets "$TARGETS")
        $COOPT train "${extra[@]}" --data "$DATA" --arch "$arch" "${budget[@]}" "${train_args[@]}" --batch "$BATCH" \
          --seed "$s" --device "$DEVICE" --threads "$THREADS" --checkpoint-every-seconds "$CHECKPOINT" "${resume[@]}" \
          --out "$run" --json > "$run.json" 2> "$run.err" \
          || { log "FAILED $arch $method seed $s: $(tail -1 "$run.err")"; continue; }
      fi
      probe "model:$run" "$run.probe"
    done
  done
done
python3 "$(dirname "$0")/summarize_table3.py" "$OUT" > "$OUT/summary.md"
log "done: $OUT/summary.md"
