using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Training;

/// <summary>
/// One term of the training loss. Each step the trainer asks every enabled term, in order, for its loss on the step's
/// batch (<see cref="StepBatch"/>: the ids and the distinct rows all terms read) and adds weight × loss to the total:
/// the language model (<see cref="LanguageModelTerm"/>), coherence alignment (<see cref="AlignmentTerm"/>), uniformity
/// (<see cref="UniformityTerm"/>), then the document terms with heads of their own (<see cref="IDocumentTerm"/>: labels,
/// the teacher's rows). A new term is a new class here, not an edit of the loop.
/// </summary>
internal interface ITrainingTerm
{
    /// <summary>The name the step's phase timing records this term's forward under.</summary>
    string Phase { get; }

    /// <summary>The term's unweighted loss (a scalar in the step's dispose scope), or null when it has nothing to train on this step.</summary>
    Tensor? Loss(StepBatch batch);

    /// <summary>The term's weight at this step.</summary>
    double WeightAt(StepBatch batch);
}
