using Microsoft.ML.Coherence.Internal;
namespace Microsoft.ML.Coherence.Evaluation;

/// <summary>
/// Count, mean, standard deviation, min, quartiles and max of a set of values; NaN values are skipped.
/// </summary>
/// <remarks>
/// <see cref="StandardDeviation"/> is the sample standard deviation (divisor count - 1; 0 for one value).
/// Quartiles interpolate linearly between order statistics (Hyndman and Fan type 7, the default of
/// numpy and R). With no values, <see cref="Count"/> is 0 and every other field is NaN.
/// </remarks>
/// <param name="Count">Number of non-NaN values summarised.</param>
/// <param name="Mean">Arithmetic mean.</param>
/// <param name="StandardDeviation">Sample standard deviation.</param>
/// <param name="Min">Smallest value.</param>
/// <param name="LowerQuartile">25th percentile.</param>
/// <param name="Median">50th percentile.</param>
/// <param name="UpperQuartile">75th percentile.</param>
/// <param name="Max">Largest value.</param>
public sealed record DistributionSummary(
    int Count,
    double Mean,
    double StandardDeviation,
    double Min,
    double LowerQuartile,
    double Median,
    double UpperQuartile,
    double Max)
{
    /// <summary>The summary of no values: count 0, every statistic NaN.</summary>
    public static DistributionSummary Empty { get; } = new(0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);

    /// <summary>Summarises the non-NaN entries of <paramref name="values"/>.</summary>
    /// <param name="values">The values; NaN entries (undefined per-token metrics) are skipped.</param>
    public static DistributionSummary Of(ReadOnlySpan<float> values)
    {
        var kept = new List<double>(values.Length);
        foreach (var v in values)
        {
            if (!float.IsNaN(v))
            {
                kept.Add(v);
            }
        }

        return OfKept(kept);
    }

    /// <summary>Summarises the non-NaN entries of <paramref name="values"/>.</summary>
    /// <param name="values">The values; NaN entries are skipped.</param>
    public static DistributionSummary Of(ReadOnlySpan<double> values)
    {
        var kept = new List<double>(values.Length);
        foreach (var v in values)
        {
            if (!double.IsNaN(v))
            {
                kept.Add(v);
            }
        }

        return OfKept(kept);
    }

    /// <summary>
    /// Counts the non-NaN values in each bin [edges[b], edges[b+1]); the last bin also holds values
    /// equal to its upper edge. Values outside [edges[0], edges[^1]] are not counted.
    /// </summary>
    /// <param name="values">The values; NaN entries are skipped.</param>
    /// <param name="binEdges">Strictly increasing, finite bin edges; at least two.</param>
    /// <returns>Counts per bin, length binEdges.Length - 1.</returns>
    public static long[] Histogram(ReadOnlySpan<float> values, ReadOnlySpan<double> binEdges)
    {
        if (binEdges.Length < 2)
        {
            CoherenceThrow.ValueOutOfRange(nameof(binEdges), binEdges.Length, "at least 2 edges (one bin)");
        }

        for (var b = 0; b < binEdges.Length; b++)
        {
            if (!double.IsFinite(binEdges[b]) || (b > 0 && binEdges[b] <= binEdges[b - 1]))
            {
                CoherenceThrow.Argument(nameof(binEdges), $"'binEdges' must be finite and strictly increasing; edge {b} is {binEdges[b]}.");
            }
        }

        var counts = new long[binEdges.Length - 1];
        var last = binEdges[^1];
        foreach (var v in values)
        {
            if (float.IsNaN(v) || v < binEdges[0] || v > last)
            {
                continue;
            }

            // Largest b with edges[b] <= v, capped at the last bin so v == last lands there.
            var index = binEdges.BinarySearch((double)v);
            var bin = index >= 0 ? index : ~index - 1;
            counts[Math.Min(bin, counts.Length - 1)]++;
        }

        return counts;
    }

    /// <summary>Evenly spaced bin edges: <paramref name="bins"/> bins from <paramref name="min"/> to <paramref name="max"/>.</summary>
    /// <param name="min">Lower edge of the first bin.</param>
    /// <param name="max">Upper edge of the last bin; greater than <paramref name="min"/>.</param>
    /// <param name="bins">Number of bins, at least 1.</param>
    public static double[] UniformBinEdges(double min, double max, int bins)
    {
        if (bins < 1)
        {
            CoherenceThrow.ValueOutOfRange(nameof(bins), bins, "at least 1");
        }

        if (!(max > min) || !double.IsFinite(min) || !double.IsFinite(max))
        {
            CoherenceThrow.ValueOutOfRange(nameof(max), max, $"finite and greater than min = {min}");
        }

        var edges = new double[bins + 1];
        for (var b = 0; b <= bins; b++)
        {
            edges[b] = b == bins ? max : min + ((max - min) * b / bins);
        }

        return edges;
    }

    private static DistributionSummary OfKept(List<double> kept)
    {
        if (kept.Count == 0)
        {
            return Empty;
        }

        kept.Sort();
        double sum = 0;
        foreach (var v in kept)
        {
            sum += v;
        }

        var mean = sum / kept.Count;
        double squares = 0;
        foreach (var v in kept)
        {
            squares += (v - mean) * (v - mean);
        }

        var sd = kept.Count > 1 ? Math.Sqrt(squares / (kept.Count - 1)) : 0.0;
        return new DistributionSummary(
            kept.Count, mean, sd, kept[0], Quantile(kept, 0.25), Quantile(kept, 0.5), Quantile(kept, 0.75), kept[^1]);
    }

    // Type 7: h = (n - 1) q, interpolate between the floor(h)-th and ceil(h)-th order statistics.
    private static double Quantile(List<double> sorted, double q)
    {
        var h = (sorted.Count - 1) * q;
        var lo = (int)Math.Floor(h);
        var hi = Math.Min(lo + 1, sorted.Count - 1);
        return sorted[lo] + ((h - lo) * (sorted[hi] - sorted[lo]));
    }
}
