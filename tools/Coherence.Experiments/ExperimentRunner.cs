using System.Diagnostics;
using System.Globalization;
using Coherence.Tools;
using Microsoft.ML;
using Microsoft.ML.Coherence;
using Microsoft.ML.Coherence.Evaluation;
using Microsoft.ML.Data;

namespace Coherence.Experiments;

/// <summary>What the plots need from one trained embedding table (kept for the first seed only).</summary>
internal sealed record EmbeddingSnapshot(
    string Variant, EmbeddingMatrix Matrix, FrequencyBucket[] Buckets, float[] Coherence, float[] ChanceCorrected);

/// <summary>
/// Runs the variants of <see cref="Variants"/> on one seed at a time, on one split: the stage's variants, ML.NET's
/// FeaturizeText, their concatenation, and the fastText peers. Every ML.NET feature set goes to the same
/// downstream classifier, trained on the rows that keep their label (<see cref="LabelSelection"/>); unsupervised
/// steps (the embeddings, fastText's vectors, FeaturizeText's dictionaries) see every train text.
/// </summary>
/// <remarks>
/// Call <see cref="BeginSeed"/>, then <see cref="Run"/> for each variant in <see cref="Variants.All"/> order (a
/// variant that reuses another's run must come after it; <see cref="Variants.WithPrerequisites"/> makes sure it
/// is chosen).
/// </remarks>
internal sealed class ExperimentRunner : IDisposable
{
    /// <summary>The downstream classifier, stated in the report.</summary>
    public const string Downstream = "MapValueToKey(Label) → NormalizeMinMax(Features) → SdcaMaximumEntropy (ML.NET defaults)";

    private const string EmbeddingColumn = "Embedding";
    private const string NgramColumn = "Ngrams";
    private const string PeerColumn = "PeerVectors";

    /// <summary>The label column the sca-label variant's stage reads: empty for rows that do not keep their label.</summary>
    public const string StageLabelColumn = "Label";

    private readonly ExperimentOptions _options;
    private readonly List<LabeledRow> _train;
    private readonly List<LabeledRow> _test;
    private readonly List<string>? _corpus;
    private readonly List<WordSimilarityPair>? _pairs;
    private readonly FastTextTool? _fastText;
    private readonly string[] _labels;
    private List<string[]>? _embeddingTokens;
    private Dictionary<string, long>? _embeddingCounts;
    private string? _workDirectory;

    // Per seed: the rows that keep their label and what later variants reuse.
    private int _seed;
    private List<LabeledRow> _labelled = [];
    // Stage runs of this seed that a featurize-text+ variant or the time-matched baseline reuses, by variant.
    private readonly Dictionary<string, CoherenceEmbeddingTransformer> _keptStages = new(StringComparer.Ordinal);
    private CachedTeacher? _teacher;
    private Dictionary<string, float[]>? _teacherVectors;
    private HashSet<int> _labelledIndices = [];
    private CoherenceTrainingReport? _baselineReport;
    private string? _vecPath;
    private double _vecSeconds;

    public ExperimentRunner(ExperimentOptions options, List<LabeledRow> train, List<LabeledRow> test, List<string>? corpus,
        List<WordSimilarityPair>? pairs, FastTextTool? fastText)
    {
        _options = options;
        _train = train;
        _test = test;
        _corpus = corpus;
        _pairs = pairs;
        _fastText = fastText;
        _labels = train.Concat(test).Select(r => r.Label).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
    }

    public List<RunResult> Results { get; } = [];
    public Dictionary<string, List<IReadOnlyList<CoherenceTrainingProgress>>> Histories { get; } = new() { [Variants.Baseline] = [], [Variants.Sca] = [] };
    public Dictionary<string, EmbeddingSnapshot> Snapshots { get; } = [];
    public bool PeakMemoryReset { get; private set; } = true;

    /// <summary>What the report should say about individual runs (time-matched step counts, for example).</summary>
    public List<string> Notes { get; } = [];

    /// <summary>Rows that kept their label on the current seed.</summary>
    public int LabelledRows => _labelled.Count;

