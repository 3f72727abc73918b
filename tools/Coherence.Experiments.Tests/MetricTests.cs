namespace Coherence.Experiments.Tests;

[TestClass]
public sealed class MetricTests
{
    [TestMethod]
    public void MacroF1MatchesAHandComputedThreeClassMatrix()
    {
        // Rows are actual classes, columns predicted (ML.NET's ConfusionMatrix.Counts).
        // F1: class 0 = 10/13, class 1 = 6/10, class 2 = 8/9.
        double[][] counts = [[5, 1, 0], [2, 3, 1], [0, 0, 4]];
        Assert.AreEqual(((10.0 / 13) + 0.6 + (8.0 / 9)) / 3, MacroF1.Compute(counts), 1e-12);
    }

    [TestMethod]
    public void MacroF1LeavesOutClassesWithNeitherSupportNorPredictions()
    {
        // Class 2 never occurs and is never predicted; class 1 occurs but is never predicted correctly (F1 0).
        double[][] counts = [[2, 0, 0], [1, 1, 0], [0, 0, 0]];
        Assert.AreEqual((0.8 + (2.0 / 3)) / 2, MacroF1.Compute(counts), 1e-12);
        double[][] missed = [[2, 0], [3, 0]];
        Assert.AreEqual(((4.0 / 7) + 0) / 2, MacroF1.Compute(missed), 1e-12);
    }

    [TestMethod]
    public void MacroF1IsOneForAPerfectClassifierAndRejectsRaggedMatrices()
    {
        double[][] perfect = [[3, 0], [0, 7]];
        Assert.AreEqual(1.0, MacroF1.Compute(perfect), 1e-12);
        double[][] ragged = [[1, 0], [0]];
        Assert.ThrowsExactly<ArgumentException>(() => MacroF1.Compute(ragged));
    }

    [TestMethod]
    public void SummaryGivesMeanAndSampleSdAndSkipsNulls()
    {
        var s = MetricSummary.Of([1.0, 2.0, null, 4.0]);
        Assert.AreEqual(3, s.N);
        Assert.AreEqual(7.0 / 3, s.Mean!.Value, 1e-12);
        Assert.AreEqual(Math.Sqrt(((16.0 / 9) + (1.0 / 9) + (25.0 / 9)) / 2), s.Sd!.Value, 1e-12);
        Assert.AreEqual("2.33 ± 1.53", s.Format("F2"));
        Assert.AreEqual("—", MetricSummary.Of([null]).Format("F2"));
    }

    [TestMethod]
    public void RunResultStoresNonFiniteFiguresAsNull()
    {
        var r = new RunResult { Variant = "sca", Seed = 1 };
        r["perplexity"] = double.NaN;
        r["accuracy"] = 0.5;
        Assert.IsNull(r["perplexity"]);
        Assert.AreEqual(0.5, r["accuracy"]);
        Assert.IsNull(r["macroF1"]);
    }
}
