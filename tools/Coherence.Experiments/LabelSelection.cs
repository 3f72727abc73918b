namespace Coherence.Experiments;

/// <summary>
/// The label-scarce regime: which train rows keep their label for the downstream classifier (and for
/// fastText's supervised classifier). Every train text still trains the embeddings.
/// </summary>
/// <remarks>
/// Stratified by label: each label keeps round(fraction x its row count) rows (halves round up), and at
/// least one, so that every class the full split has is still known to the classifier (WordNet has
/// classes of 33 rows; an unstratified 10% could drop one, and the test rows of a class the classifier
/// never saw could not be scored like the others). The rows of each label are picked by a partial
/// Fisher-Yates shuffle with <see cref="Random"/> seeded by the run's seed, labels taken in ordinal order,
/// so a seed always picks the same rows.
/// </remarks>
internal static class LabelSelection
{
    /// <summary>The indices (ascending) of the rows of <paramref name="rows"/> that keep their label.</summary>
    /// <param name="rows">The train rows.</param>
    /// <param name="fraction">Share of each label's rows to keep, in (0, 1]; 1 keeps every row.</param>
    /// <param name="seed">The run's seed.</param>
    public static int[] Choose(IReadOnlyList<LabeledRow> rows, double fraction, int seed)
    {
        if (!(fraction > 0 && fraction <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "The label fraction must be in (0, 1].");
        }

        if (fraction == 1)
        {
            return Enumerable.Range(0, rows.Count).ToArray();
        }

        var random = new Random(seed);
        var kept = new List<int>();
        foreach (var group in Enumerable.Range(0, rows.Count).GroupBy(i => rows[i].Label, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var indices = group.ToArray();
            var take = KeptCount(indices.Length, fraction);
            for (var i = 0; i < take; i++)
            {
                var j = random.Next(i, indices.Length);
                (indices[i], indices[j]) = (indices[j], indices[i]);
            }

            kept.AddRange(indices.AsSpan(0, take));
        }

        kept.Sort();
        return kept.ToArray();
    }

    /// <summary>How many of a label's <paramref name="count"/> rows keep their label: round(fraction x count), at least 1.</summary>
    public static int KeptCount(int count, double fraction) =>
        Math.Clamp((int)Math.Round(fraction * count, MidpointRounding.AwayFromZero), 1, count);
}
