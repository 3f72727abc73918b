using Microsoft.ML.Coherence.Statistics;

namespace Microsoft.ML.Coherence.Training;

/// <summary>
/// One step's alignment work built on the host in plain arrays: the anchors, their K statistical
/// neighbours and target probabilities (padding id 0, P = 0), the shared negatives, the additive
/// logit mask and the constant sum P log P. Training gathers the same on the device
/// (<see cref="AlignmentTensors.Gather"/>); this form is the readable reference it is tested against.
/// </summary>
internal sealed class AlignmentBatch
{
    /// <summary>Logit given to masked entries; finite so that 0 · log Q stays 0 rather than NaN.</summary>
    public const float MaskedLogit = -1e9f;

    public AlignmentBatch(long[] anchors, long[] neighbors, float[] probabilities, long[] negatives, int k)
    {
        Anchors = anchors;
        Neighbors = neighbors;
        Probabilities = probabilities;
        Negatives = negatives;
        K = k;
    }

    public long[] Anchors { get; }
    /// <summary>[A·K], row-major by anchor.</summary>
    public long[] Neighbors { get; }
    /// <summary>[A·K] target P_i(j); padding 0.</summary>
    public float[] Probabilities { get; }
    public long[] Negatives { get; }
    public int K { get; }

    /// <summary>All rows to gather, in order: anchors, neighbours, negatives.</summary>
    public IEnumerable<long> RowIds => Anchors.Concat(Neighbors).Concat(Negatives);

    public int RowCount => Anchors.Length + Neighbors.Length + Negatives.Length;

    public static AlignmentBatch Create(long[] anchors, StatisticalField field, long[] negatives)
    {
        int k = field.NeighborCount;
        var neighbors = new long[anchors.Length * k];
        var probabilities = new float[anchors.Length * k];
        for (int a = 0; a < anchors.Length; a++)
        {
            // GetNeighbors returns the kept neighbours only; the rest of the row stays padding (id 0, P = 0).
            var ids = field.GetNeighbors((int)anchors[a]);
            var p = field.GetProbabilities((int)anchors[a]);
            for (int j = 0; j < ids.Length && j < k; j++)
            {
                neighbors[a * k + j] = ids[j];
                probabilities[a * k + j] = p[j];
            }
        }
        return new AlignmentBatch(anchors, neighbors, probabilities, negatives, k);
    }

    /// <summary>
    /// Additive mask [A, K + M]: padding neighbours, and negatives that are the anchor itself or one of its
    /// neighbours (not negatives for that anchor), get <see cref="MaskedLogit"/>; everything else 0.
    /// </summary>
    public float[] LogitMask()
    {
        int a = Anchors.Length, m = Negatives.Length, width = K + m;
        var mask = new float[a * width];
        // Where each negative id sits: the first slot of each distinct id, and for each slot the next slot with the same id
        // (an id may be drawn more than once), so each anchor checks its K neighbours against the negatives in O(K) rather
        // than O(K·M).
        var first = new Dictionary<long, int>(m);
        var next = new int[m];
        for (int n = m - 1; n >= 0; n--)
        {
            next[n] = first.TryGetValue(Negatives[n], out int later) ? later : -1;
            first[Negatives[n]] = n;
        }
        void MaskNegatives(int row, long id)
        {
            if (!first.TryGetValue(id, out int n))
                return;
            for (; n >= 0; n = next[n])
                mask[row * width + K + n] = MaskedLogit;
        }
        for (int i = 0; i < a; i++)
        {
            MaskNegatives(i, Anchors[i]);
            for (int j = 0; j < K; j++)
            {
                if (Probabilities[i * K + j] <= 0)
                    mask[i * width + j] = MaskedLogit;
                else
                    MaskNegatives(i, Neighbors[i * K + j]);
            }
        }
        return mask;
    }

    /// <summary>mean_i sum_j P_i(j) log P_i(j): the constant part of KL(P || Q), which has no gradient.</summary>
    public double MeanNegativeEntropy()
    {
        double sum = 0;
        foreach (float p in Probabilities)
        {
            if (p > 0)
                sum += p * Math.Log(p);
        }
        return Anchors.Length == 0 ? 0 : sum / Anchors.Length;
    }
}
