namespace Coherence.Experiments;

/// <summary>
/// A confusion matrix built from label indices, in ML.NET's <c>ConfusionMatrix.Counts</c> layout
/// (counts[actual][predicted]), for classifiers scored outside ML.NET (fastText's).
/// </summary>
internal static class Confusion
{
    public static double[][] Counts(IReadOnlyList<int> actual, IReadOnlyList<int> predicted, int classes)
    {
        if (actual.Count != predicted.Count)
        {
            throw new ArgumentException($"{actual.Count} actual labels but {predicted.Count} predictions.", nameof(predicted));
        }

        var counts = new double[classes][];
        for (var c = 0; c < classes; c++)
        {
            counts[c] = new double[classes];
        }

        for (var i = 0; i < actual.Count; i++)
        {
            counts[actual[i]][predicted[i]]++;
        }

        return counts;
    }

    /// <summary>Share of rows on the diagonal (ML.NET's micro-accuracy).</summary>
    public static double Accuracy(IReadOnlyList<IReadOnlyList<double>> counts)
    {
        double correct = 0, total = 0;
        for (var c = 0; c < counts.Count; c++)
        {
            correct += counts[c][c];
            total += counts[c].Sum();
        }

        return total == 0 ? double.NaN : correct / total;
    }
}
