using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Microsoft.ML.Coherence.Internal;

/// <summary>
/// Turns ONNX Runtime's telemetry off in every process that loads this library, unless the application decided itself.
/// Since 1.31, ONNX Runtime on Linux and macOS sends usage events (process, session, model and error information) through
/// Microsoft's 1DS uploader and keeps a session file with a device id (<c>$TMPDIR/.ses</c>); the environment variable
/// <c>ORT_DISABLE_TELEMETRY=1</c>, read once when ONNX Runtime initialises, turns all of it off. Users of an offline
/// library expect no telemetry, so it is set here, when the library is loaded, before the scoring chain can create the
/// first ONNX Runtime session. An application that sets the variable itself (to 0 to keep telemetry) is left alone.
/// </summary>
/// <remarks>
/// The variable is set in the native environment (ONNX Runtime reads it with getenv; .NET's own copy is not the native
/// one on Linux) and in .NET's copy, so child processes started with <c>Process.Start</c> inherit it. A process that
/// only loads a saved model, without this library, runs ONNX Runtime's defaults. On Windows ONNX Runtime reports through
/// ETW instead; nothing is changed there.
/// </remarks>
internal static class OnnxRuntimeTelemetry
{
    /// <summary>The variable ONNX Runtime reads.</summary>
    public const string Variable = "ORT_DISABLE_TELEMETRY";

    /// <summary>Whether this library set the variable (false when the application had set it, or on Windows).</summary>
    public static bool SetByLibrary { get; private set; }

#pragma warning disable CA2255 // a library's module initializer: the earliest point before any ONNX Runtime session exists
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void TurnOffUnlessSet()
    {
        if (OperatingSystem.IsWindows() || Environment.GetEnvironmentVariable(Variable) is not null || NativeValue() is not null)
            return;
        if (SetEnvironment(Variable, "1", overwrite: 0) == 0)
        {
            Environment.SetEnvironmentVariable(Variable, "1");
            SetByLibrary = true;
        }
    }

    /// <summary>The variable as native code sees it, or null when unset.</summary>
    public static string? NativeValue() =>
        OperatingSystem.IsWindows() ? Environment.GetEnvironmentVariable(Variable) : Marshal.PtrToStringUTF8(GetEnvironment(Variable));

    [DllImport("libc", EntryPoint = "setenv", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int SetEnvironment(string name, string value, int overwrite);

    [DllImport("libc", EntryPoint = "getenv", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern IntPtr GetEnvironment(string name);
}
