using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Coherence;
using Microsoft.ML.Coherence.Internal;
using Microsoft.ML.Coherence.Text;
using Microsoft.ML.Coherence.Training;

namespace Coherence.Benchmarks;

/// <summary>
/// The training mode: time per step, tokens per second and peak memory growth of baseline and SCA, static and
/// 2 layers, each (layers, variant, repeat) in a fresh child process (<c>--child LAYERS VARIANT</c>, its result read
/// back as one JSON line), so memory belongs to that variant alone. Variants are interleaved to share load drift.
/// </summary>
internal static class TrainingBenchmark
{
    /// <summary>The child prints its result after this marker, on one line.</summary>
    public const string ResultMarker = "@@COHERENCE-BENCH-RESULT ";
    private const int WarmupSteps = 5;

    public static TrainingResults Run(BenchmarkArguments arguments)
    {
        Console.WriteLine($"Training benchmark: d=64, heads 4, context 64, batch 32, {arguments.Steps} steps, seed {BenchmarkEnvironment.Seed}, " +
            $"{arguments.Repeats} repeat(s); each variant in a fresh process; timing excludes the first {WarmupSteps} steps and the final evaluation.");
        var runs = new List<TrainingRun>();
        var failures = new List<TrainingFailure>();
        foreach (int layers in new[] { 0, 2 })
        {
            for (int repeat = 0; repeat < arguments.Repeats; repeat++)
            {
                // Interleave the variants so a change of machine load hits both alike.
                foreach (string variant in new[] { "baseline", "sca" })
                {
                    Console.Error.Write($"  layers {layers}, {variant}, repeat {repeat + 1}/{arguments.Repeats} ... ");
                    try
                    {
                        var run = RunChildProcess(layers, variant, arguments);
                        Console.Error.WriteLine($"{run.SecondsPerStep * 1000:F1} ms/step, peak growth {run.PeakMemoryGrowthMB:F0} MB");
                        runs.Add(run);
                    }
                    catch (ChildFailedException failure)
                    {
                        Console.Error.WriteLine("FAILED");
                        Console.Error.WriteLine(failure.Details);
                        failures.Add(new TrainingFailure { Layers = layers, Variant = variant, Error = failure.Message });
                    }
                }
            }
        }

        var summaries = new List<TrainingSummary>();
        foreach (int layers in new[] { 0, 2 })
        {
            TrainingRun? Median(string variant)
            {
                var list = runs.Where(r => r.Layers == layers && r.Variant == variant).OrderBy(r => r.SecondsPerStep).ToList();
                return list.Count == 0 ? null : list[list.Count / 2];
            }
            var baseline = Median("baseline");
            var sca = Median("sca");
            if (baseline is null || sca is null)
                continue;
            double timeRatio = sca.SecondsPerStep / baseline.SecondsPerStep;
            double MedianOf(string variant, Func<TrainingRun, double> value)
            {
                var values = runs.Where(r => r.Layers == layers && r.Variant == variant).Select(value).Order().ToList();
                return values[values.Count / 2];
            }
            double MinOf(string variant, Func<TrainingRun, double> value) =>
                runs.Where(r => r.Layers == layers && r.Variant == variant).Min(value);
            double memoryRatio = MedianOf("sca", r => r.PeakMemoryGrowthMB) / MedianOf("baseline", r => r.PeakMemoryGrowthMB);
            double fastestRatio = MinOf("sca", r => r.SecondsPerStep) / MinOf("baseline", r => r.SecondsPerStep);
            double cpuRatio = MedianOf("sca", r => r.CpuSecondsPerStep) / MedianOf("baseline", r => r.CpuSecondsPerStep);
            summaries.Add(new TrainingSummary
            {
                Layers = layers,
                Baseline = baseline,
                Sca = sca,
                TimePerStepRatio = timeRatio,
                PeakMemoryRatio = memoryRatio,
                FastestTimePerStepRatio = fastestRatio,
                CpuTimePerStepRatio = cpuRatio,
                Target = BenchmarkEnvironment.OverheadTarget,
                TimeWithinTarget = timeRatio <= BenchmarkEnvironment.OverheadTarget,
                MemoryWithinTarget = memoryRatio <= BenchmarkEnvironment.OverheadTarget,
            });
        }

        Console.WriteLine();
        var table = new TextTable("layers", "variant", "s/step", "CPU s/step", "tokens/s", "peak growth MB", "managed MB", "held-out ppl", "SCA/base time", "SCA/base mem", "target");
        foreach (var summary in summaries)
        {
            foreach (var run in new[] { summary.Baseline, summary.Sca })
            {
                bool isSca = run.Variant == "sca";
                table.Add(run.Layers.ToString(CultureInfo.InvariantCulture), run.Variant,
                    run.SecondsPerStep.ToString("F4", CultureInfo.InvariantCulture),
                    run.CpuSecondsPerStep.ToString("F4", CultureInfo.InvariantCulture),
                    run.TokensPerSecond.ToString("N0", CultureInfo.InvariantCulture),
                    run.PeakMemoryGrowthMB.ToString("F0", CultureInfo.InvariantCulture),
                    run.ManagedPeakGrowthMB.ToString("F0", CultureInfo.InvariantCulture),
                    run.HeldOutPerplexity?.ToString("F1", CultureInfo.InvariantCulture) ?? "-",
                    isSca ? summary.TimePerStepRatio.ToString("F3", CultureInfo.InvariantCulture) : "",
                    isSca ? summary.PeakMemoryRatio.ToString("F3", CultureInfo.InvariantCulture) : "",
                    isSca ? $"<= {BenchmarkEnvironment.OverheadTarget:F2}: time {(summary.TimeWithinTarget ? "met" : "MISSED")}, mem {(summary.MemoryWithinTarget ? "met" : "MISSED")}" : "");
            }
        }
        foreach (var run in runs.Where(r => !summaries.Any(s => s.Layers == r.Layers)))
        {
            table.Add(run.Layers.ToString(CultureInfo.InvariantCulture), run.Variant,
                run.SecondsPerStep.ToString("F4", CultureInfo.InvariantCulture),
                run.CpuSecondsPerStep.ToString("F4", CultureInfo.InvariantCulture),
                run.TokensPerSecond.ToString("N0", CultureInfo.InvariantCulture),
                run.PeakMemoryGrowthMB.ToString("F0", CultureInfo.InvariantCulture),
                run.ManagedPeakGrowthMB.ToString("F0", CultureInfo.InvariantCulture),
                run.HeldOutPerplexity?.ToString("F1", CultureInfo.InvariantCulture) ?? "-", "", "", "");
        }
        foreach (var failure in failures)
        {
            table.Add(failure.Layers.ToString(CultureInfo.InvariantCulture), failure.Variant, "FAILED", "-", "-", "-", "-", "-", "-", "-",
                failure.Error.Length > 60 ? failure.Error[..60] + "..." : failure.Error);
        }
        table.Print();
        foreach (var summary in summaries)
        {
            Console.WriteLine($"layers {summary.Layers}: SCA/baseline time per step {summary.TimePerStepRatio:F3} (median runs), " +
                $"{summary.FastestTimePerStepRatio:F3} (fastest runs), CPU time {summary.CpuTimePerStepRatio:F3}; peak memory growth {summary.PeakMemoryRatio:F3}; target <= {BenchmarkEnvironment.OverheadTarget:F2}.");
        }
        if (runs.Count > 0)
            Console.WriteLine($"Peak memory: {runs[0].PeakMemoryMethod}; it covers vocabulary, counting, the field and training (the same text for both variants).");
        Console.WriteLine("fastText itself is measured by the paired mode (same text, same run).");
        foreach (var failure in failures)
            Console.WriteLine($"FAILED: layers {failure.Layers}, {failure.Variant}: {failure.Error}");
        return new TrainingResults
        {
            Steps = arguments.Steps,
            WarmupStepsExcluded = WarmupSteps,
            Repeats = arguments.Repeats,
            Seed = BenchmarkEnvironment.Seed,
            Runs = runs,
            Failures = failures,
            Summaries = summaries,
        };
    }

