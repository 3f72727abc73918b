using Microsoft.ML.Coherence.Text;

namespace Microsoft.ML.Coherence.Modules;

/// <summary>
/// The n-gram buckets of every vocabulary token (compressed rows), and the index lists a gather of token vectors
/// needs: which subword rows to read, which output row each one adds to, and each output row's divisor 1 + |G(w)|.
/// </summary>
internal sealed class SubwordRows
{
    private readonly long[] _offsets;
    private readonly long[] _buckets;

    public SubwordRows(CharNgramHasher hasher, IReadOnlyList<string> tokens)
    {
        ArgumentNullException.ThrowIfNull(hasher);
        Hasher = hasher;
        (_offsets, _buckets) = hasher.BucketTable(tokens);
    }

    public CharNgramHasher Hasher { get; }

    /// <summary>Tokens covered (the vocabulary size; token 0, the unknown, has no n-grams).</summary>
    public int TokenCount => _offsets.Length - 1;

    /// <summary>The n-gram count of a token.</summary>
    public int CountOf(long id) => (int)(_offsets[id + 1] - _offsets[id]);

    /// <summary>For output rows <paramref name="ids"/>: the subword buckets to read, the output row of each, and 1 + n-gram count per row.</summary>
    public (long[] Buckets, long[] Owners, float[] Divisors) Gather(ReadOnlySpan<long> ids)
    {
        long total = 0;
        foreach (long id in ids)
            total += _offsets[id + 1] - _offsets[id];
        var buckets = new long[total];
        var owners = new long[total];
        var divisors = new float[ids.Length];
        long next = 0;
        for (int row = 0; row < ids.Length; row++)
        {
            long start = _offsets[ids[row]], end = _offsets[ids[row] + 1];
            Array.Copy(_buckets, start, buckets, next, end - start);
            owners.AsSpan((int)next, (int)(end - start)).Fill(row);
            next += end - start;
            divisors[row] = 1 + (end - start);
        }
        return (buckets, owners, divisors);
    }
}
