#!/usr/bin/env bash
# Consumer check: builds a fresh console app in a temp folder, outside the solution, that references the
# packed Microsoft.ML.Coherence package from a local folder feed (and TorchSharp-cpu from the normal feed),
# runs nuget/consumer-check/Program.cs (train, save, reload, predict, assert), and checks that the package's
# MSBuild targets marked GLIBCXX_3.4.32 weak in the app's copy of libLibTorchSharp.so where the system
# C++ runtime lacks it (Debian 12, Ubuntu 22.04). Prints "consumer check: passed" or fails (exit != 0).
# With a Microsoft.ML version as the second argument, the app also references Microsoft.ML and
# Microsoft.ML.OnnxTransformer at that version (as an app on 6.0.0 would); without it, NuGet takes the package's floor.
# The app prints the Microsoft.ML version it ran with, and the check fails unless it is the one expected.
# Usage: nuget/consumer-check/run.sh [folder with the packages] [Microsoft.ML version]   (default: artifacts/packages; pack first)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
feed=$(cd "${1:-$root/artifacts/packages}" && pwd)
floor=$(sed -n 's:.*<MicrosoftMLFloorVersion>\(.*\)</MicrosoftMLFloorVersion>.*:\1:p' "$root/Directory.Packages.props")
mlnet=${2:-}
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$root/Microsoft.ML.Coherence/Microsoft.ML.Coherence.csproj" | head -1)
torchsharp=$(sed -n 's:.*Include="TorchSharp-cpu" Version="\([^"]*\)".*:\1:p' "$root/Directory.Packages.props")
[ -f "$feed/Microsoft.ML.Coherence.$version.nupkg" ] || { echo "consumer check: $feed/Microsoft.ML.Coherence.$version.nupkg not found (run: dotnet pack Microsoft.ML.Coherence -c Release -o artifacts/packages)"; exit 1; }

work=$(mktemp -d /tmp/coherence-consumer.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

# The shared NuGet cache may hold an older build of the same version: drop it so the fresh package is used.
cache=${NUGET_PACKAGES:-$HOME/.nuget/packages}
rm -rf "$cache/microsoft.ml.coherence/$version"

cat > nuget.config <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="local" value="$feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
</configuration>
XML
cat > Consumer.csproj <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Microsoft.ML.Coherence" Version="$version" />
    <PackageReference Include="TorchSharp-cpu" Version="$torchsharp" />
$([ -n "$mlnet" ] && printf '    <PackageReference Include="Microsoft.ML" Version="%s" />\n    <PackageReference Include="Microsoft.ML.OnnxTransformer" Version="%s" />' "$mlnet" "$mlnet")
  </ItemGroup>
</Project>
XML
cp "$here/Program.cs" .

expected=${mlnet:-$floor}
echo "consumer check: building in $work against $feed (Microsoft.ML.Coherence $version, TorchSharp-cpu $torchsharp, Microsoft.ML $expected)"
dotnet build -c Release -nologo -v:q -clp:NoSummary
# Which of the package's targets files did NuGet import into the app's build?
imported=$(grep -o 'microsoft\.ml\.coherence/[^"]*\.targets' obj/Consumer.csproj.nuget.g.targets | sort -u | tr '\n' ' ' || true)
echo "consumer check: package targets imported: ${imported:-none}"
[ -n "$imported" ] || { echo "consumer check: FAILED (the package's targets were not imported)"; exit 1; }

# The native fix: where the system C++ runtime lacks GLIBCXX_3.4.32, the app's copy must have it weak.
native=$(find bin/Release -name libLibTorchSharp.so | head -1)
[ -n "$native" ] || { echo "consumer check: FAILED (no libLibTorchSharp.so in the build output)"; exit 1; }
libstdcxx=$(ls /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib64/libstdc++.so.6 2>/dev/null | head -1 || true)
if [ -n "$libstdcxx" ] && ! grep -qa 'GLIBCXX_3\.4\.32' "$libstdcxx"; then
  line=$(readelf -V "$native" | grep 'Name: GLIBCXX_3\.4\.32' || true)
  echo "consumer check: $libstdcxx lacks GLIBCXX_3.4.32; readelf -V $native:"
  echo "  ${line#"${line%%[![:space:]]*}"}"
  grep -q 'Flags: WEAK' <<<"$line" || { echo "consumer check: FAILED (GLIBCXX_3.4.32 is not weak in the app's libLibTorchSharp.so)"; exit 1; }
  cached="$cache/torchsharp/$torchsharp/runtimes/linux-x64/native/libLibTorchSharp.so"
  if [ -f "$cached" ] && readelf -V "$cached" | grep 'Name: GLIBCXX_3\.4\.32' | grep -q 'Flags: WEAK'; then
    echo "consumer check: FAILED (the NuGet cache's libLibTorchSharp.so was modified; the fix must touch only the output copy)"; exit 1
  fi
else
  echo "consumer check: the system C++ runtime defines GLIBCXX_3.4.32 (or none found): no native fix needed"
fi

output=$(dotnet "bin/Release/net10.0/Consumer.dll" "$root/data/sample/spam" 300) || { echo "$output"; exit 1; }
echo "$output"
grep -q "^Microsoft.ML in use: $expected\$" <<<"$output" || { echo "consumer check: FAILED (expected to run with Microsoft.ML $expected)"; exit 1; }
