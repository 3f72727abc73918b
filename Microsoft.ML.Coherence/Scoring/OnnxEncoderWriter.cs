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
/// <para>Static mode (no blocks) is a Gather and masked reductions. Transformer mode (<see cref="OnnxTransformerWriter"/>) computes only the row's
/// real positions: the whole chunks of L as one batch <c>[floor(n / L), L, d]</c> and the last, shorter chunk as
/// <c>[1, n mod L, d]</c>, each with the causal mask cut to its length (the blocks' weights are shared by both
/// passes), then pools. ML.NET's ONNX transformer still calls the graph once per row, so rows are not batched
/// across a call; that limit is ML.NET's.
/// Pooling counts only positions whose id is not 0. Mean pooling writes the masked sum: the scoring chain scales each row
/// to unit length next, which makes it the unit mean; MeanMax writes mean = masked sum / max(count, 1) and the max, which
/// is 0 when there is no known token. The same forward pass in plain C# is the tests' ReferenceEncoder (the oracle).</para>
/// </remarks>
internal static class OnnxEncoderWriter
{
    /// <summary>ONNX IR version written (ONNX 1.12+, read by ONNX Runtime 1.31.1).</summary>
    public const long IrVersion = 8;

    /// <summary>Default-domain opset: 17 is the first with LayerNormalization; GELU is built from Erf.</summary>
    public const long OpsetVersion = 17;