    /// <summary>
    /// The stage options of an embedding variant: the one place that maps a variant to what it changes.
    /// <paramref name="timeMatchedSteps"/> is required for the time-matched baseline (see <see cref="TimeMatchedSteps"/>).
    /// </summary>
    public static CoherenceEmbeddingOptions OptionsFor(string variant, CoherenceEmbeddingOptions given, int seed, int? timeMatchedSteps = null)
    {
        var o = given.Clone();
        o.Seed = seed;
        o.Device = "cpu";
        switch (variant)
        {
            case Variants.Sca:
                break;
            case Variants.ScaLabel:
                o.LabelColumnName = StageLabelColumn;
                break;
            case Variants.Baseline:
                o = o.AsBaseline();
                break;
            case Variants.TimeMatchedBaseline:
                o = o.AsBaseline();
                o.Steps = timeMatchedSteps ?? throw new ArgumentException("The time-matched baseline needs its step count (from that seed's baseline and sca runs).", nameof(timeMatchedSteps));
                break;
            case Variants.AlignmentOnly:
                o.UniformityWeight = 0;
                break;
            case Variants.UniformityOnly:
                o.CoherenceWeight = 0;
                break;
            case Variants.ScaUntied:
                o.TieOutputEmbedding = false;
                break;
            case Variants.Distilled:
                o.Steps = 0;
                o.TeacherRowWeight = 0;
                break;
            case Variants.DistilledSca:
                o.TeacherRowWeight = 0;
                break;
            case Variants.DistilledScaRows:
                break;
            default:
                throw new ArgumentException($"'{variant}' is not a variant of the stage; valid: {string.Join(", ", Variants.Embedding)}.", nameof(variant));
        }

        return o;
    }

    /// <summary>
    /// Steps that give a weights-0 run the training time SCA used: round(sca steps x sca s/step / baseline s/step),
    /// at least 1, with both per-step times measured on the same seed (evaluations included in both).
    /// </summary>
    public static int TimeMatchedSteps(int scaSteps, double scaSecondsPerStep, double baselineSecondsPerStep) =>
        baselineSecondsPerStep > 0 && double.IsFinite(scaSecondsPerStep) && double.IsFinite(baselineSecondsPerStep)
            ? Math.Max(1, (int)Math.Round(scaSteps * scaSecondsPerStep / baselineSecondsPerStep, MidpointRounding.AwayFromZero))
            : scaSteps;

    /// <summary>
    /// The step count the next run of an embedding variant will train for, for the progress bar: 1 when the
    /// steps follow from the epochs (the stage resolves them, and its progress reports carry the total).
    /// </summary>
    public int StepsFor(string variant) => variant == Variants.TimeMatchedBaseline ? CurrentTimeMatchedSteps() : _options.Model.Steps ?? 1;

    /// <summary>
    /// A short unmeasured fit of the stage (native libtorch load, JIT, thread pools), so that the first
    /// measured run does not carry the process' start-up cost in its timings.
    /// </summary>
    public void WarmUp()
    {
        var ml = new MLContext(0);
        var data = ml.Data.LoadFromEnumerable(_train.Take(200).Select(r => new TextRow { Text = r.Text }));
        foreach (var variant in new[] { Variants.Baseline, Variants.Sca })
        {
            var o = OptionsFor(variant, _options.Model, 0);
            o.Steps = 20;
            o.EvaluationInterval = 0;
            o.MinCount = 1;
            using var stage = ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", o).Fit(data);
        }
    }

    /// <summary>Starts a seed: chooses the rows that keep their label and forgets the previous seed's runs.</summary>
    public void BeginSeed(int seed)
    {
        EndSeed();
        _seed = seed;
        var chosen = LabelSelection.Choose(_train, _options.LabelFraction, seed);
        _labelledIndices = chosen.ToHashSet();
        _labelled = chosen.Select(i => _train[i]).ToList();
    }

