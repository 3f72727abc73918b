using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Training;

/// <summary>
/// Chooses the alignment anchors of a step: distinct known tokens of the batch that have
/// statistical neighbours, in a seeded shuffle, at most <c>AnchorsPerStep</c>. Anchors from the batch
/// keep the coherence term on the tokens the language model is updating anyway.
/// </summary>
internal static class AnchorSampler
{
    public static long[] Draw(long[] batchIds, StatisticalField field, int maxAnchors, Random random)
    {
        var seen = new HashSet<long>();
        var distinct = new List<long>();
        foreach (long id in batchIds)
        {
            if (id != 0 && field.NeighborCountPerToken[id] > 0 && seen.Add(id))
                distinct.Add(id);
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

    /// <returns>neighbours [A, K] int64 (padding replaced by id 0) and probabilities [A, K] (padding 0), on the CPU.</returns>
    public static (Tensor Neighbors, Tensor Probabilities) NeighborTensors(long[] anchors, StatisticalField field)
    {
        int k = field.NeighborCount;
        var neighbors = new long[anchors.Length * k];
        var probabilities = new float[anchors.Length * k];
        for (int a = 0; a < anchors.Length; a++)
        {
            var ids = field.GetNeighbors((int)anchors[a]);
            var p = field.GetProbabilities((int)anchors[a]);
            // A token may have fewer than K neighbours: GetNeighbors returns only those, and the rest of the
            // row stays padding (id 0, probability 0).
            for (int j = 0; j < ids.Length && j < k; j++)
            {
                neighbors[a * k + j] = ids[j] < 0 ? 0 : ids[j];
                probabilities[a * k + j] = ids[j] < 0 ? 0 : p[j];
            }
        }
        return (tensor(neighbors, [anchors.Length, k]), tensor(probabilities, [anchors.Length, k]));
    }
}
