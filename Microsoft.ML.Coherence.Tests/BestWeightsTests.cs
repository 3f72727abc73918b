using Microsoft.ML.Coherence.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Tests;

/// <summary>The copy of the best weights behind <see cref="CoherenceEmbeddingOptions.LabelEarlyStopping"/>.</summary>
[TestClass]
public sealed class BestWeightsTests
{
    private static float[] Weights(nn.Module module) => module.parameters().SelectMany(p => p.data<float>().ToArray()).ToArray();

    private static void Shift(nn.Module module, float by)
    {
        using var noGrad = torch.no_grad();
        foreach (var p in module.parameters())
            p.add_(by);
    }

    [TestMethod]
    public void RestoreWritesBackTheBestOfferedWeightsAndTiesGoToTheLatest()
    {
        torch.random.manual_seed(3);
        using var module = nn.Linear(4, 3);
        using var best = new BestWeights();
        Assert.IsFalse(best.Restore(module.parameters().ToArray()), "nothing offered yet");

        Assert.IsTrue(best.Offer(module.parameters().ToArray(), step: 10, accuracy: 0.50));
        var atTen = Weights(module);
        Shift(module, 1f);
        Assert.IsFalse(best.Offer(module.parameters().ToArray(), step: 20, accuracy: 0.40), "a worse accuracy keeps step 10's copy");
        Shift(module, 1f);
        Assert.IsTrue(best.Offer(module.parameters().ToArray(), step: 30, accuracy: 0.50), "an equal accuracy later replaces the copy");
        var atThirty = Weights(module);
        Shift(module, 1f);

        Assert.IsTrue(best.Restore(module.parameters().ToArray()));
        CollectionAssert.AreEqual(atThirty, Weights(module));
        Assert.AreEqual(30, best.Step);
        Assert.AreEqual(0.50, best.Accuracy);
        CollectionAssert.AreNotEqual(atTen, atThirty);
    }
}
