using System.Globalization;

namespace Coherence.Benchmarks;

/// <summary>
/// The paired mode: baseline and SCA steps in turn in one process (<see cref="PairedTiming"/>), static and 2 layers,
/// then fastText's skip-gram and cbow on the stage's own training text with the static run's dimension and epochs,
/// and static SCA's tokens/s against fastText's words/s.
/// </summary>
internal static class PairedBenchmark
{
    /// <summary>The project's target: static SCA at least this many times fastText skip-gram's words/s.</summary>
    public const double FastTextTarget = 2.0;

    /// <summary>fastText runs on 2 threads, the cores of the machine the targets were set on.</summary>
    public const int FastTextThreads = 2;

    public static PairedResults Run(BenchmarkArguments arguments, string loadBefore)
    {
        var table = new TextTable("layers", "vocabulary", "steps", "baseline s/step", "SCA s/step", "SCA/baseline", "baseline tok/s", "SCA tok/s");
        var paired = new List<PairedTiming.Result>();
        foreach (var (layers, maxVocabulary) in new[] { (0, 30_000), (2, 30_000) })
        {
            var r = PairedTiming.Run(arguments.CorpusPath, layers, arguments.Steps, BenchmarkEnvironment.Seed, maxVocabulary, arguments.Settings);
            paired.Add(r);
            table.Add(r.Layers.ToString(CultureInfo.InvariantCulture), r.VocabularySize.ToString("N0", CultureInfo.InvariantCulture),
                r.Steps.ToString(CultureInfo.InvariantCulture), r.BaselineMedianSeconds.ToString("F4", CultureInfo.InvariantCulture),
                r.ScaMedianSeconds.ToString("F4", CultureInfo.InvariantCulture), r.Ratio.ToString("F3", CultureInfo.InvariantCulture),
                r.BaselineTokensPerSecond.ToString("N0", CultureInfo.InvariantCulture), r.ScaTokensPerSecond.ToString("N0", CultureInfo.InvariantCulture));
        }
        Console.WriteLine($"Paired timing (one process, baseline and SCA steps in turn; medians after 5 warm-up steps); target SCA/baseline <= {BenchmarkEnvironment.OverheadTarget:F2}" +
            (arguments.Settings.Count > 0 ? $"; settings: {string.Join(' ', arguments.Settings)}" : ""));
        table.Print();
        foreach (var r in paired)
            PrintPhases(r);

        var fastText = arguments.SkipFastText ? null : RunFastText(arguments, paired[0]);
        var results = new PairedResults
        {
            Machine = BenchmarkEnvironment.Machine(loadBefore),
            Paired = paired,
            FastText = fastText,
            Settings = arguments.Settings,
        };
        Console.WriteLine($"Load average after (1/5/15 min): {results.Machine.LoadAverageAfter}");
        string path = BenchmarkEnvironment.WriteResult(arguments.OutDirectory, "paired.json", results);
        Console.WriteLine($"Results written to {path}");
        return results;
    }

    /// <summary>Where the time of one paired run goes: each phase's median in ms, baseline and SCA, and SCA's extra.</summary>
    private static void PrintPhases(PairedTiming.Result r)
    {
        Console.WriteLine();
        Console.WriteLine($"Step phases, {r.Layers} layers (median ms per phase over the same steps; the medians need not add up to the step's):");
        var phases = new TextTable("phase", "baseline ms", "SCA ms", "SCA - baseline ms");
        foreach (var p in r.Phases)
        {
            phases.Add(p.Phase, (1000 * p.BaselineSeconds).ToString("F3", CultureInfo.InvariantCulture),
                (1000 * p.ScaSeconds).ToString("F3", CultureInfo.InvariantCulture),
                (1000 * (p.ScaSeconds - p.BaselineSeconds)).ToString("F3", CultureInfo.InvariantCulture));
        }
        double baseline = r.Phases.Sum(p => p.BaselineSeconds), sca = r.Phases.Sum(p => p.ScaSeconds);
        phases.Add("sum of the medians", (1000 * baseline).ToString("F3", CultureInfo.InvariantCulture),
            (1000 * sca).ToString("F3", CultureInfo.InvariantCulture), (1000 * (sca - baseline)).ToString("F3", CultureInfo.InvariantCulture));
        phases.Print();
    }

