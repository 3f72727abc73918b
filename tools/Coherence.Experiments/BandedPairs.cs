using Microsoft.ML.Coherence.Evaluation;

namespace Coherence.Experiments;

/// <summary>
/// Word-pair scores of one embedding table, overall and per <see cref="FrequencyBand"/> (the band of the
/// pair's rarer word, counted in the embeddings' training text), written into a run's metrics.
/// </summary>
internal static class BandedPairs
{
    /// <summary>
    /// Sets pairsSpearman, pairsAuc, pairsFound, pairsSkipped, and pairsAuc&lt;band&gt; / pairsFound&lt;band&gt;
    /// for each band with pairs. Words are looked up lower-cased (the stage lower-cases its tokens).
    /// </summary>
    public static void Put(RunResult result, IReadOnlyList<WordSimilarityPair> pairs, IReadOnlyDictionary<string, long> counts,
        Func<string, int?> lookup, EmbeddingMatrix matrix)
    {
        int? Id(string w) => lookup(w.ToLowerInvariant());
        var all = WordSimilarity.Evaluate(pairs, Id, matrix);
        result["pairsSpearman"] = all.Spearman;
        result["pairsAuc"] = all.Auc;
        result["pairsFound"] = all.PairsFound;
        result["pairsSkipped"] = all.PairsSkipped;
        for (var band = 0; band < FrequencyBand.Names.Length; band++)
        {
            var inBand = pairs.Where(p => BandOf(p, counts) == band).ToList();
            if (inBand.Count == 0)
            {
                continue;
            }

            var r = WordSimilarity.Evaluate(inBand, Id, matrix);
            result["pairsAuc" + FrequencyBand.MetricSuffixes[band]] = r.Auc;
            result["pairsFound" + FrequencyBand.MetricSuffixes[band]] = r.PairsFound;
        }
    }

    /// <summary>The band of the rarer of the pair's two words, or null when it is seen fewer than 5 times.</summary>
    public static int? BandOf(WordSimilarityPair pair, IReadOnlyDictionary<string, long> counts) =>
        FrequencyBand.Of(Math.Min(counts.GetValueOrDefault(pair.First.ToLowerInvariant()), counts.GetValueOrDefault(pair.Second.ToLowerInvariant())));
}
