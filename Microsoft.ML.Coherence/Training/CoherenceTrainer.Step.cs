using Microsoft.ML.Coherence.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Training;

/// <summary>
/// One optimiser step, top to bottom: draw the batch, gather the rows it touches, the weighted sum of the terms, backward,
/// clip and check, update (the loop and its schedule are in CoherenceTrainer.cs).
/// </summary>
internal sealed partial class CoherenceTrainer
{
    /// <summary>One step: draw, gather the rows it touches, forward, backward, clip and check, update (the class remarks).</summary>
    private StepLosses TrainStep(int step, RunInputs run, double weight, bool readLosses)
    {
        PhaseTimes?.Start();
        var draws = StepDraws.Draw(_options, _seed, step, run, weight);
        PhaseTimes?.Mark("draws (host)");
        var ids = StepIds.Upload(draws, run.Batch, run.Time, _device);
        var (alignment, distinct) = _indexer.Distinct(draws, ids, run);
        PhaseTimes?.Mark("ids, alignment rows and mask");
        var rows = _indexer.GatherRows(distinct);
        PhaseTimes?.Mark("gather and catch up rows");

        var batch = new StepBatch(Model, step, run, ids, rows, alignment, weight);
        var (loss, termLosses) = WeightedSum(batch);
        if (InjectNonFiniteLoss?.Invoke(step) == true)
            loss = loss.Times(double.NaN);

        var read = BackwardAndCheck(step, loss, rows,
            readLosses ? [TermLoss(termLosses, _languageModel), TermLoss(termLosses, _alignment), TermLoss(termLosses, _uniformity)] : []);
        Update(rows, termLosses, readLosses);
        return readLosses
            ? new StepLosses(read[0], read[2], read[3], read[4])
            : new StepLosses(read[0], double.NaN, double.NaN, double.NaN);
    }

    /// <summary>Σ weight · loss over the terms that have a loss this step, in order; each term's unweighted loss (null when absent).</summary>
    private (Tensor Loss, Tensor?[] TermLosses) WeightedSum(StepBatch batch)
    {
        Tensor? total = null;
        var losses = new Tensor?[_terms.Count];
        for (int i = 0; i < _terms.Count; i++)
        {
            losses[i] = _terms[i].Loss(batch);
            if (losses[i] is { } loss)
            {
                double weight = _terms[i].WeightAt(batch);
                var weighted = weight == 1 ? loss : loss.Times(weight);
                total = total is null ? weighted : total.Plus(weighted);
            }
            PhaseTimes?.Mark(_terms[i].Phase);
        }
        return (total ?? throw new InvalidOperationException("The language model term always has a loss."), losses);
    }

    private Tensor? TermLoss(Tensor?[] losses, ITrainingTerm term) => losses[_terms.IndexOf(term)];

    /// <summary>Backward, clipping and the step's one host read (<see cref="ReadForFiniteCheck"/>); throws before the update
    /// when the loss or the gradient norm is not finite.</summary>
    private double[] BackwardAndCheck(int step, Tensor loss, DistinctRows rows, Tensor?[] terms)
    {
        loss.backward();
        PhaseTimes?.Mark("backward");
        if (InjectNativeFailure?.Invoke(step) == true)
            throw new System.Runtime.InteropServices.ExternalException($"Injected libtorch failure at step {step}.");
        var norm = ClipGradients(rows.Table);
        var read = ReadForFiniteCheck(loss, norm, terms);
        ThrowIfNotFinite(step, read[0], read[1]);
        PhaseTimes?.Mark("clip and finite check");
        return read;
    }

    /// <summary>The optimiser steps (the model's, then each document term's head that had a loss this step), then zero_grad.</summary>
    private void Update(DistinctRows rows, Tensor?[] termLosses, bool readLosses)
    {
        _updatingWeights = true;
        _optimizer.Step(rows.Sparse, _rowSparse ? rows.Table.grad : null);
        _updatingWeights = false;
        _optimizer.ZeroGrad();
        for (int i = 0; i < _terms.Count; i++)
            if (_terms[i] is IDocumentTerm document && termLosses[i] is { } termLoss)
                document.Step(_optimizer.LearningRate, readLosses ? termLoss : null); // the head's own AdamW step
        PhaseTimes?.Mark("update");
    }

    /// <summary>Clips the step's gradients by their total norm: the dense parameters' and, in row-sparse mode, the
    /// touched rows' [U, d] (the untouched rows' gradient is zero, so the norm is the dense one). Null when off.</summary>
    private Tensor? ClipGradients(Tensor table)
    {
        if (_options.GradientClipNorm <= 0)
            return null;
        var gradients = _optimizer.DenseGradients.ToList();
        if (_rowSparse)
            gradients.Add(table.grad ?? throw new InvalidOperationException("The step's row table received no gradient."));
        return GradientClipping.ClipInPlace(gradients, _options.GradientClipNorm);
    }

    /// <summary>
    /// The step's one host sync: the loss and the gradient norm for the finite check (0 when clipping is off), and
    /// on logged steps the loss terms, read back together as one small tensor.
    /// </summary>
    private static double[] ReadForFiniteCheck(Tensor loss, Tensor? norm, Tensor?[] terms)
    {
        var device = loss.device;
        var values = new List<Tensor> { loss.detach(), norm ?? torch.zeros(Array.Empty<long>(), device: device) };
        foreach (var term in terms)
            values.Add(term?.detach() ?? torch.zeros(Array.Empty<long>(), device: device));
        return torch.stack(values.Select(v => v.to(ScalarType.Float64)).ToArray()).cpu().data<double>().ToArray();
    }
}
