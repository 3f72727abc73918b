using Microsoft.ML.Coherence.Internal;
namespace Microsoft.ML.Coherence.Evaluation;

/// <summary>
/// Matrix-level measures of representation collapse: anisotropy, effective rank, isotropy, and the
/// drift between two checkpoints. Each uses every row it is given, so pass
/// <see cref="EmbeddingMatrix.WithoutUnknown"/> to leave out the unknown token.
/// </summary>
public static class EmbeddingMetrics
{
    /// <summary>
    /// Anisotropy: the mean cosine similarity over all distinct pairs of non-zero rows,
    /// in [-1/(n-1), 1]; 1 when all rows point the same way, near 0 for isotropic directions.
    /// </summary>
    /// <remarks>
    /// Exact over all pairs in O(n d), no sampling: with u_i = e_i/|e_i|,
    /// sum over i != j of u_i . u_j = |sum_i u_i|^2 - n, so the mean is (|sum_i u_i|^2 - n) / (n (n - 1)).
    /// Zero rows have no direction and are left out. NaN with fewer than two non-zero rows.
    /// </remarks>
    /// <param name="embeddings">The rows to compare.</param>
    public static double Anisotropy(EmbeddingMatrix embeddings)
    {
        embeddings.ThrowIfEmpty(nameof(embeddings));
        var d = embeddings.Dimension;
        var sum = new double[d];
        long count = 0;
        for (var i = 0; i < embeddings.Rows; i++)
        {
            var row = embeddings.Row(i);
            var norm = Math.Sqrt(VectorMath.DotDouble(row, row));
            if (norm == 0)
            {
                continue;
            }

            count++;
            for (var c = 0; c < d; c++)
            {
                sum[c] += row[c] / norm;
            }
        }

        if (count < 2)
        {
            return double.NaN;
        }

        double squared = 0;
        foreach (var s in sum)
        {
            squared += s * s;
        }

        return (squared - count) / (count * (double)(count - 1));
    }

    /// <summary>
    /// Effective rank (Roy and Vetterli 2007): exp(H(p)) with p_k = s_k / sum s, s the singular values
    /// of the matrix; d for an orthogonal frame of equal norms, 1 for a rank-1 matrix. In [1, d].
    /// </summary>
    /// <remarks>
    /// The singular values are the square roots of the eigenvalues of the d x d Gram matrix X^T X
    /// (Jacobi, in double; tiny negative round-off is clamped to 0). By default X is NOT centred:
    /// a shared offset direction (the usual form of anisotropy) then counts as one dimension;
    /// with <paramref name="center"/> the column means are removed first. NaN for an all-zero matrix.
    /// </remarks>
    /// <param name="embeddings">The rows X, [n, d], d &lt;= 1024.</param>
    /// <param name="center">Whether to subtract the column means before the decomposition.</param>
    public static double EffectiveRank(EmbeddingMatrix embeddings, bool center = false)
    {
        var (values, _) = GramEigen(embeddings, center);
        double total = 0;
        var singular = new double[values.Length];
        for (var k = 0; k < values.Length; k++)
        {
            singular[k] = Math.Sqrt(Math.Max(values[k], 0));
            total += singular[k];
        }

        if (total == 0)
        {
            return double.NaN;
        }

        double entropy = 0;
        foreach (var s in singular)
        {
            if (s > 0)
            {
                var p = s / total;
                entropy -= p * Math.Log(p);
            }
        }

        return Math.Exp(entropy);
    }

    /// <summary>
    /// Isotropy I(W) = min_c Z(c) / max_c Z(c) with the partition function Z(c) = sum_i exp(c . w_i),
    /// c over the eigenvectors of W^T W and their negations (Mu and Viswanath 2018, "All-but-the-Top",
    /// after Arora et al. 2016). In (0, 1]; 1 is perfectly isotropic.
    /// </summary>
    /// <remarks>
    /// Mu and Viswanath take c over the eigenvectors only; an eigenvector's sign is arbitrary, so both
    /// signs are used here to make the measure well defined (it can only lower the value). Rows are used
    /// as given (not normalised, not centred). Z is handled in log space, so large norms do not overflow.
    /// </remarks>
    /// <param name="embeddings">The rows W, [n, d], d &lt;= 1024.</param>
    public static double Isotropy(EmbeddingMatrix embeddings)
    {
        var (_, vectors) = GramEigen(embeddings, center: false);
        var d = embeddings.Dimension;
        var rows = embeddings.Rows;
        var e = embeddings;
        var logZ = new double[2 * d]; // [k, sign]: log Z(+c_k), log Z(-c_k)
        Parallel.For(0, d, k =>
        {
            // Projections in SIMD float: exp(c . w) only needs ~1e-7 relative accuracy here.
            var c = new float[d];
            for (var j = 0; j < d; j++)
            {
                c[j] = (float)vectors[(k * d) + j];
            }

            var projections = new double[rows];
            for (var i = 0; i < rows; i++)
            {
                projections[i] = VectorMath.Dot(c, e.Row(i));
            }

            logZ[2 * k] = LogSumExp(projections, 1.0);
            logZ[(2 * k) + 1] = LogSumExp(projections, -1.0);
        });

        var minLog = logZ.Min();
        var maxLog = logZ.Max();
        return Math.Exp(minLog - maxLog);
    }

