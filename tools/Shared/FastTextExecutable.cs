namespace Coherence.Tools;

/// <summary>Finds the fastText 0.9.2 command-line tool (Debian package <c>fasttext</c>), the peer the harness and the benchmarks run.</summary>
internal static class FastTextExecutable
{
    /// <summary>An executable file named <c>fasttext</c> in the directories of <paramref name="pathVariable"/> (default: $PATH), or null.</summary>
    public static string? Find(string? pathVariable = null)
    {
        foreach (var directory in (pathVariable ?? Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, "fasttext");
            if (File.Exists(candidate) && (OperatingSystem.IsWindows() || (File.GetUnixFileMode(candidate) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0))
            {
                return candidate;
            }
        }

        return null;
    }
}
