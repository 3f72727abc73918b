#!/usr/bin/env bash
# Builds .bundle/gpu/: a self-contained linux-x64 publish of tools/Coherence.GpuCheck WITHOUT libtorch
# (the GPU machine's PyTorch libraries are used), plus the corpus and the runner. See docs/gpu.md.
# Usage (from anywhere in a clone): bash scripts/gpu/build-bundle.sh
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bundle="$repo/.bundle/gpu"
limit_mib=60

rm -rf "$bundle"
mkdir -p "$bundle"
# Self-contained: the GPU machine has no .NET. Trimmed in partial mode (framework only; see the csproj);
# the project leaves ONNX Runtime's native library out, and only the managed TorchSharp package is
# referenced, so no libtorch is published.
dotnet publish "$repo/tools/Coherence.GpuCheck/Coherence.GpuCheck.csproj" -c Release -r linux-x64 --self-contained true \
  -p:DebugType=none -p:DebugSymbols=false -p:GenerateDocumentationFile=false \
  -o "$bundle/app" -nologo -v quiet

# Nothing from a libtorch may travel: the runner binds the program to the libtorch it is given.
if find "$bundle/app" -name 'libtorch*.so*' -o -name 'libc10*.so*' | grep -q .; then
  echo "build-bundle: a libtorch library ended up in the bundle; it must not" >&2
  exit 1
fi
# Drop what the program never uses: debugging and crash-dump helpers of the runtime, XML docs.
rm -f "$bundle/app/"*.dbg "$bundle/app/createdump" "$bundle/app/"*.xml "$bundle/app/libmscordbi.so" "$bundle/app/libmscordaccore.so"
# libLibTorchSharp.so must carry the Debian 12 GLIBCXX fix (Microsoft.ML.Coherence.targets runs after Publish).
if command -v objdump >/dev/null 2>&1; then
  echo "libLibTorchSharp.so version needs (GLIBCXX_3.4.32 must show 'flags: WEAK' on a GCC 12 system):"
  objdump -p "$bundle/app/libLibTorchSharp.so" | grep -A0 'GLIBCXX_3.4.32' || true
fi

cp "$repo/data/sample/corpus.txt" "$bundle/app/corpus.txt"
cp "$repo/scripts/gpu/run-check.sh" "$bundle/run-check.sh"
chmod +x "$bundle/run-check.sh" "$bundle/app/Coherence.GpuCheck"

bytes=$(du -sb "$bundle" | cut -f1)
mib=$(( (bytes + 1048575) / 1048576 ))
echo "Bundle: $bundle ($bytes bytes, about $mib MiB; limit $limit_mib MiB)"
if (( bytes > limit_mib * 1048576 )); then
  echo "build-bundle: the bundle is larger than $limit_mib MiB" >&2
  exit 1
fi
