namespace Microsoft.ML.Coherence.Evaluation;

/// <summary>
/// Coherence above chance: kappa_i = (c_i - b_i) / (1 - b_i), where c_i is the coherence score
/// (<see cref="CoherenceScores"/>) and b_i is the same Rayleigh quotient with the context tensor
/// of a token drawn uniformly from the vocabulary, M = mean_j e_j e_j^T (rows 1..n-1):
/// b_i = e_i^T M e_i / (|e_i|^2 trace M).
/// </summary>
/// <remarks>
/// The raw score rewards collapse: when every embedding lies in a few directions, any context
/// lies along e_i and c_i is near 1 whatever the statistics say. kappa is 0 when i's statistical
/// neighbours are no more along e_i than a random token, 1 when they are all parallel to it, and
/// negative when they are less aligned than chance. NaN where c_i is undefined or b_i = 1
/// (a rank-1 table, where the question has no answer).
/// </remarks>
internal static class ChanceCorrectedCoherence
{
    /// <summary>kappa for every token, NaN where undefined; index 0 (unknown) is NaN.</summary>
    /// <param name="embeddings">E, [n, d].</param>
    /// <param name="neighbors">The statistical field's neighbours for the same n tokens.</param>
    public static float[] Compute(EmbeddingMatrix embeddings, StatisticalNeighbors neighbors)
    {
        var raw = CoherenceScores.Compute(embeddings, neighbors);
        int d = embeddings.Dimension, n = embeddings.Rows;
        var second = new double[d * d]; // M = mean of e_j e_j^T over known tokens
        for (int j = 1; j < n; j++)
        {
            var e = embeddings.Row(j);
            for (int a = 0; a < d; a++)
                for (int b = a; b < d; b++)
                    second[a * d + b] += (double)e[a] * e[b];
        }
        double trace = 0;
        for (int a = 0; a < d; a++)
        {
            for (int b = a; b < d; b++)
            {
                second[a * d + b] /= Math.Max(1, n - 1);
                second[b * d + a] = second[a * d + b];
            }
            trace += second[a * d + a];
        }
        var kappa = new float[n];
        kappa[0] = float.NaN;
        Parallel.For(1, n, i =>
        {
            var e = embeddings.Row(i);
            double norm = 0, quadratic = 0;
            for (int a = 0; a < d; a++)
            {
                norm += (double)e[a] * e[a];
                double row = 0;
                for (int b = 0; b < d; b++)
                    row += second[a * d + b] * e[b];
                quadratic += e[a] * row;
            }
            double chance = norm > 0 && trace > 0 ? quadratic / (norm * trace) : double.NaN;
            kappa[i] = float.IsNaN(raw[i]) || double.IsNaN(chance) || chance >= 1 - 1e-9
                ? float.NaN
                : (float)((raw[i] - chance) / (1 - chance));
        });
        return kappa;
    }
}
