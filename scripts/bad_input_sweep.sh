#!/usr/bin/env bash
# Bad-input sweep (issue 9): runs well over a hundred hostile inputs across coopt's commands -- corrupt files of
# every format it reads, option values at and beyond their limits, outputs that must not be replaced, and
# SIGTERM/SIGKILL in the middle of a write -- and checks the contract of every command:
#   - exit 2 and exactly one line on stderr, starting "coopt: ", with no stack trace and no "internal error";
#     for the signals, exit 143 (SIGTERM) or 137 (SIGKILL);
#   - the sha256 of every file that existed before the sweep is unchanged.
#
#   scripts/bad_input_sweep.sh [--keep]      (needs Fashion-MNIST: apt-get install dataset-fashion-mnist)
#
# COOPT_CMD overrides how coopt is run (default: ./coopt); the tests run it with the test class path.
# Exit 0 when every case holds, 1 otherwise; the last line is "N passed, N failed".
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
keep=false
[ "${1:-}" = "--keep" ] && keep=true
read -r -a coopt <<< "${COOPT_CMD:-$root/coopt}"
work="$(mktemp -d "${TMPDIR:-/tmp}/coopt-sweep.XXXXXX")"
$keep || trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
mkdir -p results runs

# case_ NAME EXPECTED_FRAGMENT ARGS... : one bad input, run in the background in a directory of its own (with
# keep/ linked in), at most $jobs at once; the verdict goes to results/N.
jobs="${SWEEP_JOBS:-$(nproc)}"
cases=0
check_case() {
  local name="$1" fragment="$2" dir="$3"
  shift 3
  local err="$dir/.err" out="$dir/.out" code lines
  (cd "$dir" && "${coopt[@]}" "$@" >"$out" 2>"$err" </dev/null)
  code=$?
  lines=$(grep -c '' "$err")
  if [ "$code" != 2 ]; then
    echo "FAIL  $name: exit $code, expected 2: $(head -c 400 "$err" | tr '\n' ' ')"
  elif [ "$lines" != 1 ]; then
    echo "FAIL  $name: $lines lines on stderr, expected 1: $(head -c 400 "$err" | tr '\n' '|')"
  elif ! grep -q '^coopt: ' "$err" || grep -q 'internal error\|Exception\|	at ' "$err"; then
    echo "FAIL  $name: not a one-line user error: $(cat "$err")"
  elif [ -n "$fragment" ] && ! grep -qF -- "$fragment" "$err"; then
    echo "FAIL  $name: expected '$fragment' in: $(cat "$err")"
  elif [ -s "$out" ]; then
    echo "FAIL  $name: wrote to stdout: $(head -c 200 "$out")"
  else
    echo "PASS  $name"
  fi
}
case_() {
  cases=$((cases + 1))
  local dir="$work/runs/$cases"
  mkdir -p "$dir" && ln -s "$work/keep" "$dir/keep"
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
    wait -n
  done
  check_case "$1" "$2" "$dir" "${@:3}" > "$work/results/$cases" &
}

# Every file under keep/, but for the hidden working directories (.NAME.work-*) that optimize and collab write
# beside their output: a SIGKILL cannot be caught, so one may stay behind (the next run on that output removes it,
# see RowFileTest); it holds no user data.
digest() {
  find "$work/keep" -type f -not -path '*/.*.work-*/*' -print0 | sort -z | xargs -0 sha256sum
}

echo "sweep: preparing fixtures in $work" >&2
mkdir -p keep
"${coopt[@]}" data fetch fashion-mnist >/dev/null 2>&1 || { echo "sweep: Fashion-MNIST is not installed" >&2; exit 1; }
"${coopt[@]}" optimize --data fashion-mnist --limit 300 --prior random:convnet-s:1 --dim 8 --out keep/dataset \
  >/dev/null 2>&1 || { echo "sweep: could not write the reference dataset" >&2; exit 1; }
