#!/usr/bin/env bash
# Regenerate the committed samples in data/sample/ from data/full/ (run
# scripts/get-data.sh first). Deterministic: rows are chosen by MD5 order, no
# randomness, so the output is byte-identical on every machine.
#
#   data/sample/spam/{train,test}.tsv     800 / 200 messages, label proportions of the full
#                                         split kept, text truncated to 600 characters
#   data/sample/wordnet/{train,test}.tsv  8 supersenses x 190 / x 50 glosses
#   data/sample/brown/{train,test}.tsv    1,200 / 400 paragraphs, genre proportions of the full split kept
#   data/sample/corpus.txt                5,000 unlabelled lines from the full *train* splits
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
for f in spam/train.tsv spam/test.tsv wordnet/train.tsv wordnet/test.tsv brown/train.tsv brown/test.tsv; do
  [[ -s "$ROOT/data/full/$f" ]] || { echo "make-samples: data/full/$f missing; run scripts/get-data.sh first" >&2; exit 1; }
done
command -v node >/dev/null 2>&1 || { echo "make-samples: node is required" >&2; exit 1; }
node "$ROOT/scripts/datatools.js" samples "$ROOT/data/full" "$ROOT/data/sample"
