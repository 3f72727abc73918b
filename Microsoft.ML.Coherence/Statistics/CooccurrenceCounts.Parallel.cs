using Microsoft.ML.Coherence.Internal;

namespace Microsoft.ML.Coherence.Statistics;

/// <summary>Counting a corpus with several workers, each owning a share of the rows.</summary>
internal sealed partial class CooccurrenceCounts
{
    /// <summary>
    /// Counts a corpus in parallel: the corpus is read once, in shards of <paramref name="documentsPerShard"/> documents;
    /// every worker reads every shard and counts the pairs of the rows it owns (row i belongs to worker i mod workers), so
    /// the workers' tables never hold the same pair and together take the memory of one. The result is exactly that of
    /// one pass, and holds its pairs as sorted rows (12 bytes a pair) with the tables released.
    /// </summary>
    /// <param name="documents">The encoded documents; read once, as a stream.</param>
    /// <param name="vocabularySize">Number of token ids, the unknown id 0 included.</param>
    /// <param name="window">Largest distance counted, 1..<see cref="MaxWindow"/>.</param>
    /// <param name="documentsPerShard">Documents read before the workers count them; at least 1.</param>
    /// <param name="maxDegreeOfParallelism">Number of workers; -1 (or 0) for one per processor.</param>
    /// <returns>The counts.</returns>
    public static CooccurrenceCounts Count(
        IEnumerable<int[]> documents, int vocabularySize, int window, int documentsPerShard = 256, int maxDegreeOfParallelism = -1)
    {
        ArgumentNullException.ThrowIfNull(documents);
        return Count(documents.Select(static ids => (ReadOnlyMemory<int>)ids), vocabularySize, window, documentsPerShard, maxDegreeOfParallelism);
    }

    /// <summary>As the public overload, over slices of a corpus the caller already holds (no copy a document).</summary>
    internal static CooccurrenceCounts Count(
        IEnumerable<ReadOnlyMemory<int>> documents, int vocabularySize, int window, int documentsPerShard = 256, int maxDegreeOfParallelism = -1)
    {
        if (documentsPerShard < 1)
        {
            CoherenceThrow.ArgumentOutOfRange(nameof(documentsPerShard), documentsPerShard,
                $"DocumentsPerShard is {documentsPerShard}; it must be at least 1.");
        }
        var result = new CooccurrenceCounts(vocabularySize, window);
        var (workers, owned) = Workers(vocabularySize, window, maxDegreeOfParallelism > 0 ? maxDegreeOfParallelism : Environment.ProcessorCount);
        foreach (var shard in documents.Chunk(documentsPerShard))
        {
            foreach (var document in shard)
            {
                result.CheckIds(document.Span);
                result.TokensCounted += document.Length;
                result.DocumentsCounted++;
            }
            Parallel.For(0, workers.Length, new ParallelOptions { MaxDegreeOfParallelism = workers.Length }, w =>
            {
                foreach (var document in shard)
                {
                    workers[w].AddOwnedPairs(document.Span, workers.Length == 1 ? null : owned[w]);
                }
            });
        }
        result.TakeRows(workers);
        return result;
    }

    /// <summary>The workers and the rows each owns: row i belongs to worker i mod workers, so frequent (low) ids spread
    /// evenly; a lookup, not a division a pair.</summary>
    private static (CooccurrenceCounts[] Workers, bool[][] Owned) Workers(int vocabularySize, int window, int count)
    {
        var workers = new CooccurrenceCounts[count];
        var owned = new bool[count][];
        for (var w = 0; w < count; w++)
        {
            workers[w] = new CooccurrenceCounts(vocabularySize, window);
            owned[w] = new bool[vocabularySize];
            for (var i = w; i < vocabularySize; i += count)
            {
                owned[w][i] = true;
            }
        }
        return (workers, owned);
    }

    /// <summary>The workers' rows are disjoint: their sums add without overlap, and their tables become one set of rows.</summary>
    private void TakeRows(CooccurrenceCounts[] workers)
    {
        foreach (var worker in workers)
        {
            _total += worker._total;
            for (var i = 0; i < VocabularySize; i++)
            {
                _rowSums[i] += worker._rowSums[i];
            }
        }
        _rowIndex = PairRows.Build(VocabularySize, Array.ConvertAll(workers, static worker => worker._pairs));
        _pairs = null;
    }
}
