#!/usr/bin/env bash
# eng/gpu-pack.sh [OUT_DIR]
# "Bring your own LibTorch" (docs/native-loading.md): publishes the bench and the SST-2 sample against the managed
# TorchSharp package only (-p:TorchBackend=none: libLibTorchSharp.so, no LibTorch), framework-dependent for linux-x64,
# and packs them with this machine's .NET runtime, so a CUDA machine that has PyTorch (and no dotnet, no network)
# runs them against PyTorch's own LibTorch. Writes OUT_DIR (default .gpu/, git-ignored): dotnet.tar.xz, apps.tar.xz
# and gpu-run.sh. Then, on the GPU machine, from the checkout root, one command per run, e.g.
#   bash .gpu/gpu-run.sh Incrt.Benchmarks --device cuda --quick
#   bash .gpu/gpu-run.sh Incrt.Sst2 --device cuda --data .gpu/data
# INCRT_GPU_APPS overrides the published projects (space-separated project folders).
# The publish builds a copy of the checkout (tracked and untracked, not ignored, files) in a temporary folder, so the
# normal CPU build's bin/ and obj/ are left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-.gpu}
apps=${INCRT_GPU_APPS:-"bench/Incrt.Benchmarks samples/Incrt.Sst2"}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$out" "$stage/apps" "$stage/dn/shared/Microsoft.NETCore.App" "$stage/tree"
git ls-files -co --exclude-standard -z | tar --null -T - -cf - | tar -C "$stage/tree" -xf -

for project in $apps; do
  name=$(basename "$project")
  dotnet publish "$stage/tree/$project" -c Release -r linux-x64 --self-contained false -p:TorchBackend=none \
    -o "$stage/apps/$name" -v quiet -nologo
  if find "$stage/apps/$name" \( -name 'libtorch*.so*' -o -name 'libc10*.so*' \) | grep -q .; then
    echo "error: $project was published with a LibTorch; TorchBackend=none must reference the managed TorchSharp only" >&2
    exit 1
  fi
  [ -f "$stage/apps/$name/runtimes/linux-x64/native/libLibTorchSharp.so" ] || [ -f "$stage/apps/$name/libLibTorchSharp.so" ] || {
    echo "error: $project: libLibTorchSharp.so is missing from the publish folder" >&2; exit 1; }
done

# The .NET runtime of this machine (host, hostfxr, Microsoft.NETCore.App): the GPU machine has no dotnet.
root=$(dirname "$(readlink -f "$(command -v dotnet)")")
version=$(ls "$root/shared/Microsoft.NETCore.App" | sort -V | tail -1)
cp -a "$root/dotnet" "$root/host" "$stage/dn/"
cp -a "$root/shared/Microsoft.NETCore.App/$version" "$stage/dn/shared/Microsoft.NETCore.App/"
tar -C "$stage" -cJf "$out/dotnet.tar.xz" dn
tar -C "$stage" -cJf "$out/apps.tar.xz" apps
cp eng/gpu-run.sh "$out/gpu-run.sh"
du -h "$out"/*.tar.xz
echo "packed .NET $version and: $apps -> $out (run: bash $out/gpu-run.sh <App> [args])"
