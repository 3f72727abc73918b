// SpamClassification: coherence embeddings on the full SpamAssassin split (data/full/spam), two ML.NET
// trainers on top, and FeaturizeText (n-grams) with the same trainers for comparison.
// Needs the full data set: bash scripts/get-data.sh spam
using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Coherence;
using Microsoft.ML.Data;

string root = ExampleSupport.FindRoot();
string dir = Path.Combine(root, "data", "full", "spam");
if (!File.Exists(Path.Combine(dir, "train.tsv")) || !File.Exists(Path.Combine(dir, "test.tsv")))
{
    Console.Error.WriteLine($"The full SpamAssassin data set is missing ({dir}). Get it with:");
    Console.Error.WriteLine("  bash scripts/get-data.sh spam");
    return 2;
}

var ml = new MLContext(seed: 1);
var train = ml.Data.LoadFromTextFile<Row>(Path.Combine(dir, "train.tsv"), separatorChar: '\t', allowQuoting: false);
var test = ml.Data.LoadFromTextFile<Row>(Path.Combine(dir, "test.tsv"), separatorChar: '\t', allowQuoting: false);
Console.WriteLine($"SpamAssassin: {Count(ml, train):N0} training and {Count(ml, test):N0} test messages");

var options = new CoherenceEmbeddingOptions { EmbeddingDimension = 64, Steps = 300, EvaluationInterval = 100, Seed = 1 };
var estimator = ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", options);
Console.WriteLine($"Training coherence embeddings: {options.Steps} steps, d = {options.EmbeddingDimension}");
var clock = Stopwatch.StartNew();
using var stage = TrainingProgress.Show(estimator, e => e.Fit(train));
Console.WriteLine();
Console.WriteLine($"  vocabulary {stage.Report.VocabularySize:N0}, held-out perplexity {stage.Report.InitialHeldOutPerplexity:F0} -> {stage.Report.FinalHeldOutPerplexity:F1}, {clock.Elapsed.TotalSeconds:F0} s");

var trainers = new (string Name, Func<IEstimator<ITransformer>> Create)[]
{
    ("SdcaMaximumEntropy", () => ml.MulticlassClassification.Trainers.SdcaMaximumEntropy()),
    ("LbfgsMaximumEntropy", () => ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy()),
};
var featurizers = new (string Name, Func<IEstimator<ITransformer>> Create)[]
{
    ("coherence embeddings", () => stage.AsEstimator()), // fitted once above, reused by both trainers
    ("FeaturizeText", () => ml.Transforms.Text.FeaturizeText("Features", "Text")),
};
Console.WriteLine();
Console.WriteLine($"{"features",-22} {"trainer",-22} {"accuracy",9} {"macro-acc",9} {"log-loss",9} {"seconds",8}");
foreach (var (featureName, featurizer) in featurizers)
{
    foreach (var (trainerName, trainer) in trainers)
    {
        clock.Restart();
        var pipeline = featurizer().Append(ml.Transforms.Conversion.MapValueToKey("Label"))
            .Append(ml.Transforms.NormalizeMinMax("Features")).AppendCacheCheckpoint(ml).Append(trainer());
        var metrics = ml.MulticlassClassification.Evaluate(pipeline.Fit(train).Transform(test));
        Console.WriteLine($"{featureName,-22} {trainerName,-22} {metrics.MicroAccuracy,9:P1} {metrics.MacroAccuracy,9:P1} {metrics.LogLoss,9:F3} {clock.Elapsed.TotalSeconds,8:F1}");
    }
}
Console.WriteLine();
Console.WriteLine($"Feature length: coherence embeddings {((VectorDataViewType)stage.GetOutputSchema(train.Schema)["Features"].Type).Size}, " +
                  "FeaturizeText tens of thousands of sparse n-gram counts.");
return 0;

static long Count(MLContext ml, IDataView data) => ml.Data.CreateEnumerable<Row>(data, reuseRowObject: true).LongCount();




