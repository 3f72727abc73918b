using Microsoft.ML;

// Deliberately outside Microsoft.ML.Coherence (whose nested namespaces would see the library's namespace
// implicitly): this file compiles only if "using Microsoft.ML;" alone brings the catalog method into scope.
namespace CoherenceCatalogConsumer;

[TestClass]
public sealed class CatalogNamespaceTests
{
    [TestMethod]
    public void UsingMicrosoftMLAloneFindsTheCatalogMethod()
    {
        var ml = new MLContext(seed: 1);
        var estimator = ml.Transforms.Text.CoherenceEmbeddings("Features", "Text");
        Assert.AreEqual("Features", estimator.OutputColumnName);
        Assert.AreEqual("Text", estimator.InputColumnName);
    }

    [TestMethod]
    public void TheCatalogIsInMicrosoftMLAndEveryOtherPublicTypeInMicrosoftMLCoherence()
    {
        var assembly = typeof(Microsoft.ML.Coherence.CoherenceEmbeddingEstimator).Assembly;
        Assert.AreEqual("Microsoft.ML", typeof(CoherenceCatalog).Namespace);
        var elsewhere = assembly.GetExportedTypes()
            .Where(t => t != typeof(CoherenceCatalog) && t.Namespace?.StartsWith("Microsoft.ML.Coherence", StringComparison.Ordinal) != true)
            .Select(t => t.FullName)
            .ToArray();
        Assert.AreEqual(0, elsewhere.Length, "public types outside Microsoft.ML.Coherence: " + string.Join(", ", elsewhere));
    }
}
