namespace Microsoft.ML.Coherence.Training;

/// <summary>
/// L_unif, weighted by <see cref="CoherenceEmbeddingOptions.UniformityWeight"/>: the anchors' unit rows spread over the
/// sphere (<see cref="UniformityLoss"/>), which keeps alignment from collapsing them. Absent when the step has no anchors
/// or the weight is 0.
/// </summary>
internal sealed class UniformityTerm(float weight) : ITrainingTerm
{
    public string Phase => "forward: uniformity";

    public double WeightAt(StepBatch batch) => weight;

    public TorchSharp.torch.Tensor? Loss(StepBatch batch) =>
        weight > 0 && batch.Ids.AnchorCount > 0 ? UniformityLoss.FromUnitVectors(batch.UnitCoherenceRows().Anchors) : null;
}
