using Microsoft.ML.Coherence.Evaluation;

namespace Microsoft.ML.Coherence.Tests.Metrics;

[TestClass]
public sealed class DistributionSummaryTests
{
    [TestMethod]
    public void SummaryOfOneToFourSkipsNaN()
    {
        var summary = DistributionSummary.Of([4f, 1f, float.NaN, 3f, 2f]);

        Assert.AreEqual(4, summary.Count);
        Assert.AreEqual(2.5, summary.Mean, 1e-12);
        Assert.AreEqual(Math.Sqrt(5.0 / 3.0), summary.StandardDeviation, 1e-12); // sample sd, divisor n - 1
        Assert.AreEqual(1.0, summary.Min);
        Assert.AreEqual(1.75, summary.LowerQuartile, 1e-12); // type 7: h = 0.75
        Assert.AreEqual(2.5, summary.Median, 1e-12);
        Assert.AreEqual(3.25, summary.UpperQuartile, 1e-12);
        Assert.AreEqual(4.0, summary.Max);
    }

    [TestMethod]
    public void EmptySummaryHasCountZeroAndNaN()
    {
        var summary = DistributionSummary.Of([float.NaN]);

        Assert.AreEqual(0, summary.Count);
        Assert.IsTrue(double.IsNaN(summary.Mean));
        Assert.IsTrue(double.IsNaN(summary.Median));
    }

    [TestMethod]
    public void HistogramBinsAreHalfOpenAndLastBinIsClosed()
    {
        var counts = DistributionSummary.Histogram([0f, 0.5f, 1f, 1.9f, 2f, 4f, 5f, -1f, float.NaN], [0, 1, 2, 4]);

        CollectionAssert.AreEqual(new long[] { 2, 2, 2 }, counts);
    }

    [TestMethod]
    public void UniformEdgesEndExactlyAtMax()
    {
        CollectionAssert.AreEqual(new[] { 0.0, 0.25, 0.5, 0.75, 1.0 }, DistributionSummary.UniformBinEdges(0, 1, 4));
    }

    [TestMethod]
    public void DecreasingEdgesThrow()
    {
        var error = Assert.ThrowsExactly<ArgumentException>(() => DistributionSummary.Histogram([1f], [0, 2, 1]));
        Assert.AreEqual("binEdges", error.ParamName);
    }

    [TestMethod]
    public void BucketedSummarySplitsByBucketAndSkipsUnknown()
    {
        float[] perToken = [9f, 0.2f, 0.4f, 0.9f, float.NaN];
        FrequencyBucket[] buckets = [FrequencyBucket.Excluded, FrequencyBucket.Rare, FrequencyBucket.Rare, FrequencyBucket.Frequent, FrequencyBucket.Medium];

        var summary = BucketedSummary.Of(perToken, buckets);

        Assert.AreEqual(3, summary.Overall.Count);
        Assert.AreEqual(0.5, summary.Overall.Mean, 1e-6);
        Assert.AreEqual(2, summary.Rare.Count);
        Assert.AreEqual(0.3, summary[FrequencyBucket.Rare].Mean, 1e-6);
        Assert.AreEqual(0, summary.Medium.Count);
        Assert.AreEqual(0.9, summary.Frequent.Mean, 1e-6);
    }
}
