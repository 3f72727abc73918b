using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Training;

/// <summary>
/// L_align = mean over anchors i of KL(P_i || Q_i), where P_i is the PPMI distribution over i's
/// statistical neighbours and Q_i = softmax(cos(e_i, e_j) / tau) over those neighbours plus M
/// negatives shared by all anchors (drawn from the smoothed unigram distribution). Shared
/// negatives turn the negative term into one [A, d] x [d, M] matmul instead of A gathers.
/// </summary>
internal static class CoherenceAlignmentLoss
{
    /// <param name="embedding">[V, d].</param>
    /// <param name="anchors">[A] int64.</param>
    /// <param name="neighbors">[A, K] int64, padding entries may hold any valid id.</param>
    /// <param name="probabilities">[A, K] target P_i(j); padding entries are 0.</param>
    /// <param name="negatives">[M] int64 (M may be 0).</param>
    /// <param name="temperature">tau &gt; 0.</param>
    public static Tensor Compute(Tensor embedding, Tensor anchors, Tensor neighbors, Tensor probabilities, Tensor negatives, double temperature)
    {
        using var scope = NewDisposeScope();
        return Compute(embedding.index_select(0, anchors), embedding.index_select(0, neighbors.flatten()), embedding.index_select(0, negatives),
            anchors, neighbors, probabilities, negatives, temperature).MoveToOuterDisposeScope();
    }

    /// <summary>The alignment loss from already gathered vectors (one gather per step serves every term).</summary>
    /// <param name="anchorRows">[A, d] embeddings of the anchors.</param>
    /// <param name="neighborRows">[A*K, d] embeddings of the neighbours, row-major by anchor.</param>
    /// <param name="negativeRows">[M, d] embeddings of the negatives.</param>
    /// <param name="anchors">[A] int64.</param>
    /// <param name="neighbors">[A, K] int64.</param>
    /// <param name="probabilities">[A, K] target P_i(j); padding 0.</param>
    /// <param name="negatives">[M] int64.</param>
    /// <param name="temperature">tau &gt; 0.</param>
    public static Tensor Compute(Tensor anchorRows, Tensor neighborRows, Tensor negativeRows, Tensor anchors, Tensor neighbors,
        Tensor probabilities, Tensor negatives, double temperature)
    {
        using var scope = NewDisposeScope();
        long a = neighbors.shape[0], k = neighbors.shape[1];
        var anchorVectors = nn.functional.normalize(anchorRows, p: 2, dim: 1);                                    // [A, d]
        var neighborVectors = nn.functional.normalize(neighborRows, p: 2, dim: 1).view(a, k, -1);                 // [A, K, d]
        var neighborCos = neighborVectors.bmm(anchorVectors.unsqueeze(2)).squeeze(2);                             // [A, K]
        var valid = probabilities.gt(0);
        var logits = neighborCos.div(temperature).masked_fill(valid.logical_not(), -1e9);
        if (negatives.shape[0] > 0)
        {
            var negativeVectors = nn.functional.normalize(negativeRows, p: 2, dim: 1);                             // [M, d]
            var negativeCos = anchorVectors.matmul(negativeVectors.t());                                          // [A, M]
            // A negative that is the anchor or one of its neighbours is not a negative for that anchor.
            var isSelf = anchors.unsqueeze(1).eq(negatives.unsqueeze(0));                                        // [A, M]
            var isNeighbor = neighbors.unsqueeze(2).eq(negatives.view(1, 1, -1)).logical_and(valid.unsqueeze(2)).any(1);
            logits = torch.cat([logits, negativeCos.div(temperature).masked_fill(isSelf.logical_or(isNeighbor), -1e9)], 1);
        }
        var logQ = nn.functional.log_softmax(logits, 1)[.., ..(int)k];                                           // [A, K]
        var logP = probabilities.clamp_min(1e-30).log();
        var perAnchor = (probabilities * (logP - logQ)).masked_fill(valid.logical_not(), 0).sum(1);             // KL(P_i || Q_i)
        return perAnchor.mean().MoveToOuterDisposeScope();
    }
}
