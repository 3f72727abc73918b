using Microsoft.ML.Coherence.Internal;

namespace Microsoft.ML.Coherence.Statistics;

/// <summary>
/// Positive pointwise mutual information with context-distribution smoothing (Levy, Goldberg and Dagan, 2015),
/// computed from co-occurrence counts: the one implementation that <see cref="StatisticalField.Build"/> uses.
/// </summary>
/// <remarks>
/// With D = Σ C, P(i, j) = C[i, j] / D, P(i) = C[i, *] / D and P_α(j) = C[*, j]^α / Σ_k C[*, k]^α:
/// PMI(i, j) = log(P(i, j) / (P(i) P_α(j))) = log(C[i, j] / (C[i, *] P_α(j))), and PPMI = max(PMI, 0).
/// Every ratio is invariant to the counts' integer <see cref="CooccurrenceCounts.Scale"/>, so scaled counts are used directly.
/// </remarks>
internal sealed class PpmiCalculator
{
    /// <summary>The default smoothing exponent α, 0.75 as in Levy et al. (2015) and word2vec's negative sampling.</summary>
    public const double DefaultSmoothing = 0.75;

    private readonly CooccurrenceCounts _counts;
    private readonly double[] _rowSums;
    private readonly double[] _smoothedContext;

    /// <summary>Prepares the row sums and the smoothed context distribution of <paramref name="counts"/>.</summary>
    /// <param name="counts">The co-occurrence counts; later changes to them are not seen.</param>
    /// <param name="smoothing">The exponent α applied to context counts, in (0, 1]; 1 is no smoothing.</param>
    public PpmiCalculator(CooccurrenceCounts counts, double smoothing = DefaultSmoothing)
    {
        ArgumentNullException.ThrowIfNull(counts);
        if (!(smoothing > 0 && smoothing <= 1))
        {
            CoherenceThrow.ArgumentOutOfRange(nameof(smoothing), smoothing, $"Smoothing (alpha) is {smoothing}; use a value in (0, 1].");
        }
        _counts = counts;
        Smoothing = smoothing;
        var size = counts.VocabularySize;
        _rowSums = new double[size];
        var columnSums = new double[size];
        for (var i = 0; i < size; i++)
        {
            counts.GetScaledRow(i, out var columns, out var values);
            for (var k = 0; k < columns.Length; k++)
            {
                _rowSums[i] += values[k];
                columnSums[columns[k]] += values[k];
            }
        }
        // Summed in id order, so the result does not depend on dictionary order.
        _smoothedContext = new double[size];
        var normalizer = 0.0;
        for (var j = 0; j < size; j++)
        {
            _smoothedContext[j] = columnSums[j] > 0 ? Math.Pow(columnSums[j], smoothing) : 0;
            normalizer += _smoothedContext[j];
        }
        if (normalizer > 0)
        {
            for (var j = 0; j < size; j++)
            {
                _smoothedContext[j] /= normalizer;
            }
        }
    }

    /// <summary>The smoothing exponent α.</summary>
    public double Smoothing { get; }

    /// <summary>PPMI(i, j) = max(PMI(i, j), 0); 0 when the tokens never co-occur.</summary>
    /// <param name="i">Token id.</param>
    /// <param name="j">Context token id.</param>
    /// <returns>The PPMI.</returns>
    public double Ppmi(int i, int j) => Ppmi(i, j, _counts.GetScaledCount(i, j));

    /// <summary>PPMI of (i, j) given its scaled count, for callers already iterating a row.</summary>
    internal double Ppmi(int i, int j, long scaledCount)
    {
        if (scaledCount <= 0)
        {
            return 0;
        }
        var pmi = Math.Log(scaledCount / (_rowSums[i] * _smoothedContext[j]));
        return Math.Max(pmi, 0);
    }
}
