using System.Runtime.CompilerServices;
using Microsoft.ML.Coherence.Internal;

namespace Microsoft.ML.Coherence.Statistics;

/// <summary>
/// Windowed, distance-weighted token co-occurrence counts (as GloVe counts them), gathered in one
/// streaming pass and mergeable exactly, so that counting can be split across shards or workers.
/// </summary>
/// <remarks>
/// <para>
/// For every two positions p &lt; q of a document with q - p = k &lt;= <see cref="Window"/>, the pair adds
/// 1/k to C[a, b] and to C[b, a] (a, b the tokens at p and q): the counts are symmetric.
/// Pairs where either token is the unknown id 0 are not counted, but unknown tokens still occupy
/// positions, so they do not bring their neighbours closer together.
/// </para>
/// <para>
/// Counts are stored as integers scaled by <see cref="Scale"/> = lcm(1..window) (a pair at distance k adds
/// <see cref="Scale"/>/k), so sums are exact and merging shards in any order gives bit-identical results.
/// A cell overflows only after about 1.2e13 unit-weight pairs (window 16).
/// </para>
/// <para>
/// Memory, while counting, is one open-addressing hash table of (i, j) → count, at most half full (32 to 64 bytes per
/// distinct pair), plus, once rows are read, a sorted row index (12 bytes per pair). It grows with the number of distinct
/// co-occurring pairs (at most V², in practice far fewer), never with the length of the corpus. <see cref="Count(IEnumerable{int[]}, int, int, int, int)"/>
/// splits the table by row across its workers and keeps only the row index (12 bytes per pair) once it is done.
/// Not thread-safe: use one instance per worker and <see cref="Merge"/> them. The parallel count is in
/// CooccurrenceCounts.Parallel.cs, the binary format in CooccurrenceCounts.Format.cs.
/// </para>
/// </remarks>
internal sealed partial class CooccurrenceCounts
{
    /// <summary>The largest window accepted: lcm(1..16) = 720720 still leaves ample headroom in a 64-bit count.</summary>
    public const int MaxWindow = 16;

    // Null once the counts are held only as rows (after Count); rebuilt from them if counting goes on.
    private PairCountTable? _pairs = new();
    private readonly long[] _rowSums;
    private readonly long[] _weights;
    private long _total;
    private PairRows? _rowIndex;

    /// <summary>Creates empty counts.</summary>
    /// <param name="vocabularySize">Number of token ids, the unknown id 0 included; at least 2.</param>
    /// <param name="window">Largest distance counted, 1..<see cref="MaxWindow"/>.</param>
    public CooccurrenceCounts(int vocabularySize, int window)
    {
        if (vocabularySize < 2)
        {
            CoherenceThrow.ArgumentOutOfRange(nameof(vocabularySize), vocabularySize,
                $"VocabularySize is {vocabularySize}; it must be at least 2 (the unknown token and one known token).");
        }
        if (window < 1 || window > MaxWindow)
        {
            CoherenceThrow.ArgumentOutOfRange(nameof(window), window, $"Window is {window}; use 1..{MaxWindow}.");
        }
        VocabularySize = vocabularySize;
        Window = window;
        Scale = LeastCommonMultipleUpTo(window);
        _weights = new long[window + 1];
        for (var k = 1; k <= window; k++)
        {
            _weights[k] = Scale / k;
        }
        _rowSums = new long[vocabularySize];
    }

    /// <summary>Number of token ids, the unknown id 0 included.</summary>
    public int VocabularySize { get; }

    /// <summary>Largest distance between two co-occurring positions.</summary>
    public int Window { get; }

    /// <summary>lcm(1..<see cref="Window"/>): the factor between stored integer counts and real counts.</summary>
    public long Scale { get; }

    /// <summary>Number of token positions read, unknown tokens included.</summary>
    public long TokensCounted { get; private set; }

    /// <summary>Number of documents read.</summary>
    public long DocumentsCounted { get; private set; }

