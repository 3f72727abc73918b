using Microsoft.ML;
using Microsoft.ML.Coherence;

namespace Coherence.Benchmarks;

/// <summary>
/// Rows per second of a saved-and-reloaded coherence stage against ML.NET's FeaturizeText, saved and
/// reloaded the same way, scoring the same texts in the same process, in turn (best of the repeats).
/// </summary>
internal static class ScoringThroughput
{
    public sealed record Result(int Layers, int Rows, double CoherenceRowsPerSecond, double FeaturizeTextRowsPerSecond, double Ratio,
        IReadOnlyList<ScoringBreakdown.Step> Breakdown);

    private sealed class TextRow
    {
        public string Text { get; set; } = "";
    }

    public static Result Run(string corpusPath, int layers, int rows, int repeats, int seed)
    {
        var ml = new MLContext(seed: seed);
        var lines = File.ReadLines(corpusPath).Where(l => l.Length > 0).ToList();
        var texts = Enumerable.Range(0, rows).Select(i => new TextRow { Text = lines[i % lines.Count] }).ToList();
        var data = ml.Data.LoadFromEnumerable(texts);
        var options = new CoherenceEmbeddingOptions
        {
            EmbeddingDimension = 64, Layers = layers, Heads = 4, ContextLength = 64, Steps = 20, EvaluationInterval = 0, Seed = seed, Device = "cpu",
        };
        var coherence = Reload(ml, ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", options).Fit(data), data);
        var featurize = Reload(ml, ml.Transforms.Text.FeaturizeText("Features", "Text").Fit(data), data);
        double best = 0, bestBaseline = 0;
        for (int r = 0; r < repeats; r++)
        {
            bestBaseline = Math.Max(bestBaseline, RowsPerSecond(featurize, data));
            best = Math.Max(best, RowsPerSecond(coherence, data));
        }
        return new Result(layers, rows, best, bestBaseline, best / bestBaseline, ScoringBreakdown.Measure(coherence, data, repeats));
    }

    private static ITransformer Reload(MLContext ml, ITransformer model, IDataView data)
    {
        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        stream.Position = 0;
        return new MLContext(seed: 1).Model.Load(stream, out _);
    }

    private static double RowsPerSecond(ITransformer model, IDataView data)
    {
        var output = model.Transform(data);
        return ScoringBreakdown.RowsPerSecond(output, output.Schema["Features"]);
    }
}
