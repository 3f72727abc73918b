using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Coherence.Benchmarks;

/// <summary>
/// One training run of the fastText 0.9.2 command-line tool (Debian package <c>fasttext</c>; benchmarks/setup.sh
/// installs it), timed by us and by fastText itself: its progress line reports words/sec/thread over its training
/// loop, which is the figure compared with our per-step tokens/s; our wall time covers the whole process.
/// </summary>
internal sealed partial record FastTextRun
{
    public required string Model { get; init; }
    public required string CommandLine { get; init; }
    public required int Epochs { get; init; }
    public required int Threads { get; init; }

    /// <summary>Words of the input as fastText counts them: the whitespace-separated tokens plus one end-of-line token per line.</summary>
    public required long InputWords { get; init; }

    /// <summary>fastText's own last words/sec/thread (its training loop only), or null when its output had none.</summary>
    public required double? WordsPerSecondPerThread { get; init; }

    /// <summary>Wall time of the whole process: reading, the dictionary, the subword table's initialisation, training, saving.</summary>
    public required double WallSeconds { get; init; }

    /// <summary>fastText's words/s over all threads: its words/sec/thread × threads.</summary>
    public double? WordsPerSecond => WordsPerSecondPerThread * Threads;

    /// <summary>Words trained (input words × epochs) over our wall time of the whole process.</summary>
    public double TimedWordsPerSecond => InputWords * (double)Epochs / WallSeconds;

    /// <summary>Words of a fastText input file: tokens split on whitespace, plus one end-of-line token per line.</summary>
    public static long CountWords(string path)
    {
        long words = 0;
        foreach (var line in File.ReadLines(path))
            words += line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length + 1;
        return words;
    }

    /// <summary>The last words/sec/thread figure of fastText's progress output (lines separated by carriage returns), or null.</summary>
    public static double? ParseWordsPerSecondPerThread(string output)
    {
        var matches = WordsPerSecondPattern().Matches(output);
        return matches.Count == 0 ? null : double.Parse(matches[^1].Groups[1].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Trains <paramref name="model"/> (skipgram or cbow) on <paramref name="inputPath"/>, deletes the model files, and
    /// returns the timings. Throws <see cref="InvalidOperationException"/> when fastText fails.
    /// </summary>
    public static FastTextRun Train(string executable, string model, string inputPath, long inputWords, IReadOnlyList<string> options, int epochs, int threads)
    {
        string prefix = Path.Combine(Path.GetTempPath(), $"coherence-bench-fasttext-{Environment.ProcessId}-{model}");
        string[] arguments = [model, "-input", inputPath, "-output", prefix, .. options,
            "-epoch", epochs.ToString(CultureInfo.InvariantCulture), "-thread", threads.ToString(CultureInfo.InvariantCulture), "-verbose", "2"];
        var start = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        var clock = Stopwatch.StartNew();
        string output, errors;
        int exitCode;
        using (var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {executable}."))
        {
            var stderr = process.StandardError.ReadToEndAsync();
            output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            errors = stderr.GetAwaiter().GetResult();
            exitCode = process.ExitCode;
        }
        double seconds = clock.Elapsed.TotalSeconds;
        foreach (var file in new[] { prefix + ".bin", prefix + ".vec" })
            File.Delete(file);
        if (exitCode != 0)
        {
            string tail = string.Join(' ', (output + errors).Split('\n', '\r').Where(l => l.Trim().Length > 0).TakeLast(3));
            throw new InvalidOperationException($"fasttext {model} failed with exit code {exitCode}: {tail}");
        }

        return new FastTextRun
        {
            Model = model,
            CommandLine = "fasttext " + string.Join(' ', arguments.Select(a => a == inputPath ? "<stage training text>" : a == prefix ? "<tmp>" : a)),
            Epochs = epochs,
            Threads = threads,
            InputWords = inputWords,
            WordsPerSecondPerThread = ParseWordsPerSecondPerThread(output + "\n" + errors),
            WallSeconds = seconds,
        };
    }

    [GeneratedRegex(@"words/sec/thread:\s*([0-9]+(?:\.[0-9]+)?)")]
    private static partial Regex WordsPerSecondPattern();
}
