using Microsoft.ML.Coherence.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Tests;

[TestClass]
public sealed class CoherenceLossTests
{
    private static readonly double[,] TinyEmbedding = { { 1, 0 }, { 0.8, 0.6 }, { 0, 1 }, { -1, 0.2 } };

    private static Tensor Embedding(bool grad = false) =>
        torch.tensor(new double[] { 1, 0, 0.8, 0.6, 0, 1, -1, 0.2 }, [4, 2], dtype: ScalarType.Float64, requires_grad: grad);

    [TestMethod]
    public void AlignmentLossMatchesHandComputedKl()
    {
        // Anchor 0, neighbours 1 (P = 0.75) and 2 (P = 0.25), negative 3, tau = 0.5.
        // cos(e0,e1) = 0.8, cos(e0,e2) = 0, cos(e0,e3) = -1/sqrt(1.04).
        double c1 = 0.8, c2 = 0.0, c3 = -1 / Math.Sqrt(1.04), tau = 0.5;
        double z = Math.Exp(c1 / tau) + Math.Exp(c2 / tau) + Math.Exp(c3 / tau);
        double q1 = Math.Exp(c1 / tau) / z, q2 = Math.Exp(c2 / tau) / z;
        double expected = 0.75 * Math.Log(0.75 / q1) + 0.25 * Math.Log(0.25 / q2);

        using var e = Embedding();
        using var loss = CoherenceAlignmentLoss.Compute(e, torch.tensor(new long[] { 0 }), torch.tensor(new long[] { 1, 2 }, [1, 2]),
            torch.tensor(new double[] { 0.75, 0.25 }, [1, 2], dtype: ScalarType.Float64), torch.tensor(new long[] { 3 }), tau);
        Assert.AreEqual(expected, loss.item<double>(), 1e-12);
    }

    [TestMethod]
    public void AlignmentLossIgnoresPaddingAndNegativesThatAreNeighbours()
    {
        // Padding (P = 0) and a negative equal to neighbour 1 must not change the loss: only neighbour 1 remains, so Q = 1 and KL = 0.
        using var e = Embedding();
        using var loss = CoherenceAlignmentLoss.Compute(e, torch.tensor(new long[] { 0 }), torch.tensor(new long[] { 1, 0 }, [1, 2]),
            torch.tensor(new double[] { 1.0, 0.0 }, [1, 2], dtype: ScalarType.Float64), torch.tensor(new long[] { 1, 0 }), 0.5);
        Assert.AreEqual(0.0, loss.item<double>(), 1e-12);
    }

    [TestMethod]
    public void AlignmentLossGradientMatchesFiniteDifferences()
    {
        var anchors = torch.tensor(new long[] { 0, 2 });
        var neighbors = torch.tensor(new long[] { 1, 2, 3, 1 }, [2, 2]);
        var probabilities = torch.tensor(new double[] { 0.6, 0.4, 0.9, 0.1 }, [2, 2], dtype: ScalarType.Float64);
        var negatives = torch.tensor(new long[] { 3, 1 });
        double Loss(Tensor e) => CoherenceAlignmentLoss.Compute(e, anchors, neighbors, probabilities, negatives, 0.3).item<double>();

        using var e = Embedding(grad: true);
        CoherenceAlignmentLoss.Compute(e, anchors, neighbors, probabilities, negatives, 0.3).backward();
        var analytic = e.grad!.data<double>().ToArray();
        var values = e.detach().clone();
        const double h = 1e-6;
        for (int i = 0; i < analytic.Length; i++)
        {
            var plus = values.clone(); plus.view(-1)[i] += h;
            var minus = values.clone(); minus.view(-1)[i] -= h;
            double numeric = (Loss(plus) - Loss(minus)) / (2 * h);
            Assert.AreEqual(numeric, analytic[i], 1e-6, $"gradient entry {i}");
        }
    }

    [TestMethod]
    public void UniformityLossMatchesHandComputedValue()
    {
        // Two opposite unit vectors: |x-y|² = 4, so L = log(exp(-2·4)) = -8. Three: add the orthogonal pair terms.
        using var opposite = torch.tensor(new double[] { 1, 0, -2, 0 }, [2, 2], dtype: ScalarType.Float64);
        Assert.AreEqual(-8.0, UniformityLoss.Compute(opposite).item<double>(), 1e-12);
        using var three = torch.tensor(new double[] { 1, 0, -1, 0, 0, 3 }, [3, 2], dtype: ScalarType.Float64);
        double expected = Math.Log((Math.Exp(-8) + 2 * Math.Exp(-4)) / 3);
        Assert.AreEqual(expected, UniformityLoss.Compute(three).item<double>(), 1e-12);
    }

    [TestMethod]
    public void SampledSoftmaxWithAllOtherTokensAsNegativesEqualsFullSoftmax()
    {
        // With every non-target token as a negative once and no correction, the sampled loss is the full cross-entropy.
        torch.random.manual_seed(1);
        using var embedding = torch.randn(4, 3, dtype: ScalarType.Float64);
        using var hidden = torch.randn(1, 3, dtype: ScalarType.Float64);
        using var target = torch.tensor(new long[] { 2 });
        double full = NextTokenLoss.Full(hidden, embedding, target).item<double>();
        double sampled = NextTokenLoss.Sampled(hidden, embedding, target, torch.tensor(new long[] { 0, 1, 2, 3 }),
            torch.zeros(1, dtype: ScalarType.Float64), torch.zeros(4, dtype: ScalarType.Float64)).item<double>();
        Assert.AreEqual(full, sampled, 1e-9, "the accidental hit (negative 2 = target) must be masked out");
    }
}
