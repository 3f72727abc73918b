using Microsoft.ML.Coherence.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Training;

/// <summary>
/// One step's alignment work as tensors on the training device: anchors [A], their K neighbours [A, K] and
/// target probabilities [A, K] (padding id 0, P = 0), the shared negatives [M], the additive logit mask
/// [A, K + M] and the constant mean over anchors of Σ P log P (0-dim). <see cref="Gather"/> builds it on the
/// device from a <see cref="DeviceField"/>; <see cref="From"/> uploads a host-built <see cref="AlignmentBatch"/>
/// (the reference the device form is tested against). Tensors belong to the caller's dispose scope.
/// </summary>
internal sealed class AlignmentTensors
{
    private AlignmentTensors(Tensor anchors, Tensor neighbors, Tensor probabilities, Tensor negatives, Tensor mask, Tensor meanNegativeEntropy)
    {
        Anchors = anchors;
        Neighbors = neighbors;
        Probabilities = probabilities;
        Negatives = negatives;
        Mask = mask;
        MeanNegativeEntropy = meanNegativeEntropy;
    }

    /// <summary>[A] int64.</summary>
    public Tensor Anchors { get; }

    /// <summary>[A, K] int64; padding 0.</summary>
    public Tensor Neighbors { get; }

    /// <summary>[A, K] float32 P_i(j); padding 0.</summary>
    public Tensor Probabilities { get; }

    /// <summary>[M] int64 (M may be 0).</summary>
    public Tensor Negatives { get; }

    /// <summary>[A, K + M] float32: <see cref="AlignmentBatch.MaskedLogit"/> for padding neighbours and for negatives that are the
    /// anchor itself or one of its (non-padding) neighbours; 0 elsewhere.</summary>
    public Tensor Mask { get; }

    /// <summary>0-dim float64: mean over anchors of Σ_j P_i(j) log P_i(j).</summary>
    public Tensor MeanNegativeEntropy { get; }

    public int AnchorCount => (int)Anchors.shape[0];

    public int K => (int)Neighbors.shape[1];

    public int NegativeCount => (int)Negatives.shape[0];

    /// <summary>Rows to gather, in order: anchors, neighbours (row-major), negatives; [A + A·K + M] int64.</summary>
    public Tensor RowIds() => torch.cat([Anchors, Neighbors.flatten(), Negatives]);

    public int RowCount => AnchorCount * (1 + K) + NegativeCount;

    /// <summary>Gathers the anchors' neighbours, probabilities, mask and constant from the field on the device; no host sync.</summary>
    /// <param name="field">The field on the device.</param>
    /// <param name="anchors">[A] int64 anchor ids on the field's device.</param>
    /// <param name="negatives">[M] int64 negative ids on the field's device.</param>
    public static AlignmentTensors Gather(DeviceField field, Tensor anchors, Tensor negatives)
    {
        using var scope = torch.NewDisposeScope();
        using var zero = 0.ToScalar();
        var neighbors = field.Neighbors.index_select(0, anchors);                  // [A, K]
        var probabilities = field.Probabilities.index_select(0, anchors);          // [A, K]
        var kept = probabilities.gt(zero);                                         // [A, K] bool
        var padding = kept.logical_not();
        // A negative is masked for anchor i when it is i itself or one of i's kept neighbours. Padding neighbours become
        // id -1 (no token) first; the comparison is laid out [A, M, K] so that any() reduces the contiguous last axis.
        var real = neighbors.FilledWhere(padding, -1);
        var hits = real.unsqueeze(1).eq(negatives.view(1, -1, 1)).any(2)            // [A, M]
            .logical_or(anchors.unsqueeze(1).eq(negatives.unsqueeze(0)));
        var masked = torch.cat([padding, hits], 1);                                   // [A, K + M] bool
        var mask = torch.zeros(masked.shape, dtype: ScalarType.Float32, device: anchors.device).FilledWhere(masked, AlignmentBatch.MaskedLogit);
        var entropy = field.NegativeEntropy.index_select(0, anchors).mean();
        var result = new AlignmentTensors(anchors.alias(), neighbors, probabilities, negatives.alias(), mask, entropy);
        result.MoveToOuterDisposeScope();
        return result;
    }

    /// <summary>Uploads a host-built batch.</summary>
    public static AlignmentTensors From(AlignmentBatch batch, Device device)
    {
        ArgumentNullException.ThrowIfNull(batch);
        int a = batch.Anchors.Length, k = batch.K, m = batch.Negatives.Length;
        return new AlignmentTensors(
            torch.tensor(batch.Anchors, device: device),
            torch.tensor(batch.Neighbors, [a, k], device: device),
            torch.tensor(batch.Probabilities, [a, k], device: device),
            torch.tensor(batch.Negatives, device: device),
            torch.tensor(batch.LogitMask(), [a, k + m], device: device),
            torch.tensor(batch.MeanNegativeEntropy(), device: device));
    }

    private void MoveToOuterDisposeScope()
    {
        foreach (var tensor in new[] { Anchors, Neighbors, Probabilities, Negatives, Mask, MeanNegativeEntropy })
            tensor.MoveToOuterDisposeScope();
    }
}
