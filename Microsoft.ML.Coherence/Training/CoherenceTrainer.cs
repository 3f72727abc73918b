using System.Diagnostics;
using System.Globalization;
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
/// <remarks>
/// <para>Row-sparse training: a step touches a few thousand of the table's V rows (inputs, targets, LM negatives,
/// anchors, neighbours, alignment negatives). They are gathered once as a leaf table [U, d]; backward gives its
/// [U, d] gradient, clipping runs over it and the dense (Transformer) gradients, and <see cref="RowSparseAdamW"/>
/// updates those rows only. The full softmax reads every row, so it trains densely.</para>
/// <para>The field on the device: neighbour ids, probabilities and Σ P log P per token (<see cref="DeviceField"/>)
/// and log(M·q) per id are uploaded once; a step uploads one id tensor (its seeded draws, made on the host exactly
/// as before), gathers the anchors' rows and the mask on the device and finds the distinct ids there
/// (<c>torch.unique</c>). On the CPU the same indexing runs in plain arrays (<see cref="HostIndexing"/>), which is
/// cheaper there.</para>
/// <para>Host syncs: one per step, logged or not: the loss and gradient norm (and on logged steps the loss terms)
/// read back as one tensor for the finite check, before the update. The check is not deferred: on CUDA
/// <c>torch.unique</c> already waits for the device each step (its output size depends on the data), so deferring
/// the read would save little, while checking before the update keeps "the weights of the last good step" without
/// guarding every write. On the CPU the read is a copy.</para>
/// </remarks>
internal sealed class CoherenceTrainer : IDisposable
{
    private const int HeldOutMaxTokens = 50_000;
    // Progress points (History, IProgress) per run; of these, Info lines in the log (the rest are Trace), sparse as
    // ML.NET's trainers log: a line every tenth of the run, the first and the last.
    private const int MaxProgressPoints = 200;
    private const int MaxInfoLines = 10;

    private readonly CoherenceEmbeddingOptions _options;
    private readonly Device _device;
    private readonly int _seed;
    private readonly Action<string>? _log;
    private readonly Action<string>? _trace;
    private readonly IProgress<CoherenceTrainingProgress>? _progress;
    private readonly TrainingOptimizer _optimizer;
    private readonly bool _rowSparse;

    // Run constants on the device, built on first use (RunStep callers pass the field and sampler each step).
    private DeviceField? _deviceField;
    private StatisticalField? _deviceFieldSource;
    private Tensor? _logExpectedCounts;
    private UnigramSampler? _logExpectedSource;

    /// <param name="options">Resolved options.</param>
    /// <param name="vocabularySize">V.</param>
    /// <param name="device">The training device.</param>
    /// <param name="seed">The run's seed.</param>
    /// <param name="log">Receives Info log lines.</param>
    /// <param name="progress">Receives progress reports.</param>
    /// <param name="trace">Receives the progress lines between the Info ones.</param>
    /// <param name="denseEmbeddingUpdate">Test seam: update the embedding table densely (a [V, d] gradient, clip and AdamW over
    /// the whole table) instead of row-wise. The full softmax (<c>SampledSoftmaxNegatives = 0</c>) is always dense.</param>
    /// <param name="vocabularyTokens">The token of each id; needed (and only read) when <see cref="CoherenceEmbeddingOptions.SubwordBuckets"/> is above 0.</param>
    public CoherenceTrainer(CoherenceEmbeddingOptions options, int vocabularySize, Device device, int seed,
        Action<string>? log = null, IProgress<CoherenceTrainingProgress>? progress = null, bool denseEmbeddingUpdate = false,
        IReadOnlyList<string>? vocabularyTokens = null, Action<string>? trace = null)
    {
        _trace = trace;
        _options = options;
        _device = device;
        _seed = seed;
        _log = log;
        _progress = progress;
        SubwordRows? subwordRows = null;
        if (options.SubwordBuckets > 0)
        {
            if (vocabularyTokens is null)
                throw new ArgumentNullException(nameof(vocabularyTokens), "Subwords need the vocabulary's tokens.");
            subwordRows = new SubwordRows(new Text.CharNgramHasher(options.SubwordMinLength, options.SubwordMaxLength, options.SubwordBuckets), vocabularyTokens);
        }
        // The fit's own generator, never libtorch's global one: that belongs to the application (and to concurrent fits),
        // which must neither see it reseeded nor change this fit's weights by drawing from it.
        using (var generator = new torch.Generator((ulong)seed))
            Model = new CoherenceLanguageModel(vocabularySize, options.EmbeddingDimension, options.Layers, options.Heads,
                options.ContextLength, options.StaticContextSize, subwordRows, options.TieOutputEmbedding, generator);
        Model.to(device);
        // Subwords, an untied output table and the document terms (label, teacher rows: they read E outside the step's rows) train densely.
        _rowSparse = !denseEmbeddingUpdate && options.SampledSoftmaxNegatives > 0 && options.SubwordBuckets == 0 && options.TieOutputEmbedding
            && options.LabelColumnName is null && !Distillation.TeacherTargets.TrainsRows(options);
        _optimizer = new TrainingOptimizer(Model, options.LearningRate, options.WeightDecay, _rowSparse);
        HostIndexing = device.type == DeviceType.CPU;
    }

