using Microsoft.ML.Coherence.Tests.Oracle;
using Microsoft.ML.Coherence.Modules;
using Microsoft.ML.Coherence.Scoring;
using Microsoft.ML.Data;

namespace Microsoft.ML.Coherence.Tests;

[TestClass]
public sealed class ScoringChainBuilderTests
{
    private const string TextColumn = "Text";
    private const string FeaturesColumn = "Features";

    public sealed class TextInput
    {
        public string Text { get; set; } = "";
    }

    public sealed class LabeledText
    {
        public string Text { get; set; } = "";

        public string Label { get; set; } = "";
    }

    public sealed class FeaturesOutput
    {
        public float[] Features { get; set; } = [];
    }

    public sealed class LabelPrediction
    {
        public string PredictedLabel { get; set; } = "";

        public float[] Score { get; set; } = [];
    }

    private static ITransformer Build(MLContext mlContext, CoherenceEncoderWeights weights, CoherencePooling pooling, string[]? vocabulary = null) =>
        ScoringChainBuilder.Build(mlContext, FeaturesColumn, TextColumn, vocabulary ?? TestEncoders.Vocabulary(weights.VocabularySize), weights, pooling);

    private static IDataView Texts(MLContext mlContext, IEnumerable<string> texts) =>
        mlContext.Data.LoadFromEnumerable(texts.Select(t => new TextInput { Text = t }).ToArray());

    private static float[][] Features(MLContext mlContext, ITransformer chain, IEnumerable<string> texts) =>
        mlContext.Data.CreateEnumerable<FeaturesOutput>(chain.Transform(Texts(mlContext, texts)), reuseRowObject: false)
            .Select(row => row.Features)
            .ToArray();

    [TestMethod]
    [DataRow(0, CoherencePooling.Mean)]
    [DataRow(0, CoherencePooling.MeanMax)]
    [DataRow(2, CoherencePooling.Mean)]
    [DataRow(2, CoherencePooling.MeanMax)]
    public void ChainMatchesReferenceEncoder(int layers, CoherencePooling pooling)
    {
        var mlContext = new MLContext(seed: 1);
        var weights = TestEncoders.RandomWeights(layers);
        var vocabulary = TestEncoders.Vocabulary();
        using var chain = (IDisposable)Build(mlContext, weights, pooling);

        var actual = Features(mlContext, (ITransformer)chain, TestEncoders.Texts);
        for (var i = 0; i < TestEncoders.Texts.Length; i++)
        {
            var expected = ReferenceEncoder.Features(weights, pooling, TestEncoders.Ids(TestEncoders.Texts[i], vocabulary));
            TestEncoders.AssertClose(expected, actual[i], 1e-5f, $"text '{TestEncoders.Texts[i]}'");
        }
    }

    [TestMethod]
    public void StaticMeanIsHandCheckable()
    {
        var mlContext = new MLContext(seed: 1);
        var weights = new CoherenceEncoderWeights
        {
            VocabularySize = 3, Dimension = 2, Heads = 1, ContextLength = 4, Embeddings = [0, 0, 1, 2, 3, 4],
        };
        var chain = ScoringChainBuilder.Build(mlContext, FeaturesColumn, TextColumn, ["<unk>", "a", "b"], weights, CoherencePooling.Mean);

        // Mean of (1, 2) and (3, 4) is (2, 3); scaled to unit length: (2, 3) / sqrt(13).
        TestEncoders.AssertClose([2f / MathF.Sqrt(13), 3f / MathF.Sqrt(13)], Features(mlContext, chain, ["a b zzz"])[0], 1e-7f, "mean, unit norm");
    }