    private static FastTextComparison? RunFastText(BenchmarkArguments arguments, PairedTiming.Result stage)
    {
        Console.WriteLine();
        string? executable = FastTextExecutable.Find();
        if (executable is null)
        {
            Console.WriteLine("fastText: skipped, the fasttext command is not on PATH (benchmarks/setup.sh installs the Debian package).");
            return null;
        }

        // The same text the stage trains on, in its tokens; fastText's dimension, epochs, window and min count follow the stage's.
        string input = Path.Combine(Path.GetTempPath(), $"coherence-bench-fasttext-{Environment.ProcessId}.txt");
        File.WriteAllLines(input, PairedTiming.TrainingText(arguments.CorpusPath, BenchmarkEnvironment.Seed));
        try
        {
            long words = FastTextRun.CountWords(input);
            int epochs = Math.Max(1, (int)Math.Round(stage.Epochs));
            string[] options = ["-dim", stage.Dimension.ToString(CultureInfo.InvariantCulture), "-ws", stage.Window.ToString(CultureInfo.InvariantCulture),
                "-minCount", stage.MinCount.ToString(CultureInfo.InvariantCulture), "-seed", BenchmarkEnvironment.Seed.ToString(CultureInfo.InvariantCulture)];
            Console.WriteLine($"fastText ({executable}) on the stage's training text: {words:N0} words (fastText's count: {stage.TrainingTokens:N0} tokens plus one end-of-line per line).");
            Console.WriteLine($"Matched to the static stage: d = {stage.Dimension}, window {stage.Window}, min count {stage.MinCount}; the stage's {stage.Steps} steps x " +
                $"{stage.TokensPerStep:N0} tokens = {stage.Epochs:F2} epochs of its {stage.TrainingTokens:N0} training tokens, so fastText -epoch {epochs}; " +
                $"-thread {FastTextThreads}; fastText's other settings are its defaults (5 negatives, character 3-6-grams, 2M buckets).");
            var runs = new List<FastTextRun>();
            foreach (string model in new[] { "skipgram", "cbow" })
            {
                var run = FastTextRun.Train(executable, model, input, words, options, epochs, FastTextThreads);
                runs.Add(run);
                Console.WriteLine($"  {run.CommandLine}");
            }

            var table = new TextTable("model", "epochs", "fastText words/s (its words/sec/thread x threads)", "words/s timed by us (whole process)",
                "wall s", "static SCA tokens/s", "SCA/fastText");
            foreach (var run in runs)
            {
                table.Add(run.Model, run.Epochs.ToString(CultureInfo.InvariantCulture),
                    run.WordsPerSecond?.ToString("N0", CultureInfo.InvariantCulture) ?? "not printed",
                    run.TimedWordsPerSecond.ToString("N0", CultureInfo.InvariantCulture), run.WallSeconds.ToString("F1", CultureInfo.InvariantCulture),
                    stage.ScaTokensPerSecond.ToString("N0", CultureInfo.InvariantCulture),
                    run.WordsPerSecond is double w ? (stage.ScaTokensPerSecond / w).ToString("F2", CultureInfo.InvariantCulture) : "-");
            }
            Console.WriteLine("Static SCA tokens/s (paired median step, predicted positions) against fastText's words/s over its training loop, as fastText " +
                "prints it (its last words/sec/thread x threads); the timed column divides words x epochs by the whole process's wall time.");
            table.Print();
            var skipgram = runs[0];
            double? ratio = skipgram.WordsPerSecond is double sw ? stage.ScaTokensPerSecond / sw : null;
            Console.WriteLine(ratio is double r
                ? $"Static SCA / fastText skip-gram: {r:F2}; target >= {FastTextTarget:F2}: {(r >= FastTextTarget ? "met" : "MISSED")}."
                : "fastText printed no words/sec/thread: no ratio.");
            return new FastTextComparison
            {
                Executable = executable,
                InputWords = words,
                StageEpochs = stage.Epochs,
                StageTokensPerSecond = stage.ScaTokensPerSecond,
                Runs = runs,
                ScaOverSkipgram = ratio,
                Target = FastTextTarget,
                Note = "words/s: fastText's own words/sec/thread (its training loop) x threads; timedWordsPerSecond: input words x epochs / wall time of the whole process.",
            };
        }
        catch (InvalidOperationException e)
        {
            Console.WriteLine($"fastText: FAILED, {e.Message}");
            return null;
        }
        finally
        {
            File.Delete(input);
        }
    }
}

internal sealed record PairedResults
{
    public required MachineInfo Machine { get; init; }
    public required List<PairedTiming.Result> Paired { get; init; }
    public FastTextComparison? FastText { get; init; }
    /// <summary>The --set settings both variants ran with (empty: the benchmark's own options).</summary>
    public IReadOnlyList<string> Settings { get; init; } = [];
}

internal sealed record FastTextComparison
{
    public required string Executable { get; init; }
    public required long InputWords { get; init; }
    public required double StageEpochs { get; init; }
    public required double StageTokensPerSecond { get; init; }
    public required List<FastTextRun> Runs { get; init; }
    public required double? ScaOverSkipgram { get; init; }
    public required double Target { get; init; }
    public required string Note { get; init; }
}
