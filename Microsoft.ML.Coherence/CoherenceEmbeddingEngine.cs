using Microsoft.ML.Coherence.Corpus;
using Microsoft.ML.Coherence.Training;
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.Coherence.Modules;
using Microsoft.ML.Coherence.Internal;
using Microsoft.ML.Coherence.Text;
using Microsoft.ML.Runtime;
using TorchSharp;

namespace Microsoft.ML.Coherence;

/// <summary>
/// From tokenised documents to a trained <see cref="CoherenceEmbeddingModel"/>: vocabulary (pass 1),
/// encoding and held-out split (pass 2), co-occurrence counting over the training split, the
/// statistical field, then the training loop. Text is streamed; only token ids are kept.
/// </summary>
internal static class CoherenceEmbeddingEngine
{
    /// <param name="environment">The user's context (an MLContext, or the environment behind its catalogs): seed, log,
    /// GPU settings and <c>CancelExecution()</c>, read now.</param>
    /// <param name="documents">Streams the tokenised documents; called once per corpus pass.</param>
    /// <param name="options">Training options (validated here again).</param>
    /// <param name="progress">Receives progress reports.</param>
    /// <param name="cancellationToken">Stops training, as <c>CancelExecution()</c> on <paramref name="environment"/> does.</param>
    /// <param name="configure">Test seam: sees the trainer (and its label head) before training.</param>
    /// <param name="labels">The label of each document (row i = document i), when a label column is set; null trains on text alone.</param>
    /// <param name="rowTexts">With a teacher: reads the text of the given rows (ascending row indices), which the teacher embeds for row
    /// distillation; null rebuilds each row's text from its known tokens.</param>
    public static CoherenceEmbeddingModel Train(IHostEnvironment environment, Func<IEnumerable<string[]>> documents, CoherenceEmbeddingOptions options,
        IProgress<CoherenceTrainingProgress>? progress = null, CancellationToken cancellationToken = default,
        Action<CoherenceTrainer>? configure = null, LabeledCorpus? labels = null, Func<IReadOnlyList<int>, IReadOnlyList<string>>? rowTexts = null) =>
        TrainOnPieces(environment, () => documents().Select(TokenPiece.Document),
            options, progress, cancellationToken, configure, labels, rowTexts);