    /// <summary>Default name of the graph's token-id input.</summary>
    public const string DefaultInputName = "ids";

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
            _ => throw new ArgumentOutOfRangeException(nameof(pooling), pooling, "Pooling must be Mean or MeanMax."),
        };
    }

    /// <summary>Serialises the encoder graph (see <see cref="CreateModel"/>) to bytes.</summary>
    public static byte[] WriteBytes(
        CoherenceEncoderWeights weights,
        CoherencePooling pooling,
        string inputName = DefaultInputName,
        string outputName = DefaultOutputName) =>
        CreateModel(weights, pooling, inputName, outputName).ToByteArray();

    /// <summary>Writes the encoder graph (see <see cref="CreateModel"/>) to a file, replacing it.</summary>
    public static void WriteFile(
        string path,
        CoherenceEncoderWeights weights,
        CoherencePooling pooling,
        string inputName = DefaultInputName,
        string outputName = DefaultOutputName)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var model = CreateModel(weights, pooling, inputName, outputName);
        using var file = File.Create(path);
        model.WriteTo(file);
    }

    /// <summary>
    /// Builds the ONNX model: input <paramref name="inputName"/> UINT32 [1, "n"], output
    /// <paramref name="outputName"/> FLOAT [<see cref="FeatureLength"/>].
    /// </summary>
    public static ModelProto CreateModel(
        CoherenceEncoderWeights weights,
        CoherencePooling pooling,
        string inputName = DefaultInputName,
        string outputName = DefaultOutputName)
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
        g.Graph.Output.Add(Value(outputName, DataType.Float, featureLength));

        // ML.NET cannot convert a key column to Int64, so the cast happens here: [1, n] int64.
        var ids = g.Node("Cast", [inputName], Int("to", (long)DataType.Int64));

        var states = weights.Layers == 0 ? WriteStatic(g, weights, ids) : OnnxTransformerWriter.Write(g, weights, ids);
        if (pooling == CoherencePooling.Mean)
        {
            WriteSum(g, states, weights.Layers == 0 ? null : Known(g, ids), outputName);
        }
        else
        {
            WriteMeanMax(g, weights, states, Known(g, ids), maskStates: weights.Layers > 0, outputName);
        }

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
    /// Static mode's states H = E0[ids], [1, n, d]. Row 0 (unknown) never reaches the pooled output, so a zeroed copy of it
    /// lets the masked sum skip a multiply.
    /// </summary>
    private static string WriteStatic(OnnxGraphBuilder g, CoherenceEncoderWeights weights, string ids)
    {
        var table = (float[])weights.Embeddings.Clone();
        Array.Clear(table, 0, weights.Dimension);
        var embeddings = g.Floats("embeddings", table, weights.VocabularySize, weights.Dimension);
        return g.Node("Gather", [embeddings, ids], Int("axis", 0));
    }

    /// <summary>[1, n] bool: the positions pooled, those whose id is not 0 (unknown).</summary>
    private static string Known(OnnxGraphBuilder g, string ids) => g.Node("Greater", [ids, g.Int64s("zero_id", [0])]);

    /// <summary>The bool mask <paramref name="known"/> as 0 / 1 floats.</summary>
    private static string AsFloat(OnnxGraphBuilder g, string known) => g.Node("Cast", [known], Int("to", (long)DataType.Float));

    /// <summary>The states [1, n, d] with the positions <paramref name="knownFloat"/> ([1, n], 0 / 1) leaves out zeroed.</summary>
    private static string MaskUnknown(OnnxGraphBuilder g, string states, string knownFloat) =>
        g.Node("Mul", [states, g.Node("Unsqueeze", [knownFloat, g.Vector("last_axis", 2)])]);

    /// <summary>
    /// Mean pooling's output: the sum of the known positions' states, [d]. The scoring chain scales every row to unit
    /// length next, so dividing by the count would change nothing it outputs, and three fewer nodes make short rows
    /// score faster (ML.NET calls the graph once per row). Static mode needs no mask: the unknown row of its table is zero.
    /// </summary>
    private static void WriteSum(OnnxGraphBuilder g, string states, string? known, string outputName)
    {
        var masked = known is null ? states : MaskUnknown(g, states, AsFloat(g, known));
        g.Node("ReduceSum", [masked, g.Vector("row_and_position_axes", 0, 1)], outputName, Int("keepdims", 0));
    }

    /// <summary>Masked mean and max over the positions <paramref name="known"/> ([1, N] bool) marks, [2d], written to <paramref name="outputName"/>.</summary>
    private static void WriteMeanMax(OnnxGraphBuilder g, CoherenceEncoderWeights weights, string states, string known,
        bool maskStates, string outputName)
    {
        int d = weights.Dimension;
        var positionAxis = g.Vector("position_axis", 1);
        var knownFloat = AsFloat(g, known);
        var count = g.Node("ReduceSum", [knownFloat, positionAxis], Int("keepdims", 1)); // [1, 1]

        var maskedStates = maskStates ? MaskUnknown(g, states, knownFloat) : states;   // static: E0 row is zero
        var sum = g.Node("ReduceSum", [maskedStates, positionAxis], Int("keepdims", 0)); // [1, d]
        var mean = g.Node("Div", [sum, g.Node("Max", [count, g.Scalar("min_count", 1f)])]);

        // Unknown positions become -inf; one extra -inf row keeps ReduceMax off an empty axis.
        var negativeInfinity = g.Scalar("negative_infinity", float.NegativeInfinity);
        var known3 = g.Node("Unsqueeze", [known, g.Vector("mask_axis", 2)]);
        var candidates = g.Node("Where", [known3, states, negativeInfinity]);
        var sentinel = g.Floats("max_sentinel", Enumerable.Repeat(float.NegativeInfinity, d).ToArray(), 1, 1, d);
        var withSentinel = g.Node("Concat", [candidates, sentinel], Int("axis", 1));
        var max = g.Node("ReduceMax", [withSentinel], Ints("axes", 1), Int("keepdims", 0)); // [1, d]
        var anyKnown = g.Node("Greater", [count, g.Scalar("zero_count", 0f)]);
        var maxOrZero = g.Node("Where", [anyKnown, max, g.Scalar("zero", 0f)]);
        var pooled = g.Node("Concat", [mean, maxOrZero], Int("axis", 1));               // [1, 2d]
        g.Node("Reshape", [pooled, g.Vector("feature_shape", 2L * d)], outputName);
    }
}
