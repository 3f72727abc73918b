using System.Reflection;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Coherence;

/// <summary>Catalog entry points: <c>mlContext.Transforms.Text.CoherenceEmbeddings(...)</c>.</summary>
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
    /// <example>See examples/Quickstart/Program.cs.</example>
    public static CoherenceEmbeddingEstimator CoherenceEmbeddings(this TransformsCatalog.TextTransforms catalog,
        string outputColumnName, string? inputColumnName = null, CoherenceEmbeddingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var environment = EnvironmentOf(catalog);
        // The catalog gives ML.NET's internal environment, not the MLContext. Build ML.NET components with a
        // private MLContext that copies its GPU settings, and log and seed through the user's environment.
        var context = new MLContext(seed: environment.Register("CoherenceEmbedding.Components").Rand.Next())
        {
            GpuDeviceId = ReadSetting<int?>(environment, nameof(MLContext.GpuDeviceId)),
            FallbackToCpu = ReadSetting<bool?>(environment, nameof(MLContext.FallbackToCpu)) ?? false,
        };
        return new CoherenceEmbeddingEstimator(context, outputColumnName, inputColumnName, options) { Environment = environment };
    }

    // ML.NET keeps a catalog's environment internal (CatalogUtils is closed to other assemblies). The
    // environment of MLContext's catalogs is the MLContext itself; read it once, and fail clearly if a
    // future ML.NET renames it.
    private static readonly PropertyInfo? EnvironmentProperty = typeof(TransformsCatalog.TextTransforms)
        .GetProperties(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)
        .FirstOrDefault(p => p.Name.EndsWith("Environment", StringComparison.Ordinal) && p.PropertyType == typeof(IHostEnvironment));

    private static IHostEnvironment EnvironmentOf(TransformsCatalog.TextTransforms catalog) =>
        EnvironmentProperty?.GetValue(catalog) as IHostEnvironment
        ?? throw new InvalidOperationException(
            "Could not read the environment behind mlContext.Transforms.Text in this ML.NET version; " +
            "create the stage with new CoherenceEmbeddingEstimator(mlContext, ...) instead.");

    private static T? ReadSetting<T>(IHostEnvironment environment, string name)
    {
        var property = environment.GetType().GetProperty(name, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
            ?? environment.GetType().GetInterfaces().Select(i => i.GetProperty(name)).FirstOrDefault(p => p is not null);
        return property?.GetValue(environment) is T value ? value : default;
    }
}
