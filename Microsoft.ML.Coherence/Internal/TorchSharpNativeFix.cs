using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Microsoft.ML.Coherence.Internal;

/// <summary>
/// Makes TorchSharp's native library load on Linux systems whose C++ runtime predates GCC 13 (Debian 12,
/// Ubuntu 22.04), at run time, wherever the application came from (project reference, package, notebook,
/// published app). TorchSharp 0.107's <c>libLibTorchSharp.so</c> requires <c>GLIBCXX_3.4.32</c> only for a
/// marker symbol that nothing looks up; when the system runtime lacks that version, this writes a copy of
/// the library with that one requirement marked weak (VER_FLG_WEAK, which the loader ignores when missing)
/// into a per-user cache folder keyed by the original's SHA-256, never touching the original or the NuGet
/// cache, loads libtorch's own libraries from where TorchSharp's would come from, then loads the copy. Its
/// soname is <c>libLibTorchSharp.so</c>, so TorchSharp's own <c>DllImport("LibTorchSharp")</c> binds to it.
/// </summary>
/// <remarks>
/// Runs at most once per process (thread-safe) and must run before the first TorchSharp call. It does
/// nothing on other operating systems, where the runtime defines the version, where TorchSharp's library is
/// already loaded or already has the requirement weak (the build-time fix in the package's MSBuild
/// targets), or when the environment variable <see cref="SkipVariable"/> is <c>true</c>. It never throws: a
/// problem becomes a warning, and TorchSharp then reports its own error.
/// </remarks>
internal static class TorchSharpNativeFix
{
    /// <summary>The version GCC 13's C++ runtime adds, which TorchSharp 0.107 asks for.</summary>
    public const string VersionName = "GLIBCXX_3.4.32";

    /// <summary>TorchSharp's native library, as a file name and as its soname.</summary>
    public const string LibraryFileName = "libLibTorchSharp.so";

    /// <summary>Set to <c>true</c> to turn the fix off.</summary>
    public const string SkipVariable = "COHERENCE_SKIP_TORCHSHARP_NATIVE_FIX";

    private static readonly object Gate = new();
    private static Outcome? _outcome;

    /// <summary>What the fix did: a message for the log (null when there was nothing to do) and whether it is a warning.</summary>
    public sealed record Outcome(string? Message, bool IsWarning, string? LoadedCopy);

    /// <summary>
    /// Applies the fix once per process and returns its outcome; <paramref name="report"/> receives the
    /// message (and whether it is a warning) only on the call that ran it, and only when there is one.
    /// </summary>
    public static Outcome EnsureApplied(Action<string, bool>? report = null)
    {
        lock (Gate)
        {
            if (_outcome is not null)
                return _outcome;
            try
            {
                _outcome = Apply();
            }
            catch (Exception e) // best effort by design: TorchSharp's own error follows if the library still cannot load
            {
                _outcome = new Outcome($"TorchSharp native fix skipped: {e.GetType().Name}: {e.Message}", IsWarning: true, LoadedCopy: null);
            }
            if (_outcome.Message is not null)
                report?.Invoke(_outcome.Message, _outcome.IsWarning);
            return _outcome;
        }
    }

    private static Outcome Apply()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
            return Nothing();
        if (string.Equals(Environment.GetEnvironmentVariable(SkipVariable), "true", StringComparison.OrdinalIgnoreCase))
            return Nothing();
        if (LoadedLibraries().Any(p => Path.GetFileName(p) == LibraryFileName))
            return Nothing(); // TorchSharp is loaded already: too late, and evidently not needed
        string? runtime = CxxRuntimePath();
        if (runtime is null || ElfFile.DefinedVersions(File.ReadAllBytes(runtime)).Contains(VersionName))
            return Nothing();

        var torchSharp = typeof(TorchSharp.torch).Assembly;
        string? original = LibraryCandidates(torchSharp).FirstOrDefault(File.Exists);
        if (original is null)
            return Nothing(); // no backend package: TorchSharp explains that itself

