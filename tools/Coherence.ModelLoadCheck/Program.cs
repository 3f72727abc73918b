// Usage: Coherence.ModelLoadCheck MODEL.zip TEXTS.txt OUT.tsv FEATURE_COLUMN
// Loads MODEL.zip in a fresh MLContext, scores one row per line of TEXTS.txt (column "Text"), and writes
// each row's features (invariant, round-trip floats, space-separated), a tab and its PredictedLabel if the
// model has one. Exits 3 if TorchSharp, libtorch or Microsoft.ML.Coherence was loaded into this process, 2 on a usage error.
using System.CommandLine;
using System.Globalization;
using Coherence.Tools;
using Microsoft.ML;
using Microsoft.ML.Data;

var modelArgument = new Argument<string>("MODEL.zip") { Description = "The saved ML.NET model (mlContext.Model.Save)." };
var textsArgument = new Argument<string>("TEXTS.txt") { Description = "Texts to score, one row per line (column Text)." };
var outArgument = new Argument<string>("OUT.tsv") { Description = "Where to write each row's features, a tab and its PredictedLabel (if any)." };
var columnArgument = new Argument<string>("FEATURE_COLUMN") { Description = "The float-vector column to write." };
var command = new RootCommand("Loads a saved model in a process that has only ML.NET and ONNX Runtime (no Microsoft.ML.Coherence, no TorchSharp) and scores texts.")
{
    modelArgument,
    textsArgument,
    outArgument,
    columnArgument,
};
return ToolCommandLine.Run(command, args, parsed =>
    Check(parsed.GetValue(modelArgument)!, parsed.GetValue(textsArgument)!, parsed.GetValue(outArgument)!, parsed.GetValue(columnArgument)!));

static int Check(string modelPath, string textsPath, string outPath, string column)
{
    var ml = new MLContext(seed: 0);
    var model = ml.Model.Load(modelPath, out var inputSchema);
    var rows = File.ReadAllLines(textsPath).Select(t => new TextRow { Text = t }).ToList();
    var scored = model.Transform(ml.Data.LoadFromEnumerable(rows));
    var features = scored.GetColumn<float[]>(column).ToList();
    bool hasPrediction = scored.Schema.GetColumnOrNull("PredictedLabel") is not null;
    var predictions = hasPrediction ? scored.GetColumn<string>("PredictedLabel").ToList() : null;
    using (var writer = new StreamWriter(outPath))
    {
        for (int r = 0; r < features.Count; r++)
            writer.WriteLine(string.Join(' ', features[r].Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "\t" + (predictions?[r] ?? ""));
    }

    var loaded = AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetName().Name ?? "").ToList();
    var forbidden = loaded.Where(n => n.StartsWith("TorchSharp", StringComparison.Ordinal) || n.StartsWith("Microsoft.ML.Coherence", StringComparison.Ordinal)).ToList();
    var nativeTorch = File.ReadLines("/proc/self/maps").Where(l => l.Contains("libtorch", StringComparison.Ordinal) || l.Contains("LibTorchSharp", StringComparison.Ordinal)).ToList();
    if (forbidden.Count > 0 || nativeTorch.Count > 0)
    {
        Console.Error.WriteLine("loaded what scoring must not need: " + string.Join(", ", forbidden.Concat(nativeTorch.Take(3))));
        return 3;
    }
    Console.WriteLine($"scored {features.Count} rows without TorchSharp or Microsoft.ML.Coherence ({loaded.Count} assemblies loaded)");
    return 0;
}

internal sealed class TextRow
{
    public string Text { get; set; } = "";

    // Pipelines that map the label in their chain read the column at scoring time too; it may be empty.
    public string Label { get; set; } = "";
}
