namespace Microsoft.ML.Coherence.Training;

/// <summary>Linear warm-up to the peak, then cosine decay to 10% of it; and the coherence weight's linear ramp.</summary>
internal static class LearningRateSchedule
{
    public const double FinalFraction = 0.1;

    /// <summary>Learning rate at a 1-based step.</summary>
    public static double LearningRate(int step, int totalSteps, double peak, double warmupFraction)
    {
        int warmup = (int)Math.Round(warmupFraction * totalSteps);
        if (warmup > 0 && step <= warmup)
            return peak * step / warmup;
        double progress = totalSteps <= warmup ? 1 : (double)(step - warmup) / (totalSteps - warmup);
        double cosine = 0.5 * (1 + Math.Cos(Math.PI * Math.Clamp(progress, 0, 1)));
        return peak * (FinalFraction + (1 - FinalFraction) * cosine);
    }

    /// <summary>lambda_align at a 1-based step: ramps linearly from 0 to the weight over the warm-up share.</summary>
    public static double CoherenceWeight(int step, int totalSteps, double weight, double warmupFraction)
    {
        int warmup = (int)Math.Round(warmupFraction * totalSteps);
        return warmup <= 0 ? weight : weight * Math.Min(1.0, (double)step / warmup);
    }
}
