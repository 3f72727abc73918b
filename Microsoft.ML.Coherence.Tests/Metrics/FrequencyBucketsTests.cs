using Microsoft.ML.Coherence.Evaluation;

namespace Microsoft.ML.Coherence.Tests.Metrics;

[TestClass]
public sealed class FrequencyBucketsTests
{
    [TestMethod]
    public void DefaultThresholdsSplitAtTenAndOneHundred()
    {
        var buckets = FrequencyBuckets.Assign([999, 9, 10, 99, 100, 0]);

        CollectionAssert.AreEqual(
            new[] { FrequencyBucket.Excluded, FrequencyBucket.Rare, FrequencyBucket.Medium, FrequencyBucket.Medium, FrequencyBucket.Frequent, FrequencyBucket.Rare },
            buckets);
    }

    [TestMethod]
    public void CustomThresholdsAreHonoured()
    {
        var buckets = FrequencyBuckets.Assign([0, 2, 3, 5], rareBelow: 3, frequentFrom: 5);

        CollectionAssert.AreEqual(
            new[] { FrequencyBucket.Excluded, FrequencyBucket.Rare, FrequencyBucket.Medium, FrequencyBucket.Frequent },
            buckets);
    }

    [TestMethod]
    public void NegativeCountThrows()
    {
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => FrequencyBuckets.Assign([0, -1]));
        Assert.AreEqual("frequencies", error.ParamName);
    }
}