    /// <summary>Runs one variant on the current seed, records and returns its result.</summary>
    public RunResult Run(string variant, IProgress<CoherenceTrainingProgress>? progress = null)
    {
        var result = variant switch
        {
            Variants.FeaturizeText => RunFeaturizeText(),
            _ when Variants.PlusFeaturizeText.TryGetValue(variant, out var reused) => RunFeaturizeTextPlus(variant, _keptStages.GetValueOrDefault(reused), reused),
            Variants.Teacher => RunTeacher(withFeaturizeText: false),
            Variants.FeaturizeTextPlusTeacher => RunTeacher(withFeaturizeText: true),
            Variants.FastTextVectors => RunFastTextVectors(),
            Variants.FeaturizeTextPlusFastTextVectors => RunFeaturizeTextPlusFastTextVectors(),
            Variants.FastTextSupervised => RunFastTextSupervised(variant, []),
            Variants.FastTextSupervisedTuned => RunFastTextSupervised(variant, FastTextTool.TunedSupervisedArguments),
            _ => RunEmbedding(variant, progress),
        };
        result["labelledRows"] = _labelled.Count;
        Results.Add(result);
        return result;
    }

    private RunResult RunEmbedding(string variant, IProgress<CoherenceTrainingProgress>? progress)
    {
        var seed = _seed;
        var ml = new MLContext(seed);
        var embeddingText = StageRows(_train, _labelledIndices, _corpus);
        var embeddingData = ml.Data.LoadFromEnumerable(embeddingText);
        var stageOptions = OptionsFor(variant, _options.Model, seed, variant == Variants.TimeMatchedBaseline ? CurrentTimeMatchedSteps() : null);
        if (Variants.WithTeacher.Contains(variant))
            stageOptions.Teacher = Teacher();
        var estimator = ml.Transforms.Text.CoherenceEmbeddings(EmbeddingColumn, "Text", stageOptions);
        estimator = estimator.WithProgress(progress);
        ResetPeakMemory();
        var fitClock = Stopwatch.StartNew();
        var stage = estimator.Fit(embeddingData);
        double fitSeconds = fitClock.Elapsed.TotalSeconds;
        try
        {
            var result = new RunResult { Variant = variant, Seed = seed };
            var report = stage.Report;
            Histories.GetValueOrDefault(variant)?.Add(report.History);
            result["steps"] = report.Options.Steps; // resolved from the epochs when not given
            result["epochs"] = report.Epochs;
            result["tokensTrained"] = report.TokensTrained;
            result["perplexity"] = report.FinalHeldOutPerplexity;
            result["initialPerplexity"] = report.InitialHeldOutPerplexity;
            result["trainSeconds"] = report.TrainSeconds;
            result["statisticsSeconds"] = report.StatisticsSeconds;
            result["secondsPerStep"] = report.SecondsPerStep;
            result["tokensPerSecond"] = report.TokensPerSecond;
            result["peakMemoryMB"] = report.PeakMemoryMB;
            result["vocabularySize"] = report.VocabularySize;
            result["trainingTokens"] = report.TrainingTokens;
            result["fitSeconds"] = fitSeconds; // the whole Fit: statistics, the teacher's calls (served from its cache when warm), training
            if (stageOptions.Teacher is not null)
            {
                result["teacherSeconds"] = report.TeacherSeconds;
                result["teacherTexts"] = report.TeacherTexts;
                result["teacherRows"] = report.TeacherRows;
                result["teacherExplainedVariance"] = report.TeacherExplainedVariance;
                result["teacherLoss"] = report.FinalTeacherLoss;
            }
            var (scoringRowsPerSecond, modelBytes) = ScoringCost(ml, stage);
            result["scoringRowsPerSecond"] = scoringRowsPerSecond;
            result["modelBytes"] = modelBytes;
            if (stageOptions.LabelColumnName is not null)
            {
                result["heldOutLabelAccuracy"] = report.FinalHeldOutLabelAccuracy;
                result["labelledTrainingDocuments"] = report.LabelledTrainingDocuments;
                result["labelledHeldOutDocuments"] = report.LabelledHeldOutDocuments;
                result["labelBatchSize"] = report.Options.LabelBatchSize; // the size used (the default sizes it per run)
            }

            var matrix = new EmbeddingMatrix(stage.GetEmbeddingMatrix(), stage.Model.Dimension);
            var neighbors = stage.Model.Field.ToNeighbors();
            var buckets = FrequencyBuckets.Assign(stage.Vocabulary.Frequencies.ToArray());
            result["rareTokens"] = buckets.Skip(1).Count(b => b == FrequencyBucket.Rare);
            var coherence = CoherenceScores.Compute(matrix, neighbors);
            var kappa = ChanceCorrectedCoherence.Compute(matrix, neighbors);
            var agreement = NeighborAgreement.Compute(matrix, neighbors, _options.NeighborK, _options.QuerySample, seed);
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
            if (_pairs is not null)
            {
                var vocabulary = stage.Vocabulary;
                BandedPairs.Put(result, _pairs, EmbeddingCounts(), w => vocabulary.TryGetId(w, out var id) ? id : null, matrix);
            }

            if (Histories.ContainsKey(variant) && !Snapshots.ContainsKey(variant))
            {
                Snapshots[variant] = new EmbeddingSnapshot(variant, matrix, buckets, coherence, kappa);
            }

            Classify(ml, stage.AsEstimator().Append(ml.Transforms.Concatenate("Features", EmbeddingColumn)), result);
            if (variant == Variants.Baseline)
            {
                _baselineReport = report;
            }

            if (variant == Variants.Sca || Variants.PlusFeaturizeText.Values.Contains(variant))
            {
                // Kept for its featurize-text+ variant (and, for sca, the time-matched baseline) of this seed.
                _keptStages[variant] = stage;
                stage = null;
            }

            return result;
        }
        finally
        {
            stage?.Dispose();
        }
    }

