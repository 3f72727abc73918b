// PretrainThenClassify: train coherence embeddings once, without labels, on data/sample/corpus.txt, then
// reuse them (CoherenceEmbeddingTransformer.FromModel) as the featurizer of two different classifiers:
// SpamAssassin (ham/spam) and WordNet supersenses (8 classes). Both pipelines are saved; one is reloaded
// in a fresh MLContext and must give the same predictions.
using Microsoft.ML;
using Microsoft.ML.Coherence;
using Microsoft.ML.Data;

string root = ExampleSupport.FindRoot();
string sample = Path.Combine(root, "data", "sample");
var ml = new MLContext(seed: 1);

// 1. Pre-train on unlabelled text: one line per document, a single Text column.
var corpus = ml.Data.LoadFromTextFile<CorpusLine>(Path.Combine(sample, "corpus.txt"), separatorChar: '\t', allowQuoting: false);
var options = new CoherenceEmbeddingOptions { EmbeddingDimension = 64, Steps = 400, EvaluationInterval = 100, Seed = 1 };
var estimator = ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", options);
Console.WriteLine($"Pre-training on corpus.txt (unlabelled): {options.Steps} steps, d = {options.EmbeddingDimension}");
CoherenceEmbeddingModel pretrained;
using (var fitted = TrainingProgress.Show(estimator, e => e.Fit(corpus)))
    pretrained = fitted.Model; // the model outlives the fitted stage: it holds no ONNX session
Console.WriteLine();
Console.WriteLine($"  vocabulary {pretrained.Vocabulary.Count:N0}, held-out perplexity {pretrained.Report.InitialHeldOutPerplexity:F0} -> {pretrained.Report.FinalHeldOutPerplexity:F1}");

// 2. Reuse the same embeddings in two classification pipelines.
string outDir = Path.Combine(Path.GetTempPath(), $"coherence-pretrain-{Environment.ProcessId}");
Directory.CreateDirectory(outDir);
var saved = new Dictionary<string, (string Path, ITransformer Model, IDataView Test)>();
Console.WriteLine();
Console.WriteLine($"{"task",-10} {"features",-30} {"accuracy",9} {"macro-acc",9}");
foreach (string task in new[] { "spam", "wordnet" })
{
    var train = ml.Data.LoadFromTextFile<Row>(Path.Combine(sample, task, "train.tsv"), separatorChar: '\t', allowQuoting: false);
    var test = ml.Data.LoadFromTextFile<Row>(Path.Combine(sample, task, "test.tsv"), separatorChar: '\t', allowQuoting: false);
    foreach (bool usePretrained in new[] { true, false })
    {
        IEstimator<ITransformer> featurizer = usePretrained
            ? CoherenceEmbeddingTransformer.FromModel(ml, pretrained, "Features", "Text").AsEstimator()
            : ml.Transforms.Text.FeaturizeText("Features", "Text");
        var pipeline = featurizer.Append(ml.Transforms.Conversion.MapValueToKey("Label"))
            .Append(ml.Transforms.NormalizeMinMax("Features"))
            .AppendCacheCheckpoint(ml) // the trainer passes over the data many times: featurize once
            .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy())
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
        var model = pipeline.Fit(train);
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(test));
        Console.WriteLine($"{task,-10} {(usePretrained ? "pre-trained coherence (shared)" : "FeaturizeText"),-30} {metrics.MicroAccuracy,9:P1} {metrics.MacroAccuracy,9:P1}");
        if (usePretrained)
        {
            string path = Path.Combine(outDir, $"{task}-classifier.zip");
            ml.Model.Save(model, train.Schema, path);
            saved[task] = (path, model, test);
        }
    }
}
foreach (var (task, entry) in saved)
    Console.WriteLine($"Saved the {task} pipeline: {entry.Path} ({new FileInfo(entry.Path).Length / 1024:N0} KB)");

// 3. Reload one pipeline in a fresh context (no TorchSharp needed to score) and compare predictions.
var (wordnetPath, wordnetModel, wordnetTest) = saved["wordnet"];
var fresh = new MLContext(seed: 2);
var reloaded = fresh.Model.Load(wordnetPath, out _);
var before = ml.Data.CreateEnumerable<Prediction>(wordnetModel.Transform(wordnetTest), false).Select(p => p.PredictedLabel).ToArray();
var after = fresh.Data.CreateEnumerable<Prediction>(reloaded.Transform(wordnetTest), false).Select(p => p.PredictedLabel).ToArray();
Console.WriteLine($"Reloaded the wordnet pipeline: {before.Zip(after).Count(p => p.First == p.Second)}/{before.Length} predictions identical");
Directory.Delete(outDir, recursive: true);
return before.SequenceEqual(after) ? 0 : 1;


internal sealed class CorpusLine
{
    [LoadColumn(0)] public string Text { get; set; } = "";
}




