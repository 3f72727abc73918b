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
        var x = nn.functional.normalize(vectors, p: 2, dim: 1);
        // |x_i - x_j|² = 2 - 2 x_i·x_j for unit vectors. The matrix is symmetric, so the mean over the
        // off-diagonal entries equals the mean over distinct pairs; the diagonal is masked out with -inf.
        long n = x.shape[0];
        var squared = (2 - 2 * x.matmul(x.t())).clamp_min(0);
        var diagonal = torch.eye(n, dtype: ScalarType.Bool, device: x.device);
        var exponents = (squared * -t).masked_fill(diagonal, double.NegativeInfinity);
        var loss = torch.logsumexp(exponents.flatten(), 0) - Math.Log((double)n * (n - 1));
        return loss.MoveToOuterDisposeScope();
    }
}