    public CoherenceLanguageModel Model { get; }

    /// <summary>The run's optimiser steps (the engine resolves a null <see cref="CoherenceEmbeddingOptions.Steps"/> from the epochs first).</summary>
    private int Steps => _options.Steps ?? throw new InvalidOperationException("Steps must be resolved before training.");

    /// <summary>Tokens a training sequence predicts: the context length, or less for a corpus shorter than that.</summary>
    internal static int SequenceLength(CoherenceEmbeddingOptions options, long trainingTokens) =>
        (int)Math.Max(1, Math.Min(options.ContextLength, trainingTokens - 1));

    /// <summary>The label loss's head (issue 10, see <see cref="Training.LabelHead"/>), attached by the engine when a label column is set; null trains on text alone.
    /// Setting it also adds it to the step's document terms.</summary>
    internal LabelHead? LabelHead
    {
        get => _labelHead;
        set => _labelHead = Attach(_labelHead, value);
    }

    private LabelHead? _labelHead;

    /// <summary>The teacher's row distillation term (<see cref="Distillation.TeacherRowHead"/>), or null; setting it adds it to the step's document terms.</summary>
    internal Distillation.TeacherRowHead? TeacherHead
    {
        get => _teacherHead;
        set => _teacherHead = Attach(_teacherHead, value);
    }

    private Distillation.TeacherRowHead? _teacherHead;

    // The document terms (label, teacher rows) the step adds to its loss, in the order they were attached.
    private readonly List<IDocumentTerm> _terms = [];

    /// <summary>Replaces <paramref name="current"/> with <paramref name="next"/> among the step's document terms; returns <paramref name="next"/>.</summary>
    private T? Attach<T>(T? current, T? next) where T : class, IDocumentTerm
    {
        if (current is not null)
            _terms.Remove(current);
        if (next is not null)
            _terms.Add(next);
        return next;
    }

    /// <summary>A digest of what the teacher returned (checkpoint fingerprint), or null without a teacher.</summary>
    internal string? TeacherDigest { get; set; }

    /// <summary>Benchmark seam: when set, receives the wall time of each phase of every step (CPU only, see <see cref="StepPhaseTimes"/>).</summary>
    internal StepPhaseTimes? PhaseTimes { get; set; }

    /// <summary>Test seam: returns true for a step whose loss is replaced by NaN.</summary>
    internal Func<int, bool>? InjectNonFiniteLoss { get; set; }

    /// <summary>Test seam: returns true for a step whose backward pass fails as a libtorch error would.</summary>
    internal Func<int, bool>? InjectNativeFailure { get; set; }

    /// <summary>Test seam: the exception the evaluation ("evaluation") or checkpoint save ("checkpoint") after a step throws, or null.</summary>
    internal Func<int, string, Exception?>? InjectAfterStepFailure { get; set; }

    // True while the optimiser writes the weights: a failure then leaves them partly updated.
    private bool _updatingWeights;

    /// <summary>Steps completed (including those restored from a checkpoint).</summary>
    public int CompletedSteps { get; private set; }

    public int? ResumedFromStep { get; private set; }

    public List<CoherenceTrainingProgress> History { get; } = [];

    public TimeSpan TrainingTime { get; private set; }

    public long TokensTrained { get; private set; }

    /// <summary>The step whose weights <see cref="CoherenceEmbeddingOptions.LabelEarlyStopping"/> kept, when not the last one.</summary>
    public int? EarlyStoppedStep { get; private set; }

