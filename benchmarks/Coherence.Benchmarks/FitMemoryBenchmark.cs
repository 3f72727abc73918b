using System.Globalization;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Coherence;
using Microsoft.ML.Data;

namespace Coherence.Benchmarks;

/// <summary>
/// Memory of one Fit on a corpus of a chosen size (the training corpus repeated to --megabytes of text, as one row or as
/// rows of --row-bytes characters): the peak growth of the resident set and the managed heap during Fit, and the resident
/// set after it. With --cycles, also N fits of the bundled spam sample in one process, each disposed, with the resident
/// set after each (docs/reliability.md).
/// </summary>
internal static class FitMemoryBenchmark
{
    public static void Run(BenchmarkArguments arguments)
    {
        var (rows, characters) = Corpus(arguments.CorpusPath, arguments.Megabytes, arguments.RowBytes);
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(rows);
        var options = new CoherenceEmbeddingOptions { Seed = 1, Steps = arguments.Steps, EvaluationInterval = 0 };
        Console.WriteLine($"Fit on {characters / 1e6:F1} M characters in {rows.Count:N0} row(s), defaults with Steps = {arguments.Steps}.");

        using var growth = MemoryGrowth.Start();
        using (var stage = ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", options).Fit(data))
        {
            var (resident, managed, before) = growth.Stop();
            Console.WriteLine($"  resident before Fit {before:F0} MB (the text itself included); peak growth during Fit: resident {resident:F0} MB " +
                $"({resident * 1024 * 1024 / characters:F1} bytes a character), managed {managed:F0} MB");
            Console.WriteLine($"  vocabulary {stage.Report.VocabularySize:N0}, training tokens {stage.Report.TrainingTokens:N0}; " +
                $"resident after Fit {Environment.WorkingSet / 1048576.0:F0} MB");
            Console.WriteLine($"  measured as the {growth.Method}");
        }

        if (arguments.Cycles > 0)
            Cycles(arguments.Cycles);
    }

    // The training text repeated up to the size asked, cut into rows of rowBytes characters (0: one row).
    private static (List<TextRow> Rows, long Characters) Corpus(string path, int megabytes, int rowBytes)
    {
        var lines = File.ReadLines(path).Select(line => line.Contains('\t') ? line.Split('\t', 2)[1] : line).Where(line => line.Length > 0).ToList();
        var text = new StringBuilder();
        for (int i = 0; text.Length < megabytes * 1_000_000L; i++)
            text.Append(lines[i % lines.Count]).Append(' ');
        string all = text.ToString();
        var rows = rowBytes == 0
            ? [new TextRow { Text = all }]
            : Enumerable.Range(0, all.Length / rowBytes).Select(i => new TextRow { Text = all.Substring(i * rowBytes, rowBytes) }).ToList();
        return (rows, rows.Sum(row => (long)row.Text.Length));
    }

    private static void Cycles(int cycles)
    {
        string spam = Path.Combine(BenchmarkEnvironment.RepositoryRoot(), "data", "sample", "spam", "train.tsv");
        var texts = File.ReadLines(spam).Select(line => new TextRow { Text = line.Split('\t', 2)[1] }).ToList();
        Console.WriteLine($"{cycles} Fit + Dispose cycles, spam sample ({texts.Count:N0} rows), defaults with Steps = 60, seed = cycle:");
        double first = 0;
        for (int cycle = 1; cycle <= cycles; cycle++)
        {
            var ml = new MLContext(seed: cycle);
            var data = ml.Data.LoadFromEnumerable(texts);
            using (var stage = ml.Transforms.Text.CoherenceEmbeddings("Features", "Text",
                       new CoherenceEmbeddingOptions { Seed = cycle, Steps = 60 }).Fit(data))
            {
                _ = stage.Transform(data).GetColumn<float[]>("Features").Take(200).Count();
            }
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            double resident = Environment.WorkingSet / 1048576.0;
            first = cycle == 1 ? resident : first;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  cycle {cycle,3}: resident {resident:F0} MB ({resident - first:+0;-0;0} MB against cycle 1), managed {GC.GetTotalMemory(false) / 1048576.0:F0} MB"));
        }
    }

    private sealed class TextRow
    {
        public string Text { get; set; } = "";
    }
}
