using Microsoft.ML.Coherence.Modules;
using Microsoft.ML.Coherence.Scoring;

namespace Microsoft.ML.Coherence.Tests.Oracle;

/// <summary>
/// The encoder's forward pass and pooling in plain single-precision C#, written straight from the
/// remarks of <see cref="CoherenceEncoderWeights"/>: the yardstick the ONNX graph (and the TorchSharp
/// module) are checked against. Slow by design; no tricks.
/// </summary>
internal static class ReferenceEncoder
{
    /// <summary>The stage's output row for these token ids: <see cref="Encode(CoherenceEncoderWeights, CoherencePooling, ReadOnlySpan{int})"/>
    /// scaled to unit L2 norm, as the scoring chain's NormalizeLpNorm does (zero stays zero).</summary>
    public static float[] Features(CoherenceEncoderWeights weights, CoherencePooling pooling, ReadOnlySpan<int> ids) =>
        UnitNorm(Encode(weights, pooling, ids));

    /// <summary>The vector scaled to unit L2 length, as the scoring chain's NormalizeLpNorm does; a zero vector stays zero.</summary>
    public static float[] UnitNorm(float[] vector)
    {
        double sum = 0;
        foreach (float x in vector)
            sum += (double)x * x;
        if (sum == 0)
            return vector;
        float scale = (float)(1 / Math.Sqrt(sum));
        return [.. vector.Select(x => x * scale)];
    }

    /// <summary>Encodes one row of token ids (0 = unknown) into its pooled feature vector.</summary>
    public static float[] Encode(CoherenceEncoderWeights weights, CoherencePooling pooling, ReadOnlySpan<int> ids) =>
        Pool(Forward(weights, ids), ids, weights.Dimension, pooling);

    /// <summary>
    /// The per-token states H, row-major [n, d]. Static mode: H = E[ids]. Otherwise the ids are cut into
    /// chunks of L (the last may be shorter) and each chunk runs through the blocks on its own.
    /// </summary>
    public static float[] Forward(CoherenceEncoderWeights weights, ReadOnlySpan<int> ids)
    {
        ArgumentNullException.ThrowIfNull(weights);
        weights.ThrowIfInvalid(nameof(weights));
        int d = weights.Dimension;
        var states = new float[ids.Length * d];
        for (var t = 0; t < ids.Length; t++)
        {
            if ((uint)ids[t] >= (uint)weights.VocabularySize)
            {
                throw new ArgumentOutOfRangeException(nameof(ids), ids[t], $"Token ids must be in [0, {weights.VocabularySize}).");
            }

            weights.Embeddings.AsSpan(ids[t] * d, d).CopyTo(states.AsSpan(t * d, d));
        }

        if (weights.Layers == 0)
        {
            return states;
        }

        int contextLength = weights.ContextLength;
        for (var start = 0; start < ids.Length; start += contextLength)
        {
            var length = Math.Min(contextLength, ids.Length - start);
            var h = states.AsSpan(start * d, length * d);
            for (var t = 0; t < length; t++)
            {
                Add(h.Slice(t * d, d), weights.Positions.AsSpan(t * d, d));
            }

            foreach (var block in weights.Blocks)
            {
                Block(block, weights.Heads, d, length, h);
            }

            for (var t = 0; t < length; t++)
            {
                LayerNorm(h.Slice(t * d, d), weights.FinalNormWeight, weights.FinalNormBias, h.Slice(t * d, d));
            }
        }

        return states;
    }

    /// <summary>
    /// Pools states [n, d] over the positions whose id is not 0: mean = sum / max(count, 1);
    /// MeanMax appends the element-wise max, or zeros when no id is known.
    /// </summary>
    public static float[] Pool(ReadOnlySpan<float> states, ReadOnlySpan<int> ids, int dimension, CoherencePooling pooling)
    {
        var d = dimension;
        var result = new float[pooling == CoherencePooling.MeanMax ? 2 * d : d];
        var mean = result.AsSpan(0, d);
        var count = 0;
        for (var t = 0; t < ids.Length; t++)
        {
            if (ids[t] == 0)
            {
                continue;
            }

            var row = states.Slice(t * d, d);
            Add(mean, row);
            if (pooling == CoherencePooling.MeanMax)
            {
                var max = result.AsSpan(d, d);
                for (var i = 0; i < d; i++)
                {
                    max[i] = count == 0 ? row[i] : Math.Max(max[i], row[i]);
                }
            }

            count++;
        }

        for (var i = 0; i < d; i++)
        {
            mean[i] /= Math.Max(count, 1);
        }

        return result;
    }