    /// <summary>As <see cref="Train"/>, with each row's tokens (a long row's in pieces) as slices of the tokenizer's reused buffer (no string a token).</summary>
    public static CoherenceEmbeddingModel TrainOnPieces(IHostEnvironment environment, Func<IEnumerable<TokenPiece>> documents,
        CoherenceEmbeddingOptions options, IProgress<CoherenceTrainingProgress>? progress = null, CancellationToken cancellationToken = default,
        Action<CoherenceTrainer>? configure = null, LabeledCorpus? labels = null, Func<IReadOnlyList<int>, IReadOnlyList<string>>? rowTexts = null)
    {
        ArgumentNullException.ThrowIfNull(environment);
        OptionsValidator.Validate(options);
        options = options.Clone();
        var trainingHost = environment.Register("CoherenceEmbedding");
        int seed = options.Seed ?? trainingHost.Rand.Next();
        using var channel = trainingHost.Start("Coherence training");
        void Log(string message) => channel.Info(MessageSensitivity.None, message);
        using var cancellation = new HostCancellation(trainingHost, cancellationToken);
        cancellation.ThrowIfCancellationRequested();

        var device = SelectDevice(environment, options, channel, Log);
        var prepared = PrepareCorpus(environment, documents, options, seed, cancellation, Log);
        var (vocabulary, train, heldOut, field) = (prepared.Vocabulary, prepared.Train, prepared.HeldOut, prepared.Field);
        double statisticsSeconds = prepared.Seconds;
        options.Steps ??= StepsFor(options, train.TokenCount);
        var warnings = CorpusSizeWarnings.For(train.TokenCount, heldOut.TokenCount, options.HeldOutFraction);
        foreach (string warning in warnings)
            channel.Warning(MessageSensitivity.None, warning);
        Log(string.Create(CultureInfo.InvariantCulture, $"Vocabulary {vocabulary.Count:N0} tokens; {train.TokenCount:N0} training and {heldOut.TokenCount:N0} held-out tokens; " +
            $"{prepared.CooccurringPairs:N0} co-occurring pairs; field built in {statisticsSeconds:F1}s; device {device}; " +
            $"{options.Steps:N0} steps ({Epochs(options, train.TokenCount):F2} epochs)."));

        using var trainer = new CoherenceTrainer(options, vocabulary.Count, device, seed, Log, progress,
            trace: message => channel.Trace(MessageSensitivity.None, message));
        using var labelHead = LabelHeadFor(labels, options, seed, train, heldOut, trainer, device, Log);
        trainer.LabelHead = labelHead;
        var teacher = options.Teacher is { } generator
            ? Distillation.TeacherTargets.Build(generator, vocabulary, train, TokenCorpus.HeldOutRule(options.HeldOutFraction, seed),
                train.DocumentCount + heldOut.DocumentCount, rowTexts, options, seed, Log, cancellation.Token)
            : null;
        using var teacherHead = TeacherHeadFor(teacher, trainer, train, device, options, seed);
        configure?.Invoke(trainer);
        double? initialPerplexity = heldOut.TokenCount >= 2 ? trainer.HeldOutPerplexity(heldOut) : null;
        try
        {
            trainer.Train(train, heldOut, vocabulary.Frequencies, field, cancellation.Token);
        }
        catch (CoherenceTrainingException diverged)
        {
            var partial = Report(trainer, options, seed, device, vocabulary, train, heldOut, initialPerplexity, statisticsSeconds, labels?.Classes, teacher, warnings);
            throw new CoherenceTrainingException(diverged.Message, diverged.Step,
                new CoherenceEmbeddingModel(vocabulary, field, trainer.Model.ToEncoderWeights(), partial), diverged.InnerException);
        }
        var report = Report(trainer, options, seed, device, vocabulary, train, heldOut, initialPerplexity, statisticsSeconds, labels?.Classes, teacher, warnings);
        return new CoherenceEmbeddingModel(vocabulary, field, trainer.Model.ToEncoderWeights(), report);
    }

    /// <summary>
    /// The training device from the options and ML.NET's GPU settings as they stand now (a missing GPU without FallbackToCpu
    /// fails here, before any work), after the Debian 12 fix of TorchSharp's native library that must precede its first
    /// call; a checkpoint folder is checked writable too.
    /// </summary>
    private static torch.Device SelectDevice(IHostEnvironment environment, CoherenceEmbeddingOptions options, IChannel channel, Action<string> log)
    {
        TorchSharpNativeFix.EnsureApplied((message, warning) =>
        {
            if (warning)
                channel.Warning(MessageSensitivity.None, message);
            else
                log(message);
        });
        var device = TorchDevice.Select(options.Device, HostEnvironmentSettings.GpuDeviceId(environment),
            HostEnvironmentSettings.FallbackToCpu(environment), log);
        if (options.CheckpointDirectory is not null)
            CheckpointStore.EnsureWritable(options.CheckpointDirectory);
        return device;
    }

    /// <summary>The two passes over the text, counting and the field; the passes' memory is returned before libtorch allocates.</summary>
    private static PreparedCorpus PrepareCorpus(IHostEnvironment environment, Func<IEnumerable<TokenPiece>> documents, CoherenceEmbeddingOptions options,
        int seed, HostCancellation cancellation, Action<string> log)
    {
        long workingSetBefore = Environment.WorkingSet;
        var prepared = PreparedCorpus.Prepare(() => Cancellable(documents(), cancellation.Token), options, seed, log);
        cancellation.ThrowIfCancellationRequested();
        // The passes' buffers and the counting tables are garbage now; released before libtorch allocates, the fit's peak is
        // the larger of the two phases instead of their sum.
        IdleMemory.Release(environment, workingSetBefore, "the corpus preparation");
        return prepared;
    }

