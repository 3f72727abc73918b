using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML.Coherence.Statistics;
using Microsoft.ML;
using Microsoft.ML.Coherence;
using Microsoft.ML.Coherence.Internal;
using Microsoft.ML.Coherence.Text;
using Microsoft.ML.Coherence.Training;

namespace Coherence.Benchmarks;

/// <summary>
/// Cost benchmarks of Microsoft.ML.Coherence: training time per step, tokens per second and peak
/// working set with and without SCA (each variant in a fresh child process), and co-occurrence
/// counting throughput. See benchmarks/README.md.
/// </summary>
internal static class Program
{
    private const string ResultMarker = "@@COHERENCE-BENCH-RESULT ";
    private const int WarmupSteps = 5;
    private const int Seed = 20250214;
    private const double OverheadTarget = 1.10;

    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private static readonly JsonSerializerOptions JsonLine = new(Json) { WriteIndented = false };

    private static int Main(string[] args)
    {
        try
        {
            var parsed = Arguments.Parse(args);
            if (parsed.Child is { } child)
            {
                var result = RunChild(child.Layers, child.Variant, parsed.Steps, parsed.CorpusPath);
                Console.Out.WriteLine(ResultMarker + JsonSerializer.Serialize(result, JsonLine));
                return 0;
            }
            return RunParent(parsed);
        }
        catch (ArgumentException exception)
        {
            Console.Error.WriteLine($"error: {exception.Message}");
            Console.Error.WriteLine(Arguments.Usage);
            return 2;
        }
    }

    private static int RunParent(Arguments arguments)
    {
        var loadBefore = LoadAverage();
        Console.WriteLine($"Coherence benchmarks — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} logical cores, " +
            $"{RuntimeInformation.OSDescription}, .NET {Environment.Version}");
        Console.WriteLine($"Corpus: {arguments.CorpusPath}");
        Console.WriteLine($"Load average before (1/5/15 min): {loadBefore}");
        Console.WriteLine();

        if (arguments.Mode == "scoring")
        {
            var table = new TextTable("layers", "rows", "coherence rows/s", "FeaturizeText rows/s", "coherence/FeaturizeText");
            var scoring = new List<ScoringThroughput.Result>();
            foreach (int layers in new[] { 0, 2 })
            {
                var r = ScoringThroughput.Run(arguments.CorpusPath, layers, rows: 20_000, repeats: Math.Max(3, arguments.Repeats), Seed);
                scoring.Add(r);
                table.Add(r.Layers.ToString(CultureInfo.InvariantCulture), r.Rows.ToString("N0", CultureInfo.InvariantCulture),
                    r.CoherenceRowsPerSecond.ToString("N0", CultureInfo.InvariantCulture), r.FeaturizeTextRowsPerSecond.ToString("N0", CultureInfo.InvariantCulture),
                    r.Ratio.ToString("F2", CultureInfo.InvariantCulture));
            }
            Console.WriteLine("Scoring throughput of saved-and-reloaded models, same texts, same process (best of the repeats); target for static mode: >= 1.00");
            table.Print();
            Console.WriteLine($"Load average after (1/5/15 min): {LoadAverage()}");
            string scoringPath = Path.Combine(Path.GetFullPath(arguments.OutDirectory), "scoring.json");
            Directory.CreateDirectory(Path.GetDirectoryName(scoringPath)!);
            AtomicFile.WriteAllText(scoringPath, JsonSerializer.Serialize(new { loadBefore, scoring }, Json));
            return 0;
        }

        if (arguments.Mode == "paired")
        {
            var table = new TextTable("layers", "vocabulary", "steps", "baseline s/step", "SCA s/step", "SCA/baseline", "baseline tok/s", "SCA tok/s");
            var paired = new List<PairedTiming.Result>();
            foreach (var (layers, maxVocabulary) in new[] { (0, 30_000), (2, 30_000) })
            {
                var r = PairedTiming.Run(arguments.CorpusPath, layers, arguments.Steps, Seed, maxVocabulary);
                paired.Add(r);
                table.Add(r.Layers.ToString(CultureInfo.InvariantCulture), r.VocabularySize.ToString("N0", CultureInfo.InvariantCulture),
                    r.Steps.ToString(CultureInfo.InvariantCulture), r.BaselineMedianSeconds.ToString("F4", CultureInfo.InvariantCulture),
                    r.ScaMedianSeconds.ToString("F4", CultureInfo.InvariantCulture), r.Ratio.ToString("F3", CultureInfo.InvariantCulture),
                    r.BaselineTokensPerSecond.ToString("N0", CultureInfo.InvariantCulture), r.ScaTokensPerSecond.ToString("N0", CultureInfo.InvariantCulture));
            }
            Console.WriteLine($"Paired timing (one process, baseline and SCA steps in turn; medians after 5 warm-up steps); target SCA/baseline <= {OverheadTarget:F2}");
            table.Print();
            Console.WriteLine($"Load average after (1/5/15 min): {LoadAverage()}");
            string pairedPath = Path.Combine(Path.GetFullPath(arguments.OutDirectory), "paired.json");
            Directory.CreateDirectory(Path.GetDirectoryName(pairedPath)!);
            AtomicFile.WriteAllText(pairedPath, JsonSerializer.Serialize(new { loadBefore, paired }, Json));
            return 0;
        }

        TrainingResults? training = null;
        CountingResults? counting = null;
        if (arguments.Mode is "training" or "all")
            training = RunTraining(arguments);
        if (arguments.Mode is "counting" or "all")
            counting = RunCounting(arguments.CorpusPath);

        var results = new BenchmarkResults
        {
            DateUtc = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            Machine = new MachineInfo
            {
                LogicalCores = Environment.ProcessorCount,
                Os = RuntimeInformation.OSDescription,
                Runtime = RuntimeInformation.FrameworkDescription,
                LoadAverageBefore = loadBefore,
                LoadAverageAfter = LoadAverage(),
            },
            Corpus = Path.GetRelativePath(RepositoryRoot(), arguments.CorpusPath),
            Training = training,
            Counting = counting,
        };
        string json = JsonSerializer.Serialize(results, Json);
        string outDirectory = Path.GetFullPath(arguments.OutDirectory);
        Directory.CreateDirectory(outDirectory);
        string target = Path.Combine(outDirectory, "latest.json");
        AtomicFile.WriteAllText(target, json + Environment.NewLine);

        Console.WriteLine();
        Console.WriteLine($"Load average after (1/5/15 min): {results.Machine.LoadAverageAfter}");
        Console.WriteLine($"Results written to {target}:");
        Console.WriteLine(json);
        return 0;
    }

