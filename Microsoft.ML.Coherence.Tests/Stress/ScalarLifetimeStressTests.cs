using Microsoft.ML.Coherence.Tests.TestData;

namespace Microsoft.ML.Coherence.Tests.Stress;

/// <summary>
/// TorchSharp 0.107 turns numbers into finalizable Scalars and passes only their handles to libtorch; a
/// Scalar that nothing keeps alive can be freed mid-call ("Expected false to be true ... toFloat"). With a
/// thread forcing collections and finalizers in a loop, a fit that creates such a Scalar on its hot path dies
/// within seconds; these fits must finish and equal the same fit without the collector thread.
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
        var quiet = CoherenceEmbeddingEngineTests.Train(Corpus, options).GetEmbeddingMatrix();

        using var collector = new ForcedCollector();
        var stressed = CoherenceEmbeddingEngineTests.Train(Corpus, options).GetEmbeddingMatrix();
        Assert.IsTrue(collector.Collections > 10, $"the collector thread ran {collector.Collections} collections; the stress did not happen");
        CollectionAssert.AreEqual(quiet, stressed, "a fit under forced collections must give the same weights as a quiet one");
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
