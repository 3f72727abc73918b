using System.Diagnostics;
using Microsoft.ML.Coherence.Internal;
using Microsoft.ML.Coherence.Modules;
using Microsoft.ML.Coherence.Statistics;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Training;

/// <summary>
/// The training loop: lr, forward, task + weight·coherence, backward, clip, finite check, step,
/// zero_grad, log. One dispose scope per step. All randomness comes from (seed, step), so a run
/// resumed from a checkpoint draws exactly what the uninterrupted run drew.
/// </summary>
internal sealed class CoherenceTrainer : IDisposable
{
    private const int HeldOutMaxTokens = 50_000;
    private const int MaxLogPoints = 200;

    private readonly CoherenceEmbeddingOptions _options;
    private readonly Device _device;
    private readonly int _seed;
    private readonly Action<string>? _log;
    private readonly IProgress<CoherenceTrainingProgress>? _progress;
    private readonly SafeAdamW _optimizer;

    // vocabularyTokens: the token of each id; needed (and only read) when SubwordBuckets is above 0.
    public CoherenceTrainer(CoherenceEmbeddingOptions options, int vocabularySize, Device device, int seed,
        Action<string>? log = null, IProgress<CoherenceTrainingProgress>? progress = null, IReadOnlyList<string>? vocabularyTokens = null)
    {
        _options = options;
        _device = device;
        _seed = seed;
        _log = log;
        _progress = progress;
        torch.random.manual_seed(seed);
        SubwordRows? subwordRows = null;
        if (options.SubwordBuckets > 0)
        {
            if (vocabularyTokens is null)
                throw new ArgumentNullException(nameof(vocabularyTokens), "Subwords need the vocabulary's tokens.");
            subwordRows = new SubwordRows(new Text.CharNgramHasher(options.SubwordMinLength, options.SubwordMaxLength, options.SubwordBuckets), vocabularyTokens);
        }
        Model = new CoherenceLanguageModel(vocabularySize, options.EmbeddingDimension, options.Layers, options.Heads,
            options.ContextLength, options.StaticContextSize, subwordRows, options.TieOutputEmbedding);
        Model.to(device);
        _optimizer = new SafeAdamW(Model.parameters(), options.LearningRate, options.WeightDecay);
    }

    public CoherenceLanguageModel Model { get; }

    /// <summary>The run's optimiser steps (the engine resolves a null <see cref="CoherenceEmbeddingOptions.Steps"/> from the epochs first).</summary>
    private int Steps => _options.Steps ?? throw new InvalidOperationException("Steps must be resolved before training.");

    /// <summary>Tokens a training sequence predicts: the context length, or less for a corpus shorter than that.</summary>
    internal static int SequenceLength(CoherenceEmbeddingOptions options, long trainingTokens) =>
        (int)Math.Max(1, Math.Min(options.ContextLength, trainingTokens - 1));

    /// <summary>The label loss's head (issue 10, see <see cref="Training.LabelHead"/>), attached by the engine when a label column is set; null trains on text alone.</summary>
    internal LabelHead? LabelHead { get; set; }

    /// <summary>Test seam: returns true for a step whose loss is replaced by NaN.</summary>
    internal Func<int, bool>? InjectNonFiniteLoss { get; set; }

    /// <summary>Test seam: returns true for a step whose backward pass fails as a libtorch error would.</summary>
    internal Func<int, bool>? InjectNativeFailure { get; set; }

    // True while the optimiser writes the weights: a failure then leaves them partly updated.
    private bool _updatingWeights;

    /// <summary>Steps completed (including those restored from a checkpoint).</summary>
    public int CompletedSteps { get; private set; }

    public int? ResumedFromStep { get; private set; }

    public List<CoherenceTrainingProgress> History { get; } = [];

    public TimeSpan TrainingTime { get; private set; }

    public long TokensTrained { get; private set; }

