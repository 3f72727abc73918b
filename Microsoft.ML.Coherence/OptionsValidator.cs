using Microsoft.ML.Coherence.Internal;

namespace Microsoft.ML.Coherence;

/// <summary>Checks <see cref="CoherenceEmbeddingOptions"/> at the boundary, before any work starts.</summary>
internal static class OptionsValidator
{

    public static void Validate(CoherenceEmbeddingOptions o)
    {
        ArgumentNullException.ThrowIfNull(o);
        Model(o);
        Statistics(o);
        Losses(o);
        Budget(o);
        Teacher(o);
        Scoring(o);
        Labels(o);
    }

    /// <summary>The options of the model: dimension, layers, heads, context.</summary>
    private static void Model(CoherenceEmbeddingOptions o)
    {
        Positive(nameof(o.EmbeddingDimension), o.EmbeddingDimension);
        if (o.Layers < 0 || o.Layers > 48)
            CoherenceThrow.OptionOutOfRange(nameof(o.Layers), o.Layers, "0 (static embeddings) to 48");
        if (o.Layers > 0)
        {
            Positive(nameof(o.Heads), o.Heads);
            if (o.EmbeddingDimension % o.Heads != 0)
                CoherenceThrow.OptionOutOfRange(nameof(o.Heads), o.Heads,
                    $"a divisor of EmbeddingDimension ({o.EmbeddingDimension})");
        }
        if (o.ContextLength < 2)
            CoherenceThrow.OptionOutOfRange(nameof(o.ContextLength), o.ContextLength, "2 or more");
        Positive(nameof(o.StaticContextSize), o.StaticContextSize);
    }

    /// <summary>The options of the vocabulary and the statistical field.</summary>
    private static void Statistics(CoherenceEmbeddingOptions o)
    {
        Positive(nameof(o.MinCount), o.MinCount);
        if (o.MaxVocabularySize < 2)
            CoherenceThrow.OptionOutOfRange(nameof(o.MaxVocabularySize), o.MaxVocabularySize, "2 or more (the unknown token included)");
        if (o.Window < 1 || o.Window > 16)
            CoherenceThrow.OptionOutOfRange(nameof(o.Window), o.Window, "1 to 16");
        if (!(o.ContextSmoothing > 0 && o.ContextSmoothing <= 1))
            CoherenceThrow.OptionOutOfRange(nameof(o.ContextSmoothing), o.ContextSmoothing, "greater than 0 and at most 1");
        Positive(nameof(o.NeighborCount), o.NeighborCount);
    }

    /// <summary>The options of the coherence terms and the language model's sampled softmax.</summary>
    private static void Losses(CoherenceEmbeddingOptions o)
    {
        NonNegativeFinite(nameof(o.CoherenceWeight), o.CoherenceWeight);
        NonNegativeFinite(nameof(o.UniformityWeight), o.UniformityWeight);
        Fraction(nameof(o.CoherenceWarmupFraction), o.CoherenceWarmupFraction);
        if (!(o.Temperature > 0) || float.IsInfinity(o.Temperature))
            CoherenceThrow.OptionOutOfRange(nameof(o.Temperature), o.Temperature, "a finite number greater than 0");
        if (o.CoherenceNegatives < 0)
            CoherenceThrow.OptionOutOfRange(nameof(o.CoherenceNegatives), o.CoherenceNegatives, "0 or more");
        Positive(nameof(o.AnchorsPerStep), o.AnchorsPerStep);
        if (o.SampledSoftmaxNegatives < 0)
            CoherenceThrow.OptionOutOfRange(nameof(o.SampledSoftmaxNegatives), o.SampledSoftmaxNegatives, "0 (full softmax) or more");
    }

