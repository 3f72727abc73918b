#!/usr/bin/env bash
# Builds the GPU check bundle (docs/gpu.md): a self-contained linux-x64 publish of tools/Coherence.GpuCheck WITHOUT
# libtorch (the GPU machine's PyTorch libraries are used), with the spam sample and the runner:
#   .bundle/gpu/                     the bundle, unpacked (run it here: .bundle/gpu/run-check.sh)
#   .bundle/carry/gpucheck.tar.gz    the same, packed: what travels to the GPU machine (carry [".bundle/carry"])
# Usage (from anywhere in a clone): bash scripts/gpu/build-bundle.sh
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bundle="$repo/.bundle/gpu"
carry="$repo/.bundle/carry"
archive="$carry/gpucheck.tar.gz"
# The device tool sends the working tree (about 3 MiB tracked) plus the carried paths, 64 MiB in all.
limit_archive_mib=48

rm -rf "$bundle" "$carry"
mkdir -p "$bundle" "$carry"
# Self-contained: the GPU machine has no .NET. Trimmed in partial mode (framework only; see the csproj). Only the
# managed TorchSharp package is referenced, so no libtorch is published; ONNX Runtime's native library is (the
# check scores the saved pipeline through ML.NET's ApplyOnnxModel).
dotnet publish "$repo/tools/Coherence.GpuCheck/Coherence.GpuCheck.csproj" -c Release -r linux-x64 --self-contained true \
  -p:DebugType=none -p:DebugSymbols=false -p:GenerateDocumentationFile=false \
  -o "$bundle/app" -nologo -v quiet

# Nothing from a libtorch may travel: the runner binds the program to the libtorch it is given.
if find "$bundle/app" -name 'libtorch*.so*' -o -name 'libc10*.so*' | grep -q .; then
  echo "build-bundle: a libtorch library ended up in the bundle; it must not" >&2
  exit 1
fi
if [[ ! -f "$bundle/app/libonnxruntime.so" ]]; then
  echo "build-bundle: libonnxruntime.so is missing from the bundle; the check needs it to score" >&2
  exit 1
fi
# Drop what the program never uses: debugging and crash-dump helpers of the runtime, XML docs.
rm -f "$bundle/app/"*.dbg "$bundle/app/createdump" "$bundle/app/"*.xml "$bundle/app/libmscordbi.so" "$bundle/app/libmscordaccore.so"
# libLibTorchSharp.so must carry the Debian 12 GLIBCXX fix (Microsoft.ML.Coherence.targets runs after Publish).
if command -v objdump >/dev/null 2>&1; then
  echo "libLibTorchSharp.so version needs (GLIBCXX_3.4.32 must show 'flags: WEAK' on a GCC 12 system):"
  objdump -p "$bundle/app/libLibTorchSharp.so" | grep -A0 'GLIBCXX_3.4.32' || true
fi

mkdir -p "$bundle/app/spam"
cp "$repo/data/sample/spam/train.tsv" "$repo/data/sample/spam/test.tsv" "$bundle/app/spam/"
cp "$repo/scripts/gpu/run-check.sh" "$bundle/run-check.sh"
chmod +x "$bundle/run-check.sh" "$bundle/app/Coherence.GpuCheck"

# Packed with the modes kept (the carry may not keep them; run-check.sh also restores the executable bit).
tar -C "$repo/.bundle" -cf - gpu | gzip -9 > "$archive"

bytes=$(du -sb "$bundle" | cut -f1)
packed=$(stat -c %s "$archive")
echo "Bundle: $bundle ($bytes bytes, about $(( (bytes + 1048575) / 1048576 )) MiB unpacked)"
echo "Packed: $archive ($packed bytes, about $(( (packed + 1048575) / 1048576 )) MiB; limit $limit_archive_mib MiB)"
if (( packed > limit_archive_mib * 1048576 )); then
  echo "build-bundle: the packed bundle is larger than $limit_archive_mib MiB" >&2
  exit 1
fi
