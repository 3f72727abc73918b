using Microsoft.ML.Coherence.Training;

namespace Microsoft.ML.Coherence.Tests;

/// <summary>The options issue 9 added: validated with messages that name the option and what is valid, and the budget they set.</summary>
[TestClass]
public sealed class NewOptionsValidationTests
{
    private static readonly MLContext Ml = new(seed: 1);

    [TestMethod]
    [DataRow(0f)]
    [DataRow(-1f)]
    [DataRow(float.NaN)]
    [DataRow(float.PositiveInfinity)]
    public void EpochsMustBeAFinitePositiveNumber(float epochs)
    {
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Ml.Transforms.Text.CoherenceEmbeddings("F", "Text", new CoherenceEmbeddingOptions { Epochs = epochs }));
        StringAssert.Contains(error.Message, "Option 'Epochs' is");
        StringAssert.Contains(error.Message, "valid: a finite number greater than 0");
    }

    [TestMethod]
    public void StepsWhenGivenMustBePositive()
    {
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Ml.Transforms.Text.CoherenceEmbeddings("F", "Text", new CoherenceEmbeddingOptions { Steps = 0 }));
        StringAssert.Contains(error.Message, "Option 'Steps' is 0; valid: null (from Epochs) or greater than 0; 0 (keep the distilled table untrained) needs a Teacher");
    }

    [TestMethod]
    public void AnUnknownPoolingIsRefused()
    {
        var pooling = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Ml.Transforms.Text.CoherenceEmbeddings("F", "Text",
            new CoherenceEmbeddingOptions { Pooling = (CoherencePooling)9 }));
        StringAssert.Contains(pooling.Message, "valid: Mean or MeanMax");
    }

    [TestMethod]
    public void EpochsSetTheStepsFromTheTrainingTokens()
    {
        // 10,000 tokens, batch 4 x context 50 = 200 tokens a step: 2.5 epochs = 125 steps; a tiny fraction still trains 1 step.
        var options = new CoherenceEmbeddingOptions { BatchSize = 4, ContextLength = 50, Epochs = 2.5f };
        Assert.AreEqual(125, CoherenceEmbeddingEngine.StepsFor(options, 10_000));
        options.Epochs = 1e-6f;
        Assert.AreEqual(1, CoherenceEmbeddingEngine.StepsFor(options, 10_000));
        // A corpus shorter than the context: sequences of (tokens - 1).
        options.Epochs = 1;
        Assert.AreEqual(1, CoherenceEmbeddingEngine.StepsFor(options, 31));
        options.Epochs = 10;
        Assert.AreEqual(3, CoherenceEmbeddingEngine.StepsFor(options, 31)); // 310 tokens / 120 a step, rounded up
    }

    [TestMethod]
    public void TheReportStatesTheStepsEpochsAndTokensTrained()
    {
        var corpus = TestData.PlantedCorpus.Generate(groups: 4, wordsPerGroup: 8, sentences: 120, sentenceLength: 10, inGroupShare: 0.9, seed: 3);
        var options = TestData.PlantedCorpus.TinyOptions();
        options.Steps = null;
        options.Epochs = 2;
        var report = CoherenceEmbeddingEngineTests.Train(corpus, options).Report;
        Assert.AreEqual(CoherenceEmbeddingEngine.StepsFor(options, report.TrainingTokens), report.Options.Steps);
        Assert.IsTrue(report.Epochs >= 2 && report.Epochs < 2 + 16.0 * 16 / report.TrainingTokens + 1e-9, $"epochs {report.Epochs}");
        Assert.AreEqual((long)report.Options.Steps!.Value * 16 * 16, report.TokensTrained);
    }
}

[TestClass]
public sealed class ExportTokenTests
{
    [TestMethod]
    [DataRow("tab\there")]
    [DataRow("two words")]
    [DataRow("new\nline")]
    [DataRow("")]
    public void Word2VecRefusesATokenItsFormatCannotHoldAndWritesNothing(string token)
    {
        string path = Path.Combine(Path.GetTempPath(), "coherence-export-" + Guid.NewGuid().ToString("N") + ".vec");
        var error = Assert.ThrowsExactly<ArgumentException>(() =>
            Microsoft.ML.Coherence.Scoring.EmbeddingExport.WriteWord2Vec(path, ["<unk>", "fine", token], new float[6], 2));
        StringAssert.Contains(error.Message, "Token 2 (");
        StringAssert.Contains(error.Message, "word2vec text format cannot hold; nothing was written");
        Assert.IsFalse(File.Exists(path));
    }
}