    /// <summary>
    /// The rows the stage trains on: every train text, then the extra corpus. Its label column (read by sca-label only):
    /// the rows in <paramref name="labelled"/> (the classifier's labelled rows) keep their label; every other row, corpus text
    /// included, has an empty one and feeds only the unsupervised terms.
    /// </summary>
    internal static List<TextRow> StageRows(IReadOnlyList<LabeledRow> train, IReadOnlySet<int> labelled, IEnumerable<string>? corpus) =>
        train.Select((r, i) => new TextRow { Text = r.Text, Label = labelled.Contains(i) ? r.Label : "" })
            .Concat((corpus ?? []).Select(t => new TextRow { Text = t }))
            .ToList();

    private RunResult RunFeaturizeText()
    {
        var ml = new MLContext(_seed);
        var result = new RunResult { Variant = Variants.FeaturizeText, Seed = _seed };
        Classify(ml, ml.Transforms.Text.FeaturizeText("Features", "Text"), result);
        return result;
    }

    /// <summary>FeaturizeText's vector concatenated with the vector of <paramref name="stageVariant"/>'s run of this seed.</summary>
    private RunResult RunFeaturizeTextPlus(string variant, CoherenceEmbeddingTransformer? reused, string stageVariant)
    {
        var stage = reused ?? throw new InvalidOperationException($"{variant} reuses the {stageVariant} run of the same seed; run {stageVariant} first.");
        var ml = new MLContext(_seed);
        var result = new RunResult { Variant = variant, Seed = _seed };
        result["trainSeconds"] = stage.Report.TrainSeconds; // the stage run's, whose embeddings this reuses
        Classify(ml, stage.AsEstimator()
            .Append(ml.Transforms.Text.FeaturizeText(NgramColumn, "Text"))
            .Append(ml.Transforms.Concatenate("Features", NgramColumn, EmbeddingColumn)), result);
        return result;
    }

    /// <summary>The harness' teacher (all-MiniLM-L6-v2 with a cache file, so each split is embedded once across runs).</summary>
    private CachedTeacher Teacher() => _teacher ??= new CachedTeacher(_options.TeacherCache);

