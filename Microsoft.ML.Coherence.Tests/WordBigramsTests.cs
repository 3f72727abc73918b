using Microsoft.ML.Coherence.Statistics;

namespace Microsoft.ML.Coherence.Tests;

[TestClass]
public sealed class WordBigramsTests
{
    [TestMethod]
    public void KeepsTheMostFrequentPairsOfKnownWordsSeenMinCountTimes()
    {
        int[][] documents =
        [
            [1, 2, 3, 1, 2],  // (1,2) x2, (2,3), (3,1)
            [1, 2, 0, 4, 5],  // (1,2), pairs with the unknown id 0 never count, (4,5)
            [4, 5, 2, 3],     // (4,5), (5,2), (2,3)
            [6],              // no pair
        ];
        var bigrams = WordBigrams.Build(documents, maxBigrams: 2, minCount: 2)!;
        // Counts: (1,2) 3, (4,5) 2, (2,3) 2, (3,1) 1, (5,2) 1; the two kept are (1,2) and, of the ties at 2, (2,3) (smaller ids).
        Assert.AreEqual(3, bigrams.RowCount, "the zero row and two bigram rows");
        Assert.AreEqual(17, bigrams.SlotCount, "the smallest prime of at least 8 slots per bigram");
        Assert.AreEqual(1, bigrams.RowOf(1, 2), "the most frequent pair takes row 1");
        Assert.AreEqual(2, bigrams.RowOf(2, 3));
        Assert.AreEqual(0, bigrams.RowOf(4, 5), "cut by maxBigrams");
        Assert.AreEqual(0, bigrams.RowOf(2, 1), "order matters");
        Assert.AreEqual(0, bigrams.RowOf(0, 4), "the unknown id has no bigram");
        Assert.AreEqual(0, bigrams.RowOf(2, 0));

        var all = WordBigrams.Build(documents, maxBigrams: 100, minCount: 1)!;
        Assert.AreEqual(6, all.RowCount, "five distinct pairs of known ids, each its own row here");
        Assert.IsNull(WordBigrams.Build(documents, maxBigrams: 100, minCount: 4), "no pair is seen 4 times");
    }

    [TestMethod]
    [DataRow(1, 2)]
    [DataRow(16, 17)]
    [DataRow(24, 29)]
    [DataRow(90, 97)]
    public void SlotCountsArePrimes(int value, int prime) => Assert.AreEqual(prime, WordBigrams.PrimeAtLeast(value));

    [TestMethod]
    public void TheSlotOfAPairIsTheHashTheGraphComputes()
    {
        var bigrams = WordBigrams.Build([[7, 9, 11]], maxBigrams: 10, minCount: 1)!;
        long slot = (7 * WordBigrams.Multiplier + 9) % bigrams.SlotCount;
        Assert.AreEqual(bigrams.SlotRows[slot], bigrams.RowOf(7, 9));
        Assert.AreNotEqual(0, bigrams.RowOf(7, 9));
        Assert.AreEqual(2, bigrams.SlotRows.Count(r => r != 0), "two pairs, two slots taken");
    }
}