    /// <summary>Number of ordered pairs (i, j) with a non-zero count.</summary>
    public int NonZeroPairs => _pairs?.Count ?? _rowIndex!.Count;

    /// <summary>Sum of all counts, Σ_ij C[i, j].</summary>
    public double Total => (double)_total / Scale;

    /// <summary>Counts one document.</summary>
    /// <param name="ids">The token ids of the document, each in 0..<see cref="VocabularySize"/>-1.</param>
    /// <exception cref="ArgumentOutOfRangeException">An id is out of range; nothing of the document is counted.</exception>
    public void AddDocument(ReadOnlySpan<int> ids)
    {
        CheckIds(ids);
        AddOwnedPairs(ids, owns: null);
        TokensCounted += ids.Length;
        DocumentsCounted++;
    }

    /// <summary>
    /// Counts the pairs of one (checked) document whose row i is owned (<paramref name="owns"/>[i]; null: every row), with
    /// their row sums: workers that own disjoint rows count the whole corpus into disjoint tables and row sums.
    /// </summary>
    private void AddOwnedPairs(ReadOnlySpan<int> ids, bool[]? owns)
    {
        var pairs = _pairs ??= _rowIndex!.ToTable();
        var weights = _weights;
        var rowSums = _rowSums;
        var window = Window;
        long total = 0;
        for (var p = 0; p < ids.Length; p++)
        {
            var a = ids[p];
            if (a == 0)
            {
                continue;
            }
            var ownsA = owns is null || owns[a];
            var end = Math.Min(ids.Length, p + window + 1);
            long sumA = 0;
            for (var q = p + 1; q < end; q++)
            {
                var b = ids[q];
                if (b == 0)
                {
                    continue;
                }
                var w = weights[q - p];
                if (ownsA)
                {
                    pairs.Add(PairCountTable.Key(a, b), w);
                    sumA += w;
                }
                if (owns is null || owns[b])
                {
                    pairs.Add(PairCountTable.Key(b, a), w);
                    rowSums[b] += w;
                    total += w;
                }
            }
            rowSums[a] += sumA;
            total += sumA;
        }
        _rowIndex = null;
        _total += total;
    }

    /// <summary>Adds <paramref name="other"/>'s counts to these: the result equals counting both corpora in one pass.</summary>
    /// <param name="other">Counts with the same <see cref="VocabularySize"/> and <see cref="Window"/>.</param>
    /// <exception cref="ArgumentException">The sizes or windows differ, or <paramref name="other"/> is this instance.</exception>
    public void Merge(CooccurrenceCounts other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (ReferenceEquals(other, this))
        {
            CoherenceThrow.Argument(nameof(other), "Counts cannot be merged into themselves; merge a separate shard.");
        }
        if (other.VocabularySize != VocabularySize || other.Window != Window)
        {
            CoherenceThrow.Argument(nameof(other),
                $"Cannot merge counts of VocabularySize {other.VocabularySize} and Window {other.Window} into counts of " +
                $"VocabularySize {VocabularySize} and Window {Window}; both must match.");
        }
        var rows = other.GetRowIndex();
        var pairs = _pairs ??= _rowIndex!.ToTable();
        for (var i = 0; i < VocabularySize; i++)
        {
            for (var k = rows.Starts[i]; k < rows.Starts[i + 1]; k++)
            {
                pairs.Add(PairCountTable.Key(i, rows.Columns[k]), rows.Values[k]);
            }
        }
        for (var i = 0; i < VocabularySize; i++)
        {
            _rowSums[i] += other._rowSums[i];
        }
        _rowIndex = null;
        _total += other._total;
        TokensCounted += other.TokensCounted;
        DocumentsCounted += other.DocumentsCounted;
    }

    /// <summary>The count C[i, j] (distance-weighted, so not necessarily an integer).</summary>
    /// <param name="i">Row token id.</param>
    /// <param name="j">Column (context) token id.</param>
    /// <returns>The count; 0 when the tokens never co-occur.</returns>
    public double GetCount(int i, int j) => (double)GetScaledCount(i, j) / Scale;

