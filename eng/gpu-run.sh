#!/usr/bin/env bash
# gpu-run.sh APP [ARGS...]   (copied next to dotnet.tar.xz and apps.tar.xz by eng/gpu-pack.sh)
# Runs a published Incrt app (e.g. Incrt.Benchmarks, Incrt.Sst2) on a CUDA machine against the LibTorch of the
# installed PyTorch: unpacks the .NET runtime and the apps to a temporary folder, puts torch/lib and the
# nvidia/*/lib folders of the Python torch package on LD_LIBRARY_PATH, and runs `dotnet APP.dll ARGS`.
# Exit code: the app's; 3 when the archives or a Python torch are missing.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
app=${1:?usage: gpu-run.sh APP [ARGS...]}; shift
work=$(mktemp -d)
tar -C "$work" -xJf "$here/dotnet.tar.xz" && tar -C "$work" -xJf "$here/apps.tar.xz" || { echo "error: cannot unpack $here/*.tar.xz (run eng/gpu-pack.sh)" >&2; exit 3; }
[ -f "$work/apps/$app/$app.dll" ] || { echo "error: $app is not in apps.tar.xz (have: $(ls "$work/apps" | tr '\n' ' '))" >&2; exit 3; }
torch_dir=$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))' 2>/dev/null) || { echo "error: no Python torch on this machine" >&2; exit 3; }
nvidia=$(ls -d "$(dirname "$torch_dir")"/nvidia/*/lib 2>/dev/null | tr '\n' ':')
export DOTNET_ROOT=$work/dn DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
export LD_LIBRARY_PATH=$torch_dir/lib:${nvidia}${LD_LIBRARY_PATH:-}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null
python3 -c 'import torch; print("PyTorch", torch.__version__, "CUDA", torch.version.cuda)'
"$work/dn/dotnet" "$work/apps/$app/$app.dll" "$@"
rc=$?
rm -rf "$work"
exit $rc
