using System.CommandLine;
using System.Diagnostics;
using Coherence.Tools;
using Microsoft.ML;
using Microsoft.ML.Coherence;

// Fits the stage on the bundled spam sample again and again (static and 2 layers, baseline and SCA, in turn)
// while a background thread runs GC.Collect and the finalizers in a loop. Before the Scalar fix every such fit
// died within seconds with "Expected false to be true ... toFloat". Exit code 0 only when every fit finished,
// 1 when one crashed, 2 on a usage error.
//
//   dotnet run -c Release --project tools/Coherence.StressCheck -- [fits (30)] [steps (300)]
var fitsArgument = ToolCommandLine.CheckedArgument("fits", "Fits to run, alternating static / 2 layers and baseline / SCA.",
    ToolCommandLine.IntAtLeast(1), "an integer >= 1", () => 30);
var stepsArgument = ToolCommandLine.CheckedArgument("steps", "Optimiser steps of each fit.", ToolCommandLine.IntAtLeast(1), "an integer >= 1", () => 300);
var command = new RootCommand("Back-to-back fits under a thread that forces garbage collections: the TorchSharp Scalar race check.")
{
    fitsArgument,
    stepsArgument,
};
return ToolCommandLine.Run(command, args, parsed => Run(parsed.GetValue(fitsArgument), parsed.GetValue(stepsArgument)));

static int Run(int fits, int steps)
{
    string root = FindRoot();
    var texts = File.ReadLines(Path.Combine(root, "data", "sample", "spam", "train.tsv"))
        .Select(line => new TextRow { Text = line.Split('\t', 2)[1] })
        .ToList();

    long collections = 0;
    bool stop = false;
    var collector = new Thread(() =>
    {
        while (!Volatile.Read(ref stop))
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            Interlocked.Increment(ref collections);
        }
    }) { IsBackground = true };
    collector.Start();

    int crashed = 0;
    var clock = Stopwatch.StartNew();
    for (int fit = 0; fit < fits; fit++)
    {
        int layers = fit % 2 == 0 ? 0 : 2;
        bool sca = fit / 2 % 2 == 0;
        var options = new CoherenceEmbeddingOptions
        {
            Steps = steps, Layers = layers, Seed = fit + 1, EvaluationInterval = 100,
            CoherenceWeight = sca ? 1.0f : 0f, UniformityWeight = sca ? 0.1f : 0f,
        };
        var ml = new MLContext(fit);
        var started = clock.Elapsed;
        try
        {
            using var stage = ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", options).Fit(ml.Data.LoadFromEnumerable(texts));
            Console.WriteLine($"fit {fit + 1,2}/{fits}: layers {layers}, {(sca ? "SCA     " : "baseline")} finished in {(clock.Elapsed - started).TotalSeconds,5:F1} s, " +
                $"perplexity {stage.Report.FinalHeldOutPerplexity:F0}");
        }
        catch (Exception e)
        {
            crashed++;
            Console.WriteLine($"fit {fit + 1,2}/{fits}: layers {layers}, {(sca ? "SCA" : "baseline")} CRASHED: {e.GetType().Name}: {e.Message.Split('\n')[0]}");
        }
    }
    Volatile.Write(ref stop, true);
    collector.Join();
    Console.WriteLine($"{fits} fits of {steps} steps under {Interlocked.Read(ref collections):N0} forced collections in {clock.Elapsed.TotalMinutes:F1} min: " +
        $"{fits - crashed} finished, {crashed} crashed");
    return crashed == 0 ? 0 : 1;
}

static string FindRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "Coherence.sln")))
            return dir.FullName;
    }
    throw new DirectoryNotFoundException("Run the stress check from inside the repository (Coherence.sln not found).");
}

internal sealed class TextRow
{
    public string Text { get; set; } = "";
}
