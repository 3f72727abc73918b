using Microsoft.ML.Coherence.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Training;

/// <summary>
/// L_align = mean over anchors i of KL(P_i || Q_i), where P_i is the PPMI distribution over i's
/// statistical neighbours and Q_i = softmax(cos(e_i, e_j) / tau) over those neighbours plus M
/// negatives shared by all anchors (drawn from the smoothed unigram distribution).
/// </summary>
/// <remarks>
/// KL(P||Q) = sum P log P - sum P log Q; the first term is a constant precomputed per token
/// (<see cref="DeviceField.NegativeEntropy"/>), and the masks need no gradient, so the differentiable part is
/// a row-wise product, one matmul and a log-softmax. Shared negatives make the negative term one [A, d] x [d, M] matmul.
/// </remarks>
internal static class CoherenceAlignmentLoss
{
    /// <summary>Convenience form from id tensors (gathers and normalises itself).</summary>
    /// <param name="embedding">[V, d].</param>
    /// <param name="anchors">[A] int64.</param>
    /// <param name="neighbors">[A, K] int64, padding entries may hold any valid id.</param>
    /// <param name="probabilities">[A, K] target P_i(j); padding entries are 0.</param>
    /// <param name="negatives">[M] int64 (M may be 0).</param>
    /// <param name="temperature">tau &gt; 0.</param>
    public static Tensor Compute(Tensor embedding, Tensor anchors, Tensor neighbors, Tensor probabilities, Tensor negatives, double temperature)
    {
        using var scope = NewDisposeScope();
        var batch = new AlignmentBatch(anchors.cpu().data<long>().ToArray(), neighbors.cpu().data<long>().ToArray(),
            probabilities.cpu().to(ScalarType.Float32).data<float>().ToArray(), negatives.cpu().data<long>().ToArray(), (int)neighbors.shape[1]);
        var tensors = AlignmentTensors.From(batch, embedding.device);
        var unit = nn.functional.normalize(embedding.index_select(0, tensors.RowIds()), p: 2, dim: 1);
        return Compute(unit, tensors, temperature).MoveToOuterDisposeScope();
    }

    /// <param name="unitRows">[A + A·K + M, d] L2-normalised rows in <see cref="AlignmentTensors.RowIds"/> order.</param>
    /// <param name="batch">The step's anchors, neighbours, probabilities, negatives, mask and constant.</param>
    /// <param name="temperature">tau &gt; 0.</param>
    public static Tensor Compute(Tensor unitRows, AlignmentTensors batch, double temperature)
    {
        using var scope = NewDisposeScope();
        int a = batch.AnchorCount, k = batch.K, m = batch.NegativeCount;
        var parts = unitRows.split([a, a * k, m]);
        return Compute(parts[0], parts[1].view(a, k, -1), parts[2], batch, temperature).MoveToOuterDisposeScope();
    }

    /// <param name="anchors">[A, d] the anchors' L2-normalised rows.</param>
    /// <param name="neighbors">[A, K, d] their neighbours' L2-normalised rows.</param>
    /// <param name="negatives">[M, d] the negatives' L2-normalised rows (M may be 0).</param>
    /// <param name="batch">The step's probabilities, mask and constant.</param>
    /// <param name="temperature">tau &gt; 0.</param>
    public static Tensor Compute(Tensor anchors, Tensor neighbors, Tensor negatives, AlignmentTensors batch, double temperature)
    {
        using var scope = NewDisposeScope();
        int a = batch.AnchorCount, k = batch.K;
        var dtype = anchors.dtype;
        // Row-wise dot products as a product and a sum over d: on the CPU about 5x cheaper, forward and backward, than a
        // bmm of A tiny [K, d] x [d, 1] products.
        var logits = (neighbors * anchors.unsqueeze(1)).sum(2);                                   // [A, K] cosines
        if (batch.NegativeCount > 0)
            logits = torch.cat([logits, anchors.matmul(negatives.t())], 1);                       // [A, K + M]
        var logQ = nn.functional.log_softmax(logits.DividedBy(temperature).Plus(batch.Mask.to(dtype)), 1).narrow(1, 0, k); // [A, K]
        var loss = (batch.Probabilities.to(dtype) * logQ).sum().DividedBy(-a).Plus(batch.MeanNegativeEntropy.to(dtype));
        return loss.MoveToOuterDisposeScope();
    }
}