    /// <summary>Trains from the checkpoint to resume (when there is one) to the last step: step, evaluate, report, checkpoint.</summary>
    public void Train(TokenCorpus train, TokenCorpus heldOut, ReadOnlySpan<long> frequencies, StatisticalField field, CancellationToken cancellationToken)
    {
        if (train.TokenCount < 2)
            throw new ArgumentException("The training corpus needs at least 2 known-or-unknown tokens to predict a next token.", "corpus");
        var run = Inputs(train, field, new UnigramSampler(frequencies, _options.ContextSmoothing, includeUnknown: true),
            _options.IsBaseline ? null : new UnigramSampler(frequencies, _options.ContextSmoothing, includeUnknown: false));
        int steps = Steps, logEvery = Math.Max(1, steps / MaxProgressPoints);
        int infoEvery = (Math.Max(1, steps / MaxInfoLines) + logEvery - 1) / logEvery * logEvery; // a multiple of logEvery: Info lines are progress points
        var checkpoints = OpenCheckpoints(train);
        using var best = _options.LabelEarlyStopping && LabelHead is not null ? new BestWeights() : null;
        _previousEmbedding = null;
        var clock = Stopwatch.StartNew();
        int firstStep = CompletedSteps + 1;
        for (int step = firstStep; step <= steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var schedule = ScheduleStep(step);
            bool log = step % logEvery == 0 || step == steps || step == firstStep;
            bool evaluate = step == steps || (_options.EvaluationInterval > 0 && step % _options.EvaluationInterval == 0);
            // A reported step reads its losses (an evaluation step is reported too, so it must not show unread ones).
            var losses = GuardedStep(step, run, schedule.CoherenceWeight, log || evaluate, checkpoints);
            CompletedSteps = step;
            TokensTrained += run.TokensPerStep;
            var evaluation = evaluate ? AfterStep(step, "evaluation", () => Evaluate(step, heldOut, field, best)) : StepEvaluation.None;
            if (log || evaluate)
                ReportProgress(step, step - firstStep + 1, run, schedule, losses, evaluation, clock.Elapsed,
                    infoLine: step % infoEvery == 0 || step == steps || step == firstStep);
            if (checkpoints is not null && (step % _options.CheckpointInterval == 0 || step == steps))
                AfterStep(step, "checkpoint", () => checkpoints.Save(step, Model, _optimizer));
        }
        KeepBestWeights(best, steps);
        TrainingTime = clock.Elapsed;
    }

    /// <summary>What a step reads that stays the same for the whole run.</summary>
    private sealed record RunInputs(TokenCorpus Train, StatisticalField Field, int Time, int Batch, UnigramSampler LmSampler,
        UnigramSampler? NegativeSampler)
    {
        public long TokensPerStep => (long)Batch * Time;
    }

    private RunInputs Inputs(TokenCorpus train, StatisticalField field, UnigramSampler lmSampler, UnigramSampler? negativeSampler) =>
        new(train, field, SequenceLength(_options, train.TokenCount), _options.BatchSize, lmSampler, negativeSampler);

    /// <summary>The run's checkpoint store (null without <see cref="CoherenceEmbeddingOptions.CheckpointDirectory"/>), after
    /// restoring the newest checkpoint that fits this run when <see cref="CoherenceEmbeddingOptions.ResumeFromCheckpoint"/> is set.</summary>
    private CheckpointStore? OpenCheckpoints(TokenCorpus train)
    {
        if (_options.CheckpointDirectory is null)
            return null;
        var checkpoints = new CheckpointStore(_options.CheckpointDirectory, Fingerprint(train), _log, Steps);
        if (!_options.ResumeFromCheckpoint)
            checkpoints.ArchiveEarlierRun();
        else if (checkpoints.TryLoadLatest(Model, _optimizer, out int restored))
        {
            CompletedSteps = restored;
            ResumedFromStep = restored;
            _log?.Invoke($"Resumed from the checkpoint of step {restored} in '{_options.CheckpointDirectory}'.");
        }
        return checkpoints;
    }

    /// <summary>One step in its own dispose scope; a libtorch or runtime failure becomes a <see cref="CoherenceTrainingException"/> (<see cref="StepFailed"/>).</summary>
    private StepLosses GuardedStep(int step, RunInputs run, double weight, bool readLosses, CheckpointStore? checkpoints)
    {
        try
        {
            using var scope = torch.NewDisposeScope();
            return TrainStep(step, run, weight, readLosses);
        }
        catch (Exception failure) when (failure is not (CoherenceTrainingException or OperationCanceledException))
        {
            throw StepFailed(step, failure, checkpoints);
        }
    }

    /// <summary>An evaluation step's figures (all null on other steps).</summary>
    private sealed record StepEvaluation(double? HeldOutPerplexity, double? MeanCoherence, double? Drift, double? HeldOutLabelAccuracy)
    {
        public static readonly StepEvaluation None = new(null, null, null, null);
    }

    // The embedding at the previous evaluation, for the drift.
    private float[]? _previousEmbedding;

