#!/usr/bin/env bash
# eng/gpu-standin-check.sh PACK_DIR
# Checks a pack made by eng/gpu-pack.sh on a machine without a GPU or PyTorch: a stand-in Python package `torch` whose
# lib/ is the CPU LibTorch from the NuGet cache (libtorch-cpu-linux-x64) plays PyTorch, and gpu-run.sh runs the
# bench's tiny surgery case against it. Proves that the TorchBackend=none apps load an external LibTorch through
# LD_LIBRARY_PATH; CUDA itself is only exercised on a GPU machine.
set -euo pipefail
pack=${1:?usage: gpu-standin-check.sh PACK_DIR}
native=$(ls -d "${NUGET_PACKAGES:-$HOME/.nuget/packages}"/libtorch-cpu-linux-x64/*/runtimes/linux-x64/native 2>/dev/null | sort -V | tail -1)
[ -n "$native" ] || { echo "error: no libtorch-cpu-linux-x64 in the NuGet cache (build the CPU configuration first)" >&2; exit 1; }
fake=$(mktemp -d)
trap 'rm -rf "$fake"' EXIT
mkdir -p "$fake/torch"
ln -s "$native" "$fake/torch/lib"
printf '__version__ = "stand-in: CPU LibTorch from the NuGet cache"\nclass version:\n    cuda = None\n' > "$fake/torch/__init__.py"
PYTHONPATH=$fake bash "$pack/gpu-run.sh" Incrt.Benchmarks --tiny --case surgery --out "$fake/bench"
echo "gpu-standin-check: the TorchBackend=none bench ran against $native"
