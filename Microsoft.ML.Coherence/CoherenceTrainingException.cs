namespace Microsoft.ML.Coherence;

/// <summary>
/// Training stopped before its last step: the loss or a gradient stopped being finite, or libtorch failed
/// mid-step (the cause is then the <see cref="Exception.InnerException"/>). <see cref="LastGoodModel"/> keeps the
/// weights of the last completed step, and a run with <see cref="CoherenceEmbeddingOptions.CheckpointDirectory"/>
/// set can be resumed from there.
/// </summary>
public sealed class CoherenceTrainingException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public CoherenceTrainingException(string message, int step, CoherenceEmbeddingModel? lastGoodModel = null)
        : this(message, step, lastGoodModel, innerException: null)
    {
    }

    /// <summary>Creates the exception with the failure that stopped training.</summary>
    public CoherenceTrainingException(string message, int step, CoherenceEmbeddingModel? lastGoodModel, Exception? innerException)
        : base(message, innerException)
    {
        Step = step;
        LastGoodModel = lastGoodModel;
    }

    /// <summary>The model with the weights of the last good step (when the run got that far).</summary>
    public CoherenceEmbeddingModel? LastGoodModel { get; }

    /// <summary>The step at which training stopped; the weights are those after step <c>Step - 1</c>.</summary>
    public int Step { get; }
}
