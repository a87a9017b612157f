#!/usr/bin/env bash
# Issue 24, part 3, rounds on the CIFAR-10 JPEG copy: continuous optimization from Table 1's label-free set (b), the
# label-free resnet-s (BYOL, no labels) and a random resnet-s. No prior saw a label: do students lift such data?
# Round 0 is Table 1's fused set (b) made again by `coopt rounds` (collab, ridge, defaults); each round's student is a
# resnet-s trained ReLA -> BYOL for BUDGET s (as Table 1's ReLA arms) and probed as there (stratified 10k of train,
# the full 10k test); --keep best keeps the 2 most uniform on S of the priors and the new student.
#   CIFAR=DIR LABEL_FREE=DIR [ROUNDS=3] [BUDGET=300] [SEEDS="0 1 2"] [PARALLEL=1] [THREADS=N] [COOPT=./coopt] \
#     scripts/bench_cifar10_rounds.sh [OUT]       (default runs/cifar10/rounds)
# Resumable: run it again and every seed continues where it stopped (coopt rounds resumes its directory).
set -euo pipefail
OUT=${1:-runs/cifar10/rounds}
CIFAR=${CIFAR:?CIFAR=DIR: the unpacked cifar10-jpeg.tar.gz}
LABEL_FREE=${LABEL_FREE:?LABEL_FREE=DIR: the label-free prior (model directory)}
ROUNDS=${ROUNDS:-3}
BUDGET=${BUDGET:-300}
SEEDS=${SEEDS:-"0 1 2"}
PARALLEL=${PARALLEL:-1}
PROBE_LIMIT=${PROBE_LIMIT:-10000}
COOPT=${COOPT:-"$(dirname "$0")/../coopt"}
THREADS=${THREADS:-$(( $(nproc) / PARALLEL > 0 ? $(nproc) / PARALLEL : 1 ))}
mkdir -p "$OUT"
echo "[$(date +%H:%M:%S)] $ROUNDS rounds for seeds $SEEDS, $PARALLEL at a time, $THREADS engine thread(s) each" >> "$OUT/bench.log"
one() {  # seed
  [ -f "$OUT/seed-$1.json" ] && return 0
  echo "[$(date +%H:%M:%S)] start seed $1" >> "$OUT/bench.log"
  "$COOPT" rounds --data "folder:$CIFAR" --priors "model:$LABEL_FREE,random:resnet-s:0" --rounds "$ROUNDS" \
    --keep best --student-arch resnet-s --student-budget-seconds "$BUDGET" --probe-limit "$PROBE_LIMIT" \
    --threads "$THREADS" --seed "$1" --json --out "$OUT/seed-$1" > "$OUT/seed-$1.json.tmp" 2> "$OUT/seed-$1.err" \
    && mv "$OUT/seed-$1.json.tmp" "$OUT/seed-$1.json" \
    || echo "[$(date +%H:%M:%S)] FAILED seed $1: $(tail -1 "$OUT/seed-$1.err")" >> "$OUT/bench.log"
}
export -f one
export OUT CIFAR LABEL_FREE ROUNDS BUDGET PROBE_LIMIT COOPT THREADS
printf '%s\n' $SEEDS | xargs -P "$PARALLEL" -L 1 bash -c 'one "$0"'
python3 - "$OUT" "$SEEDS" > "$OUT/summary.md" <<'PY'
import glob, json, os, statistics, sys
out, seeds = sys.argv[1], sys.argv[2].split()
rows = {}
for seed in seeds:
    for f in sorted(glob.glob(os.path.join(out, f"seed-{seed}", "round-*", "round.json"))):
        r = json.load(open(f))
        rows.setdefault(r["round"], []).append(r)
print("| round | priors fused (* the reference) | student top-1 (%) | seeds |")
print("|---|---|---|---|")
for k in sorted(rows):
    v = [r["probe_top1"] for r in rows[k]]
    sd = statistics.stdev(v) if len(v) > 1 else 0
    priors = "; ".join(sorted({", ".join(p["prior"].rsplit("/", 1)[-1] + ("*" if p["reference"] else "")
                                          for p in r["participants"] if p["fused"]) for r in rows[k]}))
    print(f"| {k} | {priors} | {100 * statistics.mean(v):.2f} +- {100 * sd:.2f} | {len(v)} |")
PY
echo "[$(date +%H:%M:%S)] done: $OUT/summary.md" >> "$OUT/bench.log"