    private static TrainingRun RunChildProcess(int layers, string variant, BenchmarkArguments arguments)
    {
        string processPath = Environment.ProcessPath ?? throw new InvalidOperationException("The process path is unknown.");
        var start = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(processPath).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            start.FileName = processPath;
            start.ArgumentList.Add(typeof(TrainingBenchmark).Assembly.Location);
        }
        else
        {
            start.FileName = processPath;
        }
        foreach (string argument in new[]
                 {
                     "--child", layers.ToString(CultureInfo.InvariantCulture), variant,
                     "--steps", arguments.Steps.ToString(CultureInfo.InvariantCulture), "--corpus", arguments.CorpusPath,
                 })
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the child process.");
        var errors = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        string errorText = errors.GetAwaiter().GetResult();
        string? line = output.Split('\n').Select(l => l.TrimEnd('\r')).LastOrDefault(l => l.StartsWith(ResultMarker, StringComparison.Ordinal));
        if (process.ExitCode != 0 || line is null)
        {
            // The first line of an unhandled exception is "Unhandled exception. Type: message".
            string summary = errorText.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0) ?? "(no message)";
            throw new ChildFailedException($"exit code {process.ExitCode}: {summary}", output + errorText);
        }
        return JsonSerializer.Deserialize<TrainingRun>(line[ResultMarker.Length..], BenchmarkEnvironment.JsonLine)
            ?? throw new InvalidOperationException("Empty child result.");
    }

    public static TrainingRun RunChild(int layers, string variant, int steps, string corpusPath)
    {
        var ml = new MLContext(seed: BenchmarkEnvironment.Seed);
        var documents = new CoherenceTokenizer(ml).Tokenize(File.ReadLines(corpusPath)).ToList();
        var options = new CoherenceEmbeddingOptions
        {
            EmbeddingDimension = 64,
            Layers = layers,
            Heads = 4,
            ContextLength = 64,
            BatchSize = 32,
            Steps = steps,
            EvaluationInterval = 0,
            HeldOutFraction = 0.05f,
            Seed = BenchmarkEnvironment.Seed,
            Device = "cpu",
        };
        if (variant == "baseline")
            options = options.AsBaseline();
        var cpu = new CpuClock(WarmupSteps, steps - 1);
        // Load and initialise libtorch before the baseline sample, so the growth is training's, not the native libraries'.
        TorchSharpNativeFix.EnsureApplied();
        using (var warm = TorchSharp.torch.ones(16, 16))
            warm.matmul(warm).Dispose();
        using var memory = MemoryGrowth.Start();
        var model = CoherenceEmbeddingEngine.Train(ml, () => documents, options, cpu);
        var (residentGrowth, managedGrowth, residentBefore) = memory.Stop();
        var report = model.Report;

        // Steady-state timing: from the end of step 5 to the end of step (Steps - 1). The last step is left
        // out because its progress time stamp includes the final evaluation (held-out perplexity, coherence).
        var history = report.History;
        var first = history.Single(p => p.Step == WarmupSteps);
        var last = history.Single(p => p.Step == steps - 1);
        double seconds = (last.Elapsed - first.Elapsed).TotalSeconds;
        int measured = last.Step - first.Step;
        return new TrainingRun
        {
            Layers = layers,
            Variant = variant,
            Steps = steps,
            MeasuredSteps = measured,
            SecondsPerStep = seconds / measured,
            TokensPerSecond = (last.Tokens - first.Tokens) / seconds,
            CpuSecondsPerStep = cpu.Seconds / measured,
            PeakMemoryGrowthMB = residentGrowth,
            ManagedPeakGrowthMB = managedGrowth,
            ResidentBeforeMB = residentBefore,
            PeakMemoryMethod = memory.Method,
            ProcessPeakWorkingSetMB = report.PeakMemoryMB,
            HeldOutPerplexity = report.FinalHeldOutPerplexity,
            InitialHeldOutPerplexity = report.InitialHeldOutPerplexity,
            FinalTaskLoss = history[^1].TaskLoss,
            ReportSecondsPerStep = report.SecondsPerStep,
            ReportTokensPerSecond = report.TokensPerSecond,
            TrainSeconds = report.TrainSeconds,
            StatisticsSeconds = report.StatisticsSeconds,
            VocabularySize = report.VocabularySize,
            TrainingTokens = report.TrainingTokens,
            HeldOutTokens = report.HeldOutTokens,
            TorchThreads = TorchSharp.torch.get_num_threads(),
        };
    }
}