    /// <summary>The teacher's own row vectors as features (with FeaturizeText's beside them when asked), and its scoring cost.</summary>
    private RunResult RunTeacher(bool withFeaturizeText)
    {
        var variant = withFeaturizeText ? Variants.FeaturizeTextPlusTeacher : Variants.Teacher;
        var result = new RunResult { Variant = variant, Seed = _seed };
        var teacher = Teacher();
        if (_teacherVectors is null)
        {
            var texts = _train.Concat(_test).Select(r => r.Text).Distinct(StringComparer.Ordinal).ToArray();
            var vectors = teacher.EmbedAll(texts);
            _teacherVectors = texts.Zip(vectors).ToDictionary(p => p.First, p => p.Second, StringComparer.Ordinal);
        }
        // The teacher's steady speed on the test rows, uncached, as the same run measures the stage's (ScoringCost):
        // a warm-up call first, so a run whose vectors all came from the cache does not time the model's loading.
        var sample = _test.Take(TeacherScoringSample).Select(r => r.Text).ToArray();
        teacher.EncodeUncached(sample.Take(WarmUpRows).ToArray());
        var clock = Stopwatch.StartNew();
        teacher.EncodeUncached(sample);
        result["scoringRowsPerSecond"] = sample.Length / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
        var ml = new MLContext(_seed);
        var lookup = _teacherVectors;
        var vectorsOf = ml.Transforms.CustomMapping<TeacherInput, TeacherOutput>((input, output) => output.TeacherVector = lookup[input.Text], contractName: null);
        IEstimator<ITransformer> featurizer = withFeaturizeText
            ? vectorsOf.Append(ml.Transforms.Text.FeaturizeText(NgramColumn, "Text")).Append(ml.Transforms.Concatenate("Features", NgramColumn, nameof(TeacherOutput.TeacherVector)))
            : vectorsOf.Append(ml.Transforms.Concatenate("Features", nameof(TeacherOutput.TeacherVector)));
        Classify(ml, featurizer, result);
        return result;
    }

    /// <summary>Test rows the teacher embeds to time it (seconds at its speed; the texts are padded a batch at a time).</summary>
    private const int TeacherScoringSample = 512;

    /// <summary>Rows the stage scores to time it, the test rows cycled: under a second, and enough that starting the
    /// cursor does not weigh on the rate.</summary>
    private const int StageScoringRows = 20_000;

    /// <summary>Rows scored before the clock starts (ONNX Runtime's session, the teacher's model load).</summary>
    private const int WarmUpRows = 16;

    /// <summary>Rows per second of the fitted stage on the test rows (features read through a cursor, after a warm-up
    /// pass), and its saved size in bytes.</summary>
    private (double RowsPerSecond, long Bytes) ScoringCost(MLContext ml, CoherenceEmbeddingTransformer stage)
    {
        var texts = _test.Select(r => new TextRow { Text = r.Text }).ToArray();
        var rows = ml.Data.LoadFromEnumerable(Enumerable.Range(0, StageScoringRows).Select(i => texts[i % texts.Length]));
        var scored = stage.Transform(rows);
        ReadFeatures(scored, WarmUpRows);
        var clock = Stopwatch.StartNew();
        long count = ReadFeatures(scored, long.MaxValue);
        double rowsPerSecond = count / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
        using var saved = new MemoryStream();
        ml.Model.Save(stage, rows.Schema, saved);
        return (rowsPerSecond, saved.Length);
    }

    /// <summary>Reads the stage's feature vector of up to <paramref name="limit"/> rows through a cursor; returns the rows read.</summary>
    private static long ReadFeatures(IDataView scored, long limit)
    {
        var column = scored.Schema[EmbeddingColumn];
        long count = 0;
        using var cursor = scored.GetRowCursor([column]);
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        var value = default(VBuffer<float>);
        while (count < limit && cursor.MoveNext())
        {
            getter(ref value);
            count++;
        }

        return count;
    }

    private sealed class TeacherInput
    {
        public string Text { get; set; } = "";
    }

    private sealed class TeacherOutput
    {
        [VectorType(384)]
        public float[] TeacherVector { get; set; } = [];
    }

    private RunResult RunFastTextVectors()
    {
        var result = new RunResult { Variant = Variants.FastTextVectors, Seed = _seed };
        var (vecPath, seconds) = FastTextVectors();
        result["trainSeconds"] = seconds;
        var vectors = VecFile.Read(vecPath);
        result["vocabularySize"] = vectors.Words.Count;
        var known = vectors.Matrix.WithoutUnknown();
        result["anisotropy"] = EmbeddingMetrics.Anisotropy(known);
        result["effectiveRank"] = EmbeddingMetrics.EffectiveRank(known);
        result["isotropy"] = EmbeddingMetrics.Isotropy(known);
        if (_pairs is not null)
        {
            BandedPairs.Put(result, _pairs, EmbeddingCounts(), vectors.Lookup, vectors.Matrix);
        }

        var ml = new MLContext(_seed);
        Classify(ml, PooledWordVectors.Create(ml, "Features", "Text", vecPath, vectors.Dimension, _options.Model.SplitPunctuation), result);
        return result;
    }