cp -r "$root/priors/convnet-s-byol-300s" keep/model
mkdir -p keep/webapp && echo '{"name": "app"}' > keep/webapp/manifest.json && echo '<html></html>' > keep/webapp/index.html
cp -r keep/dataset keep/annotated && echo "my notes" > keep/annotated/NOTES.md
echo "a file" > keep/a-file
mkdir -p keep/real && ln -s "$work/keep/real" keep/link
python3 "$root/scripts/bad_input_fixtures.py" "$work/keep/fx" "$work/keep/model" || exit 1
fx="$work/keep/fx"
# optimized datasets with one thing wrong each
bad_dataset() {
  local name="$1"
  cp -r keep/dataset "keep/ds-$name"
  echo "keep/ds-$name"
}
d=$(bad_dataset flipped-byte); python3 - "$d/targets.safetensors" <<'PY'
import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[-1]^=1; open(p,'wb').write(b)
PY
d=$(bad_dataset truncated); truncate -s 100 "$d/targets.safetensors"
d=$(bad_dataset no-targets); rm "$d/targets.safetensors"
d=$(bad_dataset manifest-not-json); echo '{"format": ' > "$d/manifest.json"
d=$(bad_dataset manifest-empty); : > "$d/manifest.json"
d=$(bad_dataset manifest-whitespace); head -c 5000000 /dev/zero | tr '\0' ' ' > "$d/manifest.json"
d=$(bad_dataset manifest-huge); truncate -s 100M "$d/manifest.json"
d=$(bad_dataset manifest-array); echo '[1, 2, 3]' > "$d/manifest.json"
d=$(bad_dataset manifest-duplicate-key); python3 - "$d/manifest.json" <<'PY'
import sys; p=sys.argv[1]; s=open(p).read(); open(p,'w').write(s.replace('{', '{"count": 1, ', 1))
PY
d=$(bad_dataset format-2); python3 - "$d/manifest.json" <<'PY'
import json,sys; p=sys.argv[1]; j=json.load(open(p)); j["format"]="coopt-optimized-dataset/2"; json.dump(j,open(p,'w'))
PY
d=$(bad_dataset count-negative); python3 - "$d/manifest.json" <<'PY'
import json,sys; p=sys.argv[1]; j=json.load(open(p)); j["count"]=-5; json.dump(j,open(p,'w'))
PY
d=$(bad_dataset dim-mismatch); python3 - "$d/manifest.json" <<'PY'
import json,sys; p=sys.argv[1]; j=json.load(open(p)); j["dim"]=9; json.dump(j,open(p,'w'))
PY
d=$(bad_dataset header-length-huge); python3 - "$d/targets.safetensors" "$d/manifest.json" <<'PY'
import hashlib,json,struct,sys; p,m=sys.argv[1:]; b=bytearray(open(p,'rb').read()); b[:8]=struct.pack('<Q',1<<60)
open(p,'wb').write(b); j=json.load(open(m)); j["targets_sha256"]=hashlib.sha256(b).hexdigest(); json.dump(j,open(m,'w'))
PY
d=$(bad_dataset nan-target); python3 - "$d/targets.safetensors" "$d/manifest.json" <<'PY'
import hashlib,json,struct,sys; p,m=sys.argv[1:]; b=bytearray(open(p,'rb').read()); n=struct.unpack('<Q',b[:8])[0]
h=json.loads(b[8:8+n]); o=8+n+h["targets"]["data_offsets"][0]; b[o:o+4]=struct.pack('<f',float('nan'))
open(p,'wb').write(b); j=json.load(open(m)); j["targets_sha256"]=hashlib.sha256(b).hexdigest(); json.dump(j,open(m,'w'))
PY
d=$(bad_dataset repeated-id); python3 - "$d/targets.safetensors" "$d/manifest.json" <<'PY'
import hashlib,json,struct,sys; p,m=sys.argv[1:]; b=bytearray(open(p,'rb').read()); n=struct.unpack('<Q',b[:8])[0]
h=json.loads(b[8:8+n]); o=8+n+h["ids"]["data_offsets"][0]; b[o+8:o+16]=b[o:o+8]
open(p,'wb').write(b); j=json.load(open(m)); j["targets_sha256"]=hashlib.sha256(b).hexdigest(); json.dump(j,open(m,'w'))
PY
# packed images with one thing wrong each
"${coopt[@]}" data pack --data fashion-mnist --limit 300 --shard-images 100 --out keep/pack >/dev/null 2>&1 \
  || { echo "sweep: could not write the reference pack" >&2; exit 1; }
