namespace Microsoft.ML.Coherence;

/// <summary>One progress report of coherence training, sent through <see cref="IProgress{T}"/> and the MLContext log.</summary>
public sealed record CoherenceTrainingProgress
{
    /// <summary>1-based optimiser step.</summary>
    public required int Step { get; init; }
    /// <summary>Steps in the whole run.</summary>
    public required int TotalSteps { get; init; }
    /// <summary>Training tokens consumed so far (predicted positions).</summary>
    public required long Tokens { get; init; }
    /// <summary>Total loss L = L_task + label weight · L_label + teacher row weight · L_rows + coherence weight · L_align + uniformity weight · L_unif.</summary>
    public required double Loss { get; init; }
    /// <summary>Next-token loss in nats (sampled softmax when <c>SampledSoftmaxNegatives</c> &gt; 0).</summary>
    public required double TaskLoss { get; init; }
    /// <summary>Coherence alignment loss (mean KL), 0 in the baseline.</summary>
    public required double AlignmentLoss { get; init; }
    /// <summary>Uniformity loss, 0 in the baseline.</summary>
    public required double UniformityLoss { get; init; }
    /// <summary>The coherence weight at this step (after warm-up ramp).</summary>
    public required double CoherenceWeight { get; init; }
    /// <summary>Learning rate at this step.</summary>
    public required double LearningRate { get; init; }
    /// <summary>exp(TaskLoss): a training-batch perplexity (of the sampled softmax when sampling is on).</summary>
    public double TrainingPerplexity => Math.Exp(TaskLoss);
    /// <summary>Held-out perplexity with the full softmax; set at evaluation steps only.</summary>
    public double? HeldOutPerplexity { get; init; }
    /// <summary>Mean coherence score over the vocabulary; set at evaluation steps only.</summary>
    public double? MeanCoherence { get; init; }
    /// <summary>Embedding drift |E_t - E_prev| / |E_t| since the previous evaluation; set at evaluation steps only.</summary>
    public double? Drift { get; init; }
    /// <summary>
    /// Label loss L_label (cross-entropy of the label head, nats) of this step's labelled documents; null without
    /// <see cref="CoherenceEmbeddingOptions.LabelColumnName"/>.
    /// </summary>
    public double? LabelLoss { get; init; }
    /// <summary>
    /// Accuracy of the label head on the labelled documents the label loss never sees
    /// (<see cref="CoherenceEmbeddingOptions.LabelHoldOutFraction"/>); set at evaluation steps only, null without held-out labels.
    /// </summary>
    public double? HeldOutLabelAccuracy { get; init; }
    /// <summary>
    /// Row distillation loss (1 − cosine to the teacher's row vectors) of this step's sampled rows; null without
    /// <see cref="CoherenceEmbeddingOptions.Teacher"/> or with <see cref="CoherenceEmbeddingOptions.TeacherRowWeight"/> 0.
    /// </summary>
    public double? TeacherLoss { get; init; }
    /// <summary>Training throughput since the start of this run.</summary>
    public required double TokensPerSecond { get; init; }
    /// <summary>Time since the start of this run.</summary>
    public required TimeSpan Elapsed { get; init; }
    /// <summary>Estimated time to finish.</summary>
    public required TimeSpan Remaining { get; init; }

    /// <inheritdoc />
    /// <remarks>Numbers in the invariant culture (0.5, not 0,5), as in the files the library writes.</remarks>
    public override string ToString()
    {
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        string Optional(string label, double? value, string format) => value is double v ? $"{label}{v.ToString(format, invariant)}" : "";
        return string.Create(invariant,
            $"step {Step}/{TotalSteps} loss {Loss:F4} (task {TaskLoss:F4}, align {AlignmentLoss:F4}, unif {UniformityLoss:F4}, w {CoherenceWeight:F3}" +
            $"{Optional(", label ", LabelLoss, "F4")}{Optional(", teacher ", TeacherLoss, "F4")})" +
            $"{Optional(" held-out ppl ", HeldOutPerplexity, "F1")}{Optional(" coherence ", MeanCoherence, "F4")}{Optional(" drift ", Drift, "F4")}" +
            $"{Optional(" held-out label acc ", HeldOutLabelAccuracy, "F4")} {TokensPerSecond:N0} tok/s, {Remaining.TotalSeconds:F0}s left");
    }
}
