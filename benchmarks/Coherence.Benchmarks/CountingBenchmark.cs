using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Coherence;
using Microsoft.ML.Coherence.Statistics;
using Microsoft.ML.Coherence.Text;

namespace Coherence.Benchmarks;

/// <summary>
/// The counting mode: co-occurrence counting throughput of one <see cref="CooccurrenceCounts"/> fed document by
/// document against the parallel <see cref="CooccurrenceCounts.Count"/>, on the tokenised corpus repeated to about
/// two million tokens; one untimed warm-up (which also checks both agree), then the median of 3.
/// </summary>
internal static class CountingBenchmark
{
    public static CountingResults Run(string corpusPath)
    {
        const int window = 5;
        const long targetTokens = 2_000_000;
        const int runs = 3;
        var ml = new MLContext(seed: BenchmarkEnvironment.Seed);
        var tokenized = new CoherenceTokenizer(ml).Tokenize(File.ReadLines(corpusPath)).ToList();
        var vocabulary = Vocabulary.Build(tokenized, CoherenceEmbeddingOptions.Defaults.MinCount, CoherenceEmbeddingOptions.Defaults.MaxVocabularySize);
        var encoded = tokenized.Select(vocabulary.Encode).ToList();
        long corpusTokens = encoded.Sum(d => (long)d.Length);
        int copies = (int)Math.Ceiling((double)targetTokens / corpusTokens);
        var documents = Enumerable.Repeat(encoded, copies).SelectMany(d => d).ToArray();
        long tokens = documents.Sum(d => (long)d.Length);
        Console.WriteLine();
        Console.WriteLine($"Counting benchmark: window {window}, vocabulary {vocabulary.Count:N0}, corpus {corpusTokens:N0} tokens x {copies} = " +
            $"{tokens:N0} tokens in {documents.Length:N0} documents; median of {runs} runs after one untimed warm-up.");

        CooccurrenceCounts Single()
        {
            var counts = new CooccurrenceCounts(vocabulary.Count, window);
            foreach (var document in documents)
                counts.AddDocument(document);
            return counts;
        }
        CooccurrenceCounts Parallel() => CooccurrenceCounts.Count(documents, vocabulary.Count, window);

        // Warm-up (JIT, page faults) on both paths, then check they agree.
        var reference = Single();
        var parallelReference = Parallel();
        if (!reference.ContentEquals(parallelReference))
            throw new InvalidOperationException("The parallel count differs from the single pass.");

        (double Median, double[] All) Time(Func<CooccurrenceCounts> count)
        {
            var seconds = new double[runs];
            for (int r = 0; r < runs; r++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                var clock = Stopwatch.StartNew();
                var counts = count();
                seconds[r] = clock.Elapsed.TotalSeconds;
                GC.KeepAlive(counts);
            }
            var sorted = seconds.Order().ToArray();
            return (sorted[runs / 2], seconds);
        }
        var single = Time(Single);
        var parallel = Time(Parallel);
        var table = new TextTable("method", "median s", "tokens/s", "runs (s)");
        table.Add("single pass (AddDocument)", single.Median.ToString("F3", CultureInfo.InvariantCulture),
            (tokens / single.Median).ToString("N0", CultureInfo.InvariantCulture), string.Join(", ", single.All.Select(s => s.ToString("F3", CultureInfo.InvariantCulture))));
        table.Add($"parallel Count ({Environment.ProcessorCount} workers)", parallel.Median.ToString("F3", CultureInfo.InvariantCulture),
            (tokens / parallel.Median).ToString("N0", CultureInfo.InvariantCulture), string.Join(", ", parallel.All.Select(s => s.ToString("F3", CultureInfo.InvariantCulture))));
        table.Print();
        Console.WriteLine($"Parallel speed-up: {single.Median / parallel.Median:F2}x; non-zero pairs {reference.NonZeroPairs:N0}.");
        return new CountingResults
        {
            Window = window,
            VocabularySize = vocabulary.Count,
            CorpusTokens = corpusTokens,
            Copies = copies,
            Tokens = tokens,
            Documents = documents.Length,
            NonZeroPairs = reference.NonZeroPairs,
            Runs = runs,
            Workers = Environment.ProcessorCount,
            SingleMedianSeconds = single.Median,
            SingleTokensPerSecond = tokens / single.Median,
            SingleSeconds = single.All,
            ParallelMedianSeconds = parallel.Median,
            ParallelTokensPerSecond = tokens / parallel.Median,
            ParallelSeconds = parallel.All,
            ParallelSpeedup = single.Median / parallel.Median,
        };
    }
}

internal sealed record CountingResults
{
    public required int Window { get; init; }
    public required int VocabularySize { get; init; }
    public required long CorpusTokens { get; init; }
    public required int Copies { get; init; }
    public required long Tokens { get; init; }
    public required int Documents { get; init; }
    public required int NonZeroPairs { get; init; }
    public required int Runs { get; init; }
    public required int Workers { get; init; }
    public required double SingleMedianSeconds { get; init; }
    public required double SingleTokensPerSecond { get; init; }
    public required double[] SingleSeconds { get; init; }
    public required double ParallelMedianSeconds { get; init; }
    public required double ParallelTokensPerSecond { get; init; }
    public required double[] ParallelSeconds { get; init; }
    public required double ParallelSpeedup { get; init; }
}
