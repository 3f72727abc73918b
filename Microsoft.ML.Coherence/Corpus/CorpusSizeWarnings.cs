namespace Microsoft.ML.Coherence.Corpus;

/// <summary>
/// What a run's figures can and cannot mean when its corpus is small: the warnings a fit writes to the log and to
/// <see cref="CoherenceTrainingReport.Warnings"/>. The fit still runs; the thresholds are orders of magnitude, not limits.
/// </summary>
internal static class CorpusSizeWarnings
{
    /// <summary>Fewer held-out tokens than this make held-out perplexity a rough figure.</summary>
    public const int MinHeldOutTokens = 1_000;

    /// <summary>Fewer training tokens than this leave most words with a handful of occurrences.</summary>
    public const int MinTrainingTokens = 10_000;

    public static IReadOnlyList<string> For(long trainingTokens, long heldOutTokens, float heldOutFraction)
    {
        var warnings = new List<string>();
        if (trainingTokens < MinTrainingTokens)
        {
            warnings.Add(FormattableString.Invariant($"The training split has {trainingTokens:N0} tokens (fewer than {MinTrainingTokens:N0}): ") +
                "most words occur a handful of times, so their embeddings and co-occurrence neighbours are mostly noise, and a difference the " +
                "coherence terms make cannot be told from run-to-run variation. Train on more text, or reuse a stage trained on a larger corpus " +
                "(CoherenceEmbeddingTransformer.FromModel).");
        }
        if (heldOutFraction > 0 && heldOutTokens < MinHeldOutTokens)
        {
            warnings.Add(FormattableString.Invariant($"Held-out perplexity rests on {heldOutTokens:N0} held-out tokens (fewer than {MinHeldOutTokens:N0}): ") +
                "read it as a rough figure, not as evidence that one run beats another.");
        }
        return warnings;
    }
}