    /// <summary>One pre-LayerNorm block on a chunk h [length, d], in place.</summary>
    private static void Block(CoherenceBlockWeights b, int heads, int d, int length, Span<float> h)
    {
        var a = new float[length * d];
        for (var t = 0; t < length; t++)
        {
            LayerNorm(h.Slice(t * d, d), b.Norm1Weight, b.Norm1Bias, a.AsSpan(t * d, d));
        }

        var qkv = Linear(a, length, d, b.QkvWeight, b.QkvBias, 3 * d);                 // [length, 3d]
        var headDim = d / heads;
        var scale = 1f / MathF.Sqrt(headDim);
        var attended = new float[length * d];
        var scores = new float[length];
        for (var head = 0; head < heads; head++)
        {
            int qOffset = head * headDim, kOffset = d + (head * headDim), vOffset = (2 * d) + (head * headDim);
            for (var i = 0; i < length; i++)
            {
                // Causal: position i sees 0..i.
                var max = float.NegativeInfinity;
                for (var j = 0; j <= i; j++)
                {
                    var dot = 0f;
                    for (var c = 0; c < headDim; c++)
                    {
                        dot += qkv[(i * 3 * d) + qOffset + c] * qkv[(j * 3 * d) + kOffset + c];
                    }

                    scores[j] = dot * scale;
                    max = Math.Max(max, scores[j]);
                }

                var total = 0f;
                for (var j = 0; j <= i; j++)
                {
                    scores[j] = MathF.Exp(scores[j] - max);
                    total += scores[j];
                }

                for (var j = 0; j <= i; j++)
                {
                    var p = scores[j] / total;
                    for (var c = 0; c < headDim; c++)
                    {
                        attended[(i * d) + (head * headDim) + c] += p * qkv[(j * 3 * d) + vOffset + c];
                    }
                }
            }
        }

        Add(h, Linear(attended, length, d, b.OutWeight, b.OutBias, d));

        var m = new float[length * d];
        for (var t = 0; t < length; t++)
        {
            LayerNorm(h.Slice(t * d, d), b.Norm2Weight, b.Norm2Bias, m.AsSpan(t * d, d));
        }

        var u = Linear(m, length, d, b.Mlp1Weight, b.Mlp1Bias, 4 * d);
        for (var i = 0; i < u.Length; i++)
        {
            u[i] = 0.5f * u[i] * (1f + Erf(u[i] / MathF.Sqrt(2f)));
        }

        Add(h, Linear(u, length, 4 * d, b.Mlp2Weight, b.Mlp2Bias, d));
    }

    /// <summary>y = x W^T + b, x [rows, inFeatures], W [outFeatures, inFeatures] as torch.nn.Linear.</summary>
    private static float[] Linear(ReadOnlySpan<float> x, int rows, int inFeatures, float[] weight, float[] bias, int outFeatures)
    {
        var y = new float[rows * outFeatures];
        for (var r = 0; r < rows; r++)
        {
            var input = x.Slice(r * inFeatures, inFeatures);
            for (var o = 0; o < outFeatures; o++)
            {
                var sum = bias[o];
                var w = weight.AsSpan(o * inFeatures, inFeatures);
                for (var i = 0; i < inFeatures; i++)
                {
                    sum += input[i] * w[i];
                }

                y[(r * outFeatures) + o] = sum;
            }
        }

        return y;
    }

    private static void LayerNorm(ReadOnlySpan<float> x, float[] weight, float[] bias, Span<float> y)
    {
        var mean = 0f;
        foreach (var v in x)
        {
            mean += v;
        }

        mean /= x.Length;
        var variance = 0f;
        foreach (var v in x)
        {
            variance += (v - mean) * (v - mean);
        }

        variance /= x.Length;                                                          // biased, as torch
        var inverse = 1f / MathF.Sqrt(variance + CoherenceEncoderWeights.LayerNormEpsilon);
        for (var i = 0; i < x.Length; i++)
        {
            y[i] = ((x[i] - mean) * inverse * weight[i]) + bias[i];
        }
    }

    private static void Add(Span<float> target, ReadOnlySpan<float> values)
    {
        for (var i = 0; i < target.Length; i++)
        {
            target[i] += values[i];
        }
    }

    /// <summary>erf in double precision (Abramowitz-Stegun 7.1.26 is too coarse for a 1e-5 check).</summary>
    private static float Erf(float x) => (float)ErfDouble(x);

    private static double ErfDouble(double x)
    {
        // Series for small |x|, continued fraction via erfc for large |x|; both accurate to ~1e-15.
        var ax = Math.Abs(x);
        if (ax < 2.5)
        {
            double term = ax, sum = ax, x2 = ax * ax;
            for (var n = 1; n < 100; n++)
            {
                term *= -x2 / n;
                var next = term / ((2 * n) + 1);
                sum += next;
                if (Math.Abs(next) < 1e-17 * Math.Abs(sum))
                {
                    break;
                }
            }

            return Math.Sign(x) * 2 / Math.Sqrt(Math.PI) * sum;
        }

        // erfc(ax) = exp(-ax^2)/sqrt(pi) * 1/(ax + 1/2/(ax + 1/(ax + 3/2/(ax + ...)))), evaluated backwards.
        var f = ax;
        for (var k = 60; k >= 1; k--)
        {
            f = ax + (k / 2.0 / f);
        }

        var erfc = Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / f;
        return Math.Sign(x) * (1 - erfc);
    }
}
