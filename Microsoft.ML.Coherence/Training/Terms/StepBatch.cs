using Microsoft.ML.Coherence.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Training;

/// <summary>
/// What a step's terms read: the model, the step's ids on the device, the distinct rows every term gathers from (one
/// [U, d] table, <see cref="DistinctRows"/>), the alignment batch (null when that term is off this step) and the run's
/// inputs. The slots list the rows in the order the terms read them: inputs, targets, LM negatives, then the anchors,
/// their neighbours and the alignment negatives.
/// </summary>
internal sealed class StepBatch(CoherenceLanguageModel model, int step, RunInputs run, StepIds ids, DistinctRows rows,
    AlignmentTensors? alignment, double coherenceWeight)
{
    private CoherenceRows? _coherenceRows;

    public CoherenceLanguageModel Model { get; } = model;

    public int Step { get; } = step;

    public RunInputs Run { get; } = run;

    public StepIds Ids { get; } = ids;

    public DistinctRows Rows { get; } = rows;

    public AlignmentTensors? Alignment { get; } = alignment;

    /// <summary>The alignment term's weight this step (the coherence weight after its warm-up ramp).</summary>
    public double CoherenceWeight { get; } = coherenceWeight;

    /// <summary>Row reads of the language model, the first in the slots: inputs and targets (B·T each) and the LM negatives.</summary>
    public int LanguageModelRows => 2 * Run.Batch * Run.Time + Ids.SampledCount;

    /// <summary>
    /// The coherence rows, L2-normalised once for the terms that read them: the distinct rows are normalised, then
    /// expanded to the anchors and, with an alignment batch, their neighbours [A, K, d] and the negatives.
    /// </summary>
    public CoherenceRows UnitCoherenceRows()
    {
        if (_coherenceRows is { } rows)
            return rows;
        int anchors = Ids.AnchorCount;
        var unit = nn.functional.normalize(Rows.Table, p: 2, dim: 1)
            .index_select(0, Rows.Slots.narrow(0, LanguageModelRows, Alignment?.RowCount ?? anchors));
        if (Alignment is null)
            return _coherenceRows = new CoherenceRows(unit, null, null);
        var parts = unit.split([anchors, anchors * Alignment.K, Alignment.NegativeCount]);
        return _coherenceRows = new CoherenceRows(parts[0], parts[1].view(anchors, Alignment.K, Model.Dimension), parts[2]);
    }

    /// <summary>Unit rows of the anchors [A, d] and, with an alignment batch, of their neighbours [A, K, d] and the negatives [M, d].</summary>
    public sealed record CoherenceRows(Tensor Anchors, Tensor? Neighbors, Tensor? Negatives);
}
