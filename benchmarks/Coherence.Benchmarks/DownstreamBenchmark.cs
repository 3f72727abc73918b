using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Coherence;
using Microsoft.ML.Runtime;

namespace Coherence.Benchmarks;

/// <summary>
/// Downstream cost of the stage's features in the pipeline ML.NET's text samples use (FeaturizeText, then SdcaMaximumEntropy
/// with no normaliser): SDCA's iterations to convergence and fit time on FeaturizeText alone and next to the stage (defaults,
/// fitted once per seed, not timed here), test accuracy beside them, and the Info lines the stage's Fit wrote to the log.
/// Ratios are against FeaturizeText alone in the same process; one MLContext seed per repeat.
/// </summary>
internal static class DownstreamBenchmark
{
    public static void Run(BenchmarkArguments arguments)
    {
        var train = Read(Path.Combine(arguments.LabelledDirectory, "train.tsv"), arguments.Rows);
        var test = Read(Path.Combine(arguments.LabelledDirectory, "test.tsv"), Math.Max(1, arguments.Rows / 3));
        Console.WriteLine($"Downstream: {train.Count:N0} training and {test.Count:N0} test rows of {arguments.LabelledDirectory}; " +
            $"FeaturizeText -> SdcaMaximumEntropy (no normaliser); stage with library defaults; seeds 1..{arguments.Repeats}");
        Console.WriteLine($"{"seed",4} {"features",-28} {"SDCA iterations",15} {"fit s",7} {"ratio",6} {"accuracy",9} {"macro",7}");
        for (int seed = 1; seed <= arguments.Repeats; seed++)
        {
            var ml = new MLContext(seed: seed);
            var messages = new List<(string Source, ChannelMessageKind Kind, string Text)>();
            ml.Log += (_, e) => { lock (messages) messages.Add((e.Source, e.Kind, e.RawMessage)); };
            var trainView = ml.Data.LoadFromEnumerable(train);
            var testView = ml.Data.LoadFromEnumerable(test);
            using var stage = ml.Transforms.Text.CoherenceEmbeddings("Coherence", "Text", new CoherenceEmbeddingOptions { Seed = seed }).Fit(trainView);
            int infoLines, allLines;
            lock (messages)
            {
                infoLines = messages.Count(m => m.Kind == ChannelMessageKind.Info && m.Source.StartsWith("CoherenceEmbedding", StringComparison.Ordinal));
                allLines = messages.Count(m => m.Source.StartsWith("CoherenceEmbedding", StringComparison.Ordinal));
            }
            Console.WriteLine($"{seed,4} stage Fit: {stage.Report.Options.Steps:N0} steps; the stage logged {infoLines} Info lines ({allLines} with Trace)");

            double? baseline = null;
            foreach (var (name, withStage) in new[] { ("FeaturizeText", false), ("FeaturizeText + coherence", true) })
            {
                IEstimator<ITransformer> features = ml.Transforms.Text.FeaturizeText("Features", "Text");
                if (withStage)
                    features = features.Append(stage.AsEstimator()).Append(ml.Transforms.Concatenate("Features", "Features", "Coherence"));
                var pipeline = features.Append(ml.Transforms.Conversion.MapValueToKey("Label")).AppendCacheCheckpoint(ml)
                    .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy());
                lock (messages)
                    messages.Clear();
                var clock = Stopwatch.StartNew();
                var model = pipeline.Fit(trainView);
                double seconds = clock.Elapsed.TotalSeconds;
                baseline ??= seconds;
                var metrics = ml.MulticlassClassification.Evaluate(model.Transform(testView));
                Console.WriteLine($"{seed,4} {name,-28} {Iterations(messages),15} {seconds,7:F1} {seconds / baseline.Value,6:F2} {metrics.MicroAccuracy,9:F4} {metrics.MacroAccuracy,7:F4}");
            }
        }
    }

    /// <summary>SDCA's "Using best model from iteration N." log line; "?" when a future ML.NET words it otherwise.</summary>
    private static string Iterations(List<(string Source, ChannelMessageKind Kind, string Text)> messages)
    {
        lock (messages)
        {
            const string Prefix = "Using best model from iteration ";
            string? line = messages.Select(m => m.Text).LastOrDefault(t => t.StartsWith(Prefix, StringComparison.Ordinal));
            return line is null ? "?" : line[Prefix.Length..].TrimEnd('.');
        }
    }

    private static List<LabelledRow> Read(string path, int rows) =>
        LabeledTsv.Read(path).Take(rows).Select(r => new LabelledRow { Label = r.Label, Text = r.Text }).ToList();

    private sealed class LabelledRow
    {
        public string Label { get; set; } = "";
        public string Text { get; set; } = "";
    }
}
