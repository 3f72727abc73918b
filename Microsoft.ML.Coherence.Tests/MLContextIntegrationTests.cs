using System.Reflection;
using Microsoft.ML.Coherence.Tests.TestData;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Coherence.Tests;

/// <summary>The stage behaves as an ML.NET component of the user's context: CancelExecution stops it, and what its ML.NET components log reaches the user's log.</summary>
[TestClass]
public sealed class MLContextIntegrationTests
{
    private static readonly List<string> Corpus = PlantedCorpus.Generate(groups: 4, wordsPerGroup: 8, sentences: 120, sentenceLength: 8, inGroupShare: 0.9, seed: 3);

    private sealed class TextRow
    {
        public string Text { get; set; } = "";
    }

    private static IDataView Data(MLContext ml) => ml.Data.LoadFromEnumerable(Corpus.Select(t => new TextRow { Text = t }));

    /// <summary>
    /// <c>MLContext.CancelExecution()</c>: internal in Microsoft.ML 5.0.1, public to applications through
    /// Microsoft.ML.Experimental's <c>MLContextExtensions.CancelExecution</c> (which calls exactly this) and used by
    /// AutoML. That package is not served here, so the test calls the method the extension calls.
    /// </summary>
    private static void CancelExecution(MLContext ml) =>
        typeof(MLContext).GetMethod("CancelExecution", BindingFlags.Instance | BindingFlags.NonPublic, Type.EmptyTypes)!.Invoke(ml, null);

    private static CoherenceEmbeddingEstimator Estimator(MLContext ml, bool catalog, int steps)
    {
        var options = PlantedCorpus.TinyOptions(steps);
        return catalog
            ? ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", options)
            : new CoherenceEmbeddingEstimator(ml, "Features", "Text", options);
    }

    [TestMethod]
    [DataRow(true)]
    [DataRow(false)]
    public void CancelExecutionDuringFitStopsItLikeTheCancellationToken(bool catalog)
    {
        const int Steps = 4_000; // progress every 20 steps
        var ml = new MLContext(seed: 1);
        var estimator = Estimator(ml, catalog, Steps);
        int cancelledAt = 0, lastStep = 0;
        estimator = estimator.WithProgress(new SynchronousProgress(p =>
        {
            lastStep = p.Step;
            if (p.Step >= 20 && cancelledAt == 0)
            {
                cancelledAt = p.Step;
                CancelExecution(ml);
            }
        }));
        Assert.ThrowsExactly<OperationCanceledException>(() => estimator.Fit(Data(ml)));
        Assert.AreEqual(20, cancelledAt);
        // The token is polled every 50 ms; a tiny step takes milliseconds, so a few reports may still come.
        Assert.IsLessThan(Steps / 2, lastStep, $"stopped at step {lastStep}, long before the last one");
    }

    [TestMethod]
    [DataRow(true)]
    [DataRow(false)]
    public void FitOnACancelledContextStopsBeforeReadingTheData(bool catalog)
    {
        var ml = new MLContext(seed: 1);
        var estimator = Estimator(ml, catalog, steps: 20);
        CancelExecution(ml);
        int reports = 0;
        estimator = estimator.WithProgress(new SynchronousProgress(_ => reports++));
        Assert.ThrowsExactly<OperationCanceledException>(() => estimator.Fit(Data(ml)));
        Assert.AreEqual(0, reports);
    }

    [TestMethod]
    public void ComponentsBuiltThroughTheCatalogLogToTheUsersContext()
    {
        var ml = new MLContext(seed: 1);
        var messages = new List<LoggingEventArgs>();
        ml.Log += (_, e) => { lock (messages) messages.Add(e); };
        using var stage = Estimator(ml, catalog: true, steps: 5).Fit(Data(ml));

        List<LoggingEventArgs> forwarded;
        lock (messages)
            forwarded = messages.Where(m => m.Source.StartsWith("CoherenceEmbedding", StringComparison.Ordinal) && m.RawMessage.Contains(": ")).ToList();
        var sources = forwarded.Select(m => m.RawMessage[..m.RawMessage.IndexOf(": ", StringComparison.Ordinal)]).Distinct().ToArray();
        // The tokenizer's and the scoring chain's ML.NET components ran in private contexts (the catalog gives no
        // MLContext; the chain must not inherit the GPU id); their messages arrive here with their own source in front.
        string all = string.Join(", ", sources);
        CollectionAssert.Contains(sources, "Term; Training", "the scoring chain's MapValueToKey; forwarded: " + all);
        Assert.IsTrue(sources.Any(s => s.StartsWith("BinarySaver", StringComparison.Ordinal)), "the scoring chain being saved; forwarded: " + all);
        Assert.IsTrue(sources.Any(s => s.StartsWith("RowToRowMapperTransform", StringComparison.Ordinal)), "the tokenizer's transforms; forwarded: " + all);
        lock (messages)
            Assert.IsTrue(messages.Any(m => m.Kind == ChannelMessageKind.Info && m.RawMessage.StartsWith("Vocabulary ", StringComparison.Ordinal)), "the training log");
    }

    [TestMethod]
    [DataRow(150)] // a progress point every step
    [DataRow(450)] // every second step: the Info steps must be progress points too (every 46th step would mostly not be)
    public void ProgressGoesToTheInfoLogOnceATenthAndInFullToTheTraceLog(int steps)
    {
        var ml = new MLContext(seed: 1);
        var messages = new List<LoggingEventArgs>();
        ml.Log += (_, e) => { lock (messages) messages.Add(e); };
        using var stage = Estimator(ml, catalog: true, steps).Fit(Data(ml));

        List<LoggingEventArgs> progress;
        lock (messages)
            progress = messages.Where(m => m.RawMessage.StartsWith("step ", StringComparison.Ordinal)).ToList();
        var info = progress.Where(m => m.Kind == ChannelMessageKind.Info).Select(m => m.RawMessage).ToList();
        var trace = progress.Where(m => m.Kind == ChannelMessageKind.Trace).ToList();
        // The first step and every tenth of the run (150: steps 1, 15, ..., 150), like ML.NET's trainers, not every step.
        Assert.IsInRange(10, 12, info.Count, string.Join(Environment.NewLine, info));
        StringAssert.StartsWith(info[0], $"step 1/{steps} ");
        StringAssert.StartsWith(info[^1], $"step {steps}/{steps} ");
        Assert.AreEqual(stage.Report.History.Count, info.Count + trace.Count, "every progress point is logged once, as Info or as Trace");
        Assert.IsGreaterThan(100, stage.Report.History.Count, "the progress history keeps its detail (up to 200 points)");
    }
}
