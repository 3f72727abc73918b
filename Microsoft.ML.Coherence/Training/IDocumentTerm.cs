using Microsoft.ML.Coherence.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Training;

/// <summary>
/// A training term on pooled documents, with a head of its own that is not exported: the label term
/// (<see cref="LabelHead"/>) and the teacher's row distillation term (<see cref="Distillation.TeacherRowHead"/>). The
/// trainer adds <see cref="Weight"/> × <see cref="Loss"/> of every term to the step's loss (as for every
/// <see cref="ITrainingTerm"/>), and after its own update lets each term step its head. Terms draw their documents from (seed, step), so runs repeat and resume alike.
/// </summary>
internal interface IDocumentTerm : ITrainingTerm, IDisposable
{
    string ITrainingTerm.Phase => $"forward: {GetType().Name}";

    Tensor? ITrainingTerm.Loss(StepBatch batch) => Loss(batch.Model, batch.Step);

    double ITrainingTerm.WeightAt(StepBatch batch) => Weight;

    /// <summary>The term's weight in the total loss.</summary>
    float Weight { get; }

    /// <summary>This step's loss (a scalar in the caller's dispose scope), or null when the term has nothing to train on.</summary>
    Tensor? Loss(CoherenceLanguageModel model, int step);

    /// <summary>After the trainer's optimiser step: the head's own update at <paramref name="learningRate"/>, then zero_grad;
    /// <paramref name="loss"/> is this step's loss when the trainer reads its losses (one sync), else null.</summary>
    void Step(double learningRate, Tensor? loss);

    /// <summary>Drops the head's gradients (a failed step).</summary>
    void ZeroGrad();

    /// <summary>The loss of the last step whose losses were read.</summary>
    double? LastLoss { get; }
}
