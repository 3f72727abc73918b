namespace Microsoft.ML.Coherence.Statistics;

/// <summary>
/// Draws token ids from the smoothed unigram distribution q(i) ∝ count(i)^alpha (word2vec's 0.75),
/// by binary search over the cumulative table; also gives log of the expected count M·q(i)
/// that the sampled softmax subtracts.
/// </summary>
internal sealed class UnigramSampler
{
    private readonly double[] _cumulative;
    private readonly double[] _probability;

    public UnigramSampler(ReadOnlySpan<long> frequencies, double alpha, bool includeUnknown)
    {
        _cumulative = new double[frequencies.Length];
        _probability = new double[frequencies.Length];
        double total = 0;
        for (int i = 0; i < frequencies.Length; i++)
        {
            double w = (i == 0 && !includeUnknown) || frequencies[i] <= 0 ? 0 : Math.Pow(frequencies[i], alpha);
            _probability[i] = w;
            total += w;
            _cumulative[i] = total;
        }
        if (total <= 0)
            throw new InvalidOperationException("No token has a positive count to sample from.");
        for (int i = 0; i < _probability.Length; i++)
        {
            _probability[i] /= total;
            _cumulative[i] /= total;
        }
    }

    public long[] Sample(Random random, int count)
    {
        var ids = new long[count];
        for (int n = 0; n < count; n++)
        {
            int index = Array.BinarySearch(_cumulative, random.NextDouble());
            if (index < 0)
                index = ~index;
            // Skip zero-probability ids that share a cumulative value with their predecessor.
            while (_probability[Math.Min(index, _probability.Length - 1)] == 0 && index < _probability.Length - 1)
                index++;
            ids[n] = Math.Min(index, _probability.Length - 1);
        }
        return ids;
    }

    /// <summary>log(M·q(id)), floored so that a never-sampled id stays finite.</summary>
    public float LogExpectedCount(long id, int draws) => (float)Math.Log(Math.Max(draws * _probability[id], 1e-12));

    /// <summary><see cref="LogExpectedCount"/> of every id, [V]: computed once per run and kept on the training device.</summary>
    public float[] LogExpectedCounts(int draws)
    {
        var result = new float[_probability.Length];
        for (int i = 0; i < result.Length; i++)
            result[i] = LogExpectedCount(i, draws);
        return result;
    }
}