    [TestMethod]
    [DataRow(0, CoherencePooling.MeanMax)]
    [DataRow(2, CoherencePooling.MeanMax)]
    public void EmptyAndAllUnknownRowsGiveZeros(int layers, CoherencePooling pooling)
    {
        var mlContext = new MLContext(seed: 1);
        var chain = Build(mlContext, TestEncoders.RandomWeights(layers), pooling);

        foreach (var row in Features(mlContext, chain, ["", "   ", "zzz", "zzz qqq zzz qqq zzz"]))
        {
            Assert.HasCount(2 * TestEncoders.Dimension, row);
            Assert.IsTrue(row.All(v => v == 0f));
        }
    }

    [TestMethod]
    public void OutputSchemaHasKnownSizeVectorAndNoIntermediates()
    {
        var mlContext = new MLContext(seed: 1);
        var chain = Build(mlContext, TestEncoders.RandomWeights(2), CoherencePooling.MeanMax);

        var schema = chain.GetOutputSchema(Texts(mlContext, ["w1"]).Schema);
        var features = schema[FeaturesColumn].Type as VectorDataViewType;
        Assert.IsNotNull(features);
        Assert.AreEqual(NumberDataViewType.Single, features.ItemType);
        Assert.AreEqual(2 * TestEncoders.Dimension, features.Size);
        Assert.AreEqual(TextDataViewType.Instance, schema[TextColumn].Type);
        foreach (var name in ScoringChainBuilder.IntermediateColumnNames)
        {
            Assert.IsNull(schema.GetColumnOrNull(name), name);
        }

        Assert.IsInstanceOfType<TransformerChain<ITransformer>>(chain);
    }

    [TestMethod]
    [DataRow(0, CoherencePooling.MeanMax)]
    [DataRow(2, CoherencePooling.Mean)]
    public void SavedChainLoadsIntoNewContextWithIdenticalFeatures(int layers, CoherencePooling pooling)
    {
        var mlContext = new MLContext(seed: 1);
        var chain = Build(mlContext, TestEncoders.RandomWeights(layers), pooling);
        var before = Features(mlContext, chain, TestEncoders.Texts);

        using var stream = new MemoryStream();
        mlContext.Model.Save(chain, Texts(mlContext, []).Schema, stream);
        stream.Position = 0;
        var other = new MLContext(seed: 2);
        var loaded = other.Model.Load(stream, out var inputSchema);

        Assert.AreEqual(TextColumn, inputSchema.Single().Name);
        var after = Features(other, loaded, TestEncoders.Texts);
        for (var i = 0; i < before.Length; i++)
        {
            CollectionAssert.AreEqual(before[i], after[i], $"text '{TestEncoders.Texts[i]}'");
        }
    }

    [TestMethod]
    public void SavedModelNamesNoLoaderFromThisAssembly()
    {
        // Loading must need only ML.NET's own assemblies: no stage may record ours as its loader.
        // The ONNX bytes carry our name as producer metadata only, so that entry is skipped.
        var mlContext = new MLContext(seed: 1);
        var chain = Build(mlContext, TestEncoders.RandomWeights(2), CoherencePooling.MeanMax);
        using var stream = new MemoryStream();
        mlContext.Model.Save(chain, Texts(mlContext, []).Schema, stream);
        stream.Position = 0;

        using var zip = new System.IO.Compression.ZipArchive(stream, System.IO.Compression.ZipArchiveMode.Read);
        var ourName = typeof(ScoringChainBuilder).Assembly.GetName().Name!;
        var checkedEntries = 0;
        foreach (var entry in zip.Entries.Where(e => !e.FullName.EndsWith("OnnxModel", StringComparison.Ordinal)))
        {
            using var content = new MemoryStream();
            using (var entryStream = entry.Open())
            {
                entryStream.CopyTo(content);
            }

            var bytes = content.ToArray();
            foreach (var encoding in new System.Text.Encoding[] { System.Text.Encoding.UTF8, System.Text.Encoding.Unicode })
            {
                Assert.AreEqual(-1, bytes.AsSpan().IndexOf(encoding.GetBytes(ourName)), $"{entry.FullName} mentions {ourName}");
            }

            checkedEntries++;
        }

        Assert.IsGreaterThan(5, checkedEntries);
        Assert.AreEqual(1, zip.Entries.Count(e => e.FullName.EndsWith("OnnxModel", StringComparison.Ordinal)));
    }