    /// <summary>
    /// The label head when labels are given and <see cref="CoherenceEmbeddingOptions.LabelWeight"/> is above 0: the labelled
    /// documents of the training split, a seeded <see cref="CoherenceEmbeddingOptions.LabelHoldOutFraction"/> of them kept out
    /// of the label loss. Documents held out for perplexity stay out of the label loss too.
    /// </summary>
    private static LabelHead? LabelHeadFor(LabeledCorpus? labels, CoherenceEmbeddingOptions options, int seed, TokenCorpus train, TokenCorpus heldOut,
        CoherenceTrainer trainer, torch.Device device, Action<string> log)
    {
        if (labels is null)
            return null;
        if (labels.RowLabels.Length != train.DocumentCount + heldOut.DocumentCount)
            throw new InvalidOperationException(
                $"The label column gave {labels.RowLabels.Length} rows and the text column {train.DocumentCount + heldOut.DocumentCount}: they must be read from the same rows.");
        if (labels.LabelledRows == 0)
            CoherenceThrow.InvalidCorpus(string.Create(CultureInfo.InvariantCulture,
                $"The label column '{options.LabelColumnName}' has no label in {labels.RowLabels.Length:N0} rows (every value is empty or the missing key): ") +
                "give some rows a label, or set LabelColumnName to null.");
        if (options.LabelWeight == 0)
        {
            log("LabelWeight is 0: the label column is read but the label loss is off.");
            return null;
        }
        var documents = LabelledDocuments.Select(labels, TokenCorpus.HeldOutRule(options.HeldOutFraction, seed), options.LabelHoldOutFraction, seed);
        options.LabelBatchSize ??= LabelBatchSizeFor(options, documents.Training.Length);
        log(string.Create(CultureInfo.InvariantCulture, $"Label column '{options.LabelColumnName}': {labels.Classes.Length} classes; {documents.Training.Length:N0} labelled training documents, " +
            $"{documents.HeldOut.Length:N0} held out of the label loss; label weight {options.LabelWeight}, {options.LabelBatchSize} labelled documents per step " +
            $"({(double)options.LabelBatchSize * options.Steps!.Value / Math.Max(1, documents.Training.Length):F1} passes over them)."));
        return new LabelHead(documents, train, trainer.Model.Dimension, device, options, seed);
    }

    /// <summary>
    /// With a teacher: starts the table from the distilled one, attaches the row distillation term when it has rows, and puts the
    /// teacher's digest into the checkpoint fingerprint. Null (and nothing changed) without a teacher.
    /// </summary>
    private static Distillation.TeacherRowHead? TeacherHeadFor(Distillation.TeacherTargets? teacher, CoherenceTrainer trainer, TokenCorpus train,
        torch.Device device, CoherenceEmbeddingOptions options, int seed)
    {
        if (teacher is null)
            return null;
        trainer.Model.SetEmbedding(teacher.Vocabulary.Table);
        trainer.TeacherDigest = teacher.Digest;
        if (teacher.RowVectors is null || teacher.Rows.Length == 0)
            return null;
        var head = new Distillation.TeacherRowHead(teacher.Rows, teacher.RowVectors, teacher.Vocabulary, train, device, options, seed);
        trainer.TeacherHead = head;
        return head;
    }

    /// <summary>The label batch for <see cref="CoherenceEmbeddingOptions.LabelEpochs"/> passes over <paramref name="labelled"/> documents in the run's steps, at least 1.</summary>
    internal static int LabelBatchSizeFor(CoherenceEmbeddingOptions options, int labelled) =>
        DocumentPooling.BatchSize(options.LabelEpochs, labelled, options.Steps!.Value);


    /// <summary>Steps for <see cref="CoherenceEmbeddingOptions.Epochs"/> passes over <paramref name="trainingTokens"/>, at least 1.</summary>
    internal static int StepsFor(CoherenceEmbeddingOptions options, long trainingTokens)
    {
        double perStep = (double)options.BatchSize * CoherenceTrainer.SequenceLength(options, trainingTokens);
        return (int)Math.Clamp(Math.Ceiling(options.Epochs * trainingTokens / perStep), 1, int.MaxValue);
    }

    /// <summary>Passes over the training tokens that <see cref="CoherenceEmbeddingOptions.Steps"/> steps make.</summary>
    internal static double Epochs(CoherenceEmbeddingOptions options, long trainingTokens) =>
        trainingTokens == 0 ? 0 : (double)options.Steps!.Value * options.BatchSize * CoherenceTrainer.SequenceLength(options, trainingTokens) / trainingTokens;

