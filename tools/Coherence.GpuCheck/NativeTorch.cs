using System.Runtime.InteropServices;
using System.Text.Json.Nodes;

namespace Coherence.GpuCheck;

/// <summary>
/// Binds TorchSharp to an external libtorch (a Python install of PyTorch, or any libtorch folder): the route
/// TorchSharp's own error text names, "call NativeLibrary.Load(path-to-libLibTorchSharp.so) explicitly for a
/// Python install of pytorch". The libtorch libraries are loaded first by full path (RTLD_GLOBAL), then
/// libLibTorchSharp.so from this program's folder is opened with RTLD_NOW, so a libtorch whose C++ ABI does
/// not match the one libLibTorchSharp was built against fails here with the missing symbol named, instead
/// of killing the process with "symbol lookup error" at the first call that needs it.
/// </summary>
internal static class NativeTorch
{
    private const int RtldLazy = 0x001;
    private const int RtldNow = 0x002;
    private const int RtldGlobal = 0x100;

    // Loaded in dependency order; the CUDA ones exist only in a CUDA build of libtorch.
    private static readonly (string File, bool Required)[] LibTorchFiles =
    [
        ("libc10.so", true),
        ("libtorch_cpu.so", true),
        ("libc10_cuda.so", false),
        ("libtorch_cuda.so", false),
        ("libtorch.so", true),
    ];

    public static string LibTorchSharpPath => Path.Combine(AppContext.BaseDirectory, "libLibTorchSharp.so");

    /// <summary>Loads everything; throws <see cref="NativeLoadException"/> with a readable reason when something fails.</summary>
    public static JsonObject Load(string libtorchDirectory)
    {
        var loaded = new JsonArray();
        if (!Directory.Exists(libtorchDirectory))
            throw new NativeLoadException($"The libtorch folder '{libtorchDirectory}' does not exist.", loaded);
        foreach (var (file, required) in LibTorchFiles)
        {
            string path = Path.Combine(libtorchDirectory, file);
            if (!File.Exists(path))
            {
                if (required)
                    throw new NativeLoadException($"'{path}' is missing: '{libtorchDirectory}' is not a libtorch library folder.", loaded);
                continue;
            }
            Open(path, RtldLazy | RtldGlobal, loaded);
        }
        if (!File.Exists(LibTorchSharpPath))
            throw new NativeLoadException($"'{LibTorchSharpPath}' is missing from the bundle.", loaded);
        // RTLD_NOW resolves every symbol libLibTorchSharp needs from libtorch now: an ABI mismatch shows here.
        Open(LibTorchSharpPath, RtldNow | RtldGlobal, loaded);
        // The documented route: after this, TorchSharp's own loader finds LibTorchSharp already loaded.
        NativeLibrary.Load(LibTorchSharpPath);
        return new JsonObject { ["libtorch_dir"] = libtorchDirectory, ["loaded"] = loaded };
    }

    private static void Open(string path, int flags, JsonArray loaded)
    {
        IntPtr handle = Dl.Open(path, flags);
        if (handle == IntPtr.Zero)
        {
            string reason = Dl.Error() ?? "unknown dlopen error";
            string hint = reason.Contains("undefined symbol", StringComparison.Ordinal)
                ? " This is a C++ ABI mismatch: libLibTorchSharp.so of TorchSharp 0.107 is built against libtorch 2.10, and this libtorch " +
                  "lacks a symbol it needs. Use a libtorch 2.10 (PyTorch 2.10), or a TorchSharp built for this libtorch."
                : reason.Contains("GLIBCXX", StringComparison.Ordinal)
                    ? " The system C++ runtime is older than the library needs (see Trap 1 in docs: the build marks GLIBCXX_3.4.32 weak)."
                    : "";
            throw new NativeLoadException($"dlopen('{path}') failed: {reason}.{hint}", loaded);
        }
        loaded.Add(path);
    }

    private static class Dl
    {
        // glibc >= 2.34 has dlopen in libc.so.6 and keeps libdl.so.2 as a forwarding stub; older glibc only in libdl.so.2.
        public static IntPtr Open(string path, int flags)
        {
            try { return DlOpen2(path, flags); }
            catch (DllNotFoundException) { return DlOpen6(path, flags); }
        }

        public static string? Error()
        {
            IntPtr message;
            try { message = DlError2(); }
            catch (DllNotFoundException) { message = DlError6(); }
            return message == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(message);
        }

        [DllImport("libdl.so.2", EntryPoint = "dlopen")]
        private static extern IntPtr DlOpen2([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libdl.so.2", EntryPoint = "dlerror")]
        private static extern IntPtr DlError2();

        [DllImport("libc.so.6", EntryPoint = "dlopen")]
        private static extern IntPtr DlOpen6([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc.so.6", EntryPoint = "dlerror")]
        private static extern IntPtr DlError6();
    }
}

internal sealed class NativeLoadException(string message, JsonArray loaded) : Exception(message)
{
    public JsonArray Loaded { get; } = loaded;
}
