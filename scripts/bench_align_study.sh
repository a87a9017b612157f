#!/usr/bin/env bash
# The alignment study (issue 14): for prior sets that differ increasingly, ridge vs pca vs none vs the best single
# prior centrally, each followed by the same student (convnet-s, ReLA->BYOL, EPOCHS epochs) and a linear probe; plus
# every prior's own probe (for the uniformity ranking). Fashion-MNIST, the first LIMIT training images.
#   scripts/bench_align_study.sh OUT     env: SEEDS="0" SETS="a b c d e" LIMIT=20000 EPOCHS=2 PROBE_LIMIT=10000
#                                             THREADS=1 COOPT=./coopt PRIORS_DIR=runs/study/priors
# The priors of sets b and d are made first with scripts/make_study_priors.sh (not committed: ~8 minutes).
# Each step is skipped when its JSON exists, so the script resumes.
set -euo pipefail
OUT=${1:?usage: bench_align_study.sh OUT}
SEEDS=${SEEDS:-0}
SETS=${SETS:-"a b c d e"}
LIMIT=${LIMIT:-20000}
EPOCHS=${EPOCHS:-2}
PROBE_LIMIT=${PROBE_LIMIT:-10000}
THREADS=${THREADS:-1}
COOPT=${COOPT:-"$(dirname "$0")/../coopt"}
P=${PRIORS_DIR:-runs/study/priors}
declare -A SET
SET[a]="zoo:convnet-s-byol-300s,zoo:resnet-s-byol-90s,zoo:convnet-s-simclr-20s"
SET[b]="zoo:convnet-s-byol-300s,zoo:resnet-s-byol-90s,model:$P/mobilenetv2-byol-150s,model:$P/resnet18-byol-150s"
SET[c]="zoo:convnet-s-byol-300s,zoo:convnet-s-simclr-20s,random:convnet-s:7"
SET[d]="zoo:convnet-s-byol-300s,zoo:resnet-s-byol-90s,model:$P/convnet-s-digits-byol,model:$P/convnet-s-fmnist-test-simclr-60s"
SET[e]="zoo:convnet-s-byol-300s,zoo:resnet-s-byol-90s,random:efficientnet-b0:5"
mkdir -p "$OUT/priors"
run() { # NAME COMMAND...: runs once, its JSON in OUT/NAME.json
  local name=$1; shift
  [ -f "$OUT/$name.json" ] && return 0
  "$@" --json > "$OUT/$name.json.tmp" 2> "$OUT/$name.err" && mv "$OUT/$name.json.tmp" "$OUT/$name.json"
}
fm=(--data fashion-mnist --limit "$LIMIT" --threads "$THREADS")
# every prior's own probe, and its outputs on the first 3,000 images (uniformity raw vs centred)
for s in $SETS; do for prior in ${SET[$s]//,/ }; do
  n=$(echo "$prior" | sed 's|.*/||; s|:|_|g')
  run "priors/$n.probe" "$COOPT" eval linear --model "$prior" --train fashion-mnist --test fashion-mnist \
      --limit "$PROBE_LIMIT" --threads "$THREADS"
  run "priors/$n.optimize" "$COOPT" optimize --data fashion-mnist --limit 3000 --prior "$prior" --threads "$THREADS" \
      --out "$OUT/priors/$n"
done; done
student() { # NAME TARGETS SEED
  run "$1.train" "$COOPT" train --method rela --then byol --targets "$2" --arch convnet-s --epochs "$EPOCHS" \
      "${fm[@]}" --seed "$3" --out "$OUT/$1.student"
  run "$1.probe" "$COOPT" eval linear --model "model:$OUT/$1.student" --train fashion-mnist --test fashion-mnist \
      --limit "$PROBE_LIMIT" --threads "$THREADS"
}
for seed in $SEEDS; do for s in $SETS; do
  for align in ridge pca none; do
    d="set-$s-$align-s$seed"
    run "$d" "$COOPT" collab "${fm[@]}" --priors "${SET[$s]}" --align "$align" --seed "$seed" --out "$OUT/$d.data"
    student "$d" "$OUT/$d.data" "$seed"
  done
  # the best single prior by its own probe, over all the data
  best=$(python3 - "$OUT" "${SET[$s]}" <<'PY'
import json, sys
out, priors = sys.argv[1], sys.argv[2].split(",")
def top1(p):
    n = p.rsplit("/", 1)[-1].replace(":", "_")
    return json.load(open(f"{out}/priors/{n}.probe.json"))["top1"]
print(max(priors, key=top1))
PY
)
  d="set-$s-central-s$seed"
  run "$d" "$COOPT" optimize "${fm[@]}" --prior "$best" --seed "$seed" --out "$OUT/$d.data"
  student "$d" "$OUT/$d.data" "$seed"
done; done
echo "study done: $OUT"
