namespace Microsoft.ML.Coherence.Statistics;

/// <summary>
/// Chooses the alignment anchors of a step: distinct known tokens of the batch that have
/// statistical neighbours, in a seeded shuffle, at most <c>AnchorsPerStep</c>. Anchors from the batch
/// keep the coherence term on the tokens the language model is updating anyway.
/// </summary>
internal static class AnchorSampler
{
    public static long[] Draw(long[] batchIds, StatisticalField field, int maxAnchors, Random random)
    {
        var seen = new bool[field.VocabularySize]; // a flag per id: cheaper than a HashSet for a batch's few thousand ids
        var distinct = new List<long>();
        foreach (long id in batchIds)
        {
            if (id != 0 && !seen[id] && field.NeighborCountPerToken[id] > 0)
            {
                seen[id] = true;
                distinct.Add(id);
            }
        }
        // Partial Fisher-Yates: the first maxAnchors entries are a uniform sample.
        int take = Math.Min(maxAnchors, distinct.Count);
        for (int i = 0; i < take; i++)
        {
            int j = random.Next(i, distinct.Count);
            (distinct[i], distinct[j]) = (distinct[j], distinct[i]);
        }
        return distinct.GetRange(0, take).ToArray();
    }
}
