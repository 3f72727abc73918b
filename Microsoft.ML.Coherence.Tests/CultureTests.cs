using System.Globalization;

namespace Microsoft.ML.Coherence.Tests;

/// <summary>Messages show numbers as C# source writes them, whatever the current culture: users paste them back into code.</summary>
[TestClass]
public sealed class CultureTests
{
    private static T InGerman<T>(Func<T> action)
    {
        var previous = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = new CultureInfo("de-DE");
            Assert.AreEqual("0,5", 0.5.ToString(CultureInfo.CurrentCulture), "the culture under test writes a decimal comma");
            return action();
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    [TestMethod]
    public void AnOptionOutOfRangeIsShownWithADecimalPoint()
    {
        var ml = new MLContext(seed: 1);
        var error = InGerman(() => Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", new CoherenceEmbeddingOptions { CoherenceWeight = -0.5f })));
        Assert.Contains("Option 'CoherenceWeight' is -0.5;", error.Message);
    }

    [TestMethod]
    public void AProgressLineIsWrittenWithDecimalPoints()
    {
        var progress = new CoherenceTrainingProgress
        {
            Step = 3, TotalSteps = 10, Tokens = 100, Loss = 1.23456, TaskLoss = 1.2, AlignmentLoss = 0.5, UniformityLoss = -0.25,
            CoherenceWeight = 0.1, LearningRate = 0.003, HeldOutPerplexity = 812.31, LabelLoss = 0.75, TokensPerSecond = 12345,
            Elapsed = TimeSpan.FromSeconds(2), Remaining = TimeSpan.FromSeconds(5),
        };
        string line = InGerman(progress.ToString);
        Assert.AreEqual("step 3/10 loss 1.2346 (task 1.2000, align 0.5000, unif -0.2500, w 0.100, label 0.7500) held-out ppl 812.3 12,345 tok/s, 5s left", line);
    }

    [TestMethod]
    public void TheFitsSummaryLineIsWrittenWithDecimalPoints()
    {
        var ml = new MLContext(seed: 1);
        var log = new List<string>();
        ml.Log += (_, e) => { lock (log) log.Add(e.RawMessage); };
        var corpus = TestData.PlantedCorpus.Generate(groups: 3, wordsPerGroup: 8, sentences: 120, sentenceLength: 8, inGroupShare: 0.9, seed: 2);
        InGerman(() => ml.Transforms.Text.CoherenceEmbeddings("F", "Text", TestData.PlantedCorpus.TinyOptions(steps: 2))
            .Fit(ml.Data.LoadFromEnumerable(corpus.Select(t => new TestData.SampleData.Row { Text = t }))));
        string summary;
        lock (log)
            summary = log.Single(l => l.StartsWith("Vocabulary ", StringComparison.Ordinal));
        StringAssert.Matches(summary, new System.Text.RegularExpressions.Regex(@"field built in \d+\.\d s; device cpu; 2 steps \(\d+\.\d\d epochs\)\.$".Replace(" s;", "s;")), summary);
    }

    [TestMethod]
    public void ACountInACorpusErrorIsWrittenWithoutTheCulturesGroupSeparator()
    {
        // 1,200 rows, none labelled: de-DE would write "1.200", which reads as 1.2.
        var ml = new MLContext(seed: 1);
        var rows = TestData.PlantedCorpus.Generate(groups: 3, wordsPerGroup: 8, sentences: 1200, sentenceLength: 8, inGroupShare: 0.9, seed: 2)
            .Select(t => new TestData.SampleData.Row { Text = t, Label = "" });
        var options = TestData.PlantedCorpus.TinyOptions(steps: 2);
        options.LabelColumnName = "Label";
        var error = InGerman(() => Assert.Throws<Exception>(() =>
            ml.Transforms.Text.CoherenceEmbeddings("F", "Text", options).Fit(ml.Data.LoadFromEnumerable(rows))));
        Assert.Contains("has no label in 1,200 rows", error.Message);
    }
}
