using Microsoft.Extensions.AI;
using Microsoft.ML.Coherence.Tests.TestData;
using Microsoft.ML.Data;

namespace Microsoft.ML.Coherence.Tests;

/// <summary>The fitted stage (and a saved, reloaded pipeline) as an <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/>.</summary>
[TestClass]
public sealed class EmbeddingGeneratorTests
{
    private static readonly MLContext Ml = new(seed: 1);
    private static readonly List<SampleData.Row> Train = SampleData.Read("data/sample/spam/train.tsv");
    private static readonly string[] Texts = SampleData.Read("data/sample/spam/test.tsv", limit: 100).Select(r => r.Text).ToArray();

    private static readonly Lazy<CoherenceEmbeddingTransformer> Stage = new(() =>
        Ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", new CoherenceEmbeddingOptions
        {
            EmbeddingDimension = 16, ContextLength = 16, BatchSize = 16, Steps = 30, NeighborCount = 8, EvaluationInterval = 0, Seed = 5,
        }).Fit(Ml.Data.LoadFromEnumerable(Train)));

    private sealed class FeatureRow
    {
        [VectorType]
        public float[] Features { get; set; } = [];
    }

    private static float[][] TransformFeatures(ITransformer model) =>
        Ml.Data.CreateEnumerable<FeatureRow>(model.Transform(Ml.Data.LoadFromEnumerable(Texts.Select(t => new SampleData.Row { Text = t }))), false)
            .Select(r => r.Features).ToArray();

    private static float[][] Generate(IEmbeddingGenerator<string, Embedding<float>> generator, IEnumerable<string> texts) =>
        generator.GenerateAsync(texts).GetAwaiter().GetResult().Select(e => e.Vector.ToArray()).ToArray();

    private static void AssertSameVectors(float[][] expected, float[][] actual)
    {
        Assert.HasCount(expected.Length, actual);
        for (int i = 0; i < expected.Length; i++)
            CollectionAssert.AreEqual(expected[i], actual[i], $"row {i}");
    }

    [TestMethod]
    public void GeneratorVectorsEqualTransformsForAHundredRows()
    {
        var expected = TransformFeatures(Stage.Value);
        using var generator = Stage.Value.AsEmbeddingGenerator();
        AssertSameVectors(expected, Generate(generator, Texts));
        Assert.IsGreaterThan(90, expected.Count(v => v.Any(x => x != 0)), "most test messages have known words, so most vectors are not zero");
        foreach (var vector in expected.Where(v => v.Any(x => x != 0)))
            Assert.AreEqual(1.0, Math.Sqrt(vector.Sum(x => (double)x * x)), 1e-5, "the stage's rows have unit L2 norm, as FeaturizeText's");
    }

    [TestMethod]
    public void AModelSavedAndLoadedWithBuiltInTransformsGivesTheSameVectorsThroughCreate()
    {
        var data = Ml.Data.LoadFromEnumerable(Train.Take(3));
        using var zip = new MemoryStream();
        Ml.Model.Save(Stage.Value, data.Schema, zip);
        zip.Position = 0;
        var fresh = new MLContext(seed: 9);
        var loaded = fresh.Model.Load(zip, out _);
        Assert.IsNotInstanceOfType<CoherenceEmbeddingTransformer>(loaded);
        using var generator = CoherenceEmbeddingGenerator.Create(loaded, "Features", "Text");
        AssertSameVectors(TransformFeatures(Stage.Value), Generate(generator, Texts));
        Assert.AreEqual(16, generator.Dimension);
    }

    [TestMethod]
    public void EightThreadsAtOnceGetTheSequentialVectors()
    {
        using var generator = Stage.Value.AsEmbeddingGenerator();
        var expected = Generate(generator, Texts);
        using var start = new Barrier(8);
        var results = new float[8][][];
        var threads = Enumerable.Range(0, 8).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            // Each thread asks in its own order, so a shared buffer would show up as a mismatch.
            var order = Enumerable.Range(0, Texts.Length).OrderBy(i => (i * 7919 + t * 31) % Texts.Length).ToArray();
            var vectors = Generate(generator, order.Select(i => Texts[i]));
            results[t] = new float[Texts.Length][];
            for (int k = 0; k < order.Length; k++)
                results[t][order[k]] = vectors[k];
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        foreach (var result in results)
            AssertSameVectors(expected, result);
    }

    [TestMethod]
    public void MetadataNamesTheProviderModelAndDimension()
    {
        using var generator = Stage.Value.AsEmbeddingGenerator();
        var metadata = (EmbeddingGeneratorMetadata?)generator.GetService(typeof(EmbeddingGeneratorMetadata));
        Assert.IsNotNull(metadata);
        Assert.AreEqual(CoherenceEmbeddingGenerator.ProviderName, metadata.ProviderName);
        Assert.AreEqual(CoherenceEmbeddingGenerator.DefaultModelId, metadata.DefaultModelId);
        Assert.AreEqual(16, metadata.DefaultModelDimensions);
        Assert.AreSame(generator, generator.GetService(typeof(IEmbeddingGenerator<string, Embedding<float>>)));
        Assert.IsNull(generator.GetService(typeof(EmbeddingGeneratorMetadata), serviceKey: "other"));
        var embeddings = generator.GenerateAsync(["free money now", ""]).GetAwaiter().GetResult();
        Assert.AreEqual(CoherenceEmbeddingGenerator.DefaultModelId, embeddings[0].ModelId);
        Assert.IsNotNull(embeddings[0].CreatedAt);
        Assert.AreEqual(16, embeddings[1].Dimensions);
        Assert.IsTrue(embeddings[1].Vector.ToArray().All(x => x == 0), "an empty string gets the zero vector, as in Transform");
        Assert.IsNull(embeddings.Usage, "a local model counts no tokens");
    }

    [TestMethod]
    public void BadInputGetsErrorsThatNameTheArgument()
    {
        using var generator = Stage.Value.AsEmbeddingGenerator();
        var nullValues = Assert.ThrowsExactly<ArgumentNullException>(() => generator.GenerateAsync(null!));
        Assert.AreEqual("values", nullValues.ParamName);
        var nullString = Assert.ThrowsExactly<ArgumentNullException>(() => generator.GenerateAsync(["a", "b", null!]));
        Assert.Contains("index 2", nullString.Message);
        Assert.IsEmpty(generator.GenerateAsync([]).GetAwaiter().GetResult());
        var dimensions = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => generator.GenerateAsync(["a"], new EmbeddingGenerationOptions { Dimensions = 384 }));
        Assert.Contains("Dimensions is 384", dimensions.Message);
        Assert.HasCount(1, generator.GenerateAsync(["a"], new EmbeddingGenerationOptions { Dimensions = 16 }).GetAwaiter().GetResult());

        var missing = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => CoherenceEmbeddingGenerator.Create(Stage.Value, "Vectors", "Text"));
        Assert.Contains("Could not find output column 'Vectors'", missing.Message);
        var notAVector = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => CoherenceEmbeddingGenerator.Create(Ml.Transforms.CopyColumns("Copy", "Text").Fit(
            Ml.Data.LoadFromEnumerable(Train.Take(1))), "Copy", "Text"));
        Assert.Contains("Schema mismatch for output column 'Copy'", notAVector.Message);
        var wrongInput = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => CoherenceEmbeddingGenerator.Create(Stage.Value, "Features", "Body"));
        Assert.Contains("'Body'", wrongInput.Message);
    }

    [TestMethod]
    public void ACancelledTokenStopsTheCallBeforeAnyVector()
    {
        using var generator = Stage.Value.AsEmbeddingGenerator();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsExactly<OperationCanceledException>(() => generator.GenerateAsync(Texts, cancellationToken: cancelled.Token));
    }
}
