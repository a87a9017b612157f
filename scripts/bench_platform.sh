#!/usr/bin/env bash
# Issue 11's benchmark: a networked round (a platform and three participant processes on loopback, the data's 6
# shards leased as they come) against the in-process `coopt collab` with the same priors and seed, on the full
# Fashion-MNIST train split. Each fused dataset trains a convnet-s student with ReLA->BYOL for the same number of
# epochs, then a linear probe on the full 60k/10k; the accuracies are compared per seed.
#
#   SEEDS="0 1" EPOCHS=2 scripts/bench_platform.sh [OUT]
#
# COOPT may name another launcher (e.g. a frozen copy of the jar). Results: OUT/summary.md.
set -euo pipefail
OUT=${1:-runs/bench-platform}
SEEDS=${SEEDS:-"0 1"}
EPOCHS=${EPOCHS:-2}
SHARDS=${SHARDS:-6}
COOPT=${COOPT:-./coopt}
PRIORS=${PRIORS:-zoo:convnet-s-byol-300s,zoo:resnet-s-byol-90s,zoo:convnet-s-simclr-20s}
PORT=${PORT:-8479}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
log() { echo "[$(date +%H:%M:%S)] $*" | tee -a "$OUT/bench.log" >&2; }
serve_pid=
cleanup() { [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null || true; }
trap cleanup EXIT

student() { # NAME TARGETS SEED
  [ -f "$OUT/$1.probe.json" ] && return 0
  $COOPT train --data fashion-mnist --arch convnet-s --method rela --then byol --targets "$2" --epochs "$EPOCHS" \
    --seed "$3" --out "$OUT/$1" --json > "$OUT/$1.train.json"
  $COOPT eval linear --model "model:$OUT/$1" --train fashion-mnist --test fashion-mnist --json > "$OUT/$1.probe.json.tmp"
  mv "$OUT/$1.probe.json.tmp" "$OUT/$1.probe.json"
  rm -rf "$OUT/$1/checkpoints"
}

networked() { # SEED -> OUT/net-sSEED/fused
  local dir="$OUT/net-s$1" url="http://127.0.0.1:$PORT"
  [ -f "$dir/round.json" ] && return 0
  rm -rf "$dir" && mkdir -p "$dir"
  local t0; t0=$(date +%s)
  $COOPT platform serve --dir "$dir/platform" --data fashion-mnist --shards "$SHARDS" --seed "$1" --port "$PORT" \
    --json > "$dir/serve.out" 2> "$dir/serve.err" &
  serve_pid=$!
  for _ in $(seq 1 600); do grep -q '"url"' "$dir/serve.out" 2>/dev/null && break; sleep 0.5; done
  grep -q '"url"' "$dir/serve.out" || { log "the platform did not start"; cat "$dir/serve.err" >&2; exit 1; }
  local i=0 pids=()
  for prior in ${PRIORS//,/ }; do
    i=$((i + 1))
    token=$($COOPT platform invite --dir "$dir/platform" --name "p$i" 2>/dev/null)
    $COOPT participant enroll --platform "$url" --invite "$token" --key "$dir/p$i.key" > /dev/null
  done
  i=0
  for prior in ${PRIORS//,/ }; do
    i=$((i + 1))
    $COOPT participant run --platform "$url" --key "$dir/p$i.key" --prior "$prior" --threads 1 --json \
      > "$dir/p$i.json" 2> "$dir/p$i.err" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  for _ in $(seq 1 1200); do
    state=$(curl -s "$url/v1/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["fusion"]["state"])')
    [ "$state" = done ] && break
    [ "$state" = failed ] && { log "fusion failed"; exit 1; }
    sleep 0.5
  done
  $COOPT platform download --platform "$url" --out "$dir/fused" --json > "$dir/download.json"
  curl -s "$url/v1/status" > "$dir/status.json"
  kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true; serve_pid=
  echo "{\"seconds\": $(( $(date +%s) - t0 ))}" > "$dir/round.json"
}

for seed in $SEEDS; do
  log "seed $seed: networked round ($SHARDS shards, three participant processes)"
  networked "$seed"
  student "student-net-s$seed" "$OUT/net-s$seed/fused" "$seed"
  log "seed $seed: in-process collab"
  [ -f "$OUT/collab-s$seed.json" ] || { /usr/bin/time -f '%e' -o "$OUT/collab-s$seed.time" $COOPT collab \
    --data fashion-mnist --priors "$PRIORS" --seed "$seed" --out "$OUT/collab-s$seed" --json > "$OUT/collab-s$seed.json.tmp" \
    && mv "$OUT/collab-s$seed.json.tmp" "$OUT/collab-s$seed.json"; }
  student "student-collab-s$seed" "$OUT/collab-s$seed" "$seed"
done

python3 - "$OUT" $SEEDS > "$OUT/summary.md" <<'EOF'
import json, statistics, sys
out, seeds = sys.argv[1], sys.argv[2:]
rows, net, col = [], [], []
for s in seeds:
    n = json.load(open(f"{out}/student-net-s{s}.probe.json"))["top1"] * 100
    c = json.load(open(f"{out}/student-collab-s{s}.probe.json"))["top1"] * 100
    st = json.load(open(f"{out}/net-s{s}/status.json"))
    shards = ", ".join(f"{p['name']} {p['shards_accepted']}" for p in st["participants"])
    rt = json.load(open(f"{out}/net-s{s}/round.json"))["seconds"]
    ct = float(open(f"{out}/collab-s{s}.time").read().split()[-1])
    net.append(n); col.append(c)
    rows.append(f"| {s} | {n:.2f}% | {c:.2f}% | {n - c:+.2f} | {rt:.0f} s ({shards}) | {ct:.0f} s |")
print("| seed | ReLA->BYOL top-1, networked | ReLA->BYOL top-1, collab | difference | networked round (shards per participant) | collab |")
print("|---|---|---|---|---|---|")
print("\n".join(rows))
if len(seeds) > 1:
    print(f"\nmean networked {statistics.mean(net):.2f}% vs collab {statistics.mean(col):.2f}%; "
          f"seed spread (stdev) networked {statistics.stdev(net):.2f}, collab {statistics.stdev(col):.2f}")
EOF
log "done: $OUT/summary.md"
cat "$OUT/summary.md"