    // ---------------------------------------------------------------- training

    private static TrainingResults RunTraining(Arguments arguments)
    {
        Console.WriteLine($"Training benchmark: d=64, heads 4, context 64, batch 32, {arguments.Steps} steps, seed {Seed}, " +
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
                        Console.Error.WriteLine($"{run.SecondsPerStep * 1000:F1} ms/step, peak {run.PeakWorkingSetMB:F0} MB");
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
            double memoryRatio = MedianOf("sca", r => r.PeakWorkingSetMB) / MedianOf("baseline", r => r.PeakWorkingSetMB);
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
                Target = OverheadTarget,
                TimeWithinTarget = timeRatio <= OverheadTarget,
                MemoryWithinTarget = memoryRatio <= OverheadTarget,
            });
        }

        Console.WriteLine();
        var table = new TextTable("layers", "variant", "s/step", "CPU s/step", "tokens/s", "peak WS MB", "held-out ppl", "SCA/base time", "SCA/base mem", "target");
        foreach (var summary in summaries)
        {
            foreach (var run in new[] { summary.Baseline, summary.Sca })
            {
                bool isSca = run.Variant == "sca";
                table.Add(run.Layers.ToString(CultureInfo.InvariantCulture), run.Variant,
                    run.SecondsPerStep.ToString("F4", CultureInfo.InvariantCulture),
                    run.CpuSecondsPerStep.ToString("F4", CultureInfo.InvariantCulture),
                    run.TokensPerSecond.ToString("N0", CultureInfo.InvariantCulture),
                    run.PeakWorkingSetMB.ToString("F0", CultureInfo.InvariantCulture),
                    run.HeldOutPerplexity?.ToString("F1", CultureInfo.InvariantCulture) ?? "-",
                    isSca ? summary.TimePerStepRatio.ToString("F3", CultureInfo.InvariantCulture) : "",
                    isSca ? summary.PeakMemoryRatio.ToString("F3", CultureInfo.InvariantCulture) : "",
                    isSca ? $"<= {OverheadTarget:F2}: time {(summary.TimeWithinTarget ? "met" : "MISSED")}, mem {(summary.MemoryWithinTarget ? "met" : "MISSED")}" : "");
            }
        }
        foreach (var run in runs.Where(r => !summaries.Any(s => s.Layers == r.Layers)))
        {
            table.Add(run.Layers.ToString(CultureInfo.InvariantCulture), run.Variant,
                run.SecondsPerStep.ToString("F4", CultureInfo.InvariantCulture),
                run.CpuSecondsPerStep.ToString("F4", CultureInfo.InvariantCulture),
                run.TokensPerSecond.ToString("N0", CultureInfo.InvariantCulture),
                run.PeakWorkingSetMB.ToString("F0", CultureInfo.InvariantCulture),
                run.HeldOutPerplexity?.ToString("F1", CultureInfo.InvariantCulture) ?? "-", "", "", "");
        }
        foreach (var failure in failures)
        {
            table.Add(failure.Layers.ToString(CultureInfo.InvariantCulture), failure.Variant, "FAILED", "-", "-", "-", "-", "-", "-",
                failure.Error.Length > 60 ? failure.Error[..60] + "..." : failure.Error);
        }
        table.Print();
        foreach (var summary in summaries)
        {
            Console.WriteLine($"layers {summary.Layers}: SCA/baseline time per step {summary.TimePerStepRatio:F3} (median runs), " +
                $"{summary.FastestTimePerStepRatio:F3} (fastest runs), CPU time {summary.CpuTimePerStepRatio:F3}; peak working set {summary.PeakMemoryRatio:F3}; target <= {OverheadTarget:F2}.");
        }
        var fastText = runs.Where(r => r.Layers == 0 && r.Variant == "baseline").OrderBy(r => r.SecondsPerStep).ElementAtOrDefault(
            runs.Count(r => r.Layers == 0 && r.Variant == "baseline") / 2);
        Console.WriteLine();
        Console.WriteLine($"fastText-class reference (this project's definition: the baseline static 0-layer model, no SCA): " +
            $"{fastText?.TokensPerSecond.ToString("N0", CultureInfo.InvariantCulture) ?? "n/a"} tokens/s on this machine. It is not a measurement of fastText itself.");
        foreach (var failure in failures)
            Console.WriteLine($"FAILED: layers {failure.Layers}, {failure.Variant}: {failure.Error}");
        return new TrainingResults
        {
            Steps = arguments.Steps,
            WarmupStepsExcluded = WarmupSteps,
            Repeats = arguments.Repeats,
            Seed = Seed,
            Runs = runs,
            Failures = failures,
            Summaries = summaries,
            FastTextClassReferenceTokensPerSecond = fastText?.TokensPerSecond,
            FastTextClassReferenceNote = "Baseline static (0-layer) model of this library, no SCA; the project's 'fastText-class' reference, not fastText itself.",
        };
    }

    private static TrainingRun RunChildProcess(int layers, string variant, Arguments arguments)
    {
        string processPath = Environment.ProcessPath ?? throw new InvalidOperationException("The process path is unknown.");
        var start = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(processPath).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            start.FileName = processPath;
            start.ArgumentList.Add(typeof(Program).Assembly.Location);
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
        return JsonSerializer.Deserialize<TrainingRun>(line[ResultMarker.Length..], JsonLine)
            ?? throw new InvalidOperationException("Empty child result.");
    }

    private static TrainingRun RunChild(int layers, string variant, int steps, string corpusPath)
    {
        var ml = new MLContext(seed: Seed);
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
            Seed = Seed,
            Device = "cpu",
        };
        if (variant == "baseline")
            options = options.AsBaseline();
        var cpu = new CpuClock(WarmupSteps, steps - 1);
        var model = CoherenceEmbeddingEngine.Train(ml, () => documents, options, cpu);
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
            PeakWorkingSetMB = report.PeakMemoryMB,
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

    // ---------------------------------------------------------------- counting

    private static CountingResults RunCounting(string corpusPath)
    {
        const int window = 5;
        const long targetTokens = 2_000_000;
        const int runs = 3;
        var ml = new MLContext(seed: Seed);
        var tokenized = new CoherenceTokenizer(ml).Tokenize(File.ReadLines(corpusPath)).ToList();
        var vocabulary = Vocabulary.Build(tokenized, CoherenceEmbeddingOptions.Defaults.MinCount, CoherenceEmbeddingOptions.Defaults.MaxVocabularySize);
        var encoded = tokenized.Select(vocabulary.Encode).ToList();
        long corpusTokens = encoded.Sum(d => (long)d.Length);
        int copies = (int)Math.Ceiling((double)targetTokens / corpusTokens);
        var documents = Enumerable.Repeat(encoded, copies).SelectMany(d => d).ToArray();
        long tokens = documents.Sum(d => (long)d.Length);
        Console.WriteLine();
        Console.WriteLine($"Counting benchmark: window {window}, vocabulary {vocabulary.Count:N0}, corpus {corpusTokens:N0} tokens x {copies} = " +
            $"{tokens:N0} tokens in {documents.Length:N0} documents; median of {runs} runs after one untimed warm-up.");

        CooccurrenceCounts Single()
        {
            var counts = new CooccurrenceCounts(vocabulary.Count, window);
            foreach (var document in documents)
                counts.AddDocument(document);
            return counts;
        }
        CooccurrenceCounts Parallel() => CooccurrenceCounts.Count(documents, vocabulary.Count, window);

        // Warm-up (JIT, page faults) on both paths, then check they agree.
        var reference = Single();
        var parallelReference = Parallel();
        if (!reference.ContentEquals(parallelReference))
            throw new InvalidOperationException("The parallel count differs from the single pass.");

        (double Median, double[] All) Time(Func<CooccurrenceCounts> count)
        {
            var seconds = new double[runs];
            for (int r = 0; r < runs; r++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                var clock = Stopwatch.StartNew();
                var counts = count();
                seconds[r] = clock.Elapsed.TotalSeconds;
                GC.KeepAlive(counts);
            }
            var sorted = seconds.Order().ToArray();
            return (sorted[runs / 2], seconds);
        }
        var single = Time(Single);
        var parallel = Time(Parallel);
        var table = new TextTable("method", "median s", "tokens/s", "runs (s)");
        table.Add("single pass (AddDocument)", single.Median.ToString("F3", CultureInfo.InvariantCulture),
            (tokens / single.Median).ToString("N0", CultureInfo.InvariantCulture), string.Join(", ", single.All.Select(s => s.ToString("F3", CultureInfo.InvariantCulture))));
        table.Add($"parallel Count ({Environment.ProcessorCount} workers)", parallel.Median.ToString("F3", CultureInfo.InvariantCulture),
            (tokens / parallel.Median).ToString("N0", CultureInfo.InvariantCulture), string.Join(", ", parallel.All.Select(s => s.ToString("F3", CultureInfo.InvariantCulture))));
        table.Print();
        Console.WriteLine($"Parallel speed-up: {single.Median / parallel.Median:F2}x; non-zero pairs {reference.NonZeroPairs:N0}.");
        return new CountingResults
        {
            Window = window,
            VocabularySize = vocabulary.Count,
            CorpusTokens = corpusTokens,
            Copies = copies,
            Tokens = tokens,
            Documents = documents.Length,
            NonZeroPairs = reference.NonZeroPairs,
            Runs = runs,
            Workers = Environment.ProcessorCount,
            SingleMedianSeconds = single.Median,
            SingleTokensPerSecond = tokens / single.Median,
            SingleSeconds = single.All,
            ParallelMedianSeconds = parallel.Median,
            ParallelTokensPerSecond = tokens / parallel.Median,
            ParallelSeconds = parallel.All,
            ParallelSpeedup = single.Median / parallel.Median,
        };
    }

    // ---------------------------------------------------------------- helpers

    internal static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Coherence.sln")))
                return directory.FullName;
        }
        throw new InvalidOperationException($"Coherence.sln was not found above {AppContext.BaseDirectory}.");
    }

    private static string LoadAverage()
    {
        try
        {
            var parts = File.ReadAllText("/proc/loadavg").Split(' ');
            return $"{parts[0]} {parts[1]} {parts[2]}";
        }
        catch (IOException)
        {
            return "unknown";
        }
        catch (UnauthorizedAccessException)
        {
            return "unknown";
        }
    }
}

