using Microsoft.ML.Coherence.Internal;
namespace Microsoft.ML.Coherence.Evaluation;

/// <summary>
/// A row-major embedding matrix E of shape [<see cref="Rows"/>, <see cref="Dimension"/>] over a
/// <see cref="float"/> array; row i is token i's embedding and row 0 is the unknown token.
/// The array is not copied: metrics read it in place.
/// </summary>
public readonly struct EmbeddingMatrix
{
    /// <summary>Wraps <paramref name="values"/> (length Rows x <paramref name="dimension"/>) as a matrix with <paramref name="dimension"/> columns.</summary>
    /// <param name="values">Row-major values; its length must be a multiple of <paramref name="dimension"/>.</param>
    /// <param name="dimension">The embedding dimension d, at least 1.</param>
    public EmbeddingMatrix(float[] values, int dimension)
    {
        CoherenceThrow.IfNull(values, nameof(values));
        if (dimension < 1)
        {
            CoherenceThrow.ValueOutOfRange(nameof(dimension), dimension, "at least 1");
        }

        if (values.Length % dimension != 0)
        {
            CoherenceThrow.Argument(nameof(values), $"'values' has length {values.Length}, which is not a multiple of the dimension {dimension}.");
        }

        Values = values;
        Dimension = dimension;
        Rows = values.Length / dimension;
    }

    /// <summary>The row-major values, length <see cref="Rows"/> x <see cref="Dimension"/>.</summary>
    public float[] Values { get; }

    /// <summary>The number of rows (tokens) n.</summary>
    public int Rows { get; }

    /// <summary>The number of columns (embedding dimension) d.</summary>
    public int Dimension { get; }

    /// <summary>Row <paramref name="row"/> as a span of length <see cref="Dimension"/>.</summary>
    /// <param name="row">The row (token id), in [0, <see cref="Rows"/>).</param>
    public ReadOnlySpan<float> Row(int row) => new(Values, row * Dimension, Dimension);

    /// <summary>
    /// A copy without row 0 (the unknown token), for the matrix-level metrics of
    /// <see cref="EmbeddingMetrics"/>, which use every row they are given.
    /// </summary>
    public EmbeddingMatrix WithoutUnknown()
    {
        if (Rows < 1)
        {
            CoherenceThrow.Argument("embeddings", "The matrix has no rows, so it has no unknown row to drop.");
        }

        return new EmbeddingMatrix(Values.AsSpan(Dimension).ToArray(), Dimension);
    }

    internal void ThrowIfEmpty(string paramName)
    {
        if (Values is null)
        {
            CoherenceThrow.Argument(paramName, $"'{paramName}' is a default EmbeddingMatrix with no values; construct it with new EmbeddingMatrix(values, dimension).");
        }
    }
}
