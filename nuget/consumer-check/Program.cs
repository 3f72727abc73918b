// Consumer check: an application outside the solution that uses Microsoft.ML.Coherence (plus TorchSharp-cpu)
// trains, saves, reloads in a new MLContext and predicts. Exit code 0 only if the reloaded predictions equal
// the originals and test accuracy beats the majority class. nuget/consumer-check/run.sh builds it against the
// packed package, nuget/project-reference-check/run.sh against the project file. Like a new user, it imports
// only Microsoft.ML: the catalog method is found there; the library's types are named in full.
// Usage: dotnet run -- <folder with train.tsv and test.tsv> [training rows]
using Microsoft.ML;

string dataDir = args.Length > 0 ? args[0] : throw new ArgumentException("usage: consumer-check <data/sample/spam folder> [rows]");
int rows = args.Length > 1 ? int.Parse(args[1]) : 300;

var ml = new MLContext(seed: 1);
// The version NuGet resolved (the package's floor, or the one the app asked for); run.sh checks it.
Console.WriteLine($"Microsoft.ML in use: {typeof(MLContext).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
    .Cast<System.Reflection.AssemblyInformationalVersionAttribute>().Single().InformationalVersion.Split('+')[0]}");
var log = new List<string>();
ml.Log += (_, e) => { if (e.Kind >= Microsoft.ML.Runtime.ChannelMessageKind.Info) lock (log) log.Add(e.RawMessage); };
var train = ml.Data.TakeRows(ml.Data.LoadFromTextFile<Row>(Path.Combine(dataDir, "train.tsv"), separatorChar: '\t', allowQuoting: false), rows);
var test = ml.Data.LoadFromTextFile<Row>(Path.Combine(dataDir, "test.tsv"), separatorChar: '\t', allowQuoting: false);

var options = new Microsoft.ML.Coherence.CoherenceEmbeddingOptions { EmbeddingDimension = 16, Steps = 50, EvaluationInterval = 25, Seed = 1 };
var pipeline = ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", options)
    .Append(ml.Transforms.Conversion.MapValueToKey("Label"))
    .Append(ml.Transforms.NormalizeMinMax("Features"))
    .AppendCacheCheckpoint(ml)
    .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy())
    .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
var model = pipeline.Fit(train);
var coherence = (Microsoft.ML.Coherence.CoherenceEmbeddingTransformer)model.First();
Console.WriteLine($"trained: vocabulary {coherence.Report.VocabularySize:N0}, d = {coherence.Model.Dimension}, {options.Steps} steps, " +
                  $"held-out perplexity {coherence.Report.InitialHeldOutPerplexity:F0} -> {coherence.Report.FinalHeldOutPerplexity:F1}");
// Which TorchSharp native library the process runs on (the scripts check it), and what the library logged about it.
string? native = File.Exists("/proc/self/maps")
    ? File.ReadLines("/proc/self/maps").Select(l => l[Math.Max(0, l.IndexOf('/'))..]).FirstOrDefault(p => p.EndsWith("/libLibTorchSharp.so", StringComparison.Ordinal))
    : null;
Console.WriteLine($"TorchSharp native library loaded: {native ?? "(not a Linux process map)"}");
lock (log)
    foreach (string line in log.Where(l => l.StartsWith("TorchSharp native fix", StringComparison.Ordinal)))
        Console.WriteLine($"log: {line}");

string path = Path.Combine(Path.GetTempPath(), $"coherence-consumer-{Environment.ProcessId}.zip");
ml.Model.Save(model, train.Schema, path);
var fresh = new MLContext(seed: 2);
var loaded = fresh.Model.Load(path, out _);
Console.WriteLine($"saved and reloaded: {new FileInfo(path).Length / 1024:N0} KB");
File.Delete(path);

var before = ml.Data.CreateEnumerable<Prediction>(model.Transform(test), reuseRowObject: false).ToArray();
var after = fresh.Data.CreateEnumerable<Prediction>(loaded.Transform(test), reuseRowObject: false).ToArray();
int failures = 0;
bool same = before.Length == after.Length && before.Zip(after).All(p => p.First.PredictedLabel == p.Second.PredictedLabel && p.First.Score.SequenceEqual(p.Second.Score));
Console.WriteLine($"reloaded predictions identical (labels and scores): {same} ({before.Length} rows)");
if (!same) failures++;

var labels = ml.Data.CreateEnumerable<Row>(test, reuseRowObject: false).Select(r => r.Label).ToArray();
double accuracy = labels.Zip(after).Count(p => p.First == p.Second.PredictedLabel) / (double)labels.Length;
var majority = labels.GroupBy(l => l).OrderByDescending(g => g.Count()).First();
double majorityRate = majority.Count() / (double)labels.Length;
Console.WriteLine($"test accuracy {accuracy:P1} vs majority class '{majority.Key}' {majorityRate:P1}");
if (!(accuracy > majorityRate)) failures++;

Console.WriteLine(failures == 0 ? "consumer check: passed" : $"consumer check: FAILED ({failures} assertion(s))");
return failures == 0 ? 0 : 1;

internal sealed class Row
{
    [Microsoft.ML.Data.LoadColumn(0)] public string Label { get; set; } = "";
    [Microsoft.ML.Data.LoadColumn(1)] public string Text { get; set; } = "";
}

internal sealed class Prediction
{
    public string PredictedLabel { get; set; } = "";
    public float[] Score { get; set; } = [];
}
