using Microsoft.ML.Coherence.Corpus;
using Microsoft.ML.Coherence.Training;

namespace Microsoft.ML.Coherence.Tests;

/// <summary>Held-out documents (for perplexity) feed neither the vocabulary nor the unigram frequencies (issue 14 item 7).</summary>
[TestClass]
public sealed class HeldOutSplitTests
{
    [TestMethod]
    public void HeldOutDocumentsStayOutOfTheVocabularyAndTheFrequencies()
    {
        // Document i holds its own word "onlyin{i}" three times and the shared words once each.
        const int documents = 80;
        var corpus = Enumerable.Range(0, documents)
            .Select(i => $"onlyin{i} onlyin{i} onlyin{i} alpha beta gamma delta alpha beta gamma delta")
            .ToList();
        var options = TestData.PlantedCorpus.TinyOptions(steps: 2);
        options.HeldOutFraction = 0.25f;
        options.NeighborCount = 2;
        var model = CoherenceEmbeddingEngineTests.Train(corpus, options);

        var isHeldOut = TokenCorpus.HeldOutRule(options.HeldOutFraction, options.Seed!.Value);
        var held = Enumerable.Range(0, documents).Where(isHeldOut).ToList();
        Assert.IsTrue(held.Count >= 10 && held.Count <= 30, $"{held.Count} of {documents} documents held out");
        Assert.IsFalse(isHeldOut(0), "document 0 always trains");
        for (int i = 0; i < documents; i++)
            Assert.AreEqual(!isHeldOut(i), model.Vocabulary.TryGetId($"onlyin{i}", out _), $"document {i} (held out: {isHeldOut(i)})");

        Assert.IsTrue(model.Vocabulary.TryGetId("alpha", out int alpha));
        Assert.AreEqual(2L * (documents - held.Count), model.Vocabulary.Frequencies[alpha], "alpha is counted in training documents only");
        Assert.AreEqual(11L * (documents - held.Count), model.Report.TrainingTokens);
    }
}