    /// <summary>Held-out perplexity, label accuracy (offered to early stopping), mean coherence and drift at an evaluation step.</summary>
    private StepEvaluation Evaluate(int step, TokenCorpus heldOut, StatisticalField field, BestWeights? best)
    {
        // The row-sparse table's pending AdamW tails, so that evaluations (and the final checkpoint) read the weights
        // dense AdamW would hold; the flush changes no later step beyond rounding (RowSparseAdamW remarks).
        _optimizer.Flush();
        double? perplexity = heldOut.TokenCount >= 2 ? HeldOutPerplexity(heldOut) : null;
        double? labelAccuracy = LabelHead?.HeldOutAccuracy(Model); // issue 10
        if (best is not null && labelAccuracy is { } accuracy)
            best.Offer(KeptParameters(), step, accuracy);
        var embedding = CurrentEmbedding();
        var matrix = new Evaluation.EmbeddingMatrix(embedding, Model.Dimension);
        double coherence = Evaluation.DistributionSummary.Of(Evaluation.CoherenceScores.Compute(matrix, field.ToNeighbors())).Mean;
        double? drift = _previousEmbedding is null ? null
            : Evaluation.EmbeddingMetrics.Drift(matrix, new Evaluation.EmbeddingMatrix(_previousEmbedding, Model.Dimension));
        _previousEmbedding = embedding;
        return new StepEvaluation(perplexity, coherence, drift, labelAccuracy);
    }

    /// <summary>Records a step's progress in <see cref="History"/> and reports and logs it; <paramref name="done"/> counts the
    /// steps this call of <see cref="Train"/> has run, this one included (the rate and the time remaining use it); the line goes
    /// to the Info log when <paramref name="infoLine"/> is set, to the Trace log otherwise.</summary>
    private void ReportProgress(int step, int done, RunInputs run, (double LearningRate, double CoherenceWeight) schedule,
        StepLosses losses, StepEvaluation evaluation, TimeSpan elapsed, bool infoLine)
    {
        double seconds = elapsed.TotalSeconds;
        var report = new CoherenceTrainingProgress
        {
            Step = step, TotalSteps = Steps, Tokens = step * run.TokensPerStep,
            Loss = losses.Total, TaskLoss = losses.Task, AlignmentLoss = losses.Alignment, UniformityLoss = losses.Uniformity,
            CoherenceWeight = schedule.CoherenceWeight, LearningRate = schedule.LearningRate,
            HeldOutPerplexity = evaluation.HeldOutPerplexity, MeanCoherence = evaluation.MeanCoherence, Drift = evaluation.Drift,
            LabelLoss = LabelHead?.LastLoss, TeacherLoss = TeacherHead?.LastLoss, HeldOutLabelAccuracy = evaluation.HeldOutLabelAccuracy,
            TokensPerSecond = (double)done * run.TokensPerStep / Math.Max(seconds, 1e-9),
            Elapsed = elapsed,
            Remaining = TimeSpan.FromSeconds(seconds / done * (Steps - step)),
        };
        History.Add(report);
        _progress?.Report(report);
        (infoLine ? _log : _trace)?.Invoke(report.ToString());
    }

    /// <summary>Label early stopping: restores the kept weights when the best evaluation was not the last step's.</summary>
    private void KeepBestWeights(BestWeights? best, int steps)
    {
        if (best?.Step is not { } kept || kept == steps || !best.Restore(KeptParameters()))
            return;
        EarlyStoppedStep = kept;
        _log?.Invoke(string.Create(CultureInfo.InvariantCulture,
            $"Early stopping: kept the weights of step {kept} (held-out label accuracy {best.Accuracy:F4}, the best of the evaluations) instead of step {steps}'s."));
    }

    /// <summary>What early stopping keeps: the model's parameters and the label head's exported bigram table.</summary>
    private Tensor[] KeptParameters() => [.. Model.parameters(), .. LabelHead?.ExportedParameters ?? []];

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

    /// <summary>
    /// For benchmarks: one optimiser step exactly as the loop runs it (schedule, coherence ramp, one dispose
    /// scope), without logging, evaluation or checkpoints, so two variants can be timed step by step in turn.
    /// </summary>
    internal void RunStep(int step, TokenCorpus train, UnigramSampler lmSampler, UnigramSampler? negativeSampler, StatisticalField field)
    {
        var (_, weight) = ScheduleStep(step);
        using var scope = torch.NewDisposeScope();
        TrainStep(step, Inputs(train, field, lmSampler, _options.IsBaseline ? null : negativeSampler), weight, readLosses: false);
    }

