namespace Microsoft.ML.Coherence.Evaluation;

/// <summary>A token's corpus-frequency bucket, as assigned by <see cref="FrequencyBuckets"/>.</summary>
public enum FrequencyBucket
{
    /// <summary>Not bucketed: token 0, the unknown token, which token-level metrics exclude.</summary>
    Excluded = -1,

    /// <summary>Seen fewer than <see cref="FrequencyBuckets.DefaultRareBelow"/> times (by default).</summary>
    Rare = 0,

    /// <summary>Neither rare nor frequent.</summary>
    Medium = 1,

    /// <summary>Seen at least <see cref="FrequencyBuckets.DefaultFrequentFrom"/> times (by default).</summary>
    Frequent = 2,
}