    /// <summary>
    /// Relative drift between checkpoints: |E_t - E_(t-1)|_F / |E_t|_F. NaN when E_t is all zero.
    /// </summary>
    /// <param name="current">E_t.</param>
    /// <param name="previous">E_(t-1), the same shape as <paramref name="current"/>.</param>
    public static double Drift(EmbeddingMatrix current, EmbeddingMatrix previous)
    {
        current.ThrowIfEmpty(nameof(current));
        previous.ThrowIfEmpty(nameof(previous));
        if (current.Rows != previous.Rows || current.Dimension != previous.Dimension)
        {
            CoherenceThrow.Argument(nameof(previous), $"'previous' is [{previous.Rows}, {previous.Dimension}] but 'current' is [{current.Rows}, {current.Dimension}]; drift needs the same shape.");
        }

        double difference = 0, norm = 0;
        var a = current.Values;
        var b = previous.Values;
        for (var i = 0; i < a.Length; i++)
        {
            var delta = (double)a[i] - b[i];
            difference += delta * delta;
            norm += (double)a[i] * a[i];
        }

        return norm == 0 ? double.NaN : Math.Sqrt(difference / norm);
    }

    /// <summary>The d x d Gram matrix X^T X (optionally of centred X), in double; parallel over row blocks.</summary>
    internal static double[] Gram(EmbeddingMatrix embeddings, bool center)
    {
        embeddings.ThrowIfEmpty(nameof(embeddings));
        var d = embeddings.Dimension;
        if (d > 1024)
        {
            CoherenceThrow.ValueOutOfRange(nameof(embeddings), d, "a dimension of at most 1024 (the Jacobi solver is O(d^3))");
        }

        var mean = center ? ColumnMeans(embeddings) : new double[d];
        // Fixed contiguous partitions, each with its own partial sum, added in order: the result does not
        // depend on thread scheduling or on the machine's core count.
        var partitions = Math.Max(1, Math.Min(16, (embeddings.Rows + 255) / 256));
        var partials = new double[partitions][];
        Parallel.For(0, partitions, part => partials[part] = UpperGram(embeddings, mean,
            (int)((long)embeddings.Rows * part / partitions), (int)((long)embeddings.Rows * (part + 1) / partitions)));

        var gram = new double[d * d];
        foreach (var local in partials)
        {
            for (var k = 0; k < local.Length; k++)
            {
                gram[k] += local[k];
            }
        }

        for (var p = 0; p < d; p++)
        {
            for (var q = p + 1; q < d; q++)
            {
                gram[(q * d) + p] = gram[(p * d) + q];
            }
        }

        return gram;
    }

    private static double[] ColumnMeans(EmbeddingMatrix embeddings)
    {
        var d = embeddings.Dimension;
        var mean = new double[d];
        for (var i = 0; i < embeddings.Rows; i++)
        {
            var row = embeddings.Row(i);
            for (var c = 0; c < d; c++)
            {
                mean[c] += row[c];
            }
        }

        for (var c = 0; c < d; c++)
        {
            mean[c] /= Math.Max(1, embeddings.Rows);
        }

        return mean;
    }

    /// <summary>The upper triangle of Σ (x - mean)(x - mean)ᵀ over rows [start, end).</summary>
    private static double[] UpperGram(EmbeddingMatrix e, double[] mean, int start, int end)
    {
        var d = e.Dimension;
        var local = new double[d * d];
        var centred = new double[d];
        for (var i = start; i < end; i++)
        {
            var row = e.Row(i);
            for (var c = 0; c < d; c++)
            {
                centred[c] = row[c] - mean[c];
            }

            for (var p = 0; p < d; p++)
            {
                var xp = centred[p];
                for (var q = p; q < d; q++)
                {
                    local[(p * d) + q] += xp * centred[q];
                }
            }
        }

        return local;
    }

    private static (double[] Values, double[] Vectors) GramEigen(EmbeddingMatrix embeddings, bool center) =>
        SymmetricEigen.Decompose(Gram(embeddings, center), embeddings.Dimension);

    private static double LogSumExp(double[] values, double sign)
    {
        if (values.Length == 0)
        {
            return double.NegativeInfinity;
        }

        var max = double.NegativeInfinity;
        foreach (var v in values)
        {
            max = Math.Max(max, sign * v);
        }

        double sum = 0;
        foreach (var v in values)
        {
            sum += Math.Exp((sign * v) - max);
        }

        return max + Math.Log(sum);
    }
}
