using DataType = Onnx.TensorProto.Types.DataType;
using Google.Protobuf;
using Onnx;
using static Microsoft.ML.Coherence.Scoring.OnnxGraphBuilder;

namespace Microsoft.ML.Coherence.Scoring;

/// <summary>
/// Writes the trained encoder and its pooling as one ONNX graph: token ids in, one pooled
/// feature vector out. ML.NET's ONNX transformer scores it, so a saved model needs neither
/// this assembly nor TorchSharp.
/// </summary>
/// <remarks>
/// <para>Input <c>ids</c>: UINT32 <c>[1, n]</c>, the values of an ML.NET key column (key k is token id k,
/// key 0, ML.NET's missing key, is the unknown token 0). ML.NET feeds variable-length vectors only to an
/// input declared <c>[1, "n"]</c>; an empty row arrives as <c>[1, 0]</c>.</para>
/// <para>Output <c>features</c>: FLOAT <c>[D]</c>, D = d (Mean) or 2d (MeanMax), so ML.NET sees a
/// known-size <c>Vector&lt;Single, D&gt;</c>.</para>
/// <para>Static mode (no blocks) is a Gather and masked reductions. Transformer mode pads the ids with
/// zeros to c = max(1, ceil(n / L)) chunks of L, runs the blocks on <c>[c, L, d]</c> with a constant causal
/// mask (padding sits after every real token, so causality keeps it out of the real positions), then pools.
/// Pooling counts only positions whose id is not 0: mean = masked sum / max(count, 1); the max of
/// MeanMax is 0 when there is no known token. The same forward pass in plain C# is <see cref="ReferenceEncoder"/>.</para>
/// </remarks>
internal static class OnnxEncoderWriter
{
    /// <summary>ONNX IR version written (ONNX 1.12+, read by ONNX Runtime 1.31.1).</summary>
    public const long IrVersion = 8;

    /// <summary>Default-domain opset: 17 is the first with LayerNormalization; GELU is built from Erf.</summary>
    public const long OpsetVersion = 17;

    /// <summary>Default name of the graph's token-id input.</summary>
    public const string DefaultInputName = "ids";

    /// <summary>Default name of the graph's character input (subwords only).</summary>
    public const string DefaultCharsInputName = "chars";

    /// <summary>Default name of the graph's feature output.</summary>
    public const string DefaultOutputName = "features";

    /// <summary>Length D of the pooled feature vector: d for Mean, 2d for MeanMax.</summary>
    public static int FeatureLength(CoherenceEncoderWeights weights, CoherencePooling pooling)
    {
        ArgumentNullException.ThrowIfNull(weights);
        return pooling switch
        {
            CoherencePooling.Mean => weights.Dimension,
            CoherencePooling.MeanMax => 2 * weights.Dimension,
            CoherencePooling.Sif => weights.Dimension,
            _ => throw new ArgumentOutOfRangeException(nameof(pooling), pooling, "Pooling must be Mean, MeanMax or Sif."),
        };
    }

    /// <summary>Serialises the encoder graph (see <see cref="CreateModel"/>) to bytes.</summary>
    public static byte[] WriteBytes(
        CoherenceEncoderWeights weights,
        CoherencePooling pooling,
        string inputName = DefaultInputName,
        string outputName = DefaultOutputName,
        string charsInputName = DefaultCharsInputName) =>
        CreateModel(weights, pooling, inputName, outputName, charsInputName).ToByteArray();

