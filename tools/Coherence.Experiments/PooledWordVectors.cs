using Microsoft.ML;
using Microsoft.ML.Coherence.Text;
using Microsoft.ML.Data;

namespace Coherence.Experiments;

/// <summary>
/// A peer's word vectors as row features, pooled by ML.NET's own <c>ApplyWordEmbedding</c> with a custom
/// <c>.vec</c> file: the stage's tokens, then the mean of the vectors of the row's words that the file has
/// (zero when it has none), which is how the stage pools its own embeddings.
/// </summary>
/// <remarks>
/// ApplyWordEmbedding emits the minimum, the mean and the maximum per dimension, one after the other
/// (3 x d values); only the middle third, the mean, is kept, so the comparison with the stage's mean
/// pooling is like for like. ML.NET caches a custom model by its path within a process, so every .vec
/// must have a path of its own.
/// </remarks>
internal static class PooledWordVectors
{
    private const string TokensColumn = "__PeerTokens__";
    private const string PooledColumn = "__PeerMinMeanMax__";

    /// <summary>
    /// Text column <paramref name="textColumn"/> to a d-long mean vector in <paramref name="outputColumn"/>, tokenised as
    /// the stage tokenises with <paramref name="splitPunctuation"/> (its <c>SplitPunctuation</c> option).
    /// </summary>
    public static IEstimator<ITransformer> Create(MLContext ml, string outputColumn, string textColumn, string vecPath, int dimension, bool splitPunctuation)
    {
        // The indexer finds a column by its column name, so each column is fetched once, then renamed.
        var input = SchemaDefinition.Create(typeof(MinMeanMax));
        var inputColumn = input[nameof(MinMeanMax.Values)];
        inputColumn.ColumnName = PooledColumn;
        inputColumn.ColumnType = new VectorDataViewType(NumberDataViewType.Single, 3 * dimension);
        var output = SchemaDefinition.Create(typeof(Mean));
        var meanColumn = output[nameof(Mean.Values)];
        meanColumn.ColumnName = outputColumn;
        meanColumn.ColumnType = new VectorDataViewType(NumberDataViewType.Single, dimension);
        return new CoherenceTokenizer(ml, splitPunctuation).CreateEstimator(TokensColumn, textColumn)
            .Append(ml.Transforms.Text.ApplyWordEmbedding(PooledColumn, vecPath, TokensColumn))
            .Append(ml.Transforms.CustomMapping<MinMeanMax, Mean>(
                (source, target) => target.Values = source.Values.AsSpan(dimension, dimension).ToArray(), null, input, output))
            .Append(ml.Transforms.DropColumns(TokensColumn, PooledColumn));
    }

    private sealed class MinMeanMax
    {
        public float[] Values { get; set; } = [];
    }

    private sealed class Mean
    {
        public float[] Values { get; set; } = [];
    }
}
