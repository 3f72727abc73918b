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
}