/// <summary>Process CPU time (all threads) between two steps; called synchronously by the trainer.</summary>
internal sealed class CpuClock(int fromStep, int toStep) : IProgress<CoherenceTrainingProgress>
{
    private TimeSpan _start;
    public double Seconds { get; private set; }

    public void Report(CoherenceTrainingProgress value)
    {
        if (value.Step == fromStep)
            _start = Process.GetCurrentProcess().TotalProcessorTime;
        else if (value.Step == toStep)
            Seconds = (Process.GetCurrentProcess().TotalProcessorTime - _start).TotalSeconds;
    }
}

internal sealed class ChildFailedException(string message, string details) : Exception(message)
{
    public string Details { get; } = details;
}

internal sealed record TrainingFailure
{
    public required int Layers { get; init; }
    public required string Variant { get; init; }
    public required string Error { get; init; }
}

internal sealed record TrainingResults
{
    public required int Steps { get; init; }
    public required int WarmupStepsExcluded { get; init; }
    public required int Repeats { get; init; }
    public required int Seed { get; init; }
    public required List<TrainingRun> Runs { get; init; }
    public required List<TrainingSummary> Summaries { get; init; }
    public required List<TrainingFailure> Failures { get; init; }
}

internal sealed record TrainingSummary
{
    public required int Layers { get; init; }
    public required TrainingRun Baseline { get; init; }
    public required TrainingRun Sca { get; init; }
    public required double TimePerStepRatio { get; init; }
    public required double PeakMemoryRatio { get; init; }
    public required double FastestTimePerStepRatio { get; init; }
    public required double CpuTimePerStepRatio { get; init; }
    public required double Target { get; init; }
    public required bool TimeWithinTarget { get; init; }
    public required bool MemoryWithinTarget { get; init; }
}