    /// <summary>The options of the budget and the objective: steps, epochs, batch, optimiser, evaluation, held-out share.</summary>
    private static void Budget(CoherenceEmbeddingOptions o)
    {
        if (o.Steps is int steps && !(steps > 0 || (steps == 0 && o.Teacher is not null)))
            CoherenceThrow.OptionOutOfRange(nameof(o.Steps), steps, o.Teacher is null
                ? "null (from Epochs) or greater than 0; 0 (keep the distilled table untrained) needs a Teacher"
                : "null (from Epochs), 0 (keep the distilled table untrained) or more");
        if (!(o.Epochs > 0) || float.IsInfinity(o.Epochs))
            CoherenceThrow.OptionOutOfRange(nameof(o.Epochs), o.Epochs, "a finite number greater than 0");
        Positive(nameof(o.BatchSize), o.BatchSize);
        if (!(o.LearningRate > 0) || float.IsInfinity(o.LearningRate))
            CoherenceThrow.OptionOutOfRange(nameof(o.LearningRate), o.LearningRate, "a finite number greater than 0");
        NonNegativeFinite(nameof(o.WeightDecay), o.WeightDecay);
        Fraction(nameof(o.LearningRateWarmupFraction), o.LearningRateWarmupFraction);
        NonNegativeFinite(nameof(o.GradientClipNorm), o.GradientClipNorm);
        if (o.EvaluationInterval < 0)
            CoherenceThrow.OptionOutOfRange(nameof(o.EvaluationInterval), o.EvaluationInterval, "0 (only at the end) or more");
        if (!(o.HeldOutFraction >= 0 && o.HeldOutFraction < 0.5f))
            CoherenceThrow.OptionOutOfRange(nameof(o.HeldOutFraction), o.HeldOutFraction, "0 to less than 0.5");
    }

    /// <summary>The options of the teacher.</summary>
    private static void Teacher(CoherenceEmbeddingOptions o)
    {
        NonNegativeFinite(nameof(o.TeacherRowWeight), o.TeacherRowWeight);
        if (o.TeacherRowSample < 0)
            CoherenceThrow.OptionOutOfRange(nameof(o.TeacherRowSample), o.TeacherRowSample, "0 (no row distillation) or more");
        Positive(nameof(o.TeacherBatchSize), o.TeacherBatchSize);
    }

    /// <summary>The options of pooling, the scoring device and checkpoints.</summary>
    private static void Scoring(CoherenceEmbeddingOptions o)
    {
        if (!Enum.IsDefined(o.Pooling))
            CoherenceThrow.OptionOutOfRange(nameof(o.Pooling), o.Pooling, "Mean or MeanMax");
        if (o.ScoringGpuDeviceId < 0)
            CoherenceThrow.OptionOutOfRange(nameof(o.ScoringGpuDeviceId), o.ScoringGpuDeviceId, "null (score on the CPU) or a GPU index, 0 or more");
        Positive(nameof(o.CheckpointInterval), o.CheckpointInterval);
    }

    /// <summary>The options of the label-aware mode.</summary>
    private static void Labels(CoherenceEmbeddingOptions o)
    {
        if (o.LabelColumnName is not null && string.IsNullOrWhiteSpace(o.LabelColumnName))
            CoherenceThrow.OptionOutOfRange(nameof(o.LabelColumnName), o.LabelColumnName, "null (no label) or the name of a String, Boolean or Key column");
        if (o.LabelColumnName is not null && o.CheckpointDirectory is not null)
            CoherenceThrow.OptionOutOfRange(nameof(o.LabelColumnName), $"'{o.LabelColumnName}'",
                "null with CheckpointDirectory set: the label head is not checkpointed, so a resumed run would not be the same run");
        NonNegativeFinite(nameof(o.LabelWeight), o.LabelWeight);
        if (o.LabelBatchSize is { } labelBatch)
            Positive(nameof(o.LabelBatchSize), labelBatch);
        if (!(o.LabelEpochs > 0) || float.IsInfinity(o.LabelEpochs))
            CoherenceThrow.OptionOutOfRange(nameof(o.LabelEpochs), o.LabelEpochs, "a finite number greater than 0");
        if (!(o.LabelHoldOutFraction >= 0 && o.LabelHoldOutFraction < 0.5f))
            CoherenceThrow.OptionOutOfRange(nameof(o.LabelHoldOutFraction), o.LabelHoldOutFraction, "0 to less than 0.5");
    }

    private static void Positive(string name, int value)
    {
        if (value <= 0)
            CoherenceThrow.OptionOutOfRange(name, value, "greater than 0");
    }

    private static void NonNegativeFinite(string name, float value)
    {
        if (!(value >= 0) || float.IsInfinity(value))
            CoherenceThrow.OptionOutOfRange(name, value, "a finite number, 0 or more");
    }

    private static void Fraction(string name, float value)
    {
        if (!(value >= 0 && value <= 1))
            CoherenceThrow.OptionOutOfRange(name, value, "0 to 1");
    }
}
