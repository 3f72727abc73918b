namespace Microsoft.ML.Coherence.Training;

/// <summary>The losses a step read back: the total, and the language model's, alignment's and uniformity's (NaN when not read).</summary>
internal readonly record struct StepLosses(double Total, double Task, double Alignment, double Uniformity);

/// <summary>
/// Which steps are reported and how: at most 200 progress points a run (History, <see cref="IProgress{T}"/>), and of those
/// an Info line in the log at the first step, every tenth of the run and the last (the rest go to Trace), sparse as
/// ML.NET's trainers log.
/// </summary>
internal sealed class TrainingProgressLog(int steps, int firstStep, List<CoherenceTrainingProgress> history,
    IProgress<CoherenceTrainingProgress>? progress, Action<string>? log, Action<string>? trace)
{
    private const int MaxProgressPoints = 200;
    private const int MaxInfoLines = 10;
    private readonly int _every = Math.Max(1, steps / MaxProgressPoints);
    // A tenth of the run rounded up to a multiple of the reporting interval, so that Info lines are progress points.
    private readonly int _infoEvery = RoundUp(Math.Max(1, steps / MaxInfoLines), Math.Max(1, steps / MaxProgressPoints));

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    /// <summary>Whether <paramref name="step"/> is a progress point (an evaluation step is reported too, by the caller).</summary>
    public bool IsReported(int step) => step % _every == 0 || step == steps || step == firstStep;

    /// <summary>Records a step's progress in the history and reports and logs it; the rate and the time remaining count the
    /// steps this run of the loop has made. The line goes to the Info log once a tenth of the run, to the Trace log otherwise.</summary>
    public void Report(int step, RunInputs run, (double LearningRate, double CoherenceWeight) schedule, StepLosses losses,
        StepEvaluation evaluation, double? labelLoss, double? teacherLoss, TimeSpan elapsed)
    {
        int done = step - firstStep + 1;
        double seconds = elapsed.TotalSeconds;
        var report = new CoherenceTrainingProgress
        {
            Step = step, TotalSteps = steps, Tokens = step * run.TokensPerStep,
            Loss = losses.Total, TaskLoss = losses.Task, AlignmentLoss = losses.Alignment, UniformityLoss = losses.Uniformity,
            CoherenceWeight = schedule.CoherenceWeight, LearningRate = schedule.LearningRate,
            HeldOutPerplexity = evaluation.HeldOutPerplexity, MeanCoherence = evaluation.MeanCoherence, Drift = evaluation.Drift,
            LabelLoss = labelLoss, TeacherLoss = teacherLoss, HeldOutLabelAccuracy = evaluation.HeldOutLabelAccuracy,
            TokensPerSecond = (double)done * run.TokensPerStep / Math.Max(seconds, 1e-9),
            Elapsed = elapsed,
            Remaining = TimeSpan.FromSeconds(seconds / done * (steps - step)),
        };
        history.Add(report);
        progress?.Report(report);
        bool infoLine = step % _infoEvery == 0 || step == steps || step == firstStep;
        (infoLine ? log : trace)?.Invoke(report.ToString());
    }

}
