// Notebook-side workaround for TorchSharp 0.107 on Debian 12 / Ubuntu 22.04 (load with #load after the #r lines,
// before the first use of TorchSharp).
//
// Why: libLibTorchSharp.so asks for GLIBCXX_3.4.32 (GCC 13's C++ runtime) for one marker symbol that is never
// looked up; these systems stop at GLIBCXX_3.4.30. In a built app, the Microsoft.ML.Coherence package's MSBuild
// targets mark that requirement weak in the copy in bin/. A notebook kernel runs no MSBuild targets: TorchSharp
// copies the untouched natives from the NuGet cache into <nuget cache>/torchsharp/<v>/lib/net8.0/cpu/ and fails
// there ("doesn't contain a reference to libtorch-cpu-linux-x64").
//
// What this does, only on Linux and only when the system C++ runtime lacks GLIBCXX_3.4.32: copies
// libLibTorchSharp.so into a folder under the temp directory (never touching the NuGet cache), sets the
// VER_FLG_WEAK flag on that one requirement in the copy, links the libtorch CPU libraries beside it (the library
// finds them through its $ORIGIN run path) and loads it with NativeLibrary.Load. TorchSharp's own
// DllImport("LibTorchSharp") then binds to the already-loaded library (same soname). Idempotent; CPU only.
using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;

static class CoherenceNotebookNativeFix
{
    const string VersionName = "GLIBCXX_3.4.32";

    public static string Apply()
    {
        if (!OperatingSystem.IsLinux())
            return "not Linux: nothing to do";
        string[] runtimes = { "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6" };
        string? runtime = runtimes.FirstOrDefault(File.Exists);
        if (runtime is null || IndexOf(File.ReadAllBytes(runtime), Encoding.ASCII.GetBytes(VersionName + "\0")) >= 0)
            return $"the system C++ runtime defines {VersionName} (or none was found): nothing to do";

        // <cache>/torchsharp/<version>/lib/net8.0/TorchSharp.dll -> <cache>/torchsharp/<version>/runtimes/linux-x64/native/
        var torchSharpDll = new FileInfo(typeof(TorchSharp.torch).Assembly.Location);
        var packageDir = torchSharpDll.Directory!.Parent!.Parent!;
        string version = packageDir.Name, cache = packageDir.Parent!.Parent!.FullName;
        string source = Path.Combine(packageDir.FullName, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        string? libtorch = Directory.Exists(Path.Combine(cache, "libtorch-cpu-linux-x64"))
            ? Directory.GetDirectories(Path.Combine(cache, "libtorch-cpu-linux-x64"))
                .Select(d => Path.Combine(d, "runtimes", "linux-x64", "native"))
                .Where(d => File.Exists(Path.Combine(d, "libtorch_cpu.so"))).OrderBy(d => d, StringComparer.Ordinal).LastOrDefault()
            : null;
        if (!File.Exists(source) || libtorch is null)
            throw new FileNotFoundException($"TorchSharp natives not found ({source}; libtorch-cpu-linux-x64 under {cache}): reference TorchSharp-cpu first.");

        string target = Path.Combine(Path.GetTempPath(), $"coherence-torchsharp-{version}-{Environment.UserName}");
        Directory.CreateDirectory(target);
        foreach (string lib in Directory.GetFiles(libtorch))
        {
            string link = Path.Combine(target, Path.GetFileName(lib));
            if (!File.Exists(link))
                File.CreateSymbolicLink(link, lib);
        }
        string patched = Path.Combine(target, "libLibTorchSharp.so");
        if (!File.Exists(patched))
        {
            byte[] elf = File.ReadAllBytes(source);
            if (!MarkWeak(elf))
                throw new InvalidOperationException($"{source}: no {VersionName} requirement found to mark weak.");
            string temp = patched + $".{Environment.ProcessId}.tmp";
            File.WriteAllBytes(temp, elf);
            File.Move(temp, patched, overwrite: true);
        }
        NativeLibrary.Load(patched);
        return $"loaded {patched} ({VersionName} marked weak in this copy; libtorch from {libtorch})";
    }

    static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle))
                return i;
        return -1;
    }

    // Sets VER_FLG_WEAK (0x2) on the GLIBCXX_3.4.32 entry of .gnu.version_r (64-bit little-endian ELF).
    static bool MarkWeak(byte[] elf)
    {
        long shoff = BitConverter.ToInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A), shnum = BitConverter.ToUInt16(elf, 0x3C);
        bool found = false;
        for (int s = 0; s < shnum; s++)
        {
            long sh = shoff + (long)s * shentsize;
            if (BitConverter.ToUInt32(elf, (int)sh + 4) != 0x6ffffffe) continue; // SHT_GNU_verneed
            long need = BitConverter.ToInt64(elf, (int)sh + 0x18);
            int link = (int)BitConverter.ToUInt32(elf, (int)sh + 0x28), count = (int)BitConverter.ToUInt32(elf, (int)sh + 0x2C);
            long strtab = BitConverter.ToInt64(elf, (int)(shoff + (long)link * shentsize) + 0x18);
            for (int n = 0; n < count; n++)
            {
                long aux = need + BitConverter.ToUInt32(elf, (int)need + 8);
                for (int a = 0, auxCount = BitConverter.ToUInt16(elf, (int)need + 2); a < auxCount; a++)
                {
                    int name = (int)(strtab + BitConverter.ToUInt32(elf, (int)aux + 8));
                    if (Encoding.ASCII.GetString(elf, name, Array.IndexOf(elf, (byte)0, name) - name) == VersionName)
                    {
                        elf[aux + 4] |= 0x2;
                        found = true;
                    }
                    aux += BitConverter.ToUInt32(elf, (int)aux + 12);
                }
                need += BitConverter.ToUInt32(elf, (int)need + 12);
            }
        }
        return found;
    }
}

Console.WriteLine("TorchSharp native fix: " + CoherenceNotebookNativeFix.Apply());
