using Microsoft.ML.Coherence.Statistics;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Training;

/// <summary>
/// The statistical field as tensors on the training device, uploaded once per run: neighbour ids and target
/// probabilities [V, K], and the per-token constant Σ_j P_i(j) log P_i(j) [V] (the part of KL(P || Q) with no
/// gradient). A step gathers its anchors' rows from here instead of rebuilding them on the host.
/// </summary>
/// <remarks>Padding neighbours hold id 0 and probability 0, as <see cref="AlignmentBatch"/> pads them.</remarks>
internal sealed class DeviceField : IDisposable
{
    private DeviceField(Tensor neighbors, Tensor probabilities, Tensor negativeEntropy, int neighborCount)
    {
        Neighbors = neighbors;
        Probabilities = probabilities;
        NegativeEntropy = negativeEntropy;
        NeighborCount = neighborCount;
    }

    /// <summary>[V, K] int64 neighbour ids; padding 0.</summary>
    public Tensor Neighbors { get; }

    /// <summary>[V, K] float32 target probabilities P_i(j); padding 0.</summary>
    public Tensor Probabilities { get; }

    /// <summary>[V] float64: Σ_j P_i(j) log P_i(j) over token i's kept neighbours (0 for a token with none).</summary>
    public Tensor NegativeEntropy { get; }

    /// <summary>K.</summary>
    public int NeighborCount { get; }

    /// <summary>Copies <paramref name="field"/> to <paramref name="device"/>; the tensors live until <see cref="Dispose"/>.</summary>
    public static DeviceField Create(StatisticalField field, Device device)
    {
        ArgumentNullException.ThrowIfNull(field);
        int v = field.VocabularySize, k = field.NeighborCount;
        var ids = new long[(long)v * k];
        var entropy = new double[v];
        for (int i = 0; i < v; i++)
        {
            var p = field.GetProbabilities(i);
            var neighbors = field.GetNeighbors(i);
            double sum = 0;
            for (int j = 0; j < neighbors.Length; j++)
            {
                ids[(long)i * k + j] = neighbors[j];
                if (p[j] > 0)
                    sum += p[j] * Math.Log(p[j]);
            }
            entropy[i] = sum;
        }
        return new DeviceField(
            torch.tensor(ids, [v, k], device: device).DetachFromDisposeScope(),
            torch.tensor(field.Probabilities, [v, k], device: device).DetachFromDisposeScope(),
            torch.tensor(entropy, device: device).DetachFromDisposeScope(),
            k);
    }

    public void Dispose()
    {
        Neighbors.Dispose();
        Probabilities.Dispose();
        NegativeEntropy.Dispose();
    }
}
