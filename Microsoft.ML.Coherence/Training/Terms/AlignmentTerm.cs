namespace Microsoft.ML.Coherence.Training;

/// <summary>
/// L_align, weighted by the coherence weight after its warm-up ramp: each anchor's distribution over its neighbours and
/// the shared negatives pulled toward the statistical field's (<see cref="CoherenceAlignmentLoss"/>), on unit rows.
/// Absent on steps without an alignment batch (the baseline, too few anchors, a zero weight).
/// </summary>
internal sealed class AlignmentTerm(float temperature) : ITrainingTerm
{
    public string Phase => "forward: alignment";

    public double WeightAt(StepBatch batch) => batch.CoherenceWeight;

    public TorchSharp.torch.Tensor? Loss(StepBatch batch)
    {
        if (batch.Alignment is null)
            return null;
        var rows = batch.UnitCoherenceRows();
        return CoherenceAlignmentLoss.Compute(rows.Anchors, rows.Neighbors!, rows.Negatives!, batch.Alignment, temperature);
    }
}
