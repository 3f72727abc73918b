using System.Diagnostics;
using Microsoft.ML.Coherence.Internal;
using Microsoft.ML.Coherence.Statistics;
using Microsoft.ML.Coherence.Text;

namespace Microsoft.ML.Coherence.Training;

/// <summary>
/// Everything training needs from the text, made in two streaming passes: the vocabulary (pass 1);
/// the token ids and their held-out split (pass 2); then co-occurrence counts of the training split
/// and the statistical field. Held-out documents feed neither the vocabulary, nor the unigram frequencies, nor the
/// co-occurrence counts, so held-out perplexity stays honest for SCA and for the baseline.
/// </summary>
internal sealed record PreparedCorpus(Vocabulary Vocabulary, TokenCorpus Train, TokenCorpus HeldOut, StatisticalField Field,
    int CooccurringPairs, double Seconds)
{
    /// <param name="documents">The tokenised rows, read twice.</param>
    /// <param name="options">The run's own copy of the options: a default <see cref="CoherenceEmbeddingOptions.NeighborCount"/> too
    /// large for the vocabulary is lowered in it.</param>
    /// <param name="seed">The run's seed (the held-out split).</param>
    /// <param name="log">Receives a line when a default is adapted to the data.</param>
    public static PreparedCorpus Prepare(Func<IEnumerable<string[]>> documents, CoherenceEmbeddingOptions options, int seed, Action<string>? log = null)
    {
        var clock = Stopwatch.StartNew();
        var isHeldOut = TokenCorpus.HeldOutRule(options.HeldOutFraction, seed);
        var vocabulary = Vocabulary.Build(documents().Where((_, i) => !isHeldOut(i)), options.MinCount, options.MaxVocabularySize);
        if (options.NeighborCount >= vocabulary.Count && !options.NeighborCountIsExplicit && vocabulary.Count >= 2)
        {
            log?.Invoke($"NeighborCount lowered from its default {options.NeighborCount} to {vocabulary.Count - 1}: the vocabulary has only " +
                $"{vocabulary.Count} tokens (the unknown token included).");
            options.NeighborCount = vocabulary.Count - 1;
        }
        if (options.NeighborCount >= vocabulary.Count)
            CoherenceThrow.OptionOutOfRange(nameof(options.NeighborCount), options.NeighborCount,
                $"1..{vocabulary.Count - 1}: the vocabulary has {vocabulary.Count} tokens (the unknown token included); lower NeighborCount or MinCount");

        var corpus = new TokenCorpus();
        foreach (var tokens in documents())
            corpus.AddDocument(vocabulary.Encode(tokens));
        var (train, heldOut) = corpus.Split(isHeldOut);
        if (train.TokenCount <= options.Window)
            CoherenceThrow.InvalidCorpus(
                $"The training corpus has {train.TokenCount} tokens, not more than Window ({options.Window}): co-occurrence counting needs " +
                "a corpus longer than the window. Add text, or lower Window.");

        var counts = CooccurrenceCounts.Count(Enumerable.Range(0, train.DocumentCount).Select(i => train.Document(i).ToArray()),
            vocabulary.Count, options.Window);
        var field = StatisticalField.Build(counts, options.NeighborCount, options.ContextSmoothing);
        return new PreparedCorpus(vocabulary, train, heldOut, field, counts.NonZeroPairs, clock.Elapsed.TotalSeconds);
    }
}
