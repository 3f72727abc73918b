namespace Coherence.Experiments;

/// <summary>
/// The frequency bands word pairs are judged in: counts 5-19, 20-99 and 100+ in the text the embeddings
/// train on. A pair belongs to the band of its rarer word. Words seen fewer than 5 times are in no band
/// (fastText's default min count is 5, so it has no vector for them).
/// </summary>
internal static class FrequencyBand
{
    /// <summary>The lowest count of the lowest band.</summary>
    public const long MinCount = 5;

    /// <summary>Band names as the report prints them, lowest first.</summary>
    public static readonly string[] Names = ["5-19", "20-99", "100+"];

    /// <summary>Band suffixes of metric names in results.json, lowest first.</summary>
    public static readonly string[] MetricSuffixes = ["5to19", "20to99", "100plus"];

    /// <summary>The band index of a word seen <paramref name="count"/> times, or null below <see cref="MinCount"/>.</summary>
    public static int? Of(long count) => count switch
    {
        < MinCount => null,
        < 20 => 0,
        < 100 => 1,
        _ => 2,
    };
}
