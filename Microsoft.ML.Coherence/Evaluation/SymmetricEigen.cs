namespace Microsoft.ML.Coherence.Evaluation;

/// <summary>
/// Eigen-decomposition of a small dense symmetric matrix by the cyclic Jacobi method, in double.
/// O(d^3) per sweep and typically under 10 sweeps: meant for Gram matrices with d &lt;= 1024.
/// </summary>
internal static class SymmetricEigen
{
    private const int MaxSweeps = 100;

    /// <summary>Decomposes the symmetric d x d row-major <paramref name="matrix"/> (not modified).</summary>
    /// <returns>Eigenvalues in descending order, and eigenvectors as the rows of a d x d row-major array (row k belongs to value k).</returns>
    public static (double[] Values, double[] Vectors) Decompose(double[] matrix, int d)
    {
        var a = (double[])matrix.Clone();
        var v = new double[d * d];
        for (var i = 0; i < d; i++)
        {
            v[(i * d) + i] = 1;
        }

        for (var sweep = 0; sweep < MaxSweeps && !IsDiagonal(a, d); sweep++)
        {
            for (var p = 0; p < d - 1; p++)
            {
                for (var q = p + 1; q < d; q++)
                {
                    Rotate(a, v, d, p, q);
                }
            }
        }

        var order = Enumerable.Range(0, d).OrderByDescending(i => a[(i * d) + i]).ThenBy(i => i).ToArray();
        var values = new double[d];
        var vectors = new double[d * d];
        for (var r = 0; r < d; r++)
        {
            values[r] = a[(order[r] * d) + order[r]];
            Array.Copy(v, order[r] * d, vectors, r * d, d);
        }

        return (values, vectors);
    }

    /// <summary>Whether the off-diagonal mass is negligible against the diagonal's.</summary>
    private static bool IsDiagonal(double[] a, int d)
    {
        double offDiagonal = 0, diagonal = 0;
        for (var p = 0; p < d; p++)
        {
            diagonal += a[(p * d) + p] * a[(p * d) + p];
            for (var q = p + 1; q < d; q++)
            {
                offDiagonal += a[(p * d) + q] * a[(p * d) + q];
            }
        }

        return offDiagonal <= 1e-30 * Math.Max(diagonal, double.Epsilon);
    }

    /// <summary>The Jacobi rotation J that zeroes a[p, q] (Golub and Van Loan, Algorithm 8.4.1): A &lt;- Jᵀ A J, V &lt;- Jᵀ V.</summary>
    private static void Rotate(double[] a, double[] v, int d, int p, int q)
    {
        var apq = a[(p * d) + q];
        if (apq == 0)
        {
            return;
        }

        var theta = (a[(q * d) + q] - a[(p * d) + p]) / (2 * apq);
        var t = theta == 0 ? 1 : Math.Sign(theta) / (Math.Abs(theta) + Math.Sqrt((theta * theta) + 1));
        var c = 1 / Math.Sqrt((t * t) + 1);
        var s = t * c;
        for (var k = 0; k < d; k++)
        {
            var akp = a[(k * d) + p];
            var akq = a[(k * d) + q];
            a[(k * d) + p] = (c * akp) - (s * akq);
            a[(k * d) + q] = (s * akp) + (c * akq);
        }

        RotateRows(a, d, p, q, c, s);
        RotateRows(v, d, p, q, c, s); // eigenvectors accumulate as rows
    }

    private static void RotateRows(double[] m, int d, int p, int q, double c, double s)
    {
        for (var k = 0; k < d; k++)
        {
            var mpk = m[(p * d) + k];
            var mqk = m[(q * d) + k];
            m[(p * d) + k] = (c * mpk) - (s * mqk);
            m[(q * d) + k] = (s * mpk) + (c * mqk);
        }
    }
}
