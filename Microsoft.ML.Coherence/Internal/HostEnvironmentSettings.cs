using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Coherence.Internal;

/// <summary>
/// Reads ML.NET's settings from an <see cref="IHostEnvironment"/> at the moment they are needed. ML.NET 5.0.1
/// declares them on an internal interface; the objects behind it (the <see cref="MLContext"/> itself, its
/// internal environment and the hosts registered with either) expose them as public properties, so they are
/// read by name. A setting a future ML.NET renames reads as its default.
/// </summary>
internal static class HostEnvironmentSettings
{
    private static readonly ConcurrentDictionary<(Type, string), PropertyInfo?> Properties = new();

    /// <summary><c>MLContext.GpuDeviceId</c>: the GPU to train on, null for the CPU.</summary>
    public static int? GpuDeviceId(IHostEnvironment environment) =>
        environment is MLContext ml ? ml.GpuDeviceId : Read<int?>(environment, nameof(MLContext.GpuDeviceId));

    /// <summary><c>MLContext.FallbackToCpu</c>: whether a missing GPU falls back to the CPU.</summary>
    public static bool FallbackToCpu(IHostEnvironment environment) =>
        environment is MLContext ml ? ml.FallbackToCpu : Read<bool?>(environment, nameof(MLContext.FallbackToCpu)) ?? false;

    /// <summary><c>MLContext.TempFilePath</c>, or null where it cannot be read.</summary>
    public static string? TempFilePath(IHostEnvironment environment) =>
        environment is MLContext ml ? ml.TempFilePath : Read<string>(environment, nameof(MLContext.TempFilePath));

    /// <summary>
    /// Whether <c>MLContext.CancelExecution()</c> has stopped this environment. An <see cref="MLContext"/>
    /// itself does not say; register a host with it and ask the host (hosts alive when the context is
    /// cancelled are cancelled with it, and hosts registered afterwards start cancelled).
    /// </summary>
    public static bool IsCanceled(IHostEnvironment environment) => Read<bool?>(environment, "IsCanceled") ?? false;

    /// <summary>Whether <see cref="IsCanceled"/> can observe <paramref name="environment"/> at all.</summary>
    public static bool CanObserveCancellation(IHostEnvironment environment) => PropertyOf(environment.GetType(), "IsCanceled") is not null;

    private static T? Read<T>(IHostEnvironment environment, string name) =>
        PropertyOf(environment.GetType(), name)?.GetValue(environment) is T value ? value : default;

    private static PropertyInfo? PropertyOf(Type type, string name) =>
        Properties.GetOrAdd((type, name), static key =>
            key.Item1.GetProperty(key.Item2, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
            ?? key.Item1.GetInterfaces().Select(i => i.GetProperty(key.Item2)).FirstOrDefault(p => p is not null));
}
