using System.Reflection;

namespace Microsoft.ML.Coherence.Internal;

/// <summary>
/// The ML.NET versions this package is built and tested against, for the messages that fail when a member read by
/// reflection is missing (a future ML.NET that renamed it).
/// </summary>
internal static class MLNetVersion
{
    /// <summary>The versions the suite and the consumer check run against (nuget/consumer-check, Directory.Packages.props).</summary>
    public const string Tested = "5.0.1 and 6.0.0";

    /// <summary>The informational version of the Microsoft.ML assembly loaded in this process.</summary>
    public static string InUse { get; } =
        typeof(MLContext).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? typeof(MLContext).Assembly.GetName().Version?.ToString() ?? "(unknown version)";
}
