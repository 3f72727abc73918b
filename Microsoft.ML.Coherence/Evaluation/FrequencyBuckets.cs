using Microsoft.ML.Coherence.Internal;
namespace Microsoft.ML.Coherence.Evaluation;

/// <summary>
/// Splits tokens into rare / medium / frequent by their corpus count, with fixed count thresholds.
/// </summary>
/// <remarks>
/// Defaults: rare when count &lt; 10, frequent when count &gt;= 100, medium otherwise. Fixed counts
/// rather than quantiles, so that "rare" means the same thing for the baseline and for SCA and
/// across corpora; ten occurrences is roughly where count-based PPMI estimates become noisy
/// (word2vec's min_count is 5). Token 0 is <see cref="FrequencyBucket.Excluded"/>.
/// </remarks>
public static class FrequencyBuckets
{
    /// <summary>Default rare threshold: a token seen fewer than 10 times is rare.</summary>
    public const long DefaultRareBelow = 10;

    /// <summary>Default frequent threshold: a token seen at least 100 times is frequent.</summary>
    public const long DefaultFrequentFrom = 100;

    /// <summary>The bucket of every token with the default thresholds (<see cref="DefaultRareBelow"/>, <see cref="DefaultFrequentFrom"/>).</summary>
    /// <param name="frequencies">Corpus count per token id, length n; entry 0 is ignored.</param>
    /// <returns>The bucket per token, length n; entry 0 is <see cref="FrequencyBucket.Excluded"/>.</returns>
    public static FrequencyBucket[] Assign(long[] frequencies) => Assign(frequencies, DefaultRareBelow, DefaultFrequentFrom);

    /// <summary>The bucket of every token: rare when count &lt; <paramref name="rareBelow"/>, frequent when count &gt;= <paramref name="frequentFrom"/>.</summary>
    /// <param name="frequencies">Corpus count per token id, length n, non-negative; entry 0 is ignored.</param>
    /// <param name="rareBelow">Counts below this are rare; at least 1.</param>
    /// <param name="frequentFrom">Counts from this up are frequent; at least <paramref name="rareBelow"/>.</param>
    /// <returns>The bucket per token, length n; entry 0 is <see cref="FrequencyBucket.Excluded"/>.</returns>
    public static FrequencyBucket[] Assign(long[] frequencies, long rareBelow, long frequentFrom)
    {
        CoherenceThrow.IfNull(frequencies, nameof(frequencies));
        if (rareBelow < 1)
        {
            CoherenceThrow.ValueOutOfRange(nameof(rareBelow), rareBelow, "at least 1");
        }

        if (frequentFrom < rareBelow)
        {
            CoherenceThrow.ValueOutOfRange(nameof(frequentFrom), frequentFrom, $"at least rareBelow = {rareBelow}");
        }

        var buckets = new FrequencyBucket[frequencies.Length];
        for (var i = 0; i < frequencies.Length; i++)
        {
            var count = frequencies[i];
            if (i == 0)
            {
                buckets[i] = FrequencyBucket.Excluded;
            }
            else if (count < 0)
            {
                CoherenceThrow.ValueOutOfRange(nameof(frequencies), count, $"a non-negative count (token {i})");
            }
            else
            {
                buckets[i] = count < rareBelow ? FrequencyBucket.Rare
                    : count >= frequentFrom ? FrequencyBucket.Frequent
                    : FrequencyBucket.Medium;
            }
        }

        return buckets;
    }
}
