using Microsoft.ML.Coherence.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Training;

/// <summary>
/// L_unif of Wang and Isola (2020): log mean over distinct pairs of exp(-t |x_i - x_j|²) on
/// L2-normalised vectors (t = 2). It is lowest when the vectors spread over the sphere, which is
/// what keeps the alignment term from collapsing everything onto one direction.
/// </summary>
internal static class UniformityLoss
{
    public const double DefaultT = 2.0;

    /// <param name="vectors">[N, d], N &gt;= 2.</param>
    /// <param name="t">Scale t of the Gaussian potential.</param>
    public static Tensor Compute(Tensor vectors, double t = DefaultT)
    {
        using var scope = NewDisposeScope();
        return FromUnitVectors(nn.functional.normalize(vectors, p: 2, dim: 1), t).MoveToOuterDisposeScope();
    }

    /// <summary>The loss for vectors that are already L2-normalised.</summary>
    /// <param name="unit">[N, d] unit vectors, N &gt;= 2.</param>
    /// <param name="t">Scale t of the Gaussian potential.</param>
    public static Tensor FromUnitVectors(Tensor unit, double t = DefaultT)
    {
        using var scope = NewDisposeScope();
        // |x_i - x_j|² = 2 - 2 x_i·x_j for unit vectors, so every term lies in [e^(-4t), 1]: no overflow, no
        // log-sum-exp needed. The matrix is symmetric, so the mean over off-diagonal entries is the mean over
        // distinct pairs; the n diagonal terms are exactly exp(0) = 1 and are subtracted.
        long n = unit.shape[0];
        var squared = unit.matmul(unit.t()).Times(-2).Plus(2).AtLeast(0);
        var loss = squared.Times(-t).exp().sum().Plus(-n).log().Plus(-Math.Log((double)n * (n - 1)));
        return loss.MoveToOuterDisposeScope();
    }
}
