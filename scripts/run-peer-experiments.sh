#!/usr/bin/env bash
# The side-by-side experiments of issue 9: for each dataset and label fraction, every harness variant
# (FeaturizeText, the stage's baseline / sca / time-matched baseline / ablations, their concatenations,
# fastText's vectors and classifier) over several seeds, with WordNet synonym pairs built from that
# dataset's train texts for the rare-word AUC (left out, with a message, when the text yields no pairs).
# One harness process per (dataset, fraction), PARALLEL at a time; each writes results.json, report.md and
# PNGs into its own folder, and its console output to that folder's name + .log.
#
#   scripts/run-peer-experiments.sh [harness options]      # e.g. --steps 500 --eval-interval 50
#
# Environment (defaults in brackets):
#   DATA       folder with <set>/{train,test}.tsv             [data/full; run scripts/get-data.sh first]
#   OUT        output root; runs go to OUT/<name>-labels-<F>  [out/peers; <name> is wordnet30k for WORDNET_ROWS=30000]
#   SETS       datasets                                       ["spam wordnet"]
#   FRACTIONS  label fractions                                ["1 0.1"]
#   SEEDS      seeds 1..SEEDS                                 [3]
#   VARIANTS   harness --variants                             [issue 9's eleven, plus sca-label and featurize-text+sca-label]
#   WORDNET_ROWS  first rows of wordnet/train.tsv to train on (0: all) [30000; the committed results use 30000]
#   PARALLEL   1 runs the fractions of a set one after the other; 2 runs two at once (one libtorch thread each)  [1]
# Needs the .NET 10 SDK, WordNet (/usr/share/wordnet, or WORDNET_DIR) and, for the fastText variants,
# the fasttext command (scripts/get-data.sh installs both as root).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="${DATA:-$ROOT/data/full}"
OUT="${OUT:-$ROOT/out/peers}"
SETS="${SETS:-spam wordnet}"
FRACTIONS="${FRACTIONS:-1 0.1}"
SEEDS="${SEEDS:-3}"
VARIANTS="${VARIANTS:-featurize-text,baseline,sca,featurize-text+sca,fasttext-vectors,featurize-text+fasttext-vectors,fasttext-supervised,fasttext-supervised-tuned,time-matched-baseline,alignment-only,uniformity-only,sca-label,featurize-text+sca-label}"
WORDNET_ROWS="${WORDNET_ROWS:-30000}"
PARALLEL="${PARALLEL:-1}"
WORDNET_DIR="${WORDNET_DIR:-/usr/share/wordnet}"
PROJECT="$ROOT/tools/Coherence.Experiments"

for set in $SETS; do
  for f in train test; do
    [[ -s "$DATA/$set/$f.tsv" ]] || { echo "run-peer-experiments: $DATA/$set/$f.tsv missing; run scripts/get-data.sh first" >&2; exit 1; }
  done
done
command -v fasttext >/dev/null 2>&1 || echo "run-peer-experiments: fasttext not on PATH; its variants will be skipped (apt-get install fasttext)" >&2

dotnet build -c Release "$PROJECT" -nologo -v q >/dev/null
harness() { dotnet run -c Release --no-build --project "$PROJECT" -- "$@"; }

for set in $SETS; do
  train="$DATA/$set/train.tsv"
  name="$set"
  if [[ "$set" == wordnet && "$WORDNET_ROWS" != 0 ]]; then
    # The first rows keep the whole file's label mix; the test split stays whole.
    if (( WORDNET_ROWS % 1000 == 0 )); then name="wordnet$((WORDNET_ROWS / 1000))k"; else name="wordnet$WORDNET_ROWS"; fi
    train="$OUT/$name-train.tsv"
    mkdir -p "$OUT"
    head -n "$WORDNET_ROWS" "$DATA/$set/train.tsv" > "$train"
  fi
  # Synonym pairs banded by the counts in this set's train texts: the text the embeddings train on.
  pairs="$OUT/$name-pairs.tsv"
  mkdir -p "$OUT"
  harness wordnet-pairs --train "$train" --wordnet "$WORDNET_DIR" --out "$pairs"
  pairs_option=(--pairs "$pairs")
  [[ -s "$pairs" ]] || { echo "run-peer-experiments: no synonym pairs for $set (too little text); running without --pairs" >&2; pairs_option=(); }
  running=0
  for fraction in $FRACTIONS; do
    echo "== $set, label fraction $fraction -> $OUT/$name-labels-$fraction"
    # One libtorch thread: on a shared 2-core machine two intra-op threads spin against other work
    # (docs/results/README.md measured 0.09-0.11 s/step with 1 thread against 0.22-0.37 with 2).
    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 harness \
      --train "$train" --test "$DATA/$set/test.tsv" "${pairs_option[@]}" --variants "$VARIANTS" \
      --seeds "$SEEDS" --label-fraction "$fraction" --title "$set, label fraction $fraction" \
      --out "$OUT/$name-labels-$fraction" "$@" > "$OUT/$name-labels-$fraction.log" 2>&1 &
    running=$((running + 1))
    if (( running >= PARALLEL )); then wait -n; running=$((running - 1)); fi
  done
  wait
done
echo "run-peer-experiments: done -> $OUT"
