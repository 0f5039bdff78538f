#!/usr/bin/env bash
# eng/gpu-session.sh [PART...]
# Issue 16's GPU measurements as one prepared script for a lent CUDA machine (docs/benchmarks.md, "GPU (CUDA)").
# Before: on the CPU machine, `eng/gpu-pack.sh` (writes .gpu/) and `mkdir -p .gpu/data && cp -r ../shared/data/sst2 .gpu/data/`;
# send the checkout with .gpu/ (about 45 MB). On the GPU machine, from the checkout root: `bash eng/gpu-session.sh`.
# Parts (default: the first six, in this order; each has its own time limit and its output is packed as soon as it ends):
#   bench512  surgery, controller and train at issue 16's CUDA configuration (d = 512, B = 64)
#   surgery   surgery at d = 512 and 256
#   estimator the spectral read alone (Block vs Exact), d = 160, 256, 512
#   e2e       the SST-2 e2e case, controller on/off
#   sst2      the SST-2 sample, fixed one head (off) then the default (on), seed 1
#   ctl256    the controller case at the CPU tables' d = 256, B = 32
#   ctl512    the controller case alone at issue 16's CUDA configuration (d = 512, B = 64)
#   loo512    the energy rows of ctl512 alone at H = 16, 64 (leave-one-out by Lanczos and by the dense oracle)
#   soak      10,000 training steps with a grow or prune every 50 (memory drift on the device, NaN injection)
# Writes $OUT/res.tgz (or /tmp/gpu-out/res.tgz): each part's log, the bench JSON and the samples' results.json.
# INCRT_GPU_DEVICE=cpu with PYTHONPATH naming a stand-in torch (eng/gpu-standin-check.sh) dry-runs it here; add --tiny
# through INCRT_GPU_TINY=1.
set -uo pipefail
cd "$(dirname "$0")/.."
dev=${INCRT_GPU_DEVICE:-cuda}
parts=${*:-bench512 surgery estimator e2e sst2 ctl256}
out=${OUT:-/tmp/gpu-out}; res=/tmp/res
for part in $parts; do       # every part name checked before anything runs
  case $part in bench512|surgery|estimator|e2e|sst2|ctl256|ctl512|loo512|soak) ;; *) echo "error: unknown part '$part' (bench512, surgery, estimator, e2e, sst2, ctl256, ctl512, loo512, soak)" >&2; exit 2 ;; esac
done
mkdir -p "$out"; rm -rf "$res"; mkdir -p "$res"
run="bash .gpu/gpu-run.sh"
q=""; sq=""; [ "${INCRT_GPU_TINY:-}" = 1 ] && { q="--tiny"; sq="--quick"; }
pack() { tar -C /tmp -czf "$out/res.tgz" res; }
step() {
  local name=$1 limit=$2; shift 2
  local t0; t0=$(date +%s%N)
  echo "== $name: $*" >> "$res/steps.txt"
  timeout "$limit" "$@" > "$res/$name.log" 2>&1
  echo "   rc=$? wall_ms=$(( ($(date +%s%N) - t0) / 1000000 ))" >> "$res/steps.txt"
  pack
}
{ date -u; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; nproc; } > "$res/env.txt" 2>&1
bench="$run Incrt.Benchmarks --device $dev --threads 1 $q"
for part in $parts; do
  case $part in
    bench512)  step bench512 240 $bench --case surgery,controller,train --d-model 512 --batch 64 --out "$res/b512" ;;
    surgery)   step surgery 60 $bench --case surgery --d-model 512,256 --out "$res/bs" ;;
    estimator) step estimator 60 $bench --case estimator --out "$res/best" ;;
    e2e)       step e2e 180 $bench --case e2e --data .gpu/data --out "$res/be" ;;
    sst2)      step sst-off 90 $run Incrt.Sst2 --device "$dev" --progress plain --data .gpu/data --seed 1 $sq --heads 1 --out "$res/sst-off"
               step sst-on 90 $run Incrt.Sst2 --device "$dev" --progress plain --data .gpu/data --seed 1 $sq --out "$res/sst-on"
               rm -f "$res"/sst-*/model.incrt; pack ;;
    ctl256)    step ctl256 120 $bench --case controller --out "$res/bc" ;;
    ctl512)    step ctl512 150 $bench --case controller --d-model 512 --batch 64 --out "$res/bc512" ;;
    loo512)    step loo512 150 $bench --case controller --controllers energy --heads 16,64 --d-model 512 --batch 64 --out "$res/bl512" ;;
    soak)      step soak 150 $bench --case soak --out "$res/bsoak" ;;
  esac
done
cat "$res/steps.txt"
