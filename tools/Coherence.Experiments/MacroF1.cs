namespace Coherence.Experiments;

/// <summary>Macro-averaged F1 from a confusion matrix.</summary>
internal static class MacroF1
{
    /// <summary>
    /// counts[actual][predicted] (ML.NET's <c>ConfusionMatrix.Counts</c> layout). F1 of class c is
    /// 2 TP / (2 TP + FP + FN); the macro-F1 is their unweighted mean over the classes that occur in the
    /// test labels or the predictions (a class with neither has no defined F1 and is left out; a class that
    /// occurs but is never predicted correctly counts as 0).
    /// </summary>
    public static double Compute(IReadOnlyList<IReadOnlyList<double>> counts)
    {
        var n = counts.Count;
        double sum = 0;
        var classes = 0;
        for (var c = 0; c < n; c++)
        {
            if (counts[c].Count != n)
            {
                throw new ArgumentException($"The confusion matrix must be square: row {c} has {counts[c].Count} entries, expected {n}.", nameof(counts));
            }

            var tp = counts[c][c];
            double fn = 0, fp = 0;
            for (var k = 0; k < n; k++)
            {
                if (k != c)
                {
                    fn += counts[c][k];
                    fp += counts[k][c];
                }
            }

            var denominator = (2 * tp) + fp + fn;
            if (denominator == 0)
            {
                continue;
            }

            sum += 2 * tp / denominator;
            classes++;
        }

        return classes == 0 ? double.NaN : sum / classes;
    }
}
