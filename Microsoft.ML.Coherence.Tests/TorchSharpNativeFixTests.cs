using System.Security.Cryptography;
using System.Text;
using Microsoft.ML.Coherence.Internal;

namespace Microsoft.ML.Coherence.Tests;

/// <summary>
/// The runtime native fix on its parts: the ELF reader against the system C++ runtime and TorchSharp's
/// shipped library, and the patched copy in the per-user cache. The end-to-end proof (an application
/// outside the repository that loads TorchSharp only through this fix) is nuget/project-reference-check.
/// </summary>
[TestClass]
public sealed class TorchSharpNativeFixTests
{
    private static string? ShippedLibrary()
    {
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string version = typeof(TorchSharp.torch).Assembly.GetName().Version!.ToString(3);
        string path = Path.Combine(packages, "torchsharp", version, "runtimes", "linux-x64", "native", TorchSharpNativeFix.LibraryFileName);
        return File.Exists(path) ? path : null;
    }

    private static string RequireShippedLibrary()
    {
        if (!OperatingSystem.IsLinux())
            Assert.Inconclusive("Linux only.");
        return ShippedLibrary() ?? throw new AssertInconclusiveException("TorchSharp's libLibTorchSharp.so is not in the NuGet cache.");
    }

    private static string SystemCxxRuntime()
    {
        string? path = new[] { "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6" }
            .FirstOrDefault(File.Exists);
        return path ?? throw new AssertInconclusiveException("No libstdc++.so.6 in the usual places.");
    }

    [TestMethod]
    public void ElfReaderListsTheVersionsTheCxxRuntimeDefines()
    {
        if (!OperatingSystem.IsLinux())
            Assert.Inconclusive("Linux only.");
        byte[] runtime = File.ReadAllBytes(SystemCxxRuntime());
        var defined = ElfFile.DefinedVersions(runtime);
        CollectionAssert.Contains(defined.ToArray(), "GLIBCXX_3.4");
        CollectionAssert.Contains(defined.ToArray(), "GLIBCXX_3.4.21");
        CollectionAssert.Contains(defined.ToArray(), "CXXABI_1.3");
        // The parsed answer agrees with a plain search for the NUL-terminated name.
        bool inBytes = runtime.AsSpan().IndexOf(Encoding.ASCII.GetBytes(TorchSharpNativeFix.VersionName + "\0")) >= 0;
        Assert.AreEqual(inBytes, defined.Contains(TorchSharpNativeFix.VersionName));
    }

    [TestMethod]
    public void ElfReaderFindsTorchSharpsRequirementsAndTheLibrariesItNeeds()
    {
        byte[] library = File.ReadAllBytes(RequireShippedLibrary());
        var requirement = ElfFile.RequiredVersions(library).Single(r => r.Name == TorchSharpNativeFix.VersionName);
        Assert.AreEqual("libstdc++.so.6", requirement.File);
        Assert.IsFalse(requirement.IsWeak, "TorchSharp ships the requirement strong");
        var needed = ElfFile.NeededLibraries(library);
        CollectionAssert.IsSubsetOf(new[] { "libtorch.so", "libc10.so", "libtorch_cpu.so", "libstdc++.so.6" }, needed.ToArray());
    }

    [TestMethod]
    public void ElfReaderRejectsWhatIsNotAnElfFile()
    {
        var error = Assert.ThrowsExactly<InvalidDataException>(() => ElfFile.RequiredVersions(Encoding.ASCII.GetBytes(new string('x', 100))));
        StringAssert.Contains(error.Message, "Not a 64-bit little-endian ELF file");
        var truncated = Assert.ThrowsExactly<InvalidDataException>(() => ElfFile.RequiredVersions(File.ReadAllBytes(RequireShippedLibrary()).AsSpan(0, 4096)));
        StringAssert.Contains(truncated.Message, "lies outside the file");
    }

    [TestMethod]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void PatchedCopyLandsInTheCacheByHashWithOnlyThatFlagChangedAndIsWrittenOnce()
    {
        string original = RequireShippedLibrary();
        byte[] before = File.ReadAllBytes(original);
        string cache = Directory.CreateTempSubdirectory("coherence-native-cache").FullName;
        try
        {
            string copy = TorchSharpNativeFix.WritePatchedCopy(original, cache) ?? throw new AssertFailedException("a copy is written");
            string hash = Convert.ToHexStringLower(SHA256.HashData(before));
            Assert.AreEqual(Path.Combine(cache, "Microsoft.ML.Coherence", "native", hash, "libLibTorchSharp.so"), copy);

            byte[] patched = File.ReadAllBytes(copy);
            Assert.AreEqual(before.Length, patched.Length);
            var changed = Enumerable.Range(0, before.Length).Where(i => before[i] != patched[i]).ToArray();
            Assert.AreEqual(1, changed.Length, "one byte differs");
            Assert.AreEqual(ElfFile.WeakFlag, (byte)(before[changed[0]] ^ patched[changed[0]]), "and in it only VER_FLG_WEAK");
            var requirements = ElfFile.RequiredVersions(patched);
            Assert.IsTrue(requirements.Single(r => r.Name == TorchSharpNativeFix.VersionName).IsWeak);
            Assert.IsFalse(requirements.Where(r => r.Name != TorchSharpNativeFix.VersionName).Any(r => r.IsWeak), "no other requirement changes");
            CollectionAssert.AreEqual(before, File.ReadAllBytes(original), "the original is untouched");
            Assert.AreEqual(0, Directory.GetFiles(Path.GetDirectoryName(copy)!, "*.tmp").Length, "no temporary file is left");

            // Idempotent: the right copy is reused as is; a damaged one is replaced.
            var written = File.GetLastWriteTimeUtc(copy);
            Thread.Sleep(20);
            Assert.AreEqual(copy, TorchSharpNativeFix.WritePatchedCopy(original, cache));
            Assert.AreEqual(written, File.GetLastWriteTimeUtc(copy));
            File.WriteAllBytes(copy, [1, 2, 3]);
            Assert.AreEqual(copy, TorchSharpNativeFix.WritePatchedCopy(original, cache));
            CollectionAssert.AreEqual(patched, File.ReadAllBytes(copy));

            // A library whose requirement is weak already (the build-time fix's output) needs no copy.
            Assert.IsNull(TorchSharpNativeFix.WritePatchedCopy(copy, cache));
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
        }
    }

    [TestMethod]
    public void CacheFollowsXdgCacheHomeThenTheHomeFolder()
    {
        string? previous = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        try
        {
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", "/var/tmp/some-cache");
            Assert.AreEqual("/var/tmp/some-cache", TorchSharpNativeFix.CacheRoot());
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", "relative/is/ignored");
            Assert.AreEqual(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), TorchSharpNativeFix.CacheRoot());
        }
        finally
        {
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", previous);
        }
    }

    [TestMethod]
    public void FixRunsOncePerProcessAndEveryCallerGetsTheSameOutcome()
    {
        var outcomes = new TorchSharpNativeFix.Outcome[8];
        Parallel.For(0, outcomes.Length, i => outcomes[i] = TorchSharpNativeFix.EnsureApplied());
        Assert.IsTrue(outcomes.All(o => ReferenceEquals(o, outcomes[0])));
        int reports = 0;
        TorchSharpNativeFix.EnsureApplied((_, _) => reports++);
        Assert.AreEqual(0, reports, "a later call reports nothing");
        // In this test process TorchSharp loads anyway (the build-time fix patched the test output's copy), so
        // the fix had nothing to load, or loaded its copy; either way it never left a warning.
        Assert.IsFalse(outcomes[0].IsWarning, outcomes[0].Message);
    }
}
