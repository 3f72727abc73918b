using Microsoft.ML.Coherence.Training;
using TorchSharp;

namespace Microsoft.ML.Coherence.Tests;

[TestClass]
public sealed class SafeAdamWTests
{
    [TestMethod]
    public void MatchesTorchSharpsAdamWStepForStep()
    {
        torch.random.manual_seed(4);
        using var reference = torch.nn.Linear(3, 2);
        using var ours = torch.nn.Linear(3, 2);
        using (torch.no_grad())
        {
            ours.weight!.copy_(reference.weight!);
            ours.bias!.copy_(reference.bias!);
        }
        var torchAdamW = torch.optim.AdamW(reference.parameters(), 0.05, weight_decay: 0.01);
        using var safe = new SafeAdamW(ours.parameters(), 0.05, 0.01);
        using var input = torch.randn(8, 3);
        using var target = torch.randn(8, 2);
        for (int step = 0; step < 6; step++)
        {
            using (var loss = (reference.forward(input) - target).pow(2).mean())
                loss.backward();
            torchAdamW.step();
            torchAdamW.zero_grad();
            using (var loss = (ours.forward(input) - target).pow(2).mean())
                loss.backward();
            safe.Step();
            safe.ZeroGrad();
        }
        var expected = reference.weight!.data<float>().ToArray().Concat(reference.bias!.data<float>().ToArray()).ToArray();
        var actual = ours.weight!.data<float>().ToArray().Concat(ours.bias!.data<float>().ToArray()).ToArray();
        for (int i = 0; i < expected.Length; i++)
            Assert.AreEqual(expected[i], actual[i], 1e-6f, $"parameter entry {i}");
        Assert.AreEqual(6, safe.StepCount);
    }
}
