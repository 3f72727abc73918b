// Shared by the console examples (compiled into each through its project file).
using Microsoft.ML.Coherence;
using Microsoft.ML.Data;
using Spectre.Console;

/// <summary>One labelled row of the bundled TSV files: label, a tab, then the text.</summary>
internal sealed class Row
{
    [LoadColumn(0)] public string Label { get; set; } = "";
    [LoadColumn(1)] public string Text { get; set; } = "";
}

internal sealed class Prediction
{
    public string PredictedLabel { get; set; } = "";
}

internal static class ExampleSupport
{
    /// <summary>The repository root (the folder with Coherence.sln), found from the example's binaries.</summary>
    public static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Coherence.sln")))
                return dir.FullName;
        }
        throw new DirectoryNotFoundException("Run the example from inside the repository (Coherence.sln not found).");
    }
}

/// <summary>
/// Training progress: a live Spectre.Console bar on a terminal; one plain line per 10% when the output is not one
/// (a log file, a pipe, CI), where a redrawn bar would write hundreds of carriage-return updates.
/// </summary>
internal sealed class TrainingProgress : IProgress<CoherenceTrainingProgress>
{
    private readonly ProgressTask? _bar;
    private int _tenthsPrinted;

    private TrainingProgress(ProgressTask? bar) => _bar = bar;

    /// <summary>Whether the bar can be redrawn in place: Spectre sees an interactive console and stdout is not redirected.</summary>
    public static bool IsInteractive => AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected;

    /// <summary>Runs <paramref name="fit"/> on <paramref name="estimator"/> made to report its progress here, and shows it.</summary>
    public static T Show<T>(CoherenceEmbeddingEstimator estimator, Func<CoherenceEmbeddingEstimator, T> fit)
    {
        if (!IsInteractive)
            return fit(estimator.WithProgress(new TrainingProgress(bar: null)));
        // Fit runs inside Start, on this thread; Spectre redraws the bar from its own thread.
        return AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context => fit(estimator.WithProgress(new TrainingProgress(context.AddTask("training")))));
    }

    public void Report(CoherenceTrainingProgress p)
    {
        if (_bar is not null)
        {
            _bar.MaxValue = p.TotalSteps;
            _bar.Value = p.Step;
            _bar.Description = Markup.Escape($"step {p.Step:N0}/{p.TotalSteps:N0} loss {p.Loss:F3} {p.TokensPerSecond:N0} tok/s");
            return;
        }
        int tenths = (int)(10L * p.Step / p.TotalSteps);
        if (tenths <= _tenthsPrinted)
            return;
        _tenthsPrinted = tenths;
        Console.WriteLine($"  {tenths * 10,3}% step {p.Step:N0}/{p.TotalSteps:N0} loss {p.Loss:F3} {p.TokensPerSecond:N0} tok/s {p.Remaining.TotalSeconds:F0}s left");
    }
}
