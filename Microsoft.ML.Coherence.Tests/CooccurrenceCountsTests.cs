using Microsoft.ML.Coherence.Statistics;
using Microsoft.ML.Coherence.Training;

namespace Microsoft.ML.Coherence.Tests;

[TestClass]
public sealed class CooccurrenceCountsTests
{
    // Document 1: positions 0..5 hold ids 1 2 3 1 0 2 (0 = unknown); window 2, weight 1/distance.
    //   distance 1: (1,2) (2,3) (3,1) +1 each; (1,0) and (0,2) skipped (unknown).
    //   distance 2: (1,3) (2,1) (1,2) +1/2 each; (3,0) skipped. The unknown at position 4 still
    //   occupies its slot, so positions 3 and 5 (ids 1 and 2) are at distance 2.
    //   C[1,2] = 1 + 1/2 + 1/2 = 2;  C[1,3] = 1 + 1/2 = 1.5;  C[2,3] = 1;  symmetric.
    private static readonly int[] s_document = [1, 2, 3, 1, 0, 2];

    [TestMethod]
    public void CountsMatchHandArithmeticForWindowTwo()
    {
        var counts = new CooccurrenceCounts(vocabularySize: 4, window: 2);
        counts.AddDocument(s_document);

        Assert.AreEqual(2L, counts.Scale); // lcm(1, 2)
        Assert.AreEqual(2.0, counts.GetCount(1, 2));
        Assert.AreEqual(2.0, counts.GetCount(2, 1));
        Assert.AreEqual(1.5, counts.GetCount(1, 3));
        Assert.AreEqual(1.5, counts.GetCount(3, 1));
        Assert.AreEqual(1.0, counts.GetCount(2, 3));
        Assert.AreEqual(1.0, counts.GetCount(3, 2));
        Assert.AreEqual(0.0, counts.GetCount(1, 1)); // positions 0 and 3 are 3 apart
        for (var j = 0; j < 4; j++)
        {
            Assert.AreEqual(0.0, counts.GetCount(0, j), "the unknown token is never counted");
        }
        Assert.AreEqual(3.5, counts.RowSum(1)); // 2 + 1.5
        Assert.AreEqual(3.0, counts.RowSum(2)); // 2 + 1
        Assert.AreEqual(2.5, counts.RowSum(3)); // 1.5 + 1
        Assert.AreEqual(9.0, counts.Total);     // 3.5 + 3 + 2.5
        Assert.AreEqual(6, counts.NonZeroPairs);
        Assert.AreEqual(6L, counts.TokensCounted);
        Assert.AreEqual(1L, counts.DocumentsCounted);
        CollectionAssert.AreEqual(new[] { (2, 2.0), (3, 1.5) }, counts.GetRow(1).ToArray());
    }

    [TestMethod]
    public void RepeatedTokenCountsInBothDirections()
    {
        // "3 3": one pair at distance 1, added to C[3,3] once per direction = 2.
        var counts = new CooccurrenceCounts(vocabularySize: 4, window: 2);
        counts.AddDocument([3, 3]);
        Assert.AreEqual(2.0, counts.GetCount(3, 3));
        Assert.AreEqual(2.0, counts.RowSum(3));
        Assert.AreEqual(1, counts.NonZeroPairs);
    }

    [TestMethod]
    public void ScaledCountsAreExactForWindowSixteen()
    {
        var counts = new CooccurrenceCounts(vocabularySize: 3, window: 16);
        Assert.AreEqual(720720L, counts.Scale); // lcm(1..16)
        var document = new int[17];
        document[0] = 1;
        document[16] = 2; // distance 16 exactly
        counts.AddDocument(document);
        Assert.AreEqual(720720L / 16, counts.GetScaledCount(1, 2));
        Assert.AreEqual(1.0 / 16, counts.GetCount(2, 1));
    }

    [TestMethod]
    public void CountsEqualBruteForceOnRandomCorpus()
    {
        const int Size = 30;
        const int Window = 5;
        var corpus = RandomCorpus(seed: 11, documents: 60, vocabularySize: Size);
        var counts = new CooccurrenceCounts(Size, Window);
        var expected = new double[Size, Size];
        foreach (var document in corpus)
        {
            counts.AddDocument(document);
            for (var p = 0; p < document.Length; p++)
            {
                for (var q = 0; q < document.Length; q++)
                {
                    var distance = Math.Abs(p - q);
                    if (distance >= 1 && distance <= Window && document[p] != 0 && document[q] != 0)
                    {
                        expected[document[p], document[q]] += 1.0 / distance;
                    }
                }
            }
        }
        for (var i = 0; i < Size; i++)
        {
            for (var j = 0; j < Size; j++)
            {
                Assert.AreEqual(expected[i, j], counts.GetCount(i, j), 1e-9, $"C[{i},{j}]");
            }
        }
    }

