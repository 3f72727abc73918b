using Microsoft.ML.Coherence.Internal;
namespace Microsoft.ML.Coherence.Evaluation;

/// <summary>Rank-based statistics: average ranks, Spearman's rank correlation and ROC AUC.</summary>
internal static class RankStatistics
{
    /// <summary>1-based ranks of <paramref name="values"/> in ascending order; tied values share the average of their ranks.</summary>
    /// <param name="values">The values; NaN is not allowed.</param>
    public static double[] AverageRanks(ReadOnlySpan<double> values)
    {
        var order = new int[values.Length];
        var keys = values.ToArray();
        for (var i = 0; i < order.Length; i++)
        {
            if (double.IsNaN(keys[i]))
            {
                CoherenceThrow.Argument(nameof(values), $"'values' has NaN at index {i}; ranks need comparable values.");
            }

            order[i] = i;
        }

        Array.Sort(keys, order);
        var ranks = new double[values.Length];
        for (var start = 0; start < keys.Length;)
        {
            var end = start + 1;
            while (end < keys.Length && keys[end] == keys[start])
            {
                end++;
            }

            // Positions start..end-1 (0-based) hold ranks start+1..end, whose average is (start + 1 + end) / 2.
            var average = (start + 1 + end) / 2.0;
            for (var t = start; t < end; t++)
            {
                ranks[order[t]] = average;
            }

            start = end;
        }

        return ranks;
    }

    /// <summary>
    /// Spearman's rank correlation: the Pearson correlation of the average ranks, so ties are handled
    /// exactly. NaN when fewer than two pairs or when either side is constant.
    /// </summary>
    /// <param name="x">First variable.</param>
    /// <param name="y">Second variable, the same length as <paramref name="x"/>.</param>
    public static double Spearman(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        CoherenceThrow.IfLengthDiffers(y.Length, x.Length, nameof(y), "one value per value of x");
        if (x.Length < 2)
        {
            return double.NaN;
        }

        return Pearson(AverageRanks(x), AverageRanks(y));
    }

    /// <summary>
    /// Area under the ROC curve: the probability that a random positive scores above a random negative,
    /// ties counting 1/2 (Mann-Whitney U / (n+ n-)). NaN without at least one positive and one negative.
    /// </summary>
    /// <param name="scores">Scores; higher means more likely positive. NaN is not allowed.</param>
    /// <param name="labels">True for a positive, the same length as <paramref name="scores"/>.</param>
    public static double RocAuc(ReadOnlySpan<double> scores, ReadOnlySpan<bool> labels)
    {
        CoherenceThrow.IfLengthDiffers(labels.Length, scores.Length, nameof(labels), "one label per score");
        var ranks = AverageRanks(scores);
        long positives = 0;
        double positiveRankSum = 0;
        for (var i = 0; i < labels.Length; i++)
        {
            if (labels[i])
            {
                positives++;
                positiveRankSum += ranks[i];
            }
        }

        var negatives = labels.Length - positives;
        if (positives == 0 || negatives == 0)
        {
            return double.NaN;
        }

        var u = positiveRankSum - (positives * (positives + 1) / 2.0);
        return u / (positives * (double)negatives);
    }

    private static double Pearson(double[] x, double[] y)
    {
        double meanX = 0, meanY = 0;
        for (var i = 0; i < x.Length; i++)
        {
            meanX += x[i];
            meanY += y[i];
        }

        meanX /= x.Length;
        meanY /= y.Length;
        double sxy = 0, sxx = 0, syy = 0;
        for (var i = 0; i < x.Length; i++)
        {
            var dx = x[i] - meanX;
            var dy = y[i] - meanY;
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }

        return sxx == 0 || syy == 0 ? double.NaN : Math.Clamp(sxy / Math.Sqrt(sxx * syy), -1, 1);
    }
}
