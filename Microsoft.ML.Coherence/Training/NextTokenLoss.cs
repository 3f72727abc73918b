using Microsoft.ML.Coherence.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Training;

/// <summary>
/// L_task: next-token cross-entropy with the tied output embedding. The full softmax is exact;
/// the sampled softmax (Jean et al. 2015) scores the target against shared negatives with the
/// log-expected-count correction, which keeps the step at fastText's pace on a CPU.
/// </summary>
internal static class NextTokenLoss
{
    /// <param name="hidden">[N, d] hidden states.</param>
    /// <param name="embedding">[V, d] tied output embedding.</param>
    /// <param name="targets">[N] int64 next-token ids.</param>
    /// <returns>Mean negative log-likelihood in nats (scalar).</returns>
    public static Tensor Full(Tensor hidden, Tensor embedding, Tensor targets)
    {
        using var scope = NewDisposeScope();
        var logits = hidden.matmul(embedding.t());                       // [N, V]
        return nn.functional.cross_entropy(logits, targets).MoveToOuterDisposeScope();
    }

    /// <param name="hidden">[N, d].</param>
    /// <param name="embedding">[V, d].</param>
    /// <param name="targets">[N] int64.</param>
    /// <param name="negatives">[M] int64, drawn with replacement from <paramref name="negativeLogExpectedCount"/>'s distribution.</param>
    /// <param name="targetLogExpectedCount">[N] log(M q(target)).</param>
    /// <param name="negativeLogExpectedCount">[M] log(M q(negative)).</param>
    public static Tensor Sampled(Tensor hidden, Tensor embedding, Tensor targets, Tensor negatives,
        Tensor targetLogExpectedCount, Tensor negativeLogExpectedCount)
    {
        using var scope = NewDisposeScope();
        return Sampled(hidden, embedding.index_select(0, targets), embedding.index_select(0, negatives), targets, negatives,
            targetLogExpectedCount, negativeLogExpectedCount).MoveToOuterDisposeScope();
    }

    /// <summary>The sampled softmax from already gathered output vectors.</summary>
    /// <param name="hidden">[N, d].</param>
    /// <param name="targetVectors">[N, d] output embeddings of the targets.</param>
    /// <param name="negativeVectors">[M, d] output embeddings of the negatives.</param>
    /// <param name="targets">[N] int64 target ids (to mask accidental hits).</param>
    /// <param name="negatives">[M] int64 negative ids.</param>
    /// <param name="targetLogExpectedCount">[N] log(M q(target)).</param>
    /// <param name="negativeLogExpectedCount">[M] log(M q(negative)).</param>
    public static Tensor Sampled(Tensor hidden, Tensor targetVectors, Tensor negativeVectors, Tensor targets, Tensor negatives,
        Tensor targetLogExpectedCount, Tensor negativeLogExpectedCount)
    {
        using var scope = NewDisposeScope();
        var trueLogit = (hidden * targetVectors).sum(1, keepdim: true)
                        - targetLogExpectedCount.unsqueeze(1);                           // [N, 1]
        var negativeLogits = hidden.matmul(negativeVectors.t())
                             - negativeLogExpectedCount.unsqueeze(0);                    // [N, M]
        // A sampled negative that is the target itself is not a negative ("accidental hit").
        var hits = targets.unsqueeze(1).eq(negatives.unsqueeze(0));
        negativeLogits = negativeLogits.FilledWhere(hits, -1e9);
        var logits = torch.cat([trueLogit, negativeLogits], 1);                          // [N, 1 + M]
        var loss = -nn.functional.log_softmax(logits, 1)[.., 0].mean();
        return loss.MoveToOuterDisposeScope();
    }
}
