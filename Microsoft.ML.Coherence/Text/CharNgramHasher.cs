namespace Microsoft.ML.Coherence.Text;

/// <summary>
/// fastText-style subwords: the character n-grams (lengths <see cref="MinLength"/>..<see cref="MaxLength"/>) of a word
/// written between two boundary marks, "‹word›", each hashed into one of <see cref="Buckets"/> rows of a subword table.
/// The same hash is written into the scoring graph with integer ONNX operators (<c>Scoring/OnnxEncoderWriter</c>), so
/// unseen words get their vectors in a saved model without this library.
/// </summary>
/// <remarks>
/// The hash of an n-gram with UTF-16 code units x₁..xₙ is h = (((x₁·P + x₂)·P + …)·P + xₙ) mod M, then
/// bucket = ((h·P + n) mod M) mod Buckets, with P = <see cref="Multiplier"/>, M = <see cref="Modulus"/> and the boundary
/// mark's code <see cref="BoundaryCode"/>. Every intermediate value stays below 2⁴⁹, exact in int64. The scoring chain
/// reads the code units from ML.NET's character tokenizer, whose key value is the code unit itself; tokens never
/// contain control characters, so code 1 cannot collide with a real character.
/// </remarks>
internal sealed class CharNgramHasher
{
    /// <summary>The prime modulus M = 2³¹ - 1.</summary>
    public const long Modulus = 2_147_483_647;

    /// <summary>The multiplier P: above every UTF-16 code unit, so the polynomial is injective before the modulus.</summary>
    public const long Multiplier = 65_599;

    /// <summary>The code of the boundary mark written before and after every word.</summary>
    public const int BoundaryCode = 1;

    /// <summary>Longest n-gram supported (the graph unrolls one pass per length).</summary>
    public const int MaxSupportedLength = 8;

    public CharNgramHasher(int minLength, int maxLength, int buckets)
    {
        if (minLength < 2 || maxLength < minLength || maxLength > MaxSupportedLength)
            throw new ArgumentOutOfRangeException(nameof(minLength), $"n-gram lengths must satisfy 2 <= min <= max <= {MaxSupportedLength}; got {minLength}..{maxLength}.");
        ArgumentOutOfRangeException.ThrowIfLessThan(buckets, 1);
        MinLength = minLength;
        MaxLength = maxLength;
        Buckets = buckets;
    }

    public int MinLength { get; }
    public int MaxLength { get; }
    public int Buckets { get; }

    /// <summary>The bucket of every n-gram of ‹word›, by length then start position (repeats kept: a repeated n-gram counts twice).</summary>
    public List<int> BucketsOf(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        var result = new List<int>();
        int length = word.Length + 2;
        for (int n = MinLength; n <= Math.Min(MaxLength, length); n++)
        {
            for (int start = 0; start + n <= length; start++)
            {
                long h = 0;
                for (int k = start; k < start + n; k++)
                    h = ((h * Multiplier) + CodeAt(word, k)) % Modulus;
                result.Add(Bucket(h, n));
            }
        }
        return result;
    }

    /// <summary>The bucket of an n-gram with polynomial hash <paramref name="hash"/>.</summary>
    public int Bucket(long hash, int n) => (int)((((hash * Multiplier) + n) % Modulus) % Buckets);

    /// <summary>
    /// The buckets of every token as compressed rows: token t's buckets are <c>Values[Offsets[t]..Offsets[t + 1])</c>.
    /// Token 0 (unknown) has none.
    /// </summary>
    public (long[] Offsets, long[] Values) BucketTable(IReadOnlyList<string> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        var offsets = new long[tokens.Count + 1];
        var values = new List<long>();
        for (int t = 0; t < tokens.Count; t++)
        {
            if (t > 0)
            {
                foreach (int bucket in BucketsOf(tokens[t]))
                    values.Add(bucket);
            }
            offsets[t + 1] = values.Count;
        }
        return (offsets, values.ToArray());
    }

    // Position k of ‹word›: the mark at both ends, the word's code units between.
    private static int CodeAt(string word, int k) => k == 0 || k == word.Length + 1 ? BoundaryCode : word[k - 1];
}
