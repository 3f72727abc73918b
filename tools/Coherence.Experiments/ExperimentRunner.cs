using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Coherence;
using Microsoft.ML.Coherence.Evaluation;
using Microsoft.ML.Data;

namespace Coherence.Experiments;

/// <summary>What the plots need from one trained embedding table (kept for the first seed only).</summary>
internal sealed record EmbeddingSnapshot(
    string Variant, EmbeddingMatrix Matrix, FrequencyBucket[] Buckets, float[] Coherence, float[] ChanceCorrected);

/// <summary>
/// Runs every variant on one seed: baseline (coherence and uniformity weights 0), SCA (the options as given)
/// and ML.NET's FeaturizeText, each followed by the same downstream classifier.
/// </summary>
internal sealed class ExperimentRunner(ExperimentOptions options, List<LabeledRow> train, List<LabeledRow> test, List<string>? corpus, List<WordSimilarityPair>? pairs)
{
    /// <summary>The downstream classifier, stated in the report.</summary>
    public const string Downstream = "MapValueToKey(Label) → NormalizeMinMax(Features) → SdcaMaximumEntropy (ML.NET defaults)";

    public List<RunResult> Results { get; } = [];
    public Dictionary<string, List<IReadOnlyList<CoherenceTrainingProgress>>> Histories { get; } = new() { ["baseline"] = [], ["sca"] = [] };
    public Dictionary<string, EmbeddingSnapshot> Snapshots { get; } = [];
    public bool PeakMemoryReset { get; private set; } = true;

    public static CoherenceEmbeddingOptions OptionsFor(string variant, CoherenceEmbeddingOptions given, int seed)
    {
        var o = given.Clone();
        o.Seed = seed;
        o.Device = "cpu";
        if (variant == "baseline")
        {
            o.CoherenceWeight = 0;
            o.UniformityWeight = 0;
        }

        return o;
    }

    /// <summary>
    /// A short unmeasured fit of both variants (native libtorch load, JIT, thread pools), so that the first
    /// measured run does not carry the process' start-up cost in its timings.
    /// </summary>
    public void WarmUp()
    {
        var ml = new MLContext(0);
        var data = ml.Data.LoadFromEnumerable(train.Take(200).Select(r => new TextRow { Text = r.Text }));
        foreach (var variant in new[] { "baseline", "sca" })
        {
            var o = OptionsFor(variant, options.Model, 0);
            o.Steps = 20;
            o.EvaluationInterval = 0;
            o.MinCount = 1;
            using var stage = ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", o).Fit(data);
        }
    }

    public RunResult RunEmbedding(string variant, int seed, IProgress<CoherenceTrainingProgress> progress)
    {
        var ml = new MLContext(seed);
        var embeddingText = train.Select(r => new TextRow { Text = r.Text })
            .Concat((corpus ?? []).Select(t => new TextRow { Text = t }))
            .ToList();
        var embeddingData = ml.Data.LoadFromEnumerable(embeddingText);
        var estimator = ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", OptionsFor(variant, options.Model, seed));
        estimator.Progress = progress;
        ResetPeakMemory();
        using var stage = estimator.Fit(embeddingData);

        var result = new RunResult { Variant = variant, Seed = seed };
        var report = stage.Report;
        Histories[variant].Add(report.History);
        result["perplexity"] = report.FinalHeldOutPerplexity;
        result["initialPerplexity"] = report.InitialHeldOutPerplexity;
        result["trainSeconds"] = report.TrainSeconds;
        result["statisticsSeconds"] = report.StatisticsSeconds;
        result["secondsPerStep"] = report.SecondsPerStep;
        result["tokensPerSecond"] = report.TokensPerSecond;
        result["peakMemoryMB"] = report.PeakMemoryMB;
        result["vocabularySize"] = report.VocabularySize;
        result["trainingTokens"] = report.TrainingTokens;

        var matrix = new EmbeddingMatrix(stage.GetEmbeddingMatrix(), stage.Model.Dimension);
        var neighbors = stage.Model.Field.ToNeighbors();
        var buckets = FrequencyBuckets.Assign(stage.Vocabulary.Frequencies.ToArray());
        result["rareTokens"] = buckets.Skip(1).Count(b => b == FrequencyBucket.Rare);
        var coherence = CoherenceScores.Compute(matrix, neighbors);
        var kappa = ChanceCorrectedCoherence.Compute(matrix, neighbors);
        var agreement = NeighborAgreement.Compute(matrix, neighbors, options.NeighborK, options.QuerySample, seed);
        Put(result, "coherence", BucketedSummary.Of(coherence, buckets), "coherenceMean");
        Put(result, "chanceCorrectedCoherence", BucketedSummary.Of(kappa, buckets), "chanceCorrectedCoherence");
        var a = BucketedSummary.Of(agreement, buckets);
        result["neighborAgreement"] = a.Overall.Mean;
        result["rareNeighborAgreement"] = a.Rare.Mean;
        result["mediumNeighborAgreement"] = a.Medium.Mean;
        result["frequentNeighborAgreement"] = a.Frequent.Mean;
        var known = matrix.WithoutUnknown();
        result["anisotropy"] = EmbeddingMetrics.Anisotropy(known);
        result["effectiveRank"] = EmbeddingMetrics.EffectiveRank(known);
        result["isotropy"] = EmbeddingMetrics.Isotropy(known);
        if (pairs is not null)
        {
            var vocabulary = stage.Vocabulary;
            var ws = WordSimilarity.Evaluate(pairs, w => vocabulary.TryGetId(w.ToLowerInvariant(), out var id) ? id : null, matrix);
            result["pairsSpearman"] = ws.Spearman;
            result["pairsAuc"] = ws.Auc;
            result["pairsFound"] = ws.PairsFound;
            result["pairsSkipped"] = ws.PairsSkipped;
        }

        if (!Snapshots.ContainsKey(variant))
        {
            Snapshots[variant] = new EmbeddingSnapshot(variant, matrix, buckets, coherence, kappa);
        }

        Classify(ml, new FittedStage(stage), result);
        Results.Add(result);
        return result;
    }