    public void Train(TokenCorpus train, TokenCorpus heldOut, ReadOnlySpan<long> frequencies, StatisticalField field, CancellationToken cancellationToken)
    {
        if (train.TokenCount < 2)
            throw new ArgumentException("The training corpus needs at least 2 known-or-unknown tokens to predict a next token.", "corpus");
        int steps = Steps;
        int time = SequenceLength(_options, train.TokenCount);
        int batch = _options.BatchSize;
        var lmSampler = new UnigramSampler(frequencies, _options.ContextSmoothing, includeUnknown: true);
        var negativeSampler = !_options.IsBaseline ? new UnigramSampler(frequencies, _options.ContextSmoothing, includeUnknown: false) : null;
        int logEvery = Math.Max(1, steps / MaxLogPoints);

        var checkpoints = _options.CheckpointDirectory is null ? null : new CheckpointStore(_options.CheckpointDirectory, Fingerprint(train), _log);
        if (checkpoints is not null && _options.ResumeFromCheckpoint && checkpoints.TryLoadLatest(Model, _optimizer, out int restored))
        {
            CompletedSteps = restored;
            ResumedFromStep = restored;
            _log?.Invoke($"Resumed from the checkpoint of step {restored} in '{_options.CheckpointDirectory}'.");
        }

        float[]? previousEmbedding = null;
        var clock = Stopwatch.StartNew();
        int firstStep = CompletedSteps + 1;
        for (int step = firstStep; step <= steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (lr, weight) = ScheduleStep(step);

            bool log = step % logEvery == 0 || step == steps || step == firstStep;
            StepLosses losses;
            try
            {
                using var scope = torch.NewDisposeScope();
                losses = TrainStep(step, train, time, batch, lmSampler, negativeSampler, field, weight, log);
            }
            catch (Exception failure) when (failure is not (CoherenceTrainingException or OperationCanceledException))
            {
                throw StepFailed(step, failure, checkpoints);
            }
            CompletedSteps = step;
            TokensTrained += (long)batch * time;

            bool evaluate = step == steps || (_options.EvaluationInterval > 0 && step % _options.EvaluationInterval == 0);
            double? heldOutPerplexity = null, coherence = null, drift = null;
            if (evaluate)
            {
                heldOutPerplexity = heldOut.TokenCount >= 2 ? HeldOutPerplexity(heldOut) : null;
                var embedding = CurrentEmbedding();
                var matrix = new Evaluation.EmbeddingMatrix(embedding, Model.Dimension);
                coherence = Evaluation.DistributionSummary.Of(Evaluation.CoherenceScores.Compute(matrix, field.ToNeighbors())).Mean;
                if (previousEmbedding is not null)
                    drift = Evaluation.EmbeddingMetrics.Drift(matrix, new Evaluation.EmbeddingMatrix(previousEmbedding, Model.Dimension));
                previousEmbedding = embedding;
            }

            if (log || evaluate)
            {
                double seconds = clock.Elapsed.TotalSeconds;
                int done = step - firstStep + 1;
                var report = new CoherenceTrainingProgress
                {
                    Step = step, TotalSteps = steps, Tokens = (long)step * batch * time,
                    Loss = losses.Total, TaskLoss = losses.Task, AlignmentLoss = losses.Alignment, UniformityLoss = losses.Uniformity,
                    CoherenceWeight = weight, LearningRate = lr,
                    HeldOutPerplexity = heldOutPerplexity, MeanCoherence = coherence, Drift = drift,
                    LabelLoss = LabelHead?.LastLoss, HeldOutLabelAccuracy = evaluate ? LabelHead?.HeldOutAccuracy(Model) : null, // issue 10
                    TokensPerSecond = (double)done * batch * time / Math.Max(seconds, 1e-9),
                    Elapsed = clock.Elapsed,
                    Remaining = TimeSpan.FromSeconds(seconds / done * (steps - step)),
                };
                History.Add(report);
                _progress?.Report(report);
                _log?.Invoke(report.ToString());
            }

            if (checkpoints is not null && (step % _options.CheckpointInterval == 0 || step == steps))
                checkpoints.Save(step, Model, _optimizer);
        }
        TrainingTime = clock.Elapsed;
    }

    private readonly record struct StepLosses(double Total, double Task, double Alignment, double Uniformity);

    /// <summary>Sets the optimiser's learning rate for a 1-based step and returns it with that step's coherence weight.</summary>
    private (double LearningRate, double CoherenceWeight) ScheduleStep(int step)
    {
        double lr = LearningRateSchedule.LearningRate(step, Steps, _options.LearningRate, _options.LearningRateWarmupFraction);
        _optimizer.LearningRate = lr;
        double weight = _options.IsBaseline ? 0
            : LearningRateSchedule.CoherenceWeight(step, Steps, _options.CoherenceWeight, _options.CoherenceWarmupFraction);
        return (lr, weight);
    }

