using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Coherence.GpuCheck;
using Coherence.Tools;
using Microsoft.ML;
using Microsoft.ML.Coherence;
using Microsoft.ML.Data;

// The CUDA check (docs/gpu.md), over the library's public API only: binds TorchSharp to the libtorch it is given, fits
// the same ML.NET pipeline (the stage, then SDCA) on CUDA and on the CPU at the same seed, saves the CUDA-fitted model,
// reloads it in a fresh MLContext that scores on the CPU, and compares: the reload (features within 1e-5, the same
// predictions), the CUDA-fitted features against the CPU-fitted ones, held-out perplexity, accuracy, and training
// throughput. Writes results.json to --out after each stage. Exit codes: 0 passed (or CUDA absent and not expected:
// the CPU half ran); 2 usage; 3 TorchSharp could not be bound to the libtorch; 4 a check failed.
const int ExitNativeLoad = 3, ExitFailed = 4;
var libtorchOption = new Option<string>("--libtorch") { Description = "A libtorch library folder (PyTorch's site-packages/torch/lib).", Required = true };
var dataOption = new Option<string>("--data")
{
    Description = "A folder with train.tsv and test.tsv (label<TAB>text).",
    DefaultValueFactory = _ => Path.Combine(AppContext.BaseDirectory, "spam"),
};
var outOption = new Option<string>("--out") { Description = "Folder for results.json.", DefaultValueFactory = _ => "." };
var expectCudaOption = new Option<bool>("--expect-cuda") { Description = "Fail when CUDA is not available (the GPU machine)." };
var stepsOption = ToolCommandLine.Checked("--steps", "Optimiser steps of each fit.", ToolCommandLine.IntAtLeast(1), "an integer >= 1", () => 200);
var dryRunOption = new Option<bool>("--dry-run") { Description = "Without CUDA, run the CUDA half on the CPU too, so every comparison runs (checks this program)." };
var layersOption = ToolCommandLine.Checked("--layers", "Transformer layers of the stage.", ToolCommandLine.IntAtLeast(0), "an integer >= 0", () => 2);
var command = new RootCommand("Fits the stage on CUDA and on the CPU, saves, reloads on the CPU and compares.")
{
    libtorchOption, dataOption, outOption, expectCudaOption, dryRunOption, stepsOption, layersOption,
};
return ToolCommandLine.Run(command, args, parsed => Check(parsed.GetValue(libtorchOption)!, parsed.GetValue(dataOption)!, parsed.GetValue(outOption)!,
    parsed.GetValue(expectCudaOption), parsed.GetValue(dryRunOption), parsed.GetValue(stepsOption), parsed.GetValue(layersOption)));