bad_pack() {
  cp -r keep/pack "keep/pk-$1"
  echo "keep/pk-$1"
}
shard2=images-00002-of-00003.safetensors
d=$(bad_pack flipped-byte); python3 - "$d/$shard2" <<'PY'
import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[-1]^=1; open(p,'wb').write(b)
PY
d=$(bad_pack missing-shard); rm "$d/$shard2"
d=$(bad_pack truncated-shard); truncate -s 5000 "$d/$shard2"
d=$(bad_pack shape-mismatch); python3 - "$d/$shard2" "$d/manifest.json" <<'PY'
import hashlib,json,sys; p,m=sys.argv[1:]; b=open(p,'rb').read().replace(b'[100,1,28,28]', b'[100,1,14,56]', 1)
open(p,'wb').write(b); j=json.load(open(m)); j["shards"][1]["sha256"]=hashlib.sha256(b).hexdigest(); json.dump(j,open(m,'w'))
PY
d=$(bad_pack count-mismatch); python3 - "$d/manifest.json" <<'PY'
import json,sys; m=sys.argv[1]; j=json.load(open(m)); j["count"]=301; json.dump(j,open(m,'w'))
PY
d=$(bad_pack path-traversal); python3 - "$d/manifest.json" <<'PY'
import json,sys; m=sys.argv[1]; j=json.load(open(m)); j["shards"][0]["file"]="../../../etc/passwd"; json.dump(j,open(m,'w'))
PY
d=$(bad_pack unknown-field); python3 - "$d/manifest.json" <<'PY'
import json,sys; m=sys.argv[1]; j=json.load(open(m)); j["extra"]=1; json.dump(j,open(m,'w'))
PY
d=$(bad_pack size-100000); python3 - "$d/manifest.json" <<'PY'
import json,sys; m=sys.argv[1]; j=json.load(open(m)); j["height"]=100000; json.dump(j,open(m,'w'))
PY
d=$(bad_pack manifest-not-json); echo '{"format": "coopt-packed-images/1", ' > "$d/manifest.json"
before="$(digest)"

fm=(--data fashion-mnist --limit 200)
echo "sweep: running the cases" >&2