    /// <summary>The distinct ids in first-seen order, and for each input position the slot of its id.</summary>
    private static (long[] Distinct, long[] Slots) Distinct(long[] ids)
    {
        var slotOf = new Dictionary<long, long>(Math.Min(ids.Length, 1 << 14));
        var distinct = new List<long>();
        var slots = new long[ids.Length];
        for (int i = 0; i < ids.Length; i++)
        {
            if (!slotOf.TryGetValue(ids[i], out long slot))
            {
                slot = distinct.Count;
                slotOf[ids[i]] = slot;
                distinct.Add(ids[i]);
            }
            slots[i] = slot;
        }
        return (distinct.ToArray(), slots);
    }

    /// <summary>
    /// For benchmarks: one optimiser step exactly as the loop runs it (schedule, coherence ramp, one dispose
    /// scope), without logging, evaluation or checkpoints, so two variants can be timed step by step in turn.
    /// </summary>
    internal void RunStep(int step, TokenCorpus train, UnigramSampler lmSampler, UnigramSampler? negativeSampler, StatisticalField field)
    {
        int time = SequenceLength(_options, train.TokenCount);
        var (_, weight) = ScheduleStep(step);
        using var scope = torch.NewDisposeScope();
        TrainStep(step, train, time, _options.BatchSize, lmSampler, _options.IsBaseline ? null : negativeSampler, field, weight, readLosses: false);
    }

