namespace Microsoft.ML.Coherence.Tests;

/// <summary>The examples' progress when the output is not a terminal (a log, CI): one line per 10%, no carriage returns.</summary>
[TestClass]
[DoNotParallelize]
public sealed class ExampleProgressTests
{
    [TestMethod]
    public void RedirectedOutputGetsOneLinePerTenPercent()
    {
        Assert.IsFalse(TrainingProgress.IsInteractive, "the test host's output is redirected");
        var estimator = new MLContext(seed: 1).Transforms.Text.CoherenceEmbeddings("Features", "Text");
        var original = Console.Out;
        using var captured = new StringWriter();
        Console.SetOut(captured);
        try
        {
            int result = TrainingProgress.Show(estimator, withProgress =>
            {
                for (int step = 1; step <= 346; step++)
                    withProgress.Progress!.Report(Progress(step, 346));
                return 42;
            });
            Assert.AreEqual(42, result, "Show returns what the fit returns");
        }
        finally
        {
            Console.SetOut(original);
        }
        var lines = captured.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.HasCount(10, lines);
        Assert.IsFalse(captured.ToString().Contains('\r'), "no carriage-return redraws in a log");
        StringAssert.StartsWith(lines[0].Trim(), "10% step 35/346");
        StringAssert.StartsWith(lines[^1].Trim(), "100% step 346/346");
    }

    private static CoherenceTrainingProgress Progress(int step, int total) => new()
    {
        Step = step, TotalSteps = total, Tokens = step * 2048L, Loss = 6, TaskLoss = 6, AlignmentLoss = 0, UniformityLoss = 0,
        CoherenceWeight = 1, LearningRate = 1e-3, TokensPerSecond = 1e5, Elapsed = TimeSpan.FromSeconds(step), Remaining = TimeSpan.FromSeconds(total - step),
    };
}
