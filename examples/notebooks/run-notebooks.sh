#!/usr/bin/env bash
# Runs every notebook in examples/notebooks headless with dotnet-repl (from the repository's local tool manifest)
# and fails if any cell throws. Executed copies go to artifacts/notebooks/ for inspection.
# Needs the packed library: dotnet pack Microsoft.ML.Coherence -c Release -o artifacts/packages
# Usage: examples/notebooks/run-notebooks.sh [notebook.ipynb ...]   (default: all of them)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$root/artifacts/notebooks"
mkdir -p "$out"
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$root/Microsoft.ML.Coherence/Microsoft.ML.Coherence.csproj" | head -1)
[ -f "$root/artifacts/packages/Microsoft.ML.Coherence.$version.nupkg" ] || {
  echo "run-notebooks: artifacts/packages/Microsoft.ML.Coherence.$version.nupkg not found (run: dotnet pack Microsoft.ML.Coherence -c Release -o artifacts/packages)"; exit 1; }
(cd "$root" && dotnet tool restore >/dev/null) || { echo "run-notebooks: dotnet tool restore failed"; exit 1; }
# A notebook restores from the NuGet cache first: drop a cached copy of this version so the fresh package is used.
rm -rf "${NUGET_PACKAGES:-$HOME/.nuget/packages}/microsoft.ml.coherence/$version"

notebooks=("$@")
[ ${#notebooks[@]} -gt 0 ] || notebooks=("$here"/*.ipynb)
failed=0
for nb in "${notebooks[@]}"; do
  name=$(basename "$nb" .ipynb)
  start=$SECONDS
  # The kernel's working directory is the notebook's folder, as in VS Code / Jupyter (relative paths rely on it).
  (cd "$(dirname "$nb")" && timeout 900 dotnet repl --run "$(basename "$nb")" --exit-after-run --output-path "$out/$name.ipynb") > "$out/$name.log" 2>&1
  rc=$?
  # Show each failing cell's error from the executed copy.
  errors=$(python3 - "$out/$name.ipynb" <<'PY' 2>/dev/null || true
import json, sys
try:
    cells = json.load(open(sys.argv[1]))["cells"]
except Exception:
    sys.exit(0)
for i, c in enumerate(cells):
    for o in c.get("outputs", []):
        if o.get("output_type") == "error":
            print(f"  cell {i + 1}: {o.get('evalue', '')[:600]}")
PY
)
  if [ "$rc" -eq 0 ] && [ -z "$errors" ]; then
    echo "notebook $name: passed ($((SECONDS - start)) s)"
  else
    echo "notebook $name: FAILED (dotnet repl exit code $rc, $((SECONDS - start)) s; log $out/$name.log)"
    [ -n "$errors" ] && echo "$errors" || tail -n 20 "$out/$name.log"
    failed=1
  fi
done
exit "$failed"
