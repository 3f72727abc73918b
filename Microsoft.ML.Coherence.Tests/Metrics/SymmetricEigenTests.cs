using Microsoft.ML.Coherence.Evaluation;

namespace Microsoft.ML.Coherence.Tests.Metrics;

[TestClass]
public sealed class SymmetricEigenTests
{
    [TestMethod]
    public void TwoByTwoHasEigenvaluesThreeAndOne()
    {
        var (values, vectors) = SymmetricEigen.Decompose([2, 1, 1, 2], 2);

        Assert.AreEqual(3.0, values[0], 1e-12);
        Assert.AreEqual(1.0, values[1], 1e-12);
        Assert.AreEqual(1 / Math.Sqrt(2), Math.Abs(vectors[0]), 1e-12);
        Assert.AreEqual(vectors[0], vectors[1], 1e-12); // (1,1)/sqrt2 up to sign
    }

    [TestMethod]
    public void RandomSymmetricMatrixIsDiagonalised()
    {
        const int d = 7;
        var random = new Random(5);
        var a = new double[d * d];
        for (var p = 0; p < d; p++)
        {
            for (var q = p; q < d; q++)
            {
                a[(p * d) + q] = a[(q * d) + p] = random.NextDouble() - 0.5;
            }
        }

        var (values, vectors) = SymmetricEigen.Decompose(a, d);

        for (var k = 0; k < d; k++)
        {
            if (k > 0)
            {
                Assert.IsLessThanOrEqualTo(values[k - 1], values[k]);
            }

            for (var r = 0; r < d; r++)
            {
                double av = 0;
                for (var c = 0; c < d; c++)
                {
                    av += a[(r * d) + c] * vectors[(k * d) + c];
                }

                Assert.AreEqual(values[k] * vectors[(k * d) + r], av, 1e-10); // A v = lambda v
            }

            for (var m = 0; m < d; m++)
            {
                double dot = 0;
                for (var c = 0; c < d; c++)
                {
                    dot += vectors[(k * d) + c] * vectors[(m * d) + c];
                }

                Assert.AreEqual(k == m ? 1.0 : 0.0, dot, 1e-10); // orthonormal
            }
        }
    }
}
