using Microsoft.ML.Coherence.Internal;

namespace Microsoft.ML.Coherence.Statistics;

/// <summary>
/// The statistical field: for each token, its top-K statistical neighbours by PPMI and the target
/// distribution P_i(j) = PPMI(i, j) / Σ_k PPMI(i, k) over those neighbours (step 1 of the method).
/// </summary>
/// <remarks>
/// Stored as flat row-major arrays of V × K, ready to copy into tensors: row i holds token i's
/// neighbours in descending PPMI order (ties by smaller id), then padding (-1, probability 0, PPMI 0).
/// Only strictly positive PPMI counts, and a token is never its own neighbour, so a token may have fewer
/// than K neighbours (<see cref="NeighborCountPerToken"/>); the unknown token 0 has none.
/// The arrays are shared, not copied: do not modify them.
/// </remarks>
public sealed class StatisticalField
{
    private const int FormatMagic = 0x44465343; // "CSFD"
    private const int FormatVersion = 1;

    private StatisticalField(int vocabularySize, int neighborCount, double smoothing)
    {
        VocabularySize = vocabularySize;
        NeighborCount = neighborCount;
        Smoothing = smoothing;
        Neighbors = new int[vocabularySize * neighborCount];
        Array.Fill(Neighbors, -1);
        Probabilities = new float[vocabularySize * neighborCount];
        Ppmi = new float[vocabularySize * neighborCount];
        NeighborCountPerToken = new int[vocabularySize];
    }

    /// <summary>Number of token ids V, the unknown id 0 included.</summary>
    public int VocabularySize { get; }

    /// <summary>The most neighbours kept per token, K.</summary>
    public int NeighborCount { get; }

    /// <summary>The context-distribution smoothing exponent α the PPMI was computed with.</summary>
    public double Smoothing { get; }

    /// <summary>Neighbour ids, [V × K] row-major; -1 pads rows with fewer than K neighbours.</summary>
    public int[] Neighbors { get; }

    /// <summary>Target probabilities P_i(j), [V × K] row-major; each non-empty row sums to 1; padding is 0.</summary>
    public float[] Probabilities { get; }

    /// <summary>PPMI of each kept neighbour, [V × K] row-major; padding is 0.</summary>
    public float[] Ppmi { get; }

    /// <summary>Number of neighbours actually kept for each token, [V], each in 0..K.</summary>
    public int[] NeighborCountPerToken { get; }

    /// <summary>The neighbour arrays as the evaluation metrics take them.</summary>
    public Evaluation.StatisticalNeighbors ToNeighbors() => new(Neighbors, Probabilities, NeighborCount);

    /// <summary>Builds the field from co-occurrence counts.</summary>
    /// <param name="counts">The co-occurrence counts.</param>
    /// <param name="neighborCount">K, the most neighbours kept per token: 1..V-1.</param>
    /// <param name="smoothing">Context-distribution smoothing exponent α, in (0, 1].</param>
    /// <returns>The field.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="neighborCount"/> or <paramref name="smoothing"/> is out of range.</exception>
    internal static StatisticalField Build(CooccurrenceCounts counts, int neighborCount, double smoothing = PpmiCalculator.DefaultSmoothing)
    {
        ArgumentNullException.ThrowIfNull(counts);
        var size = counts.VocabularySize;
        if (neighborCount < 1 || neighborCount >= size)
        {
            CoherenceThrow.ArgumentOutOfRange(nameof(neighborCount), neighborCount,
                $"NeighborCount (K) is {neighborCount} but the vocabulary has {size} tokens; use 1..{size - 1}.");
        }
        var ppmi = new PpmiCalculator(counts, smoothing); // also builds the counts' row index before the parallel loop
        var field = new StatisticalField(size, neighborCount, smoothing);

        // Rows are independent and write disjoint slices; each worker keeps one bounded heap.
        Parallel.For(
            0,
            size,
            () => new PriorityQueue<int, (double Ppmi, int Id)>(neighborCount + 1, WorstFirst.Instance),
            (i, _, heap) =>
            {
                field.FillRow(i, counts, ppmi, heap);
                return heap;
            },
            _ => { });
        return field;
    }

    /// <summary>Token <paramref name="token"/>'s kept neighbours, best first (no padding).</summary>
    /// <param name="token">Token id.</param>
    /// <returns>The neighbour ids.</returns>
    public ReadOnlySpan<int> GetNeighbors(int token) => Neighbors.AsSpan(RowStart(token), NeighborCountPerToken[token]);

    /// <summary>Token <paramref name="token"/>'s target probabilities P_i(j), aligned with <see cref="GetNeighbors"/>.</summary>
    /// <param name="token">Token id.</param>
    /// <returns>The probabilities.</returns>
    public ReadOnlySpan<float> GetProbabilities(int token) => Probabilities.AsSpan(RowStart(token), NeighborCountPerToken[token]);

