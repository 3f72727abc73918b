using System.Diagnostics;
using System.Globalization;

namespace Coherence.Experiments;

/// <summary>
/// Runs the fastText 0.9.2 command-line tool (Debian package <c>fasttext</c>; <c>scripts/get-data.sh</c>
/// installs it): <c>skipgram</c> for word vectors, <c>supervised</c> and <c>predict</c> for its classifier.
/// </summary>
/// <remarks>
/// Every run passes <c>-seed</c> (the harness seed) and <c>-thread</c>. fastText trains lock-free across
/// threads (Hogwild), so with more than one thread a seed does not give bit-identical vectors; only
/// <c>-thread 1</c> does (fastText's own help says so).
/// </remarks>
internal sealed class FastTextTool(string executable, int threads)
{
    /// <summary>The tuned supervised settings the issue names.</summary>
    public static readonly string[] TunedSupervisedArguments = ["-epoch", "25", "-wordNgrams", "2", "-lr", "0.5"];

    /// <summary>The path of the fasttext executable.</summary>
    public string Executable { get; } = executable;

    /// <summary>Threads per fastText run.</summary>
    public int Threads { get; } = threads;

    /// <summary>
    /// Trains skip-gram vectors (fastText's defaults otherwise: 5 epochs, window 5, min count 5, character
    /// 3- to 6-grams) on <paramref name="inputPath"/> and returns the path of the written <c>.vec</c>.
    /// The binary model (hundreds of MB with the 2M subword buckets) is deleted: only the vectors are used.
    /// </summary>
    public string Skipgram(string inputPath, string outputPrefix, int dimension, int seed)
    {
        Run(["skipgram", "-input", inputPath, "-output", outputPrefix, "-dim", dimension.ToString(CultureInfo.InvariantCulture), .. Common(seed)]);
        File.Delete(outputPrefix + ".bin");
        return outputPrefix + ".vec";
    }

    /// <summary>Trains the supervised classifier; returns the path of the binary model.</summary>
    public string Supervised(string inputPath, string outputPrefix, int seed, IReadOnlyList<string> extraArguments)
    {
        Run(["supervised", "-input", inputPath, "-output", outputPrefix, .. Common(seed), .. extraArguments]);
        File.Delete(outputPrefix + ".vec");
        return outputPrefix + ".bin";
    }

    /// <summary>The top label per line of <paramref name="testPath"/> (<c>fasttext predict</c>'s standard output).</summary>
    public string Predict(string modelPath, string testPath) => Run(["predict", modelPath, testPath]);

    private string[] Common(int seed) =>
        ["-seed", seed.ToString(CultureInfo.InvariantCulture), "-thread", Threads.ToString(CultureInfo.InvariantCulture), "-verbose", "1"];

    private string Run(IReadOnlyList<string> arguments)
    {
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {Executable}.");
        // Both streams are drained concurrently: a full stderr pipe would otherwise block the tool.
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            var tail = string.Join('\n', stderr.Result.Split('\n', '\r').Where(l => l.Trim().Length > 0).TakeLast(5));
            throw new InvalidOperationException($"fasttext {arguments[0]} failed with exit code {process.ExitCode}: {tail}");
        }

        return stdout;
    }
}
