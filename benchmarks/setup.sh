#!/usr/bin/env bash
# Setup for the benchmarks (benchmarks/README.md): installs the fastText 0.9.2 command-line tool (Debian package
# fasttext) that the paired mode compares with, when the fasttext command is missing; then builds the benchmarks.
#
#   benchmarks/setup.sh            # as root, or with sudo available
#
# Idempotent: does nothing to the system when fasttext is already on PATH. Without it the paired mode still runs
# and says that fastText was skipped.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if command -v fasttext >/dev/null 2>&1; then
  echo "setup: fasttext found at $(command -v fasttext)"
else
  SUDO=""
  if [[ "$(id -u)" != "0" ]]; then
    if command -v sudo >/dev/null 2>&1; then
      SUDO="sudo"
    else
      echo "setup: fasttext is missing and this is neither root nor a user with sudo; install the Debian package fasttext, or the paired mode skips fastText" >&2
      exit 1
    fi
  fi
  echo "setup: installing the Debian package fasttext"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends fasttext >/dev/null
  echo "setup: fasttext installed at $(command -v fasttext)"
fi

dotnet build -c Release "$ROOT/benchmarks/Coherence.Benchmarks"
