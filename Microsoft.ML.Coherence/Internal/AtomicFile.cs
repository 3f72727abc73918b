namespace Microsoft.ML.Coherence.Internal;

/// <summary>
/// Writes a file through a temporary sibling and a rename, so an existing file is never left half-written: the temporary
/// file has a random name (two threads or processes writing the same path never collide, and a file left by a killed
/// process never blocks a write), its bytes reach the disk before the rename (a power cut cannot leave a renamed, empty
/// file), and it is deleted when the write fails.
/// </summary>
internal static class AtomicFile
{
    /// <summary>The suffix of every temporary file: <c>&lt;path&gt;.&lt;random&gt;.tmp</c>.</summary>
    public const string TempSuffix = ".tmp";

    /// <summary>The temporary sibling's name for <paramref name="fullPath"/>: a random 16-hex-digit part, never reused.</summary>
    public static string TempPathFor(string fullPath) => $"{fullPath}.{Guid.NewGuid().ToString("N")[..16]}{TempSuffix}";

    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        string? directory = Path.GetDirectoryName(full);
        if (directory is not null && !Directory.Exists(directory))
            throw new DirectoryNotFoundException($"Cannot write '{path}': the folder '{directory}' does not exist.");
        string temp = TempPathFor(full);
        try
        {
            bool synced = false;
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite)) // readable: a writer may hash what it wrote
            {
                write(stream);
                if (stream.CanWrite)
                {
                    stream.Flush(flushToDisk: true);
                    synced = true;
                }
            }
            if (!synced)
                FlushToDisk(temp); // the writer closed the stream itself (a StreamWriter does)
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
                File.Delete(temp);
        }
    }

    private static void FlushToDisk(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        stream.Flush(flushToDisk: true); // fsync applies to the file, whichever descriptor asks
    }

    /// <summary>Writes UTF-8 text (no byte-order mark) atomically.</summary>
    public static void WriteAllText(string path, string text) =>
        Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false));
            writer.Write(text);
        });
}