int Check(string libtorch, string data, string outFolder, bool expectCuda, bool dryRun, int steps, int layers)
{
    foreach (var split in new[] { "train.tsv", "test.tsv" })
    {
        if (!File.Exists(Path.Combine(data, split)))
            return ToolCommandLine.ReportUsageError($"option --data: '{data}' has no {split} (label<TAB>text).", "Coherence.GpuCheck");
    }
    Directory.CreateDirectory(outFolder);
    var results = new JsonObject { ["steps"] = steps, ["layers"] = layers, ["data"] = data };
    try
    {
        results["native"] = NativeTorch.Load(libtorch);
    }
    catch (NativeLoadException e)
    {
        Console.Error.WriteLine("Native load failed: " + e.Message);
        results["native_error"] = e.Message;
        Write(outFolder, results);
        return ExitNativeLoad;
    }
    bool cuda = TorchSharp.torch.cuda.is_available();
    results["cuda_available"] = cuda;
    Console.WriteLine($"CUDA available: {cuda}");
    var checks = new List<(string Name, bool Passed, string Detail)>();
    var ml = new MLContext(seed: 1);
    var train = ml.Data.LoadFromTextFile<Row>(Path.Combine(data, "train.tsv"));
    var test = ml.Data.LoadFromTextFile<Row>(Path.Combine(data, "test.tsv"));

    var cpu = Fit(ml, train, test, "cpu", steps, layers);
    results["cpu"] = cpu.Json;
    Write(outFolder, results);
    if (!cuda && !dryRun)
    {
        Console.WriteLine(expectCuda ? "CUDA was expected: failed." : "No CUDA: the CPU half ran.");
        return expectCuda ? ExitFailed : 0;
    }

    Fitted gpu;
    Scored reloaded;
    try
    {
        // The ML.NET way: the context's GPU id, which the stage follows when its Device option is null.
        gpu = cuda
            ? Fit(new MLContext(seed: 1) { GpuDeviceId = 0, FallbackToCpu = false }, train, test, device: null, steps, layers)
            : Fit(new MLContext(seed: 1), train, test, "cpu", steps, layers); // --dry-run
        // Saved, then loaded where no GPU is asked for: ML.NET's ONNX scoring runs on the CPU.
        string zip = Path.Combine(outFolder, "cuda-model.zip");
        ml.Model.Save(gpu.Model, train.Schema, zip);
        var fresh = new MLContext(seed: 1);
        reloaded = Score(fresh, fresh.Model.Load(zip, out _), test);
        File.Delete(zip);
    }
    catch (Exception e)
    {
        Console.Error.WriteLine("The CUDA half failed: " + e);
        results["cuda_error"] = e.ToString();
        Write(outFolder, results);
        return ExitFailed;
    }
    results["cuda"] = gpu.Json;
    string expectedDevice = cuda ? "cuda" : "cpu";
    checks.Add(($"trained on {expectedDevice}", gpu.Stage.Report.Device.StartsWith(expectedDevice, StringComparison.Ordinal), gpu.Stage.Report.Device));
    double reloadDifference = MaxDifference(gpu.Scored.Features, reloaded.Features);
    checks.Add(("reload reproduces the features (<= 1e-5)", reloadDifference <= 1e-5, $"{reloadDifference:G3}"));
    checks.Add(("reload gives the same predictions", gpu.Scored.Predicted.SequenceEqual(reloaded.Predicted), $"accuracy {reloaded.Accuracy:F4}"));

    // Same seed and batches; only floating-point reduction order differs, which Adam carries along the steps.
    double minCosine = gpu.Scored.Features.Zip(cpu.Scored.Features, Cosine).Min();
    double perplexityGap = Math.Abs(gpu.Perplexity / cpu.Perplexity - 1);
    double agreement = gpu.Scored.Predicted.Zip(cpu.Scored.Predicted).Count(p => p.First == p.Second) / (double)cpu.Scored.Predicted.Length;
    checks.Add(("CUDA and CPU features agree (smallest row cosine >= 0.95)", minCosine >= 0.95, $"{minCosine:F4}"));
    checks.Add(("held-out perplexity within 5% of the CPU's", perplexityGap <= 0.05, $"{gpu.Perplexity:F1} vs {cpu.Perplexity:F1}"));
    checks.Add(("predictions agree with the CPU model's on >= 95% of rows", agreement >= 0.95, $"{agreement:P1}"));
    results["comparison"] = new JsonObject
    {
        ["reload_max_abs_difference"] = reloadDifference,
        ["cpu_cuda_min_row_cosine"] = minCosine,
        ["cpu_cuda_max_abs_difference"] = MaxDifference(gpu.Scored.Features, cpu.Scored.Features),
        ["perplexity_relative_gap"] = perplexityGap,
        ["prediction_agreement"] = agreement,
        ["training_speedup"] = gpu.Stage.Report.TokensPerSecond / cpu.Stage.Report.TokensPerSecond,
    };
    results["checks"] = new JsonArray(checks.Select(c => (JsonNode)new JsonObject { ["check"] = c.Name, ["passed"] = c.Passed, ["detail"] = c.Detail }).ToArray());
    Write(outFolder, results);

    Console.WriteLine($"Training tokens/s: {expectedDevice} {gpu.Stage.Report.TokensPerSecond:N0}, cpu {cpu.Stage.Report.TokensPerSecond:N0} " +
        $"({gpu.Stage.Report.TokensPerSecond / cpu.Stage.Report.TokensPerSecond:F1}x)");
    foreach (var (name, passed, detail) in checks)
        Console.WriteLine($"{(passed ? "pass" : "FAIL")}  {name}: {detail}");
    return checks.All(c => c.Passed) ? 0 : ExitFailed;
}

