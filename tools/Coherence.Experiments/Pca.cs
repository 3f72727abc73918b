using Microsoft.ML.Coherence.Evaluation;

namespace Coherence.Experiments;

/// <summary>2-D PCA of embedding rows: project the centred rows on the top two eigenvectors of their covariance.</summary>
internal static class Pca
{
    /// <summary>Projects rows <paramref name="rows"/> of <paramref name="matrix"/> on its top-2 principal axes (fitted on those rows).</summary>
    /// <returns>x and y per row, and the share of variance each axis explains.</returns>
    public static (double[] X, double[] Y, double Share1, double Share2) Project(EmbeddingMatrix matrix, IReadOnlyList<int> rows)
    {
        var d = matrix.Dimension;
        var mean = new double[d];
        foreach (var r in rows)
        {
            var row = matrix.Row(r);
            for (var c = 0; c < d; c++)
            {
                mean[c] += row[c];
            }
        }

        for (var c = 0; c < d; c++)
        {
            mean[c] /= Math.Max(rows.Count, 1);
        }

        var covariance = new double[d * d];
        var centred = new double[d];
        foreach (var r in rows)
        {
            var row = matrix.Row(r);
            for (var c = 0; c < d; c++)
            {
                centred[c] = row[c] - mean[c];
            }

            for (var p = 0; p < d; p++)
            {
                for (var q = p; q < d; q++)
                {
                    covariance[(p * d) + q] += centred[p] * centred[q];
                }
            }
        }

        for (var p = 0; p < d; p++)
        {
            for (var q = p; q < d; q++)
            {
                covariance[(q * d) + p] = covariance[(p * d) + q];
            }
        }

        var (values, vectors) = SymmetricEigen.Decompose(covariance, d);
        var total = values.Where(v => v > 0).Sum();
        var x = new double[rows.Count];
        var y = new double[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            var row = matrix.Row(rows[i]);
            for (var c = 0; c < d; c++)
            {
                var v = row[c] - mean[c];
                x[i] += v * vectors[c];
                y[i] += v * vectors[d + c];
            }
        }

        return (x, y, total > 0 ? values[0] / total : double.NaN, total > 0 ? values[1] / total : double.NaN);
    }
}
