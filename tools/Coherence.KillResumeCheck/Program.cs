using System.CommandLine;
using System.Diagnostics;
using Coherence.Tools;
using Microsoft.ML;
using Microsoft.ML.Coherence;
using Microsoft.ML.Runtime;

// Starts a training child that writes a checkpoint every few steps, kills it with SIGKILL at a seeded random moment
// once its first checkpoint exists (most of its time goes to writing them, so most kills land inside a write), then
// fits again in the same folder with ResumeFromCheckpoint. Each try passes when the fit resumed from a checkpoint, ends
// with exactly the weights of an uninterrupted fit (CPU) and leaves no temporary file behind. Exit code 0 when every
// try passed, 1 otherwise, 2 on a usage error.
//
//   dotnet run -c Release --project tools/Coherence.KillResumeCheck -- [tries (10)] [steps (150)]
// Steps between checkpoints: small, so that the child spends most of its time writing them.
const int CheckpointEvery = 1;
var triesArgument = ToolCommandLine.CheckedArgument("tries", "Children to kill.", ToolCommandLine.IntAtLeast(1), "an integer >= 1", () => 10);
var stepsArgument = ToolCommandLine.CheckedArgument("steps", "Optimiser steps of each fit.", ToolCommandLine.IntAtLeast(10), "an integer >= 10", () => 150);
var childOption = new Option<string?>("--child") { Description = "Internal: train in this checkpoint folder and exit.", Hidden = true };
var command = new RootCommand("Kills a training child during its checkpoint writes and checks that the next fit resumes exactly.")
{
    triesArgument,
    stepsArgument,
    childOption,
};
return ToolCommandLine.Run(command, args, parsed => parsed.GetValue(childOption) is { } folder
    ? Child(folder, parsed.GetValue(stepsArgument))
    : Parent(parsed.GetValue(triesArgument), parsed.GetValue(stepsArgument)));

static int Child(string folder, int steps)
{
    using var stage = Fit(steps, folder, log: null);
    return 0;
}

static int Parent(int tries, int steps)
{
    Console.WriteLine($"Uninterrupted fit ({steps} steps, a checkpoint every {CheckpointEvery} steps)...");
    float[] expected;
    using (var reference = Fit(steps, folder: null, log: null))
        expected = reference.GetEmbeddingMatrix();

    int passed = 0;
    string root = Directory.CreateTempSubdirectory("coherence-kill-resume").FullName;
    try
    {
        for (int attempt = 1; attempt <= tries; attempt++)
        {
            string folder = Path.Combine(root, $"try-{attempt}");
            Directory.CreateDirectory(folder);
            var (killedAfter, finished) = KillDuringCheckpoints(folder, steps, new Random(attempt));
            string[] tempsAtKill = Directory.GetFiles(folder, "*.tmp");
            int newestAtKill = Directory.GetFiles(folder, "checkpoint-*.bin").Select(StepOf).DefaultIfEmpty(0).Max();

            var log = new List<string>();
            using var resumed = Fit(steps, folder, log);
            bool equal = resumed.GetEmbeddingMatrix().AsSpan().SequenceEqual(expected);
            int tempsAfter = Directory.GetFiles(folder, "*.tmp").Length;
            int skipped = log.Count(line => line.Contains("skipped the checkpoint", StringComparison.Ordinal));
            bool ok = resumed.Report.ResumedFromStep > 0 && equal && tempsAfter == 0;
            passed += ok ? 1 : 0;
            Console.WriteLine($"try {attempt,2}: {(finished ? "finished before the kill" : $"killed {killedAfter} ms after its first checkpoint")}, " +
                $"newest checkpoint step {newestAtKill}, {tempsAtKill.Length} partial file(s) left; resumed from step {resumed.Report.ResumedFromStep?.ToString() ?? "none"}, " +
                $"{skipped} checkpoint(s) skipped; weights equal the uninterrupted fit: {(equal ? "yes" : "NO")}; temporary files after: {tempsAfter} -> {(ok ? "pass" : "FAIL")}");
        }
    }
    finally
    {
        Directory.Delete(root, recursive: true);
    }
    Console.WriteLine($"{tries} kills: {passed} passed, {tries - passed} failed");
    return passed == tries ? 0 : 1;
}

// Starts the child, waits for its first complete checkpoint, then kills it after a random delay of up to 3 s.
static (long KilledAfterMs, bool Finished) KillDuringCheckpoints(string folder, int steps, Random random)
{
    var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
    foreach (string argument in new[] { typeof(Program).Assembly.Location, "1", steps.ToString(System.Globalization.CultureInfo.InvariantCulture), "--child", folder })
        start.ArgumentList.Add(argument);
    using var child = Process.Start(start)!;
    child.OutputDataReceived += (_, _) => { };
    child.ErrorDataReceived += (_, _) => { };
    child.BeginOutputReadLine();
    child.BeginErrorReadLine();
    while (!child.HasExited && Directory.GetFiles(folder, "checkpoint-*.bin").Length == 0)
        Thread.Sleep(5);
    var clock = Stopwatch.StartNew();
    int delay = random.Next(3000);
    while (!child.HasExited && clock.ElapsedMilliseconds < delay)
        Thread.Sleep(1);
    bool finished = child.HasExited;
    if (!finished)
        child.Kill(entireProcessTree: true); // SIGKILL on Linux
    child.WaitForExit();
    return (clock.ElapsedMilliseconds, finished);
}

static int StepOf(string path) => int.Parse(Path.GetFileNameWithoutExtension(path)["checkpoint-".Length..], System.Globalization.CultureInfo.InvariantCulture);

static CoherenceEmbeddingTransformer Fit(int steps, string? folder, List<string>? log)
{
    var ml = new MLContext(seed: 1);
    if (log is not null)
    {
        ml.Log += (_, e) =>
        {
            if (e.Kind is ChannelMessageKind.Info or ChannelMessageKind.Warning)
                lock (log)
                    log.Add(e.RawMessage);
        };
    }
    var options = new CoherenceEmbeddingOptions
    {
        Seed = 1, Steps = steps, EvaluationInterval = 0, CheckpointDirectory = folder, CheckpointInterval = CheckpointEvery,
    };
    var data = ml.Data.LoadFromEnumerable(SpamSample());
    return ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", options).Fit(data);
}

static IEnumerable<TextRow> SpamSample()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        string path = Path.Combine(dir.FullName, "data", "sample", "spam", "train.tsv");
        if (File.Exists(path))
            return File.ReadLines(path).Select(line => new TextRow { Text = line.Split('\t', 2)[1] }).ToList();
    }
    throw new FileNotFoundException("Run the check from inside the repository (data/sample/spam/train.tsv not found).");
}

internal sealed class TextRow
{
    public string Text { get; set; } = "";
}
