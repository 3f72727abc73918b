using TorchSharp;

namespace Microsoft.ML.Coherence.Tests;

[TestClass]
public sealed class TorchSharpRuntimeTests
{
    [TestMethod]
    public void TorchSharpInitialisesAndRunsAnOptimiserStep()
    {
        // Fails when libLibTorchSharp.so cannot load (Debian 12 / Ubuntu 22.04 without the build fix).
        torch.random.manual_seed(3);
        using var layer = torch.nn.Linear(1, 1, hasBias: false);
        using (torch.no_grad())
        {
            layer.weight!.fill_(1.0f);
        }
        var optimizer = torch.optim.SGD(layer.parameters(), 0.25);
        using var input = torch.ones(1, 1);
        using var loss = layer.forward(input).pow(2).sum(); // d/dw w^2 = 2w = 2
        loss.backward();
        optimizer.step();
        Assert.AreEqual(0.5f, layer.weight!.data<float>()[0], 1e-6f);
    }
}
