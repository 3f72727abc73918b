using DataType = Onnx.TensorProto.Types.DataType;
using Microsoft.ML.Coherence.Modules;
using static Microsoft.ML.Coherence.Scoring.OnnxGraphBuilder;

namespace Microsoft.ML.Coherence.Scoring;

/// <summary>The Transformer blocks of the encoder graph (Layers &gt; 0), see <see cref="OnnxEncoderWriter"/>.</summary>
internal static class OnnxTransformerWriter
{
    /// <summary>
    /// Runs the blocks over the row's real positions only, as the tests' ReferenceEncoder does: the f = floor(n / L)
    /// whole chunks as one batch [f, L] and the last, shorter chunk of r = n - fL positions as a batch [1, r] (either may
    /// be empty); no padding. Returns the states [1, n, d].
    /// </summary>
    public static string Write(OnnxGraphBuilder g, CoherenceEncoderWeights w, string ids)
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

        var embeddings = g.Floats("embeddings", w.Embeddings, w.VocabularySize, d);
        var positions = g.Floats("positions", w.Positions, contextLength, d);
        var mask = g.Floats("causal_mask", CausalMask(contextLength), contextLength, contextLength);
        var shared = Constants(g, w);
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
        return states;
    }

    /// <summary>[L, L]: 0 on and below the diagonal, -inf above it (a position attends to itself and the ones before).</summary>
    private static float[] CausalMask(long contextLength)
    {
        var causal = new float[contextLength * contextLength];
        for (var i = 0; i < contextLength; i++)
        {
            for (var j = i + 1; j < contextLength; j++)
            {
                causal[(i * contextLength) + j] = float.NegativeInfinity;
            }
        }

        return causal;
    }

    private static BlockConstants Constants(OnnxGraphBuilder g, CoherenceEncoderWeights w) => new(
        Scale: g.Scalar("attention_scale", 1f / MathF.Sqrt(w.HeadDimension)),
        Half: g.Scalar("half", 0.5f),
        One: g.Scalar("one", 1f),
        InverseSqrt2: g.Scalar("inverse_sqrt2", 1f / MathF.Sqrt(2f)),
        HeadShape: g.Vector("head_shape", 0, 0, w.Heads, w.HeadDimension),
        MergedShape: g.Vector("merged_shape", 0, 0, w.Dimension));

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