    [TestMethod]
    public void ShardsThenMergeEqualSinglePass()
    {
        const int Size = 50;
        var corpus = RandomCorpus(seed: 7, documents: 300, vocabularySize: Size);
        var single = new CooccurrenceCounts(Size, window: 5);
        foreach (var document in corpus)
        {
            single.AddDocument(document);
        }

        var shards = Enumerable.Range(0, 3).Select(_ => new CooccurrenceCounts(Size, window: 5)).ToArray();
        for (var d = 0; d < corpus.Length; d++)
        {
            shards[d % 3].AddDocument(corpus[d]);
        }
        var merged = new CooccurrenceCounts(Size, window: 5);
        merged.Merge(shards[2]);
        merged.Merge(shards[0]);
        merged.Merge(shards[1]);

        var parallel = CooccurrenceCounts.Count(corpus, Size, window: 5, documentsPerShard: 7, maxDegreeOfParallelism: 4);

        Assert.IsTrue(single.ContentEquals(merged));
        Assert.IsTrue(single.ContentEquals(parallel));
        Assert.IsFalse(single.ContentEquals(shards[0]), "ContentEquals must see a difference");
    }

    [TestMethod]
    public void CountsHeldAsRowsReadAndCountOnAsTheTableDoes()
    {
        // Count keeps its pairs only as sorted rows; lookups, merging and counting on must not notice.
        const int Size = 40;
        var corpus = RandomCorpus(seed: 5, documents: 120, vocabularySize: Size);
        var (first, second) = (corpus[..80], corpus[80..]);
        var reference = new CooccurrenceCounts(Size, window: 4);
        foreach (var document in corpus)
        {
            reference.AddDocument(document);
        }

        var counted = CooccurrenceCounts.Count(first, Size, window: 4, documentsPerShard: 9, maxDegreeOfParallelism: 3);
        var firstOnly = new CooccurrenceCounts(Size, window: 4);
        foreach (var document in first)
        {
            firstOnly.AddDocument(document);
        }
        Assert.AreEqual(firstOnly.NonZeroPairs, counted.NonZeroPairs);
        for (int i = 0; i < Size; i++)
        {
            for (int j = 0; j < Size; j++)
            {
                Assert.AreEqual(firstOnly.GetScaledCount(i, j), counted.GetScaledCount(i, j), $"C[{i},{j}] read from the rows");
            }
        }

        var merged = new CooccurrenceCounts(Size, window: 4);
        merged.Merge(counted);
        foreach (var document in second)
        {
            merged.AddDocument(document);
            counted.AddDocument(document);
        }
        Assert.IsTrue(reference.ContentEquals(counted), "counting on after Count");
        Assert.IsTrue(reference.ContentEquals(merged), "merging counts held as rows");
    }

    [TestMethod]
    public void SaveThenLoadGivesEqualCountsAndBytes()
    {
        var counts = CooccurrenceCounts.Count(RandomCorpus(seed: 3, documents: 100, vocabularySize: 40), 40, window: 4);
        using var first = new MemoryStream();
        counts.Save(first);
        first.Position = 0;
        var loaded = CooccurrenceCounts.Load(first);
        using var second = new MemoryStream();
        loaded.Save(second);

        Assert.IsTrue(counts.ContentEquals(loaded));
        Assert.AreEqual(counts.Total, loaded.Total);
        CollectionAssert.AreEqual(first.ToArray(), second.ToArray());
    }

    [TestMethod]
    public void LoadRejectsOtherStreams()
    {
        using var stream = new MemoryStream(new byte[64]);
        Assert.ThrowsExactly<InvalidDataException>(() => CooccurrenceCounts.Load(stream));
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(17)]
    public void WindowOutOfRangeThrows(int window)
    {
        var exception = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new CooccurrenceCounts(10, window));
        Assert.AreEqual("window", exception.ParamName);
        Assert.Contains($"Window is {window}; use 1..16", exception.Message);
    }

    [TestMethod]
    public void TokenIdOutOfRangeThrowsAndCountsNothing()
    {
        var counts = new CooccurrenceCounts(vocabularySize: 4, window: 2);
        var exception = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => counts.AddDocument([1, 2, 4]));
        Assert.AreEqual("ids", exception.ParamName);
        Assert.Contains("Token id 4 at position 2", exception.Message);
        Assert.Contains("use 0..3", exception.Message);
        Assert.AreEqual(0, counts.NonZeroPairs);
    }

    [TestMethod]
    public void MergeOfDifferentWindowThrows()
    {
        var counts = new CooccurrenceCounts(vocabularySize: 4, window: 2);
        var exception = Assert.ThrowsExactly<ArgumentException>(() => counts.Merge(new CooccurrenceCounts(4, window: 3)));
        Assert.AreEqual("other", exception.ParamName);
        Assert.Contains("Window 3", exception.Message);
        Assert.Contains("Window 2", exception.Message);
    }

    /// <summary>Zipf-like ids with about 10% unknown tokens and some empty documents.</summary>
    internal static int[][] RandomCorpus(int seed, int documents, int vocabularySize)
    {
        var random = new Random(seed);
        var corpus = new int[documents][];
        for (var d = 0; d < documents; d++)
        {
            corpus[d] = new int[random.Next(0, 40)];
            for (var p = 0; p < corpus[d].Length; p++)
            {
                corpus[d][p] = random.NextDouble() < 0.1 ? 0 : 1 + (int)((vocabularySize - 1) * Math.Pow(random.NextDouble(), 2));
            }
        }
        return corpus;
    }
}