    public RunResult RunFeaturizeText(int seed)
    {
        var ml = new MLContext(seed);
        var result = new RunResult { Variant = "featurize-text", Seed = seed };
        Classify(ml, ml.Transforms.Text.FeaturizeText("Features", "Text"), result);
        Results.Add(result);
        return result;
    }

    private void Classify(MLContext ml, IEstimator<ITransformer> featurizer, RunResult result)
    {
        var trainData = ml.Data.LoadFromEnumerable(train.Select(r => new LabeledText { Label = r.Label, Text = r.Text }));
        var testData = ml.Data.LoadFromEnumerable(test.Select(r => new LabeledText { Label = r.Label, Text = r.Text }));
        var clock = Stopwatch.StartNew();
        var features = featurizer.Fit(trainData);
        result["featurizerSeconds"] = clock.Elapsed.TotalSeconds;
        // Features are computed once and cached: SDCA passes over the data several times.
        var trainFeatures = ml.Data.Cache(features.Transform(trainData));
        var head = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.NormalizeMinMax("Features"))
            .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy());
        clock.Restart();
        var model = head.Fit(trainFeatures);
        result["classifierSeconds"] = clock.Elapsed.TotalSeconds;
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(features.Transform(testData)));
        result["accuracy"] = metrics.MicroAccuracy;
        result["macroF1"] = MacroF1.Compute(metrics.ConfusionMatrix.Counts);
    }

    private static void Put(RunResult result, string prefix, BucketedSummary summary, string overallName)
    {
        result[overallName] = summary.Overall.Mean;
        result[prefix + "Rare"] = summary.Rare.Mean;
        result[prefix + "Medium"] = summary.Medium.Mean;
        result[prefix + "Frequent"] = summary.Frequent.Mean;
    }

    /// <summary>
    /// The library reports the process' peak working set (VmHWM on Linux), which would carry over from earlier
    /// runs in this process. Writing 5 to /proc/self/clear_refs resets it (Linux 4.0+), so each run's figure is
    /// its own peak (of the whole process, including what stays resident from earlier runs).
    /// </summary>
    private void ResetPeakMemory()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            PeakMemoryReset = false;
        }
    }

    private sealed class TextRow
    {
        public string Text { get; set; } = "";
    }

    private sealed class LabeledText
    {
        public string Label { get; set; } = "";
        public string Text { get; set; } = "";
    }

    /// <summary>An already fitted coherence stage used as a pipeline head (fitting returns it unchanged).</summary>
    private sealed class FittedStage(CoherenceEmbeddingTransformer stage) : IEstimator<ITransformer>
    {
        public ITransformer Fit(IDataView input) => stage;

        public SchemaShape GetOutputSchema(SchemaShape inputSchema) =>
            new CoherenceEmbeddingEstimator(new MLContext(), stage.OutputColumnName, stage.InputColumnName, stage.Report.Options).GetOutputSchema(inputSchema);
    }
}
