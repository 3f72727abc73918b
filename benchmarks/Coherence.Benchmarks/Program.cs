using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Coherence.Tools;

namespace Coherence.Benchmarks;

/// <summary>
/// Cost benchmarks of Microsoft.ML.Coherence (benchmarks/README.md). One file per mode: <see cref="TrainingBenchmark"/>
/// (and its child process), <see cref="CountingBenchmark"/>, <see cref="PairedBenchmark"/> (with fastText),
/// <see cref="ScoringBenchmark"/>; this file parses the command line and dispatches.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        var parsed = ToolCommandLine.Parse(BenchmarkArguments.Command, args);
        if (ToolCommandLine.IsHelp(parsed))
            return parsed.Invoke();
        BenchmarkArguments arguments;
        try
        {
            arguments = BenchmarkArguments.From(parsed);
        }
        catch (ArgumentException exception)
        {
            return ToolCommandLine.ReportUsageError(exception.Message, "Coherence.Benchmarks");
        }

        if (arguments.Child is { } child)
        {
            var result = TrainingBenchmark.RunChild(child.Layers, child.Variant, arguments.Steps, arguments.CorpusPath);
            Console.Out.WriteLine(TrainingBenchmark.ResultMarker + JsonSerializer.Serialize(result, BenchmarkEnvironment.JsonLine));
            return 0;
        }

        var loadBefore = BenchmarkEnvironment.LoadAverage();
        Console.WriteLine($"Coherence benchmarks — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} logical cores, " +
            $"{RuntimeInformation.OSDescription}, .NET {Environment.Version}");
        if (arguments.Mode != "downstream") // it reads --labelled instead
            Console.WriteLine($"Corpus: {arguments.CorpusPath}");
        Console.WriteLine($"Load average before (1/5/15 min): {loadBefore}");
        Console.WriteLine();
        switch (arguments.Mode)
        {
            case "paired":
                PairedBenchmark.Run(arguments, loadBefore);
                return 0;
            case "scoring":
                ScoringBenchmark.Run(arguments, loadBefore);
                return 0;
            case "downstream":
                DownstreamBenchmark.Run(arguments);
                return 0;
            case "memory":
                FitMemoryBenchmark.Run(arguments);
                return 0;
        }

        var results = new BenchmarkResults
        {
            DateUtc = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            Corpus = Path.GetRelativePath(BenchmarkEnvironment.RepositoryRoot(), arguments.CorpusPath),
            Training = arguments.Mode is "training" or "all" ? TrainingBenchmark.Run(arguments) : null,
            Counting = arguments.Mode is "counting" or "all" ? CountingBenchmark.Run(arguments.CorpusPath) : null,
            Machine = BenchmarkEnvironment.Machine(loadBefore),
        };
        string path = BenchmarkEnvironment.WriteResult(arguments.OutDirectory, "latest.json", results);
        Console.WriteLine();
        Console.WriteLine($"Load average after (1/5/15 min): {results.Machine.LoadAverageAfter}");
        Console.WriteLine($"Results written to {path}:");
        Console.WriteLine(JsonSerializer.Serialize(results, BenchmarkEnvironment.Json));
        return 0;
    }
}

/// <summary>latest.json: the training and counting modes of one run.</summary>
internal sealed record BenchmarkResults
{
    public required string DateUtc { get; init; }
    public required MachineInfo Machine { get; init; }
    public required string Corpus { get; init; }
    public TrainingResults? Training { get; init; }
    public CountingResults? Counting { get; init; }
}
