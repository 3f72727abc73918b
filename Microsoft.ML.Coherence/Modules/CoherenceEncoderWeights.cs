namespace Microsoft.ML.Coherence.Modules;

/// <summary>
/// The trained encoder as plain arrays (row-major), independent of TorchSharp: what the ONNX
/// scoring graph is written from, and what the exports read.
/// </summary>
/// <remarks>
/// Architecture (pre-LayerNorm causal Transformer, GPT-2 style, tied input/output embeddings):
/// <code>
/// static (Layers = 0):  H = E[ids]
/// Layers &gt; 0:          h = E[ids] + P[0..L)                 (ids in chunks of L = ContextLength)
///   per block:          a = LN1(h); [q k v] = a Wqkv^T + bqkv  (heads split q,k,v along d in order)
///                       h = h + softmax(q k^T / sqrt(d/H) + causal) v  Wo^T + bo
///                       m = LN2(h); h = h + gelu(m W1^T + b1) W2^T + b2   (exact erf GELU)
///                       H = LNf(h)                                 (LayerNorm epsilon 1e-5)
/// </code>
/// </remarks>
internal sealed class CoherenceEncoderWeights
{
    /// <summary>LayerNorm epsilon used everywhere.</summary>
    public const float LayerNormEpsilon = 1e-5f;

    public required int VocabularySize { get; init; }
    public required int Dimension { get; init; }
    public required int Heads { get; init; }
    /// <summary>Chunk length L (the training sequence length); unused in static mode.</summary>
    public required int ContextLength { get; init; }

    /// <summary>Token embeddings E, [VocabularySize, Dimension]; row 0 is the unknown token.</summary>
    public required float[] Embeddings { get; init; }

    /// <summary>Learned positions P, [ContextLength, Dimension]; empty in static mode.</summary>
    public float[] Positions { get; init; } = [];

    public IReadOnlyList<CoherenceBlockWeights> Blocks { get; init; } = [];

    /// <summary>Final LayerNorm scale and shift, [Dimension] each; empty in static mode.</summary>
    public float[] FinalNormWeight { get; init; } = [];
    public float[] FinalNormBias { get; init; } = [];

    public int Layers => Blocks.Count;

    /// <summary>Columns per attention head, d / H.</summary>
    public int HeadDimension => Dimension / Heads;

    /// <summary>
    /// Throws <see cref="ArgumentException"/> (naming <paramref name="paramName"/>) when a size
    /// is out of range or an array's length does not match the shape in the remarks.
    /// </summary>
    public void ThrowIfInvalid(string paramName)
    {
        if (VocabularySize < 1)
        {
            Throw(paramName, $"VocabularySize is {VocabularySize}; it must be at least 1 (row 0 is the unknown token).");
        }

        if (Dimension < 1)
        {
            Throw(paramName, $"Dimension is {Dimension}; it must be at least 1.");
        }

        long d = Dimension;
        CheckLength(paramName, nameof(Embeddings), Embeddings, (long)VocabularySize * d);

        if (Layers == 0)
        {
            return;
        }

        if (Heads < 1 || Dimension % Heads != 0)
        {
            Throw(paramName, $"Heads is {Heads}; it must be at least 1 and divide Dimension ({Dimension}).");
        }

        if (ContextLength < 1)
        {
            Throw(paramName, $"ContextLength is {ContextLength}; it must be at least 1 when Layers > 0.");
        }

        CheckLength(paramName, nameof(Positions), Positions, ContextLength * d);
        CheckLength(paramName, nameof(FinalNormWeight), FinalNormWeight, d);
        CheckLength(paramName, nameof(FinalNormBias), FinalNormBias, d);
        for (var i = 0; i < Blocks.Count; i++)
        {
            CheckBlock(paramName, i, d);
        }
    }

    private void CheckBlock(string paramName, int i, long d)
    {
        var b = Blocks[i] ?? throw new ArgumentException($"Blocks[{i}] is null.", paramName);
        var prefix = $"Blocks[{i}].";
        CheckLength(paramName, prefix + nameof(b.Norm1Weight), b.Norm1Weight, d);
        CheckLength(paramName, prefix + nameof(b.Norm1Bias), b.Norm1Bias, d);
        CheckLength(paramName, prefix + nameof(b.QkvWeight), b.QkvWeight, 3 * d * d);
        CheckLength(paramName, prefix + nameof(b.QkvBias), b.QkvBias, 3 * d);
        CheckLength(paramName, prefix + nameof(b.OutWeight), b.OutWeight, d * d);
        CheckLength(paramName, prefix + nameof(b.OutBias), b.OutBias, d);
        CheckLength(paramName, prefix + nameof(b.Norm2Weight), b.Norm2Weight, d);
        CheckLength(paramName, prefix + nameof(b.Norm2Bias), b.Norm2Bias, d);
        CheckLength(paramName, prefix + nameof(b.Mlp1Weight), b.Mlp1Weight, 4 * d * d);
        CheckLength(paramName, prefix + nameof(b.Mlp1Bias), b.Mlp1Bias, 4 * d);
        CheckLength(paramName, prefix + nameof(b.Mlp2Weight), b.Mlp2Weight, 4 * d * d);
        CheckLength(paramName, prefix + nameof(b.Mlp2Bias), b.Mlp2Bias, d);
    }

    private static void CheckLength(string paramName, string name, float[]? values, long expected)
    {
        if (values is null || values.LongLength != expected)
        {
            Throw(paramName, $"{name} has {values?.LongLength.ToString() ?? "no"} values; expected {expected} for the sizes given.");
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void Throw(string paramName, string message) =>
        throw new ArgumentException("Invalid encoder weights: " + message, paramName);
}

/// <summary>One Transformer block's parameters, row-major, shapes as in torch.nn.Linear (out, in).</summary>
internal sealed class CoherenceBlockWeights
{
    public required float[] Norm1Weight { get; init; }   // [d]
    public required float[] Norm1Bias { get; init; }     // [d]
    public required float[] QkvWeight { get; init; }     // [3d, d]
    public required float[] QkvBias { get; init; }       // [3d]
    public required float[] OutWeight { get; init; }     // [d, d]
    public required float[] OutBias { get; init; }       // [d]
    public required float[] Norm2Weight { get; init; }   // [d]
    public required float[] Norm2Bias { get; init; }     // [d]
    public required float[] Mlp1Weight { get; init; }    // [4d, d]
    public required float[] Mlp1Bias { get; init; }      // [4d]
    public required float[] Mlp2Weight { get; init; }    // [d, 4d]
    public required float[] Mlp2Bias { get; init; }      // [d]
}
