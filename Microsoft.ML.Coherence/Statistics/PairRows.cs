using Microsoft.ML.Coherence.Internal;

namespace Microsoft.ML.Coherence.Statistics;

/// <summary>
/// Co-occurrence pairs in compressed sparse row form, 12 bytes a pair: row i is [Starts[i], Starts[i + 1]) of
/// <see cref="Columns"/> and <see cref="Values"/>, columns ascending. Built from one or more hash tables of disjoint pairs.
/// </summary>
internal sealed class PairRows
{
    private PairRows(int[] starts, int[] columns, long[] values) => (Starts, Columns, Values) = (starts, columns, values);

    public int[] Starts { get; }

    public int[] Columns { get; }

    public long[] Values { get; }

    public int Count => Columns.Length;

    /// <summary>
    /// The rows of the pairs in <paramref name="tables"/>, which must not share a key. Each table slot is set to null once
    /// copied, so a caller that hands over its only references frees each table while the next is read.
    /// </summary>
    public static PairRows Build(int rowCount, PairCountTable?[] tables)
    {
        var starts = new int[rowCount + 1];
        foreach (var table in tables)
        {
            foreach (var entry in table!.Slots)
            {
                if (entry.Key != PairCountTable.EmptyKey)
                    starts[(int)(entry.Key >> 32) + 1]++;
            }
        }
        for (int i = 0; i < rowCount; i++)
            starts[i + 1] += starts[i];

        var columns = new int[starts[rowCount]];
        var values = new long[starts[rowCount]];
        var next = starts[..rowCount];
        for (int t = 0; t < tables.Length; t++)
        {
            foreach (var entry in tables[t]!.Slots)
            {
                if (entry.Key == PairCountTable.EmptyKey)
                    continue;
                int k = next[(int)(entry.Key >> 32)]++;
                (columns[k], values[k]) = ((int)entry.Key, entry.Value);
            }
            tables[t] = null;
        }
        // Hash order is arbitrary; sorting each row makes the form canonical (equal counts, equal arrays).
        Parallel.For(0, rowCount, i => Array.Sort(columns, values, starts[i], starts[i + 1] - starts[i]));
        return new PairRows(starts, columns, values);
    }

    /// <summary>The stored value of (i, j), 0 when absent.</summary>
    public long Find(int i, int j)
    {
        int k = Array.BinarySearch(Columns, Starts[i], Starts[i + 1] - Starts[i], j);
        return k >= 0 ? Values[k] : 0;
    }

    /// <summary>A hash table of the same pairs, for counting on.</summary>
    public PairCountTable ToTable()
    {
        var table = new PairCountTable(2 * Count);
        for (int i = 0; i + 1 < Starts.Length; i++)
        {
            for (int k = Starts[i]; k < Starts[i + 1]; k++)
                table.Add(PairCountTable.Key(i, Columns[k]), Values[k]);
        }
        return table;
    }

    public bool ContentEquals(PairRows other) =>
        Starts.AsSpan().SequenceEqual(other.Starts) && Columns.AsSpan().SequenceEqual(other.Columns) && Values.AsSpan().SequenceEqual(other.Values);
}