internal sealed record TrainingRun
{
    public required int Layers { get; init; }
    public required string Variant { get; init; }
    public required int Steps { get; init; }
    public required int MeasuredSteps { get; init; }
    public required double SecondsPerStep { get; init; }
    public required double TokensPerSecond { get; init; }
    public required double CpuSecondsPerStep { get; init; }
    /// <summary>Peak resident set during training minus the resident set just before it (managed and native).</summary>
    public required double PeakMemoryGrowthMB { get; init; }

    /// <summary>Peak managed heap during training minus the managed heap just before it.</summary>
    public required double ManagedPeakGrowthMB { get; init; }

    public required double ResidentBeforeMB { get; init; }
    public required string PeakMemoryMethod { get; init; }

    /// <summary>The process's whole peak working set (Report.PeakMemoryMB), startup and tokenisation included; for reference.</summary>
    public required double ProcessPeakWorkingSetMB { get; init; }
    public double? HeldOutPerplexity { get; init; }
    public double? InitialHeldOutPerplexity { get; init; }
    public required double FinalTaskLoss { get; init; }
    public required double ReportSecondsPerStep { get; init; }
    public required double ReportTokensPerSecond { get; init; }
    public required double TrainSeconds { get; init; }
    public required double StatisticsSeconds { get; init; }
    public required int VocabularySize { get; init; }
    public required long TrainingTokens { get; init; }
    public required long HeldOutTokens { get; init; }
    public required int TorchThreads { get; init; }
}
