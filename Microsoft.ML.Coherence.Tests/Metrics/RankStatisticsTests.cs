using Microsoft.ML.Coherence.Evaluation;

namespace Microsoft.ML.Coherence.Tests.Metrics;

[TestClass]
public sealed class RankStatisticsTests
{
    [TestMethod]
    public void TiedValuesShareTheirAverageRank()
    {
        CollectionAssert.AreEqual(new[] { 4.0, 1.0, 2.5, 2.5 }, RankStatistics.AverageRanks([30, 10, 20, 20]));
    }

    [TestMethod]
    public void SpearmanOfReversedRankingIsMinusOne()
    {
        Assert.AreEqual(-1.0, RankStatistics.Spearman([1, 2, 3, 4, 5], [50, 40, 30, 20, 10]), 1e-12);
        Assert.AreEqual(1.0, RankStatistics.Spearman([1, 2, 3, 4, 5], [1, 4, 9, 16, 25]), 1e-12);
    }

    [TestMethod]
    public void SpearmanWithTiesMatchesHandComputation()
    {
        // Ranks x = (1, 2.5, 2.5, 4), y = (1, 2, 3, 4): sxy = 4.5, sxx = 4.5, syy = 5, r = 4.5 / sqrt(22.5).
        Assert.AreEqual(4.5 / Math.Sqrt(22.5), RankStatistics.Spearman([1, 2, 2, 3], [1, 2, 3, 4]), 1e-12);
        Assert.AreEqual(0.9486832980505138, RankStatistics.Spearman([1, 2, 2, 3], [1, 2, 3, 4]), 1e-12);
    }

    [TestMethod]
    public void SpearmanOfConstantIsNaN()
    {
        Assert.IsTrue(double.IsNaN(RankStatistics.Spearman([1, 1, 1], [1, 2, 3])));
    }

    [TestMethod]
    public void AucOfPerfectlySeparatedScoresIsOne()
    {
        Assert.AreEqual(1.0, RankStatistics.RocAuc([0.1, 0.9, 0.2, 0.8], [false, true, false, true]), 1e-12);
        Assert.AreEqual(0.0, RankStatistics.RocAuc([0.9, 0.1], [false, true]), 1e-12);
    }

    [TestMethod]
    public void AucCountsTiesAsHalf()
    {
        // Positives 0.9, 0.5; negatives 0.5, 0.1. Pairs: 1 + 1 + 1/2 (tie) + 1 = 3.5 of 4.
        Assert.AreEqual(0.875, RankStatistics.RocAuc([0.9, 0.5, 0.5, 0.1], [true, true, false, false]), 1e-12);
        Assert.AreEqual(0.5, RankStatistics.RocAuc([3, 3, 3], [true, false, true]), 1e-12);
    }

    [TestMethod]
    public void AucWithoutBothClassesIsNaN()
    {
        Assert.IsTrue(double.IsNaN(RankStatistics.RocAuc([1, 2], [true, true])));
    }

    [TestMethod]
    public void LengthMismatchThrows()
    {
        var error = Assert.ThrowsExactly<ArgumentException>(() => RankStatistics.Spearman([1, 2], [1]));
        Assert.AreEqual("y", error.ParamName);
    }
}
