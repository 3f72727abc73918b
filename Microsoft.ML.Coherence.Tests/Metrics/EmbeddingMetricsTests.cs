using Microsoft.ML.Coherence.Evaluation;

namespace Microsoft.ML.Coherence.Tests.Metrics;

[TestClass]
public sealed class EmbeddingMetricsTests
{
    private static EmbeddingMatrix Identity(int d)
    {
        var values = new float[d * d];
        for (var i = 0; i < d; i++)
        {
            values[(i * d) + i] = 1;
        }

        return new EmbeddingMatrix(values, d);
    }

    [TestMethod]
    public void AnisotropyOfIdenticalDirectionsIsOne()
    {
        Assert.AreEqual(1.0, EmbeddingMetrics.Anisotropy(new EmbeddingMatrix([1, 2, 2, 2, 4, 4, 0.5f, 1, 1], 3)), 1e-9);
    }

    [TestMethod]
    public void AnisotropyOfOppositePairIsMinusOne()
    {
        Assert.AreEqual(-1.0, EmbeddingMetrics.Anisotropy(new EmbeddingMatrix([1, 0, -1, 0], 2)), 1e-12);
    }

    [TestMethod]
    public void AnisotropyHandExampleIgnoresZeroRows()
    {
        // (1,0), (0,1), (1,1): cosines 0, 1/sqrt2, 1/sqrt2; the zero row has no direction.
        var embeddings = new EmbeddingMatrix([1, 0, 0, 1, 1, 1, 0, 0], 2);

        Assert.AreEqual(Math.Sqrt(2) / 3, EmbeddingMetrics.Anisotropy(embeddings), 1e-9);
        Assert.AreEqual(0.0, EmbeddingMetrics.Anisotropy(Identity(5)), 1e-12);
    }

    [TestMethod]
    public void AnisotropyMatchesBruteForcePairs()
    {
        const int n = 30, d = 4;
        var random = new Random(11);
        var values = new float[n * d];
        for (var v = 0; v < values.Length; v++)
        {
            values[v] = (float)(random.NextDouble() + 0.2 - (v % d == 0 ? 1 : 0));
        }

        var embeddings = new EmbeddingMatrix(values, d);
        double sum = 0;
        var pairs = 0;
        for (var i = 0; i < n; i++)
        {
            for (var j = i + 1; j < n; j++)
            {
                var a = embeddings.Row(i);
                var b = embeddings.Row(j);
                double dot = 0, na = 0, nb = 0;
                for (var c = 0; c < d; c++)
                {
                    dot += a[c] * b[c];
                    na += a[c] * a[c];
                    nb += b[c] * b[c];
                }

                sum += dot / Math.Sqrt(na * nb);
                pairs++;
            }
        }

        Assert.AreEqual(sum / pairs, EmbeddingMetrics.Anisotropy(embeddings), 1e-9);
    }

    [TestMethod]
    public void EffectiveRankOfIdentityIsDimension()
    {
        Assert.AreEqual(6.0, EmbeddingMetrics.EffectiveRank(Identity(6)), 1e-9);
    }

    [TestMethod]
    public void EffectiveRankOfRankOneMatrixIsOne()
    {
        Assert.AreEqual(1.0, EmbeddingMetrics.EffectiveRank(new EmbeddingMatrix([1, 2, 2, 4, -3, -6], 2)), 1e-6);
    }

    [TestMethod]
    public void EffectiveRankHandExample()
    {
        // Singular values 3 and 1: p = (0.75, 0.25), H = -(0.75 ln 0.75 + 0.25 ln 0.25) = 0.5623351.
        var embeddings = new EmbeddingMatrix([3, 0, 0, 1], 2);

        Assert.AreEqual(Math.Exp(0.5623351446188083), EmbeddingMetrics.EffectiveRank(embeddings), 1e-9);
        Assert.AreEqual(1.7547653, EmbeddingMetrics.EffectiveRank(embeddings), 1e-6);
    }

    [TestMethod]
    public void CentringRemovesTheSharedOffset()
    {
        // (1,1) and (3,1) centre to (-1,0) and (1,0): rank 1. Uncentred they span two directions.
        var embeddings = new EmbeddingMatrix([1, 1, 3, 1], 2);

        Assert.AreEqual(1.0, EmbeddingMetrics.EffectiveRank(embeddings, center: true), 1e-6);
        Assert.IsGreaterThan(1.2, EmbeddingMetrics.EffectiveRank(embeddings));
    }

    [TestMethod]
    public void IsotropyOfSignedOrthonormalFrameIsOne()
    {
        var embeddings = new EmbeddingMatrix([1, 0, 0, -1, 0, 0, 0, 1, 0, 0, -1, 0, 0, 0, 1, 0, 0, -1], 3);

        Assert.AreEqual(1.0, EmbeddingMetrics.Isotropy(embeddings), 1e-12);
    }

    [TestMethod]
    public void IsotropyOfUnsignedBasisIsOneOverE()
    {
        // W = I (2x2): eigenvectors +-e1, +-e2. Z(e_k) = e + 1, Z(-e_k) = 1/e + 1; ratio = 1/e.
        Assert.AreEqual(Math.Exp(-1), EmbeddingMetrics.Isotropy(Identity(2)), 1e-12);
    }

    [TestMethod]
    public void IsotropyOfCollapsedRowsIsSmall()
    {
        // Every row is 10 e1: Z(e1) = 3 e^10, Z(-e1) = 3 e^-10, ratio e^-20 (computed in log space).
        var embeddings = new EmbeddingMatrix([10, 0, 10, 0, 10, 0], 2);

        Assert.AreEqual(Math.Exp(-20), EmbeddingMetrics.Isotropy(embeddings), 1e-15);
    }

    [TestMethod]
    public void DriftIsRelativeFrobeniusChange()
    {
        var current = new EmbeddingMatrix([1, 0, 0, 1], 2);
        var previous = new EmbeddingMatrix([1, 0, 0, 0], 2);

        Assert.AreEqual(1 / Math.Sqrt(2), EmbeddingMetrics.Drift(current, previous), 1e-12);
        Assert.AreEqual(0.0, EmbeddingMetrics.Drift(current, current));
    }

    [TestMethod]
    public void DriftOfDifferentShapesThrows()
    {
        var error = Assert.ThrowsExactly<ArgumentException>(
            () => EmbeddingMetrics.Drift(new EmbeddingMatrix([1, 0, 0, 1], 2), new EmbeddingMatrix([1, 0, 0, 1], 4)));
        Assert.AreEqual("previous", error.ParamName);
    }

    [TestMethod]
    public void WithoutUnknownDropsRowZero()
    {
        var embeddings = new EmbeddingMatrix([9, 9, 1, 0, -1, 0], 2).WithoutUnknown();

        Assert.AreEqual(2, embeddings.Rows);
        Assert.AreEqual(-1.0, EmbeddingMetrics.Anisotropy(embeddings), 1e-12);
    }
}
