#!/usr/bin/env bash
# Checks what is inside the packed Microsoft.ML.Coherence .nupkg (a zip): readme, licence, icon,
# XML docs, the TorchSharp native fix under build/ and buildTransitive/, the symbols package, and a
# nuspec that depends on TorchSharp (managed API) but on no libtorch backend.
# Usage: nuget/inspect-package.sh [folder with the packages]   (default: artifacts/packages)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-artifacts/packages}
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Microsoft.ML.Coherence/Microsoft.ML.Coherence.csproj | head -1)
pkg="$dir/Microsoft.ML.Coherence.$version.nupkg"
snupkg="$dir/Microsoft.ML.Coherence.$version.snupkg"
fail=0
check() { # check DESCRIPTION CONDITION...
  local what=$1; shift
  if "$@"; then echo "  ok   $what"; else echo "  FAIL $what"; fail=1; fi
}
[ -f "$pkg" ] || { echo "inspect-package: $pkg not found (run: dotnet pack Microsoft.ML.Coherence -c Release -o $dir)"; exit 1; }
echo "inspect-package: $pkg"
listing=$(unzip -Z1 "$pkg")
nuspec=$(unzip -p "$pkg" Microsoft.ML.Coherence.nuspec)
has() { grep -qxF "$1" <<<"$listing"; }
in_nuspec() { grep -qF "$1" <<<"$nuspec"; }
check "README.md" has README.md
check "LICENSE" has LICENSE
check "icon.png" has icon.png
check "lib/net10.0/Microsoft.ML.Coherence.dll" has lib/net10.0/Microsoft.ML.Coherence.dll
check "lib/net10.0/Microsoft.ML.Coherence.xml (XML docs)" has lib/net10.0/Microsoft.ML.Coherence.xml
check "build/Microsoft.ML.Coherence.targets" has build/Microsoft.ML.Coherence.targets
check "buildTransitive/Microsoft.ML.Coherence.targets" has buildTransitive/Microsoft.ML.Coherence.targets
check "targets are the repository's native fix" cmp -s <(unzip -p "$pkg" buildTransitive/Microsoft.ML.Coherence.targets) Microsoft.ML.Coherence/build/Microsoft.ML.Coherence.targets
check "icon under 20 KB" test "$(unzip -Zl "$pkg" icon.png | awk 'NR==1{print $4}')" -lt 20480
check "nuspec: id, version $version" in_nuspec "<version>$version</version>"
check "nuspec: MIT licence expression" in_nuspec '<license type="expression">MIT</license>'
check "nuspec: readme" in_nuspec '<readme>README.md</readme>'
check "nuspec: icon" in_nuspec '<icon>icon.png</icon>'
check "nuspec: repository url" in_nuspec '<repository type="git" url="https://'
check "nuspec: tags" in_nuspec '<tags>'
check "nuspec: depends on TorchSharp (managed API)" in_nuspec '<dependency id="TorchSharp" '
no_backend() { ! grep -qiE 'id="(libtorch-|TorchSharp-(cpu|cuda))' <<<"$nuspec"; }
check "nuspec: no libtorch-* / TorchSharp-cpu/cuda dependency" no_backend
check "symbols package $(basename "$snupkg") with the pdb" bash -c "unzip -Z1 '$snupkg' | grep -qx lib/net10.0/Microsoft.ML.Coherence.pdb"
if [ "$fail" -ne 0 ]; then echo "inspect-package: FAILED"; exit 1; fi
echo "inspect-package: passed"
