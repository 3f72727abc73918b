using Microsoft.ML.Coherence.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Training;

/// <summary>
/// Gradient clipping by the total L2 norm, as <c>torch.nn.utils.clip_grad_norm_</c> computes it (the norm of the
/// per-tensor norms; coefficient max_norm / (norm + 1e-6), clamped at 1), but over any list of gradient tensors
/// (a row-sparse table's [U, d] gradient next to the dense parameters' gradients) and without reading the norm
/// back to the host: the norm stays a 0-dim tensor, so the caller decides when to sync.
/// </summary>
internal static class GradientClipping
{
    /// <summary>Scales <paramref name="gradients"/> in place so that their total norm is at most <paramref name="maxNorm"/>.</summary>
    /// <param name="gradients">The gradients, on one device; empty gives a zero norm.</param>
    /// <param name="maxNorm">The largest total norm allowed, &gt; 0.</param>
    /// <returns>The total norm before clipping, a 0-dim float32 tensor.</returns>
    public static Tensor ClipInPlace(IReadOnlyList<Tensor> gradients, double maxNorm)
    {
        if (gradients.Count == 0)
            return torch.zeros(Array.Empty<long>());
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var total = torch.stack(gradients.Select(g => g.norm()).ToArray()).norm();
        var coefficient = total.Plus(1e-6).reciprocal().Times(maxNorm).AtMost(1.0);
        foreach (var gradient in gradients)
            gradient.mul_(coefficient);
        return total.MoveToOuterDisposeScope();
    }
}
