using Microsoft.ML.Coherence.Evaluation;

namespace Microsoft.ML.Coherence.Tests.Metrics;

[TestClass]
public sealed class DistributionDivergenceTests
{
    [TestMethod]
    public void KullbackLeiblerOfIdenticalDistributionsIsZero()
    {
        Assert.AreEqual(0.0, DistributionDivergence.KullbackLeiblerDivergence([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]), 1e-15);
        Assert.AreEqual(0.0, DistributionDivergence.JensenShannonDivergence([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]), 1e-15);
    }

    [TestMethod]
    public void KullbackLeiblerHandExample()
    {
        // 0.5 ln(0.5/0.25) + 0.5 ln(0.5/0.75) = 0.5 (ln 2 - ln 1.5) = 0.1438410.
        Assert.AreEqual(0.14384103622589045, DistributionDivergence.KullbackLeiblerDivergence([0.5, 0.5], [0.25, 0.75]), 1e-12);
    }

    [TestMethod]
    public void JensenShannonOfDisjointDistributionsIsLnTwo()
    {
        Assert.AreEqual(Math.Log(2), DistributionDivergence.JensenShannonDivergence([1, 0], [0, 1]), 1e-12);
        Assert.AreEqual(double.PositiveInfinity, DistributionDivergence.KullbackLeiblerDivergence([1, 0], [0, 1]));
    }

    [TestMethod]
    public void PerTokenDivergenceUsesSoftmaxOfCosineOverTemperature()
    {
        // Rows: 0 unknown, 1 (1,0), 2 (1,0), 3 (0,1), 4 (1,1), 5 (1,-1).
        var embeddings = new EmbeddingMatrix([0, 0, 1, 0, 1, 0, 0, 1, 1, 1, 1, -1], 2);
        var neighbors = new StatisticalNeighbors(
            [-1, -1, 2, 3, -1, -1, -1, -1, -1, -1, 4, 5],
            [0, 0, 0.5f, 0.5f, 0, 0, 0, 0, 0, 0, 0.5f, 0.5f],
            2);

        var divergence = DistributionDivergence.Compute(embeddings, neighbors, temperature: 1);

        // Token 1: cosines (1, 0), so Q = (e, 1)/(e + 1); P = (1/2, 1/2).
        var q1 = Math.E / (Math.E + 1);
        var expected = (0.5 * Math.Log(0.5 / q1)) + (0.5 * Math.Log(0.5 / (1 - q1)));
        Assert.AreEqual(0.12011450695827745, expected, 1e-12);
        Assert.AreEqual(expected, divergence.KullbackLeibler[1], 1e-6);

        // Token 5 = (1,-1): neighbours (1,1) and itself, cosines 0 and 1: the same KL as token 1. Tokens 2 to 4 have none.
        Assert.IsTrue(float.IsNaN(divergence.KullbackLeibler[0]));
        Assert.IsTrue(float.IsNaN(divergence.KullbackLeibler[2]));
        Assert.AreEqual(expected, divergence.KullbackLeibler[5], 1e-6);
        Assert.AreEqual(2, divergence.Count);
        Assert.AreEqual(expected, divergence.MeanKullbackLeibler, 1e-6);
        Assert.IsGreaterThan(0.0, divergence.MeanJensenShannon);
        Assert.IsLessThan(expected, divergence.MeanJensenShannon); // JS <= KL here
    }

    [TestMethod]
    public void SymmetricNeighboursMatchUniformTargetExactly()
    {
        // Token 1 = (1,0) with neighbours (1,1) and (1,-1): equal cosines, so Q = (1/2, 1/2) = P at any temperature.
        var embeddings = new EmbeddingMatrix([0, 0, 1, 0, 1, 1, 1, -1], 2);
        var neighbors = new StatisticalNeighbors([-1, -1, 2, 3, -1, -1, -1, -1], [0, 0, 0.5f, 0.5f, 0, 0, 0, 0], 2);

        var divergence = DistributionDivergence.Compute(embeddings, neighbors, temperature: 0.05);

        Assert.AreEqual(0f, divergence.KullbackLeibler[1], 1e-7f);
        Assert.AreEqual(0f, divergence.JensenShannon[1], 1e-7f);
    }

    [TestMethod]
    public void NonPositiveTemperatureThrows()
    {
        var embeddings = new EmbeddingMatrix([0, 0, 1, 0], 2);
        var neighbors = new StatisticalNeighbors([-1, -1], [0, 0], 1);

        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => DistributionDivergence.Compute(embeddings, neighbors, temperature: 0));
        Assert.AreEqual("temperature", error.ParamName);
    }
}
