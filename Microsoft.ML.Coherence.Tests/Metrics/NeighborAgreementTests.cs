using Microsoft.ML.Coherence.Evaluation;

namespace Microsoft.ML.Coherence.Tests.Metrics;

[TestClass]
public sealed class NeighborAgreementTests
{
    // Unit vectors at these angles (degrees). Token 0 (unknown) sits next to token 1 and must never be its neighbour.
    private static readonly double[] Angles = [1, 0, 20, 90, 100, 200];

    private static EmbeddingMatrix Embeddings()
    {
        var values = new float[Angles.Length * 2];
        for (var i = 0; i < Angles.Length; i++)
        {
            values[2 * i] = (float)Math.Cos(Angles[i] * Math.PI / 180);
            values[(2 * i) + 1] = (float)Math.Sin(Angles[i] * Math.PI / 180);
        }

        return new EmbeddingMatrix(values, 2);
    }

    // K = 3 slots per token.
    private static StatisticalNeighbors Statistical() => new(
        [
            -1, -1, -1,
            3, 2, 5,     // top-2 by probability: {2, 5} (slot order would give {3, 2})
            1, 3, -1,
            0, 5, -1,    // 0 is the unknown token and is dropped: {5}
            -1, -1, -1,  // no statistical neighbours: skipped
            3, 4, 1,     // top-2: {4, 3}
        ],
        [
            0, 0, 0,
            0.1f, 0.5f, 0.4f,
            0.6f, 0.4f, 0,
            0.9f, 0.1f, 0,
            0, 0, 0,
            0.2f, 0.7f, 0.1f,
        ],
        3);

    [TestMethod]
    public void OverlapAtTwoMatchesHandComputation()
    {
        // Cosine top-2 (excluding self and token 0): 1 -> {2, 3}, 2 -> {1, 3}, 3 -> {4, 2}, 5 -> {4, 3}.
        var overlap = NeighborAgreement.Compute(Embeddings(), Statistical(), k: 2);

        Assert.IsTrue(float.IsNaN(overlap[0]));
        Assert.AreEqual(0.5f, overlap[1], 1e-6f);
        Assert.AreEqual(1f, overlap[2], 1e-6f);
        Assert.AreEqual(0f, overlap[3], 1e-6f);
        Assert.IsTrue(float.IsNaN(overlap[4]));
        Assert.AreEqual(1f, overlap[5], 1e-6f);
    }

    [TestMethod]
    public void OverlapAtOneUsesOnlyTheNearestAndMostProbable()
    {
        // Nearest: 1 -> 2, 2 -> 1, 3 -> 4, 5 -> 4. Most probable: 1 -> 2, 2 -> 1, 3 -> 5, 5 -> 4.
        var overlap = NeighborAgreement.Compute(Embeddings(), Statistical(), k: 1);

        CollectionAssert.AreEqual(new[] { 1f, 1f, 0f }, new[] { overlap[1], overlap[2], overlap[3] });
        Assert.AreEqual(1f, overlap[5]);
    }

    [TestMethod]
    public void BucketMeansComeFromTheSummary()
    {
        var overlap = NeighborAgreement.Compute(Embeddings(), Statistical(), k: 2);
        var buckets = FrequencyBuckets.Assign([0, 5, 500, 5, 5, 50]);

        var summary = BucketedSummary.Of(overlap, buckets);

        Assert.AreEqual(2.5 / 4, summary.Overall.Mean, 1e-6);
        Assert.AreEqual(2, summary.Rare.Count); // tokens 1 and 3; 4 has no statistical neighbours
        Assert.AreEqual(0.25, summary.Rare.Mean, 1e-6);
    }

    [TestMethod]
    public void SampledQueriesAreSeededAndAgreeWithTheFullRun()
    {
        var full = NeighborAgreement.Compute(Embeddings(), Statistical(), k: 2);
        var first = NeighborAgreement.Compute(Embeddings(), Statistical(), k: 2, querySample: 2, seed: 3);
        var second = NeighborAgreement.Compute(Embeddings(), Statistical(), k: 2, querySample: 2, seed: 3);

        CollectionAssert.AreEqual(first, second);
        var queried = 0;
        for (var i = 0; i < full.Length; i++)
        {
            if (!float.IsNaN(first[i]))
            {
                queried++;
                Assert.AreEqual(full[i], first[i]);
            }
        }

        Assert.IsLessThanOrEqualTo(2, queried);
        Assert.IsGreaterThanOrEqualTo(1, queried);
    }

    [TestMethod]
    public void SampleCoveringEveryTokenEqualsTheFullRun()
    {
        CollectionAssert.AreEqual(
            NeighborAgreement.Compute(Embeddings(), Statistical(), k: 2),
            NeighborAgreement.Compute(Embeddings(), Statistical(), k: 2, querySample: 100, seed: 1));
    }

    [TestMethod]
    public void ZeroKThrows()
    {
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => NeighborAgreement.Compute(Embeddings(), Statistical(), k: 0));
        Assert.AreEqual("k", error.ParamName);
    }
}