        string? cacheRoot = CacheRoot();
        if (cacheRoot is null)
            return new Outcome($"TorchSharp native fix skipped: neither XDG_CACHE_HOME nor a home folder is set, so there is no per-user cache for a fixed copy of '{original}'.", true, null);
        string? copy = WritePatchedCopy(original, cacheRoot);
        if (copy is null)
            return Nothing(); // the requirement is absent or weak already

        var missing = new List<string>();
        foreach (string needed in ElfFile.NeededLibraries(File.ReadAllBytes(original)))
        {
            string? path = LibTorchDirectories(Path.GetDirectoryName(original)!, torchSharp).Select(d => Path.Combine(d, needed)).FirstOrDefault(File.Exists);
            if (path is not null)
                NativeLibrary.Load(path);
            else if (needed.StartsWith("libtorch", StringComparison.Ordinal) || needed.StartsWith("libc10", StringComparison.Ordinal))
                missing.Add(needed);
        }
        if (missing.Count > 0)
        {
            return new Outcome($"TorchSharp native fix skipped: {string.Join(", ", missing)} not found beside '{original}' " +
                "or in the NuGet cache; reference a libtorch backend package (TorchSharp-cpu, TorchSharp-cuda-linux).", true, null);
        }
        NativeLibrary.Load(copy);
        return new Outcome($"TorchSharp native fix: the system C++ runtime '{runtime}' lacks {VersionName}, so TorchSharp's " +
            $"'{original}' was loaded from a copy with that requirement marked weak: '{copy}'.", false, copy);

