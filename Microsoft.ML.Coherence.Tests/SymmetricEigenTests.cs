using Microsoft.ML.Coherence.Evaluation;

namespace Microsoft.ML.Coherence.Tests;

[TestClass]
public sealed class SymmetricEigenTests
{
    /// <summary>A = Q diag(λ) Qᵀ with a seeded orthogonal Q (Gram-Schmidt) and known λ, ties and a zero included.</summary>
    [TestMethod]
    [DataRow(1)]
    [DataRow(5)]
    [DataRow(24)]
    public void DecomposeRecoversPlantedEigenvaluesAndVectors(int d)
    {
        var random = new Random(d);
        var q = Orthogonal(d, random);
        var planted = Enumerable.Range(0, d).Select(i => i % 7 == 3 ? 0.0 : (i % 5 == 1 ? 2.5 : random.NextDouble() * 10 - 4)).ToArray();
        var a = new double[d * d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
                for (int k = 0; k < d; k++)
                    a[(i * d) + j] += q[k][i] * planted[k] * q[k][j];

        var before = a.ToArray();
        var (values, vectors) = SymmetricEigen.Decompose(a, d);

        var expected = planted.OrderByDescending(v => v).ToArray();
        for (int k = 0; k < d; k++)
        {
            Assert.AreEqual(expected[k], values[k], 1e-9, $"eigenvalue {k}");
            // A v = λ v and |v| = 1 for every returned row.
            var v = vectors.AsSpan(k * d, d).ToArray();
            Assert.AreEqual(1.0, Math.Sqrt(v.Sum(x => x * x)), 1e-9, $"|v{k}|");
            for (int i = 0; i < d; i++)
            {
                double av = 0;
                for (int j = 0; j < d; j++)
                    av += a[(i * d) + j] * v[j];
                Assert.AreEqual(values[k] * v[i], av, 1e-8, $"(A v{k})[{i}]");
            }
        }
        CollectionAssert.AreEqual(before, a, "the input is not modified");
    }

    private static double[][] Orthogonal(int d, Random random)
    {
        var rows = new double[d][];
        for (int r = 0; r < d; r++)
        {
            var v = Enumerable.Range(0, d).Select(_ => random.NextDouble() - 0.5).ToArray();
            for (int p = 0; p < r; p++)
            {
                double dot = v.Zip(rows[p], (x, y) => x * y).Sum();
                for (int i = 0; i < d; i++)
                    v[i] -= dot * rows[p][i];
            }
            double norm = Math.Sqrt(v.Sum(x => x * x));
            rows[r] = v.Select(x => x / norm).ToArray();
        }
        return rows;
    }
}
