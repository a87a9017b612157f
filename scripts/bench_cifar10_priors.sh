#!/usr/bin/env bash
# Issue 24, part 2: public priors as participants bring them, on the CIFAR-10 JPEG copy in ../shared/data.
#   1. the label-free prior: coopt prior pretrain, BYOL, resnet-s, no labels, CIFAR-10 train, EPOCHS epochs;
#   2. the linear probe (full 50k train / 10k test) of each public prior as ONNX and as TorchScript, of an untrained
#      resnet-s and of the label-free prior.
#   CIFAR=DIR (the unpacked tar: DIR/train, DIR/test)  PRIORS=../shared/priors  COOPT=./coopt
#   scripts/bench_cifar10_priors.sh [OUT]       (default runs/cifar10/priors; one engine thread per job, two jobs)
# The copy is lossy (re-encoded JPEG) and the public priors were trained with CIFAR-10's labels: say both wherever a
# number from here appears.
set -euo pipefail
OUT=${1:-runs/cifar10/priors}
CIFAR=${CIFAR:?CIFAR=DIR: the unpacked cifar10-jpeg.tar.gz}
PRIORS=${PRIORS:-"$(dirname "$0")/../../shared/priors"}
COOPT=${COOPT:-"$(dirname "$0")/../coopt"}
EPOCHS=${EPOCHS:-4}
mkdir -p "$OUT"
log() { echo "[$(date +%H:%M:%S)] $*" | tee -a "$OUT/bench.log" >&2; }
probe() {  # name spec
  [ -f "$OUT/probe-$1.json" ] && return 0
  log "probe $1 ($2)"
  "$COOPT" eval linear --model "$2" --train "folder:$CIFAR" --test "folder:$CIFAR" --threads 1 --json \
    > "$OUT/probe-$1.json.tmp" 2> "$OUT/probe-$1.err" && mv "$OUT/probe-$1.json.tmp" "$OUT/probe-$1.json"
  log "probe $1: $(python3 -c "import json;print(json.load(open('$OUT/probe-$1.json'))['top1'])" 2>/dev/null || tail -1 "$OUT/probe-$1.err")"
}
pretrain() {
  [ -f "$OUT/resnet-s-byol-cifar10/model.json" ] && return 0
  log "pretrain: BYOL resnet-s, $EPOCHS epochs, no labels"
  "$COOPT" prior pretrain --method byol --arch resnet-s --data "folder:$CIFAR" --epochs "$EPOCHS" --seed 301 \
    --threads 1 --out "$OUT/resnet-s-byol-cifar10" --json > "$OUT/resnet-s-byol-cifar10.json" 2> "$OUT/pretrain.err"
  log "pretrain done"
}
pretrain &
PRE=$!
probe untrained-resnet-s random:resnet-s:0
probe resnet20-onnx "onnx:$PRIORS/resnet20-cifar10.onnx"
probe resnet56-onnx "onnx:$PRIORS/resnet56-cifar10.onnx"
probe resnet20-torchscript "torchscript:$PRIORS/resnet20-cifar10.pt"
probe resnet56-torchscript "torchscript:$PRIORS/resnet56-cifar10.pt"
wait $PRE
probe resnet-s-byol-cifar10 "model:$OUT/resnet-s-byol-cifar10"
log "done"