# --- options at and beyond their limits ---
case_ "optimize --dim -1" "--dim" optimize "${fm[@]}" --prior random:convnet-s --dim -1 --out o1
case_ "optimize --dim beyond the prior" "--dim" optimize "${fm[@]}" --prior random:convnet-s --dim 100000 --out o1
case_ "optimize --batch 0" "--batch" optimize "${fm[@]}" --prior random:convnet-s --batch 0 --out o1
case_ "optimize --batch -5" "--batch" optimize "${fm[@]}" --prior random:convnet-s --batch -5 --out o1
case_ "optimize --limit -1" "--limit" optimize --data fashion-mnist --limit -1 --prior random:convnet-s --out o1
case_ "optimize --split val" "split" optimize "${fm[@]}" --split val --prior random:convnet-s --out o1
case_ "optimize --threads -1" "--threads" optimize "${fm[@]}" --prior random:convnet-s --threads -1 --out o1
case_ "optimize --threads 100000" "--threads" optimize "${fm[@]}" --prior random:convnet-s --threads 100000 --out o1
case_ "optimize --device tpu" "--device" optimize "${fm[@]}" --prior random:convnet-s --device tpu --out o1
case_ "optimize --seed abc" "--seed" optimize "${fm[@]}" --prior random:convnet-s --seed abc --out o1
case_ "optimize --limit 99999999999" "--limit" optimize --data fashion-mnist --limit 99999999999 --prior random:convnet-s --out o1
case_ "optimize without --out" "--out" optimize "${fm[@]}" --prior random:convnet-s
case_ "optimize unknown option" "--bogus" optimize "${fm[@]}" --prior random:convnet-s --out o1 --bogus
case_ "collab --participants 0" "--participants" collab "${fm[@]}" --priors random:convnet-s:1 --participants 0 --out o2
case_ "collab --participants -1" "--participants" collab "${fm[@]}" --priors random:convnet-s:1 --participants -1 --out o2
case_ "collab --participants beyond the data" "" collab "${fm[@]}" --priors random:convnet-s:1 --participants 100000 --out o2
case_ "collab --shared-fraction 0" "" collab "${fm[@]}" --priors random:convnet-s:1,random:convnet-s:2 --shared-fraction 0 --out o2
case_ "collab --shared-fraction 1.5" "" collab "${fm[@]}" --priors random:convnet-s:1,random:convnet-s:2 --shared-fraction 1.5 --out o2
case_ "collab --shared-fraction -0.1" "" collab "${fm[@]}" --priors random:convnet-s:1,random:convnet-s:2 --shared-fraction -0.1 --out o2
case_ "collab --shared-count 1" "" collab "${fm[@]}" --priors random:convnet-s:1,random:convnet-s:2 --shared-count 1 --out o2
case_ "collab --shared-count beyond the data" "" collab "${fm[@]}" --priors random:convnet-s:1,random:convnet-s:2 --shared-count 100000 --out o2
case_ "collab both S sizes" "" collab "${fm[@]}" --priors random:convnet-s:1 --shared-count 10 --shared-fraction 0.1 --out o2
case_ "collab --align procrustes" "--align" collab "${fm[@]}" --priors random:convnet-s:1 --align procrustes --out o2
case_ "collab --concurrency -1" "--concurrency" collab "${fm[@]}" --priors random:convnet-s:1 --concurrency -1 --out o2
case_ "collab --concurrency 100000" "--concurrency" collab "${fm[@]}" --priors random:convnet-s:1 --concurrency 100000 --out o2
case_ "collab empty --priors" "" collab "${fm[@]}" --priors "" --out o2
case_ "collab a bad prior among good" "alexnet" collab "${fm[@]}" --priors random:convnet-s:1,random:alexnet --out o2
case_ "collab --dim -1" "--dim" collab "${fm[@]}" --priors random:convnet-s:1 --dim -1 --out o2
case_ "train --method nope" "" train --method nope "${fm[@]}" --arch convnet-s --epochs 1 --out t1
case_ "train --epochs 0" "--epochs" train --method byol "${fm[@]}" --arch convnet-s --epochs 0 --out t1
case_ "train --epochs -1" "--epochs" train --method byol "${fm[@]}" --arch convnet-s --epochs -1 --out t1
case_ "train epochs and budget" "--epochs" train --method byol "${fm[@]}" --arch convnet-s --epochs 1 --budget-seconds 5 --out t1
case_ "train --budget-seconds 0" "" train --method byol "${fm[@]}" --arch convnet-s --budget-seconds 0 --out t1
case_ "train --batch 0" "--batch" train --method byol "${fm[@]}" --arch convnet-s --epochs 1 --batch 0 --out t1
case_ "train --batch beyond the data" "--batch" train --method byol "${fm[@]}" --arch convnet-s --epochs 1 --batch 5000 --out t1
case_ "train --lr -1" "--lr" train --method byol "${fm[@]}" --arch convnet-s --epochs 1 --lr -1 --out t1
case_ "train --lr NaN" "--lr" train --method byol "${fm[@]}" --arch convnet-s --epochs 1 --lr NaN --out t1
case_ "train --weight-decay -1" "--weight-decay" train --method byol "${fm[@]}" --arch convnet-s --epochs 1 --weight-decay -1 --out t1
case_ "train --workers 0" "--workers" train --method byol "${fm[@]}" --arch convnet-s --epochs 1 --workers 0 --out t1
case_ "train --workers 100000" "--workers" train --method byol "${fm[@]}" --arch convnet-s --epochs 1 --workers 100000 --out t1
case_ "train --then bogus" "--then" train --method rela --targets keep/dataset "${fm[@]}" --arch convnet-s --epochs 1 --then bogus --out t1
case_ "train --switch-at 2" "--switch-at" train --method rela --targets keep/dataset "${fm[@]}" --arch convnet-s --epochs 1 --switch-at 2 --out t1
case_ "train --data-ratio 0" "--data-ratio" train --method byol "${fm[@]}" --arch convnet-s --epochs 1 --data-ratio 0 --out t1
case_ "train --data-ratio 1.5" "--data-ratio" train --method byol "${fm[@]}" --arch convnet-s --epochs 1 --data-ratio 1.5 --out t1
case_ "train --checkpoint-every-seconds -1" "" train --method byol "${fm[@]}" --arch convnet-s --epochs 1 --checkpoint-every-seconds -1 --out t1
case_ "train --resume of nothing" "resume" train --method byol "${fm[@]}" --arch convnet-s --epochs 1 --resume --out keep/real
case_ "train --arch nope" "unknown architecture" train --method byol "${fm[@]}" --arch nope --epochs 1 --out t1
case_ "train --targets missing" "" train --method rela --targets nowhere "${fm[@]}" --arch convnet-s --epochs 1 --out t1
case_ "train --targets corrupt" "checksum" train --method rela --targets keep/ds-flipped-byte "${fm[@]}" --arch convnet-s --epochs 1 --out t1
case_ "train --targets with byol" "--targets" train --method byol --targets keep/dataset "${fm[@]}" --arch convnet-s --epochs 1 --out t1
case_ "train --targets of other images" "" train --method rela --targets keep/dataset --data mnist --limit 200 --arch convnet-s --epochs 1 --out t1
case_ "train into a non-empty directory" "not empty" train --method byol "${fm[@]}" --arch convnet-s --epochs 1 --out keep/webapp
case_ "train on 1x1 images" "1x1" train --method byol --data "folder:$fx/folders/one-pixel" --image-size 1 --arch convnet-s --epochs 1 --batch 2 --out t1
case_ "prior pretrain --method rela" "--method" prior pretrain --method rela "${fm[@]}" --arch convnet-s --epochs 1 --out t1
case_ "prior pretrain --epochs 0" "--epochs" prior pretrain --method byol "${fm[@]}" --arch convnet-s --epochs 0 --out t1
case_ "eval linear --model nope" "" eval linear --model nope:x --train fashion-mnist --test fashion-mnist --limit 100
case_ "eval linear --limit -1" "--limit" eval linear --model random:convnet-s --train fashion-mnist --test fashion-mnist --limit -1
case_ "eval linear --epochs 0" "--epochs" eval linear --model random:convnet-s --train fashion-mnist --test fashion-mnist --limit 100 --epochs 0
case_ "eval curve --run missing" "" eval curve --run nowhere --train fashion-mnist --test fashion-mnist
case_ "eval curve --run a file" "" eval curve --run keep/a-file --train fashion-mnist --test fashion-mnist
case_ "eval curve --run not a run" "" eval curve --run keep/webapp --train fashion-mnist --test fashion-mnist
case_ "data fetch unknown" "unknown dataset" data fetch cifar-11
case_ "data fetch --dir under a file" "" data fetch mnist --dir keep/a-file/mnist
case_ "bench throughput --arch nope" "unknown architecture" bench throughput --arch nope
case_ "bench throughput --batch 0" "--batch" bench throughput --arch convnet-s --batch 0
case_ "bench throughput --size 0" "--size" bench throughput --arch convnet-s --size 0
case_ "bench throughput --size 1" "1x1" bench throughput --arch convnet-s --size 1 --steps 1 --warmup 0
case_ "bench throughput --size 100000" "100000" bench throughput --arch convnet-s --size 100000
case_ "bench throughput batch beyond memory" "memory budget" bench throughput --arch convnet-s --size 2048 --batch 4096
case_ "bench throughput --channels 2" "--channels" bench throughput --arch convnet-s --channels 2
case_ "bench throughput --steps 0" "--steps" bench throughput --arch convnet-s --steps 0
case_ "bench throughput --warmup -1" "--warmup" bench throughput --arch convnet-s --warmup -1
case_ "bench pca --rows 1" "--rows" bench pca --rows 1
case_ "bench pca --k beyond" "--k" bench pca --rows 10 --dims 4 --k 5
case_ "demo --minutes 0" "" demo --minutes 0 --out d1
case_ "demo --out a file" "is a file" demo --out keep/a-file/demo

