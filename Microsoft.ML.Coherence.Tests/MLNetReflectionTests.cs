using System.Reflection;
using Microsoft.ML.Coherence.Internal;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Coherence.Tests;

/// <summary>
/// What the library reads from ML.NET by reflection (ML.NET keeps it internal), checked against the version this suite
/// runs with, and the error a user would get from a version that renamed it.
/// </summary>
[TestClass]
public sealed class MLNetReflectionTests
{
    [TestMethod]
    public void TheSuiteRunsAgainstMicrosoftML6()
    {
        StringAssert.StartsWith(MLNetVersion.InUse, "6.0.", "Directory.Packages.props pins Microsoft.ML 6.0.0 for everything but the library's own floor");
        Assert.Contains(MLNetVersion.InUse, MLNetVersion.Tested);
    }

    [TestMethod]
    public void TheCatalogsEnvironmentIsTheContextsOwn()
    {
        Assert.IsNotNull(CoherenceCatalog.EnvironmentProperty, "TransformsCatalog.TextTransforms has an internal IHostEnvironment property");
        var ml = new MLContext(seed: 1) { GpuDeviceId = 3, FallbackToCpu = true, TempFilePath = "/tmp/coherence-reflection" };
        var environment = CoherenceCatalog.EnvironmentOf(ml.Transforms.Text);
        var messages = new List<string>();
        ml.Log += (_, e) => messages.Add(e.RawMessage);
        using (var channel = environment.Start("probe"))
            channel.Info(MessageSensitivity.None, "through the catalog's environment");
        CollectionAssert.Contains(messages, "through the catalog's environment", "the environment's log is the context's");

        // The settings read by name from the objects behind the context's internal interface.
        var host = environment.Register("probe");
        Assert.AreEqual(3, HostEnvironmentSettings.GpuDeviceId(host));
        Assert.IsTrue(HostEnvironmentSettings.FallbackToCpu(host));
        Assert.AreEqual("/tmp/coherence-reflection", HostEnvironmentSettings.TempFilePath(environment));
        Assert.IsTrue(HostEnvironmentSettings.CanObserveCancellation(host));
        Assert.IsFalse(HostEnvironmentSettings.IsCanceled(host));
        typeof(MLContext).GetMethod("CancelExecution", BindingFlags.Instance | BindingFlags.NonPublic, Type.EmptyTypes)!.Invoke(ml, null);
        Assert.IsTrue(HostEnvironmentSettings.IsCanceled(host), "CancelExecution reaches the hosts registered before it");
    }

    [TestMethod]
    public void TheSchemaShapeColumnConstructorIsFoundAndDeclaresAKnownSizeFloatVector()
    {
        Assert.IsNotNull(SchemaShapeColumns.Constructor);
        var column = SchemaShapeColumns.FloatVector("Features");
        Assert.AreEqual("Features", column.Name);
        Assert.AreEqual(Microsoft.ML.SchemaShape.Column.VectorKind.Vector, column.Kind);
        Assert.AreEqual(Microsoft.ML.Data.NumberDataViewType.Single, column.ItemType);
    }

    [TestMethod]
    public void AMemberAFutureVersionRenamedGivesAClearErrorNotANullReference()
    {
        var ml = new MLContext(seed: 1);
        var catalog = Assert.ThrowsExactly<InvalidOperationException>(() =>
            CoherenceCatalog.EnvironmentOf(ml.Transforms.Text, typeof(MLNetReflectionTests).GetProperty(nameof(Unrelated), BindingFlags.Static | BindingFlags.NonPublic)));
        Assert.Contains("mlContext.Transforms.Text", catalog.Message);
        Assert.Contains($"Microsoft.ML {MLNetVersion.InUse}", catalog.Message);
        Assert.Contains("new Microsoft.ML.Coherence.CoherenceEmbeddingEstimator(mlContext", catalog.Message, "it says what to do instead");
        var column = Assert.ThrowsExactly<InvalidOperationException>(() => SchemaShapeColumns.FloatVector("Features", constructor: null));
        Assert.Contains("SchemaShape.Column", column.Message);
        Assert.Contains(MLNetVersion.Tested, column.Message);
    }

    private static IHostEnvironment? Unrelated => null;
}
