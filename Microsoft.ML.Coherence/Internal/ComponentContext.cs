using Microsoft.ML.Runtime;
using Microsoft.ML.Transforms.Onnx;

namespace Microsoft.ML.Coherence.Internal;

/// <summary>
/// A private <see cref="MLContext"/> for the ML.NET components the library builds where it cannot use the
/// user's own: the catalog is handed ML.NET's internal environment, not the MLContext, and the scoring
/// chain must not inherit the training GPU. Everything its components log is forwarded to the user's
/// environment, so it reaches the user's <c>mlContext.Log</c> with its kind (trace, info, warning, error)
/// and original source; its temp folder and ONNX session options are the user's.
/// </summary>
internal static class ComponentContext
{
    /// <summary>The source name the forwarded messages carry in the user's log (followed by their own source).</summary>
    public const string HostName = "CoherenceEmbedding";

    /// <summary>Creates the private context.</summary>
    /// <param name="user">Where the messages go: the user's MLContext or the environment behind its catalogs.</param>
    /// <param name="seed">Seed of the private context (the components built here draw no random numbers).</param>
    /// <param name="gpuDeviceId">GPU settings of the private context; null for the CPU.</param>
    /// <param name="fallbackToCpu">Whether a missing GPU falls back to the CPU.</param>
    public static MLContext Create(IHostEnvironment user, int? seed, int? gpuDeviceId = null, bool fallbackToCpu = false)
    {
        ArgumentNullException.ThrowIfNull(user);
        var context = new MLContext(seed) { GpuDeviceId = gpuDeviceId, FallbackToCpu = fallbackToCpu };
        if (HostEnvironmentSettings.TempFilePath(user) is { Length: > 0 } temp)
            context.TempFilePath = temp;
        if (SessionOptionsOf(user) is { } sessionOptions)
            context.SetOnnxSessionOption(sessionOptions);

        // One channel for the life of the context (the components built here live as long as it does). A channel,
        // not a registered host: registering would draw from the user's random stream and shift later seeds.
        var channel = user.Start(HostName);
        context.Log += (_, e) =>
        {
            string message = $"{e.Source}: {e.RawMessage}";
            switch (e.Kind)
            {
                case ChannelMessageKind.Error:
                    channel.Error(MessageSensitivity.Unknown, message);
                    break;
                case ChannelMessageKind.Warning:
                    channel.Warning(MessageSensitivity.Unknown, message);
                    break;
                case ChannelMessageKind.Info:
                    channel.Info(MessageSensitivity.Unknown, message);
                    break;
                default:
                    channel.Trace(MessageSensitivity.Unknown, message);
                    break;
            }
        };
        return context;
    }

    /// <summary>Writes one warning to the user's log, under <see cref="HostName"/>.</summary>
    public static void Warn(IHostEnvironment user, string message)
    {
        using var channel = user.Start(HostName);
        channel.Warning(MessageSensitivity.None, message);
    }

    private static OnnxSessionOptions? SessionOptionsOf(IHostEnvironment user)
    {
        try
        {
            return user.GetOnnxSessionOption();
        }
        catch (ArgumentException)
        {
            return null; // an environment that holds no options
        }
    }
}