    private StepLosses TrainStep(int step, TokenCorpus train, int time, int batch, UnigramSampler lmSampler,
        UnigramSampler? negativeSampler, StatisticalField field, double weight, bool readLosses)
    {
        // Separate streams for batches and for coherence sampling: baseline and SCA see the same batches.
        var batchRandom = SplitMix.ForStep(_seed, step);
        var sampleRandom = SplitMix.ForStep(_seed ^ 0x5CA, step);
        var tokens = train.Tokens;
        var ids = new long[batch * (time + 1)];
        for (int b = 0; b < batch; b++)
        {
            long start = batchRandom.NextInt64(0, train.TokenCount - time);
            for (int t = 0; t <= time; t++)
                ids[b * (time + 1) + t] = tokens[(int)(start + t)];
        }
        int positions = batch * time;
        int lmNegatives = _options.SampledSoftmaxNegatives;
        long[] sampled = lmNegatives > 0 ? lmSampler.Sample(sampleRandom, lmNegatives) : [];
        long[] anchors = [];
        AlignmentBatch? alignmentBatch = null;
        if (negativeSampler is not null)
        {
            anchors = AnchorSampler.Draw(ids, field, _options.AnchorsPerStep, sampleRandom);
            if (anchors.Length < 2)
                anchors = [];
            else if (weight > 0)
                alignmentBatch = AlignmentBatch.Create(anchors, field, negativeSampler.Sample(sampleRandom, _options.CoherenceNegatives));
        }

        // One gather for every embedding row this step touches: inputs, targets, LM negatives, then the
        // anchors, their neighbours and the alignment negatives (contiguous, so one normalise serves the
        // coherence terms). Each index_select's backward fills a dense [V, d] gradient: one gather, not seven.
        int coherenceRows = alignmentBatch?.RowCount ?? anchors.Length;
        int lmRows = 2 * positions + sampled.Length;
        var rowIds = new long[lmRows + coherenceRows];
        for (int n = 0; n < positions; n++)
        {
            int b = n / time, t = n % time;
            rowIds[n] = ids[b * (time + 1) + t];
            rowIds[positions + n] = ids[b * (time + 1) + t + 1];
        }
        sampled.CopyTo(rowIds, 2 * positions);
        if (alignmentBatch is not null)
            alignmentBatch.RowIds.ToArray().CopyTo(rowIds, lmRows);
        else
            anchors.CopyTo(rowIds, lmRows);
        var allIds = torch.tensor(rowIds).to(_device);
        // Rows repeat a lot (frequent words; neighbours shared by many anchors): gather each distinct row
        // once into a small table [U, d] and expand from it. The expansion's backward accumulates into the
        // small table, and only U rows reach the dense [V, d] gradient.
        var (distinct, slots) = Distinct(rowIds);
        var table = Model.Rows(distinct);                                               // [U, d]
        var slotTensor = torch.tensor(slots).to(_device);
        var rows = table.index_select(0, slotTensor.narrow(0, 0, lmRows));               // [LM rows, d]

        var inputs = rows.narrow(0, 0, positions).view(batch, time, Model.Dimension);
        // CenterWord needs the whole window of T + 1 vectors: the inputs' first position followed by the targets.
        var hidden = (_options.Objective == CoherenceObjective.NextToken
            ? Model.Encode(inputs)
            : Model.Hidden(torch.cat([inputs.narrow(1, 0, 1), rows.narrow(0, positions, positions).view(batch, time, Model.Dimension)], 1), _options.Objective))
            .reshape(-1, Model.Dimension); // [B*T, d]
        var targets = allIds.narrow(0, positions, positions);
        Tensor task;
        if (lmNegatives > 0)
        {
            var targetCorrection = new float[positions];
            for (int n = 0; n < positions; n++)
                targetCorrection[n] = lmSampler.LogExpectedCount(rowIds[positions + n], lmNegatives);
            var negativeCorrection = sampled.Select(id => lmSampler.LogExpectedCount(id, lmNegatives)).ToArray();
            // Tied: the targets' and negatives' output vectors are their gathered rows; untied: rows of the output table.
            var outputRows = Model.Output is null
                ? rows.narrow(0, positions, positions + sampled.Length)
                : Model.Output.index_select(0, allIds.narrow(0, positions, positions + sampled.Length));
            task = NextTokenLoss.Sampled(hidden, outputRows.narrow(0, 0, positions), outputRows.narrow(0, positions, sampled.Length), targets,
                allIds.narrow(0, 2 * positions, sampled.Length), torch.tensor(targetCorrection).to(_device), torch.tensor(negativeCorrection).to(_device));
        }
        else
        {
            task = NextTokenLoss.Full(hidden, Model.OutputTable(), targets);
        }

        var loss = task;
        Tensor? alignment = null, uniformity = null;
        if (anchors.Length > 0)
        {
            // Normalise the distinct rows once, then expand to the coherence rows.
            var unit = nn.functional.normalize(table, p: 2, dim: 1).index_select(0, slotTensor.narrow(0, lmRows, coherenceRows));
            if (alignmentBatch is not null)
            {
                alignment = CoherenceAlignmentLoss.Compute(unit, alignmentBatch, _options.Temperature);
                loss = loss.Plus(alignment.Times(weight));
            }
            if (_options.UniformityWeight > 0)
            {
                uniformity = UniformityLoss.FromUnitVectors(unit.narrow(0, 0, anchors.Length));
                loss = loss.Plus(uniformity.Times(_options.UniformityWeight));
            }
        }
        // Issue 10: + lambda_label * L_label on the mean word vectors of labelled documents (LabelHead.cs).
        var label = LabelHead?.Loss(Model, step);
        if (label is not null)
            loss = loss.Plus(label.Times(_options.LabelWeight));
        if (InjectNonFiniteLoss?.Invoke(step) == true)
            loss = loss.Times(double.NaN);

        loss.backward();
        if (InjectNativeFailure?.Invoke(step) == true)
            throw new System.Runtime.InteropServices.ExternalException($"Injected libtorch failure at step {step}.");
        double norm = _options.GradientClipNorm > 0
            ? torch.nn.utils.clip_grad_norm_(Model.parameters(), _options.GradientClipNorm)
            : 0;
        double total = loss.item<float>(); // one sync per step: the finite guard needs it
        if (!double.IsFinite(total) || !double.IsFinite(norm))
        {
            _optimizer.ZeroGrad();
            LabelHead?.ZeroGrad();
            throw new CoherenceTrainingException(
                $"Training stopped at step {step}: the loss or a gradient became {(double.IsFinite(total) ? norm : total)}. " +
                $"The model keeps the weights of step {step - 1}, the last good step. Lower LearningRate (now {_options.LearningRate}) " +
                $"or CoherenceWeight (now {_options.CoherenceWeight}), or raise Temperature (now {_options.Temperature}).", step);
        }
        _updatingWeights = true;
        _optimizer.Step();
        _updatingWeights = false;
        _optimizer.ZeroGrad();
        if (label is not null)
            LabelHead!.Step(_optimizer.LearningRate, readLosses ? label : null); // the head's own AdamW step (issue 10)
        return readLosses
            ? new StepLosses(total, task.item<float>(), alignment?.item<float>() ?? 0, uniformity?.item<float>() ?? 0)
            : new StepLosses(total, double.NaN, double.NaN, double.NaN);
    }

