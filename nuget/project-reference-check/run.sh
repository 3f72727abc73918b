#!/usr/bin/env bash
# Project-reference check: builds a fresh console app in a temp folder outside the repository (so neither this
# repository's Directory.Build.* files nor the package's MSBuild targets reach it) that references
# Microsoft.ML.Coherence/Microsoft.ML.Coherence.csproj by path, plus TorchSharp-cpu, and imports only Microsoft.ML.
# It runs nuget/consumer-check/Program.cs (train, save, reload, predict, assert). Where the system C++ runtime lacks
# GLIBCXX_3.4.32 (Debian 12, Ubuntu 22.04), the app's own copy of libLibTorchSharp.so is left as TorchSharp ships
# it, so TorchSharp loads only thanks to the library's runtime native fix: the check asserts that the app's copy
# was not patched, that the process ran on the fixed copy in the per-user cache, and that the NuGet cache is untouched.
# Prints "project-reference check: passed" or fails (exit != 0).
# Usage: nuget/project-reference-check/run.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
torchsharp=$(sed -n 's:.*Include="TorchSharp-cpu" Version="\([^"]*\)".*:\1:p' "$root/Directory.Packages.props")

work=$(mktemp -d /tmp/coherence-project-reference.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

# The referenced project builds with its own folder's Directory.* files (central package versions); the app's
# folder has none, so it names its one package's version itself.
cat > Consumer.csproj <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
  </PropertyGroup>
  <ItemGroup>
    <ProjectReference Include="$root/Microsoft.ML.Coherence/Microsoft.ML.Coherence.csproj" />
    <PackageReference Include="TorchSharp-cpu" Version="$torchsharp" />
  </ItemGroup>
</Project>
XML
cp "$root/nuget/consumer-check/Program.cs" .

echo "project-reference check: building in $work against $root/Microsoft.ML.Coherence (TorchSharp-cpu $torchsharp)"
dotnet build -c Release -nologo -v:q -clp:NoSummary

native=$(find bin/Release -name libLibTorchSharp.so | head -1)
[ -n "$native" ] || { echo "project-reference check: FAILED (no libLibTorchSharp.so in the build output)"; exit 1; }
libstdcxx=$(ls /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib64/libstdc++.so.6 2>/dev/null | head -1 || true)
needs_fix=false
if [ -n "$libstdcxx" ] && ! grep -qa 'GLIBCXX_3\.4\.32' "$libstdcxx"; then
  needs_fix=true
  line=$(readelf -V "$native" | grep 'Name: GLIBCXX_3\.4\.32' || true)
  echo "project-reference check: $libstdcxx lacks GLIBCXX_3.4.32; the app's $native as built: ${line#"${line%%[![:space:]]*}"}"
  if grep -q 'Flags: WEAK' <<<"$line"; then
    echo "project-reference check: FAILED (the build patched the app's copy, so this check would not test the runtime fix)"; exit 1
  fi
fi

out=$(mktemp)
dotnet "bin/Release/net10.0/Consumer.dll" "$root/data/sample/spam" 300 | tee "$out"
loaded=$(sed -n 's/^TorchSharp native library loaded: //p' "$out")
rm -f "$out"
if [ "$needs_fix" = true ]; then
  cache=${XDG_CACHE_HOME:-$HOME/.cache}/Microsoft.ML.Coherence/native/
  case "$loaded" in
    "$cache"*) echo "project-reference check: TorchSharp ran on the runtime-fixed copy $loaded" ;;
    *) echo "project-reference check: FAILED (expected TorchSharp to run on a fixed copy under $cache, got '$loaded')"; exit 1 ;;
  esac
  nuget=${NUGET_PACKAGES:-$HOME/.nuget/packages}/torchsharp/$torchsharp/runtimes/linux-x64/native/libLibTorchSharp.so
  if [ -f "$nuget" ] && readelf -V "$nuget" | grep 'Name: GLIBCXX_3\.4\.32' | grep -q 'Flags: WEAK'; then
    echo "project-reference check: FAILED (the NuGet cache's libLibTorchSharp.so was modified)"; exit 1
  fi
fi
echo "project-reference check: passed"