    private RunResult RunFeaturizeTextPlusFastTextVectors()
    {
        var result = new RunResult { Variant = Variants.FeaturizeTextPlusFastTextVectors, Seed = _seed };
        var (vecPath, seconds) = FastTextVectors();
        result["trainSeconds"] = seconds;
        var ml = new MLContext(_seed);
        Classify(ml, PooledWordVectors.Create(ml, PeerColumn, "Text", vecPath, _options.FastTextDimension, _options.Model.SplitPunctuation)
            .Append(ml.Transforms.Text.FeaturizeText(NgramColumn, "Text"))
            .Append(ml.Transforms.Concatenate("Features", NgramColumn, PeerColumn)), result);
        return result;
    }

    /// <summary>fastText's classifier on the labelled rows, scored on the test rows with the harness' own metrics.</summary>
    private RunResult RunFastTextSupervised(string variant, IReadOnlyList<string> arguments)
    {
        var tool = RequireFastText(variant);
        var result = new RunResult { Variant = variant, Seed = _seed };
        var directory = WorkDirectory();
        var labelIndex = _labels.Select((l, i) => (l, i)).ToDictionary(p => p.l, p => p.i, StringComparer.Ordinal);
        var trainFile = Path.Combine(directory, $"supervised-seed{_seed}-train.txt");
        var testFile = Path.Combine(directory, "supervised-test.txt");
        FastTextFiles.WriteLabelled(trainFile, _labelled.Zip(Tokenize(_labelled.Select(r => r.Text)), (r, t) => (labelIndex[r.Label], t)));
        if (!File.Exists(testFile))
        {
            FastTextFiles.WriteText(testFile, Tokenize(_test.Select(r => r.Text)));
        }

        var clock = Stopwatch.StartNew();
        var model = tool.Supervised(trainFile, Path.Combine(directory, $"{variant}-seed{_seed}"), _seed, arguments);
        result["trainSeconds"] = clock.Elapsed.TotalSeconds;
        var predicted = FastTextFiles.ParsePredictions(tool.Predict(model, testFile), _test.Count, _labels.Length);
        File.Delete(model);
        var counts = Confusion.Counts(_test.Select(r => labelIndex[r.Label]).ToArray(), predicted, _labels.Length);
        result["accuracy"] = Confusion.Accuracy(counts);
        result["macroF1"] = MacroF1.Compute(counts);
        return result;
    }

    /// <summary>The current seed's skipgram vectors (trained on first use), and the seconds fastText took to train them.</summary>
    private (string Path, double Seconds) FastTextVectors()
    {
        if (_vecPath is not null)
        {
            return (_vecPath, _vecSeconds);
        }

        var tool = RequireFastText(Variants.FastTextVectors);
        var directory = WorkDirectory();
        var text = Path.Combine(directory, "embedding-text.txt");
        if (!File.Exists(text))
        {
            FastTextFiles.WriteText(text, EmbeddingTokens());
        }

        var clock = Stopwatch.StartNew();
        // A fresh name per seed: ML.NET caches a custom embedding file by its path.
        _vecPath = tool.Skipgram(text, Path.Combine(directory, $"skipgram-seed{_seed}-{Guid.NewGuid():N}"), _options.FastTextDimension, _seed);
        _vecSeconds = clock.Elapsed.TotalSeconds;
        return (_vecPath, _vecSeconds);
    }

    private FastTextTool RequireFastText(string variant) =>
        _fastText ?? throw new InvalidOperationException($"{variant} needs the fasttext tool; Program skips it when fasttext is not on PATH.");

