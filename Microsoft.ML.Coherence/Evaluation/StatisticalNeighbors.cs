using Microsoft.ML.Coherence.Internal;
namespace Microsoft.ML.Coherence.Evaluation;

/// <summary>
/// The statistical field's neighbour lists as flat arrays: for token i, slots [i*K, (i+1)*K) hold
/// its top-K PPMI neighbours (<see cref="Neighbors"/>, padding -1) and its target distribution
/// P_i(j) (<see cref="Probabilities"/>, padding 0). The arrays are not copied.
/// </summary>
public readonly struct StatisticalNeighbors
{
    /// <summary>Wraps the flat neighbour arrays of <paramref name="k"/> slots per token.</summary>
    /// <param name="neighbors">Neighbour ids, [n x <paramref name="k"/>], -1 for an empty slot.</param>
    /// <param name="probabilities">P_i(j) per slot, [n x <paramref name="k"/>], non-negative, 0 for an empty slot.</param>
    /// <param name="k">Slots per token K, at least 1.</param>
    public StatisticalNeighbors(int[] neighbors, float[] probabilities, int k)
    {
        CoherenceThrow.IfNull(neighbors, nameof(neighbors));
        CoherenceThrow.IfNull(probabilities, nameof(probabilities));
        if (k < 1)
        {
            CoherenceThrow.ValueOutOfRange(nameof(k), k, "at least 1");
        }

        if (neighbors.Length % k != 0)
        {
            CoherenceThrow.Argument(nameof(neighbors), $"'neighbors' has length {neighbors.Length}, which is not a multiple of K = {k}.");
        }

        CoherenceThrow.IfLengthDiffers(probabilities.Length, neighbors.Length, nameof(probabilities), "one probability per neighbour slot");
        Neighbors = neighbors;
        Probabilities = probabilities;
        K = k;
    }

    /// <summary>Neighbour ids, [<see cref="Tokens"/> x <see cref="K"/>], -1 for an empty slot.</summary>
    public int[] Neighbors { get; }

    /// <summary>Target probabilities P_i(j), [<see cref="Tokens"/> x <see cref="K"/>], 0 for an empty slot.</summary>
    public float[] Probabilities { get; }

    /// <summary>Slots per token.</summary>
    public int K { get; }

    /// <summary>The number of tokens n covered.</summary>
    public int Tokens => K == 0 ? 0 : Neighbors.Length / K;

    internal void ThrowIfIncompatible(EmbeddingMatrix embeddings, string paramName)
    {
        if (Neighbors is null)
        {
            CoherenceThrow.Argument(paramName, $"'{paramName}' is a default StatisticalNeighbors with no arrays; construct it with new StatisticalNeighbors(neighbors, probabilities, k).");
        }

        if (Tokens != embeddings.Rows)
        {
            CoherenceThrow.Argument(paramName, $"'{paramName}' covers {Tokens} tokens but the embedding matrix has {embeddings.Rows} rows; both must use the same vocabulary.");
        }

        // Checked here, once, at the boundary: a throw inside Parallel.For would surface as an AggregateException.
        for (var s = 0; s < Neighbors.Length; s++)
        {
            var neighbor = Neighbors[s];
            if (neighbor < -1 || neighbor >= embeddings.Rows)
            {
                CoherenceThrow.ValueOutOfRange(paramName, neighbor, $"a neighbour id in [0, {embeddings.Rows}) or -1 for padding (token {s / K}, slot {s % K})");
            }

            var probability = Probabilities[s];
            if (!(probability >= 0) || float.IsInfinity(probability))
            {
                CoherenceThrow.ValueOutOfRange(paramName, probability, $"a finite non-negative probability (token {s / K}, slot {s % K})");
            }
        }
    }
}
