using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Coherence.Benchmarks;

/// <summary>
/// Where a saved stage's scoring time goes: rows per second of each prefix of its chain of built-in transforms
/// (normalise, tokenise, map to ids, ONNX graph, unit length, drop), each read through a cursor on the column that prefix
/// writes last. A step's cost is the drop from the prefix before it; the prefixes share the first steps' work, so the
/// last prefix is the whole chain's rate.
/// </summary>
internal static class ScoringBreakdown
{
    /// <summary>A prefix of the chain ending with <paramref name="Transform"/>, and the rate at which it produced <paramref name="Column"/>.</summary>
    public sealed record Step(string Transform, string Column, double RowsPerSecond);

    public static IReadOnlyList<Step> Measure(ITransformer stage, IDataView data, int repeats)
    {
        var transforms = Flatten(stage).ToList();
        var best = new double[transforms.Count];
        var columns = new string[transforms.Count];
        for (int r = 0; r < repeats; r++)
        {
            IDataView view = data;
            for (int k = 0; k < transforms.Count; k++)
            {
                view = transforms[k].Transform(view);
                var column = LastVisibleColumn(view.Schema);
                columns[k] = column.Name;
                best[k] = Math.Max(best[k], RowsPerSecond(view, column));
            }
        }

        return transforms.Select((t, k) => new Step(t.GetType().Name, columns[k], best[k])).ToList();
    }

    private static IEnumerable<ITransformer> Flatten(ITransformer transformer) =>
        transformer is IEnumerable<ITransformer> chain ? chain.SelectMany(Flatten) : [transformer];

    private static DataViewSchema.Column LastVisibleColumn(DataViewSchema schema)
    {
        for (int i = schema.Count - 1; i >= 0; i--)
        {
            if (!schema[i].IsHidden)
                return schema[i];
        }

        throw new InvalidOperationException("The chain's output has no visible column.");
    }

    /// <summary>Rows per second of reading <paramref name="column"/> of <paramref name="view"/> through a cursor, every row once.</summary>
    public static double RowsPerSecond(IDataView view, DataViewSchema.Column column)
    {
        var clock = Stopwatch.StartNew();
        long rows = column.Type switch
        {
            TextDataViewType => ReadAll<ReadOnlyMemory<char>>(view, column),
            VectorDataViewType { ItemType: TextDataViewType } => ReadAll<VBuffer<ReadOnlyMemory<char>>>(view, column),
            VectorDataViewType { ItemType: KeyDataViewType } => ReadAll<VBuffer<uint>>(view, column),
            VectorDataViewType { ItemType: NumberDataViewType } => ReadAll<VBuffer<float>>(view, column),
            _ => throw new NotSupportedException($"Column '{column.Name}' has type {column.Type}, which the breakdown does not read."),
        };
        return rows / clock.Elapsed.TotalSeconds;
    }

    private static long ReadAll<T>(IDataView view, DataViewSchema.Column column)
    {
        using var cursor = view.GetRowCursor([column]);
        var getter = cursor.GetGetter<T>(column);
        T value = default!;
        long rows = 0;
        while (cursor.MoveNext())
        {
            getter(ref value);
            rows++;
        }

        return rows;
    }
}
