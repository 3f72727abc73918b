namespace Microsoft.ML.Coherence.Statistics;

/// <summary>
/// The word bigrams of the label-aware mode, fastText's <c>-wordNgrams 2</c>: the most frequent pairs of consecutive known
/// tokens of the training text, each with a row of a bigram table whose vectors the label loss trains and the pooling
/// averages with the word vectors. A pair finds its row through a hashed slot table, so the saved scoring graph looks it up
/// with integer ONNX operators: slot = (a·<see cref="Multiplier"/> + b) mod <see cref="SlotCount"/>, row = <see cref="SlotRows"/>[slot].
/// </summary>
/// <remarks>
/// Row 0 means "no vector": pairs with the unknown token (id 0), and pairs whose slot no kept bigram took. The slot count
/// is the smallest prime of at least 8 slots per kept bigram, so few kept bigrams share a slot (those that do share a row),
/// and (a, b) and (b, a) never do (they would need a ≡ b); a rare pair whose slot a kept bigram took reads that row, in
/// training and in scoring alike. With a &lt; 2³¹ the products stay below 2⁵², exact in int64.
/// </remarks>
internal sealed class WordBigrams
{
    /// <summary>The hash's multiplier, a prime.</summary>
    public const long Multiplier = 1_000_003;

    /// <summary>Slots per kept bigram, at least (rounded up to a prime).</summary>
    private const int SlotsPerBigram = 8;

    public WordBigrams(int[] slotRows, int rowCount)
    {
        ArgumentNullException.ThrowIfNull(slotRows);
        if (slotRows.Length == 0)
            throw new ArgumentException("The slot table needs at least one slot.", nameof(slotRows));
        if (rowCount < 1 || slotRows.Any(r => r < 0 || r >= rowCount))
            throw new ArgumentException($"Every slot's row must lie in 0..{rowCount - 1}.", nameof(slotRows));
        SlotRows = slotRows;
        RowCount = rowCount;
    }

    /// <summary>The row of each slot, [<see cref="SlotCount"/>]; 0 = no vector.</summary>
    public int[] SlotRows { get; }

    public int SlotCount => SlotRows.Length;

    /// <summary>Rows of the bigram table, the zero row 0 included.</summary>
    public int RowCount { get; }

    /// <summary>The bigram row of the consecutive tokens (<paramref name="first"/>, <paramref name="second"/>); 0 when it has none.</summary>
    public int RowOf(int first, int second) =>
        first <= 0 || second <= 0 ? 0 : SlotRows[(int)((first * Multiplier + second) % SlotCount)];

    /// <summary>
    /// The at most <paramref name="maxBigrams"/> most frequent bigrams (ties by ids) seen at least <paramref name="minCount"/>
    /// times in <paramref name="documents"/>, pairs of consecutive known tokens within a document; null when none qualifies.
    /// </summary>
    public static WordBigrams? Build(IEnumerable<int[]> documents, int maxBigrams, int minCount)
    {
        ArgumentNullException.ThrowIfNull(documents);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBigrams, 1);
        var counts = new Dictionary<long, int>();
        foreach (var ids in documents)
        {
            for (int i = 1; i < ids.Length; i++)
            {
                if (ids[i - 1] > 0 && ids[i] > 0)
                {
                    long key = ((long)ids[i - 1] << 32) | (uint)ids[i];
                    counts[key] = counts.GetValueOrDefault(key) + 1;
                }
            }
        }

        var kept = counts.Where(p => p.Value >= minCount)
            .OrderByDescending(p => p.Value).ThenBy(p => p.Key)
            .Take(maxBigrams).Select(p => p.Key).ToArray();
        if (kept.Length == 0)
            return null;

        int slots = PrimeAtLeast(kept.Length * SlotsPerBigram);
        var slotRows = new int[slots];
        int rows = 1;
        foreach (long key in kept)
        {
            int slot = (int)(((key >> 32) * Multiplier + (key & 0xFFFFFFFF)) % slots);
            if (slotRows[slot] == 0)
                slotRows[slot] = rows++;
        }
        return new WordBigrams(slotRows, rows);
    }

    /// <summary>The smallest prime at least <paramref name="value"/> (trial division; the values here are below 2³¹ / 8).</summary>
    internal static int PrimeAtLeast(int value)
    {
        for (int candidate = Math.Max(2, value); ; candidate++)
        {
            bool prime = true;
            for (int divisor = 2; (long)divisor * divisor <= candidate; divisor++)
            {
                if (candidate % divisor == 0)
                {
                    prime = false;
                    break;
                }
            }
            if (prime)
                return candidate;
        }
    }
}