    /// <summary>Writes the encoder graph (see <see cref="CreateModel"/>) to a file, replacing it.</summary>
    public static void WriteFile(
        string path,
        CoherenceEncoderWeights weights,
        CoherencePooling pooling,
        string inputName = DefaultInputName,
        string outputName = DefaultOutputName,
        string charsInputName = DefaultCharsInputName)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var model = CreateModel(weights, pooling, inputName, outputName, charsInputName);
        using var file = File.Create(path);
        model.WriteTo(file);
    }

    /// <summary>
    /// Builds the ONNX model: input <paramref name="inputName"/> UINT32 [1, "n"] (and with subwords
    /// <paramref name="charsInputName"/> UINT16 [1, "m"], see <see cref="OnnxSubwordWriter"/>), output
    /// <paramref name="outputName"/> FLOAT [<see cref="FeatureLength"/>].
    /// </summary>
    public static ModelProto CreateModel(
        CoherenceEncoderWeights weights,
        CoherencePooling pooling,
        string inputName = DefaultInputName,
        string outputName = DefaultOutputName,
        string charsInputName = DefaultCharsInputName)
    {
        ArgumentNullException.ThrowIfNull(weights);
        weights.ThrowIfInvalid(nameof(weights));
        ArgumentException.ThrowIfNullOrEmpty(inputName);
        ArgumentException.ThrowIfNullOrEmpty(outputName);
        if (inputName == outputName)
        {
            throw new ArgumentException($"The input and output names must differ; both are '{inputName}'.", nameof(outputName));
        }

        var featureLength = FeatureLength(weights, pooling);
        var g = new OnnxGraphBuilder();
        g.Graph.Input.Add(Value(inputName, DataType.Uint32, 1, "n"));
        if (weights.HasSubwords)
        {
            ArgumentException.ThrowIfNullOrEmpty(charsInputName);
            if (charsInputName == inputName || charsInputName == outputName)
                throw new ArgumentException($"The character input's name '{charsInputName}' must differ from the other names.", nameof(charsInputName));
            g.Graph.Input.Add(Value(charsInputName, DataType.Uint16, 1, "m"));
        }

        g.Graph.Output.Add(Value(outputName, DataType.Float, featureLength));

        // ML.NET cannot convert a key column to Int64, so the cast happens here: [1, n] int64.
        var ids = g.Node("Cast", [inputName], Int("to", (long)DataType.Int64));

        string states;
        string? known = null; // [1, N] bool: the positions pooled; by default those whose id is not 0
        if (weights.Layers == 0)
        {
            // Row 0 (unknown) never reaches the pooled output, so a zeroed copy of it lets the
            // masked sum skip a multiply: H = E0[ids], [1, n, d].
            var table = (float[])weights.Embeddings.Clone();
            Array.Clear(table, 0, weights.Dimension);
            var embeddings = g.Floats("embeddings", table, weights.VocabularySize, weights.Dimension);
            if (weights.HasSubwords)
            {
                (states, known) = OnnxSubwordWriter.Write(g, weights, ids, embeddings, charsInputName);
            }
            else
            {
                states = g.Node("Gather", [embeddings, ids], Int("axis", 0));
            }
        }
        else
        {
            (states, ids) = WriteTransformer(g, weights, ids);
        }

        known ??= g.Node("Greater", [ids, g.Int64s("zero_id", [0])]);

        if (pooling == CoherencePooling.Sif && weights.TokenWeights.Length > 0)
        {
            // SIF: each state times its token's weight (the unknown row's weight is irrelevant: it is masked or zero).
            var tokenWeights = g.Floats("sif_token_weights", weights.TokenWeights, weights.VocabularySize, 1);
            states = g.Node("Mul", [states, g.Node("Gather", [tokenWeights, ids], Int("axis", 0))]); // [1, n, d] * [1, n, 1]
        }

        WritePooling(g, weights, pooling, states, known, maskStates: weights.Layers > 0, outputName);

        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "Microsoft.ML.Coherence",
            ProducerVersion = typeof(OnnxEncoderWriter).Assembly.GetName().Version?.ToString() ?? "0",
            DocString = $"Coherence encoder: {weights.Layers} blocks, d = {weights.Dimension}, pooling {pooling}.",
            Graph = g.Graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OpsetVersion });
        return model;
    }

    /// <summary>Pads to chunks of L, runs the blocks; returns states [1, cL, d] and the padded ids [1, cL].</summary>
    private static (string States, string Ids) WriteTransformer(OnnxGraphBuilder g, CoherenceEncoderWeights w, string ids)
    {
        long d = w.Dimension;
        long contextLength = w.ContextLength;

        // c = max(1, ceil(n / L)) chunks; at least one so an empty row never meets a zero-sized batch.
        var n = g.Node("Shape", [ids], Int("start", 1), Int("end", 2));
        var roundUp = g.Node("Add", [n, g.Vector("context_minus_one", contextLength - 1)]);
        var contextVector = g.Vector("context_length", contextLength);
        var chunks = g.Node("Max", [g.Node("Div", [roundUp, contextVector]), g.Vector("one_chunk", 1)]);
        var padAmount = g.Node("Sub", [g.Node("Mul", [chunks, contextVector]), n]);
        var pads = g.Node("Concat", [g.Vector("pad_before", 0, 0, 0), padAmount], Int("axis", 0));
        var padded = g.Node("Pad", [ids, pads]);                                         // [1, cL], zeros appended
        var chunked = g.Node("Reshape", [padded, g.Vector("chunk_shape", -1, contextLength)]); // [c, L]

        var embeddings = g.Floats("embeddings", w.Embeddings, w.VocabularySize, d);
        var positions = g.Floats("positions", w.Positions, contextLength, d);
        var h = g.Node("Add", [g.Node("Gather", [embeddings, chunked], Int("axis", 0)), positions]); // [c, L, d]

        var causal = new float[contextLength * contextLength];
        for (var i = 0; i < contextLength; i++)
        {
            for (var j = i + 1; j < contextLength; j++)
            {
                causal[(i * contextLength) + j] = float.NegativeInfinity;
            }
        }

        var shared = new BlockConstants(
            Mask: g.Floats("causal_mask", causal, contextLength, contextLength),
            Scale: g.Scalar("attention_scale", 1f / MathF.Sqrt(w.HeadDimension)),
            Half: g.Scalar("half", 0.5f),
            One: g.Scalar("one", 1f),
            InverseSqrt2: g.Scalar("inverse_sqrt2", 1f / MathF.Sqrt(2f)),
            HeadShape: g.Vector("head_shape", 0, 0, w.Heads, w.HeadDimension),
            MergedShape: g.Vector("merged_shape", 0, 0, d));

        for (var layer = 0; layer < w.Layers; layer++)
        {
            h = WriteBlock(g, w, layer, h, shared);
        }

        var final = LayerNorm(g, h, g.Floats("final_norm_weight", w.FinalNormWeight, d), g.Floats("final_norm_bias", w.FinalNormBias, d));
        var states = g.Node("Reshape", [final, g.Vector("flat_shape", 1, -1, d)]);       // [1, cL, d]
        return (states, padded);
    }

    private sealed record BlockConstants(string Mask, string Scale, string Half, string One, string InverseSqrt2, string HeadShape, string MergedShape);

    private static string WriteBlock(OnnxGraphBuilder g, CoherenceEncoderWeights w, int layer, string h, BlockConstants k)
    {
        var b = w.Blocks[layer];
        int d = w.Dimension;
        var p = $"block{layer}_";

        var a = LayerNorm(g, h, g.Floats(p + "norm1_weight", b.Norm1Weight, d), g.Floats(p + "norm1_bias", b.Norm1Bias, d));

        // q, k, v are rows [0, d), [d, 2d), [2d, 3d) of Wqkv (out, in); each is split into H heads
        // of d/H contiguous columns: [c, L, d] -> [c, L, H, d/H] -> [c, H, L, d/H].
        string Project(int part, string name)
        {
            var weight = Transposed(b.QkvWeight.AsSpan(part * d * d, d * d), d, d);
            var bias = b.QkvBias.AsSpan(part * d, d);
            return Linear(g, a, g.Floats(p + name + "_weight_t", weight, d, d), g.Floats(p + name + "_bias", bias, d));
        }

        var q = g.Node("Transpose", [g.Node("Reshape", [Project(0, "q"), k.HeadShape])], Ints("perm", 0, 2, 1, 3));
        var kt = g.Node("Transpose", [g.Node("Reshape", [Project(1, "k"), k.HeadShape])], Ints("perm", 0, 2, 3, 1));
        var v = g.Node("Transpose", [g.Node("Reshape", [Project(2, "v"), k.HeadShape])], Ints("perm", 0, 2, 1, 3));

        var scores = g.Node("Add", [g.Node("Mul", [g.Node("MatMul", [q, kt]), k.Scale]), k.Mask]); // [c, H, L, L]
        var attention = g.Node("Softmax", [scores], Int("axis", -1));
        var heads = g.Node("MatMul", [attention, v]);                                            // [c, H, L, d/H]
        var merged = g.Node("Reshape", [g.Node("Transpose", [heads], Ints("perm", 0, 2, 1, 3)), k.MergedShape]);
        var attended = Linear(g, merged, g.Floats(p + "out_weight_t", Transposed(b.OutWeight, d, d), d, d), g.Floats(p + "out_bias", b.OutBias, d));
        h = g.Node("Add", [h, attended]);

        var m = LayerNorm(g, h, g.Floats(p + "norm2_weight", b.Norm2Weight, d), g.Floats(p + "norm2_bias", b.Norm2Bias, d));
        var u = Linear(g, m, g.Floats(p + "mlp1_weight_t", Transposed(b.Mlp1Weight, 4 * d, d), d, 4 * d), g.Floats(p + "mlp1_bias", b.Mlp1Bias, 4 * d));

        // Exact GELU, 0.5 u (1 + erf(u / sqrt 2)), as torch.nn.GELU() computes it.
        var erf = g.Node("Erf", [g.Node("Mul", [u, k.InverseSqrt2])]);
        var gelu = g.Node("Mul", [g.Node("Mul", [u, k.Half]), g.Node("Add", [erf, k.One])]);
        var mlp = Linear(g, gelu, g.Floats(p + "mlp2_weight_t", Transposed(b.Mlp2Weight, d, 4 * d), 4 * d, d), g.Floats(p + "mlp2_bias", b.Mlp2Bias, d));
        return g.Node("Add", [h, mlp]);
    }

    /// <summary>Masked mean (and max) over the positions <paramref name="known"/> ([1, N] bool) marks, written to <paramref name="outputName"/>.</summary>
    private static void WritePooling(OnnxGraphBuilder g, CoherenceEncoderWeights weights, CoherencePooling pooling, string states, string known,
        bool maskStates, string outputName)
    {
        int d = weights.Dimension;
        var positionAxis = g.Vector("position_axis", 1);
        var knownFloat = g.Node("Cast", [known], Int("to", (long)DataType.Float));
        var count = g.Node("ReduceSum", [knownFloat, positionAxis], Int("keepdims", 1)); // [1, 1]

        var maskedStates = maskStates
            ? g.Node("Mul", [states, g.Node("Unsqueeze", [knownFloat, g.Vector("last_axis", 2)])])
            : states;                                                                   // static: E0 row is zero
        var sum = g.Node("ReduceSum", [maskedStates, positionAxis], Int("keepdims", 0)); // [1, d]
        var mean = g.Node("Div", [sum, g.Node("Max", [count, g.Scalar("min_count", 1f)])]);

        var pooled = mean;
        if (pooling == CoherencePooling.MeanMax)
        {
            // Unknown positions become -inf; one extra -inf row keeps ReduceMax off an empty axis.
            var negativeInfinity = g.Scalar("negative_infinity", float.NegativeInfinity);
            var known3 = g.Node("Unsqueeze", [known, g.Vector("mask_axis", 2)]);
            var candidates = g.Node("Where", [known3, states, negativeInfinity]);
            var sentinel = g.Floats("max_sentinel", Enumerable.Repeat(float.NegativeInfinity, d).ToArray(), 1, 1, d);
            var withSentinel = g.Node("Concat", [candidates, sentinel], Int("axis", 1));
            var max = g.Node("ReduceMax", [withSentinel], Ints("axes", 1), Int("keepdims", 0)); // [1, d]
            var anyKnown = g.Node("Greater", [count, g.Scalar("zero_count", 0f)]);
            var maxOrZero = g.Node("Where", [anyKnown, max, g.Scalar("zero", 0f)]);
            pooled = g.Node("Concat", [mean, maxOrZero], Int("axis", 1));               // [1, 2d]
        }

        if (pooling == CoherencePooling.Sif && weights.CommonComponent.Length > 0)
        {
            // v - (v·u) u = v (I - u uᵀ): one MatMul with a constant [d, d].
            var u = weights.CommonComponent;
            var projection = new float[d * d];
            for (var i = 0; i < d; i++)
            {
                for (var j = 0; j < d; j++)
                {
                    projection[(i * d) + j] = (i == j ? 1f : 0f) - (u[i] * u[j]);
                }
            }

            pooled = g.Node("MatMul", [pooled, g.Floats("sif_remove_common_component", projection, d, d)]);
        }

        var featureLength = pooling == CoherencePooling.MeanMax ? 2L * d : d;
        g.Node("Reshape", [pooled, g.Vector("feature_shape", featureLength)], outputName);
    }

    private static string LayerNorm(OnnxGraphBuilder g, string x, string weight, string bias) =>
        g.Node("LayerNormalization", [x, weight, bias], Int("axis", -1), Float("epsilon", CoherenceEncoderWeights.LayerNormEpsilon));

    private static string Linear(OnnxGraphBuilder g, string x, string weightTransposed, string bias) =>
        g.Node("Add", [g.Node("MatMul", [x, weightTransposed]), bias]);

    /// <summary>Row-major [rows, cols] -> [cols, rows], so that x W^T is a plain MatMul.</summary>
    private static float[] Transposed(ReadOnlySpan<float> weight, int rows, int cols)
    {
        var result = new float[weight.Length];
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < cols; c++)
            {
                result[(c * rows) + r] = weight[(r * cols) + c];
            }
        }

        return result;
    }
}
