namespace Microsoft.ML.Coherence.Evaluation;

/// <summary>
/// Removes the common direction of an embedding table (subtracts the mean of the known tokens' rows,
/// row 0 being the unknown token). The coherence score is taken on centred embeddings: on raw ones
/// a collapsed table, where every vector points the same way, scores near 1 (measured: see README).
/// </summary>
public static class EmbeddingCentering
{
    /// <summary>A copy of <paramref name="embeddings"/> with the mean of rows 1..n-1 subtracted from every row.</summary>
    public static EmbeddingMatrix Center(EmbeddingMatrix embeddings)
    {
        int d = embeddings.Dimension, rows = embeddings.Rows;
        var mean = new double[d];
        for (int r = 1; r < rows; r++)
        {
            var row = embeddings.Row(r);
            for (int k = 0; k < d; k++)
                mean[k] += row[k];
        }
        for (int k = 0; k < d && rows > 1; k++)
            mean[k] /= rows - 1;
        var values = (float[])embeddings.Values.Clone();
        for (int r = 0; r < rows; r++)
            for (int k = 0; k < d; k++)
                values[r * d + k] -= (float)mean[k];
        return new EmbeddingMatrix(values, d);
    }
}
