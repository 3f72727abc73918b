using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Training;

/// <summary>
/// Early stopping on the held-out label accuracy (<see cref="CoherenceEmbeddingOptions.LabelEarlyStopping"/>): a copy of the
/// model's parameters at the evaluation with the best accuracy so far (the latest of equal ones, since later weights have
/// seen more of the unsupervised terms), written back into the model when training ends.
/// </summary>
internal sealed class BestWeights : IDisposable
{
    private Tensor[]? _copies;

    /// <summary>The step whose weights are kept, or null before the first evaluation.</summary>
    public int? Step { get; private set; }

    /// <summary>The held-out label accuracy at <see cref="Step"/>.</summary>
    public double Accuracy { get; private set; } = double.NegativeInfinity;

    /// <summary>Keeps a copy of <paramref name="parameters"/> when <paramref name="accuracy"/> is at least the best so far.</summary>
    /// <returns>True when the copy was taken.</returns>
    public bool Offer(IReadOnlyList<Tensor> parameters, int step, double accuracy)
    {
        if (accuracy < Accuracy)
            return false;
        using var noGrad = torch.no_grad();
        if (_copies is null)
        {
            // Between steps no dispose scope is open: hold each detached view until its clone returns (see CoherenceLanguageModel.SmallNormal).
            _copies = parameters.Select(p =>
            {
                using var detached = p.detach();
                return detached.clone().DetachFromDisposeScope();
            }).ToArray();
        }
        else
        {
            for (int i = 0; i < parameters.Count; i++)
                _copies[i].copy_(parameters[i]);
        }
        Step = step;
        Accuracy = accuracy;
        return true;
    }

    /// <summary>Writes the kept copies back into <paramref name="parameters"/> (the same tensors, in the same order, as offered); false when nothing was kept.</summary>
    public bool Restore(IReadOnlyList<Tensor> parameters)
    {
        if (_copies is null)
            return false;
        using var noGrad = torch.no_grad();
        for (int i = 0; i < parameters.Count; i++)
            parameters[i].copy_(_copies[i]);
        return true;
    }

    public void Dispose()
    {
        foreach (var copy in _copies ?? [])
            copy.Dispose();
        _copies = null;
    }
}
