using Microsoft.ML.Coherence.Corpus;

namespace Microsoft.ML.Coherence.Training;

/// <summary>
/// Mean pooling of documents as a sparse product, so that each distinct token is gathered once: feature[b] =
/// Σ_w (count of w in b / n_b) · vector[w] over the n_b known tokens (id 0 skipped, as the saved chain's mean does).
/// </summary>
internal sealed record LabelBatch(BagEntries Words, long[] Labels)
{
    public int DocumentCount => Labels.Length;

    public static LabelBatch Create(TokenCorpus corpus, IReadOnlyList<LabelledDocument> documents)
    {
        var words = new BagBuilder();
        var labels = new long[documents.Count];
        var wordCounts = new Dictionary<int, int>();
        for (int b = 0; b < documents.Count; b++)
        {
            labels[b] = documents[b].Label;
            wordCounts.Clear();
            var ids = corpus.Document(documents[b].Document);
            int known = 0;
            for (int i = 0; i < ids.Length; i++)
            {
                if (ids[i] != 0)
                {
                    known++;
                    wordCounts[ids[i]] = wordCounts.GetValueOrDefault(ids[i]) + 1;
                }
            }
            words.Add(b, wordCounts, known);
        }
        return new LabelBatch(words.Build(), labels);
    }

    /// <summary>Entries of the word table of a batch's mean: distinct rows, and per entry its document, slot and weight.</summary>
    private sealed class BagBuilder
    {
        private readonly Dictionary<int, int> _slotOf = [];
        private readonly List<long> _distinct = [];
        private readonly List<long> _document = [];
        private readonly List<long> _slot = [];
        private readonly List<float> _weight = [];

        public void Add(int document, Dictionary<int, int> counts, int known)
        {
            // Sorted ids: the order of the entries (and so the float sums) does not depend on dictionary order.
            foreach (var (id, count) in counts.OrderBy(p => p.Key))
            {
                if (!_slotOf.TryGetValue(id, out int slot))
                {
                    slot = _distinct.Count;
                    _slotOf[id] = slot;
                    _distinct.Add(id);
                }
                _document.Add(document);
                _slot.Add(slot);
                _weight.Add((float)count / known);
            }
        }

        public BagEntries Build() => new(_distinct.ToArray(), _document.ToArray(), _slot.ToArray(), _weight.ToArray());
    }
}

/// <summary>A sparse [documents, rows] pooling matrix: the distinct rows it reads, and per entry its document, its slot in those rows and its weight.</summary>
internal sealed record BagEntries(long[] DistinctIds, long[] EntryDocument, long[] EntrySlot, float[] EntryWeight);
