using Microsoft.ML.Coherence.Internal;
namespace Microsoft.ML.Coherence.Evaluation;

/// <summary>
/// Per-token coherence score c_i = e_i^T T_i e_i / (|e_i|^2 trace(T_i)), with the context tensor
/// T_i = sum_j P_i(j) e_j e_j^T over token i's statistical neighbours.
/// </summary>
/// <remarks>
/// T_i (d x d) is never built: e_i^T T_i e_i = sum_j P_i(j) (e_i . e_j)^2 and
/// trace(T_i) = sum_j P_i(j) |e_j|^2, so one token costs O(K d). c_i lies in [0, 1]
/// (Cauchy-Schwarz): 1 when every neighbour is parallel to e_i, 0 when all are orthogonal.
/// It does not depend on how P_i is normalised. Token 0 (unknown), tokens with no neighbours
/// (all slots -1 or zero probability), a zero e_i, or trace(T_i) = 0 get NaN, which
/// <see cref="DistributionSummary"/> skips. Parallel over tokens; pair dot products in SIMD float, sums in double.
/// </remarks>
public static class CoherenceScores
{
    /// <summary>The coherence score of every token, NaN where undefined (see remarks).</summary>
    /// <param name="embeddings">E, [n, d].</param>
    /// <param name="neighbors">The statistical field's neighbours for the same n tokens.</param>
    /// <returns>c, length n; c[0] is NaN.</returns>
    public static float[] Compute(EmbeddingMatrix embeddings, StatisticalNeighbors neighbors)
    {
        embeddings.ThrowIfEmpty(nameof(embeddings));
        neighbors.ThrowIfIncompatible(embeddings, nameof(neighbors));
        var scores = new float[embeddings.Rows];
        if (scores.Length > 0)
        {
            scores[0] = float.NaN;
        }

        var e = embeddings;
        var nb = neighbors;
        var squaredNorms = VectorMath.SquaredNorms(embeddings);
        Parallel.For(1, embeddings.Rows, i => scores[i] = ScoreOf(e, nb, squaredNorms, i));
        return scores;
    }

    /// <summary>The coherence score of token <paramref name="token"/> alone, NaN where undefined.</summary>
    /// <param name="embeddings">E, [n, d].</param>
    /// <param name="neighbors">The statistical field's neighbours for the same n tokens.</param>
    /// <param name="token">The token id, in [1, n).</param>
    public static float Compute(EmbeddingMatrix embeddings, StatisticalNeighbors neighbors, int token)
    {
        embeddings.ThrowIfEmpty(nameof(embeddings));
        neighbors.ThrowIfIncompatible(embeddings, nameof(neighbors));
        if (token < 1 || token >= embeddings.Rows)
        {
            CoherenceThrow.ValueOutOfRange(nameof(token), token, $"[1, {embeddings.Rows}) (0 is the unknown token)");
        }

        return ScoreOf(embeddings, neighbors, VectorMath.SquaredNorms(embeddings), token);
    }

    private static float ScoreOf(EmbeddingMatrix embeddings, StatisticalNeighbors neighbors, double[] squaredNorms, int i)
    {
        var ei = embeddings.Row(i);
        var normSquared = squaredNorms[i];
        if (normSquared == 0)
        {
            return float.NaN;
        }

        double quadratic = 0;  // e_i^T T_i e_i
        double trace = 0;      // trace(T_i)
        var k = neighbors.K;
        for (var s = i * k; s < (i + 1) * k; s++)
        {
            var j = neighbors.Neighbors[s];
            var p = (double)neighbors.Probabilities[s];
            if (j < 0 || p <= 0)
            {
                continue;
            }

            // SIMD float dot per pair (relative error ~1e-7 for d = 64); the sums over neighbours are in double.
            double dot = VectorMath.Dot(ei, embeddings.Row(j));
            quadratic += p * dot * dot;
            trace += p * squaredNorms[j];
        }

        if (trace <= 0)
        {
            return float.NaN;
        }

        // Clamp round-off: mathematically the ratio is in [0, 1].
        return (float)Math.Clamp(quadratic / (normSquared * trace), 0.0, 1.0);
    }
}
