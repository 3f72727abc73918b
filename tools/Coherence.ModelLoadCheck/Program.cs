// Usage: Coherence.ModelLoadCheck MODEL.zip TEXTS.txt OUT.tsv FEATURE_COLUMN
// Loads MODEL.zip in a fresh MLContext, scores one row per line of TEXTS.txt (column "Text"), and writes
// each row's features (invariant, round-trip floats, space-separated), a tab and its PredictedLabel if the
// model has one. Exits 3 if TorchSharp, libtorch or Microsoft.ML.Coherence was loaded into this process.
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

if (args.Length != 4)
{
    Console.Error.WriteLine("usage: Coherence.ModelLoadCheck MODEL.zip TEXTS.txt OUT.tsv FEATURE_COLUMN");
    return 2;
}
var ml = new MLContext(seed: 0);
var model = ml.Model.Load(args[0], out var inputSchema);
var rows = File.ReadAllLines(args[1]).Select(t => new TextRow { Text = t }).ToList();
var scored = model.Transform(ml.Data.LoadFromEnumerable(rows));
var features = scored.GetColumn<float[]>(args[3]).ToList();
bool hasPrediction = scored.Schema.GetColumnOrNull("PredictedLabel") is not null;
var predictions = hasPrediction ? scored.GetColumn<string>("PredictedLabel").ToList() : null;
using (var writer = new StreamWriter(args[2]))
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

internal sealed class TextRow
{
    public string Text { get; set; } = "";

    // Pipelines that map the label in their chain read the column at scoring time too; it may be empty.
    public string Label { get; set; } = "";
}
