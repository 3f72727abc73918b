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

    /// <summary>sca-label's stage sees a label on exactly the classifier's labelled rows; every other row (and the corpus) has none.</summary>
    [TestMethod]
    public void TheLabelAwareStageSeesExactlyTheClassifiersLabelledRows()
    {
        var kept = LabelSelection.Choose(Rows, 0.1, seed: 3);
        var stageRows = ExperimentRunner.StageRows(Rows, kept.ToHashSet(), ["extra text one", "extra text two"]);
        Assert.HasCount(102, stageRows);
        var withLabel = Enumerable.Range(0, stageRows.Count).Where(i => stageRows[i].Label.Length > 0).ToArray();
        CollectionAssert.AreEqual(kept, withLabel);
        foreach (int i in kept)
        {
            Assert.AreEqual(Rows[i].Label, stageRows[i].Label);
            Assert.AreEqual(Rows[i].Text, stageRows[i].Text);
        }
        Assert.AreEqual("extra text two", stageRows[^1].Text);
        var options = ExperimentRunner.OptionsFor(Variants.ScaLabel, new Microsoft.ML.Coherence.CoherenceEmbeddingOptions(), 2);
        Assert.AreEqual(ExperimentRunner.StageLabelColumn, options.LabelColumnName);
        Assert.IsNull(ExperimentRunner.OptionsFor(Variants.Sca, new Microsoft.ML.Coherence.CoherenceEmbeddingOptions(), 2).LabelColumnName);
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