    [TestMethod]
    public void PredictionEngineMatchesTransform()
    {
        var mlContext = new MLContext(seed: 1);
        var chain = Build(mlContext, TestEncoders.RandomWeights(2), CoherencePooling.MeanMax);
        var batch = Features(mlContext, chain, TestEncoders.Texts);

        using var engine = mlContext.Model.CreatePredictionEngine<TextInput, FeaturesOutput>(chain);
        for (var i = 0; i < TestEncoders.Texts.Length; i++)
        {
            CollectionAssert.AreEqual(batch[i], engine.Predict(new TextInput { Text = TestEncoders.Texts[i] }).Features);
        }
    }

    [TestMethod]
    public void ChainWorksInsideABiggerPipelineAndRoundTrips()
    {
        var mlContext = new MLContext(seed: 1);
        var vocabulary = TestEncoders.Vocabulary();
        var chain = Build(mlContext, TestEncoders.RandomWeights(2), CoherencePooling.MeanMax);

        // Two classes: low word numbers vs high ones, plus unknown words.
        var random = new Random(3);
        var rows = Enumerable.Range(0, 200).Select(i =>
        {
            var high = i % 2 == 0;
            var words = Enumerable.Range(0, random.Next(0, 7))
                .Select(_ => random.Next(5) == 0 ? "zzz" : $"w{(high ? random.Next(25, 50) : random.Next(1, 25))}");
            return new LabeledText { Text = string.Join(' ', words), Label = high ? "high" : "low" };
        }).ToArray();
        var data = mlContext.Data.LoadFromEnumerable(rows);

        var downstream = mlContext.Transforms.Conversion.MapValueToKey("Label")
            .Append(mlContext.Transforms.Concatenate("Features", FeaturesColumn))
            .Append(mlContext.MulticlassClassification.Trainers.SdcaMaximumEntropy(maximumNumberOfIterations: 20))
            .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
        var downstreamModel = downstream.Fit(chain.Transform(data));
        var model = new TransformerChain<ITransformer>(chain, downstreamModel);

        using var stream = new MemoryStream();
        mlContext.Model.Save(model, data.Schema, stream);
        stream.Position = 0;
        var other = new MLContext(seed: 2);
        var loaded = other.Model.Load(stream, out _);

        var before = mlContext.Data.CreateEnumerable<LabelPrediction>(model.Transform(data), reuseRowObject: false).ToArray();
        var after = other.Data.CreateEnumerable<LabelPrediction>(loaded.Transform(other.Data.LoadFromEnumerable(rows)), reuseRowObject: false).ToArray();
        for (var i = 0; i < rows.Length; i++)
        {
            Assert.AreEqual(before[i].PredictedLabel, after[i].PredictedLabel);
            CollectionAssert.AreEqual(before[i].Score, after[i].Score);
        }

        using var engine = other.Model.CreatePredictionEngine<LabeledText, LabelPrediction>(loaded);
        Assert.AreEqual(after[0].PredictedLabel, engine.Predict(rows[0]).PredictedLabel);
        var accuracy = before.Zip(rows).Count(p => p.First.PredictedLabel == p.Second.Label) / (double)rows.Length;
        Assert.IsGreaterThan(0.6, accuracy, $"accuracy {accuracy}");
    }

