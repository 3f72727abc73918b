namespace Microsoft.ML.Coherence;

/// <summary>Training stopped because the loss or a gradient stopped being finite; the model keeps the last good weights.</summary>
public sealed class CoherenceTrainingException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public CoherenceTrainingException(string message, int step) : base(message) => Step = step;

    /// <summary>The step at which training stopped; the weights are those after step <c>Step - 1</c>.</summary>
    public int Step { get; }
}
