using Microsoft.ML.Coherence.Tests.TestData;
using TorchSharp;

namespace Microsoft.ML.Coherence.Tests;

/// <summary>
/// A fit draws its initial weights from its own generator: it never reseeds or draws from libtorch's global generator,
/// which belongs to the application, and concurrent fits cannot change each other's weights.
/// </summary>
[TestClass]
public sealed class GeneratorIsolationTests
{
    private static readonly List<string> Corpus = PlantedCorpus.Generate(groups: 4, wordsPerGroup: 10, sentences: 200, sentenceLength: 10, inGroupShare: 0.9, seed: 3);

    private static CoherenceEmbeddingOptions TwoLayers()
    {
        var options = PlantedCorpus.TinyOptions(steps: 8);
        options.Layers = 2;
        options.Heads = 2;
        return options;
    }

    /// <summary>Every weight of the fitted encoder: the embedding table and, with layers, the blocks and positions.</summary>
    private static float[] Weights(CoherenceEmbeddingModel model) =>
    [
        .. model.GetEmbeddingMatrix(),
        .. model.Weights.Positions,
        .. model.Weights.Blocks.SelectMany(b => b.QkvWeight.Concat(b.QkvBias).Concat(b.OutWeight).Concat(b.Mlp1Weight).Concat(b.Mlp2Bias)),
    ];

    [TestMethod]
    public void AFitNeitherReseedsNorDrawsFromTheApplicationsGenerator()
    {
        torch.random.manual_seed(123);
        var expected = torch.randn(1000).data<float>().ToArray();
        torch.random.manual_seed(123);
        // Before: the trainer called torch.random.manual_seed(7) and nn.Linear drew from the global generator.
        _ = CoherenceEmbeddingEngineTests.Train(Corpus, TwoLayers());
        var after = torch.randn(1000).data<float>().ToArray();
        CollectionAssert.AreEqual(expected, after, "the application's seeded draws continue as if no fit had run");
    }

    [TestMethod]
    public void TwoConcurrentFitsWithTheSameSeedEqualTheSequentialOneWhileAnotherThreadDraws()
    {
        var sequential = Weights(CoherenceEmbeddingEngineTests.Train(Corpus, TwoLayers()));
        using var stop = new CancellationTokenSource();
        var drawer = Task.Run(() =>
        {
            // The application drawing from the global generator meanwhile (it used to shift the fits' initial weights).
            long draws = 0;
            while (!stop.IsCancellationRequested)
            {
                using var draw = torch.randn(64);
                draws++;
            }
            return draws;
        });
        var fits = Enumerable.Range(0, 2).Select(_ => Task.Run(() => Weights(CoherenceEmbeddingEngineTests.Train(Corpus, TwoLayers())))).ToArray();
        Task.WaitAll(fits);
        stop.Cancel();
        Assert.IsGreaterThan(0L, drawer.Result, "the drawing thread ran beside the fits");
        foreach (var fit in fits)
            CollectionAssert.AreEqual(sequential, fit.Result, "bit for bit");
    }
}