# --- outputs that must not be replaced ---
case_ "optimize into a web app's folder" "refusing to replace" optimize "${fm[@]}" --prior random:convnet-s --out keep/webapp
case_ "optimize over a user's notes" "NOTES.md" optimize "${fm[@]}" --prior random:convnet-s --out keep/annotated
case_ "optimize through a symlink" "symbolic link" optimize "${fm[@]}" --prior random:convnet-s --out keep/link
case_ "optimize onto a file" "not a directory" optimize "${fm[@]}" --prior random:convnet-s --out keep/a-file
case_ "optimize under a file" "is a file" optimize "${fm[@]}" --prior random:convnet-s --out keep/a-file/out
case_ "optimize over a model directory" "refusing to replace" optimize "${fm[@]}" --prior random:convnet-s --out keep/model
case_ "collab into a web app's folder" "refusing to replace" collab "${fm[@]}" --priors random:convnet-s:1 --out keep/webapp
case_ "collab through a symlink" "symbolic link" collab "${fm[@]}" --priors random:convnet-s:1 --out keep/link

# --- corrupt datasets of every reader ---
for name in truncated-header bad-magic count-beyond-data labels-mismatch empty-images declared-2g zero-size corrupt-gz empty-dir; do
  case_ "idx $name" "" eval linear --model random:convnet-s --train "idx:$fx/idx/$name" --test "idx:$fx/idx/$name"
