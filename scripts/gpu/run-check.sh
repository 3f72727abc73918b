#!/usr/bin/env bash
# Runs the CUDA check from a bundle built by scripts/gpu/build-bundle.sh (docs/gpu.md).
# Usage: run-check.sh <libtorch-lib-dir> <out-dir> [extra Coherence.GpuCheck arguments]
#   GPU machine: run-check.sh /opt/torch/.venv/lib/python3.12/site-packages/torch/lib "$OUT" --expect-cuda
#   CPU only:    run-check.sh ~/.nuget/packages/libtorch-cpu-linux-x64/2.10.0/runtimes/linux-x64/native out/gpu
# Writes 2 files to <out-dir>: results.json and run-check.log (everything printed).
# Exit code: the program's (0 passed, CUDA absent and not expected included; 2 usage; 3 native load failed;
# 4 CUDA expected but missing, or a check failed).
set -uo pipefail
if (( $# < 2 )); then
  sed -n '2,8p' "$0" >&2
  exit 2
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
libtorch="$(cd "$1" 2>/dev/null && pwd)" || { echo "run-check: no folder $1" >&2; exit 2; }
out="$2"; shift 2
mkdir -p "$out"
out="$(cd "$out" && pwd)"
app="$here/app/Coherence.GpuCheck"
[[ -f "$app" ]] || app="$here/Coherence.GpuCheck"   # also works when run from the publish folder itself
# A copy that lost its modes on the way (the device tool's carry) gets them back.
[[ -x "$app" ]] || chmod +x "$app" 2>/dev/null || { echo "run-check: $app is not executable" >&2; exit 2; }

# Make the PyTorch libraries findable: libtorch's folder, and for a pip install of PyTorch the CUDA
# libraries that the nvidia-* wheels put under site-packages/nvidia/*/lib (their RPATHs normally find
# them too; this is the fallback).
paths="$libtorch"
site="$(dirname "$libtorch")/.."
for d in "$site"/nvidia/*/lib "$site"/nvidia/cu*/lib; do
  [[ -d "$d" ]] && paths="$paths:$(cd "$d" && pwd)"
done
export LD_LIBRARY_PATH="$paths${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# The bundle is self-contained and uses invariant globalisation: no .NET or ICU needed on the machine.
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# The program binds TorchSharp itself (NativeTorch.cs); the library's run-time GLIBCXX fix has nothing to do here.
export COHERENCE_SKIP_TORCHSHARP_NATIVE_FIX=true

{
  echo "run-check: $(date -u +%FT%TZ) on $(hostname)"
  echo "run-check: libtorch $libtorch"
  echo "run-check: LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "run-check: no nvidia-smi"
} | tee "$out/run-check.log"
start=$SECONDS
"$app" --libtorch "$libtorch" --out "$out" "$@" 2>&1 | tee -a "$out/run-check.log"
code=${PIPESTATUS[0]}
echo "run-check: exit code $code after $(( SECONDS - start )) s" | tee -a "$out/run-check.log"
exit "$code"
