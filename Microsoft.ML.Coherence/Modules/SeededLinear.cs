using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Modules;

/// <summary>
/// y = x·Wᵀ + b, initialised as <c>nn.Linear</c> is (W and b uniform in ±1/√inputs, W first) but drawn from the fit's
/// own <see cref="Generator"/>: <c>nn.Linear</c> draws from libtorch's global generator, which the application and other
/// fits share. Field names are parameter keys in checkpoints ("weight", "bias"), as <c>nn.Linear</c>'s.
/// </summary>
internal sealed class SeededLinear : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter bias;

    public SeededLinear(long inputs, long outputs, Generator generator) : base(nameof(SeededLinear))
    {
        double bound = 1 / Math.Sqrt(inputs); // kaiming_uniform_(a = √5) and the bias rule of nn.Linear give the same bound
        weight = Uniform([outputs, inputs], bound, generator);
        bias = Uniform([outputs], bound, generator);
        RegisterComponents();
    }

    /// <summary>W [outputs, inputs].</summary>
    public Parameter Weight => weight;

    /// <summary>b [outputs].</summary>
    public Parameter Bias => bias;

    public override Tensor forward(Tensor x) => nn.functional.linear(x, weight, bias);

    // The draw is held by `using` until the copy returns: outside a dispose scope an unreferenced temporary could be
    // finalized mid-call (CoherenceLanguageModel.SmallNormal).
    private static Parameter Uniform(long[] shape, double bound, Generator generator)
    {
        using var draw = torch.empty(shape);
        using (torch.no_grad())
            draw.uniform_(-bound, bound, generator);
        return nn.Parameter(draw.clone());
    }
}