/// <summary>Command line, parsed by hand.</summary>
internal sealed record Arguments
{
    public const string Usage =
        "usage: Coherence.Benchmarks [training|counting|all|paired|scoring] [--steps N] [--repeats N] [--corpus PATH] [--out DIR]";

    public string Mode { get; init; } = "all";
    public int Steps { get; init; } = 60;
    public int Repeats { get; init; } = 1;
    public string CorpusPath { get; init; } = "";
    public string OutDirectory { get; init; } = "";
    public (int Layers, string Variant)? Child { get; init; }

    public static Arguments Parse(string[] args)
    {
        string mode = "all";
        int steps = 60, repeats = 1;
        string? corpus = null, output = null;
        (int, string)? child = null;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "training" or "counting" or "all" or "paired" or "scoring":
                    mode = args[i];
                    break;
                case "--steps":
                    steps = PositiveInt(Next(), "--steps");
                    break;
                case "--repeats":
                    repeats = PositiveInt(Next(), "--repeats");
                    break;
                case "--corpus":
                    corpus = Next();
                    break;
                case "--out":
                    output = Next();
                    break;
                case "--child":
                    int layers = int.Parse(Next(), CultureInfo.InvariantCulture);
                    string variant = Next();
                    if (variant is not ("baseline" or "sca"))
                        throw new ArgumentException($"Unknown variant '{variant}'.");
                    child = (layers, variant);
                    break;
                case "-h" or "--help":
                    Console.WriteLine(Usage);
                    Environment.Exit(0);
                    break;
                default:
                    throw new ArgumentException($"Unknown argument '{args[i]}'.");
            }
        }
        if (steps < 8)
            throw new ArgumentException("--steps must be at least 8 (the first 5 steps and the last are excluded from timing).");
        if (steps > 200 && mode != "paired")
            throw new ArgumentException("--steps must be at most 200 (progress is logged every step only up to 200 steps).");
        string root = Program.RepositoryRoot();
        corpus = Path.GetFullPath(corpus ?? Path.Combine(root, "data", "sample", "corpus.txt"));
        if (!File.Exists(corpus))
            throw new ArgumentException($"Corpus '{corpus}' does not exist.");
        return new Arguments
        {
            Mode = mode,
            Steps = steps,
            Repeats = repeats,
            CorpusPath = corpus,
            OutDirectory = output ?? Path.Combine(root, "benchmarks", "results"),
            Child = child,
        };
    }

    private static int PositiveInt(string text, string name) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value > 0
            ? value
            : throw new ArgumentException($"{name} must be a positive integer, not '{text}'.");
}