    [TestMethod]
    public void BuildingAndSavingLeavesNoTempOnnxFile()
    {
        static HashSet<string> OnnxFiles() =>
            Directory.EnumerateFiles(Path.GetTempPath(), "*.onnx", SearchOption.TopDirectoryOnly).ToHashSet(StringComparer.Ordinal);

        var before = OnnxFiles();
        var mlContext = new MLContext(seed: 1);
        using (var chain = (IDisposable)Build(mlContext, TestEncoders.RandomWeights(2), CoherencePooling.Mean))
        {
            using var stream = new MemoryStream();
            mlContext.Model.Save((ITransformer)chain, Texts(mlContext, []).Schema, stream);
            _ = Features(mlContext, (ITransformer)chain, ["w1 w2"]);
        }

        // Only names that appeared during this call count: other processes may use the temp folder too.
        var created = OnnxFiles().Except(before).ToArray();
        Assert.IsEmpty(created, string.Join(", ", created));
    }

    [TestMethod]
    [DataRow("Text")]
    [DataRow("coherence features (v1)")]
    public void OutputColumnMayReplaceTheInputOrHaveAnyName(string outputColumn)
    {
        var mlContext = new MLContext(seed: 1);
        var weights = TestEncoders.RandomWeights(0);
        var vocabulary = TestEncoders.Vocabulary();
        var chain = ScoringChainBuilder.Build(mlContext, outputColumn, TextColumn, vocabulary, weights, CoherencePooling.Mean);

        var view = chain.Transform(Texts(mlContext, ["w1 w2 zzz"]));
        var values = view.GetColumn<float[]>(outputColumn).Single();
        TestEncoders.AssertClose(ReferenceEncoder.Features(weights, CoherencePooling.Mean, [1, 2, 0]), values, 1e-6f, outputColumn);
    }

    [TestMethod]
    public void ColumnsNamedLikeIntermediatesAreRejected()
    {
        var mlContext = new MLContext(seed: 1);
        var weights = TestEncoders.RandomWeights(0);
        var vocabulary = TestEncoders.Vocabulary();
        var schema = mlContext.Data.LoadFromEnumerable(new[] { new LabeledText() }).Schema;
        var renamed = mlContext.Transforms.CopyColumns(ScoringChainBuilder.TokensColumnName, "Label")
            .Fit(mlContext.Data.LoadFromEnumerable(new[] { new LabeledText() }))
            .GetOutputSchema(schema);

        var collision = Assert.ThrowsExactly<ArgumentException>(() =>
            ScoringChainBuilder.Build(mlContext, FeaturesColumn, TextColumn, vocabulary, weights, CoherencePooling.Mean, renamed));
        Assert.Contains($"'{ScoringChainBuilder.TokensColumnName}'", collision.Message);

        var reservedOutput = Assert.ThrowsExactly<ArgumentException>(() =>
            ScoringChainBuilder.Build(mlContext, ScoringChainBuilder.IdsColumnName, TextColumn, vocabulary, weights, CoherencePooling.Mean));
        Assert.AreEqual("outputColumn", reservedOutput.ParamName);

        var missing = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            ScoringChainBuilder.Build(mlContext, FeaturesColumn, "Body", vocabulary, weights, CoherencePooling.Mean, schema));
        Assert.Contains("Could not find input column 'Body'", missing.Message);
    }

    [TestMethod]
    public void BadVocabulariesAreRejected()
    {
        var mlContext = new MLContext(seed: 1);
        var weights = TestEncoders.RandomWeights(0);
        var vocabulary = TestEncoders.Vocabulary();

        var tooShort = Assert.ThrowsExactly<ArgumentException>(() => Build(mlContext, weights, CoherencePooling.Mean, vocabulary[..^1]));
        Assert.AreEqual("vocabularyTokens", tooShort.ParamName);
        Assert.Contains("has 49 tokens but the encoder has 50 rows", tooShort.Message);

        vocabulary[5] = "w4";
        var duplicate = Assert.ThrowsExactly<ArgumentException>(() => Build(mlContext, weights, CoherencePooling.Mean, vocabulary));
        Assert.Contains("token 5 ('w4') appears twice", duplicate.Message);
    }
}
