using Microsoft.ML.Coherence.Corpus;
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.Coherence.Internal;
using Microsoft.ML.Coherence.Modules;
using Microsoft.ML.Coherence.Statistics;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Training;

/// <summary>
/// The training loop. A step reads top to bottom: learning rate, seeded draws, the rows it touches (<see cref="StepIndexer"/>),
/// Σ weight · loss over the loss terms (<see cref="ITrainingTerm"/>: language model, alignment, uniformity, then the document
/// terms), backward, clip, finite check, update, zero_grad, log. One dispose scope per step. All randomness comes from
/// (seed, step), so a run resumed from a checkpoint draws exactly what the uninterrupted run drew. Evaluation steps are
/// <see cref="TrainingEvaluator"/>'s, progress <see cref="TrainingProgressLog"/>'s, checkpoints and failures in
/// CoherenceTrainer.Recovery.cs.
/// </summary>
/// <remarks>
/// <para>Row-sparse training: a step touches a few thousand of the table's V rows (inputs, targets, LM negatives,
/// anchors, neighbours, alignment negatives). They are gathered once as a leaf table [U, d]; backward gives its
/// [U, d] gradient, clipping runs over it and the dense (Transformer) gradients, and <see cref="RowSparseAdamW"/>
/// updates those rows only. The full softmax reads every row, so it trains densely.</para>
/// <para>The field on the device: neighbour ids, probabilities and Σ P log P per token (<see cref="DeviceField"/>)
/// and log(M·q) per id are uploaded once; a step uploads one id tensor (its seeded draws, made on the host exactly
/// as before), gathers the anchors' rows and the mask on the device and finds the distinct ids there
/// (<c>torch.unique</c>). On the CPU the same indexing runs in plain arrays (<see cref="StepIndexer"/>), which is
/// cheaper there.</para>
/// <para>Host syncs: one per step, logged or not: the loss and gradient norm (and on logged steps the loss terms)
/// read back as one tensor for the finite check, before the update. The check is not deferred: on CUDA
/// <c>torch.unique</c> already waits for the device each step (its output size depends on the data), so deferring
/// the read would save little, while checking before the update keeps "the weights of the last good step" without
/// guarding every write. On the CPU the read is a copy.</para>
/// </remarks>
internal sealed partial class CoherenceTrainer : IDisposable
{
    private readonly CoherenceEmbeddingOptions _options;
    private readonly Device _device;
    private readonly int _seed;
    private readonly Action<string>? _log;
    private readonly Action<string>? _trace;
    private readonly IProgress<CoherenceTrainingProgress>? _progress;
    private readonly TrainingOptimizer _optimizer;
    private readonly bool _rowSparse;

    private readonly StepIndexer _indexer;
    private readonly TrainingEvaluator _evaluator;
    private readonly LanguageModelTerm _languageModel;
    private readonly AlignmentTerm _alignment;
    private readonly UniformityTerm _uniformity;

