using Microsoft.ML.Coherence.Statistics;
using Microsoft.ML.Coherence.Training;

namespace Microsoft.ML.Coherence.Tests;

[TestClass]
public sealed class StatisticalFieldTests
{
    // Counts of the document 1 2 3 1 <unk> 2, window 2 (see CooccurrenceCountsTests):
    // C[1,2] = 2, C[1,3] = 1.5, C[2,3] = 1; row (= column) sums 3.5, 3, 2.5.
    private static CooccurrenceCounts HandCounts()
    {
        var counts = new CooccurrenceCounts(vocabularySize: 4, window: 2);
        counts.AddDocument([1, 2, 3, 1, 0, 2]);
        return counts;
    }

    [TestMethod]
    public void PpmiMatchesHandArithmetic()
    {
        // alpha = 0.75: 3.5^0.75 = 2.558887, 3^0.75 = 2.279507, 2.5^0.75 = 1.988177; sum 6.826570.
        // P_alpha(2) = 2.279507 / 6.826570 = 0.333917.
        // PMI(1,2) = log(C[1,2] / (C[1,*] P_alpha(2))) = log(2 / (3.5 * 0.333917)) = log(1.711275) = 0.537247.
        var ppmi = new PpmiCalculator(HandCounts(), smoothing: 0.75);
        Assert.AreEqual(0.537247, ppmi.Ppmi(1, 2), 1e-6);
        // PMI(2,1) = log(2 / (3 * 2.558887 / 6.826570)) = log(1.778549) = 0.575785: PMI is not symmetric once smoothed.
        Assert.AreEqual(0.575785, ppmi.Ppmi(2, 1), 1e-6);
        Assert.AreEqual(0.0, ppmi.Ppmi(1, 1));
        Assert.AreEqual(0.0, ppmi.Ppmi(0, 1));
    }

    [TestMethod]
    public void FieldKeepsBestNeighboursAndNormalisesThem()
    {
        // PPMI row 1: (2) 0.537247, (3) 0.386307. Row 3: (1) 0.470425, (2) 0.180572.
        var field = StatisticalField.Build(HandCounts(), neighborCount: 2);

        CollectionAssert.AreEqual(new[] { 2, 3 }, field.GetNeighbors(1).ToArray());
        Assert.AreEqual(0.537247 / (0.537247 + 0.386307), field.GetProbabilities(1)[0], 1e-6);
        Assert.AreEqual(0.386307 / (0.537247 + 0.386307), field.GetProbabilities(1)[1], 1e-6);
        CollectionAssert.AreEqual(new[] { 1, 2 }, field.GetNeighbors(3).ToArray());
        Assert.AreEqual(0.470425f, field.Ppmi[3 * 2], 1e-6f);
        Assert.AreEqual(0, field.NeighborCountPerToken[0], "the unknown token has no neighbours");
        CollectionAssert.AreEqual(new[] { -1, -1 }, field.Neighbors[0..2]);
    }

    [TestMethod]
    public void FieldEqualsBruteForceTopKOnRandomCorpus()
    {
        const int Size = 40;
        const int K = 5;
        var counts = CooccurrenceCounts.Count(CooccurrenceCountsTests.RandomCorpus(seed: 5, documents: 200, vocabularySize: Size), Size, window: 3);
        var ppmi = new PpmiCalculator(counts);
        var field = StatisticalField.Build(counts, K);

        for (var i = 0; i < Size; i++)
        {
            var expected = Enumerable.Range(0, Size)
                .Where(j => j != i && ppmi.Ppmi(i, j) > 0)
                .OrderByDescending(j => ppmi.Ppmi(i, j)).ThenBy(j => j)
                .Take(K).ToArray();
            CollectionAssert.AreEqual(expected, field.GetNeighbors(i).ToArray(), $"token {i}");
            if (expected.Length > 0)
            {
                Assert.AreEqual(1.0, field.GetProbabilities(i).ToArray().Sum(p => (double)p), 1e-5);
            }
        }
    }

    [TestMethod]
    public void SaveThenLoadGivesEqualArrays()
    {
        var counts = CooccurrenceCounts.Count(CooccurrenceCountsTests.RandomCorpus(seed: 9, documents: 100, vocabularySize: 30), 30, window: 5);
        var field = StatisticalField.Build(counts, neighborCount: 4, smoothing: 0.5);
        using var stream = new MemoryStream();
        field.Save(stream);
        stream.Position = 0;
        var loaded = StatisticalField.Load(stream);

        Assert.AreEqual(field.VocabularySize, loaded.VocabularySize);
        Assert.AreEqual(field.NeighborCount, loaded.NeighborCount);
        Assert.AreEqual(0.5, loaded.Smoothing);
        CollectionAssert.AreEqual(field.Neighbors, loaded.Neighbors);
        CollectionAssert.AreEqual(field.Probabilities, loaded.Probabilities);
        CollectionAssert.AreEqual(field.Ppmi, loaded.Ppmi);
        CollectionAssert.AreEqual(field.NeighborCountPerToken, loaded.NeighborCountPerToken);
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(12)]
    [DataRow(40)]
    public void NeighborCountOutOfRangeThrows(int neighborCount)
    {
        var counts = new CooccurrenceCounts(vocabularySize: 12, window: 2);
        var exception = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => StatisticalField.Build(counts, neighborCount));
        Assert.AreEqual("neighborCount", exception.ParamName);
        Assert.Contains($"NeighborCount (K) is {neighborCount} but the vocabulary has 12 tokens; use 1..11", exception.Message);
    }

    [TestMethod]
    [DataRow(0.0)]
    [DataRow(1.5)]
    [DataRow(double.NaN)]
    public void SmoothingOutOfRangeThrows(double smoothing)
    {
        var exception = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => StatisticalField.Build(HandCounts(), 2, smoothing));
        Assert.AreEqual("smoothing", exception.ParamName);
        Assert.Contains("(0, 1]", exception.Message);
    }
}