    /// <summary>One step: draw, gather the rows it touches, forward, backward, clip and check, update (the class remarks).</summary>
    private StepLosses TrainStep(int step, RunInputs run, double weight, bool readLosses)
    {
        PhaseTimes?.Start();
        var draws = DrawStep(step, run, weight);
        PhaseTimes?.Mark("draws (host)");
        var ids = StepIds.Upload(draws, run.Batch, run.Time, _device);
        var (alignment, rows) = StepRows(draws, ids, run);
        PhaseTimes?.Mark("gather and catch up rows");

        var (loss, task, alignmentLoss, uniformity) = Losses(ids, rows, alignment, run, weight);
        // + weight · loss of each document term: the label term (LabelHead.cs), the teacher's row distillation (TeacherRowHead.cs).
        var termLosses = new Tensor?[_terms.Count];
        for (int i = 0; i < _terms.Count; i++)
        {
            termLosses[i] = _terms[i].Loss(Model, step);
            if (termLosses[i] is { } termLoss)
                loss = loss.Plus(termLoss.Times(_terms[i].Weight));
        }
        if (InjectNonFiniteLoss?.Invoke(step) == true)
            loss = loss.Times(double.NaN);
        PhaseTimes?.Mark("forward: coherence terms (and document terms)");

        var read = BackwardAndCheck(step, loss, rows, readLosses ? [task, alignmentLoss, uniformity] : []);
        Update(rows, termLosses, readLosses);
        return readLosses
            ? new StepLosses(read[0], read[2], read[3], read[4])
            : new StepLosses(read[0], double.NaN, double.NaN, double.NaN);
    }

