#!/usr/bin/env bash
# The extra priors of the alignment study (scripts/bench_align_study.sh, issue 14), made without labels by
# coopt prior pretrain, one engine thread each (~8 minutes on the project's 2-core machine):
#   mobilenetv2 and resnet18 (BYOL, 150 s: other architectures and widths, set b), a convnet-s pretrained on the UCI
#   digits (8x8, 1,500 images, BYOL 40 epochs: another domain, set d; needs python3-sklearn), and a convnet-s
#   pretrained on the Fashion-MNIST test split only (SimCLR 60 s: other images of the domain, set d).
#   scripts/make_study_priors.sh [DIR]       (default runs/study/priors; COOPT=./coopt)
set -euo pipefail
P=${1:-runs/study/priors}
COOPT=${COOPT:-"$(dirname "$0")/../coopt"}
DIGITS="$(dirname "$P")/digits"
mkdir -p "$P"
[ -f "$DIGITS/train-images-idx3-ubyte" ] || /usr/bin/python3 "$(dirname "$0")/make_digits_idx.py" "$DIGITS"
make() { local name=$1; shift; [ -f "$P/$name/model.json" ] || "$COOPT" prior pretrain "$@" --threads 1 --out "$P/$name" --json > "$P/$name.json"; }
make mobilenetv2-byol-150s --method byol --arch mobilenetv2 --data fashion-mnist --budget-seconds 150 --seed 201
make resnet18-byol-150s --method byol --arch resnet18 --data fashion-mnist --budget-seconds 150 --seed 202
make convnet-s-digits-byol --method byol --arch convnet-s --data "idx:$DIGITS" --epochs 40 --seed 203
make convnet-s-fmnist-test-simclr-60s --method simclr --arch convnet-s --data fashion-mnist --split test --budget-seconds 60 --seed 204