    /// <param name="options">Resolved options.</param>
    /// <param name="vocabularySize">V.</param>
    /// <param name="device">The training device.</param>
    /// <param name="seed">The run's seed.</param>
    /// <param name="log">Receives Info log lines.</param>
    /// <param name="progress">Receives progress reports.</param>
    /// <param name="trace">Receives the progress lines between the Info ones.</param>
    /// <param name="denseEmbeddingUpdate">Test seam: update the embedding table densely (a [V, d] gradient, clip and AdamW over
    /// the whole table) instead of row-wise. The full softmax (<c>SampledSoftmaxNegatives = 0</c>) is always dense.</param>
    public CoherenceTrainer(CoherenceEmbeddingOptions options, int vocabularySize, Device device, int seed,
        Action<string>? log = null, IProgress<CoherenceTrainingProgress>? progress = null, bool denseEmbeddingUpdate = false,
        Action<string>? trace = null)
    {
        _trace = trace;
        _options = options;
        _device = device;
        _seed = seed;
        _log = log;
        _progress = progress;
        // The fit's own generator, never libtorch's global one: that belongs to the application (and to concurrent fits),
        // which must neither see it reseeded nor change this fit's weights by drawing from it.
        using (var generator = new torch.Generator((ulong)seed))
            Model = new CoherenceLanguageModel(vocabularySize, options.EmbeddingDimension, options.Layers, options.Heads,
                options.ContextLength, options.StaticContextSize, options.TieOutputEmbedding, generator);
        Model.to(device);
        // An untied output table and the document terms (label, teacher rows: they read E outside the step's rows) train densely.
        _rowSparse = !denseEmbeddingUpdate && options.SampledSoftmaxNegatives > 0 && options.TieOutputEmbedding
            && options.LabelColumnName is null && !options.TeacherTrainsRows;
        _optimizer = new TrainingOptimizer(Model, options.LearningRate, options.WeightDecay, _rowSparse);
        _indexer = new StepIndexer(Model, _optimizer, _rowSparse, device);
        _evaluator = new TrainingEvaluator(Model, options, device);
        // The loss terms, summed in this order each step; the document terms (labels, teacher rows) are attached after them.
        _languageModel = new LanguageModelTerm(Model, options, device);
        _alignment = new AlignmentTerm(options.Temperature);
        _uniformity = new UniformityTerm(options.UniformityWeight);
        _terms = [_languageModel, _alignment, _uniformity];
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

    /// <summary>The teacher's row distillation term (Distillation's TeacherRowHead, attached by the engine), or null; setting it
    /// adds it to the step's document terms.</summary>
    internal IDocumentTerm? TeacherHead
    {
        get => _teacherHead;
        set => _teacherHead = Attach(_teacherHead, value);
    }

    private IDocumentTerm? _teacherHead;

    // The step's loss terms in the order they are summed: language model, alignment, uniformity, then the document terms
    // (label, teacher rows) in the order they were attached.
    private readonly List<ITrainingTerm> _terms;

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

    /// <summary>Steps completed (including those restored from a checkpoint).</summary>
    public int CompletedSteps { get; private set; }

    public int? ResumedFromStep { get; private set; }

    public List<CoherenceTrainingProgress> History { get; } = [];

    public TimeSpan TrainingTime { get; private set; }

    public long TokensTrained { get; private set; }


    /// <summary>Trains from the checkpoint to resume (when there is one) to the last step: step, evaluate, report, checkpoint.</summary>
    public void Train(TokenCorpus train, TokenCorpus heldOut, ReadOnlySpan<long> frequencies, StatisticalField field, CancellationToken cancellationToken)
    {
        if (train.TokenCount < 2)
            throw new ArgumentException("The training corpus needs at least 2 known-or-unknown tokens to predict a next token.", "corpus");
        var run = Inputs(train, field, new UnigramSampler(frequencies, _options.ContextSmoothing, includeUnknown: true),
            _options.IsBaseline ? null : new UnigramSampler(frequencies, _options.ContextSmoothing, includeUnknown: false));
        int steps = Steps;
        var checkpoints = OpenCheckpoints(train);
        _evaluator.Reset();
        var clock = Stopwatch.StartNew();
        int firstStep = CompletedSteps + 1;
        var progress = new TrainingProgressLog(steps, firstStep, History, _progress, _log, _trace);
        for (int step = firstStep; step <= steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var schedule = ScheduleStep(step);
            bool log = progress.IsReported(step);
            bool evaluate = step == steps || (_options.EvaluationInterval > 0 && step % _options.EvaluationInterval == 0);
            // A reported step reads its losses (an evaluation step is reported too, so it must not show unread ones).
            var losses = GuardedStep(step, run, schedule.CoherenceWeight, log || evaluate, checkpoints);
            CompletedSteps = step;
            TokensTrained += run.TokensPerStep;
            var evaluation = evaluate ? AfterStep(step, "evaluation", () => Evaluate(step, heldOut, field)) : StepEvaluation.None;
            if (log || evaluate)
                progress.Report(step, run, schedule, losses, evaluation, LabelHead?.LastLoss, TeacherHead?.LastLoss, clock.Elapsed);
            if (checkpoints is not null && (step % _options.CheckpointInterval == 0 || step == steps))
                AfterStep(step, "checkpoint", () => checkpoints.Save(step, Model, _optimizer));
        }
        TrainingTime = clock.Elapsed;
    }

    private RunInputs Inputs(TokenCorpus train, StatisticalField field, UnigramSampler lmSampler, UnigramSampler? negativeSampler) =>
        new(train, field, SequenceLength(_options, train.TokenCount), _options.BatchSize, lmSampler, negativeSampler);

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

    /// <summary>An evaluation step (<see cref="TrainingEvaluator"/>), after the row-sparse table's pending AdamW tails are
    /// flushed, so that evaluations (and the final checkpoint) read the weights dense AdamW would hold; the flush changes no
    /// later step beyond rounding (RowSparseAdamW remarks).</summary>
    private StepEvaluation Evaluate(int step, TokenCorpus heldOut, StatisticalField field)
    {
        _optimizer.Flush();
        return _evaluator.Evaluate(heldOut, field, LabelHead);
    }

    /// <summary>Held-out perplexity of the current weights (<see cref="TrainingEvaluator.HeldOutPerplexity"/>).</summary>
    public double HeldOutPerplexity(TokenCorpus heldOut) => _evaluator.HeldOutPerplexity(heldOut);

    /// <summary>The current embedding table, row-major.</summary>
    public float[] CurrentEmbedding() => _evaluator.CurrentEmbedding();

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

    /// <summary>Test seam: build the step's ids in host arrays (the CPU default) or with tensor ops (<see cref="StepIndexer.HostIndexing"/>).</summary>
    internal bool HostIndexing
    {
        get => _indexer.HostIndexing;
        set => _indexer.HostIndexing = value;
    }

    /// <summary>True when the embedding table is trained row-wise (<see cref="RowSparseAdamW"/>).</summary>
    internal bool RowSparseEmbedding => _rowSparse;

    public void Dispose()
    {
        _indexer.Dispose();
        _languageModel.Dispose();
        _optimizer.Dispose();
        Model.Dispose();
    }
}
