using Microsoft.ML.Coherence.Evaluation;

namespace Microsoft.ML.Coherence.Tests.Metrics;

[TestClass]
public sealed class PerplexityTests
{
    [TestMethod]
    public void UniformOverFourGivesFour()
    {
        Assert.AreEqual(4.0, Perplexity.FromNegativeLogLikelihood(10 * Math.Log(4), 10), 1e-12);
        Assert.AreEqual(1.0, Perplexity.FromNegativeLogLikelihood(0, 3), 1e-12);
    }

    [TestMethod]
    public void NoTokensThrows()
    {
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Perplexity.FromNegativeLogLikelihood(1, 0));
        Assert.AreEqual("tokenCount", error.ParamName);
    }

    [TestMethod]
    public void NegativeOrNaNLikelihoodThrows()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Perplexity.FromNegativeLogLikelihood(-1, 5));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Perplexity.FromNegativeLogLikelihood(double.NaN, 5));
    }
}
