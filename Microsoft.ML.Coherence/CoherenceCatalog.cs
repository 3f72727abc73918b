using System.Reflection;
using Microsoft.ML.Coherence;
using Microsoft.ML.Coherence.Internal;
using Microsoft.ML.Runtime;

namespace Microsoft.ML;

/// <summary>
/// Catalog entry point: <c>mlContext.Transforms.Text.CoherenceEmbeddings(...)</c>. It lives in namespace
/// <c>Microsoft.ML</c>, as ML.NET's own catalog extensions do, so <c>using Microsoft.ML;</c> finds it; the
/// library's types (<see cref="CoherenceEmbeddingOptions"/>, <see cref="CoherenceEmbeddingEstimator"/>, ...)
/// are in <c>Microsoft.ML.Coherence</c>.
/// </summary>
public static class CoherenceCatalog
{
    /// <summary>
    /// Trains coherence-aligned token embeddings on <paramref name="inputColumnName"/> and outputs one
    /// fixed-length vector per row in <paramref name="outputColumnName"/>.
    /// </summary>
    /// <param name="catalog">The text transforms catalog.</param>
    /// <param name="outputColumnName">Name of the output column: a known-size vector of <see cref="float"/>.</param>
    /// <param name="inputColumnName">Name of the input column, of type <see cref="string"/> (text); defaults to <paramref name="outputColumnName"/>.</param>
    /// <param name="options">Training options; null takes <see cref="CoherenceEmbeddingOptions.Defaults"/>.</param>
    /// <remarks>
    /// The context's seed, log, <see cref="MLContext.GpuDeviceId"/>, <see cref="MLContext.FallbackToCpu"/> and
    /// <c>CancelExecution()</c> apply as they stand when <c>Fit</c> runs.
    /// <para>With a pretrained embedding model as <see cref="CoherenceEmbeddingOptions.Teacher"/> (any
    /// <c>IEmbeddingGenerator&lt;string, Embedding&lt;float&gt;&gt;</c>), the stage starts from the teacher's word vectors and
    /// is pulled toward its row vectors, then adapted to the corpus; the fitted stage scores at static-embedding speed
    /// and never calls the teacher.</para>
    /// <para>When not to use the label-aware mode (<see cref="CoherenceEmbeddingOptions.LabelColumnName"/>): when the
    /// downstream classifier trains on the same labelled rows, next to FeaturizeText. Its features fit those rows' labels,
    /// the classifier trusts them too much, and on unseen rows it measured below FeaturizeText with the unsupervised
    /// stage (docs/usage.md, "Label-aware mode").</para>
    /// </remarks>
    /// <example>See examples/Quickstart/Program.cs.</example>
    public static CoherenceEmbeddingEstimator CoherenceEmbeddings(this TransformsCatalog.TextTransforms catalog,
        string outputColumnName, string? inputColumnName = null, CoherenceEmbeddingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new CoherenceEmbeddingEstimator(EnvironmentOf(catalog), outputColumnName, inputColumnName, options);
    }

    // ML.NET keeps a catalog's environment internal (CatalogUtils is closed to other assemblies). For MLContext's
    // catalogs it is the environment behind the MLContext: the same seed, log, GPU settings and cancellation.
    // Read it once, and fail clearly if a future ML.NET renames it.
    internal static readonly PropertyInfo? EnvironmentProperty = typeof(TransformsCatalog.TextTransforms)
        .GetProperties(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)
        .FirstOrDefault(p => p.Name.EndsWith("Environment", StringComparison.Ordinal) && p.PropertyType == typeof(IHostEnvironment));

    internal static IHostEnvironment EnvironmentOf(TransformsCatalog.TextTransforms catalog, PropertyInfo? property = null) =>
        (property ?? EnvironmentProperty)?.GetValue(catalog) as IHostEnvironment
        ?? throw new InvalidOperationException(
            $"Could not read the environment behind mlContext.Transforms.Text in Microsoft.ML {MLNetVersion.InUse} (this package is tested with " +
            $"{MLNetVersion.Tested}); create the stage with new Microsoft.ML.Coherence.CoherenceEmbeddingEstimator(mlContext, ...) instead.");
}
