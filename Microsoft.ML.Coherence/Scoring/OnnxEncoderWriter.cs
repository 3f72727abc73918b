using DataType = Onnx.TensorProto.Types.DataType;
using Google.Protobuf;
using Onnx;
using Microsoft.ML.Coherence.Modules;
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
/// <para>Static mode (no blocks) is a Gather and masked reductions (with word bigrams, <see cref="OnnxBigramWriter"/>
/// appends the bigram vectors to the words' states first). Transformer mode computes only the row's
/// real positions: the whole chunks of L as one batch <c>[floor(n / L), L, d]</c> and the last, shorter chunk as
/// <c>[1, n mod L, d]</c>, each with the causal mask cut to its length (the blocks' weights are shared by both
/// passes), then pools. ML.NET's ONNX transformer still calls the graph once per row, so rows are not batched
/// across a call; that limit is ML.NET's.
/// Pooling counts only positions whose id is not 0: mean = masked sum / max(count, 1); the max of
/// MeanMax is 0 when there is no known token. The same forward pass in plain C# is the tests' ReferenceEncoder (the oracle).</para>
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
        if (weights.HasBigrams)
        {
            (states, known) = OnnxBigramWriter.Write(g, weights, ids, states, known);
        }

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

    /// <summary>
    /// Runs the blocks over the row's real positions only, as the tests' ReferenceEncoder does: the f = floor(n / L)
    /// whole chunks as one batch [f, L] and the last, shorter chunk of r = n - fL positions as a batch [1, r] (either may
    /// be empty); no padding. Returns states [1, n, d] and the ids [1, n].
    /// </summary>
    private static (string States, string Ids) WriteTransformer(OnnxGraphBuilder g, CoherenceEncoderWeights w, string ids)
    {
        long d = w.Dimension;
        long contextLength = w.ContextLength;

        var n = g.Node("Shape", [ids], Int("start", 1), Int("end", 2));                   // [1]
        var contextVector = g.Vector("context_length", contextLength);
        var chunks = g.Node("Div", [n, contextVector]);                                      // [1] f (integer division)
        var whole = g.Node("Mul", [chunks, contextVector]);                                  // [1] fL
        var rest = g.Node("Sub", [n, whole]);                                                // [1] r
        var first = g.Vector("first_index", 0);
        var axis0 = g.Vector("axis_zero", 0);
        var axis1 = g.Vector("axis_one", 1);
        // allowzero: a computed size of 0 (no whole chunk) means 0, not "copy the input's size".
        var wholeIds = g.Node("Reshape", [g.Node("Slice", [ids, first, whole, axis1]), g.Node("Concat", [chunks, contextVector], Int("axis", 0))],
            Int("allowzero", 1));                                                             // [f, L]
        var restIds = g.Node("Slice", [ids, whole, n, axis1]);                               // [1, r]

        var causal = new float[contextLength * contextLength];
        for (var i = 0; i < contextLength; i++)
        {
            for (var j = i + 1; j < contextLength; j++)
            {
                causal[(i * contextLength) + j] = float.NegativeInfinity;
            }
        }

        var embeddings = g.Floats("embeddings", w.Embeddings, w.VocabularySize, d);
        var positions = g.Floats("positions", w.Positions, contextLength, d);
        var mask = g.Floats("causal_mask", causal, contextLength, contextLength);
        var shared = new BlockConstants(
            Scale: g.Scalar("attention_scale", 1f / MathF.Sqrt(w.HeadDimension)),
            Half: g.Scalar("half", 0.5f),
            One: g.Scalar("one", 1f),
            InverseSqrt2: g.Scalar("inverse_sqrt2", 1f / MathF.Sqrt(2f)),
            HeadShape: g.Vector("head_shape", 0, 0, w.Heads, w.HeadDimension),
            MergedShape: g.Vector("merged_shape", 0, 0, d));
        var blocks = Enumerable.Range(0, w.Layers).Select(layer => BlockInitializers(g, w, layer)).ToArray();
        var finalNorm = (Weight: g.Floats("final_norm_weight", w.FinalNormWeight, d), Bias: g.Floats("final_norm_bias", w.FinalNormBias, d));

        string Chunks(string chunkIds, string chunkPositions, string chunkMask)
        {
            var h = g.Node("Add", [g.Node("Gather", [embeddings, chunkIds], Int("axis", 0)), chunkPositions]); // [c, l, d]
            foreach (var block in blocks)
            {
                h = WriteBlock(g, block, h, chunkMask, shared);
            }

            return LayerNorm(g, h, finalNorm.Weight, finalNorm.Bias);
        }

        var wholeStates = Chunks(wholeIds, positions, mask);                                 // [f, L, d]
        var restPositions = g.Node("Slice", [positions, first, rest, axis0]);                // [r, d]
        var restMask = g.Node("Slice", [mask, g.Vector("mask_start", 0, 0), g.Node("Concat", [rest, rest], Int("axis", 0)),
            g.Vector("mask_axes", 0, 1)]);                                                    // [r, r]
        var restStates = Chunks(restIds, restPositions, restMask);                           // [1, r, d]
        var flatShape = g.Node("Concat", [g.Vector("one_row", 1), whole, g.Vector("dimension", d)], Int("axis", 0));
        var wholeFlat = g.Node("Reshape", [wholeStates, flatShape], Int("allowzero", 1));    // [1, fL, d]
        var states = g.Node("Concat", [wholeFlat, restStates], Int("axis", 1));               // [1, n, d]
        return (states, ids);
    }

    private sealed record BlockConstants(string Scale, string Half, string One, string InverseSqrt2, string HeadShape, string MergedShape);

    /// <summary>One block's initializer names, written once and shared by the whole-chunk and the last-chunk pass.</summary>
    private sealed record BlockNames(string Norm1Weight, string Norm1Bias, string[] QkvWeightT, string[] QkvBias, string OutWeightT, string OutBias,
        string Norm2Weight, string Norm2Bias, string Mlp1WeightT, string Mlp1Bias, string Mlp2WeightT, string Mlp2Bias);

    private static BlockNames BlockInitializers(OnnxGraphBuilder g, CoherenceEncoderWeights w, int layer)
    {
        var b = w.Blocks[layer];
        int d = w.Dimension;
        var p = $"block{layer}_";
        // q, k, v are rows [0, d), [d, 2d), [2d, 3d) of Wqkv (out, in).
        string[] parts = ["q", "k", "v"];
        return new BlockNames(
            Norm1Weight: g.Floats(p + "norm1_weight", b.Norm1Weight, d),
            Norm1Bias: g.Floats(p + "norm1_bias", b.Norm1Bias, d),
            QkvWeightT: parts.Select((name, part) => g.Floats(p + name + "_weight_t", Transposed(b.QkvWeight.AsSpan(part * d * d, d * d), d, d), d, d)).ToArray(),
            QkvBias: parts.Select((name, part) => g.Floats(p + name + "_bias", b.QkvBias.AsSpan(part * d, d), d)).ToArray(),
            OutWeightT: g.Floats(p + "out_weight_t", Transposed(b.OutWeight, d, d), d, d),
            OutBias: g.Floats(p + "out_bias", b.OutBias, d),
            Norm2Weight: g.Floats(p + "norm2_weight", b.Norm2Weight, d),
            Norm2Bias: g.Floats(p + "norm2_bias", b.Norm2Bias, d),
            Mlp1WeightT: g.Floats(p + "mlp1_weight_t", Transposed(b.Mlp1Weight, 4 * d, d), d, 4 * d),
            Mlp1Bias: g.Floats(p + "mlp1_bias", b.Mlp1Bias, 4 * d),
            Mlp2WeightT: g.Floats(p + "mlp2_weight_t", Transposed(b.Mlp2Weight, d, 4 * d), 4 * d, d),
            Mlp2Bias: g.Floats(p + "mlp2_bias", b.Mlp2Bias, d));
    }

    /// <summary>One pre-LN block on chunks h [c, l, d] with the causal mask [l, l].</summary>
    private static string WriteBlock(OnnxGraphBuilder g, BlockNames b, string h, string mask, BlockConstants k)
    {
        var a = LayerNorm(g, h, b.Norm1Weight, b.Norm1Bias);

        // Each of q, k, v is split into H heads of d/H contiguous columns: [c, l, d] -> [c, l, H, d/H] -> [c, H, l, d/H].
        string Project(int part) => g.Node("Reshape", [Linear(g, a, b.QkvWeightT[part], b.QkvBias[part]), k.HeadShape]);

        var q = g.Node("Transpose", [Project(0)], Ints("perm", 0, 2, 1, 3));
        var kt = g.Node("Transpose", [Project(1)], Ints("perm", 0, 2, 3, 1));
        var v = g.Node("Transpose", [Project(2)], Ints("perm", 0, 2, 1, 3));

        var scores = g.Node("Add", [g.Node("Mul", [g.Node("MatMul", [q, kt]), k.Scale]), mask]); // [c, H, l, l]
        var attention = g.Node("Softmax", [scores], Int("axis", -1));
        var heads = g.Node("MatMul", [attention, v]);                                            // [c, H, l, d/H]
        var merged = g.Node("Reshape", [g.Node("Transpose", [heads], Ints("perm", 0, 2, 1, 3)), k.MergedShape]);
        h = g.Node("Add", [h, Linear(g, merged, b.OutWeightT, b.OutBias)]);

        var m = LayerNorm(g, h, b.Norm2Weight, b.Norm2Bias);
        var u = Linear(g, m, b.Mlp1WeightT, b.Mlp1Bias);

        // Exact GELU, 0.5 u (1 + erf(u / sqrt 2)), as torch.nn.GELU() computes it.
        var erf = g.Node("Erf", [g.Node("Mul", [u, k.InverseSqrt2])]);
        var gelu = g.Node("Mul", [g.Node("Mul", [u, k.Half]), g.Node("Add", [erf, k.One])]);
        return g.Node("Add", [h, Linear(g, gelu, b.Mlp2WeightT, b.Mlp2Bias)]);
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