    /// <summary>
    /// A step failed with a libtorch or runtime error. Before the weight update the model still holds the last
    /// completed step: it is checkpointed (when checkpoints are on) so a new Fit resumes from there. A failure
    /// inside the update leaves the weights partly written: they are restored from the newest checkpoint when
    /// there is one.
    /// </summary>
    private CoherenceTrainingException StepFailed(int step, Exception failure, CheckpointStore? checkpoints)
    {
        _optimizer.ZeroGrad();
        LabelHead?.ZeroGrad();
        string kept;
        if (!_updatingWeights)
        {
            kept = $"The model keeps the weights of step {CompletedSteps}, the last completed step";
            if (checkpoints is not null && CompletedSteps > 0)
            {
                checkpoints.Save(CompletedSteps, Model, _optimizer);
                kept += $", checkpointed in '{_options.CheckpointDirectory}'; a new Fit with the same settings resumes from it";
            }
        }
        else if (checkpoints is not null && checkpoints.TryLoadLatest(Model, _optimizer, out int restored))
        {
            CompletedSteps = restored;
            kept = $"The failure came during the weight update; the model was restored to the checkpoint of step {restored}";
        }
        else
        {
            kept = "The failure came during the weight update, so the weights may be partly updated (set CheckpointDirectory to keep restorable weights)";
        }
        _updatingWeights = false;
        return new CoherenceTrainingException(
            $"Training failed at step {step}: {failure.GetType().Name}: {FirstLine(failure.Message)} {kept}.", step, lastGoodModel: null, failure);
    }

    private static string FirstLine(string message)
    {
        int end = message.IndexOf('\n');
        return (end < 0 ? message : message[..end]).Trim();
    }

    /// <summary>
    /// Held-out perplexity with the full softmax over the vocabulary, in chunks of the context length, of the objective
    /// trained: next-token perplexity, or for <see cref="CoherenceObjective.CenterWord"/> that of predicting each word from both sides.
    /// </summary>
    public double HeldOutPerplexity(TokenCorpus heldOut)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        Model.eval();
        var tokens = heldOut.Tokens;
        var table = Model.Table();
        var outputTable = Model.OutputTable();
        int time = (int)Math.Min(_options.ContextLength, tokens.Length - 1);
        int limit = Math.Min(tokens.Length, HeldOutMaxTokens);
        double nll = 0;
        long count = 0;
        const int ChunksPerBatch = 16;
        var ids = new List<long>();
        for (int start = 0; start + 1 < limit; start += time)
        {
            int length = Math.Min(time, limit - 1 - start);
            if (length < time)
                break;
            for (int t = 0; t <= time; t++)
                ids.Add(tokens[start + t]);
            if (ids.Count == ChunksPerBatch * (time + 1))
                Flush();
        }
        Flush();
        Model.train();
        return Evaluation.Perplexity.FromNegativeLogLikelihood(nll, count);

        void Flush()
        {
            if (ids.Count == 0)
                return;
            using var inner = torch.NewDisposeScope();
            int rows = ids.Count / (time + 1);
            var window = torch.tensor(ids.ToArray(), [rows, time + 1]).to(_device);
            var vectors = table.index_select(0, window.flatten()).view(rows, time + 1, Model.Dimension);
            var hidden = Model.Hidden(vectors, _options.Objective).reshape(-1, Model.Dimension);
            var loss = NextTokenLoss.Full(hidden, outputTable, window[.., 1..].reshape(-1));
            nll += loss.item<float>() * rows * time;
            count += (long)rows * time;
            ids.Clear();
        }
    }

    public float[] CurrentEmbedding()
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        return Modules.CausalTransformerBlock.Values(Model.Table());
    }

    /// <summary>What a checkpoint must agree on to be resumed by this run: the options, seed, vocabulary size and training tokens.</summary>
    private string Fingerprint(TokenCorpus train) => CheckpointFingerprint.Compute(_options, _seed, Model.VocabularySize, train.Tokens);

    public void Dispose()
    {
        _optimizer.Dispose();
        Model.Dispose();
    }
}
