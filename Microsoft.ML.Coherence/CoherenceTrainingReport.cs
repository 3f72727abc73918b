namespace Microsoft.ML.Coherence;

/// <summary>What a training run did and measured: settings, loss history, perplexity, coherence and cost.</summary>
public sealed class CoherenceTrainingReport
{
    /// <summary>The options the run used (a copy; its <see cref="CoherenceEmbeddingOptions.Teacher"/> is null, so the report does not
    /// keep the teacher alive: <see cref="TeacherName"/> names it).</summary>
    public required CoherenceEmbeddingOptions Options { get; init; }
    /// <summary>The seed the run used (Options.Seed, or one drawn from the MLContext).</summary>
    public required int Seed { get; init; }
    /// <summary>The device trained on, e.g. "cpu" or "cuda:0".</summary>
    public required string Device { get; init; }
    /// <summary>Vocabulary size, the unknown token included.</summary>
    public required int VocabularySize { get; init; }
    /// <summary>Tokens in the training split.</summary>
    public required long TrainingTokens { get; init; }
    /// <summary>Tokens in the held-out split used for perplexity.</summary>
    public required long HeldOutTokens { get; init; }
    /// <summary>Passes over the training tokens that the run's steps make (steps x batch x context / training tokens).</summary>
    public double Epochs { get; init; }
    /// <summary>Tokens predicted by the steps this run took (a resumed run counts only its own steps).</summary>
    public long TokensTrained { get; init; }
    /// <summary>Step restored from a checkpoint, if the run resumed.</summary>
    public int? ResumedFromStep { get; init; }
    /// <summary>
    /// What the figures of this run can and cannot mean, when its corpus is small (also written to the log as warnings):
    /// under 10,000 training tokens, or under 1,000 held-out tokens. Empty otherwise.
    /// </summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
    /// <summary>Progress reports at log and evaluation steps.</summary>
    public required IReadOnlyList<CoherenceTrainingProgress> History { get; init; }
    /// <summary>Held-out perplexity (full softmax) of the untrained model.</summary>
    public double? InitialHeldOutPerplexity { get; init; }
    /// <summary>Held-out perplexity (full softmax) at the end.</summary>
    public double? FinalHeldOutPerplexity { get; init; }
    /// <summary>Mean coherence score over the vocabulary at the end.</summary>
    public double FinalMeanCoherence { get; init; }
    /// <summary>The label classes (first-seen order) when <see cref="CoherenceEmbeddingOptions.LabelColumnName"/> was set; else empty.</summary>
    public IReadOnlyList<string> LabelClasses { get; init; } = [];
    /// <summary>Labelled training documents the label loss drew from (0 without a label column).</summary>
    public int LabelledTrainingDocuments { get; init; }
    /// <summary>Labelled training documents kept out of the label loss to measure <see cref="FinalHeldOutLabelAccuracy"/>.</summary>
    public int LabelledHeldOutDocuments { get; init; }
    /// <summary>
    /// The label head's accuracy on those held-out documents for the fitted weights (at the end);
    /// null without them.
    /// </summary>
    public double? FinalHeldOutLabelAccuracy { get; init; }
    /// <summary>The label loss at the last logged step; null without a label column.</summary>
    public double? FinalLabelLoss { get; init; }
    /// <summary>The teacher's model id (or provider, or type name) from its <c>EmbeddingGeneratorMetadata</c>; null without a teacher.</summary>
    public string? TeacherName { get; init; }
    /// <summary>Seconds spent in calls to <see cref="CoherenceEmbeddingOptions.Teacher"/> (vocabulary words and sampled rows); 0 without a teacher.</summary>
    public double TeacherSeconds { get; init; }
    /// <summary>Texts the teacher embedded: the vocabulary's words and the rows sampled for row distillation; 0 without a teacher.</summary>
    public long TeacherTexts { get; init; }
    /// <summary>Of <see cref="TeacherTexts"/>, the training rows sampled for row distillation.</summary>
    public int TeacherRows { get; init; }
    /// <summary>The teacher's throughput in this fit, texts per second (<see cref="TeacherTexts"/> / <see cref="TeacherSeconds"/>); 0 without a teacher.</summary>
    public double TeacherTextsPerSecond => TeacherSeconds > 0 ? TeacherTexts / TeacherSeconds : 0;
    /// <summary>The length of the teacher's vectors; 0 without a teacher.</summary>
    public int TeacherDimension { get; init; }
    /// <summary>Share of the teacher's word-vector variance that the distilled starting table keeps (its principal components); 0 without a teacher.</summary>
    public double TeacherExplainedVariance { get; init; }
    /// <summary>The row distillation loss at the last logged step; null without it.</summary>
    public double? FinalTeacherLoss { get; init; }
    /// <summary>Seconds spent counting co-occurrences and building the statistical field.</summary>
    public double StatisticsSeconds { get; init; }
    /// <summary>Seconds in the training loop (evaluations included).</summary>
    public double TrainSeconds { get; init; }
    /// <summary>Mean seconds per optimiser step.</summary>
    public double SecondsPerStep { get; init; }
    /// <summary>Training tokens (predicted positions) per second.</summary>
    public double TokensPerSecond { get; init; }
    /// <summary>
    /// Peak host memory in MB: the process' peak working set, on every device, which also counts everything
    /// else the process did before (compare runs in fresh processes). GPU memory is not included: TorchSharp
    /// 0.107 exposes no CUDA allocator statistics (nvidia-smi shows the device's memory).
    /// </summary>
    public double PeakMemoryMB { get; init; }
}
