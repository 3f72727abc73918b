using Microsoft.ML.Coherence.Internal;
namespace Microsoft.ML.Coherence.Evaluation;

/// <summary>One gold word-similarity judgement: two words and a human score (or a 0/1 label).</summary>
/// <param name="First">The first word.</param>
/// <param name="Second">The second word.</param>
/// <param name="Score">The gold similarity; higher is more similar.</param>
internal sealed record WordSimilarityPair(string First, string Second, double Score);

/// <summary>The result of <see cref="WordSimilarity.Evaluate"/>.</summary>
/// <param name="Spearman">Spearman correlation of cosine vs gold over the pairs found; NaN with fewer than two, or a constant side.</param>
/// <param name="Auc">ROC AUC of cosine for gold labels when every gold score is 0 or 1; otherwise null (NaN if one class is missing).</param>
/// <param name="PairsFound">Pairs with both words in the vocabulary.</param>
/// <param name="PairsSkipped">Pairs with a word out of the vocabulary.</param>
internal sealed record WordSimilarityResult(double Spearman, double? Auc, int PairsFound, int PairsSkipped);

/// <summary>Word-similarity benchmark: how well embedding cosine ranks user-supplied word pairs.</summary>
internal static class WordSimilarity
{
    /// <summary>
    /// Scores each pair by the cosine of its two embeddings and compares with the gold scores. A pair is
    /// skipped (out of vocabulary) when <paramref name="lookup"/> returns null or 0 (the unknown token)
    /// for either word. A zero vector has cosine 0 with everything.
    /// </summary>
    /// <param name="pairs">The gold pairs.</param>
    /// <param name="lookup">Maps a word to its token id, or null when it is not in the vocabulary.</param>
    /// <param name="embeddings">E, [n, d]; ids from <paramref name="lookup"/> must be below n.</param>
    public static WordSimilarityResult Evaluate(IEnumerable<WordSimilarityPair> pairs, Func<string, int?> lookup, EmbeddingMatrix embeddings)
    {
        CoherenceThrow.IfNull(pairs, nameof(pairs));
        CoherenceThrow.IfNull(lookup, nameof(lookup));
        embeddings.ThrowIfEmpty(nameof(embeddings));
        var cosines = new List<double>();
        var gold = new List<double>();
        var skipped = 0;
        var binary = true;
        foreach (var pair in pairs)
        {
            CoherenceThrow.IfNull(pair, nameof(pairs));
            var a = Id(lookup, pair.First, embeddings.Rows);
            var b = Id(lookup, pair.Second, embeddings.Rows);
            if (a is null || b is null)
            {
                skipped++;
                continue;
            }

            if (double.IsNaN(pair.Score))
            {
                CoherenceThrow.Argument(nameof(pairs), $"The gold score of ('{pair.First}', '{pair.Second}') is NaN.");
            }

            cosines.Add(Cosine(embeddings.Row(a.Value), embeddings.Row(b.Value)));
            gold.Add(pair.Score);
            binary &= pair.Score is 0 or 1;
        }

        var spearman = RankStatistics.Spearman(cosines.ToArray(), gold.ToArray());
        double? auc = null;
        if (binary && gold.Count > 0)
        {
            auc = RankStatistics.RocAuc(cosines.ToArray(), gold.Select(g => g == 1).ToArray());
        }

        return new WordSimilarityResult(spearman, auc, gold.Count, skipped);
    }

    private static int? Id(Func<string, int?> lookup, string word, int rows)
    {
        var id = lookup(word);
        if (id is null or 0)
        {
            return null;
        }

        if (id < 0 || id >= rows)
        {
            CoherenceThrow.ValueOutOfRange("lookup", id, $"a token id in [0, {rows}) or null (looked up '{word}')");
        }

        return id;
    }

    private static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var norms = Math.Sqrt(VectorMath.DotDouble(a, a) * VectorMath.DotDouble(b, b));
        return norms == 0 ? 0 : VectorMath.DotDouble(a, b) / norms;
    }
}
