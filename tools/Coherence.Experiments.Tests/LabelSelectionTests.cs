namespace Coherence.Experiments.Tests;

[TestClass]
public sealed class LabelSelectionTests
{
    // 70 ham, 25 spam, 5 rare: interleaved so that a selection by position would show.
    private static readonly List<LabeledRow> Rows = Enumerable.Range(0, 100)
        .Select(i => new LabeledRow(i % 20 == 7 ? "rare" : i % 4 == 1 ? "spam" : "ham", $"text {i}"))
        .ToList();

    [TestMethod]
    public void KeepsRoundedShareOfEachLabelAndAtLeastOne()
    {
        Assert.AreEqual(70, Rows.Count(r => r.Label == "ham"));
        Assert.AreEqual(25, Rows.Count(r => r.Label == "spam"));
        Assert.AreEqual(5, Rows.Count(r => r.Label == "rare"));
        var kept = LabelSelection.Choose(Rows, 0.1, seed: 1);
        // ham 7, spam round(2.5) = 3 (halves up), rare round(0.5) = 1.
        Assert.HasCount(11, kept);
        Assert.AreEqual(7, kept.Count(i => Rows[i].Label == "ham"));
        Assert.AreEqual(3, kept.Count(i => Rows[i].Label == "spam"));
        Assert.AreEqual(1, kept.Count(i => Rows[i].Label == "rare"));
        CollectionAssert.AreEqual(kept.Order().ToArray(), kept, "ascending");
        Assert.AreEqual(kept.Length, kept.Distinct().Count(), "no row twice");
        Assert.AreEqual(1, LabelSelection.KeptCount(5, 0.01));
        Assert.AreEqual(3, LabelSelection.KeptCount(33, 0.1));
    }

    [TestMethod]
    public void SameSeedSameRowsOtherSeedOtherRows()
    {
        var a = LabelSelection.Choose(Rows, 0.3, seed: 4);
        var b = LabelSelection.Choose(Rows, 0.3, seed: 4);
        var c = LabelSelection.Choose(Rows, 0.3, seed: 5);
        CollectionAssert.AreEqual(a, b);
        CollectionAssert.AreNotEqual(a, c);
        Assert.HasCount(a.Length, c);
        Assert.AreEqual(21 + 8 + 2, a.Length); // round(21), round(7.5) = 8, round(1.5) = 2
    }

    [TestMethod]
    public void FractionOneKeepsEveryRowAndBadFractionsThrow()
    {
        CollectionAssert.AreEqual(Enumerable.Range(0, 100).ToArray(), LabelSelection.Choose(Rows, 1.0, seed: 9));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => LabelSelection.Choose(Rows, 0, seed: 1));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => LabelSelection.Choose(Rows, 1.01, seed: 1));
    }
}
