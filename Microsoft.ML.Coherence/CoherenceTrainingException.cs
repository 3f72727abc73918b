namespace Microsoft.ML.Coherence;

/// <summary>Training stopped because the loss or a gradient stopped being finite; the model keeps the last good weights.</summary>
public sealed class CoherenceTrainingException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public CoherenceTrainingException(string message, int step, CoherenceEmbeddingModel? lastGoodModel = null) : base(message)
    {
        Step = step;
        LastGoodModel = lastGoodModel;
    }

    /// <summary>The model with the weights of the last good step (when the run got that far).</summary>
    public CoherenceEmbeddingModel? LastGoodModel { get; }

    /// <summary>The step at which training stopped; the weights are those after step <c>Step - 1</c>.</summary>
    public int Step { get; }
}
