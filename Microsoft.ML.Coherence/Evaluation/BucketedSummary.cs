using Microsoft.ML.Coherence.Internal;
namespace Microsoft.ML.Coherence.Evaluation;

/// <summary>
/// A per-token metric (coherence score, neighbour agreement, ...) summarised over all tokens and
/// per <see cref="FrequencyBucket"/>. Token 0 and NaN entries are skipped everywhere.
/// </summary>
/// <param name="Overall">Summary over every bucketed token.</param>
/// <param name="Rare">Summary over <see cref="FrequencyBucket.Rare"/> tokens.</param>
/// <param name="Medium">Summary over <see cref="FrequencyBucket.Medium"/> tokens.</param>
/// <param name="Frequent">Summary over <see cref="FrequencyBucket.Frequent"/> tokens.</param>
public sealed record BucketedSummary(
    DistributionSummary Overall,
    DistributionSummary Rare,
    DistributionSummary Medium,
    DistributionSummary Frequent)
{
    /// <summary>Summarises <paramref name="perToken"/> overall and per bucket.</summary>
    /// <param name="perToken">The metric per token id, length n, NaN where undefined or not evaluated.</param>
    /// <param name="buckets">The bucket per token id from <see cref="FrequencyBuckets.Assign(long[])"/>, length n.</param>
    public static BucketedSummary Of(ReadOnlySpan<float> perToken, ReadOnlySpan<FrequencyBucket> buckets)
    {
        CoherenceThrow.IfLengthDiffers(buckets.Length, perToken.Length, nameof(buckets), "one bucket per token");
        var overall = new float[perToken.Length];
        var rare = new float[perToken.Length];
        var medium = new float[perToken.Length];
        var frequent = new float[perToken.Length];
        overall.AsSpan().Fill(float.NaN);
        rare.AsSpan().Fill(float.NaN);
        medium.AsSpan().Fill(float.NaN);
        frequent.AsSpan().Fill(float.NaN);
        for (var i = 1; i < perToken.Length; i++)
        {
            var target = buckets[i] switch
            {
                FrequencyBucket.Rare => rare,
                FrequencyBucket.Medium => medium,
                FrequencyBucket.Frequent => frequent,
                _ => null,
            };
            if (target is not null)
            {
                target[i] = perToken[i];
                overall[i] = perToken[i];
            }
        }

        return new BucketedSummary(
            DistributionSummary.Of(overall), DistributionSummary.Of(rare), DistributionSummary.Of(medium), DistributionSummary.Of(frequent));
    }

    /// <summary>The summary of one bucket.</summary>
    /// <param name="bucket">Rare, medium or frequent.</param>
    public DistributionSummary this[FrequencyBucket bucket] => bucket switch
    {
        FrequencyBucket.Rare => Rare,
        FrequencyBucket.Medium => Medium,
        FrequencyBucket.Frequent => Frequent,
        _ => throw new ArgumentOutOfRangeException(nameof(bucket), bucket, $"'bucket' is {bucket}; allowed: Rare, Medium or Frequent."),
    };
}
