using System.Diagnostics;
using Microsoft.ML.Coherence.Internal;
using Microsoft.ML.Coherence.Text;
using Microsoft.ML.Runtime;
using TorchSharp;

namespace Microsoft.ML.Coherence.Training;

/// <summary>
/// From tokenised documents to a trained <see cref="CoherenceEmbeddingModel"/>: vocabulary (pass 1),
/// encoding and held-out split (pass 2), co-occurrence counting over the training split, the
/// statistical field, then the training loop. Text is streamed; only token ids are kept.
/// </summary>
internal static class CoherenceEmbeddingEngine
{
    public static CoherenceEmbeddingModel Train(MLContext mlContext, Func<IEnumerable<string[]>> documents, CoherenceEmbeddingOptions options,
        IProgress<CoherenceTrainingProgress>? progress = null, CancellationToken cancellationToken = default,
        Action<CoherenceTrainer>? configure = null, IHostEnvironment? host = null)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        OptionsValidator.Validate(options);
        options = options.Clone();
        var trainingHost = (host ?? mlContext).Register("CoherenceEmbedding");
        int seed = options.Seed ?? trainingHost.Rand.Next();
        using var channel = trainingHost.Start("Coherence training");
        void Log(string message) => channel.Info(MessageSensitivity.None, message);

        var device = TorchDevice.Select(options.Device, mlContext.GpuDeviceId, mlContext.FallbackToCpu, Log);

        var prepared = PreparedCorpus.Prepare(documents, options, seed);
        var (vocabulary, train, heldOut, field) = (prepared.Vocabulary, prepared.Train, prepared.HeldOut, prepared.Field);
        double statisticsSeconds = prepared.Seconds;
        options.Steps ??= StepsFor(options, train.TokenCount);
        Log($"Vocabulary {vocabulary.Count:N0} tokens; {train.TokenCount:N0} training and {heldOut.TokenCount:N0} held-out tokens; " +
            $"{prepared.CooccurringPairs:N0} co-occurring pairs; field built in {statisticsSeconds:F1}s; device {device}; " +
            $"{options.Steps:N0} steps ({Epochs(options, train.TokenCount):F2} epochs).");

        using var trainer = new CoherenceTrainer(options, vocabulary.Count, device, seed, Log, progress);
        configure?.Invoke(trainer);
        double? initialPerplexity = heldOut.TokenCount >= 2 ? trainer.HeldOutPerplexity(heldOut) : null;
        try
        {
            trainer.Train(train, heldOut, vocabulary.Frequencies, field, cancellationToken);
        }
        catch (CoherenceTrainingException diverged)
        {
            var partial = Report(trainer, options, seed, device, vocabulary, train, heldOut, initialPerplexity, statisticsSeconds);
            throw new CoherenceTrainingException(diverged.Message, diverged.Step,
                new CoherenceEmbeddingModel(vocabulary, field, EncoderWeights(trainer, options, vocabulary, train), partial), diverged.InnerException);
        }
        var report = Report(trainer, options, seed, device, vocabulary, train, heldOut, initialPerplexity, statisticsSeconds);
        return new CoherenceEmbeddingModel(vocabulary, field, EncoderWeights(trainer, options, vocabulary, train), report);
    }

    /// <summary>The trained encoder, with what its pooling needs from the training text (SIF's weights and common component).</summary>
    private static Scoring.CoherenceEncoderWeights EncoderWeights(CoherenceTrainer trainer, CoherenceEmbeddingOptions options, Vocabulary vocabulary, TokenCorpus train)
    {
        var weights = trainer.Model.ToEncoderWeights();
        return options.Pooling == CoherencePooling.Sif ? Scoring.SifPooling.Fit(weights, vocabulary.Frequencies, train) : weights;
    }

    /// <summary>Steps for <see cref="CoherenceEmbeddingOptions.Epochs"/> passes over <paramref name="trainingTokens"/>, at least 1.</summary>
    internal static int StepsFor(CoherenceEmbeddingOptions options, long trainingTokens)
    {
        double perStep = (double)options.BatchSize * CoherenceTrainer.SequenceLength(options, trainingTokens);
        return (int)Math.Clamp(Math.Ceiling(options.Epochs * trainingTokens / perStep), 1, int.MaxValue);
    }

    /// <summary>Passes over the training tokens that <see cref="CoherenceEmbeddingOptions.Steps"/> steps make.</summary>
    internal static double Epochs(CoherenceEmbeddingOptions options, long trainingTokens) =>
        trainingTokens == 0 ? 0 : (double)options.Steps!.Value * options.BatchSize * CoherenceTrainer.SequenceLength(options, trainingTokens) / trainingTokens;

    private static CoherenceTrainingReport Report(CoherenceTrainer trainer, CoherenceEmbeddingOptions options, int seed, torch.Device device,
        Vocabulary vocabulary, TokenCorpus train, TokenCorpus heldOut, double? initialPerplexity, double statisticsSeconds)
    {
        var last = trainer.History.Count > 0 ? trainer.History[^1] : null;
        int stepsRun = trainer.CompletedSteps - (trainer.ResumedFromStep ?? 0);
        double seconds = trainer.TrainingTime.TotalSeconds;
        return new CoherenceTrainingReport
        {
            Options = options,
            Seed = seed,
            Device = device.ToString(),
            VocabularySize = vocabulary.Count,
            TrainingTokens = train.TokenCount,
            Epochs = Epochs(options, train.TokenCount),
            TokensTrained = trainer.TokensTrained,
            HeldOutTokens = heldOut.TokenCount,
            ResumedFromStep = trainer.ResumedFromStep,
            History = trainer.History.ToArray(),
            InitialHeldOutPerplexity = initialPerplexity,
            FinalHeldOutPerplexity = last?.HeldOutPerplexity,
            FinalMeanCoherence = last?.MeanCoherence ?? double.NaN,
            StatisticsSeconds = statisticsSeconds,
            TrainSeconds = seconds,
            SecondsPerStep = stepsRun > 0 ? seconds / stepsRun : 0,
            TokensPerSecond = seconds > 0 ? trainer.TokensTrained / seconds : 0,
            PeakMemoryMB = PeakWorkingSetMB(),
        };
    }

    private static double PeakWorkingSetMB() =>
        Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0);
}
