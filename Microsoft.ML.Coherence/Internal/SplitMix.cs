namespace Microsoft.ML.Coherence.Internal;

/// <summary>SplitMix64 mixing: a fast, well-spread hash of (seed, index) for seeded decisions.</summary>
internal static class SplitMix
{
    public static ulong Hash(ulong seed, ulong index)
    {
        ulong z = seed * 0x9E3779B97F4A7C15UL + index + 0x632BE59BD9B4E019UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A System.Random seeded from (seed, step): every step's draws are reproducible on their own, which makes resume exact.</summary>
    public static Random ForStep(int seed, int step) => new((int)(Hash((ulong)(uint)seed, (ulong)step) & 0x7FFFFFFF));
}