    /// <summary>Writes the field in a versioned binary format.</summary>
    /// <param name="stream">A writable stream; left open.</param>
    internal void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        FormatHeader.Write(writer, FormatMagic, FormatVersion);
        writer.Write(VocabularySize);
        writer.Write(NeighborCount);
        writer.Write(Smoothing);
        foreach (var count in NeighborCountPerToken)
        {
            writer.Write(count);
        }
        for (var k = 0; k < Neighbors.Length; k++)
        {
            writer.Write(Neighbors[k]);
            writer.Write(Probabilities[k]);
            writer.Write(Ppmi[k]);
        }
    }

    /// <summary>Reads a field written by <see cref="Save"/>.</summary>
    /// <param name="stream">A readable stream; left open.</param>
    /// <returns>The field.</returns>
    /// <exception cref="InvalidDataException">The stream does not hold a field of a known version.</exception>
    internal static StatisticalField Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var reader = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        const string What = "Coherence statistical field";
        FormatHeader.Read(reader, FormatMagic, FormatVersion, What);
        var size = reader.ReadInt32();
        var neighborCount = reader.ReadInt32();
        var smoothing = reader.ReadDouble();
        if (size < 2 || neighborCount < 1 || neighborCount >= size || (long)size * neighborCount > Array.MaxLength ||
            !(smoothing > 0 && smoothing <= 1))
        {
            CoherenceThrow.InvalidData(What, $"VocabularySize {size}, NeighborCount {neighborCount} or Smoothing {smoothing} is out of range.");
        }
        var field = new StatisticalField(size, neighborCount, smoothing);
        for (var i = 0; i < size; i++)
        {
            var count = reader.ReadInt32();
            if (count < 0 || count > neighborCount)
            {
                CoherenceThrow.InvalidData(What, $"token {i} has {count} neighbours; use 0..{neighborCount}.");
            }
            field.NeighborCountPerToken[i] = count;
        }
        for (var k = 0; k < field.Neighbors.Length; k++)
        {
            var neighbor = reader.ReadInt32();
            var kept = k % neighborCount < field.NeighborCountPerToken[k / neighborCount];
            if (kept ? (uint)neighbor >= (uint)size : neighbor != -1)
            {
                CoherenceThrow.InvalidData(What, $"neighbour {neighbor} at slot {k} is out of range.");
            }
            field.Neighbors[k] = neighbor;
            field.Probabilities[k] = reader.ReadSingle();
            field.Ppmi[k] = reader.ReadSingle();
        }
        return field;
    }

    private int RowStart(int token)
    {
        if ((uint)token >= (uint)VocabularySize)
        {
            CoherenceThrow.ArgumentOutOfRange(nameof(token), token, $"Token id {token} is outside the vocabulary; use 0..{VocabularySize - 1}.");
        }
        return token * NeighborCount;
    }

    private void FillRow(int i, CooccurrenceCounts counts, PpmiCalculator ppmi, PriorityQueue<int, (double Ppmi, int Id)> heap)
    {
        counts.GetScaledRow(i, out var columns, out var counted);
        if (columns.IsEmpty)
        {
            return;
        }
        // Keep the K best (PPMI descending, then id ascending) in a heap whose root is the worst kept.
        heap.Clear();
        for (var k = 0; k < columns.Length; k++)
        {
            var j = columns[k];
            var value = ppmi.Ppmi(i, j, counted[k]);
            if (j == i || value <= 0)
            {
                continue;
            }
            if (heap.Count < NeighborCount)
            {
                heap.Enqueue(j, (value, j));
            }
            else if (heap.TryPeek(out _, out var worst) && WorstFirst.Instance.Compare((value, j), worst) > 0)
            {
                heap.DequeueEnqueue(j, (value, j));
            }
        }

        var kept = heap.Count;
        var start = i * NeighborCount;
        Span<double> values = kept <= 256 ? stackalloc double[kept] : new double[kept];
        var sum = 0.0;
        // Dequeuing gives the worst first, so the row fills from its end.
        for (var slot = kept - 1; slot >= 0; slot--)
        {
            heap.TryDequeue(out var j, out var priority);
            Neighbors[start + slot] = j;
            values[slot] = priority.Ppmi;
        }
        for (var slot = 0; slot < kept; slot++)
        {
            sum += values[slot];
        }
        for (var slot = 0; slot < kept; slot++)
        {
            Ppmi[start + slot] = (float)values[slot];
            Probabilities[start + slot] = (float)(values[slot] / sum);
        }
        NeighborCountPerToken[i] = kept;
    }

    /// <summary>Orders candidates worst first: lower PPMI, then (on ties) larger id.</summary>
    private sealed class WorstFirst : IComparer<(double Ppmi, int Id)>
    {
        public static readonly WorstFirst Instance = new();

        public int Compare((double Ppmi, int Id) x, (double Ppmi, int Id) y) =>
            x.Ppmi != y.Ppmi ? x.Ppmi.CompareTo(y.Ppmi) : y.Id.CompareTo(x.Id);
    }
}