    /// <summary>The exact stored count of (i, j): C[i, j] × <see cref="Scale"/>.</summary>
    /// <param name="i">Row token id.</param>
    /// <param name="j">Column (context) token id.</param>
    /// <returns>The scaled count.</returns>
    public long GetScaledCount(int i, int j)
    {
        CheckId(i, nameof(i));
        CheckId(j, nameof(j));
        if (_pairs is null)
        {
            return _rowIndex!.Find(i, j);
        }
        return _pairs.TryGetValue(PairCountTable.Key(i, j), out var count) ? count : 0;
    }

    /// <summary>The row sum C[i, *] = Σ_j C[i, j]; the counts are symmetric, so it is also the column sum.</summary>
    /// <param name="i">Token id.</param>
    /// <returns>The row sum.</returns>
    public double RowSum(int i)
    {
        CheckId(i, nameof(i));
        return (double)_rowSums[i] / Scale;
    }

    /// <summary>The non-zero counts of row <paramref name="i"/>, in ascending column order.</summary>
    /// <param name="i">Token id.</param>
    /// <returns>(column, count) pairs.</returns>
    public IEnumerable<(int Column, double Count)> GetRow(int i)
    {
        CheckId(i, nameof(i));
        return RowEntries(i);
    }

    private IEnumerable<(int Column, double Count)> RowEntries(int i)
    {
        var index = GetRowIndex();
        for (var k = index.Starts[i]; k < index.Starts[i + 1]; k++)
        {
            yield return (index.Columns[k], (double)index.Values[k] / Scale);
        }
    }

    /// <summary>Whether both hold exactly the same counts, sizes, window and token and document totals.</summary>
    /// <param name="other">The counts to compare with.</param>
    /// <returns><see langword="true"/> when equal.</returns>
    public bool ContentEquals(CooccurrenceCounts other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.VocabularySize != VocabularySize || other.Window != Window || other.TokensCounted != TokensCounted ||
            other.DocumentsCounted != DocumentsCounted || other.NonZeroPairs != NonZeroPairs || other._total != _total)
        {
            return false;
        }
        if (!_rowSums.AsSpan().SequenceEqual(other._rowSums))
        {
            return false;
        }
        return GetRowIndex().ContentEquals(other.GetRowIndex());
    }

    /// <summary>
    /// Row <paramref name="i"/>'s scaled counts, columns ascending, for in-library readers (PPMI).
    /// Builds the row index on first use after a change; do not call while another thread adds counts.
    /// </summary>
    internal void GetScaledRow(int i, out ReadOnlySpan<int> columns, out ReadOnlySpan<long> values)
    {
        var index = GetRowIndex();
        var (start, end) = (index.Starts[i], index.Starts[i + 1]);
        columns = index.Columns.AsSpan(start, end - start);
        values = index.Values.AsSpan(start, end - start);
    }

    private PairRows GetRowIndex() => _rowIndex ??= PairRows.Build(VocabularySize, [_pairs]);

    private void CheckIds(ReadOnlySpan<int> ids)
    {
        for (var p = 0; p < ids.Length; p++)
        {
            if ((uint)ids[p] >= (uint)VocabularySize)
            {
                CoherenceThrow.ArgumentOutOfRange(nameof(ids), ids[p],
                    $"Token id {ids[p]} at position {p} is outside the vocabulary; use 0..{VocabularySize - 1}.");
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CheckId(int id, string paramName)
    {
        if ((uint)id >= (uint)VocabularySize)
        {
            CoherenceThrow.ArgumentOutOfRange(paramName, id, $"Token id {id} is outside the vocabulary; use 0..{VocabularySize - 1}.");
        }
    }

    private static long LeastCommonMultipleUpTo(int n)
    {
        long lcm = 1;
        for (long k = 2; k <= n; k++)
        {
            lcm = lcm / GreatestCommonDivisor(lcm, k) * k;
        }
        return lcm;
    }

    private static long GreatestCommonDivisor(long a, long b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }
        return a;
    }
}