// MapValueToKey(LabelKey <- Label) -> the stage -> cache -> SDCA -> MapKeyToValue, the stage on the given device; scored on the test rows.
static Fitted Fit(MLContext ml, IDataView train, IDataView test, string? device, int steps, int layers)
{
    var options = new CoherenceEmbeddingOptions { Device = device, Layers = layers, EmbeddingDimension = 64, Heads = 4, Steps = steps, Seed = 20240607 };
    var pipeline = ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label")
        .Append(ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", options))
        .AppendCacheCheckpoint(ml) // SDCA passes over the rows many times; the stage scores each row once
        .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy("LabelKey"))
        .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
    var clock = Stopwatch.StartNew();
    var model = pipeline.Fit(train);
    double seconds = clock.Elapsed.TotalSeconds;
    var stage = model.OfType<CoherenceEmbeddingTransformer>().Single();
    var scored = Score(ml, model, test);
    double perplexity = stage.Report.FinalHeldOutPerplexity ?? double.NaN;
    Console.WriteLine($"{device ?? "MLContext.GpuDeviceId = 0"}: trained on {stage.Report.Device}, pipeline fit {seconds:F1} s (statistics " +
        $"{stage.Report.StatisticsSeconds:F1} s, training {stage.Report.TrainSeconds:F1} s), {stage.Report.TokensPerSecond:N0} tokens/s, " +
        $"held-out perplexity {perplexity:F1}, test accuracy {scored.Accuracy:F4}");
    var json = new JsonObject
    {
        ["device"] = stage.Report.Device,
        ["fit_seconds"] = seconds,
        ["statistics_seconds"] = stage.Report.StatisticsSeconds,
        ["train_seconds"] = stage.Report.TrainSeconds,
        ["tokens_per_second"] = stage.Report.TokensPerSecond,
        ["seconds_per_step"] = stage.Report.SecondsPerStep,
        ["held_out_perplexity"] = perplexity,
        ["test_accuracy"] = scored.Accuracy,
    };
    return new Fitted(model, stage, scored, perplexity, json);
}

static Scored Score(MLContext ml, ITransformer model, IDataView test)
{
    var rows = ml.Data.CreateEnumerable<ScoredRow>(model.Transform(test), reuseRowObject: false).ToArray();
    double accuracy = rows.Count(r => r.PredictedLabel == r.Label) / (double)rows.Length;
    return new Scored(rows.Select(r => r.PredictedLabel).ToArray(), rows.Select(r => r.Features).ToArray(), accuracy);
}

static double MaxDifference(float[][] a, float[][] b) => a.Zip(b, (x, y) => x.Zip(y, (p, q) => Math.Abs(p - q)).Max()).Max();

static double Cosine(float[] a, float[] b)
{
    double dot = 0, na = 0, nb = 0;
    for (int i = 0; i < a.Length; i++)
    {
        dot += a[i] * b[i];
        na += a[i] * a[i];
        nb += b[i] * b[i];
    }
    return na == 0 && nb == 0 ? 1 : dot / Math.Sqrt(na * nb);
}

static void Write(string folder, JsonObject results)
{
    string path = Path.Combine(folder, "results.json"), temporary = path + ".tmp";
    File.WriteAllText(temporary, results.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    File.Move(temporary, path, overwrite: true);
}

internal sealed record Fitted(ITransformer Model, CoherenceEmbeddingTransformer Stage, Scored Scored, double Perplexity, JsonObject Json);

internal sealed record Scored(string[] Predicted, float[][] Features, double Accuracy);

internal sealed class Row
{
    [LoadColumn(0)] public string Label { get; set; } = "";
    [LoadColumn(1)] public string Text { get; set; } = "";
}

internal sealed class ScoredRow
{
    public string Label { get; set; } = "";
    public string PredictedLabel { get; set; } = "";
    public float[] Features { get; set; } = [];
}
