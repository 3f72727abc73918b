using Microsoft.ML.Coherence.Corpus;
using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Coherence;
using Microsoft.ML.Coherence.Statistics;
using Microsoft.ML.Coherence.Text;
using Coherence.Tools;
using Microsoft.ML.Coherence.Training;

namespace Coherence.Benchmarks;

/// <summary>
/// Time per step of baseline and SCA measured in one process, step by step in turn (baseline step s,
/// SCA step s, baseline step s+1, ...), so a change of machine load hits both alike. Reports the
/// medians and their ratio; on a shared 2-core machine this is far steadier than separate runs.
/// </summary>
internal static class PairedTiming
{
    public sealed record Result(int Layers, int VocabularySize, int Steps, double BaselineMedianSeconds, double ScaMedianSeconds,
        double Ratio, double BaselineTokensPerSecond, double ScaTokensPerSecond, int Dimension, int Window, int MinCount,
        long TrainingTokens, double TokensPerStep, IReadOnlyList<PairedTiming.PhaseTime> Phases)
    {
        /// <summary>Passes over the training tokens that the run's steps make (steps × tokens per step / training tokens).</summary>
        public double Epochs => Steps * TokensPerStep / TrainingTokens;
    }

    /// <summary>One phase of the step (<see cref="StepPhaseTimes"/>): its median wall time in the baseline's and in SCA's steps.</summary>
    public sealed record PhaseTime(string Phase, double BaselineSeconds, double ScaSeconds);

    /// <summary>
    /// The stage's training split of <paramref name="corpusPath"/> as text, one document per line, in the stage's own
    /// tokens (CoherenceTokenizer), with the held-out documents left out by the stage's own rule: what the paired
    /// runs train on (every token is in their vocabulary: MinCount 1, at most 30,000 distinct tokens).
    /// </summary>
    public static IEnumerable<string> TrainingText(string corpusPath, int seed)
    {
        var ml = new MLContext(seed: seed);
        var isHeldOut = TokenCorpus.HeldOutRule(Options(0, 1, seed, 30_000).HeldOutFraction, seed);
        return new CoherenceTokenizer(ml).Tokenize(File.ReadLines(corpusPath)).Where((_, i) => !isHeldOut(i)).Select(tokens => string.Join(' ', tokens));
    }

    /// <param name="settings">Option=value settings applied to the SCA options before the baseline is derived from them.</param>
    public static Result Run(string corpusPath, int layers, int steps, int seed, int maxVocabulary, IReadOnlyList<string>? settings = null)
    {
        var ml = new MLContext(seed: seed);
        var documents = new CoherenceTokenizer(ml).Tokenize(File.ReadLines(corpusPath)).ToList();
        var sca = Options(layers, steps, seed, maxVocabulary);
        foreach (var setting in settings ?? [])
            OptionAssignment.Apply(sca, setting);
        var baseline = sca.AsBaseline();
        var prepared = PreparedCorpus.Prepare(() => documents.Select(TokenPiece.Document), sca, seed);
        var frequencies = prepared.Vocabulary.Frequencies;
        var lmSampler = new UnigramSampler(frequencies, sca.ContextSmoothing, includeUnknown: true);
        var negativeSampler = new UnigramSampler(frequencies, sca.ContextSmoothing, includeUnknown: false);

        using var baselineTrainer = new CoherenceTrainer(baseline, prepared.Vocabulary.Count, TorchSharp.torch.CPU, seed);
        using var scaTrainer = new CoherenceTrainer(sca, prepared.Vocabulary.Count, TorchSharp.torch.CPU, seed);
        baselineTrainer.PhaseTimes = new StepPhaseTimes();
        scaTrainer.PhaseTimes = new StepPhaseTimes();
        var baselineTimes = new List<double>();
        var scaTimes = new List<double>();
        var clock = new Stopwatch();
        for (int step = 1; step <= steps; step++)
        {
            clock.Restart();
            baselineTrainer.RunStep(step, prepared.Train, lmSampler, null, prepared.Field);
            baselineTimes.Add(clock.Elapsed.TotalSeconds);
            clock.Restart();
            scaTrainer.RunStep(step, prepared.Train, lmSampler, negativeSampler, prepared.Field);
            scaTimes.Add(clock.Elapsed.TotalSeconds);
        }
        // Drop the first five steps of each (allocator and thread-pool warm-up).
        double b = StepPhaseTimes.Median(baselineTimes.Skip(5)), s = StepPhaseTimes.Median(scaTimes.Skip(5));
        double tokens = sca.BatchSize * Math.Min(sca.ContextLength, prepared.Train.TokenCount - 1);
        var baselinePhases = baselineTrainer.PhaseTimes.Medians(skip: 5).ToDictionary(p => p.Phase, p => p.MedianSeconds);
        var phases = scaTrainer.PhaseTimes.Medians(skip: 5)
            .Select(p => new PhaseTime(p.Phase, baselinePhases.GetValueOrDefault(p.Phase), p.MedianSeconds)).ToList();
        return new Result(layers, prepared.Vocabulary.Count, steps, b, s, s / b, tokens / b, tokens / s, sca.EmbeddingDimension, sca.Window,
            sca.MinCount, prepared.Train.TokenCount, tokens, phases);
    }

    private static CoherenceEmbeddingOptions Options(int layers, int steps, int seed, int maxVocabulary) => new()
    {
        EmbeddingDimension = 64,
        Layers = layers,
        Heads = 4,
        ContextLength = 64,
        BatchSize = 32,
        Steps = steps,
        EvaluationInterval = 0,
        MaxVocabularySize = maxVocabulary,
        MinCount = 1,
        HeldOutFraction = 0.05f,
        Seed = seed,
        Device = "cpu",
    };
}