/// <summary>A plain-text table with aligned columns.</summary>
internal sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public void Add(params string[] cells) => _rows.Add(cells);

    public void Print()
    {
        var widths = headers.Select((h, c) => Math.Max(h.Length, _rows.Count == 0 ? 0 : _rows.Max(r => r[c].Length))).ToArray();
        string Line(string[] cells) => string.Join(" | ", cells.Select((cell, c) => cell.PadRight(widths[c]))).TrimEnd();
        Console.WriteLine(Line(headers));
        Console.WriteLine(string.Join("-+-", widths.Select(w => new string('-', w))));
        foreach (var row in _rows)
            Console.WriteLine(Line(row));
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

internal sealed record BenchmarkResults
{
    public required string DateUtc { get; init; }
    public required MachineInfo Machine { get; init; }
    public required string Corpus { get; init; }
    public TrainingResults? Training { get; init; }
    public CountingResults? Counting { get; init; }
}

internal sealed record MachineInfo
{
    public required int LogicalCores { get; init; }
    public required string Os { get; init; }
    public required string Runtime { get; init; }
    public required string LoadAverageBefore { get; init; }
    public required string LoadAverageAfter { get; init; }
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
    public required double? FastTextClassReferenceTokensPerSecond { get; init; }
    public required string FastTextClassReferenceNote { get; init; }
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
    public required double PeakWorkingSetMB { get; init; }
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

internal sealed record CountingResults
{
    public required int Window { get; init; }
    public required int VocabularySize { get; init; }
    public required long CorpusTokens { get; init; }
    public required int Copies { get; init; }
    public required long Tokens { get; init; }
    public required int Documents { get; init; }
    public required int NonZeroPairs { get; init; }
    public required int Runs { get; init; }
    public required int Workers { get; init; }
    public required double SingleMedianSeconds { get; init; }
    public required double SingleTokensPerSecond { get; init; }
    public required double[] SingleSeconds { get; init; }
    public required double ParallelMedianSeconds { get; init; }
    public required double ParallelTokensPerSecond { get; init; }
    public required double[] ParallelSeconds { get; init; }
    public required double ParallelSpeedup { get; init; }
}
