using Microsoft.ML.Coherence.Modules;
using Microsoft.ML.Coherence.Tests.TestData;
using TorchSharp;

namespace Microsoft.ML.Coherence.Tests.Stress;

/// <summary>
/// TorchSharp 0.107 turns numbers into finalizable Scalars and passes only their handles to libtorch; a
/// Scalar that nothing keeps alive can be freed mid-call ("Expected false to be true ... toFloat"). With a
/// thread forcing collections and finalizers in a loop, a fit that creates such a Scalar on its hot path dies
/// within seconds; these fits must finish and equal the same fit without the collector thread. The same holds for
/// tensor temporaries outside a dispose scope (the model's construction).
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class ScalarLifetimeStressTests
{
    private static readonly List<string> Corpus = SampleData.Read("data/sample/spam/train.tsv", limit: 400).Select(r => r.Text).ToList();

    [TestMethod]
    [DataRow(0, DisplayName = "static")]
    [DataRow(2, DisplayName = "2 layers")]
    public void FitUnderForcedCollectionsFinishesAndEqualsTheQuietFit(int layers)
    {
        // Library-sized tensors: the race needs native calls long enough for a collection to land inside them.
        var options = new CoherenceEmbeddingOptions { Steps = 100, Layers = layers, EvaluationInterval = 50, Seed = 3 };
        var quiet = CoherenceEmbeddingEngineTests.Train(Corpus, options);

        using var collector = new ForcedCollector();
        var stressed = CoherenceEmbeddingEngineTests.Train(Corpus, options);
        Assert.IsTrue(collector.Collections > 10, $"the collector thread ran {collector.Collections} collections; the stress did not happen");
        // Computed before the first step: a difference here means the model was damaged while it was built.
        Assert.AreEqual(quiet.Report.InitialHeldOutPerplexity, stressed.Report.InitialHeldOutPerplexity,
            "the initial weights under forced collections differ from the quiet ones");
        AssertSameValues(quiet.GetEmbeddingMatrix(), stressed.GetEmbeddingMatrix(), "a fit under forced collections must give the same weights as a quiet one");
    }

    /// <summary>
    /// The model's initial weights are drawn outside any dispose scope, where a temporary that nothing holds can be
    /// finalized while libtorch reads it; a fit under forced collections once started with E[0, 0] = -1.1e13 (a glibc
    /// free-list pointer × 0.02). Building the model is cheap, so many builds give the collector many chances.
    /// </summary>
    [TestMethod]
    public void ModelBuiltUnderForcedCollectionsEqualsTheQuietOne()
    {
        static float[] Build()
        {
            torch.random.manual_seed(3);
            // As the trainer builds it: outside any dispose scope (inside one, the scope would hold the temporaries).
            using var model = new CoherenceLanguageModel(2_000, 128, layers: 1, heads: 4, contextLength: 64, staticContextSize: 4, tieOutput: false);
            using var scope = torch.NewDisposeScope();
            return [.. CausalTransformerBlock.Values(model.Embedding), .. CausalTransformerBlock.Values(model.OutputTable())];
        }
        var quiet = Build();
        using var collector = new ForcedCollector();
        for (int i = 0; i < 200; i++)
            AssertSameValues(quiet, Build(), $"model {i} built under forced collections");
        Assert.IsTrue(collector.Collections > 10, $"the collector thread ran {collector.Collections} collections; the stress did not happen");
    }

    /// <summary>Equal arrays, or a message with how many entries differ and the first few.</summary>
    private static void AssertSameValues(float[] expected, float[] actual, string what)
    {
        Assert.AreEqual(expected.Length, actual.Length, what);
        var differing = Enumerable.Range(0, expected.Length).Where(i => expected[i] != actual[i]).ToList();
        Assert.AreEqual(0, differing.Count, $"{what}: {differing.Count} of {expected.Length} values differ, first " +
            string.Join(", ", differing.Take(6).Select(i => $"[{i}] {expected[i]:R} vs {actual[i]:R}")));
    }

    /// <summary>Runs GC.Collect and the finalizers in a loop on a background thread until disposed.</summary>
    internal sealed class ForcedCollector : IDisposable
    {
        private readonly Thread _thread;
        private volatile bool _stop;
        private int _collections;

        public ForcedCollector()
        {
            _thread = new Thread(() =>
            {
                while (!_stop)
                {
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                    Interlocked.Increment(ref _collections);
                }
            }) { IsBackground = true, Name = "forced GC" };
            _thread.Start();
        }

        public int Collections => Volatile.Read(ref _collections);

        public void Dispose()
        {
            _stop = true;
            _thread.Join();
        }
    }
}
