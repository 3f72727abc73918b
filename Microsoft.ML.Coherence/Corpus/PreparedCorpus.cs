using System.Diagnostics;
using Microsoft.ML.Coherence.Internal;
using Microsoft.ML.Coherence.Statistics;
using Microsoft.ML.Coherence.Text;
using Microsoft.ML.Data;

namespace Microsoft.ML.Coherence.Corpus;

/// <summary>
/// Everything training needs from the text, made in two streaming passes: the vocabulary (pass 1);
/// the token ids and their held-out split (pass 2); then co-occurrence counts of the training split
/// and the statistical field. Held-out documents feed neither the vocabulary, nor the unigram frequencies, nor the
/// co-occurrence counts, so held-out perplexity stays honest for SCA and for the baseline.
/// </summary>
internal sealed record PreparedCorpus(Vocabulary Vocabulary, TokenCorpus Train, TokenCorpus HeldOut, StatisticalField Field,
    int CooccurringPairs, double Seconds)
{
    /// <param name="documents">The tokenised rows (a long one in pieces), read twice (each piece's buffer only until the next).</param>
    /// <param name="options">The run's own copy of the options: a default <see cref="CoherenceEmbeddingOptions.NeighborCount"/> too
    /// large for the vocabulary is lowered in it.</param>
    /// <param name="seed">The run's seed (the held-out split).</param>
    /// <param name="log">Receives a line when a default is adapted to the data.</param>
    public static PreparedCorpus Prepare(Func<IEnumerable<TokenPiece>> documents, CoherenceEmbeddingOptions options, int seed, Action<string>? log = null)
    {
        var clock = Stopwatch.StartNew();
        long managedBefore = GC.GetTotalMemory(forceFullCollection: false);
        var isHeldOut = TokenCorpus.HeldOutRule(options.HeldOutFraction, seed);
        var vocabulary = Vocabulary.BuildFromSlices(TokenPiece.WithDocumentIndex(documents()).Where(p => !isHeldOut(p.Document)).Select(p => p.Piece.Tokens),
            options.MinCount, options.MaxVocabularySize);
        if (options.NeighborCount >= vocabulary.Count && !options.NeighborCountIsExplicit && vocabulary.Count >= 2)
        {
            log?.Invoke($"NeighborCount lowered from its default {options.NeighborCount} to {vocabulary.Count - 1}: the vocabulary has only " +
                $"{vocabulary.Count} tokens (the unknown token included).");
            options.NeighborCount = vocabulary.Count - 1;
        }
        if (options.NeighborCount >= vocabulary.Count)
            CoherenceThrow.OptionOutOfRange(nameof(options.NeighborCount), options.NeighborCount,
                $"1..{vocabulary.Count - 1}: the vocabulary has {vocabulary.Count} tokens (the unknown token included); lower NeighborCount or MinCount");

        // A long row leaves ML.NET's normalised text and token slices behind (about 15 bytes a character); collected here,
        // the next pass reuses that memory instead of adding its own.
        IdleMemory.CollectBetweenPasses(managedBefore);
        var (train, heldOut) = Encode(documents(), vocabulary, isHeldOut);
        IdleMemory.CollectBetweenPasses(managedBefore);
        if (train.TokenCount <= options.Window)
            CoherenceThrow.InvalidCorpus(
                $"The training corpus has {train.TokenCount} tokens, not more than Window ({options.Window}): co-occurrence counting needs " +
                "a corpus longer than the window. Add text, or lower Window.");

        var counts = CooccurrenceCounts.Count(Enumerable.Range(0, train.DocumentCount).Select(train.DocumentMemory), vocabulary.Count, options.Window);
        var field = StatisticalField.Build(counts, options.NeighborCount, options.ContextSmoothing);
        return new PreparedCorpus(vocabulary, train, heldOut, field, counts.NonZeroPairs, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Pass 2: each row's token ids, straight into the training or the held-out corpus (one id buffer, reused).</summary>
    private static (TokenCorpus Train, TokenCorpus HeldOut) Encode(IEnumerable<TokenPiece> documents, Vocabulary vocabulary,
        Func<int, bool> isHeldOut)
    {
        var (train, heldOut) = (new TokenCorpus(), new TokenCorpus());
        var ids = Array.Empty<int>();
        foreach (var (document, piece) in TokenPiece.WithDocumentIndex(documents))
        {
            var tokens = piece.Tokens.GetValues();
            if (ids.Length < tokens.Length)
                ids = new int[Math.Max(tokens.Length, 2 * ids.Length)];
            vocabulary.Encode(tokens, ids);
            // A piece that continues a document goes where its first piece went: the same document index, the same split.
            var corpus = isHeldOut(document) ? heldOut : train;
            if (piece.ContinuesDocument && corpus.DocumentCount > 0)
                corpus.AppendToLastDocument(ids.AsSpan(0, tokens.Length));
            else
                corpus.AddDocument(ids.AsSpan(0, tokens.Length));
        }
        return (train, heldOut);
    }
}
