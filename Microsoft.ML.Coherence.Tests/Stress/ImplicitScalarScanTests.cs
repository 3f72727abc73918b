namespace Microsoft.ML.Coherence.Tests.Stress;

/// <summary>
/// Keeps the Scalar race from coming back through a new line: library code must not call a TorchSharp
/// overload that creates a Scalar nobody keeps alive (see docs/engineering-notes.md).
/// </summary>
[TestClass]
public sealed class ImplicitScalarScanTests
{
    private static string TorchSharpPath => typeof(TorchSharp.torch).Assembly.Location;

    [TestMethod]
    public void LibraryCodeCallsNoTorchSharpOverloadThatCreatesAnImplicitScalar()
    {
        var findings = ImplicitScalarScanner.Scan(typeof(CoherenceEmbeddingOptions).Assembly.Location, TorchSharpPath);
        Assert.AreEqual(0, findings.Count, "implicit Scalars in library code:\n" + string.Join("\n", findings));
    }

    [TestMethod]
    public void TheScanFindsTheKnownOffendersInTheseTests()
    {
        // This assembly's KnownOffenders uses the + operator on tensors, a number operator and an implicit conversion.
        var findings = ImplicitScalarScanner.Scan(typeof(ImplicitScalarScanTests).Assembly.Location, TorchSharpPath)
            .Where(f => f.Contains(nameof(KnownOffenders), StringComparison.Ordinal)).ToList();
        Assert.IsTrue(findings.Any(f => f.Contains("op_Addition(TorchSharp.torch+Tensor,TorchSharp.torch+Tensor)", StringComparison.Ordinal)), string.Join("\n", findings));
        Assert.IsTrue(findings.Any(f => f.Contains("op_Multiply(TorchSharp.torch+Tensor,Double)", StringComparison.Ordinal)), string.Join("\n", findings));
        Assert.IsTrue(findings.Any(f => f.Contains("converts a number to a Scalar implicitly", StringComparison.Ordinal)), string.Join("\n", findings));
        Assert.IsFalse(findings.Any(f => f.Contains(nameof(KnownOffenders.Safe), StringComparison.Ordinal)), string.Join("\n", findings));
    }

    private static class KnownOffenders
    {
        public static TorchSharp.torch.Tensor Sum(TorchSharp.torch.Tensor a, TorchSharp.torch.Tensor b) => a + b;

        public static TorchSharp.torch.Tensor Scaled(TorchSharp.torch.Tensor a) => a * 2.0;

        public static TorchSharp.torch.Tensor Filled(TorchSharp.torch.Tensor a, TorchSharp.torch.Tensor mask) => a.masked_fill(mask, 0.5);

        public static TorchSharp.torch.Tensor Safe(TorchSharp.torch.Tensor a, TorchSharp.torch.Tensor b)
        {
            using var one = TorchSharp.ScalarExtensionMethods.ToScalar(1);
            return a.add(b, one);
        }
    }
}