    /// <summary>The step's alignment batch (null when the term is off this step) and every row it touches, gathered once:
    /// built in arrays on the CPU (<see cref="HostIndexing"/>), gathered with tensor ops on CUDA.</summary>
    private (AlignmentTensors? Alignment, DistinctRows Rows) StepRows(StepDraws draws, StepIds ids, RunInputs run)
    {
        AlignmentTensors? alignment;
        (Tensor Ids, Tensor Slots) distinct;
        if (HostIndexing)
        {
            var host = draws.AlignmentNegatives is not null ? AlignmentBatch.Create(draws.Anchors, run.Field, draws.AlignmentNegatives) : null;
            alignment = host is null ? null : AlignmentTensors.From(host, _device);
            distinct = HostDistinct(draws, host, run.Batch, run.Time);
        }
        else
        {
            alignment = draws.AlignmentNegatives is not null
                ? AlignmentTensors.Gather(FieldOnDevice(run.Field), ids.Anchors, ids.Negatives)
                : null;
            // Every embedding row this step touches, in one id list: inputs, targets, LM negatives, then the anchors,
            // their neighbours and the alignment negatives (contiguous, so one normalise serves the coherence terms).
            distinct = DeviceDistinct(torch.cat([ids.Inputs, ids.Targets, ids.Sampled, alignment?.RowIds() ?? ids.Anchors]));
        }
        PhaseTimes?.Mark("ids, alignment rows and mask");
        return (alignment, GatherDistinctRows(distinct));
    }

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
            if (termLosses[i] is { } termLoss)
                _terms[i].Step(_optimizer.LearningRate, readLosses ? termLoss : null); // the head's own AdamW step
        PhaseTimes?.Mark("update");
    }

    /// <summary>The host side of a step: its seeded draws. Separate streams for batches and for coherence sampling,
    /// so the baseline and SCA see the same batches; the order of the draws is that of every earlier version.</summary>
    private StepDraws DrawStep(int step, RunInputs run, double weight)
    {
        var (train, field, time, batch, lmSampler, negativeSampler) = run;
        var batchRandom = SplitMix.ForStep(_seed, step);
        var sampleRandom = SplitMix.ForStep(_seed ^ 0x5CA, step);
        var tokens = train.Tokens;
        var windows = new long[batch * (time + 1)];                                   // [B, T + 1] row-major
        for (int b = 0; b < batch; b++)
        {
            long start = batchRandom.NextInt64(0, train.TokenCount - time);
            for (int t = 0; t <= time; t++)
                windows[b * (time + 1) + t] = tokens[(int)(start + t)];
        }
        int lmNegatives = _options.SampledSoftmaxNegatives;
        long[] sampled = lmNegatives > 0 ? lmSampler.Sample(sampleRandom, lmNegatives) : [];
        long[] anchors = [];
        long[]? negatives = null;
        if (negativeSampler is not null)
        {
            anchors = AnchorSampler.Draw(windows, field, _options.AnchorsPerStep, sampleRandom);
            if (anchors.Length < 2)
                anchors = [];
            else if (weight > 0)
                negatives = negativeSampler.Sample(sampleRandom, _options.CoherenceNegatives);
        }
        return new StepDraws(windows, sampled, anchors, negatives);
    }

    /// <summary>
    /// Gathers each distinct row the step touches once into a small table [U, d]; the step expands from it by
    /// slot, so the expansion's backward accumulates into [U, d]. Row-sparse mode: the table is the optimiser's
    /// caught-up copy of the rows (<see cref="RowSparseAdamW.Gather"/>) made a leaf, so backward yields its [U, d] gradient
    /// and never a dense [V, d] one; the optimiser updates that copy and writes the U rows back once. Dense mode: an
    /// index_select of the parameter, whose backward fills the [V, d] gradient.
    /// </summary>
    /// <param name="distinct">The distinct ids [U] and, for each row the step reads, its slot [N].</param>
    private DistinctRows GatherDistinctRows((Tensor Ids, Tensor Slots) distinct)
    {
        if (_rowSparse)
        {
            var sparse = _optimizer.Gather(distinct.Ids); // the rows as dense AdamW would hold them (RowSparseAdamW remarks)
            return new DistinctRows(distinct.Ids, sparse.Weights.requires_grad_(true), distinct.Slots, sparse); // [U, d]
        }
        return new DistinctRows(distinct.Ids, Model.Rows(distinct.Ids), distinct.Slots, null);  // [U, d], composed with subwords
    }

    /// <summary>Distinct ids on the device: sorted, with each read's slot. The number of distinct ids is data-dependent,
    /// so on CUDA this waits for the device (see the class remarks).</summary>
    private static (Tensor Ids, Tensor Slots) DeviceDistinct(Tensor rowIds)
    {
        var (distinct, slots, _) = rowIds.unique(sorted: true, return_inverse: true);
        return (distinct, slots!);
    }

    /// <summary>
    /// True on the CPU, where the "device" is the host: the step's row ids, alignment rows and mask are then built in
    /// plain arrays (one pass, a slot table of size V reused across steps), which measured 0.6-1.3 ms a static SCA step
    /// cheaper than the same work as tensor ops (benchmarks/README.md); on CUDA they are gathered on the device.
    /// Settable as a test seam; both give the same model up to the clip norm's summation order (test).
    /// </summary>
    internal bool HostIndexing { get; set; }

    private int[]? _slotOf;

    /// <summary>Host form of <see cref="DeviceDistinct"/>: distinct ids in first-read order, and each read's slot,
    /// in the row order of the device path (inputs, targets, LM negatives, anchors, neighbours, negatives).</summary>
    private (Tensor Ids, Tensor Slots) HostDistinct(StepDraws draws, AlignmentBatch? alignment, int batch, int time)
    {
        var slotOf = _slotOf ??= new int[Model.VocabularySize];
        var distinct = new List<long>(1 << 12);
        int positions = batch * time;
        var coherence = alignment?.RowCount ?? draws.Anchors.Length;
        var slots = new long[2 * positions + draws.Sampled.Length + coherence];
        int at = 0;
        void Add(long id)
        {
            int slot = slotOf[id] - 1;
            if (slot < 0)
            {
                slot = distinct.Count;
                distinct.Add(id);
                slotOf[id] = slot + 1;
            }
            slots[at++] = slot;
        }
        for (int n = 0; n < positions; n++)
            Add(draws.Windows[n / time * (time + 1) + n % time]);
        for (int n = 0; n < positions; n++)
            Add(draws.Windows[n / time * (time + 1) + n % time + 1]);
        foreach (long id in draws.Sampled)
            Add(id);
        // The coherence rows in AlignmentBatch.RowIds order (anchors, neighbours, negatives), read as arrays.
        foreach (long id in draws.Anchors)
            Add(id);
        if (alignment is not null)
        {
            foreach (long id in alignment.Neighbors)
                Add(id);
            foreach (long id in alignment.Negatives)
                Add(id);
        }
        foreach (long id in distinct)
            slotOf[id] = 0; // leave the table clear for the next step
        return (torch.tensor(distinct.ToArray(), device: _device), torch.tensor(slots, device: _device));
    }

    /// <summary>L_task + weight·L_align + UniformityWeight·L_unif from the distinct rows (Section 3 of the method).</summary>
    private (Tensor Total, Tensor Task, Tensor? Alignment, Tensor? Uniformity) Losses(StepIds ids, DistinctRows rows,
        AlignmentTensors? alignment, RunInputs run, double weight)
    {
        var task = TaskLoss(ids, rows, run);
        PhaseTimes?.Mark("forward: language model");
        var loss = task;
        Tensor? alignmentLoss = null, uniformity = null;
        if (ids.AnchorCount > 0)
        {
            (alignmentLoss, uniformity) = CoherenceLosses(ids, rows, alignment, 2 * run.Batch * run.Time + ids.SampledCount);
            if (alignmentLoss is not null)
                loss = loss.Plus(alignmentLoss.Times(weight));
            if (uniformity is not null)
                loss = loss.Plus(uniformity.Times(_options.UniformityWeight));
        }
        return (loss, task, alignmentLoss, uniformity);
    }

    /// <summary>L_task: next-token (or center-word) cross-entropy, sampled or over the full vocabulary, from the step's
    /// first 2·B·T + S row reads (inputs, targets, LM negatives).</summary>
    private Tensor TaskLoss(StepIds ids, DistinctRows rows, RunInputs run)
    {
        int batch = run.Batch, time = run.Time, positions = batch * time, d = Model.Dimension;
        // One gather per group of rows, split rather than narrowed: the backward of a split is one concatenation, where each
        // narrow's backward would fill a zero tensor of the whole gather.
        var lm = rows.Table.index_select(0, rows.Slots.narrow(0, 0, 2 * positions + ids.SampledCount))
            .split([positions, positions, ids.SampledCount]);
        var (inputs, targets, sampled) = (lm[0].view(batch, time, d), lm[1], lm[2]);         // [B, T, d], [B·T, d], [S, d]
        // CenterWord needs the whole window of T + 1 vectors: the inputs' first position followed by the targets.
        var hidden = (_options.Objective == CoherenceObjective.NextToken
            ? Model.Encode(inputs)
            : Model.Hidden(torch.cat([inputs.narrow(1, 0, 1), targets.view(batch, time, d)], 1), _options.Objective))
            .reshape(-1, d); // [B*T, d]
        if (ids.SampledCount == 0)
            return NextTokenLoss.Full(hidden, Model.OutputTable(), ids.Targets);
        var logExpected = LogExpectedCountsOnDevice(run.LmSampler);                     // [V]
        // Tied: the targets' and negatives' output vectors are their gathered rows; untied: rows of the output table.
        var (targetOutput, sampledOutput) = Model.Output is null
            ? (targets, sampled)
            : (Model.Output.index_select(0, ids.Targets), Model.Output.index_select(0, ids.Sampled));
        return NextTokenLoss.Sampled(hidden, targetOutput, sampledOutput,
            ids.Targets, ids.Sampled, logExpected.index_select(0, ids.Targets), logExpected.index_select(0, ids.Sampled));
    }

    /// <summary>L_align (when the step has its batch) and L_unif (when weighted) on the L2-normalised coherence rows, the
    /// row reads after the first <paramref name="lmRows"/>: anchors, then their neighbours and the alignment negatives.</summary>
    private (Tensor? Alignment, Tensor? Uniformity) CoherenceLosses(StepIds ids, DistinctRows rows, AlignmentTensors? alignment, int lmRows)
    {
        int anchors = ids.AnchorCount;
        // Normalise the distinct rows once, then expand to the coherence rows.
        var unit = nn.functional.normalize(rows.Table, p: 2, dim: 1)
            .index_select(0, rows.Slots.narrow(0, lmRows, alignment?.RowCount ?? anchors));
        var anchorRows = unit;
        Tensor? alignmentLoss = null;
        if (alignment is not null)
        {
            var parts = unit.split([anchors, anchors * alignment.K, alignment.NegativeCount]);
            anchorRows = parts[0];
            alignmentLoss = CoherenceAlignmentLoss.Compute(anchorRows, parts[1].view(anchors, alignment.K, Model.Dimension), parts[2],
                alignment, _options.Temperature);
        }
        var uniformity = _options.UniformityWeight > 0 ? UniformityLoss.FromUnitVectors(anchorRows) : null;
        return (alignmentLoss, uniformity);
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

    /// <summary>Stops before the update when the loss or the gradient norm is not finite, so the weights stay those of the last good step.</summary>
    private void ThrowIfNotFinite(int step, double total, double norm)
    {
        if (double.IsFinite(total) && double.IsFinite(norm))
            return;
        _optimizer.ZeroGrad();
        foreach (var term in _terms)
            term.ZeroGrad();
        throw new CoherenceTrainingException(
            $"Training stopped at step {step}: the loss or a gradient became {(double.IsFinite(total) ? norm : total)}. " +
            $"The model keeps the weights of step {step - 1}, the last good step. Lower LearningRate (now {_options.LearningRate}) " +
            $"or CoherenceWeight (now {_options.CoherenceWeight}), or raise Temperature (now {_options.Temperature}).", step);
    }

    /// <summary>The field on the training device, uploaded on first use and kept for the run.</summary>
    private DeviceField FieldOnDevice(StatisticalField field)
    {
        if (!ReferenceEquals(_deviceFieldSource, field))
        {
            _deviceField?.Dispose();
            _deviceField = DeviceField.Create(field, _device);
            _deviceFieldSource = field;
        }
        return _deviceField!;
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

    /// <summary>A step's seeded draws on the host: the windows [B·(T + 1)], the LM negatives, the anchors and, when the
    /// alignment term is on this step, its negatives.</summary>
    private sealed record StepDraws(long[] Windows, long[] Sampled, long[] Anchors, long[]? AlignmentNegatives);

    /// <summary>The distinct row ids [U], their rows [U, d], for each of the step's row reads the slot of its id [N], and in
    /// row-sparse mode the rows' optimiser batch (the table is its weights).</summary>
    private sealed record DistinctRows(Tensor Ids, Tensor Table, Tensor Slots, RowBatch? Sparse);

    /// <summary>A step's ids on the device, uploaded as one tensor and viewed in parts.</summary>
    private sealed class StepIds
    {
        public required Tensor Inputs { get; init; }    // [B·T]
        public required Tensor Targets { get; init; }   // [B·T]
        public required Tensor Sampled { get; init; }   // [S]
        public required Tensor Anchors { get; init; }   // [A]
        public required Tensor Negatives { get; init; } // [M]

        public int SampledCount => (int)Sampled.shape[0];

        public int AnchorCount => (int)Anchors.shape[0];

        public static StepIds Upload(StepDraws draws, int batch, int time, Device device)
        {
            var negatives = draws.AlignmentNegatives ?? [];
            var packed = new long[draws.Windows.Length + draws.Sampled.Length + draws.Anchors.Length + negatives.Length];
            draws.Windows.CopyTo(packed, 0);
            draws.Sampled.CopyTo(packed, draws.Windows.Length);
            draws.Anchors.CopyTo(packed, draws.Windows.Length + draws.Sampled.Length);
            negatives.CopyTo(packed, draws.Windows.Length + draws.Sampled.Length + draws.Anchors.Length);
            var all = torch.tensor(packed, device: device);                           // the step's one upload
            var windows = all.narrow(0, 0, draws.Windows.Length).view(batch, time + 1);
            long at = draws.Windows.Length;
            Tensor Next(int length)
            {
                var part = all.narrow(0, at, length);
                at += length;
                return part;
            }
            return new StepIds
            {
                Inputs = windows.narrow(1, 0, time).reshape(-1),
                Targets = windows.narrow(1, 1, time).reshape(-1),
                Sampled = Next(draws.Sampled.Length),
                Anchors = Next(draws.Anchors.Length),
                Negatives = Next(negatives.Length),
            };
        }
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
        foreach (var term in _terms)
            term.ZeroGrad();
        string kept;
        if (!_updatingWeights)
        {
            kept = $"The model keeps the weights of step {CompletedSteps}, the last completed step";
            if (checkpoints is not null && CompletedSteps > 0)
            {
                try
                {
                    checkpoints.Save(CompletedSteps, Model, _optimizer);
                    kept += $", checkpointed in '{_options.CheckpointDirectory}'; a new Fit with the same settings resumes from it";
                }
                catch (Exception saveFailure) when (saveFailure is IOException or UnauthorizedAccessException or OutOfMemoryException)
                {
                    // The step's own failure is the one to report; the earlier checkpoints stay as they were (atomic writes).
                    kept += $"; saving it as a checkpoint failed too ({saveFailure.GetType().Name}: {FirstLine(saveFailure.Message)})";
                }
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

    /// <summary>
    /// Runs the evaluation or the checkpoint save that follows a completed step. An IO, memory or libtorch failure there
    /// becomes a <see cref="CoherenceTrainingException"/> (the engine attaches the model of that step, whose weights are
    /// whole); a failed checkpoint save leaves the previous checkpoint as it was (it is written through a temporary file).
    /// </summary>
    private T AfterStep<T>(int step, string what, Func<T> work)
    {
        try
        {
            if (InjectAfterStepFailure?.Invoke(step, what) is { } injected)
                throw injected;
            return work();
        }
        catch (Exception failure) when (failure is not (CoherenceTrainingException or OperationCanceledException))
        {
            string action = what == "checkpoint" ? $"saving the checkpoint in '{_options.CheckpointDirectory}'" : "the evaluation";
            throw new CoherenceTrainingException(
                $"Training stopped after step {step}, in {action}: {failure.GetType().Name}: {FirstLine(failure.Message)} " +
                $"The model keeps the weights of step {step}, the last completed step.", step, lastGoodModel: null, failure);
        }
    }

    private void AfterStep(int step, string what, Action work) => AfterStep(step, what, () =>
    {
        work();
        return true;
    });

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
    private string Fingerprint(TokenCorpus train) => CheckpointFingerprint.Compute(_options, _seed, Model.VocabularySize, train.Tokens, TeacherDigest);

    /// <summary>True when the embedding table is trained row-wise (<see cref="RowSparseAdamW"/>).</summary>
    internal bool RowSparseEmbedding => _rowSparse;

    public void Dispose()
    {
        _deviceField?.Dispose();
        _logExpectedCounts?.Dispose();
        _optimizer.Dispose();
        Model.Dispose();
    }
}