    private int CurrentTimeMatchedSteps()
    {
        var sca = _keptStages.GetValueOrDefault(Variants.Sca)?.Report;
        var baseline = _baselineReport;
        if (sca is null || baseline is null)
        {
            throw new InvalidOperationException($"{Variants.TimeMatchedBaseline} needs the baseline and sca runs of the same seed; run them first.");
        }

        // The report's options hold the steps the run resolved (from the epochs when Steps was not given).
        var scaSteps = sca.Options.Steps.GetValueOrDefault();
        var steps = TimeMatchedSteps(scaSteps, sca.SecondsPerStep, baseline.SecondsPerStep);
        var note = string.Create(CultureInfo.InvariantCulture,
            $"seed {_seed}: time-matched baseline {steps} steps = round({scaSteps} × {sca.SecondsPerStep:F4} s / {baseline.SecondsPerStep:F4} s per step)");
        if (!Notes.Contains(note))
        {
            Notes.Add(note);
        }

        return steps;
    }

    /// <summary>Fits the featurizer on every train text, the classifier on the labelled rows, scores the test rows.</summary>
    private void Classify(MLContext ml, IEstimator<ITransformer> featurizer, RunResult result)
    {
        var allTrain = ml.Data.LoadFromEnumerable(_train.Select(r => new LabeledText { Label = r.Label, Text = r.Text }));
        var labelledTrain = ml.Data.LoadFromEnumerable(_labelled.Select(r => new LabeledText { Label = r.Label, Text = r.Text }));
        var testData = ml.Data.LoadFromEnumerable(_test.Select(r => new LabeledText { Label = r.Label, Text = r.Text }));
        var clock = Stopwatch.StartNew();
        var features = featurizer.Fit(allTrain);
        result["featurizerSeconds"] = clock.Elapsed.TotalSeconds;
        // Features are computed once and cached: SDCA passes over the data several times.
        var trainFeatures = ml.Data.Cache(features.Transform(labelledTrain));
        var head = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.NormalizeMinMax("Features"))
            .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy());
        clock.Restart();
        var model = head.Fit(trainFeatures);
        result["classifierSeconds"] = clock.Elapsed.TotalSeconds;
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(features.Transform(testData)));
        result["accuracy"] = metrics.MicroAccuracy;
        // The stacking trap: accuracy on the labelled train rows themselves, which a featurizer that read their labels inflates.
        result["trainAccuracy"] = ml.MulticlassClassification.Evaluate(model.Transform(trainFeatures)).MicroAccuracy;
        result["macroF1"] = MacroF1.Compute(metrics.ConfusionMatrix.Counts);
    }

    private List<string[]> EmbeddingTokens() => _embeddingTokens ??= Tokenize(_train.Select(r => r.Text).Concat(_corpus ?? []));

    /// <summary>The stage's tokens (with the run's punctuation setting), for fastText's files and the word counts.</summary>
    private List<string[]> Tokenize(IEnumerable<string> texts) => TokenCounts.Tokenize(texts, _options.Model.SplitPunctuation);

    private Dictionary<string, long> EmbeddingCounts() => _embeddingCounts ??= TokenCounts.Of(EmbeddingTokens());

    private string WorkDirectory()
    {
        if (_workDirectory is null)
        {
            _workDirectory = Path.Combine(Path.GetTempPath(), $"coherence-experiments-{Environment.ProcessId}-{Guid.NewGuid():N}");
            Directory.CreateDirectory(_workDirectory);
        }

        return _workDirectory;
    }

    private void EndSeed()
    {
        foreach (var kept in _keptStages.Values)
            kept.Dispose();
        _keptStages.Clear();
        _baselineReport = null;
        if (_vecPath is not null)
        {
            File.Delete(_vecPath);
            _vecPath = null;
        }
    }

    public void Dispose()
    {
        EndSeed();
        _teacher?.Dispose();
        if (_workDirectory is not null && Directory.Exists(_workDirectory))
        {
            Directory.Delete(_workDirectory, recursive: true);
        }
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

    internal sealed class TextRow
    {
        public string Text { get; set; } = "";
        public string Label { get; set; } = "";
    }

    private sealed class LabeledText
    {
        public string Label { get; set; } = "";
        public string Text { get; set; } = "";
    }
}