    /// <summary>The documents, stopping with <see cref="OperationCanceledException"/> once <paramref name="token"/> fires.</summary>
    private static IEnumerable<T> Cancellable<T>(IEnumerable<T> documents, CancellationToken token)
    {
        foreach (var document in documents)
        {
            token.ThrowIfCancellationRequested();
            yield return document;
        }
    }

    private static CoherenceTrainingReport Report(CoherenceTrainer trainer, CoherenceEmbeddingOptions options, int seed, torch.Device device,
        Vocabulary vocabulary, TokenCorpus train, TokenCorpus heldOut, double? initialPerplexity, double statisticsSeconds, IReadOnlyList<string>? labelClasses,
        Distillation.TeacherTargets? teacher, IReadOnlyList<string> warnings)
    {
        var last = trainer.History.Count > 0 ? trainer.History[^1] : null;
        int stepsRun = trainer.CompletedSteps - (trainer.ResumedFromStep ?? 0);
        double seconds = trainer.TrainingTime.TotalSeconds;
        return new CoherenceTrainingReport
        {
            Options = WithoutTeacher(options),
            Seed = seed,
            Device = device.ToString(),
            VocabularySize = vocabulary.Count,
            TrainingTokens = train.TokenCount,
            Epochs = Epochs(options, train.TokenCount),
            TokensTrained = trainer.TokensTrained,
            HeldOutTokens = heldOut.TokenCount,
            ResumedFromStep = trainer.ResumedFromStep,
            History = trainer.History.ToArray(),
            Warnings = warnings,
            InitialHeldOutPerplexity = initialPerplexity,
            FinalHeldOutPerplexity = last?.HeldOutPerplexity,
            FinalMeanCoherence = last?.MeanCoherence ?? double.NaN,
            StatisticsSeconds = statisticsSeconds,
            TrainSeconds = seconds,
            SecondsPerStep = stepsRun > 0 ? seconds / stepsRun : 0,
            TokensPerSecond = seconds > 0 ? trainer.TokensTrained / seconds : 0,
            PeakMemoryMB = PeakWorkingSetMB(),
            LabelClasses = labelClasses ?? [],
            LabelledTrainingDocuments = trainer.LabelHead?.Documents.Training.Length ?? 0,
            LabelledHeldOutDocuments = trainer.LabelHead?.Documents.HeldOut.Length ?? 0,
            FinalHeldOutLabelAccuracy = last?.HeldOutLabelAccuracy,
            FinalLabelLoss = last?.LabelLoss,
            TeacherName = options.Teacher is { } generator ? TeacherName(generator) : null,
            TeacherSeconds = teacher?.Seconds ?? 0,
            TeacherTexts = teacher?.Texts ?? 0,
            TeacherRows = teacher?.Rows.Length ?? 0,
            TeacherDimension = teacher?.Vocabulary.TeacherDimension ?? 0,
            TeacherExplainedVariance = teacher?.Vocabulary.ExplainedVariance ?? 0,
            FinalTeacherLoss = trainer.History.LastOrDefault(p => p.TeacherLoss is not null)?.TeacherLoss,
        };
    }

    /// <summary>The options for the report: the teacher left out, so that a fitted stage does not keep the teacher alive.</summary>
    private static CoherenceEmbeddingOptions WithoutTeacher(CoherenceEmbeddingOptions options)
    {
        if (options.Teacher is null)
            return options;
        var copy = options.Clone();
        copy.Teacher = null;
        return copy;
    }

    /// <summary>The teacher's model id or provider from its metadata, else its type name.</summary>
    private static string TeacherName(Microsoft.Extensions.AI.IEmbeddingGenerator<string, Microsoft.Extensions.AI.Embedding<float>> teacher)
    {
        var metadata = teacher.GetService(typeof(Microsoft.Extensions.AI.EmbeddingGeneratorMetadata)) as Microsoft.Extensions.AI.EmbeddingGeneratorMetadata;
        return metadata?.DefaultModelId ?? metadata?.ProviderName ?? teacher.GetType().Name;
    }

    private static double PeakWorkingSetMB() =>
        Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0);
}