done
for name in empty-batch ragged label-out-of-range missing-batch; do
  case_ "cifar10 $name" "" eval linear --model random:convnet-s --train "cifar10:$fx/cifar/$name" --test "cifar10:$fx/cifar/$name"
done
case_ "cifar10 missing folder" "" eval linear --model random:convnet-s --train cifar10:nowhere --test cifar10:nowhere
for name in truncated-png text-as-png empty-jpeg no-images mixed empty-class declared-huge; do
  case_ "folder $name" "" optimize --data "folder:$fx/folders/$name" --prior random:convnet-s --out o3
done
case_ "folder of 1x1 images at --image-size 1" "1x1" optimize --data "folder:$fx/folders/one-pixel" --image-size 1 --prior random:convnet-s --out o3
case_ "folder --image-size 0" "--image-size" optimize --data "folder:$fx/folders/one-pixel" --image-size 0 --prior random:convnet-s --out o3
case_ "folder --image-size 100000" "--image-size" optimize --data "folder:$fx/folders/one-pixel" --image-size 100000 --prior random:convnet-s --out o3
case_ "folder --image-size 3000 beyond the memory budget" "memory budget" optimize --data "folder:$fx/folders/one-pixel" --image-size 3000 --prior random:resnet50 --out o3
case_ "--image-size on an IDX dataset" "--image-size" optimize --data fashion-mnist --limit 100 --image-size 32 --prior random:convnet-s --out o3
case_ "folder missing" "" optimize --data folder:nowhere --prior random:convnet-s --out o3
case_ "unknown dataset scheme" "" optimize --data tfrecord:x --prior random:convnet-s --out o3

# --- corrupt packed images ---
for d in keep/pk-*; do
  case_ "packed ${d#keep/}" "" optimize --data "packed:$d" --prior random:convnet-s --out o5
done
case_ "packed: the other split" "split" optimize --data packed:keep/pack --split test --prior random:convnet-s --out o5
case_ "packed: not a directory" "" optimize --data packed:keep/a-file --prior random:convnet-s --out o5
case_ "data pack --shard-images 0" "--shard-images" data pack --data fashion-mnist --limit 100 --shard-images 0 --out o6
case_ "data pack into a web app's folder" "refusing to replace" data pack --data fashion-mnist --limit 100 --out keep/webapp
case_ "data pack over a dataset" "refusing to replace" data pack --data fashion-mnist --limit 100 --out keep/dataset
case_ "data pack through a symlink" "symbolic link" data pack --data fashion-mnist --limit 100 --out keep/link

