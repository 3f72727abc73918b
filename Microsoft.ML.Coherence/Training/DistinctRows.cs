using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Training;

/// <summary>The distinct row ids [U], their rows [U, d], for each of the step's row reads the slot of its id [N], and in
/// row-sparse mode the rows' optimiser batch (the table is its weights).</summary>
internal sealed record DistinctRows(Tensor Ids, Tensor Table, Tensor Slots, RowBatch? Sparse);
