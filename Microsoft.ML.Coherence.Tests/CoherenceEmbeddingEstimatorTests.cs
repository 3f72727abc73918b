using Microsoft.ML.Coherence.Tests.TestData;
using Microsoft.ML.Data;

namespace Microsoft.ML.Coherence.Tests;

[TestClass]
public sealed class CoherenceEmbeddingEstimatorTests
{
    private static readonly MLContext Ml = new(seed: 1);
    private static readonly List<SampleData.Row> Train = SampleData.Read("data/sample/spam/train.tsv");
    private static readonly List<SampleData.Row> Test = SampleData.Read("data/sample/spam/test.tsv");
    private static readonly Lazy<CoherenceEmbeddingTransformer> Fitted = new(() =>
        Ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", SmallOptions()).Fit(Ml.Data.LoadFromEnumerable(Train)));

    private static CoherenceEmbeddingOptions SmallOptions() => new()
    {
        EmbeddingDimension = 32,
        ContextLength = 32,
        BatchSize = 16,
        Steps = 150,
        NeighborCount = 16,
        EvaluationInterval = 0,
        Seed = 3,
    };

    private sealed class FeatureRow
    {
        [VectorType]
        public float[] Features { get; set; } = [];
    }

    private sealed class Prediction
    {
        public string PredictedLabel { get; set; } = "";
    }

    private static float[][] FeaturesOf(ITransformer transformer, IDataView data) =>
        Ml.Data.CreateEnumerable<FeatureRow>(transformer.Transform(data), reuseRowObject: false).Select(f => f.Features).ToArray();

    [TestMethod]
    public void OptionsAreFixedAtCreationAndProgressAndCancellationMakeNewEstimators()
    {
        var options = new CoherenceEmbeddingOptions { Steps = 7 };
        var estimator = Ml.Transforms.Text.CoherenceEmbeddings("F", "Text", options);
        options.Steps = 9;                      // the caller's object is not the estimator's
        estimator.GetOptions().Steps = 11;      // nor is the copy GetOptions returns
        Assert.AreEqual(7, estimator.GetOptions().Steps);

        var progress = new Progress<CoherenceTrainingProgress>();
        using var cancellation = new CancellationTokenSource();
        var reporting = estimator.WithProgress(progress).WithCancellation(cancellation.Token);
        Assert.IsNull(estimator.Progress, "the original estimator is unchanged");
        Assert.AreEqual(CancellationToken.None, estimator.CancellationToken);
        Assert.AreSame(progress, reporting.Progress, "WithCancellation keeps the progress");
        Assert.AreEqual(cancellation.Token, reporting.CancellationToken);
        Assert.AreEqual(7, reporting.GetOptions().Steps);
        Assert.AreEqual(("F", "Text"), (reporting.OutputColumnName, reporting.InputColumnName));
    }

    [TestMethod]
    public void EstimatorAndTransformerSchemasAgree()
    {
        var data = Ml.Data.LoadFromEnumerable(Train.Take(5));
        var estimator = Ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", SmallOptions());
        var shape = estimator.GetOutputSchema(Shapes.Of(data.Schema));
        var declared = shape.Single(c => c.Name == "Features");
        var actual = Fitted.Value.GetOutputSchema(data.Schema)["Features"];
        Assert.AreEqual(SchemaShape.Column.VectorKind.Vector, declared.Kind);
        Assert.AreEqual(NumberDataViewType.Single, declared.ItemType);
        Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Single, 32), actual.Type);
        CollectionAssert.AreEqual(new[] { "Label", "Text", "Features" }, shape.Select(c => c.Name).ToArray());
    }

    [TestMethod]
    public void FittedStageAsEstimatorReturnsItselfAndChecksTheInput()
    {
        var data = Ml.Data.LoadFromEnumerable(Train.Take(5));
        var estimator = Fitted.Value.AsEstimator();
        Assert.AreSame(Fitted.Value, estimator.Fit(data));
        var shape = estimator.GetOutputSchema(Shapes.Of(data.Schema));
        Assert.AreEqual(SchemaShape.Column.VectorKind.Vector, shape.Single(c => c.Name == "Features").Kind);
        var wrong = Ml.Data.LoadFromEnumerable(new[] { new { Body = "x" } });
        var error = Assert.ThrowsExactly<ArgumentException>(() => estimator.Fit(wrong));
        StringAssert.Contains(error.Message, "Could not find input column 'Text'");
    }

    [TestMethod]
    public void WrongInputFailsWithMessagesThatNameTheColumnAndTheFix()
    {
        var data = Ml.Data.LoadFromEnumerable(new[] { new { Number = 1f, Text = "a" } });
        var missing = Assert.ThrowsExactly<ArgumentException>(() => Ml.Transforms.Text.CoherenceEmbeddings("F", "Body").Fit(data));
        StringAssert.Contains(missing.Message, "Could not find input column 'Body'");
        var wrongType = Assert.ThrowsExactly<ArgumentException>(() => Ml.Transforms.Text.CoherenceEmbeddings("F", "Number").GetOutputSchema(Shapes.Of(data.Schema)));
        StringAssert.Contains(wrongType.Message, "Schema mismatch for input column 'Number': expected String, got Single");
        var badOption = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Ml.Transforms.Text.CoherenceEmbeddings("F", "Text", new CoherenceEmbeddingOptions { EmbeddingDimension = 0 }));
        StringAssert.Contains(badOption.Message, "Option 'EmbeddingDimension' is 0; valid: greater than 0");
        var badDevice = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Ml.Transforms.Text.CoherenceEmbeddings("F", "Text", new CoherenceEmbeddingOptions { Device = "tpu" }).Fit(data));
        StringAssert.Contains(badDevice.Message, "Option 'Device' is tpu; valid: null (follow MLContext.GpuDeviceId), \"cpu\", \"cuda\" or \"cuda:N\"");
    }

    [TestMethod]
    public void BadCorporaFailWithClearErrors()
    {
        IDataView Rows(params string[] texts) => Ml.Data.LoadFromEnumerable(texts.Select(t => new SampleData.Row { Text = t }));
        var options = new CoherenceEmbeddingOptions { Steps = 2, MinCount = 2, NeighborCount = 2, Seed = 1 };
        var empty = Assert.ThrowsExactly<ArgumentException>(() => new CoherenceEmbeddingEstimator(Ml, "F", "Text", options).Fit(Rows("", " ")));
        StringAssert.Contains(empty.Message, "no tokens");
        var unknown = Assert.ThrowsExactly<ArgumentException>(() => new CoherenceEmbeddingEstimator(Ml, "F", "Text", options).Fit(Rows("a b c d e f")));
        StringAssert.Contains(unknown.Message, "MinCount");
        var shortCorpus = Assert.ThrowsExactly<ArgumentException>(() => new CoherenceEmbeddingEstimator(Ml, "F", "Text", new CoherenceEmbeddingOptions { Steps = 2, MinCount = 1, NeighborCount = 1, Window = 5, Seed = 1, HeldOutFraction = 0 }).Fit(Rows("a b a")));
        StringAssert.Contains(shortCorpus.Message, "not more than Window (5)");
        var bigK = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new CoherenceEmbeddingEstimator(Ml, "F", "Text", new CoherenceEmbeddingOptions { Steps = 2, MinCount = 1, NeighborCount = 40, Seed = 1 }).Fit(Rows("a b c a b c a b c d e f")));
        StringAssert.Contains(bigK.Message, "Option 'NeighborCount' is 40");
        var nullRows = Assert.ThrowsExactly<ArgumentException>(() => CoherenceEmbeddingEngine.Train(Ml, () => new Text.CoherenceTokenizer(Ml).Tokenize(new[] { "a b", null, "c" }), options));
        StringAssert.Contains(nullRows.Message, "Row 1 of the corpus is null");
    }

    [TestMethod]
    public void TheDefaultNeighborCountAdaptsToATinyVocabularyWhileAnExplicitOneIsRefused()
    {
        var ml = new MLContext(seed: 1);
        var log = new List<string>();
        ml.Log += (_, e) => { lock (log) log.Add(e.RawMessage); };
        // Two words: a vocabulary of 3 tokens with the unknown one, under the default K = 32 (refused before, with defaults).
        var rows = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 40).Select(i => new SampleData.Row { Text = i % 2 == 0 ? "yes no yes no" : "no yes no" }));
        using var stage = ml.Transforms.Text.CoherenceEmbeddings("F", "Text", new CoherenceEmbeddingOptions { Steps = 3, Seed = 1 }).Fit(rows);
        Assert.AreEqual(3, stage.Vocabulary.Count);
        Assert.AreEqual(2, stage.Report.Options.NeighborCount, "lowered to the vocabulary size minus one");
        lock (log)
            Assert.IsTrue(log.Any(l => l.StartsWith("NeighborCount lowered from its default 32 to 2", StringComparison.Ordinal)), "the change is logged");

        var explicitK = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            ml.Transforms.Text.CoherenceEmbeddings("F", "Text", new CoherenceEmbeddingOptions { Steps = 3, Seed = 1, NeighborCount = 32 }).Fit(rows));
        StringAssert.Contains(explicitK.Message, "Option 'NeighborCount' is 32");
    }

    [TestMethod]
    public void ASmallCorpusGetsWarningsInTheLogAndTheReportThatSayWhatItsFiguresCannotMean()
    {
        var ml = new MLContext(seed: 1);
        var warnings = new List<string>();
        ml.Log += (_, e) => { if (e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Warning) lock (warnings) warnings.Add(e.RawMessage); };
        var options = new CoherenceEmbeddingOptions { EmbeddingDimension = 8, Steps = 2, NeighborCount = 4, Seed = 1 };
        using var small = ml.Transforms.Text.CoherenceEmbeddings("F", "Text", options).Fit(ml.Data.LoadFromEnumerable(Train.Take(30)));
        Assert.IsLessThan(10_000L, small.Report.TrainingTokens);
        Assert.HasCount(2, small.Report.Warnings, string.Join(Environment.NewLine, small.Report.Warnings));
        StringAssert.StartsWith(small.Report.Warnings[0], $"The training split has {small.Report.TrainingTokens.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} tokens (fewer than 10,000)");
        StringAssert.StartsWith(small.Report.Warnings[1], $"Held-out perplexity rests on {small.Report.HeldOutTokens.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} held-out tokens");
        lock (warnings)
            CollectionAssert.IsSubsetOf(small.Report.Warnings.ToArray(), warnings, "the same warnings reach the log");

        using var enough = ml.Transforms.Text.CoherenceEmbeddings("F", "Text", options).Fit(ml.Data.LoadFromEnumerable(Train));
        Assert.IsGreaterThanOrEqualTo(10_000L, enough.Report.TrainingTokens);
        Assert.IsGreaterThanOrEqualTo(1_000L, enough.Report.HeldOutTokens);
        Assert.IsEmpty(enough.Report.Warnings);
    }

    [TestMethod]
    public void SaveAndLoadInANewContextGivesTheSameFeaturesAndPredictions()
    {
        var ml = new MLContext(seed: 2);
        var train = ml.Data.LoadFromEnumerable(Train);
        var test = ml.Data.LoadFromEnumerable(Test);
        var pipeline = ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", SmallOptions())
            .Append(ml.Transforms.Conversion.MapValueToKey("Label"))
            .AppendCacheCheckpoint(ml)
            .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy())
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
        var model = pipeline.Fit(train);
        using var stream = new MemoryStream();
        ml.Model.Save(model, train.Schema, stream);
        stream.Position = 0;

        var fresh = new MLContext(seed: 9);
        var loaded = fresh.Model.Load(stream, out _);
        var before = ml.Data.CreateEnumerable<Prediction>(model.Transform(test), false).Select(p => p.PredictedLabel).ToArray();
        var after = fresh.Data.CreateEnumerable<Prediction>(loaded.Transform(fresh.Data.LoadFromEnumerable(Test)), false).Select(p => p.PredictedLabel).ToArray();
        CollectionAssert.AreEqual(before, after);
        var featuresBefore = FeaturesOf(model, test);
        var featuresAfter = FeaturesOf(loaded, fresh.Data.LoadFromEnumerable(Test));
        for (int r = 0; r < featuresBefore.Length; r++)
            for (int k = 0; k < featuresBefore[r].Length; k++)
                Assert.AreEqual(featuresBefore[r][k], featuresAfter[r][k], 1e-5f);
        Assert.IsTrue(featuresBefore.Any(f => f.Any(v => v != 0)), "features must not be all zero");
    }

    [TestMethod]
    public void PredictionEngineAndEightThreadsGiveTheSameFeaturesAsTransform()
    {
        var test = Ml.Data.LoadFromEnumerable(Test);
        var expected = FeaturesOf(Fitted.Value, test);
        var engine = Ml.Model.CreatePredictionEngine<SampleData.Row, FeatureRow>(Fitted.Value);
        for (int r = 0; r < 20; r++)
            CollectionAssert.AreEqual(expected[r], engine.Predict(Test[r]).Features);

        var results = new float[8][][];
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, t => results[t] = FeaturesOf(Fitted.Value, Ml.Data.LoadFromEnumerable(Test)));
        foreach (var result in results)
            for (int r = 0; r < expected.Length; r++)
                CollectionAssert.AreEqual(expected[r], result[r]);
    }

    [TestMethod]
    public void EmptyAndAllUnknownRowsGiveZeroVectors()
    {
        var rows = Ml.Data.LoadFromEnumerable(new[] { new SampleData.Row { Text = "" }, new SampleData.Row { Text = "qqqzzz xxyyzz" } });
        foreach (var features in FeaturesOf(Fitted.Value, rows))
            CollectionAssert.AreEqual(new float[32], features);
    }

    [TestMethod]
    public void CoherenceFeaturesClassifySpamWellAboveTheMajorityClass()
    {
        var train = Fitted.Value.Transform(Ml.Data.LoadFromEnumerable(Train));
        var test = Fitted.Value.Transform(Ml.Data.LoadFromEnumerable(Test));
        var trainer = Ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(Ml.Transforms.NormalizeMinMax("Features"))
            .AppendCacheCheckpoint(Ml)
            .Append(Ml.MulticlassClassification.Trainers.SdcaMaximumEntropy());
        var metrics = Ml.MulticlassClassification.Evaluate(trainer.Fit(train).Transform(test));
        double majority = Test.GroupBy(r => r.Label).Max(g => g.Count()) / (double)Test.Count;
        Console.WriteLine($"accuracy {metrics.MicroAccuracy:F3} vs majority {majority:F3}");
        Assert.IsTrue(metrics.MicroAccuracy > majority + 0.10, $"accuracy {metrics.MicroAccuracy:F3} must beat the majority class {majority:F3} by 0.10");
    }

    [TestMethod]
    public void ExportsRoundTripTheEmbeddingMatrix()
    {
        string directory = Directory.CreateTempSubdirectory("coherence-export").FullName;
        try
        {
            var transformer = Fitted.Value;
            var matrix = transformer.GetEmbeddingMatrix();
            int d = transformer.Model.Dimension;
            string w2v = Path.Combine(directory, "e.txt");
            transformer.ExportWord2Vec(w2v);
            var lines = File.ReadAllLines(w2v);
            Assert.AreEqual($"{transformer.Vocabulary.Count} {d}", lines[0]);
            var row5 = lines[6].Split(' ');
            Assert.AreEqual(transformer.Vocabulary.Tokens[5], row5[0]);
            CollectionAssert.AreEqual(matrix.AsSpan(5 * d, d).ToArray(), row5.Skip(1).Select(v => float.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray());

            string st = Path.Combine(directory, "e.safetensors");
            transformer.ExportSafetensors(st);
            var bytes = File.ReadAllBytes(st);
            long headerLength = BitConverter.ToInt64(bytes, 0);
            var header = System.Text.Json.JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
            var shape = header.RootElement.GetProperty("embeddings").GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            CollectionAssert.AreEqual(new long[] { transformer.Vocabulary.Count, d }, shape);
            var data = new float[matrix.Length];
            Buffer.BlockCopy(bytes, 8 + (int)headerLength, data, 0, data.Length * 4);
            CollectionAssert.AreEqual(matrix, data);
            Assert.AreEqual(2, Directory.GetFiles(directory).Length, "no temporary files are left");
        }
        finally
        {
            Directory.Delete(directory, true);
        }
    }

    [TestMethod]
    public void SavedModelScoresInAProcessWithoutTorchSharpAndGivesTheSameOutputs()
    {
        string directory = Directory.CreateTempSubdirectory("coherence-process").FullName;
        try
        {
            var train = Ml.Data.LoadFromEnumerable(Train);
            var head = Ml.Transforms.Conversion.MapValueToKey("Label")
                .Append(Ml.MulticlassClassification.Trainers.SdcaMaximumEntropy())
                .Append(Ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"))
                .Fit(Fitted.Value.Transform(train));
            var model = new TransformerChain<ITransformer>(Fitted.Value, head);
            string zip = Path.Combine(directory, "model.zip"), texts = Path.Combine(directory, "texts.txt"), output = Path.Combine(directory, "out.tsv");
            Ml.Model.Save(model, train.Schema, zip);
            var rows = Test.Take(50).ToList();
            File.WriteAllLines(texts, rows.Select(r => r.Text.Replace('\n', ' ')));

            // The checker is built next to the tests (same configuration) and references only ML.NET and ONNX Runtime.
            var (exitCode, stdout, stderr) = ToolProcess.Run("Coherence.ModelLoadCheck", [zip, texts, output, "Features"]);
            Assert.AreEqual(0, exitCode, stdout + stderr);
            StringAssert.Contains(stdout, "without TorchSharp or Microsoft.ML.Coherence");

            var expected = model.Transform(Ml.Data.LoadFromEnumerable(rows.Select(r => new SampleData.Row { Text = r.Text.Replace('\n', ' ') })));
            var expectedFeatures = expected.GetColumn<float[]>("Features").ToArray();
            var expectedLabels = expected.GetColumn<string>("PredictedLabel").ToArray();
            var lines = File.ReadAllLines(output);
            Assert.AreEqual(rows.Count, lines.Length);
            for (int r = 0; r < lines.Length; r++)
            {
                var parts = lines[r].Split('\t');
                var values = parts[0].Split(' ').Select(v => float.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
                for (int k = 0; k < values.Length; k++)
                    Assert.AreEqual(expectedFeatures[r][k], values[k], 1e-5f);
                Assert.AreEqual(expectedLabels[r], parts[1]);
            }
        }
        finally
        {
            Directory.Delete(directory, true);
        }
    }

    [TestMethod]
    public void PretrainedStageIsReusedInTwoPipelinesAndSavedWithEach()
    {
        var pretrained = Fitted.Value.Model;
        using var spamStage = CoherenceEmbeddingTransformer.FromModel(Ml, pretrained, "Embedding", "Text");
        using var wordnetStage = CoherenceEmbeddingTransformer.FromModel(Ml, pretrained, "Vector", "Gloss");
        var glosses = SampleData.Read("data/sample/wordnet/train.tsv", 300).Select(r => new GlossRow { Label = r.Label, Gloss = r.Text }).ToList();

        var spam = Ml.Data.LoadFromEnumerable(Train);
        var spamModel = new TransformerChain<ITransformer>(spamStage,
            Ml.Transforms.Conversion.MapValueToKey("Label").Append(Ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(featureColumnName: "Embedding"))
                .Fit(spamStage.Transform(spam)));
        var wordnet = Ml.Data.LoadFromEnumerable(glosses);
        var wordnetModel = new TransformerChain<ITransformer>(wordnetStage,
            Ml.Transforms.Conversion.MapValueToKey("Label").Append(Ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(featureColumnName: "Vector"))
                .Fit(wordnetStage.Transform(wordnet)));

        // Same embeddings in both: the same text gives the same vector whatever the column names.
        var probe = new[] { new GlossRow { Gloss = Train[0].Text } };
        var viaWordnet = wordnetStage.Transform(Ml.Data.LoadFromEnumerable(probe)).GetColumn<float[]>("Vector").Single();
        var viaSpam = spamStage.Transform(Ml.Data.LoadFromEnumerable(new[] { Train[0] })).GetColumn<float[]>("Embedding").Single();
        CollectionAssert.AreEqual(viaSpam, viaWordnet);

        foreach (var (model, data, column) in new (ITransformer, IDataView, string)[] { (spamModel, spam, "Embedding"), (wordnetModel, wordnet, "Vector") })
        {
            using var stream = new MemoryStream();
            Ml.Model.Save(model, data.Schema, stream);
            stream.Position = 0;
            var loaded = new MLContext(seed: 5).Model.Load(stream, out _);
            var before = model.Transform(data).GetColumn<float[]>(column).Take(20).ToArray();
            var after = loaded.Transform(data).GetColumn<float[]>(column).Take(20).ToArray();
            for (int r = 0; r < before.Length; r++)
                CollectionAssert.AreEqual(before[r], after[r]);
        }
    }

    private sealed class GlossRow
    {
        public string Label { get; set; } = "";
        public string Gloss { get; set; } = "";
    }
}
