using Microsoft.ML.Coherence.Modules;
using Microsoft.ML.Coherence.Statistics;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Training;

/// <summary>L_task, weight 1: the language model's cross-entropy (<see cref="NextTokenLoss"/>), the term every run trains.</summary>
internal sealed class LanguageModelTerm(CoherenceLanguageModel model, CoherenceEmbeddingOptions options, Device device) : ITrainingTerm, IDisposable
{
    private readonly CoherenceLanguageModel _model = model;
    private readonly CoherenceEmbeddingOptions _options = options;
    private readonly Device _device = device;
    private Tensor? _logExpectedCounts;
    private UnigramSampler? _logExpectedSource;

    public string Phase => "forward: language model";

    public double WeightAt(StepBatch batch) => 1;

    /// <summary>L_task: next-token (or center-word) cross-entropy, sampled or over the full vocabulary, from the step's
    /// first 2·B·T + S row reads (inputs, targets, LM negatives).</summary>
    public Tensor? Loss(StepBatch stepBatch)
    {
        var (ids, rows, run) = (stepBatch.Ids, stepBatch.Rows, stepBatch.Run);
        int batch = run.Batch, time = run.Time, positions = batch * time, d = _model.Dimension;
        // One gather per group of rows, split rather than narrowed: the backward of a split is one concatenation, where each
        // narrow's backward would fill a zero tensor of the whole gather.
        var lm = rows.Table.index_select(0, rows.Slots.narrow(0, 0, 2 * positions + ids.SampledCount))
            .split([positions, positions, ids.SampledCount]);
        var (inputs, targets, sampled) = (lm[0].view(batch, time, d), lm[1], lm[2]);         // [B, T, d], [B·T, d], [S, d]
        var hidden = _model.Encode(inputs).reshape(-1, d); // [B*T, d]
        if (ids.SampledCount == 0)
            return NextTokenLoss.Full(hidden, _model.OutputTable(), ids.Targets);
        var logExpected = LogExpectedCountsOnDevice(run.LmSampler);                     // [V]
        // Tied: the targets' and negatives' output vectors are their gathered rows; untied: rows of the output table.
        var (targetOutput, sampledOutput) = _model.Output is null
            ? (targets, sampled)
            : (_model.Output.index_select(0, ids.Targets), _model.Output.index_select(0, ids.Sampled));
        return NextTokenLoss.Sampled(hidden, targetOutput, sampledOutput,
            ids.Targets, ids.Sampled, logExpected.index_select(0, ids.Targets), logExpected.index_select(0, ids.Sampled));
    }

    /// <summary>log(M·q(i)) of every id for the sampled softmax, [V] on the training device, computed once per run.</summary>
    private Tensor LogExpectedCountsOnDevice(UnigramSampler lmSampler)
    {
        if (!ReferenceEquals(_logExpectedSource, lmSampler))
        {
            _logExpectedCounts?.Dispose();
            _logExpectedCounts = torch.tensor(lmSampler.LogExpectedCounts(_options.SampledSoftmaxNegatives), device: _device).DetachFromDisposeScope();
            _logExpectedSource = lmSampler;
        }
        return _logExpectedCounts!;
    }

    public void Dispose() => _logExpectedCounts?.Dispose();
}