# --- corrupt optimized datasets ---
for d in keep/ds-*; do
  case_ "inspect ${d#keep/}" "" inspect "$d"
done
case_ "inspect missing" "no such directory" inspect nowhere
case_ "inspect a file" "not a directory" inspect keep/a-file
case_ "inspect an empty folder" "neither" inspect keep/real

# --- corrupt or hostile model directories and model files ---
for d in "$fx"/models/*; do
  case_ "inspect model ${d##*/}" "" inspect "$d"
done
for name in nan-weights input-100000 other-arch wrong-shape; do
  case_ "optimize with model ${name}" "" optimize "${fm[@]}" --prior "model:$fx/models/$name" --out o4
  case_ "eval with model ${name}" "" eval linear --model "model:$fx/models/$name" --train fashion-mnist --test fashion-mnist --limit 100
done
case_ "torchscript text file" "" optimize "${fm[@]}" --prior "torchscript:$fx/files/not-a-model.pt" --out o4
case_ "torchscript empty file" "" optimize "${fm[@]}" --prior "torchscript:$fx/files/empty.pt" --out o4
case_ "torchscript huge sidecar input" "" optimize "${fm[@]}" --prior "torchscript:$fx/files/sidecar.pt" --out o4
case_ "onnx text file" "" optimize "${fm[@]}" --prior "onnx:$fx/files/not-a-model.onnx" --out o4
case_ "prior file missing" "" optimize "${fm[@]}" --prior torchscript:nowhere.pt --out o4
case_ "zoo name unknown" "" optimize "${fm[@]}" --prior zoo:nope --out o4
case_ "random seed not a number" "" optimize "${fm[@]}" --prior random:convnet-s:abc --out o4

wait

# --- signals in the middle of a write, one at a time: the existing dataset must be untouched ---
signal_case() {
  local name="$1" signal="$2" expected="$3"
  cases=$((cases + 1))
  "${coopt[@]}" optimize --data fashion-mnist --limit 20000 --prior random:resnet-s:3 --out keep/dataset \
    >/dev/null 2>"$work/.sig-err" </dev/null &
  local pid=$!
  sleep 4
  kill -s "$signal" "$pid" 2>/dev/null
  { wait "$pid"; } 2>/dev/null
  local code=$?
  if [ "$code" != "$expected" ]; then
    echo "FAIL  $name: exit $code, expected $expected: $(tail -c 300 "$work/.sig-err")"
  elif grep -q 'Exception\|	at ' "$work/.sig-err"; then
    echo "FAIL  $name: stack trace on stderr: $(grep -m3 'Exception\|	at ' "$work/.sig-err")"
  else
    echo "PASS  $name"
  fi > "$work/results/$cases"
}
signal_case "SIGTERM during optimize over a dataset" TERM 143
cases=$((cases + 1))
if compgen -G "$work/keep/.dataset.work-*" > /dev/null; then
  echo "FAIL  SIGTERM left a working directory: $(ls -d "$work"/keep/.dataset.work-*)"
else
  echo "PASS  SIGTERM removes the working directory"
fi > "$work/results/$cases"
signal_case "SIGKILL during optimize over a dataset" KILL 137

cases=$((cases + 1))
after="$(digest)"
if [ "$before" != "$after" ]; then
  echo "FAIL  pre-existing files changed: $(diff <(echo "$before") <(echo "$after") | head -5 | tr '\n' ' ')"
else
  echo "PASS  every pre-existing file has its sha256"
fi > "$work/results/$cases"

passed=$(cat results/* | grep -c '^PASS')
failed=$(cat results/* | grep -c '^FAIL')
echo "sweep: $cases checks, $jobs at a time" >&2
grep -h '^FAIL' results/* >&2
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$((passed + failed))" = "$cases" ]
