using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Training;

/// <summary>
/// One step's rows of a <see cref="RowSparseAdamW"/> table, gathered and caught up by <see cref="RowSparseAdamW.Gather"/>:
/// the weights the step reads and the moments its update starts from, held until
/// <see cref="RowSparseAdamW.Step(RowBatch, Tensor)"/> updates them and writes them back in one pass.
/// </summary>
internal sealed class RowBatch
{
    internal RowBatch(int table, Tensor rows, Tensor weights, Tensor first, Tensor second)
    {
        Table = table;
        Rows = rows;
        Weights = weights;
        First = first;
        Second = second;
    }

    /// <summary>The table's index in <see cref="RowSparseAdamW.Tables"/>.</summary>
    internal int Table { get; }

    /// <summary>[U] int64 distinct row ids.</summary>
    public Tensor Rows { get; }

    /// <summary>[U, d] the rows' weights, caught up: what dense AdamW would hold before this step.</summary>
    public Tensor Weights { get; }

    /// <summary>[U, d] the rows' first moments, caught up.</summary>
    internal Tensor First { get; }

    /// <summary>[U, d] the rows' second moments, caught up.</summary>
    internal Tensor Second { get; }

    internal void MoveToOuterDisposeScope()
    {
        foreach (var tensor in new[] { Rows, Weights, First, Second })
            tensor.MoveToOuterDisposeScope();
    }
}
