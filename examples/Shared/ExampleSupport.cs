// Shared by the console examples (compiled into each through its project file).
using Microsoft.ML.Coherence;
using Microsoft.ML.Data;

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

/// <summary>A one-line progress bar for training.</summary>
internal sealed class ConsoleProgress : IProgress<CoherenceTrainingProgress>
{
    public void Report(CoherenceTrainingProgress p)
    {
        int width = 30, done = (int)(width * (double)p.Step / p.TotalSteps);
        Console.Write($"\r[{new string('#', done)}{new string('.', width - done)}] step {p.Step}/{p.TotalSteps} loss {p.Loss:F3} {p.TokensPerSecond:N0} tok/s {p.Remaining.TotalSeconds:F0}s left   ");
        if (p.Step == p.TotalSteps)
            Console.WriteLine();
    }
}
