using System.Globalization;

namespace Coherence.Benchmarks;

/// <summary>The scoring mode: rows per second of saved-and-reloaded stages (static and 2 layers) against FeaturizeText (<see cref="ScoringThroughput"/>).</summary>
internal static class ScoringBenchmark
{
    private const int Rows = 20_000;

    public static void Run(BenchmarkArguments arguments, string loadBefore)
    {
        var table = new TextTable("layers", "rows", "coherence rows/s", "FeaturizeText rows/s", "coherence/FeaturizeText");
        var scoring = new List<ScoringThroughput.Result>();
        foreach (int layers in new[] { 0, 2 })
        {
            var r = ScoringThroughput.Run(arguments.CorpusPath, layers, Rows, repeats: Math.Max(3, arguments.Repeats), BenchmarkEnvironment.Seed);
            scoring.Add(r);
            table.Add(r.Layers.ToString(CultureInfo.InvariantCulture), r.Rows.ToString("N0", CultureInfo.InvariantCulture),
                r.CoherenceRowsPerSecond.ToString("N0", CultureInfo.InvariantCulture), r.FeaturizeTextRowsPerSecond.ToString("N0", CultureInfo.InvariantCulture),
                r.Ratio.ToString("F2", CultureInfo.InvariantCulture));
        }
        Console.WriteLine("Scoring throughput of saved-and-reloaded models, same texts, same process (best of the repeats); target for static mode: >= 1.00");
        table.Print();
        foreach (var r in scoring)
        {
            var steps = new TextTable("chain up to", "column read", "rows/s");
            foreach (var step in r.Breakdown)
            {
                steps.Add(step.Transform, step.Column, step.RowsPerSecond.ToString("N0", CultureInfo.InvariantCulture));
            }

            Console.WriteLine($"Where the time goes, {r.Layers} layers: each prefix of the saved chain (best of the repeats)");
            steps.Print();
        }

        Console.WriteLine($"Load average after (1/5/15 min): {BenchmarkEnvironment.LoadAverage()}");
        BenchmarkEnvironment.WriteResult(arguments.OutDirectory, "scoring.json", new { loadBefore, scoring });
    }
}