        static Outcome Nothing() => new(null, false, null);
    }

    /// <summary>
    /// Writes (once) the copy of <paramref name="original"/> with <see cref="VersionName"/> marked weak to
    /// <c>cacheRoot/Microsoft.ML.Coherence/native/&lt;sha256 of the original&gt;/libLibTorchSharp.so</c>,
    /// atomically, and returns its path; null when the original has no strong requirement of that version.
    /// An existing copy is reused when its bytes are right and replaced otherwise.
    /// </summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    internal static string? WritePatchedCopy(string original, string cacheRoot)
    {
        byte[] bytes = File.ReadAllBytes(original);
        string hash = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (ElfFile.MarkWeak(bytes, VersionName) == 0)
            return null;
        string folder = Path.Combine(cacheRoot, "Microsoft.ML.Coherence", "native", hash);
        string target = Path.Combine(folder, LibraryFileName);
        if (File.Exists(target) && File.ReadAllBytes(target).AsSpan().SequenceEqual(bytes))
            return target;
        const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        Directory.CreateDirectory(folder, OwnerOnly);
        string temp = Path.Combine(folder, $"{LibraryFileName}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.SetUnixFileMode(temp, OwnerOnly);
            File.Move(temp, target, overwrite: true); // a rename: a concurrent process sees the old file or the new one
        }
        finally
        {
            if (File.Exists(temp))
                File.Delete(temp);
        }
        return target;
    }

    /// <summary>$XDG_CACHE_HOME when it is an absolute path, else ~/.cache; null when there is neither.</summary>
    internal static string? CacheRoot()
    {
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (!string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg))
            return xdg;
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return string.IsNullOrEmpty(home) ? null : Path.Combine(home, ".cache");
    }

    /// <summary>Where the runtime would look for libLibTorchSharp.so, in its order: the host's native search folders (deps.json), then TorchSharp.dll's folder and its NuGet package layout.</summary>
    internal static IEnumerable<string> LibraryCandidates(Assembly torchSharp) =>
        NativeSearchDirectories().Concat(AssemblyNativeDirectories(torchSharp)).Select(d => Path.Combine(d, LibraryFileName));

    /// <summary>Where libtorch's own libraries (libtorch.so, libtorch_cpu.so, libc10.so) are looked for: beside the original, the host's native folders, then the NuGet cache's libtorch packages of TorchSharp's libtorch version.</summary>
    private static IEnumerable<string> LibTorchDirectories(string originalDirectory, Assembly torchSharp)
    {
        yield return originalDirectory;
        foreach (string directory in NativeSearchDirectories())
            yield return directory;
        string? version = LibTorchPackageVersion(torchSharp);
        if (version is null)
            yield break;
        foreach (string packages in NuGetPackageFolders(torchSharp))
        {
            if (!Directory.Exists(packages))
                continue;
            // libtorch-cpu-linux-x64 first, then the CUDA packages (split into parts), as TorchSharp consolidates them.
            foreach (string package in Directory.GetDirectories(packages, "libtorch-*linux-x64*").Order(StringComparer.Ordinal))
                yield return Path.Combine(package, version, "runtimes", "linux-x64", "native");
        }
    }

    private static IEnumerable<string> NativeSearchDirectories() =>
        (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") as string ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static IEnumerable<string> AssemblyNativeDirectories(Assembly torchSharp)
    {
        string? directory = string.IsNullOrEmpty(torchSharp.Location) ? AppContext.BaseDirectory : Path.GetDirectoryName(torchSharp.Location);
        if (directory is null)
            yield break;
        yield return directory;
        yield return Path.Combine(directory, "runtimes", "linux-x64", "native");
        // <packages>/torchsharp/<version>/lib/<tfm>/TorchSharp.dll -> <packages>/torchsharp/<version>/runtimes/linux-x64/native
        yield return Path.GetFullPath(Path.Combine(directory, "..", "..", "runtimes", "linux-x64", "native"));
    }

    private static IEnumerable<string> NuGetPackageFolders(Assembly torchSharp)
    {
        if (!string.IsNullOrEmpty(torchSharp.Location))
        {
            var lib = new FileInfo(torchSharp.Location).Directory?.Parent;
            if (lib?.Name == "lib" && lib.Parent?.Parent is { } root && string.Equals(lib.Parent.Parent.Name, "torchsharp", StringComparison.OrdinalIgnoreCase))
                yield return root.Parent!.FullName;
        }
        string? configured = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        if (!string.IsNullOrEmpty(configured))
            yield return configured;
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (!string.IsNullOrEmpty(home))
            yield return Path.Combine(home, ".nuget", "packages");
    }

    /// <summary>TorchSharp's libtorch package version ("2.10.0" for TorchSharp 0.107), read from its metadata without running any TorchSharp code.</summary>
    private static string? LibTorchPackageVersion(Assembly torchSharp)
    {
        var field = torchSharp.GetType("TorchSharp.torch")?.GetField("libtorchPackageVersion", BindingFlags.NonPublic | BindingFlags.Static);
        if (field?.IsLiteral != true || field.GetRawConstantValue() is not string raw || !Version.TryParse(raw, out var version))
            return null;
        // NuGet folder names drop a zero fourth part: 2.10.0.0 -> 2.10.0.
        return version.Revision > 0 ? version.ToString(4) : version.ToString(3);
    }

    /// <summary>The C++ runtime this process uses: the one already mapped, else the one the loader finds for libstdc++.so.6.</summary>
    private static string? CxxRuntimePath()
    {
        string? mapped = LoadedLibraries().FirstOrDefault(IsCxxRuntime);
        if (mapped is not null)
            return mapped;
        if (!NativeLibrary.TryLoad("libstdc++.so.6", out _))
            return null;
        return LoadedLibraries().FirstOrDefault(IsCxxRuntime);

        static bool IsCxxRuntime(string path) => Path.GetFileName(path).StartsWith("libstdc++.so", StringComparison.Ordinal);
    }

    /// <summary>The files mapped into this process (from /proc/self/maps).</summary>
    private static IEnumerable<string> LoadedLibraries()
    {
        const string Maps = "/proc/self/maps";
        if (!File.Exists(Maps))
            return [];
        var paths = new HashSet<string>(StringComparer.Ordinal);
        foreach (string line in File.ReadLines(Maps))
        {
            int slash = line.IndexOf('/', StringComparison.Ordinal);
            if (slash > 0)
                paths.Add(line[slash..].Trim());
        }
        return paths;
    }
}
