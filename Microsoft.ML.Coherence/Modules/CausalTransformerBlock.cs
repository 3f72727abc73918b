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
    private readonly Linear qkv;
    private readonly Linear @out;
    private readonly LayerNorm norm2;
    private readonly Linear mlp1;
    private readonly Linear mlp2;
    private readonly int _heads;

    public CausalTransformerBlock(int dimension, int heads) : base(nameof(CausalTransformerBlock))
    {
        _heads = heads;
        norm1 = nn.LayerNorm(dimension, eps: Scoring.CoherenceEncoderWeights.LayerNormEpsilon);
        qkv = nn.Linear(dimension, 3 * dimension);
        @out = nn.Linear(dimension, dimension);
        norm2 = nn.LayerNorm(dimension, eps: Scoring.CoherenceEncoderWeights.LayerNormEpsilon);
        mlp1 = nn.Linear(dimension, 4 * dimension);
        mlp2 = nn.Linear(4 * dimension, dimension);
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

    public Scoring.CoherenceBlockWeights ToWeights() => new()
    {
        Norm1Weight = Values(norm1.weight!), Norm1Bias = Values(norm1.bias!),
        QkvWeight = Values(qkv.weight!), QkvBias = Values(qkv.bias!),
        OutWeight = Values(@out.weight!), OutBias = Values(@out.bias!),
        Norm2Weight = Values(norm2.weight!), Norm2Bias = Values(norm2.bias!),
        Mlp1Weight = Values(mlp1.weight!), Mlp1Bias = Values(mlp1.bias!),
        Mlp2Weight = Values(mlp2.weight!), Mlp2Bias = Values(mlp2.bias!),
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
