using Microsoft.ML.Coherence.Text;
using Microsoft.ML.Data;

namespace Microsoft.ML.Coherence.Tests;

[TestClass]
public sealed class VocabularyTests
{
    // a: 3, b: 2, c: 1, d: 1, B: 1 ("B" < "c" < "d" in ordinal order).
    private static readonly string[][] s_corpus = [["b", "a", "c", "a"], ["b", "a", "d", "B"], []];

    [TestMethod]
    public void IdsFollowFrequencyThenOrdinalOrder()
    {
        var vocabulary = Vocabulary.Build(s_corpus, minCount: 1, maxSize: 100);

        CollectionAssert.AreEqual(new[] { "<unk>", "a", "b", "B", "c", "d" }, vocabulary.Tokens.ToArray());
        CollectionAssert.AreEqual(new long[] { 0, 3, 2, 1, 1, 1 }, vocabulary.Frequencies.ToArray());
        Assert.AreEqual(8L, vocabulary.TotalTokens);
        Assert.AreEqual(6, vocabulary.Count);
    }

    [TestMethod]
    public void MaxSizeAndMinCountSendTheRestToUnknown()
    {
        var bySize = Vocabulary.Build(s_corpus, minCount: 1, maxSize: 3);
        CollectionAssert.AreEqual(new[] { "<unk>", "a", "b" }, bySize.Tokens.ToArray());
        Assert.AreEqual(3L, bySize.GetFrequency(0)); // B, c, d
        Assert.AreEqual(8L, bySize.TotalTokens);

        var byCount = Vocabulary.Build(s_corpus, minCount: 2, maxSize: 100);
        CollectionAssert.AreEqual(bySize.Tokens.ToArray(), byCount.Tokens.ToArray());
    }

    [TestMethod]
    public void UnknownTokensMapToZero()
    {
        var vocabulary = Vocabulary.Build(s_corpus, minCount: 2, maxSize: 100);

        CollectionAssert.AreEqual(new[] { 1, 0, 2, 0 }, vocabulary.Encode(["a", "zzz", "b", "c"]));
        Assert.IsFalse(vocabulary.TryGetId("c", out var id));
        Assert.AreEqual(0, id);
        Assert.IsTrue(vocabulary.TryGetId("b", out id));
        Assert.AreEqual(2, id);
        Assert.AreEqual(0, vocabulary.GetId(Vocabulary.UnknownToken));
    }

    [TestMethod]
    public void SlicesOfOneBufferGiveTheVocabularyAndIdsThatStringsGive()
    {
        // Training reads tokens as slices of the tokenizer's buffer, which the next row overwrites: the slices must count
        // and encode exactly as strings do, with the literal unknown token and a lone surrogate still unknown.
        string[][] corpus = [["b", "a", "c", "a"], ["b", "a", "d", "B", "<unk>", "x\uD800"], [], ["a", "x\uD800", "e"]];
        var buffer = new char[64];
        IEnumerable<VBuffer<ReadOnlyMemory<char>>> Slices()
        {
            foreach (var row in corpus)
            {
                var slices = new ReadOnlyMemory<char>[row.Length];
                int at = 0;
                for (int k = 0; k < row.Length; k++)
                {
                    row[k].CopyTo(buffer.AsSpan(at));
                    slices[k] = buffer.AsMemory(at, row[k].Length);
                    at += row[k].Length;
                }
                yield return new VBuffer<ReadOnlyMemory<char>>(row.Length, slices);
                Array.Fill(buffer, '#'); // what a reused buffer does to a slice kept too long
            }
        }

        var fromStrings = Vocabulary.Build(corpus, minCount: 1, maxSize: 100);
        var fromSlices = Vocabulary.BuildFromSlices(Slices(), minCount: 1, maxSize: 100);

        CollectionAssert.AreEqual(fromStrings.Tokens.ToArray(), fromSlices.Tokens.ToArray());
        CollectionAssert.AreEqual(fromStrings.Frequencies.ToArray(), fromSlices.Frequencies.ToArray());
        CollectionAssert.AreEqual(new[] { "<unk>", "a", "b", "B", "c", "d", "e" }, fromSlices.Tokens.ToArray());
        int row = 0;
        foreach (var slices in Slices())
        {
            var ids = new int[slices.Length];
            fromSlices.Encode(slices.GetValues(), ids);
            CollectionAssert.AreEqual(fromStrings.Encode(corpus[row++]), ids);
        }
    }

    [TestMethod]
    public void LiteralUnknownTokenInCorpusCountsAsUnknown()
    {
        var vocabulary = Vocabulary.Build([["<unk>", "<unk>", "x"]], minCount: 1, maxSize: 10);
        CollectionAssert.AreEqual(new[] { "<unk>", "x" }, vocabulary.Tokens.ToArray());
        Assert.AreEqual(2L, vocabulary.GetFrequency(0));
    }

    [TestMethod]
    public void SaveThenLoadGivesEqualVocabulary()
    {
        var vocabulary = Vocabulary.Build(s_corpus, minCount: 1, maxSize: 4);
        using var stream = new MemoryStream();
        vocabulary.Save(stream);
        stream.Position = 0;
        var loaded = Vocabulary.Load(stream);

        CollectionAssert.AreEqual(vocabulary.Tokens.ToArray(), loaded.Tokens.ToArray());
        CollectionAssert.AreEqual(vocabulary.Frequencies.ToArray(), loaded.Frequencies.ToArray());
        Assert.AreEqual(vocabulary.TotalTokens, loaded.TotalTokens);
        Assert.AreEqual(3, loaded.GetId("B"));
    }

    [TestMethod]
    public void EmptyCorpusThrows()
    {
        var exception = Assert.ThrowsExactly<ArgumentException>(() => Vocabulary.Build([[], []], 1, 10));
        Assert.AreEqual("documents", exception.ParamName);
        Assert.Contains("The corpus has no tokens", exception.Message);
    }

    [TestMethod]
    public void MinCountAboveEveryTokenThrows()
    {
        var exception = Assert.ThrowsExactly<ArgumentException>(() => Vocabulary.Build(s_corpus, minCount: 5, maxSize: 10));
        Assert.AreEqual("minCount", exception.ParamName);
        Assert.Contains("only unknown tokens; lower MinCount (now 5) to at most 3", exception.Message);
    }

    [TestMethod]
    public void InvalidMinCountThrows()
    {
        var exception = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Vocabulary.Build(s_corpus, minCount: 0, maxSize: 10));
        Assert.AreEqual("minCount", exception.ParamName);
        Assert.Contains("MinCount is 0; it must be at least 1", exception.Message);
    }

    [TestMethod]
    public void InvalidMaxSizeThrows()
    {
        var exception = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Vocabulary.Build(s_corpus, minCount: 1, maxSize: 1));
        Assert.AreEqual("maxSize", exception.ParamName);
        Assert.Contains("MaxSize is 1; it must be at least 2", exception.Message);
    }
}
