using Microsoft.ML.Coherence.Internal;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Modules;

/// <summary>
/// Pre-LayerNorm causal Transformer block (GPT-2 layout): h + attn(LN1(h)), then h + mlp(LN2(h)).
/// Field names are parameter keys in checkpoints; rename with care.
/// </summary>
internal sealed class CausalTransformerBlock : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm norm1;
    private readonly SeededLinear qkv;
    private readonly SeededLinear @out;
    private readonly LayerNorm norm2;
    private readonly SeededLinear mlp1;
    private readonly SeededLinear mlp2;
    private readonly int _heads;

    /// <param name="dimension">d.</param>
    /// <param name="heads">Attention heads (a divisor of d).</param>
    /// <param name="generator">The fit's own random generator: every initial weight is drawn from it, never from libtorch's global one.</param>
    public CausalTransformerBlock(int dimension, int heads, Generator generator) : base(nameof(CausalTransformerBlock))
    {
        _heads = heads;
        norm1 = nn.LayerNorm(dimension, eps: CoherenceEncoderWeights.LayerNormEpsilon);
        qkv = new SeededLinear(dimension, 3 * dimension, generator);
        @out = new SeededLinear(dimension, dimension, generator);
        norm2 = nn.LayerNorm(dimension, eps: CoherenceEncoderWeights.LayerNormEpsilon);
        mlp1 = new SeededLinear(dimension, 4 * dimension, generator);
        mlp2 = new SeededLinear(4 * dimension, dimension, generator);
        RegisterComponents();
    }

    /// <param name="h">[B, T, d]</param>
    public override Tensor forward(Tensor h)
    {
        using var scope = NewDisposeScope();
        long batch = h.shape[0], time = h.shape[1], dim = h.shape[2];
        long headDim = dim / _heads;
        var qkvOut = qkv.forward(norm1.forward(h));                      // [B, T, 3d]
        var parts = qkvOut.split(dim, dim: 2);                           // q, k, v: [B, T, d]
        Tensor Heads(Tensor x) => x.view(batch, time, _heads, headDim).transpose(1, 2); // [B, H, T, d/H]
        var attended = nn.functional.scaled_dot_product_attention(Heads(parts[0]), Heads(parts[1]), Heads(parts[2]), is_casual: true);
        var merged = attended.transpose(1, 2).contiguous().view(batch, time, dim);
        var x = h.Plus(@out.forward(merged));
        var y = x.Plus(mlp2.forward(nn.functional.gelu(mlp1.forward(norm2.forward(x)))));
        return y.MoveToOuterDisposeScope();
    }

    public CoherenceBlockWeights ToWeights() => new()
    {
        Norm1Weight = Values(norm1.weight!), Norm1Bias = Values(norm1.bias!),
        QkvWeight = Values(qkv.Weight), QkvBias = Values(qkv.Bias),
        OutWeight = Values(@out.Weight), OutBias = Values(@out.Bias),
        Norm2Weight = Values(norm2.weight!), Norm2Bias = Values(norm2.bias!),
        Mlp1Weight = Values(mlp1.Weight), Mlp1Bias = Values(mlp1.Bias),
        Mlp2Weight = Values(mlp2.Weight), Mlp2Bias = Values(mlp2.Bias),
    };

    /// <summary>A copy of <paramref name="t"/>'s values as float32, row-major.</summary>
    internal static float[] Values(Tensor t)
    {
        // The scope holds each intermediate until the copy is made: callers between steps run outside any scope, where an
        // unreferenced temporary can be finalized while libtorch reads it (CoherenceLanguageModel.SmallNormal).
        using var scope = torch.NewDisposeScope();
        return t.detach().to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
    }
}
